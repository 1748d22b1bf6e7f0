/* eslint-disable @typescript-eslint/no-explicit-any */
// The fuzz table: for every public constructor and method, each argument with an arbitrary that draws
// only INVALID values for it (the other arguments stay valid). A call must throw an Error whose
// message names the argument (`names`), quickly. Shared by the worker that runs the calls and the
// test that drives it, so both draw the same values from the same seed.
import fc from 'fast-check';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { ADEX_OPTION_KEYS, ALIF, AdEx, EIF, GLIF2, Izhikevich, LIF, LIF_OPTION_KEYS, QIF } from '../../src/neural/neurons/index.js';
import { CONNECTION_OPTION_KEYS, CONV2D_OPTION_KEYS, Conv2D, LinearDense, LinearDirect, constantInit } from '../../src/neural/connections/index.js';
import { DELTA_CURRENT_OPTION_KEYS, DeltaCurrent, DoubleExponentialCurrent, ExponentialConductance, SingleExponentialCurrent } from '../../src/neural/synapses/index.js';
import { Biclique, Serial } from '../../src/neural/layers/index.js';
import { ENCODER_OPTION_KEYS, HomogeneousPoissonEncoder, InhomogeneousPoissonEncoder, PoissonApproxEncoder, PoissonIntervalEncoder } from '../../src/neural/encoders/index.js';
import { Clamping, Normalization } from '../../src/neural/hooks/index.js';
import { CumulativeTraceReducer, EMAReducer, MATCH_TRACE_OPTION_KEYS, RECORDER_OPTION_KEYS, Recorder, StateMonitor } from '../../src/observe/index.js';
import { MSTDP, MSTDPET, STDP } from '../../src/learn/trainers/index.js';
import { ADAM_OPTION_KEYS, Adam, GradientDescent } from '../../src/learn/optimizers/index.js';
import { EProp, EPropReadout, EPropRecurrent } from '../../src/learn/eprop/index.js';
import { FiniteChecker } from '../../src/core/finite.js';
import { ExactNeuron } from '../../src/neural/neurons/index.js';
import { LinearLateral, MaskedLinear } from '../../src/neural/connections/index.js';
import { SpikeGenerator } from '../../src/neural/encoders/index.js';
import { Bounding } from '../../src/neural/bounding.js';
import { EventReducer } from '../../src/observe/index.js';
import { DelayAdjustedSTDP, KernelSTDP, LinearHomeostasis, TripletSTDP, expStdpPostKernel, expStdpPreKernel } from '../../src/learn/trainers/index.js';
import { MaxRateClassifier } from '../../src/learn/classifiers/index.js';
import { HEATMAP_OPTION_KEYS, RASTER_OPTION_KEYS, heatmapFigure, histogramFigure, learningCurves, panelFigure, spikeEventsFromMatrix, spikeRaster } from '../../src/viz/index.js';
import { NPZ_ENCODE_OPTION_KEYS, encodeNpz } from '../../src/io/npy.js';
import { postFiltered } from '../../src/neural/connections/post-filter.js';

/** One fuzzed argument of one call. */
export interface FuzzCase {
  /** `Class.method argument`, for reports. */
  id: string;
  /** Draws invalid values for the argument. */
  bad: fc.Arbitrary<unknown>;
  /** The message must match one of these (the argument's name, or its path). */
  names: RegExp;
  /** Runs the call with the bad value; resources it makes are handed to `keep` for disposal. */
  call: (bad: unknown, keep: (d: { dispose(): void }) => void) => unknown;
  /** Draws per property (the total over all cases is the suite's count). */
  runs?: number;
}

// ---- invalid values by kind --------------------------------------------------------------------

const notNumbers: unknown[] = ['1', null, {}, [], true, () => 1, [1]];
const nonFinite: unknown[] = [NaN, Infinity, -Infinity];
/** Not a finite number. */
export const badFinite = fc.constantFrom(...nonFinite, ...notNumbers, undefined);
/** Not a finite number > 0. */
export const badPositive = fc.oneof(fc.constantFrom(...nonFinite, ...notNumbers, 0, -0, -1e-300), fc.double({ max: -Number.MIN_VALUE, noNaN: true }));
/** Not a finite number >= 0. */
export const badNonNegative = fc.oneof(fc.constantFrom(...nonFinite, ...notNumbers, -1e-300), fc.double({ max: -Number.MIN_VALUE, noNaN: true }));
/** Missing (null or undefined): an optional option then takes its default. */
const missing = (x: unknown): boolean => x === null || x === undefined;
/** Not an integer >= 1 (nor absurdly large). */
export const badCount = fc.oneof(
  fc.constantFrom(0, -1, 1.5, ...nonFinite, ...notNumbers, 2 ** 40, 1e300),
  fc.integer({ max: 0 }),
  fc.double({ min: 0.01, max: 1e6, noNaN: true }).filter((x) => !Number.isInteger(x)),
);
/** Not a shape (non-empty array of positive integers of a sane total size). */
export const badShape = fc.oneof(
  fc.constantFrom([], [0], [-1], [1.5], [NaN], [Infinity], 'a', null, {}, [2, '3'], [1e9, 1e9], [2 ** 31], [65536, 65536]),
  fc.array(fc.integer({ max: 0 }), { minLength: 1, maxLength: 3 }),
);
/** Not an Rng. */
export const badRng = fc.constantFrom(undefined, null, 1, 'seed', {}, { uniform: () => 0.5 });
/** Not a seed (a finite number or a string). */
export const badSeed = fc.constantFrom(NaN, Infinity, -Infinity, null, {}, [], [1], true, { seed: 1 }, () => 1, Symbol('s'));
/** Not an options object. */
export const badOptions = fc.constantFrom(null, 5, 'x', true);
/** Not a float32 tensor of the expected shape [1, n]: plain arrays, wrong shapes, wrong types. */
export function badInput(n: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(null, undefined, 0, 'spikes', true, [[1, 0]], Array.from({ length: n }, () => 1), [Array.from({ length: n }, () => 1)], new Float32Array(n)),
    fc.integer({ min: 1, max: 4 }).chain((b) => fc.constant({ shape: [b + 1, n], make: true })),
    fc.constant({ shape: [1, n + 1], make: true }),
    fc.constant({ shape: [n], make: true }),
  );
}
/** Object inputs with unknown (misspelled) keys. */
export const misspelledKey = fc.constantFrom('curent', 'Current', 'input', 'conductance', 'spikes', 'x');

/** Turns `{shape, make}` placeholders into tensors (owned by `keep`). */
function materialise(v: unknown, keep: (d: { dispose(): void }) => void): unknown {
  if (v && typeof v === 'object' && 'make' in v) {
    const t = tf.zeros((v as unknown as { shape: number[] }).shape);
    keep(t);
    return t;
  }
  return v;
}

const P = { restV: -65, resetV: -65, threshV: -50, refracT: 2, tauM: 20 };
const EULER = { ...P, rheobaseV: -55, sharpness: 2 };
const ADAPT = { tauAdapt: 100, voltageCoupling: 0, adaptIncrement: 0 };

/** Builds a case for option `key` of `make(options)`. */
function opt(
  id: string,
  key: string,
  bad: fc.Arbitrary<unknown>,
  valid: object,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  make: (o: any) => unknown,
  names?: RegExp,
): FuzzCase {
  return {
    id: `${id} ${key}`,
    bad,
    names: names ?? new RegExp(`\\b${key}\\b`),
    call: (v, keep) => {
      const m = make({ ...valid, [key]: v });
      if (m && typeof (m as { dispose?: unknown }).dispose === 'function') keep(m as { dispose(): void });
    },
  };
}

function neuronCases(): FuzzCase[] {
  const out: FuzzCase[] = [];
  const models: [string, object, (o: any) => unknown][] = [
    ['LIF', P, (o: any) => new LIF([3], 1, o)],
    ['ALIF', { ...P, tauAdapt: 100, adaptIncrement: 1 }, (o: any) => new ALIF([3], 1, o)],
    ['GLIF2', { restV: -65, threshV: -50, refracT: 2, tauM: 20, rateAdapt: 0.1, resetVMul: 0.5, resetVAdd: -1, adaptIncrement: 1 }, (o: any) => new GLIF2([3], 1, o)],
    ['EIF', EULER, (o: any) => new EIF([3], 1, o)],
    ['QIF', { ...P, critV: -55, affinity: 0.1 }, (o: any) => new QIF([3], 1, o)],
    ['AdEx', { ...EULER, ...ADAPT }, (o: any) => new AdEx([3], 1, o)],
    ['Izhikevich', { ...P, critV: -55, affinity: 0.1, ...ADAPT }, (o: any) => new Izhikevich([3], 1, o)],
  ];
  for (const [name, valid, make] of models) {
    out.push(opt(name, 'tauM', badPositive, valid, make));
    out.push(opt(name, 'threshV', badFinite, valid, make));
    out.push(opt(name, 'restV', badFinite, valid, make));
    out.push(opt(name, 'refracT', badNonNegative, valid, make));
    out.push(opt(name, 'batchSize', badCount.filter((x) => !missing(x)), valid, make));
  }
  out.push(opt('LIF', 'resistance', badPositive.filter((x) => !missing(x)), P, (o) => new LIF([3], 1, o)));
  out.push(opt('LIF', 'receptors', fc.constantFrom(5, 'ampa', {}, [{ name: '' , reversal: 0 }], [{ name: 'a', reversal: NaN }], [{ name: 'a', reversal: 0 }, { name: 'a', reversal: 0 }]), P, (o) => new LIF([3], 1, o)));
  out.push(opt('AdEx', 'tauAdapt', fc.oneof(badPositive.filter((x) => !(Array.isArray(x) && x.length === 1 && x[0] === 1)), fc.constantFrom([], [1, -1], [NaN])), { ...EULER, ...ADAPT }, (o) => new AdEx([3], 1, o)));
  out.push({ id: 'LIF shape', bad: badShape, names: /\bshape\b/, call: (v, keep) => keep(new LIF(v as number[], 1, P)) });
  out.push({ id: 'LIF dt', bad: badPositive, names: /\bdt\b/, call: (v, keep) => keep(new LIF([3], v as number, P)) });
  out.push({ id: 'LIF options', bad: badOptions, names: /restV|options/, call: (v, keep) => keep(new LIF([3], 1, v as never)) });
  // threshV below restV / resetV blames the pair, naming threshV
  out.push(opt('LIF', 'threshV', fc.double({ min: -1e6, max: -65, noNaN: true }), P, (o) => new LIF([3], 1, o), /threshV/));
  const lif = (keep: (d: { dispose(): void }) => void) => {
    const n = new LIF([3], 1, P);
    keep(n);
    return n;
  };
  out.push({ id: 'LIF.forward input', bad: badInput(3), names: /\binput\b/, call: (v, keep) => lif(keep).forward(materialise(v, keep) as tf.Tensor) });
  out.push({
    id: 'LIF.forward misspelled key', bad: misspelledKey, names: /input key/,
    call: (k, keep) => {
      const x = tf.zeros([1, 3]);
      keep(x);
      lif(keep).forward({ [k as string]: x } as never);
    },
  });
  out.push({
    id: 'LIF.forward options', bad: fc.oneof(fc.constantFrom(null, 5, { refracLok: true }, { adapt: 'yes' }, { refracLock: 1 })), names: /options/,
    call: (o, keep) => {
      const x = tf.zeros([1, 3]);
      keep(x);
      lif(keep).forward(x, o as never);
    },
  });
  out.push({ id: 'LIF.batchSize =', bad: badCount, names: /batchSize/, call: (v, keep) => void (lif(keep).batchSize = v as number) });
  return out;
}

function connectionCases(): FuzzCase[] {
  const out: FuzzCase[] = [];
  out.push({ id: 'LinearDense inShape', bad: badShape, names: /inShape|weight|batchSize/, call: (v, keep) => keep(new LinearDense(v as number[], [2], 1)) });
  out.push({ id: 'LinearDense outShape', bad: badShape, names: /outShape|weight/, call: (v, keep) => keep(new LinearDense([2], v as number[], 1)) });
  out.push({ id: 'LinearDense dt', bad: badPositive, names: /\bdt\b/, call: (v, keep) => keep(new LinearDense([2], [2], v as number)) });
  out.push(opt('LinearDense', 'batchSize', badCount.filter((x) => !missing(x)), {}, (o) => new LinearDense([2], [2], 1, o)));
  out.push(opt('LinearDense', 'maxDelay', fc.oneof(badNonNegative.filter((x) => !missing(x)), fc.constantFrom(0.5, 1e12)), {}, (o) => new LinearDense([2], [2], 1, o)));
  out.push(opt('LinearDense', 'synapse', fc.constantFrom(5, 'delta', {}, () => 5, () => null, () => ({}), () => { throw new Error('factory bug'); }, (s: unknown) => new DeltaCurrent({ ...(s as object), shape: [7] } as never)), {}, (o) => new LinearDense([2], [2], 1, o)));
  out.push(opt('LinearDense', 'weightInit', fc.constantFrom(5, 'uniform', {}, () => 5, () => null), {}, (o) => new LinearDense([2], [2], 1, o)));
  out.push({ id: 'LinearDense options', bad: badOptions, names: /options/, call: (v, keep) => keep(new LinearDense([2], [2], 1, v as never)) });
  out.push({ id: 'LinearDirect shape', bad: badShape, names: /shape|inShape|outShape|weight|batchSize/, call: (v, keep) => keep(new LinearDirect(v as number[], 1)) });
  out.push({ id: 'Conv2D filters', bad: badCount, names: /filters/, call: (v, keep) => keep(new Conv2D([4, 4, 1], v as number, 3, 1)) });
  out.push({ id: 'Conv2D kernel', bad: fc.constantFrom(0, -1, 1.5, NaN, [3], [3, 0], 'x', null, 9), names: /kernel/, call: (v, keep) => keep(new Conv2D([4, 4, 1], 2, v as number, 1)) });
  out.push({ id: 'Conv2D inShape', bad: fc.oneof(badShape, fc.constantFrom([4, 4], [4, 4, 1, 1])), names: /inShape/, call: (v, keep) => keep(new Conv2D(v as number[], 2, 1, 1)) });
  out.push({
    id: 'LinearDense.forward spikes', bad: badInput(2), names: /spikes|input/,
    call: (v, keep) => {
      const c = new LinearDense([2], [2], 1);
      keep(c);
      c.forward(materialise(v, keep) as tf.Tensor);
    },
  });
  out.push({
    id: 'LinearDense.weight =', bad: fc.oneof(badInput(2).filter((x) => !(x && typeof x === 'object' && 'make' in x)), fc.constantFrom({ shape: [2, 3], make: true }, { shape: [3, 2], make: true }, { shape: [4], make: true })), names: /weight/,
    call: (v, keep) => {
      const c = new LinearDense([2], [2], 1);
      keep(c);
      c.weight = materialise(v, keep) as tf.Tensor;
    },
  });
  // synapse factories
  out.push(opt('DeltaCurrent.factory', 'charge', badFinite.filter((x) => !missing(x)), {}, (o) => new LinearDense([2], [2], 1, { synapse: DeltaCurrent.factory(o) })));
  out.push(opt('SingleExponentialCurrent.factory', 'tau', badPositive, { tau: 5 }, (o) => new LinearDense([2], [2], 1, { synapse: SingleExponentialCurrent.factory(o) })));
  out.push(opt('ExponentialConductance.factory', 'tau', badPositive, { tau: 5 }, (o) => new LinearDense([2], [2], 1, { synapse: ExponentialConductance.factory(o) })));
  out.push(opt('DoubleExponentialCurrent.factory', 'tauRise', badPositive, { tauRise: 1, tauDecay: 5 }, (o) => new LinearDense([2], [2], 1, { synapse: DoubleExponentialCurrent.factory(o as never) }), /tauRise|tauDecay/));
  return out;
}

function layerCases(): FuzzCase[] {
  const out: FuzzCase[] = [];
  const serial = (keep: (d: { dispose(): void }) => void) => {
    const s = new Serial(new LinearDense([2], [3], 1), new LIF([3], 1, P));
    keep(s);
    return s;
  };
  out.push({ id: 'Serial connection', bad: fc.constantFrom(null, {}, 5, new Rng(1)), names: /connection/, call: (v, keep) => keep(new Serial(v as never, new LIF([3], 1, P))) });
  out.push({
    id: 'Serial neuron', bad: fc.constantFrom(null, {}, 5, 'lif'), names: /neuron/,
    call: (v, keep) => {
      const c = new LinearDense([2], [3], 1);
      keep(c);
      keep(new Serial(c, v as never));
    },
  });
  out.push({ id: 'Serial.forward spikes', bad: badInput(2), names: /input|spikes/, call: (v, keep) => serial(keep).forward(materialise(v, keep) as tf.Tensor) });
  out.push({
    id: 'Biclique.forward inputs', bad: fc.oneof(fc.constantFrom(null, 5, [], {}, { b: 1 }), misspelledKey.map((k) => ({ [k]: { shape: [1, 2], make: true } }))), names: /inputs?/,
    call: (v, keep) => {
      const b = new Biclique({ connections: { a: new LinearDirect([2], 1) }, neurons: { n: new LIF([2], 1, P) } });
      keep(b);
      const o = v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, materialise(x, keep)])) : v;
      b.forward(o as never);
    },
  });
  out.push({ id: 'Layer.cell connection', bad: fc.constantFrom('nope', null, 5, {}), names: /connection/, call: (v, keep) => serial(keep).cell(v as never, 'neuron') });
  out.push({ id: 'Layer.cell neuron', bad: fc.constantFrom('nope', null, 5, {}), names: /neuron/, call: (v, keep) => serial(keep).cell('connection', v as never) });
  out.push({ id: 'Layer.attach observer', bad: fc.constantFrom(null, 5, {}, 'x'), names: /observer/, call: (v, keep) => serial(keep).attach(v as never) });
  return out;
}

function encoderCases(): FuzzCase[] {
  const out: FuzzCase[] = [];
  const valid = { steps: 10, dt: 1, frequency: 20, rng: new Rng(1) };
  for (const [name, make] of [
    ['PoissonApproxEncoder', (o: any) => new PoissonApproxEncoder(o)],
    ['HomogeneousPoissonEncoder', (o: any) => new HomogeneousPoissonEncoder(o)],
    ['PoissonIntervalEncoder', (o: any) => new PoissonIntervalEncoder(o)],
  ] as const) {
    out.push(opt(name, 'steps', badCount, valid, make));
    out.push(opt(name, 'dt', badPositive, valid, make));
    out.push(opt(name, 'frequency', fc.oneof(badPositive, fc.constantFrom(1e300, Number.MAX_VALUE)), valid, make, /frequency|refrac|rate/));
    out.push(opt(name, 'rng', badRng, valid, make));
    out.push({
      id: `${name}.encode inputs`, bad: fc.oneof(fc.constantFrom(null, 5, [[0.5]], 'x'), fc.constantFrom(-0.1, 1.5, NaN, Infinity).map((x) => ({ value: x }))), names: /inputs/,
      call: (v, keep) => {
        const e = make({ ...valid, rng: new Rng(1) });
        const t = v && typeof v === 'object' && 'value' in v ? tf.fill([1, 3], (v as { value: number }).value) : v;
        if (t instanceof tf.Tensor) keep(t);
        keep(e.encode(t as tf.Tensor));
      },
    });
    out.push({
      id: `${name}.stream chunk`, bad: badCount.filter((x) => !missing(x) && !(Number.isInteger(x) && (x as number) > 0)), names: /chunk/,
      call: (v, keep) => {
        const e = make({ ...valid, rng: new Rng(1) });
        const t = tf.fill([1, 3], 0.5);
        keep(t);
        keep(e.stream(t, { chunk: v as number }));
      },
    });
  }
  out.push({
    id: 'InhomogeneousPoissonEncoder.encodeFunction maxRate', bad: fc.oneof(badPositive, fc.constantFrom(1e12, 1e300)), names: /maxRate/,
    call: (v, keep) => keep(new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(1), method: 'exact' }).encodeFunction(() => 1, { steps: 100, shape: [1, 10], maxRate: v as number })),
  });
  out.push({
    id: 'InhomogeneousPoissonEncoder.encodeFunction steps', bad: badCount, names: /steps/,
    call: (v, keep) => keep(new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(1) }).encodeFunction(() => 1, { steps: v as number, shape: [1, 10] })),
  });
  out.push(opt('InhomogeneousPoissonEncoder', 'method', fc.constantFrom('poisson', '', 5, {}), { dt: 1, rng: new Rng(1) }, (o) => new InhomogeneousPoissonEncoder(o as never)));
  return out;
}

function observeCases(): FuzzCase[] {
  const out: FuzzCase[] = [];
  const acc = () => tf.zeros([1]);
  out.push(opt('Recorder', 'capacity', badCount, { capacity: 4 }, (o) => new Recorder(acc, o)));
  out.push(opt('Recorder', 'every', badCount.filter((x) => !missing(x) && !(Number.isInteger(x) && (x as number) > 0)), { capacity: 4 }, (o) => new Recorder(acc, o)));
  out.push({ id: 'Recorder accessor', bad: fc.constantFrom(null, 5, {}, tf.scalar(1)), names: /accessor/, call: (v, keep) => keep(new Recorder(v as never, { capacity: 2 })) });
  out.push({ id: 'StateMonitor reducer', bad: fc.constantFrom(null, undefined, 5, {}, 'ema', { fold: 1 }), names: /reducer/, call: (v, keep) => keep(new StateMonitor(acc, v as never)) });
  out.push({ id: 'StateMonitor accessor', bad: fc.constantFrom(null, 5, {}), names: /accessor/, call: (v, keep) => keep(new StateMonitor(v as never, new EMAReducer({ alpha: 0.5 }))) });
  out.push(opt('EMAReducer', 'alpha', fc.oneof(badFinite, fc.constantFrom(-0.1, 1.5)), { alpha: 0.5 }, (o) => new EMAReducer(o)));
  out.push(opt('CumulativeTraceReducer', 'tau', badPositive, { dt: 1, tau: 20 }, (o) => new CumulativeTraceReducer(o)));
  out.push(opt('CumulativeTraceReducer', 'dt', badPositive, { dt: 1, tau: 20 }, (o) => new CumulativeTraceReducer(o)));
  out.push(opt('CumulativeTraceReducer', 'amplitude', badFinite.filter((x) => !missing(x)), { dt: 1, tau: 20 }, (o) => new CumulativeTraceReducer(o)));
  out.push(opt('FiniteChecker', 'mode', fc.constantFrom('always', '', 5, null), {}, (o: { mode?: unknown }) => new FiniteChecker(o.mode as never), /checkFinite/));
  return out;
}

function hookCases(): FuzzCase[] {
  const out: FuzzCase[] = [];
  const target = (keep: (d: { dispose(): void }) => void) => {
    const c = new LinearDense([2], [2], 1, { weightInit: constantInit(0.5) });
    keep(c);
    return c.weightParameter;
  };
  out.push({ id: 'Clamping min', bad: badFinite.filter((x) => !missing(x)), names: /\bmin\b/, call: (v, keep) => keep(new Clamping(target(keep), { min: v as number, max: 1 })) });
  out.push({ id: 'Clamping max', bad: fc.oneof(badFinite.filter((x) => !missing(x)), fc.constantFrom(-1, -5)), names: /\bmax\b/, call: (v, keep) => keep(new Clamping(target(keep), { min: 0, max: v as number })) });
  out.push({ id: 'Clamping target', bad: fc.constantFrom(null, 5, {}, tf.scalar(1)), names: /target/, call: (v, keep) => keep(new Clamping(v as never, { min: 0 })) });
  out.push({ id: 'Normalization order', bad: fc.oneof(badPositive.filter((x) => !missing(x) && x !== Infinity)), names: /order/, call: (v, keep) => keep(new Normalization(target(keep), { order: v as number })) });
  out.push({ id: 'Normalization epsilon', bad: badPositive.filter((x) => !missing(x)), names: /epsilon/, call: (v, keep) => keep(new Normalization(target(keep), { epsilon: v as number })) });
  out.push({ id: 'Normalization dims', bad: fc.constantFrom(2, -3, 1.5, [], [0, 0], 'x', [NaN]), names: /dims/, call: (v, keep) => keep(new Normalization(target(keep), { dims: v as number })) });
  return out;
}

function learnCases(): FuzzCase[] {
  const out: FuzzCase[] = [];
  const pair = { lrPost: 1e-3, lrPre: -1e-3, tauPost: 20, tauPre: 20 };
  for (const [name, valid, make] of [
    ['STDP', pair, (o: any) => new STDP(o)],
    ['MSTDP', pair, (o: any) => new MSTDP(o)],
    ['MSTDPET', { ...pair, tauEligibility: 25 }, (o: any) => new MSTDPET(o)],
  ] as const) {
    out.push(opt(name, 'lrPost', badFinite, valid, make));
    out.push(opt(name, 'tauPre', badPositive, valid, make));
    out.push(opt(name, 'tauPost', badPositive, valid, make));
    out.push({
      id: `${name}.register cell`, bad: fc.constantFrom(null, 5, {}, { connection: 1 }), names: /cell/,
      call: (v, keep) => {
        const t = make(valid as any);
        keep(t);
        t.register(v as never);
      },
    });
  }
  out.push(opt('MSTDPET', 'tauEligibility', badPositive, { ...pair, tauEligibility: 25 }, (o) => new MSTDPET(o)));
  out.push({
    id: 'MSTDP.step reward', bad: fc.constantFrom(NaN, Infinity, -Infinity, 'x', {}, [1]), names: /reward/,
    call: (v, keep) => {
      const layer = new Serial(new LinearDense([2], [2], 1), new LIF([2], 1, P));
      keep(layer);
      const t = new MSTDP(pair);
      keep(t);
      t.register(layer.cell('connection', 'neuron'));
      tf.tidy(() => void layer.forward(tf.ones([1, 2])));
      t.step(v as never);
    },
  });
  for (const [name, make] of [
    ['Adam', (o: any) => new Adam(o)],
    ['GradientDescent', (o: any) => new GradientDescent(o)],
  ] as const) {
    out.push(opt(name, 'learningRate', badNonNegative.filter((x) => !missing(x)), {}, make));
    out.push({
      id: `${name}.learningRate =`, bad: badNonNegative, names: /learningRate/,
      call: (v, keep) => {
        const o = make({});
        keep(o);
        o.learningRate = v as number;
      },
    });
    out.push(opt(name, 'wMax', fc.constantFrom(NaN, -Infinity, -5), { wMin: 0 }, make, /wMax/));
  }
  out.push(opt('Adam', 'beta1', fc.oneof(badFinite.filter((x) => !missing(x)), fc.constantFrom(1, 1.5, -0.1)), {}, (o) => new Adam(o)));
  out.push(opt('Adam', 'epsilon', badPositive.filter((x) => !missing(x)), {}, (o) => new Adam(o)));
  const rec = { nIn: 2, nLif: 2, nAlif: 1, rng: new Rng(1) };
  out.push(opt('EPropRecurrent', 'nIn', badCount, rec, (o) => new EPropRecurrent(o)));
  out.push(opt('EPropRecurrent', 'nLif', badCount.filter((x) => x !== 0 && x !== undefined), rec, (o) => new EPropRecurrent(o), /nLif|nAlif|neurons/));
  out.push(opt('EPropRecurrent', 'tauM', badPositive.filter((x) => !missing(x)), rec, (o) => new EPropRecurrent(o)));
  out.push(opt('EPropRecurrent', 'rng', badRng.filter((x) => !missing(x)), rec, (o) => new EPropRecurrent(o)));
  out.push(opt('EPropReadout', 'nOut', badCount, { nRec: 3, nOut: 2, rng: new Rng(1) }, (o) => new EPropReadout(o)));
  out.push(opt('EPropReadout', 'loss', fc.constantFrom('mse', '', 5, {}), { nRec: 3, nOut: 2, rng: new Rng(1) }, (o) => new EPropReadout(o as never)));
  const epropParts = (keep: (d: { dispose(): void }) => void) => {
    const r = new EPropRecurrent({ nIn: 2, nLif: 2, nAlif: 1, rng: new Rng(1) });
    const o = new EPropReadout({ nRec: 3, nOut: 2, rng: new Rng(2) });
    keep(r);
    keep(o);
    return { recurrent: r, readout: o };
  };
  out.push({ id: 'EProp optimizer', bad: fc.constantFrom(undefined, null, 5, {}, { apply: 1 }), names: /optimizer/, call: (v, keep) => new EProp({ ...epropParts(keep), optimizer: v as never }) });
  out.push({ id: 'EProp recurrent', bad: fc.constantFrom(undefined, null, 5, {}), names: /recurrent/, call: (v, keep) => new EProp({ ...epropParts(keep), recurrent: v as never, optimizer: new GradientDescent() }) });
  out.push({ id: 'EProp learningWindow', bad: badCount.filter((x) => !missing(x) && !(Number.isInteger(x) && (x as number) > 0)), names: /learningWindow/, call: (v, keep) => new EProp({ ...epropParts(keep), optimizer: new GradientDescent(), learningWindow: v as number }) });
  out.push({
    id: 'EProp.step batch.inputs', bad: fc.oneof(fc.constantFrom(null, 5, [[0]]), fc.constantFrom({ shape: [1, 4, 3], make: true }, { shape: [1, 4], make: true }), fc.constantFrom(0.5, NaN, 2, -1).map((x) => ({ value: x }))), names: /batch\.inputs/,
    call: (v, keep) => {
      const t = new EProp({ ...epropParts(keep), optimizer: new GradientDescent(), kernel: 'js' });
      const x = v && typeof v === 'object' && 'value' in v ? tf.fill([1, 4, 2], (v as { value: number }).value) : materialise(v, keep);
      if (x instanceof tf.Tensor) keep(x);
      t.step({ inputs: x as tf.Tensor, labels: [0] });
    },
  });
  out.push({
    id: 'EProp.step batch.labels', bad: fc.constantFrom(null, [2], [-1], [0.5], [NaN], [0, 1], 'a'), names: /batch\.labels/,
    call: (v, keep) => {
      const t = new EProp({ ...epropParts(keep), optimizer: new GradientDescent(), kernel: 'js' });
      const x = tf.zeros([1, 4, 2]);
      keep(x);
      t.step({ inputs: x, labels: v as never });
    },
  });
  out.push({ id: 'Rng seed', bad: badSeed, names: /seed/, call: (v) => new Rng(v as never) });
  out.push({
    id: 'STDP.register duplicate (connection, neuron) pair', bad: fc.constantFrom('by name', 'by object'), names: /already registered/,
    call: (how, keep) => {
      const layer = new Serial(new LinearDense([2], [2], 1), new LIF([2], 1, P));
      keep(layer);
      const t = new STDP(pair);
      keep(t);
      t.register(layer.cell('connection', 'neuron'));
      t.register(how === 'by name' ? layer.cell('connection', 'neuron') : layer.cell(layer.connection, layer.neuron));
    },
  });
  return out;
}

/** More of the API: other trainers, classifiers, generators, bounds, figures. */
function moreCases(): FuzzCase[] {
  const out: FuzzCase[] = [];
  const triplet = { lrPostPair: 1e-3, lrPostTriplet: 1e-3, lrPrePair: -1e-3, lrPreTriplet: -1e-3, tauPostFast: 20, tauPostSlow: 100, tauPreFast: 20, tauPreSlow: 100 };
  out.push(opt('TripletSTDP', 'tauPostSlow', badPositive, triplet, (o) => new TripletSTDP(o)));
  out.push(opt('TripletSTDP', 'lrPrePair', badFinite, triplet, (o) => new TripletSTDP(o)));
  const delayed = { lrPos: 1e-3, lrNeg: -1e-3, tauPos: 20, tauNeg: 20 };
  out.push(opt('DelayAdjustedSTDP', 'tauNeg', badPositive, delayed, (o) => new DelayAdjustedSTDP(o)));
  out.push(opt('DelayAdjustedSTDP', 'lrPos', badFinite, delayed, (o) => new DelayAdjustedSTDP(o)));
  const kernels = { kernelPost: expStdpPostKernel(1e-3, 20), kernelPre: expStdpPreKernel(-1e-3, 20) };
  out.push(opt('KernelSTDP', 'kernelPost', fc.constantFrom(null, 5, 'exp', {}), kernels, (o) => new KernelSTDP(o)));
  out.push({ id: 'expStdpPostKernel tau', bad: badPositive, names: /\btau\b/, call: (v) => expStdpPostKernel(1e-3, v as number) });
  out.push(opt('LinearHomeostasis', 'plasticity', badFinite, { plasticity: 1e-3, target: 5 }, (o) => new LinearHomeostasis(o)));
  out.push(opt('LinearHomeostasis', 'parameter', fc.constantFrom('weights', '', 5, {}), { plasticity: 1e-3, target: 5 }, (o) => new LinearHomeostasis(o)));
  out.push({ id: 'MaxRateClassifier shape', bad: badShape, names: /shape/, call: (v, keep) => keep(new MaxRateClassifier(v as number[], 3)) });
  out.push({ id: 'MaxRateClassifier numClasses', bad: badCount, names: /numClasses/, call: (v, keep) => keep(new MaxRateClassifier([4], v as number)) });
  out.push(opt('MaxRateClassifier', 'decay', fc.oneof(badFinite.filter((x) => !missing(x)), fc.constantFrom(-0.5, -1e-9)), {}, (o) => new MaxRateClassifier([4], 3, o), /decay/));
  const gen = { steps: 10, dt: 1, times: [[1, 2], [3]] };
  out.push(opt('SpikeGenerator', 'times', fc.constantFrom(null, 5, [[NaN]], [[-1]], [[Infinity]], [[1], 'x'], 'a'), gen, (o) => new SpikeGenerator(o), /times/));
  out.push(opt('SpikeGenerator', 'steps', badCount, gen, (o) => new SpikeGenerator(o)));
  out.push({ id: 'Bounding kind', bad: fc.constantFrom('clip', '', 5, null), names: /kind/, call: (v) => new Bounding(v as never, { max: 1 }) });
  out.push({ id: 'Bounding max', bad: badFinite.filter((x) => !missing(x)), names: /\bmax\b/, call: (v) => new Bounding('hard', { max: v as number }) });
  out.push(opt('EventReducer', 'dt', badPositive, { dt: 1 }, (o) => new EventReducer(o)));
  out.push(opt('ExactNeuron', 'threshV', badFinite, { restV: -65, threshV: -50 }, (o) => new ExactNeuron([2], 1, o)));
  out.push({ id: 'LinearLateral shape', bad: badShape, names: /shape|inShape|outShape|weight|batchSize/, call: (v, keep) => keep(new LinearLateral(v as number[], 1)) });
  out.push(opt('MaskedLinear', 'mask', fc.constantFrom(null, 5, 'all', [[1]], [1, 0, 1]), {}, (o) => new MaskedLinear([2], [2], 1, o), /mask/));
  // figures
  out.push({ id: 'panelFigure panels', bad: fc.constantFrom(null, [], 5, 'p'), names: /panels/, call: (v) => panelFigure('t', v as never) });
  out.push({ id: 'panelFigure columns', bad: badCount.filter((x) => !missing(x) && !(Number.isInteger(x) && (x as number) > 0)), names: /columns/, call: (v) => panelFigure('t', [{ traces: [] }], { columns: v as number }) });
  out.push({ id: 'spikeEventsFromMatrix steps', bad: badCount, names: /steps|data/, call: (v) => spikeEventsFromMatrix([0, 1, 0, 1], v as number, 2) });
  out.push({ id: 'spikeRaster populations', bad: fc.constantFrom(null, 5, [{}], [{ times: [1], neurons: [] }]), names: /populations|times|neurons/, call: (v) => spikeRaster('r', v as never) });
  out.push({ id: 'heatmapFigure matrices', bad: fc.constantFrom(null, [], [{ name: 'a', data: [1, 2, 3], rows: 2, cols: 2 }], [{ name: 'a', data: [1], rows: 0, cols: 1 }]), names: /matri|rows|cols|data/, call: (v) => heatmapFigure('h', v as never) });
  out.push({ id: 'histogramFigure bins', bad: badCount.filter((x) => !missing(x)), names: /bins/, call: (v) => histogramFigure('h', [{ name: 'a', values: [1, 2, 3] }], { bins: v as number }) });
  out.push({ id: 'learningCurves panels', bad: fc.constantFrom(null, [], 5, [{ curves: [{ name: 'a', y: [1], x: [1, 2] }] }]), names: /panels|curves|x|y/, call: (v) => learningCurves('c', v as never) });
  return out;
}

/** Calls on modules after `dispose()`: the error names the module. */
function disposedCases(): FuzzCase[] {
  const uses: Record<string, () => void> = {
    'LIF.forward': () => {
      const n = new LIF([2], 1, P);
      n.dispose();
      tf.tidy(() => void n.forward(tf.zeros([1, 2])));
    },
    'LIF.voltage': () => {
      const n = new LIF([2], 1, P);
      n.dispose();
      void n.voltage;
    },
    'LinearDense.forward': () => {
      const c = new LinearDense([2], [2], 1);
      c.dispose();
      tf.tidy(() => void c.forward(tf.zeros([1, 2])));
    },
    'LinearDense.weight': () => {
      const c = new LinearDense([2], [2], 1);
      c.dispose();
      void c.weight;
    },
    'Serial.forward': () => {
      const l = new Serial(new LinearDense([2], [2], 1), new LIF([2], 1, P));
      l.dispose();
      tf.tidy(() => void l.forward(tf.zeros([1, 2])));
    },
    'Serial.clear': () => {
      const l = new Serial(new LinearDense([2], [2], 1), new LIF([2], 1, P));
      l.dispose();
      l.clear();
    },
  };
  return [{ id: 'use after dispose()', bad: fc.constantFrom(...Object.keys(uses)), names: /(LIF|LinearDense|DeltaCurrent) was used after dispose\(\)/, call: (k) => uses[k as string]!() }];
}

/** One unknown option key added to valid options: refused, naming it ("invalid options key"). */
function unknownKeyCases(): FuzzCase[] {
  const P2 = { restV: -65, resetV: -65, threshV: -50, refracT: 2, tauM: 20 };
  const ctors: [string, readonly string[], object, (o: any) => unknown][] = [
    ['LIF', LIF_OPTION_KEYS, P2, (o) => new LIF([3], 1, o)],
    ['AdEx', ADEX_OPTION_KEYS, { ...EULER, ...ADAPT }, (o) => new AdEx([3], 1, o)],
    ['LinearDense', CONNECTION_OPTION_KEYS, {}, (o) => new LinearDense([2], [2], 1, o)],
    ['Conv2D', CONV2D_OPTION_KEYS, {}, (o) => new Conv2D([4, 4, 1], 2, 3, 1, o)],
    ['PoissonApproxEncoder', ENCODER_OPTION_KEYS, { steps: 4, dt: 1, frequency: 20, rng: new Rng(1) }, (o) => new PoissonApproxEncoder(o)],
    ['Recorder', RECORDER_OPTION_KEYS, { capacity: 4 }, (o) => new Recorder(() => tf.zeros([1]), o)],
    ['CumulativeTraceReducer', MATCH_TRACE_OPTION_KEYS, { dt: 1, tau: 20 }, (o) => new CumulativeTraceReducer(o)],
    ['Adam', ADAM_OPTION_KEYS, {}, (o) => new Adam(o)],
    ['DeltaCurrent.factory', DELTA_CURRENT_OPTION_KEYS, {}, (o) => DeltaCurrent.factory(o)],
    ['postFiltered(LinearDense)', CONNECTION_OPTION_KEYS, {}, (o) => new (postFiltered(LinearDense))({ tau: 5 }, [2], [2], 1, o)],
    ['heatmapFigure', HEATMAP_OPTION_KEYS, { columns: 1 }, (o) => heatmapFigure('h', [{ name: 'w', data: [1, 2], rows: 1, cols: 2 }], o)],
    ['spikeRaster', RASTER_OPTION_KEYS, { markerSize: 2 }, (o) => spikeRaster('r', { times: [1], neurons: [0] }, o)],
    ['encodeNpz', NPZ_ENCODE_OPTION_KEYS, { zip64: 'auto' }, (o) => encodeNpz({ a: { data: new Float32Array([1]), shape: [1] } }, o)],
  ];
  return ctors.map(([name, keys, valid, make]) => ({
    id: `${name} unknown option key`,
    bad: fc.oneof(fc.constantFrom('resistence', 'weightinit', 'evry', 'chrage', 'frequncy', 'constructor', 'toString', 'x'), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/)).filter((k) => !keys.includes(k)),
    names: /invalid options key: got "[^"]*"/,
    call: (k, keep) => {
      const m = make({ ...valid, [k as string]: 1 });
      if (m && typeof (m as { dispose?: unknown }).dispose === 'function') keep(m as { dispose(): void });
    },
  }));
}

/** Every fuzz case, in a fixed order. */
export function allCases(): FuzzCase[] {
  return [...neuronCases(), ...connectionCases(), ...layerCases(), ...encoderCases(), ...observeCases(), ...hookCases(), ...learnCases(), ...moreCases(), ...disposedCases(), ...unknownKeyCases()];
}
