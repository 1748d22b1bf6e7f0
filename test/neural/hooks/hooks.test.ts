import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Parameter } from '../../../src/core/state.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { Updater } from '../../../src/neural/updater.js';
import { Clamping, Normalization } from '../../../src/neural/hooks/index.js';
import { setFusedKernels } from '../../../src/kernels/js/fused-memory.js';

const read = (p: Parameter) => Array.from(p.value.dataSync());

describe('Clamping', () => {
  it('clamps to [min, max]; a missing limit is not applied', () => {
    const p = new Parameter('w', tf.tensor1d([-1, 0.5, 2]));
    new Clamping(p, { min: 0, max: 1 }).run();
    expect(read(p)).toEqual([0, 0.5, 1]);
    const q = new Parameter('w', tf.tensor1d([-1, 0.5, 2]));
    const c = new Clamping(q, { min: 0 });
    c.run();
    expect(read(q)).toEqual([0, 0.5, 2]);
    c.dispose();
    p.dispose();
    q.dispose();
  });

  it('runs after every update of an updater (Inferno quickstart: min 0)', () => {
    const p = new Parameter('weight', tf.tensor1d([0.1, 0.2]));
    const u = new Updater({ weight: p });
    const c = new Clamping(p, { min: 0 });
    const off = c.attachToUpdate(u);
    tf.tidy(() => u.add('weight', null, tf.tensor1d([0.3, 0.1])));
    u.apply();
    expect(read(p)[0]).toBe(0);
    expect(read(p)[1]).toBeCloseTo(0.1, 6);
    off();
    tf.tidy(() => u.add('weight', null, tf.tensor1d([0.3, 0.3])));
    u.apply();
    expect(read(p)[0]).toBeCloseTo(-0.3, 6);
    p.dispose();
    c.dispose();
  });

  it('trainOnly hooks skip while the gate is in eval mode; also work as layer observers', () => {
    const p = new Parameter('weight', tf.tensor1d([0.5]));
    const u = new Updater({ weight: p });
    const gate = { training: false };
    const c = new Clamping(p, { max: 0.6, trainOnly: true });
    expect(() => c.attachToUpdate(u)).toThrow(/gate/);
    c.attachToUpdate(u, gate);
    tf.tidy(() => u.add('weight', tf.tensor1d([0.5]), null));
    u.apply();
    expect(read(p)[0]).toBeCloseTo(1, 6);
    gate.training = true;
    tf.tidy(() => u.add('weight', tf.tensor1d([0.5]), null));
    u.apply();
    expect(read(p)[0]).toBeCloseTo(0.6, 6);
    expect(c.trainOnly).toBe(true);
    expect(new Clamping(p, { max: 1 }).trainOnly).toBe(false);
    c.observe();
    p.dispose();
  });

  it('attachToUpdate refuses a gate without a boolean training flag and a non-updater (nothing attached)', () => {
    const p = new Parameter('weight', tf.tensor1d([0.5]));
    const u = new Updater({ weight: p });
    const c = new Clamping(p, { max: 0.6, trainOnly: true });
    // a gate whose training is undefined would have made the hook a silent no-op forever
    for (const gate of [{}, { training: 'yes' }, null]) {
      let err: unknown = null;
      try {
        c.attachToUpdate(u, gate as never);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(gate)).toBeInstanceOf(CinderArgumentError);
      expect((err as Error).message).toMatch(/invalid gate: got .*, expected the module whose training mode gates a trainOnly hook/);
    }
    let err: unknown = null;
    try {
      new Clamping(p, { max: 0.6 }).attachToUpdate({} as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CinderArgumentError);
    expect((err as Error).message).toMatch(/invalid updater: got/);
    // nothing was attached: an update of +0.5 is not clamped
    tf.tidy(() => u.add('weight', tf.tensor1d([0.5]), null));
    u.apply();
    expect(read(p)[0]).toBeCloseTo(1, 6);
    p.dispose();
  });

  it('works on an accessor/assign pair', () => {
    let v: tf.Tensor = tf.keep(tf.tensor1d([3, -3]));
    const target = {
      get value() {
        return v;
      },
      assign(t: tf.Tensor) {
        v.dispose();
        v = tf.keep(t.clone());
      },
    };
    new Clamping(target, { min: -1, max: 1 }).run();
    expect(Array.from(v.dataSync())).toEqual([1, -1]);
    v.dispose();
  });

  it('rejects bad limits and targets', () => {
    const p = new Parameter('w', tf.tensor1d([0]));
    expect(() => new Clamping(p, {})).toThrow(/min\/max/);
    expect(() => new Clamping(p, { min: 1, max: 0 })).toThrow(/max/);
    expect(() => new Clamping(p, { min: NaN })).toThrow(/min/);
    expect(() => new Clamping({} as never, { min: 0 })).toThrow(/target/);
    p.dispose();
  });
});

describe('Normalization', () => {
  it('scales the p-norm along a dimension to s', () => {
    // dense weight [O=2, I=3]: normalize the incoming weights of each output neuron
    const p = new Parameter('w', tf.tensor2d([[3, 4, 0], [1, 1, 2]]));
    const n = new Normalization(p, { order: 2, scale: 2, dims: 1 });
    n.run();
    const got = read(p);
    const want = [3 / 5, 4 / 5, 0, 1 / Math.sqrt(6), 1 / Math.sqrt(6), 2 / Math.sqrt(6)].map((x) => 2 * x);
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 6));
    n.dispose();
    p.dispose();
  });

  it('order 1, order 3, infinity and all dimensions', () => {
    const cases: [number, number][] = [[1, 8], [3, Math.cbrt(1 + 27 + 64)], [Infinity, 4]];
    for (const [order, norm] of cases) {
      const p = new Parameter('w', tf.tensor2d([[1, -3], [0, 4]]));
      new Normalization(p, { order }).run();
      read(p).forEach((g, i) => expect(g).toBeCloseTo([1, -3, 0, 4][i]! / norm, 6));
      p.dispose();
    }
  });

  it('divides by ε when the norm is smaller (no NaN for zeros)', () => {
    const p = new Parameter('w', tf.tensor1d([0, 0]));
    new Normalization(p, { epsilon: 1e-3 }).run();
    expect(read(p)).toEqual([0, 0]);
    const q = new Parameter('w', tf.tensor1d([1e-4, 0]));
    new Normalization(q, { epsilon: 1e-3 }).run();
    expect(read(q)[0]).toBeCloseTo(0.1, 5);
    p.dispose();
    q.dispose();
  });

  // both routes: the fused float64 pass (wasm, cpu; trailing dims) and the scaled ops (other backends, other dims)
  for (const fused of [true, false]) {
    const route = fused ? 'fused pass' : 'ops';
    it(`finite weights whose p-th powers overflow or underflow float32 still get the float64 p-norm (${route})`, () => {
      const was = setFusedKernels(fused);
      // ‖v‖_p computed in float64 by scaling with the largest magnitude (no overflow in a plain loop)
      const norm64 = (v: number[], order: number): number => {
        const m = Math.max(...v.map(Math.abs));
        return m * Math.pow(v.reduce((s, x) => s + Math.pow(Math.abs(x) / m, order), 0), 1 / order);
      };
      // [10, 10, 5] with p = 40: 10^40 > 3.4e38 (float32 max); [1e20, 1e20] with p = 2: 1e40 overflows;
      // [1e-12, 3e-12] with p = 4: 1e-48 underflows to 0 although the norm 3e-12 is above ε = 1e-12
      const cases: [number[], number][] = [[[10, 10, 5], 40], [[1e20, -1e20], 2], [[1e-12, 3e-12], 4], [[2e-8, -1e-8, 0], 7.5]];
      for (const [v, order] of cases) {
        const p = new Parameter('w', tf.tensor1d(v));
        new Normalization(p, { order, scale: 3 }).run();
        const n = norm64(v, order);
        read(p).forEach((g, i) => expect(g, `p = ${order}, v = ${v}`).toBeCloseTo((3 * v[i]!) / n, 5));
        p.dispose();
      }
      setFusedKernels(was);
    });

    it(`a 2-D target over dims 1: rows with large entries, a zero row, a NaN row and an Inf row (${route})`, () => {
      const was = setFusedKernels(fused);
      const rowsIn = [[3e25, 4e25], [0, 0], [NaN, 1], [1, -2], [Infinity, 1]];
      const p = new Parameter('w', tf.tensor2d(rowsIn));
      new Normalization(p, { order: 2, dims: 1 }).run();
      const got = read(p);
      const want = [0.6, 0.8, 0, 0, NaN, NaN, 1 / Math.sqrt(5), -2 / Math.sqrt(5), NaN, NaN];
      want.forEach((w, i) => (Number.isNaN(w) ? expect(got[i]).toBeNaN() : expect(got[i]).toBeCloseTo(w, 6)));
      p.dispose();
      setFusedKernels(was);
    });
  }

  // p-norm of each group in float64 (scaled by the largest magnitude), NaN for a non-finite group
  const normRef = (v: number[], order: number): number => {
    if (v.some((x) => !Number.isFinite(x))) return NaN;
    const m = Math.max(...v.map(Math.abs));
    if (order === Infinity || m === 0) return m;
    return m * Math.pow(v.reduce((s, x) => s + Math.pow(Math.abs(x) / m, order), 0), 1 / order);
  };

  for (const fused of [true, false]) {
    const route = fused ? 'fused pass' : 'ops';
    it(`rank-3 target [3, 4, 5]: every contiguous run of dims and every fused order against float64 (${route})`, () => {
      const was = setFusedKernels(fused);
      const shape = [3, 4, 5];
      // values of mixed sign and magnitude; group (1, ·, 2) of dims [1] holds a NaN, one of dims [0] an Inf
      const base = Array.from({ length: 60 }, (_, i) => Math.sin(1.7 * i + 0.3) * (i % 7 === 0 ? 1e3 : 1) * (i % 11 === 0 ? 0 : 1));
      const runs: number[][] = [[0], [1], [2], [0, 1], [1, 2], [0, 1, 2]];
      for (const dims of runs) {
        for (const order of [1, 2, 3, 16, Infinity, 2.5]) {
          for (const poison of [null, [1, 3, 2, NaN], [2, 0, 4, Infinity]] as const) {
            const v = [...base];
            if (poison) v[poison[0] * 20 + poison[1] * 5 + poison[2]] = poison[3];
            const p = new Parameter('w', tf.tensor(v, shape));
            new Normalization(p, { order, dims, scale: 2.5 }).run();
            const got = read(p);
            // group key of index (i, j, k): the coordinates outside dims
            const key = (i: number, j: number, k: number) => [i, j, k].map((c, d) => (dims.includes(d) ? '*' : c)).join(',');
            const groups = new Map<string, number[]>();
            for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 5; k++) {
              const g = groups.get(key(i, j, k)) ?? [];
              g.push(v[i * 20 + j * 5 + k]!);
              groups.set(key(i, j, k), g);
            }
            for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 5; k++) {
              const idx = i * 20 + j * 5 + k;
              const n = normRef(groups.get(key(i, j, k))!, order);
              const want = (2.5 * v[idx]!) / Math.max(n, 1e-12);
              const label = `dims ${dims}, p = ${order}, poison ${poison}, index ${idx}`;
              if (Number.isNaN(n)) expect(got[idx], label).toBeNaN();
              else expect(Math.abs(got[idx]! - want), label).toBeLessThanOrEqual(4e-7 * Math.abs(want) + 1e-30);
            }
            p.dispose();
          }
        }
      }
      setFusedKernels(was);
    });
  }

  it('the fused pass is 2 kernels where it applies and the ops otherwise (wasm, cpu)', async () => {
    const p = new Parameter('w', tf.randomUniform([6, 7, 8], -1, 1, 'float32', 3));
    const kernels = async (options: ConstructorParameters<typeof Normalization>[1]) => {
      const n = new Normalization(p, options);
      const k = (await tf.profile(() => n.run())).kernels.map((x) => x.name);
      n.dispose();
      return k;
    };
    expect(await kernels({ order: 2, dims: 2 })).toEqual(['CinderFusedGroupNorm', 'Multiply']);
    expect(await kernels({ order: 3, dims: 0 })).toEqual(['CinderFusedGroupNorm', 'Multiply']);
    expect(await kernels({ order: 1, dims: [1, 2] })).toEqual(['CinderFusedGroupNorm', 'Multiply']);
    expect(await kernels({ order: Infinity })).toEqual(['CinderFusedGroupNorm', 'Multiply']);
    // strided groups with p = 1 or ∞, non-integer or large p, and non-contiguous dims: the ops
    for (const options of [{ order: 1, dims: 0 }, { order: 2.5, dims: 2 }, { order: 17 }, { order: 2, dims: [0, 2] }]) {
      expect((await kernels(options)).length, JSON.stringify(options)).toBeGreaterThan(4);
    }
    p.dispose();
  });

  it('a disposed Normalization refuses to run with CinderArgumentError and leaves its target as it was', () => {
    const p = new Parameter('w', tf.tensor1d([3, 4]));
    const n = new Normalization(p);
    n.dispose();
    const before = tf.memory().numTensors;
    let err: unknown = null;
    try {
      n.run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CinderArgumentError);
    expect((err as Error).message).toMatch(/invalid hook: got "disposed", expected a Normalization that was not disposed/);
    expect(read(p)).toEqual([3, 4]);
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
  });

  it('rejects bad settings', () => {
    const p = new Parameter('w', tf.tensor2d([[1, 2]]));
    expect(() => new Normalization(p, { order: 0 })).toThrow(/order/);
    expect(() => new Normalization(p, { dims: 2 })).toThrow(/dims/);
    expect(() => new Normalization(p, { dims: [1, -1] })).toThrow(/dims/);
    expect(() => new Normalization(p, { epsilon: 0 })).toThrow(/epsilon/);
    // 1e-50 is 0 in float32: an all-zero group would be 0/0 = NaN
    expect(() => new Normalization(p, { epsilon: 1e-50 })).toThrow(/invalid epsilon: got 1e-50, expected >= 1\.1754943508222875e-38/);
    expect(() => new Normalization(p, { epsilon: 2 ** -126 })).not.toThrow();
    // 1e39 is Infinity in float32: a zero entry would become Inf·0 = NaN
    expect(() => new Normalization(p, { scale: -1e39 })).toThrow(/invalid scale: got -1e\+39, expected a number of magnitude <= 3\.4028234663852886e\+38/);
    expect(() => new Normalization(p, { scale: NaN })).toThrow(/scale/);
    p.dispose();
  });
});

describe('hooks on a layer step', async () => {
  const { LinearDense } = await import('../../../src/neural/connections/index.js');
  const { Serial } = await import('../../../src/neural/layers/index.js');
  const { ExactNeuron } = await import('../../../src/neural/index.js');

  it('a trainOnly Normalization attached to a layer runs after training steps only', () => {
    const conn = new LinearDense([2], [1], 1, { weightInit: (s) => tf.tensor([[3, 4]], s as number[]) });
    const layer = new Serial(conn, new ExactNeuron([1], 1, { restV: 0, threshV: 1 }));
    const target = { get value() { return conn.weight; }, assign: (t: tf.Tensor) => { conn.weight = t; } };
    const norm = new Normalization(target, { trainOnly: true, dims: 1 });
    layer.attach(norm);
    layer.eval();
    tf.tidy(() => layer.forward(tf.ones([1, 2])));
    expect(Array.from(conn.weight.dataSync())).toEqual([3, 4]);
    layer.train();
    tf.tidy(() => layer.forward(tf.ones([1, 2])));
    const w = Array.from(conn.weight.dataSync());
    expect(w[0]).toBeCloseTo(0.6, 6);
    expect(w[1]).toBeCloseTo(0.8, 6);
    norm.dispose();
    layer.dispose();
  });
});

describe('hook arguments are refused with CinderArgumentError (not a TypeError)', () => {
  it('options null or not an object, a target whose value is not a tensor', () => {
    const p = new Parameter('w', tf.tensor1d([1, 2]));
    const notTensor = { value: [1, 2] as unknown as tf.Tensor, assign() {} };
    const noValue = { value: undefined as unknown as tf.Tensor, assign() {} };
    const cases: [string, () => unknown, RegExp][] = [
      ['Clamping options null', () => new Clamping(p, null as never), /invalid options: got null/],
      ['Clamping options a number', () => new Clamping(p, 3 as never), /invalid options: got 3/],
      ['Normalization options null', () => new Normalization(p, null as never), /invalid options: got null/],
      ['Clamping value not a tensor', () => new Clamping(notTensor, { min: 0 }), /invalid target\.value: got \[1,2\]/],
      ['Normalization value not a tensor', () => new Normalization(notTensor), /invalid target\.value/],
      ['Normalization value undefined', () => new Normalization(noValue), /invalid target\.value: got undefined/],
    ];
    for (const [name, make, message] of cases) {
      let err: unknown = null;
      try {
        make();
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(CinderArgumentError);
      expect((err as Error).message, name).toMatch(message);
    }
    p.dispose();
  });
});
