// Seeded randomized differential tests of the fused WGSL programs on webgpu against the cpu backend's
// op path (fused JS kernels off), over configurations the case tables of step-neuron, step-stdp and
// eprop do not list: each seed draws a configuration from a mulberry32 stream (test/helpers/random.ts)
// and the test compares every step's states.
//
// - neurons (step-neuron.ts): LIF and ALIF, refractory periods 0 / multiples / non-multiples of dt,
//   refracLock on and off, 1–3 adaptation terms with each batch reduction, B = 1, 3, 17, sizes that
//   are not multiples of the 64-invocation workgroup, the one-dispatch, one-program-per-state and
//   large-batch tree routes, steps without input, currents with NaN, ±Infinity and −0 entries, and
//   currents cast from int32 or bool (kept by tfjs in int32 buffers); 50 steps;
// - STDP (step-trace.ts, step-update.ts): every bounding family and side, exponents of both parities
//   and non-integers, weights drawn partly outside the bounds, 0–2 clamps, cumulative and nearest
//   traces, batch mean and sum, B = 1, 3, 17 and 40 (matrix products first), updates every 1–3 steps,
//   per-edge delays (traced per edge or delay-aware), presynaptic spikes cast from bool; 60 steps;
// - e-prop (eprop.ts, eprop-readout.ts) against the JavaScript kernel: odd n, T, B, nIn, nOut, every
//   surrogate, both losses and feedback modes, averaged or summed gradients, windows up to T.
// And one state larger than a dispatch row (65535 workgroups of 64), both neuron routes.
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { ALIF, LIF, type NeuronGroup } from '../../src/neural/neurons/index.js';
import { LinearDense } from '../../src/neural/connections/index.js';
import { Bounding, type BoundingKind, type BoundingOptions } from '../../src/neural/bounding.js';
import { Clamping } from '../../src/neural/hooks/index.js';
import { STDP, type STDPOptions } from '../../src/learn/trainers/index.js';
import { EProp, EPropReadout, EPropRecurrent, SURROGATE_NAMES, type EPropBatch, type EPropKernel } from '../../src/learn/eprop/index.js';
import { Adam } from '../../src/learn/optimizers/index.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';
import { SEQUENTIAL_MAX_BATCH, setSequentialMaxBatch } from '../../src/kernels/webgpu/step-neuron.js';
import { setMultiOutput } from '../../src/kernels/webgpu/step-dispatch.js';
import { ForcedNeurons, TestLayer } from '../learn/trainers/harness.js';
import { mulberry32 } from '../helpers/random.js';
import { relMax } from '../../bench/webgpu-verify.js';
import { onBackend, webgpuForTests } from './gpu.js';
import { download, worstRel } from './step-util.js';

const gpu = await webgpuForTests();

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Runs `fn` on the cpu op path (fused JS kernels off) and on webgpu with the step programs. */
async function both<T>(fn: () => Promise<T>, route: { multi?: boolean; tree?: boolean } = {}): Promise<{ cpu: T; wg: T }> {
  setFusedKernels(false);
  const cpu = await onBackend('cpu', fn);
  setFusedKernels(true);
  const multi = setMultiOutput(route.multi ?? true);
  const seq = setSequentialMaxBatch(route.tree ? 1 : SEQUENTIAL_MAX_BATCH);
  try {
    return { cpu, wg: await onBackend('webgpu', fn) };
  } finally {
    setMultiOutput(multi);
    setSequentialMaxBatch(seq);
  }
}

// ---------------------------------------------------------------------------------------------
// Neurons

interface NeuronCase {
  model: 'LIF' | 'ALIF';
  B: number;
  N: number;
  refracT: number;
  refracLock: boolean;
  reduction: 'mean' | 'sum' | 'max' | 'none';
  K: number;
  input: 'float' | 'specials' | 'int32' | 'bool';
  /** Every this many steps no input (0: never). */
  gapEvery: number;
  route: 'one dispatch' | 'one program per state' | 'tree';
  seed: number;
}

function neuronCase(seed: number): NeuronCase {
  const r = mulberry32(seed);
  const model = pick(r, ['LIF', 'ALIF'] as const);
  const B = pick(r, [1, 3, 17]);
  const route = pick(r, ['one dispatch', 'one program per state', ...(model === 'ALIF' && B > 1 ? (['tree'] as const) : [])] as const);
  return {
    model,
    B,
    N: pick(r, [1, 5, 63, 65, 130]),
    refracT: pick(r, [0, 1, 1.3, 2.2]),
    refracLock: r() < 0.5,
    reduction: pick(r, ['mean', 'sum', 'max', 'none'] as const),
    K: 1 + Math.floor(r() * 3),
    input: pick(r, ['float', 'specials', 'int32', 'bool'] as const),
    gapEvery: pick(r, [0, 0, 4, 7]),
    route,
    seed,
  };
}

const NEURON_STEPS = 50;

/** Spikes, voltages, refractory times (and θ) of every step, one flat array. */
async function neuronRun(c: NeuronCase): Promise<Float32Array> {
  const common = { restV: -65, resetV: -70, threshV: -50, refracT: c.refracT, tauM: 15, batchSize: c.B };
  const n: NeuronGroup =
    c.model === 'LIF'
      ? new LIF([c.N], 0.5, common)
      : new ALIF([c.N], 0.5, {
          ...common,
          tauAdapt: [40, 120, 300].slice(0, c.K),
          adaptIncrement: [1.5, 0.4, 2.5].slice(0, c.K),
          batchReduction: c.reduction,
        });
  n.train();
  const r = mulberry32(1000 + c.seed);
  const specials = [NaN, Infinity, -Infinity, -0];
  const size = c.B * c.N;
  const kept: tf.Tensor[] = [];
  for (let k = 0; k < NEURON_STEPS; k++) {
    const gap = c.gapEvery > 0 && k % c.gapEvery === c.gapEvery - 1;
    const x = gap
      ? null
      : tf.tidy(() => {
          if (c.input === 'bool') return tf.cast(tf.tensor2d(Uint8Array.from({ length: size }, () => (r() < 0.5 ? 1 : 0)), [c.B, c.N], 'bool'), 'float32');
          if (c.input === 'int32') return tf.cast(tf.tensor2d(Int32Array.from({ length: size }, () => Math.floor(r() * 70) - 10), [c.B, c.N], 'int32'), 'float32');
          const v = Float32Array.from({ length: size }, () => 60 * r() - 5);
          if (c.input === 'specials') for (let i = 0; i < size; i++) if (r() < 0.004) v[i] = pick(r, specials);
          return tf.tensor2d(v, [c.B, c.N]);
        });
    const s = x ? n.forward(x, { refracLock: c.refracLock }) : n.forward({}, { refracLock: c.refracLock });
    const parts = [s, n.voltage, n.refrac, ...(n instanceof ALIF ? [n.adaptation] : [])].map((t) => tf.reshape(t, [-1]));
    kept.push(tf.concat(parts));
    tf.dispose([s, ...parts]);
    x?.dispose();
  }
  n.dispose();
  return download(kept);
}

// ---------------------------------------------------------------------------------------------
// STDP

interface StdpCase {
  B: number;
  IN: number;
  OUT: number;
  bound: [BoundingKind, BoundingOptions] | null;
  clamp: { min?: number; max?: number } | null;
  w0: [number, number];
  stdp: Partial<STDPOptions>;
  every: number;
  maxDelay: number;
  bool: boolean;
  seed: number;
}

function stdpCase(seed: number): StdpCase {
  const r = mulberry32(seed);
  const kind = pick(r, [null, 'hard', 'multiplicative', 'scaled-multiplicative', 'power', 'scaled-power'] as const);
  const side = kind === 'scaled-multiplicative' || kind === 'scaled-power' ? pick(r, ['full', 'upper', 'lower'] as const) : pick(r, ['full', 'upper', 'lower'] as const);
  const bounds = side === 'full' || kind?.startsWith('scaled') ? { min: 0.3, max: 0.7 } : side === 'upper' ? { max: 0.7 } : { min: 0.3 };
  const bound: [BoundingKind, BoundingOptions] | null = kind ? [kind, { ...bounds, side, powerUpper: pick(r, [0.5, 1, 2, 3, 1.5]), powerLower: pick(r, [0.5, 1, 2, 3, 1.5]) }] : null;
  const nClamps = Math.floor(r() * 3);
  const clamp = nClamps === 0 ? null : nClamps === 1 ? pick(r, [{ min: 0.1 }, { max: 0.9 }]) : { min: 0.1, max: 0.9 };
  const B = pick(r, [1, 3, 17, 40]);
  const maxDelay = B <= 3 ? pick(r, [0, 2]) : 0; // with delays the update is the op path: many small tfjs programs, slow on SwiftShader
  return {
    B,
    IN: pick(r, [1, 7, 65]),
    OUT: pick(r, [1, 5, 33]),
    bound,
    clamp,
    w0: r() < 0.5 ? [0.2, 0.8] : [0, 1],
    stdp: {
      lrPost: pick(r, [0.05, -0.03]),
      lrPre: pick(r, [-0.04, 0.02]),
      traceMode: pick(r, ['cumulative', 'nearest'] as const),
      batchReduction: pick(r, ['mean', 'sum'] as const),
      delayed: maxDelay > 0 && r() < 0.5,
    },
    every: 1 + Math.floor(r() * 3),
    maxDelay,
    bool: r() < 0.4,
    seed,
  };
}

const STDP_STEPS = 60;

/** The weights after every step. */
async function stdpRun(c: StdpCase): Promise<Float32Array> {
  const r = mulberry32(2000 + c.seed);
  const w0 = Float32Array.from({ length: c.OUT * c.IN }, () => c.w0[0] + (c.w0[1] - c.w0[0]) * r());
  const d0 = Float32Array.from({ length: c.OUT * c.IN }, () => Math.floor(r() * (c.maxDelay + 1)));
  const conn = new LinearDense([c.IN], [c.OUT], 1, {
    batchSize: c.B,
    weightInit: (shape) => tf.tensor(w0, [...shape]),
    ...(c.maxDelay > 0 ? { maxDelay: c.maxDelay, delayInit: (shape: readonly number[]) => tf.tensor(d0, [...shape]) } : {}),
  });
  const layer = new TestLayer(conn, new ForcedNeurons([c.OUT], c.B));
  const rule = new STDP({ tauPost: 20, tauPre: 10, lrPost: 0.05, lrPre: -0.04, ...c.stdp });
  rule.register(layer.cell);
  const bound = c.bound ? new Bounding(c.bound[0], c.bound[1]) : null;
  if (bound) conn.updater.bound('weight', bound);
  const detach = c.clamp ? new Clamping(conn.weightParameter, c.clamp).attachToUpdate(conn.updater) : () => {};
  const kept: tf.Tensor[] = [];
  try {
    for (let k = 0; k < STDP_STEPS; k++) {
      const pre = Array.from({ length: c.B * c.IN }, () => (r() < 0.3 ? 1 : 0));
      const post = Array.from({ length: c.B * c.OUT }, () => (r() < 0.25 ? 1 : 0));
      if (c.bool) {
        // the TestLayer step with the presynaptic spikes cast from a bool tensor
        tf.tidy(() => void conn.forward(tf.cast(tf.tensor(Uint8Array.from(pre), [c.B, c.IN], 'bool'), 'float32')));
        layer.neuron.set(post);
        for (const o of layer.observers) o.observe();
      } else {
        layer.step(pre, post);
      }
      rule.step();
      if ((k + 1) % c.every === 0) conn.update();
      kept.push(tf.reshape(tf.clone(conn.weight), [-1]));
    }
  } finally {
    detach();
    bound?.dispose();
    rule.dispose();
    layer.dispose();
  }
  return download(kept);
}

// ---------------------------------------------------------------------------------------------
// e-prop

interface EPropCase {
  n: number;
  B: number;
  T: number;
  nIn: number;
  nOut: number;
  surrogate: (typeof SURROGATE_NAMES)[number];
  loss: 'cross_entropy' | 'mean_squared_error';
  feedback: 'symmetric' | 'random';
  averageGradient: boolean;
  nLw: number;
  tRef: number;
  seed: number;
}

function epropCase(seed: number): EPropCase {
  const r = mulberry32(seed);
  const T = pick(r, [1, 7, 33, 70]);
  const loss = pick(r, ['cross_entropy', 'mean_squared_error'] as const);
  return {
    n: pick(r, [1, 3, 63, 65, 130]),
    B: pick(r, [1, 3, 5]),
    T,
    nIn: pick(r, [1, 4, 9]),
    nOut: pick(r, loss === 'cross_entropy' ? [2, 3, 5] : [1, 2, 5]),
    surrogate: pick(r, SURROGATE_NAMES),
    loss,
    feedback: pick(r, ['symmetric', 'random'] as const),
    averageGradient: r() < 0.5,
    nLw: Math.max(1, Math.min(T, pick(r, [1, 5, T]))),
    tRef: pick(r, [0, 2, 5]),
    seed,
  };
}

/** Losses of two iterations and the gradients of the second batch, with the given kernel. */
async function epropRun(c: EPropCase, kernel: EPropKernel) {
  const rng = new Rng(30 + c.seed);
  const recurrent = new EPropRecurrent({
    nIn: c.nIn,
    nLif: c.n - Math.floor(c.n / 2),
    nAlif: Math.floor(c.n / 2),
    rng,
    tRef: c.tRef,
    surrogate: c.surrogate,
    wIn: new Rng(8 + c.seed).normalArray(c.n * c.nIn, 0, 1.5),
  });
  const readout = new EPropReadout({ nRec: c.n, nOut: c.nOut, loss: c.loss, feedback: c.feedback, rng });
  const optimizer = new Adam({ learningRate: 1e-2 });
  const trainer = new EProp({ recurrent, readout, optimizer, learningWindow: c.nLw, cReg: 20, averageGradient: c.averageGradient, kernel });
  const r = mulberry32(3000 + c.seed);
  const loss: number[] = [];
  const grads: Float64Array[] = [];
  let rate = 0;
  try {
    for (let it = 0; it < 2; it++) {
      const x = Float32Array.from({ length: c.B * c.T * c.nIn }, () => (r() < 0.3 ? 1 : 0));
      const inputs = tf.tensor3d(x, [c.B, c.T, c.nIn]);
      const batch: EPropBatch =
        c.loss === 'cross_entropy'
          ? { inputs, labels: Array.from({ length: c.B }, () => Math.floor(r() * c.nOut)) }
          : { inputs, targets: Float64Array.from({ length: c.B * c.nLw * c.nOut }, () => 2 * r() - 1) };
      try {
        if (it === 1) {
          const g = await trainer.gradientsAsync(batch);
          grads.push(g.gradients.input, g.gradients.recurrent, g.gradients.readout);
        }
        const res = await trainer.stepAsync(batch);
        loss.push(res.loss);
        rate += res.rateHz;
      } finally {
        inputs.dispose();
      }
    }
    return { loss, grads, rate, kernel: trainer.kernel };
  } finally {
    trainer.dispose();
    recurrent.dispose();
    readout.dispose();
    optimizer.dispose();
  }
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(!gpu.ok)(`seeded randomized fused WGSL programs vs the cpu op path (${gpu.detail})`, () => {
  const was = setFusedKernels(true);
  afterAll(() => void setFusedKernels(was));

  for (let seed = 1; seed <= 16; seed++) {
    const c = neuronCase(seed);
    const name = `neurons, seed ${seed}: ${c.model}${c.model === 'ALIF' ? ` ${c.reduction} K = ${c.K}` : ''}, B = ${c.B}, N = ${c.N}, refracT ${c.refracT}${c.refracLock ? '' : ' unlocked'}, ${c.input} input${c.gapEvery ? ` (none every ${c.gapEvery})` : ''}, ${c.route}`;
    it(name, async () => {
      const { cpu, wg } = await both(() => neuronRun(c), { multi: c.route !== 'one program per state', tree: c.route === 'tree' });
      expect(worstRel(wg, cpu)).toBeLessThan(1e-6);
      const per = cpu.length / NEURON_STEPS;
      let spikes = 0;
      for (let k = 0; k < NEURON_STEPS; k++) for (let i = 0; i < c.B * c.N; i++) spikes += cpu[k * per + i]!;
      if (c.input !== 'bool' && c.B * c.N > 3) expect(spikes, 'the neurons fire').toBeGreaterThan(0);
    });
  }

  for (let seed = 1; seed <= 10; seed++) {
    const c = stdpCase(seed);
    const b = c.bound ? `${c.bound[0]} ${c.bound[1].side} μ ${c.bound[1].powerUpper}/${c.bound[1].powerLower}` : 'no bounding';
    const name = `STDP, seed ${seed}: B = ${c.B}, [${c.OUT} ← ${c.IN}], ${b}, clamp ${JSON.stringify(c.clamp)}, w0 ${c.w0.join('–')}, ${c.stdp.traceMode} ${c.stdp.batchReduction}, update every ${c.every}${c.maxDelay ? `, delays ≤ ${c.maxDelay}${c.stdp.delayed ? ' delay-aware' : ''}` : ''}${c.bool ? ', bool spikes' : ''}`;
    it(name, async () => {
      const { cpu, wg } = await both(() => stdpRun(c));
      expect(worstRel(wg, cpu)).toBeLessThan(1e-5); // batch sums in another order than the op path's product
      const last = cpu.slice(-c.OUT * c.IN);
      expect(last.some((v, i) => !(Math.abs(v - cpu[i]!) <= 1e-4)), 'the weights changed').toBe(true);
    });
  }

  for (let seed = 1; seed <= 8; seed++) {
    const c = epropCase(seed);
    const name = `e-prop, seed ${seed}: n = ${c.n}, B = ${c.B}, T = ${c.T}, nIn = ${c.nIn}, nOut = ${c.nOut}, ${c.surrogate}, ${c.loss}, ${c.feedback} feedback, window ${c.nLw}, tRef ${c.tRef}${c.averageGradient ? ', averaged' : ''}`;
    it(`${name}: the JS kernel's losses and gradients`, async () => {
      const js = await onBackend('webgpu', () => epropRun(c, 'js'));
      const wg = await onBackend('webgpu', () => epropRun(c, 'webgpu'));
      expect(wg.kernel).toBe('webgpu');
      for (let i = 0; i < 2; i++) expect(Math.abs(wg.loss[i]! - js.loss[i]!)).toBeLessThanOrEqual(1e-4 * Math.abs(js.loss[i]!) + 1e-7);
      for (let k = 0; k < 3; k++) expect(relMax(wg.grads[k]!, js.grads[k]!)).toBeLessThan(1e-4);
      expect(wg.rate).toBeCloseTo(js.rate, 6);
    });
  }

  // 65535·64 + 100 neurons: tfjs folds the one-program-per-state dispatch into rows, the
  // several-output dispatch takes a second row of workgroups itself.
  for (const multi of [true, false]) {
    it(`LIF with more neurons than one dispatch row holds (65535 workgroups of 64), ${multi ? 'one dispatch' : 'one program per state'}`, async () => {
      const N = 65535 * 64 + 100;
      const run = async () => {
        const n = new LIF([N], 0.5, { restV: -65, resetV: -70, threshV: -50, refracT: 1, tauM: 20 });
        const base = tf.tidy(() => tf.reshape(tf.mul(tf.mod(tf.range(0, N), 97), 20), [1, N])); // up to 1920: most fire
        for (let k = 0; k < 3; k++) tf.tidy(() => void n.forward(tf.add(base, 10 * Math.sin(k))));
        const out = await download([tf.concat([tf.reshape(n.voltage, [-1]), tf.reshape(n.refrac, [-1]), tf.reshape(n.spike, [-1])])]);
        base.dispose();
        n.dispose();
        return out;
      };
      const { cpu, wg } = await both(run, { multi });
      expect(worstRel(wg, cpu)).toBeLessThan(1e-6);
      expect(cpu.slice(2 * N).reduce((a, b) => a + b, 0), 'neurons past the first row fire').toBeGreaterThan(0);
      expect(cpu.slice(2 * N + 65535 * 64).some((v) => v === 1)).toBe(true);
    });
  }
});
