// The fused outer-product weight update (src/kernels/js/fused-outer-update.ts) against the op path
// (matrix products, Bounding, add, Clamping hooks) over ≥ 50 steps, on the wasm and cpu backends.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';
import { fusedOuterUpdate } from '../../src/kernels/js/fused-outer-update.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { LinearDense, uniformInit } from '../../src/neural/connections/index.js';
import { Serial } from '../../src/neural/layers/index.js';
import { Clamping } from '../../src/neural/hooks/index.js';
import { Bounding, type BoundingKind } from '../../src/neural/bounding.js';
import { STDP } from '../../src/learn/trainers/index.js';
import { QuickstartNetwork } from '../../examples/quickstart/network.js';

const backends = fusedBackends();

interface Config {
  batch: number;
  lrPost: number;
  lrPre: number;
  bounding?: { kind: BoundingKind; max?: number; min?: number; power?: number };
  clamp?: { min?: number; max?: number };
  reduction?: 'mean' | 'sum';
  /** Input spike probability per step (default 0.3). */
  rate?: number;
  /** Presynaptic units (default 30; 32 makes both weight dimensions multiples of 4: the SIMD update on wasm). */
  inputs?: number;
}

/** Weights after `steps` steps of Serial(LinearDense 30 → 12, LIF) with STDP (same seeds). */
async function run(cfg: Config, fused: boolean, steps = 60): Promise<{ w: Float32Array; kernels: string[] }> {
  setFusedKernels(fused);
  const B = cfg.batch;
  const I = cfg.inputs ?? 30;
  const conn = new LinearDense([I], [12], 1, { weightInit: uniformInit(new Rng(3), 0.1, 0.6), batchSize: B });
  const lif = new LIF([12], 1, { restV: -65, resetV: -65, threshV: -60, refracT: 2, tauM: 10, batchSize: B });
  const layer = new Serial(conn, lif);
  const stdp = new STDP({ lrPost: cfg.lrPost, lrPre: cfg.lrPre, tauPost: 15, tauPre: 20, batchReduction: cfg.reduction ?? 'mean' });
  stdp.register(layer.cell(conn, lif));
  layer.train(true);
  stdp.train(true);
  const bound = cfg.bounding ? new Bounding(cfg.bounding.kind, (({ kind: _kind, ...o }) => o)(cfg.bounding)) : null;
  if (bound) conn.updater.bound('weight', bound);
  const clamp = cfg.clamp ? new Clamping(conn.weightParameter, cfg.clamp) : null;
  const detach = clamp?.attachToUpdate(conn.updater);
  const rng = new Rng(9);
  let kernels: string[] = [];
  for (let t = 0; t < steps; t++) {
    const x = new Float32Array(B * I);
    for (let k = 0; k < x.length; k++) x[k] = rng.uniform() < (cfg.rate ?? 0.3) ? 1 : 0;
    const step = () =>
      tf.tidy(() => {
        layer.forward(tf.mul(tf.tensor2d(x, [B, I]), tf.scalar(8)));
        stdp.step();
        conn.update();
      });
    if (t === steps - 1) kernels = (await tf.profile(step)).kernels.map((k) => k.name);
    else step();
  }
  const w = (await conn.weight.data()) as Float32Array;
  detach?.();
  stdp.dispose();
  layer.dispose();
  bound?.dispose();
  clamp?.dispose();
  return { w: w.slice(), kernels };
}

function close(a: Float32Array, b: Float32Array, tol = 2e-6): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  expect(worst).toBeLessThan(tol);
}

const configs: [string, Config][] = [
  ['Hebbian, multiplicative upper bound, clamp ≥ 0, B = 1', { batch: 1, lrPost: 0.02, lrPre: -0.01, bounding: { kind: 'multiplicative', max: 1 }, clamp: { min: 0 } }],
  ['Hebbian, multiplicative upper bound, clamp ≥ 0, B = 4', { batch: 4, lrPost: 0.02, lrPre: -0.01, bounding: { kind: 'multiplicative', max: 1 }, clamp: { min: 0 } }],
  ['anti-Hebbian, full scaled-multiplicative bounding, batch sum, B = 3', { batch: 3, lrPost: -0.01, lrPre: 0.02, bounding: { kind: 'scaled-multiplicative', max: 1, min: 0 }, reduction: 'sum' }],
  ['Hebbian, power upper bound μ = 2, B = 2', { batch: 2, lrPost: 0.02, lrPre: -0.01, bounding: { kind: 'power', max: 1, power: 2 } }],
  ['potentiative, hard bounds, clamp [0.05, 0.9], B = 2', { batch: 2, lrPost: 0.01, lrPre: 0.005, bounding: { kind: 'hard', max: 0.8, min: 0 }, clamp: { min: 0.05, max: 0.9 } }],
  ['depressive, no bounding, no clamp, B = 1', { batch: 1, lrPost: -0.01, lrPre: -0.005 }],
  // B = 1 with many post spikes: steps with dense post spikes take the hybrid update's product path
  ['B = 1, dense spikes: Hebbian, multiplicative upper bound, clamp ≥ 0', { batch: 1, rate: 0.7, lrPost: 0.02, lrPre: -0.01, bounding: { kind: 'multiplicative', max: 1 }, clamp: { min: 0 } }],
  // B = 20: the hybrid update (sparse post-spike rows in JavaScript, the dense part as a product) for
  // no bounding or a multiplicative one on one side; the event-driven or summed pass for the others
  ...(['sparse', 'dense'] as const).flatMap((density): [string, Config][] => {
    const rate = density === 'sparse' ? 0.08 : 0.6;
    return [
      [`B = 20, ${density} spikes: Hebbian, multiplicative upper bound, clamp ≥ 0`, { batch: 20, rate, lrPost: 0.02, lrPre: -0.01, bounding: { kind: 'multiplicative', max: 1 }, clamp: { min: 0 } }],
      [`B = 20, ${density} spikes: anti-Hebbian, multiplicative lower bound, clamp ≤ 0.7, batch sum`, { batch: 20, rate, lrPost: -0.002, lrPre: 0.001, bounding: { kind: 'multiplicative', min: 0 }, clamp: { max: 0.7 }, reduction: 'sum' }],
      [`B = 20, ${density} spikes: no bounding, clamp [0.05, 0.9]`, { batch: 20, rate, lrPost: 0.02, lrPre: -0.01, clamp: { min: 0.05, max: 0.9 } }],
      [`B = 20, ${density} spikes: no bounding, no clamp`, { batch: 20, rate, lrPost: 0.02, lrPre: -0.01 }],
      [`B = 20, ${density} spikes: full multiplicative bounding`, { batch: 20, rate, lrPost: 0.02, lrPre: -0.01, bounding: { kind: 'multiplicative', max: 1, min: 0 } }],
      [`B = 20, ${density} spikes: hard bounds, clamp ≥ 0.05`, { batch: 20, rate, lrPost: 0.01, lrPre: -0.005, bounding: { kind: 'hard', max: 0.8, min: 0 }, clamp: { min: 0.05 } }],
      [`B = 20, ${density} spikes: scaled-multiplicative`, { batch: 20, rate, lrPost: 0.02, lrPre: -0.01, bounding: { kind: 'scaled-multiplicative', max: 1, min: 0 } }],
      [`B = 20, ${density} spikes: power upper bound μ = 2`, { batch: 20, rate, lrPost: 0.02, lrPre: -0.01, bounding: { kind: 'power', max: 1, power: 2 } }],
    ];
  }),
  // 32 inputs × 12 outputs (multiples of 4): on wasm the hybrid plan runs as the SIMD update
  ...([3, 20] as const).flatMap((batch) =>
    (['sparse', 'dense'] as const).flatMap((density): [string, Config][] => {
      const rate = density === 'sparse' ? 0.08 : 0.6;
      return [
        [`SIMD shape, B = ${batch}, ${density} spikes: Hebbian, multiplicative upper bound, clamp ≥ 0`, { batch, rate, inputs: 32, lrPost: 0.02, lrPre: -0.01, bounding: { kind: 'multiplicative', max: 1 }, clamp: { min: 0 } }],
        [`SIMD shape, B = ${batch}, ${density} spikes: anti-Hebbian, multiplicative lower bound, clamp ≤ 0.7, batch sum`, { batch, rate, inputs: 32, lrPost: -0.002, lrPre: 0.001, bounding: { kind: 'multiplicative', min: 0 }, clamp: { max: 0.7 }, reduction: 'sum' }],
        [`SIMD shape, B = ${batch}, ${density} spikes: no bounding, clamp [0.05, 0.9]`, { batch, rate, inputs: 32, lrPost: 0.02, lrPre: -0.01, clamp: { min: 0.05, max: 0.9 } }],
        [`SIMD shape, B = ${batch}, ${density} spikes: no bounding, no clamp`, { batch, rate, inputs: 32, lrPost: 0.02, lrPre: -0.01 }],
      ];
    }),
  ),
];

/** Kernels that apply a whole fused update (one per step). */
const FUSED_UPDATE_KERNELS = ['CinderFusedOuterUpdate', 'CinderFusedOuterRows', 'CinderFusedOuterSimd'];

describe.each(backends)('fused outer-product update on %s', (backend) => {
  it.each(configs)('%s: equals the op path over 60 steps', async (_name, cfg) => {
    await tf.setBackend(backend);
    const op = await run(cfg, false);
    const fused = await run(cfg, true);
    // B = 20: the batch sums are added in another order (float64 rows, or a product) than the op
    // path's float32 product, 60 steps in a row
    close(fused.w, op.w, cfg.batch >= 20 ? 5e-6 : 2e-6);
    // the hybrid update applies to one bounded side at most, multiplicative or none; on wasm with
    // both dimensions multiples of 4 it runs as the SIMD update
    const b = cfg.bounding;
    if (cfg.batch > 2 && (!b || (b.kind === 'multiplicative' && (b.max === undefined || b.min === undefined)))) {
      const simd = backend === 'wasm' && (cfg.inputs ?? 30) % 4 === 0;
      expect(fused.kernels).toContain(simd ? 'CinderFusedOuterSimd' : 'CinderFusedOuterRows');
    }
    // the weights moved (the comparison is not vacuous)
    const w0 = await run(cfg, true, 1);
    let moved = 0;
    for (let i = 0; i < op.w.length; i++) moved = Math.max(moved, Math.abs(op.w[i]! - w0.w[i]!));
    expect(moved).toBeGreaterThan(1e-3);
    // one fused kernel (or, for the hybrid update, one product and its rows kernel) replaces the
    // matrix products, the bounding, the add and the clamping hook's kernels
    const fusedCount = fused.kernels.filter((k) => FUSED_UPDATE_KERNELS.includes(k)).length;
    expect(fusedCount).toBe(1);
    expect(fused.kernels).not.toContain('Select');
    expect(fused.kernels.length).toBeLessThan(op.kernels.length);
    const products = (ks: string[]) => ks.filter((k) => k === 'BatchMatMul' || k.startsWith('CinderFusedSparseMatmul')).length;
    expect(products(fused.kernels)).toBeLessThanOrEqual(products(op.kernels));
  });

  it.each([2, 20])('quickstart network, B = %i: fused and op paths give the same weights, θ and spikes over 50 steps', async (B) => {
    await tf.setBackend(backend);
    const out: Float32Array[][] = [];
    for (const fused of [false, true]) {
      setFusedKernels(fused);
      const net = new QuickstartNetwork(B, new Rng(2));
      net.train(true);
      const rng = new Rng(5);
      let spikes = 0;
      for (let t = 0; t < 50; t++) {
        const x = new Float32Array(B * 784);
        for (let k = 0; k < x.length; k++) x[k] = rng.uniform() < 0.2 ? 1 : 0;
        const s = tf.tidy(() => tf.sum(net.step(tf.tensor2d(x, [B, 784])).exc));
        spikes += (await s.data())[0]!;
        s.dispose();
      }
      out.push([(await net.input.weight.data()) as Float32Array, (await net.exc.adaptation.data()) as Float32Array, new Float32Array([spikes])]);
      net.dispose();
    }
    expect(out[1]![2]![0]).toBe(out[0]![2]![0]);
    expect(out[0]![2]![0]).toBeGreaterThan(0);
    close(out[1]![0]!, out[0]![0]!);
    close(out[1]![1]!, out[0]![1]!);
  });
});

describe.each(backends)('hybrid update (B = 20) on %s', (backend) => {
  // 6 × 9: the JavaScript rows kernel; 8 × 12 on wasm: the SIMD update, with spikes (every
  // non-zero factor the same: summed, then scaled once) and with factors of several values
  it.each([[6, 9, false], [8, 12, false], [8, 12, true]])('%i × %i (factors of several values: %s): keeps non-finite weights non-finite and equals a float64 reference elsewhere', async (P, Q, valued) => {
    await tf.setBackend(backend);
    setFusedKernels(true);
    const B = 20;
    const rng = new Rng(4);
    const w0 = rng.uniformArray(P * Q, 0, 0.8);
    w0[3] = -Infinity;
    w0[10] = Infinity;
    w0[20] = NaN;
    // post spikes in one sample only (sparse rows), dense post trace; pre trace dense, pre spikes ~30 %
    const zPost = new Float32Array(B * P);
    zPost[2] = valued ? 0.7 : 1;
    if (valued) zPost[3 * P + 2] = 1.3;
    const xPre = rng.uniformArray(B * Q, 0, 0.05);
    const xPost = rng.uniformArray(B * P, 0, 0.05);
    const zPre = Float32Array.from({ length: B * Q }, () => (rng.uniform() < 0.3 ? (valued ? 0.5 + rng.uniform() : 1) : 0));
    const w = tf.tensor2d(w0, [P, Q]);
    const out = fusedOuterUpdate(
      w,
      [
        { post: tf.tensor2d(zPost, [B, P]), pre: tf.tensor2d(xPre, [B, Q]), divisor: B, side: 'pos' },
        { post: tf.tensor2d(xPost, [B, P]), pre: tf.tensor2d(zPre, [B, Q]), divisor: B, side: 'neg' },
      ],
      { kind: 'multiplicative', boundsUpper: true, boundsLower: false, max: 1, powerUpper: 1, powerLower: 1 },
      [{ min: 0 }],
    );
    const got = (await out.data()) as Float32Array;
    for (let o = 0; o < P; o++) {
      for (let i = 0; i < Q; i++) {
        const e = o * Q + i;
        let pos = 0;
        let neg = 0;
        for (let b = 0; b < B; b++) {
          pos += zPost[b * P + o]! * xPre[b * Q + i]!;
          neg += xPost[b * P + o]! * zPre[b * Q + i]!;
        }
        const v = w0[e]! + (1 - w0[e]!) * (pos / B) - neg / B;
        const want = Number.isFinite(v) ? Math.max(v, 0) : v;
        // a non-finite weight stays non-finite (never clamped into a plausible value); where no
        // potentiation reached it the kernel skips the op path's ∞·0 = NaN (see the module notes)
        if (!Number.isFinite(w0[e]!)) expect(Number.isFinite(got[e]!)).toBe(false);
        else expect(Math.abs(got[e]! - want)).toBeLessThan(1e-6);
      }
    }
    expect(got[3]).toBe(-Infinity);
    expect(got[10]).toBe(Infinity);
    out.dispose();
    w.dispose();
  });
});

describe.each(backends)('fused outer-product update on %s: factors that do not fit', (backend) => {
  // The kernel takes B from the first part's postsynaptic factor and reads every factor by B·P and
  // B·Q: a presynaptic factor of 3 elements for Q = 4 was read past its end (NaN into the weights),
  // a postsynaptic factor of 6 elements for P = 4 made B = 1.5
  it('mismatched factor sizes, a non-2-D weight and a divisor ≤ 0 are refused (CinderArgumentError), empty weights still update', async () => {
    await tf.setBackend(backend);
    setFusedKernels(true);
    const w = tf.fill([4, 4], 0.5);
    const t = (post: number[], pre: number[], divisor = 1) => ({ post: tf.ones(post), pre: tf.ones(pre), divisor, side: 'pos' as const });
    const cases: [ReturnType<typeof t>[], tf.Tensor, RegExp][] = [
      [[t([1, 4], [1, 3])], w, /^invalid terms\[0\]: got "post \[1, 4\], pre \[1, 3\]", expected factors of B·4 and B·4 elements for one whole B \(B = 1 from terms\[0\]\)$/],
      [[t([6], [6])], w, /^invalid terms\[0\]: got "post \[6\], pre \[6\]", expected factors of B·4 and B·4 elements for one whole B \(terms\[0\]\.post has 6\)$/],
      [[t([2, 4], [2, 4]), t([1, 4], [1, 4])], w, /^invalid terms\[1\]: got "post \[1, 4\], pre \[1, 4\]"/],
      [[t([1, 4], [1, 4], 0)], w, /^invalid terms\[0\]\.divisor: got 0, expected a number > 0$/],
      [[t([1, 4], [1, 4])], tf.ones([4, 4, 1]), /^invalid w: got tensor of shape \[4, 4, 1\] \(float32\), expected a float32 tensor \[P, Q\]$/],
    ];
    for (const [terms, weight, message] of cases) {
      const before = tf.memory().numTensors;
      expect(() => fusedOuterUpdate(weight, terms, null, [])).toThrow(message);
      expect(tf.memory().numTensors).toBe(before);
      for (const x of terms) tf.dispose([x.post, x.pre]);
      if (weight !== w) weight.dispose();
    }
    // empty weights ([0, 4], [4, 0]) with fitting factors: an empty or unchanged result, as before
    for (const [P, Q] of [[0, 4], [4, 0]]) {
      const we = tf.zeros([P, Q]);
      const terms = [t([3, P], [3, Q]), { ...t([3, P], [3, Q]), side: 'neg' as const }];
      const out = fusedOuterUpdate(we, terms, null, [{ min: 0 }]);
      expect(out.shape).toEqual([P, Q]);
      tf.dispose([we, out, ...terms.flatMap((x) => [x.post, x.pre])]);
    }
    w.dispose();
  });
});

describe.each(backends)('fused outer-product update on %s: spikes of ±Infinity', (backend) => {
  // B = 4, 4 × 4 (the SIMD update on wasm): every presynaptic spike of the depressing part is +∞;
  // its postsynaptic trace is 0 in one sample only at row 2. The op path's product gives
  // 0·∞ + 0.2·∞ + … = NaN there and −∞ in the other rows of that column; the SIMD update summed the
  // trace rows first and scaled once, ∞·(0 + 0.2 + …) = ∞, and wrote −∞ where NaN is due
  it('an infinite spike value meets a zero trace: NaN where the op path has NaN (Object.is)', async () => {
    await tf.setBackend(backend);
    setFusedKernels(true);
    const [B, P, Q] = [4, 4, 4];
    const w = tf.fill([P, Q], 0.5);
    const zPost = tf.tensor2d(new Float32Array(B * P).map((_, k) => (k === 1 ? 1 : 0)), [B, P]);
    const xPre = tf.fill([B, Q], 0.1);
    const xPost = tf.tensor2d(new Float32Array(B * P).map((_, k) => (k === 2 ? 0 : 0.2)), [B, P]);
    const zPre = tf.tensor2d(new Float32Array(B * Q).map((_, k) => (k % Q === 1 ? Infinity : 0)), [B, Q]);
    const bound = new Bounding('multiplicative', { max: 1 });
    const spec = { kind: bound.kind, boundsUpper: bound.boundsUpper, boundsLower: bound.boundsLower, max: bound.max, min: bound.min, powerUpper: 1, powerLower: 1 };
    const out = fusedOuterUpdate(w, [{ post: zPost, pre: xPre, divisor: B, side: 'pos' }, { post: xPost, pre: zPre, divisor: B, side: 'neg' }], spec, [{ min: 0 }]);
    const op = tf.tidy(() => {
      const v = tf.add(w, bound.bind(w, tf.div(tf.matMul(zPost, xPre, true, false), B), tf.div(tf.matMul(xPost, zPre, true, false), B)));
      return tf.where(tf.isFinite(v), tf.clipByValue(v, 0, Infinity), v);
    });
    const a = (await out.data()) as Float32Array;
    const b = (await op.data()) as Float32Array;
    expect(Number.isNaN(b[2 * Q + 1]!)).toBe(true);
    expect(b[1]).toBe(-Infinity);
    for (let e = 0; e < P * Q; e++) if (!Object.is(a[e], b[e])) expect.fail(`element ${e}: fused ${a[e]}, op path ${b[e]}`);
    tf.dispose([w, zPost, xPre, xPost, zPre, out, op]);
    bound.dispose();
  });
});

describe.each(backends)('fused outer-product update on %s: a weight that overflowed', (backend) => {
  // Update 1 overflows w[0] and w[Q] to ±Inf; update 2 reaches neither. The op path gives NaN
  // there ((max − ∞)·0, (±∞ − min)·0 when bounded below); the B ≤ 2 kernel used to copy
  // the untouched ±Inf from its own previous output.
  // warm: a small update first (its output is clean with a carried bound on |w|), then the
  // overflow: the carried bound must not let the ±Inf through
  it.each([[1, false, false], [2, false, false], [1, true, false], [2, true, false], [1, false, true], [2, true, true]])('B = %i, both sides bounded: %s, after a small update: %s: the updates equal the op path (Object.is)', async (B, both, warm) => {
    await tf.setBackend(backend);
    const P = 24;
    const Q = 5;
    const bound = new Bounding('multiplicative', both ? { max: 1, min: 0 } : { max: 1 });
    const spec = { kind: bound.kind, boundsUpper: bound.boundsUpper, boundsLower: bound.boundsLower, max: bound.max, min: bound.min, powerUpper: 1, powerLower: 1 };
    const w0 = new Float32Array(P * Q).fill(0.5);
    w0[0] = warm ? 1e30 : 3e38;
    w0[Q] = warm ? -1e30 : -3e38;
    const schedule = warm ? ['small', 'overflow', 'other'] : ['overflow', 'other'];
    const factors = (stepIndex: number) => {
      const step = ['overflow', 'other', 'small'].indexOf(schedule[stepIndex]!);
      const zPost = new Float32Array(B * P);
      const xPre = new Float32Array(B * Q);
      const xPost = new Float32Array(B * P);
      const zPre = new Float32Array(B * Q);
      if (step === 0) {
        zPost[0] = 1; // row 0: (1 − 3e38)·(−3e38) = +huge
        xPre[0] = -3e38;
        xPost[1] = 1; // row 1: −3e38 − 3e38 = −huge, or bounded below −3e38 − (−3e38)·3e38 = +huge
        zPre[0] = 3e38;
      } else if (step === 2) {
        zPost[B * P - 1] = 1e-3; // a small update of the last rows
        xPre[B * Q - 1] = 1e-3;
      } else {
        zPost[B * P - 1] = 1; // other rows only
        xPre[B * Q - 2] = 0.1;
        xPost[B * P - 2] = 0.5;
        zPre[B * Q - 1] = 1;
      }
      return { zPost, xPre, xPost, zPre };
    };
    const terms = (k: ReturnType<typeof factors>) => [
      { post: tf.tensor2d(k.zPost, [B, P]), pre: tf.tensor2d(k.xPre, [B, Q]), divisor: 1, side: 'pos' as const },
      { post: tf.tensor2d(k.xPost, [B, P]), pre: tf.tensor2d(k.zPre, [B, Q]), divisor: 1, side: 'neg' as const },
    ];
    // the op path: matrix products, Bounding.bind, add
    let op: tf.Tensor = tf.tensor2d(w0, [P, Q]);
    let fu: tf.Tensor = tf.tensor2d(w0, [P, Q]);
    for (let step = 0; step < schedule.length; step++) {
      const k = factors(step);
      const next = tf.tidy(() => {
        const [tp, tn] = terms(k);
        return tf.add(op, bound.bind(op, tf.matMul(tp!.post, tp!.pre, true, false), tf.matMul(tn!.post, tn!.pre, true, false)));
      });
      op.dispose();
      op = next;
      const ts = terms(k);
      const nf = fusedOuterUpdate(fu, ts, spec, []);
      for (const t of ts) tf.dispose([t.post, t.pre]);
      fu.dispose();
      fu = nf;
      const a = (await op.data()) as Float32Array;
      const b = (await fu.data()) as Float32Array;
      if (schedule[step] === 'overflow') expect(b[0]).toBe(Infinity);
      for (let e = 0; e < P * Q; e++) if (!Object.is(b[e], a[e])) expect.fail(`update ${step + 1}, element ${e}: fused ${b[e]}, op path ${a[e]}`);
    }
    expect(Number.isNaN(((await fu.data()) as Float32Array)[0])).toBe(true);
    tf.dispose([op, fu]);
    bound.dispose?.();
  });
});
