// Randomized differential tests of the fused element-wise kernels (trace, scale, scaled transpose,
// neuron step) on the wasm and cpu backends: seeded inputs over many shapes (batches 1, 2, 3, 7, 20;
// sizes that are not multiples of 4; empty dimensions) with NaN, ±Inf, −0, subnormal and huge
// values, compared against the op path they replace (tfjs ops) or a float32 loop written here from
// the documented formula; plus reuse across shapes and a flat tensor count.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';
import { setSimdLoops, simdLoops } from '../../src/kernels/js/fused-simd.js';
import { fusedTrace } from '../../src/kernels/js/fused-trace.js';
import { fusedScale, fusedScaleRows } from '../../src/kernels/js/fused-scale.js';
import { fusedTranspose } from '../../src/kernels/js/fused-transpose.js';
import { ALIF, LIF } from '../../src/neural/neurons/index.js';
import type { NeuronGroup } from '../../src/neural/neurons/neuron-group.js';

const backends = fusedBackends();
const f = Math.fround;
const MIN_NORMAL = 2 ** -126;

/** Values that break naive kernels: NaN, ±Inf, ±0, subnormals, near-overflow, ordinary. */
const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1e-40, -3e-42, 2 ** -149, 3e38, -3e38, 1, -1, 0.5, 1e-38];

/** `n` float32 values: ordinary ones from `rng`, a fraction `special` of them from {@link SPECIAL}. */
function values(rng: Rng, n: number, lo: number, hi: number, special = 0.25): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.uniform() < special ? SPECIAL[rng.int(SPECIAL.length)]! : lo + (hi - lo) * rng.uniform()));
}

/** Spikes: none, one, all, or a random fraction. */
function spikes(rng: Rng, n: number, kind: 'none' | 'one' | 'all' | 'some', value = 1): Float32Array {
  const s = new Float32Array(n);
  if (kind === 'all') s.fill(value);
  else if (kind === 'one' && n > 0) s[rng.int(n)] = value;
  else if (kind === 'some') for (let k = 0; k < n; k++) s[k] = rng.uniform() < 0.3 ? value : 0;
  return s;
}

/** Element-wise equality with Object.is (NaN equals NaN, −0 differs from +0). */
function expectSame(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length).toBe(want.length);
  for (let k = 0; k < want.length; k++) if (!Object.is(got[k], want[k])) expect.fail(`${what}: element ${k}: got ${got[k]}, want ${want[k]}`);
}

/**
 * A tensor of `data` placed after a pad of 1–3 floats, so that on wasm its heap offset varies
 * modulo 16 (the SIMD loops load and store 16 bytes at a time); returns it with the pad to free.
 */
function padded(rng: Rng, data: Float32Array, shape: number[], offsets: Set<number>): [tf.Tensor, tf.Tensor] {
  const pad = tf.zeros([1 + rng.int(3)]);
  const t = tf.tensor(data, shape);
  const b = tf.backend() as unknown as { typedArrayFromHeap?: (t: tf.Tensor) => Float32Array };
  if (b.typedArrayFromHeap && t.size > 0) offsets.add(b.typedArrayFromHeap(t).byteOffset % 16);
  return [t, pad];
}

const SHAPES: number[][] = [[0], [1], [3], [5], [4], [1, 7], [2, 9], [3, 8], [7, 13], [20, 11], [20, 16], [3, 0], [0, 5], [2, 3, 5]];

describe.each(backends)('fused element-wise kernels on %s: randomized against the op path', (backend) => {
  for (const simd of [true, false]) {
    it(`trace (SIMD ${simd ? 'on' : 'off'}): cumulative and nearest equal the op path with subnormal results flushed to +0`, async () => {
      await tf.setBackend(backend);
      const wasSimd = setSimdLoops(simd);
      const rng = new Rng(11);
      const offsets = new Set<number>();
      if (backend === 'wasm') expect(simdLoops() !== null).toBe(simd);
      const before = tf.memory().numTensors;
      for (const shape of SHAPES) {
        const n = shape.reduce((a, d) => a * d, 1);
        for (const kind of ['none', 'one', 'all', 'some'] as const) {
          for (const nearest of [false, true]) {
            const prev = values(rng, n, -2, 2);
            const h = rng.uniform() < 0.5 ? spikes(rng, n, kind) : values(rng, n, -3, 3, 0.4);
            const decay = rng.uniform() < 0.2 ? 1 : Math.exp(-1 / (1 + 40 * rng.uniform()));
            const amp = rng.uniform() < 0.2 ? SPECIAL[rng.int(SPECIAL.length)]! : 2 * rng.uniform() - 0.5;
            const [pt, pad1] = padded(rng, prev, shape, offsets);
            const [ht, pad2] = padded(rng, h, shape, offsets);
            const fused = fusedTrace(pt, ht, decay, amp, nearest);
            const op = tf.tidy(() => (nearest ? tf.where(tf.notEqual(ht, 0), tf.fill(shape, amp), tf.mul(tf.scalar(decay), pt)) : tf.add(tf.mul(tf.scalar(decay), pt), tf.mul(tf.scalar(amp), tf.cast(tf.notEqual(ht, 0), 'float32')))));
            const want = ((await op.data()) as Float32Array).map((x) => (Math.abs(x) < MIN_NORMAL ? 0 : x));
            // and the formula in float32 (independent of both)
            const a = f(decay);
            const A = f(amp);
            const ref = Float32Array.from(prev, (x, k) => {
              const y = nearest ? (h[k] !== 0 ? A : f(a * x)) : f(f(a * x) + f(A * (h[k] !== 0 ? 1 : 0))); // [h ≠ 0]: one spike per non-zero value
              return Math.abs(y) < MIN_NORMAL ? 0 : y;
            });
            const got = (await fused.data()) as Float32Array;
            expectSame(got, want, `${shape} ${kind} nearest=${nearest} (op path)`);
            expectSame(got, ref, `${shape} ${kind} nearest=${nearest} (formula)`);
            tf.dispose([pt, ht, fused, op, pad1, pad2]);
          }
        }
      }
      expect(tf.memory().numTensors).toBe(before);
      if (backend === 'wasm') expect(offsets.size).toBeGreaterThan(1); // inputs at more than one alignment
      setSimdLoops(wasSimd);
    });

    it(`scale and scaleRows (SIMD ${simd ? 'on' : 'off'}): bit-identical to tf.mul`, async () => {
      await tf.setBackend(backend);
      const wasSimd = setSimdLoops(simd);
      const rng = new Rng(12);
      const offsets = new Set<number>();
      const before = tf.memory().numTensors;
      for (const shape of SHAPES) {
        const n = shape.reduce((a, d) => a * d, 1);
        for (let rep = 0; rep < 4; rep++) {
          const x = values(rng, n, -5, 5);
          const s = rep === 0 ? SPECIAL[rng.int(SPECIAL.length)]! : rep === 1 ? 1 / 3 : 10 * rng.uniform() - 5;
          const [xt, pad] = padded(rng, x, shape, offsets);
          const got = fusedScale(xt, s);
          const op = tf.tidy(() => tf.mul(xt, tf.scalar(s)));
          expectSame((await got.data()) as Float32Array, (await op.data()) as Float32Array, `scale ${shape} by ${s}`);
          tf.dispose([got, op]);
          if (shape.length >= 2 && shape[0]! > 0) {
            const rowShape = shape.slice(1);
            const w = values(rng, rowShape.reduce((a, d) => a * d, 1), -3, 3);
            const wt = tf.tensor(w, rowShape);
            const gr = fusedScaleRows(xt, wt);
            const opr = tf.mul(xt, wt);
            expectSame((await gr.data()) as Float32Array, (await opr.data()) as Float32Array, `scaleRows ${shape}`);
            tf.dispose([wt, gr, opr]);
          }
          tf.dispose([xt, pad]);
        }
      }
      expect(tf.memory().numTensors).toBe(before);
      if (backend === 'wasm') expect(offsets.size).toBeGreaterThan(1);
      setSimdLoops(wasSimd);
    });
  }

  it('scaled transpose: bit-identical to tf.div(tf.transpose(x), d)', async () => {
    await tf.setBackend(backend);
    const rng = new Rng(13);
    const before = tf.memory().numTensors;
    for (const [R, C] of [[0, 3], [3, 0], [1, 1], [1, 7], [7, 1], [3, 5], [4, 8], [20, 13], [13, 20]] as [number, number][]) {
      for (const d of [1, 3, 20, -0.5, 1e-40, Infinity, NaN, -0]) {
        const x = values(rng, R * C, -4, 4);
        const xt = tf.tensor2d(x, [R, C]);
        const got = fusedTranspose(xt, d);
        const op = tf.tidy(() => tf.div(tf.transpose(xt), tf.scalar(d)));
        expectSame((await got.data()) as Float32Array, (await op.data()) as Float32Array, `[${R}, ${C}] / ${d}`);
        expect(got.shape).toEqual([C, R]);
        tf.dispose([xt, got, op]);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.each(backends)('fused neuron step on %s: randomized against the op path', (backend) => {
  // LIF and ALIF (1 or 2 terms, every batch reduction), refractory or not, lock on/off, with and
  // without input; currents mixing ordinary values with NaN, ±Inf, −0, subnormals and huge values
  type Make = (B: number, N: number) => NeuronGroup & { adaptation?: tf.Tensor };
  const models: [string, Make][] = [
    ['LIF refractory', (B, N) => new LIF([N], 1, { restV: -65, resetV: -70, threshV: -55, refracT: 2, tauM: 12, resistance: 1.5, batchSize: B })],
    ['LIF', (B, N) => new LIF([N], 0.5, { restV: -65, resetV: -70, threshV: -55, refracT: 0, tauM: 7, batchSize: B })],
    ...(['mean', 'sum', 'max', 'none'] as const).flatMap((red): [string, Make][] => [
      [`ALIF 1 term ${red}`, (B, N) => new ALIF([N], 0.5, { restV: -65, resetV: -62, threshV: -55, refracT: 1, tauM: 20, tauAdapt: 40, adaptIncrement: 0.8, batchReduction: red, batchSize: B })],
      [`ALIF 2 terms ${red}`, (B, N) => new ALIF([N], 1, { restV: -65, resetV: -62, threshV: -55, refracT: 0, tauM: 20, tauAdapt: [30, 200], adaptIncrement: [0.5, 0.2], batchReduction: red, batchSize: B })],
    ]),
  ];
  it.each(models)('%s: B ∈ {1, 2, 3, 7, 20}, N ∈ {1, 3, 4, 7, 12, 13}: equal states (Object.is; batch-reduced θ within 1e-6)', async (_name, make) => {
    await tf.setBackend(backend);
    const rng = new Rng(21);
    const before = tf.memory().numTensors;
    for (const B of [1, 2, 3, 7, 20]) {
      for (const N of [1, 3, 4, 7, 12, 13]) {
        const lock = rng.uniform() < 0.5;
        const noInput = rng.uniform() < 0.15;
        const seed = rng.int(1e6);
        const states: [string, Float32Array][][] = [];
        for (const fused of [false, true]) {
          setFusedKernels(fused);
          const n = make(B, N);
          n.train(true);
          const r = new Rng(seed);
          const seen: [string, Float32Array][] = [];
          for (let t = 0; t < 10; t++) {
            const x = values(r, B * N, -5, 40, t < 6 ? 0.02 : 0.3);
            const s = tf.tidy(() => n.forward(noInput ? {} : tf.tensor(x, n.batchedShape), { refracLock: lock }));
            seen.push([`step ${t} spikes`, (await s.data()) as Float32Array], [`step ${t} v`, (await n.voltage.data()) as Float32Array], [`step ${t} r`, (await n.refrac.data()) as Float32Array]);
            if (n.adaptation) seen.push([`step ${t} theta`, (await n.adaptation.data()) as Float32Array]);
            s.dispose();
          }
          states.push(seen);
          n.dispose();
        }
        setFusedKernels(true);
        const [op, fu] = states as [[string, Float32Array][], [string, Float32Array][]];
        for (let k = 0; k < op.length; k++) {
          const [what, want] = op[k]!;
          const got = fu[k]![1];
          // the batch-reduced θ: another summation order (the module notes); the refractory time:
          // max(−0 − Δt… , 0) may keep −0 in SIMD lanes (the module notes)
          const reduced = what.endsWith('theta') && B > 1 && !_name.endsWith('none');
          for (let i = 0; i < want.length; i++) {
            const a = got[i]!;
            const b = want[i]!;
            const ok = Object.is(a, b) || (reduced && Number.isFinite(b) && Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b))) || (what.endsWith(' r') && a === 0 && b === 0);
            if (!ok) expect.fail(`B=${B} N=${N} lock=${lock} input=${!noInput}: ${what} element ${i}: fused ${a}, op path ${b}`);
          }
        }
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
