// Unknown option keys are errors (docs/concepts.md: "unknown option or input keys … are errors"): a
// misspelled option used to be ignored and its default used. Each public constructor / factory is
// built once with every documented key (all accepted) and once with one misspelled key (refused,
// naming the key, before any tensor is made).
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError, checkOptionKeys } from '../../src/core/errors.js';
import * as N from '../../src/neural/neurons/index.js';
import * as C from '../../src/neural/connections/index.js';
import * as S from '../../src/neural/synapses/index.js';
import { Rng } from '../../src/core/random.js';
import * as E from '../../src/neural/encoders/index.js';
import * as H from '../../src/neural/hooks/index.js';
import * as L from '../../src/neural/layers/index.js';
import * as Ob from '../../src/observe/index.js';
import * as Opt from '../../src/learn/optimizers/index.js';
import * as EP from '../../src/learn/eprop/index.js';
import { EXPONENTIAL_KERNEL_OPTION_KEYS, ExponentialKernel } from '../../src/learn/trainers/index.js';
import { PAIR_TRACE_OPTION_KEYS, PairTraces } from '../../src/learn/toolkit/pair-traces.js';
import { MAX_RATE_CLASSIFIER_OPTION_KEYS, MaxRateClassifier } from '../../src/learn/classifiers/index.js';
import { BOUNDING_OPTION_KEYS, Bounding } from '../../src/neural/bounding.js';
import { NETWORK_OPTION_KEYS, NETWORK_RUN_OPTION_KEYS, Network } from '../../src/network/index.js';
import * as V from '../../src/viz/index.js';
import { FIGURE_HTML_OPTION_KEYS, figureHtml, writeFigureHtml } from '../../src/viz/html.js';
import * as IO from '../../src/io/index.js';
import * as CLI from '../../src/cli/index.js';
import * as SW from '../../src/sweep/index.js';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `f`, returning what it threw (fails when it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('checkOptionKeys', () => {
  it('accepts known keys and non-objects, refuses an unknown key naming it', () => {
    expect(() => checkOptionKeys('options', { a: 1, bc: undefined }, ['a', 'bc'])).not.toThrow();
    expect(() => checkOptionKeys('options', undefined, ['a'])).not.toThrow();
    const e = thrown(() => checkOptionKeys('options', { a: 1, zz: 2 }, ['a', 'bc'])) as CinderArgumentError;
    expect(e).toBeInstanceOf(CinderArgumentError);
    expect(e.param).toBe('options key');
    expect(e.value).toBe('zz');
    expect(e.message).toBe('invalid options key: got "zz", expected one of "a", "bc"');
  });

  it('suggests the closest key within edit distance 2 (case-insensitive), none beyond', () => {
    const known = ['restV', 'resetV', 'resistance', 'tauM'];
    // "resistence" → "resistance": one substitution
    expect((thrown(() => checkOptionKeys('options', { resistence: 2 }, known)) as Error).message).toMatch(/; did you mean "resistance"\?$/);
    // "taum" → "tauM": case only (distance 0 ignoring case)
    expect((thrown(() => checkOptionKeys('options', { taum: 2 }, known)) as Error).message).toMatch(/did you mean "tauM"\?$/);
    // "rstV" → "restV": one deletion (also distance 2 from "resetV": the nearer wins)
    expect((thrown(() => checkOptionKeys('options', { rstV: 2 }, known)) as Error).message).toMatch(/did you mean "restV"\?$/);
    // "resistXXXX" is 4 edits from "resistance": no suggestion
    expect((thrown(() => checkOptionKeys('options', { resistXXXX: 2 }, known)) as Error).message).not.toMatch(/did you mean/);
  });
});

/** One public constructor or factory taking an options object. */
interface KeyCase {
  /** Class (and method) name. */
  name: string;
  /** Its declared option keys. */
  keys: readonly string[];
  /** Valid options using every declared key. */
  full: Record<string, unknown>;
  /** Builds with these options (returns something to dispose, or nothing) from the prepared parts. */
  make: (options: Record<string, unknown>, parts: readonly { dispose(): void }[]) => unknown;
  /** Builds parts the call takes (freed after the test; a built object owns them). */
  prepare?: () => { dispose(): void }[];
  /** A misspelling of one of its keys, and the key it should suggest. */
  typo: [string, string];
  /** The error's param (default "options key"). */
  param?: string;
}

const cases: KeyCase[] = [];

function dispose(x: unknown): void {
  if (x && typeof (x as { dispose?: unknown }).dispose === 'function') (x as { dispose(): void }).dispose();
}

function runTable(): void {
  it.each(cases.map((c) => [c.name, c] as const))('%s: accepts every declared key, refuses a misspelled one before making tensors', (_, c) => {
    // the full options name every declared key and nothing else
    expect(Object.keys(c.full).sort()).toEqual([...new Set(c.keys)].sort());
    dispose(c.make({ ...c.full }, c.prepare?.() ?? []));
    const [typo, near] = c.typo;
    const { [near]: _dropped, ...rest } = c.full;
    const parts = c.prepare?.() ?? [];
    const before = tf.memory().numTensors;
    const e = thrown(() => c.make({ ...rest, [typo]: c.full[near] ?? 1 }, parts)) as CinderArgumentError;
    const after = tf.memory().numTensors;
    for (const p of parts) p.dispose();
    expect(e).toBeInstanceOf(CinderArgumentError);
    expect(e.param).toBe(c.param ?? 'options key');
    expect(e.value).toBe(typo);
    expect(e.message).toContain(`did you mean "${near}"?`);
    expect(after).toBe(before);
  });
}

// ---- neurons ------------------------------------------------------------------------------------

const GROUP = { batchSize: 2, receptors: [{ name: 'AMPA', reversal: 0 }], refracCount: 'steps' };
const LIFP = { ...GROUP, restV: -65, resetV: -65, threshV: -50, refracT: 2, tauM: 20, resistance: 1.5 };
const ACURRENT = { tauAdapt: [100, 50], voltageCoupling: 0.1, adaptIncrement: 0.5, batchReduction: 'max' };
const ATHRESH = { ...GROUP, restV: -65, threshV: -50, refracT: 2, tauM: 20, adaptIncrement: 1, resistance: 1.5, batchReduction: 'max' };
cases.push(
  { name: 'LIF', keys: N.LIF_OPTION_KEYS, full: LIFP, make: (o) => new N.LIF([3], 1, o as never), typo: ['resistence', 'resistance'] },
  { name: 'QIF', keys: N.QIF_OPTION_KEYS, full: { ...LIFP, critV: -55, affinity: 0.1 }, make: (o) => new N.QIF([3], 1, o as never), typo: ['afinity', 'affinity'] },
  { name: 'EIF', keys: N.EIF_OPTION_KEYS, full: { ...LIFP, rheobaseV: -55, sharpness: 2 }, make: (o) => new N.EIF([3], 1, o as never), typo: ['sharpnes', 'sharpness'] },
  { name: 'AdEx', keys: N.ADEX_OPTION_KEYS, full: { ...LIFP, rheobaseV: -55, sharpness: 2, ...ACURRENT }, make: (o) => new N.AdEx([3], 1, o as never), typo: ['voltageCoupeling', 'voltageCoupling'] },
  { name: 'Izhikevich', keys: N.IZHIKEVICH_OPTION_KEYS, full: { ...LIFP, critV: -55, affinity: 0.1, ...ACURRENT }, make: (o) => new N.Izhikevich([3], 1, o as never), typo: ['batchReductoin', 'batchReduction'] },
  { name: 'ALIF', keys: N.ALIF_OPTION_KEYS, full: { ...ATHRESH, resetV: -65, tauAdapt: [100, 50] }, make: (o) => new N.ALIF([3], 1, o as never), typo: ['tau_adapt', 'tauAdapt'] },
  { name: 'GLIF2', keys: N.GLIF2_OPTION_KEYS, full: { ...ATHRESH, resetVMul: 0.5, resetVAdd: 1, rateAdapt: 0.1 }, make: (o) => new N.GLIF2([3], 1, o as never), typo: ['resetVmul', 'resetVMul'] },
  { name: 'ExactNeuron', keys: N.EXACT_NEURON_OPTION_KEYS, full: { restV: -65, threshV: -50, batchSize: 2 }, make: (o) => new N.ExactNeuron([3], 1, o as never), typo: ['threshv', 'threshV'] },
);

// ---- connections --------------------------------------------------------------------------------

const CONN = {
  synapse: S.DeltaCurrent.factory(),
  bias: true,
  maxDelay: 2,
  batchSize: 2,
  weightInit: C.constantInit(0.5),
  biasInit: C.constantInit(0.1),
  delayInit: C.constantInit(1),
  delayInterp: 'nearest',
  delayTolerance: 0.01,
  rng: new Rng(1),
};
const { maxDelay: _m, delayInit: _d, delayInterp: _i, delayTolerance: _t, ...CONN_NO_DELAY } = CONN;
cases.push(
  { name: 'LinearDense', keys: C.CONNECTION_OPTION_KEYS, full: CONN, make: (o) => new C.LinearDense([5], [3], 1, o), typo: ['weightinit', 'weightInit'] },
  { name: 'LinearDirect', keys: C.CONNECTION_OPTION_KEYS, full: CONN, make: (o) => new C.LinearDirect([3], 1, o), typo: ['biass', 'bias'] },
  { name: 'LinearLateral', keys: C.CONNECTION_OPTION_KEYS, full: CONN, make: (o) => new C.LinearLateral([3], 1, o), typo: ['maxdelay', 'maxDelay'] },
  {
    name: 'MaskedLinear',
    keys: C.MASKED_LINEAR_OPTION_KEYS,
    full: { ...CONN, mask: { edges: [[0, 1]] } },
    make: (o) => new C.MaskedLinear([2], [2], 1, o as never),
    typo: ['delayinterp', 'delayInterp'],
  },
  {
    name: 'Conv2D',
    keys: C.CONV2D_OPTION_KEYS,
    // Conv2D refuses delays, so its delay options take their defaults
    full: { ...CONN_NO_DELAY, maxDelay: 0, delayInterp: 'previous', delayTolerance: 0.001, stride: 1, padding: 'same', dilation: 1, delayInit: undefined },
    make: (o) => new C.Conv2D([4, 4, 1], 2, 3, 1, o as never),
    typo: ['strides', 'stride'],
  },
  {
    name: 'SparseLinear',
    keys: C.SPARSE_LINEAR_OPTION_KEYS,
    full: { ...CONN, synapses: C.synapseList(2, 3, [[0, 0], [1, 2]]), denseLimit: 10 },
    make: (o) => new C.SparseLinear([2], [3], 1, o as never),
    typo: ['denselimit', 'denseLimit'],
  },
  { name: 'radiusMask', keys: C.RADIUS_MASK_OPTION_KEYS, full: { self: false }, make: (o) => C.radiusMask([2, 2], [2, 2], 1, o), typo: ['sef', 'self'] },
  { name: 'gaussianMask', keys: C.GAUSSIAN_MASK_OPTION_KEYS, full: { peak: 0.5, cutoff: 2, self: false }, make: (o) => C.gaussianMask([2, 2], [2, 2], 1, new Rng(0), o), typo: ['cutof', 'cutoff'] },
  {
    name: 'topographicSynapses',
    keys: C.TOPOGRAPHIC_OPTION_KEYS,
    full: { fixed: 'in', degree: 2, topo: 0.5, sigma: 1, fallback: 'uniform', fallbackP: 0.1 },
    make: (o) => C.topographicSynapses(4, 4, o as never, new Rng(0)),
    typo: ['degre', 'degree'],
  },
  { name: 'randomSynapses', keys: C.RANDOM_SYNAPSES_OPTION_KEYS, full: { self: false, method: 'jumps' }, make: (o) => C.randomSynapses(3, 3, 0.5, new Rng(0), o), typo: ['Self', 'self'] },
);

// ---- postsynaptic filters (the filter's keys; a post-filtered class checks its base's keys) ----------

const PF_DENSE = C.postFiltered(C.LinearDense);
const PF_CONV = C.postFiltered(C.Conv2D);
cases.push(
  { name: 'postFiltered(LinearDense) filter', keys: C.POST_FILTER_OPTION_KEYS, full: { tau: 5 }, make: (o) => new PF_DENSE(o as never, [2], [3], 1), typo: ['taus', 'tau'], param: 'filter key' },
  { name: 'PostsynapticFilter', keys: C.POST_FILTER_OPTION_KEYS, full: { tau: 5 }, make: (o) => new C.PostsynapticFilter([3], 1, 'current', o as never), typo: ['Tau', 'tau'], param: 'filter key' },
  {
    name: 'postFiltered(LinearDense) connection options',
    keys: C.CONNECTION_OPTION_KEYS,
    full: { ...CONN, bias: false },
    make: (o) => new PF_DENSE({ tau: 5 }, [5], [3], 1, o as never),
    typo: ['weightInt', 'weightInit'],
  },
  {
    name: 'postFiltered(Conv2D) connection options',
    keys: C.CONV2D_OPTION_KEYS,
    full: { ...CONN_NO_DELAY, bias: false, maxDelay: 0, delayInterp: 'previous', delayTolerance: 0.001, stride: 1, padding: 'same', dilation: 1, delayInit: undefined },
    make: (o) => new PF_CONV({ tau: 5 }, [4, 4, 1], 2, 3, 1, o as never),
    typo: ['dilations', 'dilation'],
  },
);

// ---- synapses (factories validate now; the constructors run the same check) ----------------------

/** Builds a connection over the synapse the factory makes (so the constructor's check runs too). */
const viaConnection = (f: unknown) => new C.LinearDense([2], [2], 1, { synapse: f as never });
cases.push(
  { name: 'DeltaCurrent.factory', keys: S.DELTA_CURRENT_OPTION_KEYS, full: { charge: 2 }, make: (o) => viaConnection(S.DeltaCurrent.factory(o)), typo: ['chrage', 'charge'] },
  { name: 'DeltaPlusCurrent.factory', keys: S.DELTA_CURRENT_OPTION_KEYS, full: { charge: 2 }, make: (o) => viaConnection(S.DeltaPlusCurrent.factory(o)), typo: ['Charge', 'charge'] },
  { name: 'DeltaConductance.factory', keys: S.DELTA_CONDUCTANCE_OPTION_KEYS, full: { increment: 2 }, make: (o) => viaConnection(S.DeltaConductance.factory(o)), typo: ['incremnt', 'increment'] },
  {
    name: 'SingleExponentialCurrent.factory',
    keys: S.SINGLE_EXPONENTIAL_CURRENT_OPTION_KEYS,
    full: { tau: 5, charge: 2 },
    make: (o) => viaConnection(S.SingleExponentialCurrent.factory(o as never)),
    typo: ['taus', 'tau'],
  },
  {
    name: 'ExponentialConductance.factory',
    keys: S.EXPONENTIAL_CONDUCTANCE_OPTION_KEYS,
    full: { tau: 5, increment: 2 },
    make: (o) => viaConnection(S.ExponentialConductance.factory(o as never)),
    typo: ['increments', 'increment'],
  },
  {
    name: 'DoubleExponentialCurrent.factory',
    keys: S.DOUBLE_EXPONENTIAL_CURRENT_OPTION_KEYS,
    full: { tauDecay: 5, tauRise: 1, charge: 2 },
    make: (o) => viaConnection(S.DoubleExponentialCurrent.factory(o as never)),
    typo: ['tauRaise', 'tauRise'],
  },
  {
    name: 'DoubleExponentialConductance.factory',
    keys: S.DOUBLE_EXPONENTIAL_CONDUCTANCE_OPTION_KEYS,
    full: { tauDecay: 5, tauRise: 1, increment: 2 },
    make: (o) => viaConnection(S.DoubleExponentialConductance.factory(o as never)),
    typo: ['taudecay', 'tauDecay'],
  },
);

describe('synapse amount of the other kind', () => {
  it('a current refuses increment, a conductance refuses charge (they were ignored: amount 1)', () => {
    for (const f of [() => S.SingleExponentialCurrent.factory({ tau: 5, increment: 2 } as never), () => S.DoubleExponentialCurrent.factory({ tauDecay: 5, tauRise: 1, increment: 2 } as never)]) {
      expect((thrown(f) as CinderArgumentError).value).toBe('increment');
    }
    for (const f of [() => S.ExponentialConductance.factory({ tau: 5, charge: 2 } as never), () => S.DoubleExponentialConductance.factory({ tauDecay: 5, tauRise: 1, charge: 2 } as never)]) {
      expect((thrown(f) as CinderArgumentError).value).toBe('charge');
    }
  });
});

// ---- encoders -----------------------------------------------------------------------------------

const ENC = { steps: 4, dt: 1, frequency: 100, rng: new Rng(0) };
const rates = (): tf.Tensor => tf.tensor2d([[0.5, 1]]);
/** Encodes with the encoder built from `o` (the input tensor and result are freed). */
const encodeWith = (enc: { encode(x: tf.Tensor): tf.Tensor }) => {
  const x = rates();
  enc.encode(x).dispose();
  x.dispose();
};
cases.push(
  { name: 'PoissonApproxEncoder', keys: E.ENCODER_OPTION_KEYS, full: ENC, make: (o) => encodeWith(new E.PoissonApproxEncoder(o as never)), typo: ['frequncy', 'frequency'] },
  { name: 'PoissonIntervalEncoder', keys: E.ENCODER_OPTION_KEYS, full: ENC, make: (o) => encodeWith(new E.PoissonIntervalEncoder(o as never)), typo: ['step', 'steps'] },
  {
    name: 'HomogeneousPoissonEncoder',
    keys: E.HOMOGENEOUS_POISSON_OPTION_KEYS,
    full: { ...ENC, refrac: 1, compensate: false, start: 'event' },
    make: (o) => encodeWith(new E.HomogeneousPoissonEncoder(o as never)),
    typo: ['refract', 'refrac'],
  },
  {
    name: 'InhomogeneousPoissonEncoder',
    keys: E.INHOMOGENEOUS_POISSON_OPTION_KEYS,
    full: { dt: 1, rng: new Rng(0), method: 'exact' },
    make: (o) => new E.InhomogeneousPoissonEncoder(o as never),
    typo: ['methd', 'method'],
  },
  {
    name: 'InhomogeneousPoissonEncoder.streamFunction',
    keys: E.RATE_FUNCTION_OPTION_KEYS,
    full: { steps: 3, shape: [1, 2], maxRate: 100, chunk: 2 },
    make: (o) => new E.InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(0), method: 'exact' }).streamFunction(() => 50, o as never).dispose(),
    typo: ['maxrate', 'maxRate'],
  },
  {
    name: 'Encoder.stream',
    keys: E.STREAM_OPTION_KEYS,
    full: { chunk: 2 },
    make: (o) => {
      const x = rates();
      try {
        new E.PoissonApproxEncoder(ENC).stream(x, o).dispose();
      } finally {
        x.dispose();
      }
    },
    typo: ['chunks', 'chunk'],
  },
  {
    name: 'SpikeGenerator.stream',
    keys: E.STREAM_OPTION_KEYS,
    full: { chunk: 2 },
    make: (o) => new E.SpikeGenerator({ steps: 3, dt: 1, times: [[0], [1]] }).stream(o).dispose(),
    typo: ['chunks', 'chunk'],
  },
  { name: 'SpikeGenerator', keys: E.SPIKE_GENERATOR_OPTION_KEYS, full: { steps: 3, dt: 1, times: [[0], [1]], shape: [1, 2] }, make: (o) => new E.SpikeGenerator(o as never), typo: ['time', 'times'] },
);

// ---- hooks --------------------------------------------------------------------------------------

/** Builds a hook on a fresh connection's weight; frees both. */
function onWeight(make: (target: H.HookTarget) => { dispose(): void }): void {
  const conn = new C.LinearDense([2], [2], 1);
  try {
    make(conn.weightParameter).dispose();
  } finally {
    conn.dispose();
  }
}
cases.push(
  { name: 'Clamping', keys: H.CLAMPING_OPTION_KEYS, full: { trainOnly: true, min: 0, max: 1 }, make: (o) => onWeight((t) => new H.Clamping(t, o)), typo: ['mx', 'max'] },
  {
    name: 'Normalization',
    keys: H.NORMALIZATION_OPTION_KEYS,
    full: { trainOnly: true, order: 1, scale: 2, dims: 1, epsilon: 1e-6 },
    make: (o) => onWeight((t) => new H.Normalization(t, o)),
    typo: ['trainonly', 'trainOnly'],
  },
);

// ---- layers (the parts are built before the tensor count is taken) -------------------------------

const LIF0 = { restV: -65, resetV: -65, threshV: -50, refracT: 2, tauM: 20, receptors: [{ name: 'AMPA', reversal: 0 }] };
const gconn = (i: number[], o: number[]) => new C.LinearDense(i, o, 1, { synapse: S.DeltaConductance.factory() });
const lif3 = () => new N.LIF([3], 1, LIF0);
cases.push(
  {
    name: 'Serial',
    keys: L.SERIAL_OPTION_KEYS,
    full: { receptor: 'AMPA', transform: undefined },
    typo: ['receptors', 'receptor'],
    prepare: () => [gconn([2], [3]), lif3()],
    make: (o, [c, n]) => new L.Serial(c as C.Connection, n as N.LIF, o),
  },
  {
    name: 'RecurrentLayer',
    keys: L.RECURRENT_LAYER_OPTION_KEYS,
    full: { feedforwardReceptor: 'AMPA', recurrentReceptor: 'AMPA' },
    typo: ['recurentReceptor', 'recurrentReceptor'],
    prepare: () => [gconn([2], [3]), gconn([3], [3]), lif3()],
    make: (o, [f, r, n]) => new L.RecurrentLayer(f as C.Connection, r as C.Connection, n as N.LIF, o),
  },
  {
    name: 'Biclique',
    keys: L.BICLIQUE_OPTION_KEYS,
    full: { connections: {}, neurons: {}, combine: 'sum' },
    typo: ['neuron', 'neurons'],
    prepare: () => [new C.LinearDense([2], [3], 1), lif3()],
    make: (o, [c, n]) => new L.Biclique({ ...o, connections: { a: c }, neurons: { n } } as never),
  },
  {
    name: 'Biclique connection spec',
    keys: L.BICLIQUE_CONNECTION_KEYS,
    full: { connection: undefined, input: 'x', receptor: 'AMPA' },
    typo: ['receptr', 'receptor'],
    param: 'connections.a key',
    prepare: () => [gconn([2], [3]), lif3()],
    make: (o, [c, n]) => new L.Biclique({ connections: { a: { ...o, connection: c } }, neurons: { n } } as never),
  },
);

// ---- observe: reducers, monitors, recorders, criteria ---------------------------------------------

const fold = (r: Ob.Reducer<[tf.Tensor]>): void => {
  const x = tf.tensor1d([1, 0]);
  r.fold(x);
  x.dispose();
  r.dispose();
};
const fold2 = (r: Ob.Reducer<[tf.Tensor, tf.Tensor]>): void => {
  const x = tf.tensor1d([1, 0]);
  r.fold(x, x);
  x.dispose();
  r.dispose();
};
const TRACE = { history: 2, dt: 1, tau: 5, amplitude: 0.5 };
const crit = { target: 1, tolerance: 0 };
cases.push(
  { name: 'CAReducer', keys: Ob.REDUCER_OPTION_KEYS, full: { history: 2 }, make: (o) => fold(new Ob.CAReducer(o)), typo: ['histroy', 'history'] },
  { name: 'PassthroughReducer', keys: Ob.REDUCER_OPTION_KEYS, full: { history: 2 }, make: (o) => fold(new Ob.PassthroughReducer(o)), typo: ['History', 'history'] },
  { name: 'FoldFunctionReducer', keys: Ob.REDUCER_OPTION_KEYS, full: { history: 2 }, make: (o) => fold(new Ob.FoldFunctionReducer(([x]) => tf.clone(x), o)), typo: ['histor', 'history'] },
  { name: 'EMAReducer', keys: Ob.EMA_REDUCER_OPTION_KEYS, full: { history: 2, alpha: 0.5 }, make: (o) => fold(new Ob.EMAReducer(o as never)), typo: ['alfa', 'alpha'] },
  { name: 'EventReducer', keys: Ob.EVENT_REDUCER_OPTION_KEYS, full: { history: 2, dt: 1, criterion: crit, initial: 'zero' }, make: (o) => fold(new Ob.EventReducer(o as never)), typo: ['inital', 'initial'] },
  { name: 'CumulativeTraceReducer', keys: Ob.MATCH_TRACE_OPTION_KEYS, full: { ...TRACE, criterion: crit }, make: (o) => fold(new Ob.CumulativeTraceReducer(o as never)), typo: ['amplitud', 'amplitude'] },
  { name: 'NearestTraceReducer', keys: Ob.MATCH_TRACE_OPTION_KEYS, full: { ...TRACE, criterion: crit }, make: (o) => fold(new Ob.NearestTraceReducer(o as never)), typo: ['criteria', 'criterion'] },
  { name: 'ScaledCumulativeTraceReducer', keys: Ob.SCALED_TRACE_OPTION_KEYS, full: { ...TRACE, scale: 2, criterion: crit }, make: (o) => fold(new Ob.ScaledCumulativeTraceReducer(o as never)), typo: ['scal', 'scale'] },
  { name: 'ScaledNearestTraceReducer', keys: Ob.SCALED_TRACE_OPTION_KEYS, full: { ...TRACE, scale: 2, criterion: crit }, make: (o) => fold(new Ob.ScaledNearestTraceReducer(o as never)), typo: ['taus', 'tau'] },
  { name: 'ConditionalCumulativeTraceReducer', keys: Ob.CONDITIONAL_TRACE_OPTION_KEYS, full: { ...TRACE, scale: 2, criterion: crit }, make: (o) => fold2(new Ob.ConditionalCumulativeTraceReducer(o as never)), typo: ['dT', 'dt'] },
  { name: 'ConditionalNearestTraceReducer', keys: Ob.CONDITIONAL_TRACE_OPTION_KEYS, full: { ...TRACE, scale: 2, criterion: crit }, make: (o) => fold2(new Ob.ConditionalNearestTraceReducer(o as never)), typo: ['scales', 'scale'] },
  {
    name: 'ExponentialTraceReducer',
    keys: Ob.SCALED_TRACE_OPTION_KEYS,
    full: { ...TRACE, scale: 2, criterion: crit },
    make: (o) => fold(new Ob.ExponentialTraceReducer<[tf.Tensor]>(o as never, 'cumulative', 'scaled')),
    typo: ['Scale', 'scale'],
  },
  { name: 'criterion { target, tolerance }', keys: Ob.TARGET_CRITERION_KEYS, full: crit, make: (o) => fold(new Ob.EventReducer({ dt: 1, criterion: o as never })), typo: ['tolerence', 'tolerance'], param: 'criterion key' },
  { name: 'Recorder', keys: Ob.RECORDER_OPTION_KEYS, full: { capacity: 3, every: 2, trainOnly: true }, make: (o) => new Ob.Recorder(() => tf.zeros([2]), o as never), typo: ['evry', 'every'] },
  {
    name: 'StateMonitor',
    keys: Ob.OBSERVE_OPTION_KEYS,
    full: { every: 2, trainOnly: false },
    prepare: () => [new Ob.PassthroughReducer()],
    make: (o, [r]) => new Ob.StateMonitor(() => tf.zeros([2]), r as Ob.PassthroughReducer, o),
    typo: ['trainonly', 'trainOnly'],
  },
  {
    name: 'MultiStateMonitor',
    keys: Ob.OBSERVE_OPTION_KEYS,
    full: { every: 2, trainOnly: false },
    prepare: () => [new Ob.PassthroughReducer()],
    make: (o, [r]) => new Ob.MultiStateMonitor([() => tf.zeros([2])], r as Ob.PassthroughReducer, o),
    typo: ['every_', 'every'],
  },
  {
    name: 'SpikeRecorder',
    keys: Ob.SPIKE_RECORDER_OPTION_KEYS,
    full: { chunkSteps: 4, trainOnly: false, neurons: [1], onChunk: () => undefined, maxPendingBytes: 2 ** 28 },
    make: (o) => new Ob.SpikeRecorder(() => tf.zeros([1, 2]), o as never),
    typo: ['chunksteps', 'chunkSteps'],
  },
);

// ---- optimizers, bounding, classifier, e-prop, network ---------------------------------------------

const rec = (o: Record<string, unknown>) => new EP.EPropRecurrent(o as never);
const ro = (o: Record<string, unknown>) => new EP.EPropReadout(o as never);
cases.push(
  { name: 'GradientDescent', keys: Opt.GRADIENT_DESCENT_OPTION_KEYS, full: { learningRate: 0.1, wMin: 0, wMax: 1 }, make: (o) => new Opt.GradientDescent(o), typo: ['learningrate', 'learningRate'] },
  { name: 'Adam', keys: Opt.ADAM_OPTION_KEYS, full: { learningRate: 0.1, wMin: 0, wMax: 1, beta1: 0.8, beta2: 0.99, epsilon: 1e-8 }, make: (o) => new Opt.Adam(o), typo: ['beta_1', 'beta1'] },
  { name: 'Bounding', keys: BOUNDING_OPTION_KEYS, full: { max: 1, min: 0, side: 'full', powerUpper: 2, powerLower: 2, power: 1 }, make: (o) => new Bounding('power', o).dispose(), typo: ['maxi', 'max'] },
  { name: 'MaxRateClassifier', keys: MAX_RATE_CLASSIFIER_OPTION_KEYS, full: { decay: 0.1, proportional: true }, make: (o) => new MaxRateClassifier([3], 2, o), typo: ['proportionnal', 'proportional'] },
  {
    name: 'EPropRecurrent',
    keys: EP.EPROP_RECURRENT_OPTION_KEYS,
    full: {
      nIn: 2,
      nLif: 1,
      nAlif: 1,
      dt: 1,
      tauM: 20,
      vTh: 0.6,
      tRef: 2,
      tauA: 200,
      adaptBeta: 1.7,
      surrogate: 'piecewise_linear',
      surrogateHeight: 0.3,
      surrogateWidth: 1,
      regularSpikeArrival: true,
      wIn: [0.1, 0.2, 0.3, 0.4],
      wRec: [0, 0.1, 0.1, 0],
      rng: new Rng(0),
    },
    make: rec,
    typo: ['nALIF', 'nAlif'],
  },
  {
    name: 'EPropReadout',
    keys: EP.EPROP_READOUT_OPTION_KEYS,
    full: { nRec: 2, nOut: 2, dt: 1, tauOut: 20, loss: 'mean_squared_error', feedback: 'symmetric', wOut: [0.1, 0.2, 0.3, 0.4], feedbackWeights: [0.1, 0.2, 0.3, 0.4], rng: new Rng(0) },
    make: ro,
    typo: ['tauout', 'tauOut'],
  },
  {
    name: 'EProp',
    keys: EP.EPROP_OPTION_KEYS,
    full: { recurrent: undefined, readout: undefined, optimizer: undefined, learningWindow: 2, cReg: 0.1, fTarget: 10, averageGradient: true, kernel: 'tf', train: { input: false }, threads: undefined },
    prepare: () => [rec({ nIn: 2, nLif: 2, rng: new Rng(0) }), ro({ nRec: 2, nOut: 2, rng: new Rng(0) })],
    make: (o, [r, out]) => new EP.EProp({ ...o, recurrent: r, readout: out, optimizer: new Opt.GradientDescent() } as never),
    typo: ['fTarge', 'fTarget'],
  },
  { name: 'Network', keys: NETWORK_OPTION_KEYS, full: { forward: (x: tf.Tensor) => tf.clone(x), atomic: true }, make: (o) => new Network(o as never), typo: ['froward', 'forward'] },
);

describe('Network.run options', () => {
  it('accepts every declared key, refuses a misspelled one before stepping', async () => {
    expect([...NETWORK_RUN_OPTION_KEYS].sort()).toEqual(['onStep', 'reward', 'signal', 'steps', 'yieldEveryMs']);
    const net = new Network({ forward: (x) => tf.add(x as tf.Tensor, 1) });
    const x = tf.zeros([1, 2]);
    let seen = 0;
    const full = { steps: 2, onStep: () => void seen++, reward: 0, signal: new AbortController().signal, yieldEveryMs: 100 };
    expect(await net.run(x, full)).toBe(2);
    expect(seen).toBe(2);
    const before = tf.memory().numTensors;
    await expect(net.run(x, { steps: 2, onstep: () => void seen++ } as never)).rejects.toThrow(/invalid options key: got "onstep", .*did you mean "onStep"\?/);
    expect(seen).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    net.dispose();
  });
});

// ---- trainer toolkit (custom rules) ---------------------------------------------------------------

cases.push(
  { name: 'ExponentialKernel', keys: EXPONENTIAL_KERNEL_OPTION_KEYS, full: { learningRate: 0.1, tau: 20, side: 'causal' }, make: (o) => new ExponentialKernel(o as never), typo: ['sides', 'side'] },
  {
    name: 'PairTraces',
    keys: PAIR_TRACE_OPTION_KEYS,
    full: { tauPre: 20, tauPost: 20, amplitudePre: 1, amplitudePost: 1, mode: 'nearest', delayed: false, history: 2 },
    prepare: () => [new L.Serial(new C.LinearDense([2], [3], 1), new N.LIF([3], 1, { restV: -65, resetV: -65, threshV: -50, refracT: 2, tauM: 20 }))],
    make: (o, [layer]) => new PairTraces((layer as L.Serial).cell('connection', 'neuron'), o as never),
    typo: ['tau_pre', 'tauPre'],
  },
);

// ---- viz figure builders ---------------------------------------------------------------------------

const REC = { data: [0, 1, 1, 0, 0, 1], shape: [3, 1, 2] };
const SERIES_PANEL = [{ series: [{ name: 'v', values: [1, 2, 3] }] }];
const RASTER_FULL = { xTitle: 't', webglThreshold: 10, markerSize: 3, separatePanels: true, timeRange: [0, 5], maxSpikes: 1000, yTitle: 'n', maxTimeBins: 50, maxRows: 20 };
cases.push(
  { name: 'heatmapFigure', keys: V.HEATMAP_OPTION_KEYS, full: { columns: 1, colorscale: 'Viridis', sharedRange: false, xTitle: 'x', yTitle: 'y' }, make: (o) => V.heatmapFigure('h', [{ name: 'w', data: [1, 2], rows: 1, cols: 2 }], o), typo: ['colorScale', 'colorscale'] },
  { name: 'histogramFigure', keys: V.HISTOGRAM_OPTION_KEYS, full: { bins: 4, xTitle: 'x', yTitle: 'y', range: [0, 4] }, make: (o) => V.histogramFigure('h', [{ name: 'a', values: [1, 2] }], o), typo: ['bin', 'bins'] },
  { name: 'beforeAfterHistogram', keys: V.HISTOGRAM_OPTION_KEYS, full: { bins: 4, xTitle: 'x', yTitle: 'y', range: [0, 4] }, make: (o) => V.beforeAfterHistogram('h', [1], [2], o), typo: ['ragne', 'range'] },
  { name: 'spikeEventsFromMatrix', keys: V.MATRIX_OPTION_KEYS, full: { dt: 0.5, t0: 1, name: 'p' }, make: (o) => V.spikeEventsFromMatrix([0, 1, 1, 0], 2, 2, o), typo: ['DT', 'dt'] },
  { name: 'spikeRaster', keys: V.RASTER_OPTION_KEYS, full: RASTER_FULL, make: (o) => V.spikeRaster('r', { times: [1], neurons: [0] }, o), typo: ['markersize', 'markerSize'] },
  { name: 'spikeRasterPanels', keys: V.RASTER_OPTION_KEYS, full: RASTER_FULL, make: (o) => V.spikeRasterPanels({ times: [1], neurons: [0] }, o), typo: ['ytitle', 'yTitle'] },
  { name: 'timeSeriesFigure', keys: V.TIME_SERIES_OPTION_KEYS, full: { xTitle: 't', webglThreshold: 10, maxPoints: 100 }, make: (o) => V.timeSeriesFigure('t', [0, 1, 2], SERIES_PANEL, o), typo: ['xtitle', 'xTitle'] },
  { name: 'synapseChangeBars', keys: V.SYNAPSE_BARS_OPTION_KEYS, full: { labels: ['a'], show: 'change', yTitle: 'w' }, make: (o) => V.synapseChangeBars('b', [1], [2], o), typo: ['label', 'labels'] },
  { name: 'learningCurves', keys: V.LEARNING_CURVES_OPTION_KEYS, full: { xTitle: 'epoch', maxPoints: 100 }, make: (o) => V.learningCurves('c', [{ curves: [{ name: 'loss', y: [1, 0.5] }] }], o), typo: ['xTitel', 'xTitle'] },
  {
    name: 'panelFigure',
    keys: V.PANEL_FIGURE_OPTION_KEYS,
    full: { columns: 1, sharedX: true, height: 500, gap: 0.05, showLegend: false, layout: {} },
    make: (o) => V.panelFigure('p', [{ traces: [] }], o),
    typo: ['showlegend', 'showLegend'],
  },
  { name: 'spikesFromRecording', keys: V.SPIKES_FROM_RECORDING_OPTION_KEYS, full: { dt: 1, batch: 0, name: 'p' }, make: (o) => V.spikesFromRecording(REC, o), typo: ['batchs', 'batch'] },
  { name: 'seriesFromRecording', keys: V.SERIES_FROM_RECORDING_OPTION_KEYS, full: { dt: 1, batch: 0, prefix: 'n' }, make: (o) => V.seriesFromRecording(REC, [0], o), typo: ['prefx', 'prefix'] },
  {
    name: 'rasterFromRecordings',
    keys: V.RASTER_FROM_RECORDINGS_OPTION_KEYS,
    full: { dt: 1, batch: 0, ...RASTER_FULL },
    make: (o) => V.rasterFromRecordings('r', [{ name: 'p', spikes: REC }], o),
    typo: ['timerange', 'timeRange'],
  },
  {
    name: 'tracesFromRecordings',
    keys: V.TRACES_FROM_RECORDINGS_OPTION_KEYS,
    full: { dt: 1, batch: 0, xTitle: 't', webglThreshold: 10, maxPoints: 100 },
    make: (o) => V.tracesFromRecordings('t', [{ recording: REC, neurons: [0] }], o),
    typo: ['webGLThreshold', 'webglThreshold'],
  },
  {
    name: 'tracesFromRecordings panel',
    keys: V.RECORDING_PANEL_KEYS,
    full: { recording: REC, neurons: [0], title: 'a', yTitle: 'v', prefix: 'n', reference: { name: 'θ', value: 1 } },
    make: (o) => V.tracesFromRecordings('t', [{ recording: REC, neurons: [0] }, o as never]),
    typo: ['ytitle', 'yTitle'],
    param: 'panels[1] key',
  },
  {
    name: 'tracesFromRecordings panel reference',
    keys: ['name', 'value'],
    full: { name: 'θ', value: 1 },
    make: (o) => V.tracesFromRecordings('t', [{ recording: REC, neurons: [0], reference: o as never }]),
    typo: ['valeu', 'value'],
    param: 'panels[0].reference key',
  },
  { name: 'figureHtml', keys: FIGURE_HTML_OPTION_KEYS, full: { plotly: 'relative', plotlyUrl: 'p.js' }, make: (o) => figureHtml(V.panelFigure('p', [{ traces: [] }]), o), typo: ['plotlyURL', 'plotlyUrl'] },
);

describe('unknown option keys', () => runTable());

// ---- user subclasses may add options ----------------------------------------------------------------

/** A class under test: builds it (or a subclass adding the key `extra`) with `extra` in its options. */
interface SubclassCase {
  /** Class name. */
  name: string;
  /** Builds the class itself with `o`. */
  base: (o: Record<string, unknown>) => unknown;
  /** Builds a user subclass whose constructor reads `o.extra` and passes `o` on. */
  sub: (o: Record<string, unknown>) => { extra: unknown };
  /** The error's param (default "options key"). */
  param?: string;
}

/** Mixes an `extra` field read from the options into a user subclass. */
const withExtra = <T extends object>(x: T, o: Record<string, unknown>) => Object.assign(x, { extra: o.extra });

const subclassCases: SubclassCase[] = [];
{
  const syn = (f: unknown) => viaConnection(f);
  class MyDelta extends S.DeltaCurrent {}
  class MyDeltaPlus extends S.DeltaPlusCurrent {}
  class MyDeltaG extends S.DeltaConductance {}
  class MyExpI extends S.SingleExponentialCurrent {}
  class MyExpG extends S.ExponentialConductance {}
  class MyDExpI extends S.DoubleExponentialCurrent {}
  class MyDExpG extends S.DoubleExponentialConductance {}
  /** The synapse a connection built over `factory` holds, with its options' `extra`. */
  const viaSyn = (factory: unknown, o: Record<string, unknown>) => {
    const c = syn(factory);
    const r = { extra: o.extra, charge: (c.synapse as unknown as { charge?: number }).charge };
    c.dispose();
    return r;
  };
  subclassCases.push(
    { name: 'DeltaCurrent', base: (o) => viaSyn(S.DeltaCurrent.factory(o), o), sub: (o) => viaSyn(MyDelta.factory(o), o) },
    { name: 'DeltaCurrent (constructor)', base: (o) => viaSyn((spec: never) => new S.DeltaCurrent(spec, o), o), sub: (o) => viaSyn((spec: never) => new MyDelta(spec, o), o) },
    { name: 'DeltaPlusCurrent', base: (o) => viaSyn(S.DeltaPlusCurrent.factory(o), o), sub: (o) => viaSyn(MyDeltaPlus.factory(o), o) },
    { name: 'DeltaConductance', base: (o) => viaSyn((spec: never) => new S.DeltaConductance(spec, o), o), sub: (o) => viaSyn((spec: never) => new MyDeltaG(spec, o), o) },
    { name: 'SingleExponentialCurrent', base: (o) => viaSyn(S.SingleExponentialCurrent.factory({ tau: 5, ...o }), o), sub: (o) => viaSyn(MyExpI.factory({ tau: 5, ...o }), o) },
    { name: 'ExponentialConductance', base: (o) => viaSyn(S.ExponentialConductance.factory({ tau: 5, ...o }), o), sub: (o) => viaSyn(MyExpG.factory({ tau: 5, ...o }), o) },
    {
      name: 'DoubleExponentialCurrent',
      base: (o) => viaSyn(S.DoubleExponentialCurrent.factory({ tauDecay: 5, tauRise: 1, ...o }), o),
      sub: (o) => viaSyn(MyDExpI.factory({ tauDecay: 5, tauRise: 1, ...o }), o),
    },
    {
      name: 'DoubleExponentialConductance',
      base: (o) => viaSyn((spec: never) => new S.DoubleExponentialConductance(spec, { tauDecay: 5, tauRise: 1, ...o }), o),
      sub: (o) => viaSyn((spec: never) => new MyDExpG(spec, { tauDecay: 5, tauRise: 1, ...o }), o),
    },
  );
}
{
  class MyMulti extends Ob.MultiStateMonitor<[tf.Tensor]> {}
  class MyState extends Ob.StateMonitor {}
  class MyBounding extends Bounding {}
  class MyRecorder extends Ob.Recorder {}
  class MySpikeRecorder extends Ob.SpikeRecorder {}
  class MySerial extends L.Serial {}
  class MyRecurrent extends L.RecurrentLayer {}
  class MyBiclique extends L.Biclique {}
  class MyGenerator extends E.SpikeGenerator {}
  class MyInhomogeneous extends E.InhomogeneousPoissonEncoder {}
  class MyKernel extends ExponentialKernel {}
  class MyPairTraces extends PairTraces {}
  const acc = () => tf.zeros([2]);
  const free = <T extends object>(x: T, o: Record<string, unknown>) => {
    dispose(x);
    return withExtra({}, o);
  };
  /** Builds a layer from freshly made parts; frees the parts when the constructor throws. */
  const layer = (parts: { dispose(): void }[], make: () => object, o: Record<string, unknown>) => {
    try {
      return free(make(), o);
    } catch (e) {
      for (const p of parts) p.dispose();
      throw e;
    }
  };
  const serial = (K: new (c: never, n: never, o: never) => L.Serial, o: Record<string, unknown>) => {
    const [c, n] = [gconn([2], [3]), lif3()];
    return layer([c, n], () => new K(c as never, n as never, { receptor: 'AMPA', ...o } as never), o);
  };
  const recurrent = (K: new (f: never, r: never, n: never, o: never) => L.RecurrentLayer, o: Record<string, unknown>) => {
    const [f, r, n] = [gconn([2], [3]), gconn([3], [3]), lif3()];
    return layer([f, r, n], () => new K(f as never, r as never, n as never, { feedforwardReceptor: 'AMPA', recurrentReceptor: 'AMPA', ...o } as never), o);
  };
  const biclique = (K: typeof L.Biclique, o: Record<string, unknown>) => {
    const [c, n] = [new C.LinearDense([2], [3], 1), lif3()];
    return layer([c, n], () => new K({ connections: { a: c }, neurons: { n }, ...o } as never), o);
  };
  const pairTraces = (K: typeof PairTraces, o: Record<string, unknown>) => {
    const layer = new L.Serial(new C.LinearDense([2], [3], 1), lif3());
    try {
      return free(new K(layer.cell('connection', 'neuron'), { tauPre: 20, tauPost: 20, amplitudePre: 1, amplitudePost: 1, ...o } as never), o);
    } finally {
      layer.dispose();
    }
  };
  const GEN = { steps: 3, dt: 1, times: [[0], [1]], shape: [1, 2] };
  subclassCases.push(
    { name: 'MultiStateMonitor', base: (o) => free(new Ob.MultiStateMonitor([acc], new Ob.PassthroughReducer(), o), o), sub: (o) => free(new MyMulti([acc], new Ob.PassthroughReducer(), o), o) },
    { name: 'StateMonitor', base: (o) => free(new Ob.StateMonitor(acc, new Ob.PassthroughReducer(), o), o), sub: (o) => free(new MyState(acc, new Ob.PassthroughReducer(), o), o) },
    { name: 'Bounding', base: (o) => free(new Bounding('hard', { max: 1, ...o }), o), sub: (o) => free(new MyBounding('hard', { max: 1, ...o }), o) },
    { name: 'Recorder', base: (o) => free(new Ob.Recorder(acc, { capacity: 2, ...o }), o), sub: (o) => free(new MyRecorder(acc, { capacity: 2, ...o }), o) },
    { name: 'SpikeRecorder', base: (o) => free(new Ob.SpikeRecorder(acc, o), o), sub: (o) => free(new MySpikeRecorder(acc, o), o) },
    { name: 'Serial', base: (o) => serial(L.Serial, o), sub: (o) => serial(MySerial, o) },
    { name: 'RecurrentLayer', base: (o) => recurrent(L.RecurrentLayer, o), sub: (o) => recurrent(MyRecurrent, o) },
    { name: 'Biclique', base: (o) => biclique(L.Biclique, o), sub: (o) => biclique(MyBiclique, o) },
    { name: 'SpikeGenerator', base: (o) => free(new E.SpikeGenerator({ ...GEN, ...o } as never), o), sub: (o) => free(new MyGenerator({ ...GEN, ...o } as never), o) },
    {
      name: 'InhomogeneousPoissonEncoder',
      base: (o) => free(new E.InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(0), ...o } as never), o),
      sub: (o) => free(new MyInhomogeneous({ dt: 1, rng: new Rng(0), ...o } as never), o),
    },
    { name: 'ExponentialKernel', base: (o) => free(new ExponentialKernel({ learningRate: 0.1, tau: 20, side: 'causal', ...o } as never), o), sub: (o) => free(new MyKernel({ learningRate: 0.1, tau: 20, side: 'causal', ...o } as never), o) },
    { name: 'PairTraces', base: (o) => pairTraces(PairTraces, o), sub: (o) => pairTraces(MyPairTraces, o) },
  );
}

{
  class MyFilter extends C.PostsynapticFilter {}
  const PF = C.postFiltered(C.LinearDense);
  class MyFiltered extends PF {}
  class MyDense extends C.LinearDense {}
  const PFMine = C.postFiltered(MyDense);
  const filterFree = (x: { dispose(): void }, o: Record<string, unknown>) => {
    x.dispose();
    return withExtra({}, o);
  };
  subclassCases.push(
    {
      name: 'PostsynapticFilter',
      base: (o) => filterFree(new C.PostsynapticFilter([2], 1, 'current', { tau: 5, ...o } as never), o),
      sub: (o) => filterFree(new MyFilter([2], 1, 'current', { tau: 5, ...o } as never), o),
      param: 'filter key',
    },
    {
      name: 'postFiltered(LinearDense) filter',
      base: (o) => filterFree(new PF({ tau: 5, ...o } as never, [2], [2], 1), o),
      sub: (o) => filterFree(new MyFiltered({ tau: 5, ...o } as never, [2], [2], 1), o),
      param: 'filter key',
    },
    {
      name: 'postFiltered(LinearDense) connection options',
      base: (o) => filterFree(new PF({ tau: 5 }, [2], [2], 1, o as never), o),
      sub: (o) => filterFree(new MyFiltered({ tau: 5 }, [2], [2], 1, o as never), o),
    },
    { name: 'postFiltered(user subclass of LinearDense)', base: (o) => filterFree(new C.LinearDense([2], [2], 1, o as never), o), sub: (o) => filterFree(new PFMine({ tau: 5 }, [2], [2], 1, o as never), o) },
  );
}

{
  class MyTerminal extends CLI.Terminal {}
  subclassCases.push({
    name: 'Terminal',
    base: (o) => withExtra(new CLI.Terminal({ mode: 'quiet', ...o } as never), o),
    sub: (o) => withExtra(new MyTerminal({ mode: 'quiet', ...o } as never), o),
  });
}

describe('user subclasses adding an option key', () => {
  it.each(subclassCases.map((c) => [c.name, c] as const))('%s: a subclass passing its own key constructs; the class itself refuses it', (_, c) => {
    const before = tf.memory().numTensors;
    expect(c.sub({ extra: 7 }).extra).toBe(7);
    const e = thrown(() => c.base({ extra: 7 })) as CinderArgumentError;
    expect(e).toBeInstanceOf(CinderArgumentError);
    expect(e.param).toBe(c.param ?? 'options key');
    expect(e.value).toBe('extra');
    expect(tf.memory().numTensors).toBe(before);
  });
});

// ---- io: nothing is written for a misspelled key -----------------------------------------------------

/** One io function taking an options object, run in an empty temporary folder. */
interface IoCase {
  /** Function name. */
  name: string;
  /** Its declared option keys. */
  keys: readonly string[];
  /** Valid options using every declared key. */
  full: Record<string, unknown>;
  /** Runs it in folder `dir` with these options. */
  run: (dir: string, options: Record<string, unknown>) => unknown;
  /** A misspelling of one of its keys, and the key it should suggest. */
  typo: [string, string];
}

const ARRAYS = { a: { data: new Float32Array([1, 2]), shape: [2] } };
const ioCases: IoCase[] = [
  { name: 'writeNpz', keys: IO.NPZ_WRITE_OPTION_KEYS, full: { date: new Date(2020, 0, 1), zip64: 'always', commit: () => true }, run: (d, o) => IO.writeNpz(join(d, 'a.npz'), ARRAYS, o), typo: ['zip_64', 'zip64'] },
  { name: 'encodeNpz', keys: IO.NPZ_ENCODE_OPTION_KEYS, full: { date: new Date(2020, 0, 1), zip64: 'auto' }, run: (_d, o) => IO.encodeNpz(ARRAYS, o), typo: ['data', 'date'] },
  {
    name: 'NpyAppendWriter.open',
    keys: IO.NPY_APPEND_OPTION_KEYS,
    full: { dtype: 'float32', rowShape: [2] },
    run: (d, o) => IO.NpyAppendWriter.open(join(d, 'a.npy'), o as never).close(),
    typo: ['rowshape', 'rowShape'],
  },
  {
    name: 'NpyAppendWriter.reopen',
    keys: IO.NPY_APPEND_OPTION_KEYS,
    full: { dtype: 'float32', rowShape: [2] },
    // reopen needs an existing file: the accepted call opens one first (the refused one finds none)
    run: (d, o) => {
      if (!('dtyp' in o)) IO.NpyAppendWriter.open(join(d, 'a.npy'), { dtype: 'float32', rowShape: [2] }).close();
      IO.NpyAppendWriter.reopen(join(d, 'a.npy'), o as never).close();
    },
    typo: ['dtyp', 'dtype'],
  },
  { name: 'writeFileAtomic', keys: IO.ATOMIC_WRITE_OPTION_KEYS, full: { commit: () => true }, run: (d, o) => IO.writeFileAtomic(join(d, 'a.txt'), 'x', o), typo: ['comit', 'commit'] },
  { name: 'writeJsonAtomic', keys: IO.ATOMIC_WRITE_OPTION_KEYS, full: { commit: () => true }, run: (d, o) => IO.writeJsonAtomic(join(d, 'a.json'), { a: 1 }, o), typo: ['Commit', 'commit'] },
  {
    name: 'writeHostTensors',
    keys: IO.TENSOR_FOLDER_WRITE_OPTION_KEYS,
    full: { lockTimeoutMs: 1000, shardBytes: 4 },
    run: (d, o) => IO.writeHostTensors(join(d, 't'), { w: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } }, {}, o),
    typo: ['shardbytes', 'shardBytes'],
  },
  {
    name: 'saveTensors',
    keys: IO.TENSOR_FOLDER_WRITE_OPTION_KEYS,
    full: { lockTimeoutMs: 1000, shardBytes: 4 },
    run: async (d, o) => {
      const w = tf.tensor1d([1, 2]);
      try {
        await IO.saveTensors(join(d, 't'), { w }, {}, o);
      } finally {
        w.dispose();
      }
    },
    typo: ['lockTimeout', 'lockTimeoutMs'],
  },
  {
    name: 'writeTensorFolder',
    keys: IO.TENSOR_FOLDER_WRITE_OPTION_KEYS,
    full: { lockTimeoutMs: 1000, shardBytes: 4 },
    run: (d, o) => IO.writeTensorFolder(join(d, 't'), IO.encodeTensors({ w: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } }), o),
    typo: ['shardByte', 'shardBytes'],
  },
  {
    name: 'registerWriteGuard',
    keys: IO.WRITE_GUARD_HOOK_KEYS,
    full: { begin: () => () => {} },
    run: (d, o) => IO.registerWriteGuard(d, () => {}, o as never)(),
    typo: ['begn', 'begin'],
  },
  { name: 'writeFigureHtml', keys: FIGURE_HTML_OPTION_KEYS, full: { plotly: 'relative', plotlyUrl: 'p.js' }, run: (d, o) => writeFigureHtml(join(d, 'f.html'), V.panelFigure('p', [{ traces: [] }]), o), typo: ['plotlyurl', 'plotlyUrl'] },
];

describe('io functions: unknown option keys', () => {
  it.each(ioCases.map((c) => [c.name, c] as const))('%s: accepts every declared key, refuses a misspelled one writing nothing', async (_, c) => {
    expect(Object.keys(c.full).sort()).toEqual([...new Set(c.keys)].sort());
    const ok = mkdtempSync(join(tmpdir(), 'cinder-keys-'));
    const bad = mkdtempSync(join(tmpdir(), 'cinder-keys-'));
    try {
      await c.run(ok, { ...c.full });
      const [typo, near] = c.typo;
      const { [near]: _dropped, ...rest } = c.full;
      const before = tf.memory().numTensors;
      let e: unknown;
      try {
        await c.run(bad, { ...rest, [typo]: c.full[near] });
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(CinderArgumentError);
      expect((e as CinderArgumentError).param).toBe('options key');
      expect((e as CinderArgumentError).value).toBe(typo);
      expect((e as Error).message).toContain(`did you mean "${near}"?`);
      expect(readdirSync(bad)).toEqual([]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      rmSync(ok, { recursive: true, force: true });
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('readHostTensors refuses a misspelled key', async () => {
    expect([...IO.TENSOR_FOLDER_READ_OPTION_KEYS]).toEqual(['check']);
    const d = mkdtempSync(join(tmpdir(), 'cinder-keys-'));
    try {
      await IO.writeHostTensors(d, { w: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } });
      let checked = 0;
      expect([...(await IO.readHostTensors(d, { check: () => void checked++ })).tensors.w!.data]).toEqual([1, 2]);
      expect(checked).toBe(1);
      await expect(IO.readHostTensors(d, { chek: () => void checked++ } as never)).rejects.toThrow(/invalid options key: got "chek", .*did you mean "check"\?/);
      expect(checked).toBe(1);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

// ---- cli / sweep library options (refused before anything starts or is written) -------------------------

/** One cli/sweep function: refuses `{ [typo]: value }` in folder `dir` (sync or async). */
interface RunnerCase {
  /** Function name. */
  name: string;
  /** Its declared option keys. */
  keys: readonly string[];
  /** The declared keys, written out here (the list must match). */
  expected: readonly string[];
  /** Calls it in `dir` with options `o`. */
  run: (dir: string, o: Record<string, unknown>) => unknown;
  /** A misspelling of one of its keys, and the key it should suggest. */
  typo: [string, string];
}

const runnerCases: RunnerCase[] = [
  { name: 'runCli', keys: CLI.CLI_OPTION_KEYS, expected: ['examples', 'out', 'err', 'isTTY', 'env', 'handleSignals', 'interruptGraceMs', 'now'], run: (_d, o) => CLI.runCli(['list'], o as never), typo: ['isTty', 'isTTY'] },
  { name: 'Terminal', keys: CLI.TERMINAL_OPTION_KEYS, expected: ['mode', 'out', 'err', 'now', 'barWidth', 'plainIntervalMs'], run: (_d, o) => new CLI.Terminal({ mode: 'quiet', ...o } as never), typo: ['barwidth', 'barWidth'] },
  {
    name: 'startRun',
    keys: CLI.RUN_OPTION_KEYS,
    expected: ['spec', 'params', 'mode', 'seed', 'seeds', 'outDir', 'backend', 'backendRequest', 'quiet', 'signal', 'terminal', 'command', 'resume', 'checkFinite', 'clock'],
    run: (d, o) => CLI.startRun({ outDir: join(d, 'run'), ...o } as never),
    typo: ['outdir', 'outDir'],
  },
  { name: 'runSweep', keys: SW.SWEEP_OPTION_KEYS, expected: ['spec', 'plan', 'outDir', 'engine', 'terminal', 'signal'], run: (d, o) => SW.runSweep({ outDir: join(d, 's'), ...o } as never), typo: ['engin', 'engine'] },
  { name: 'runWorker', keys: SW.WORKER_OPTION_KEYS, expected: ['address', 'queueName', 'concurrency', 'lockMs', 'signal', 'log', 'command'], run: (_d, o) => SW.runWorker(o as never), typo: ['queuename', 'queueName'] },
  { name: 'sweepCli', keys: SW.SWEEP_CLI_OPTION_KEYS, expected: ['examples', 'out', 'err', 'isTTY', 'env', 'handleSignals', 'now'], run: (_d, o) => SW.sweepCli(['sweep'], o as never), typo: ['handleSignal', 'handleSignals'] },
  { name: 'redisConnection', keys: SW.REDIS_CONNECTION_OPTION_KEYS, expected: ['probe', 'timeoutMs', 'failFast'], run: (_d, o) => SW.redisConnection({ host: '127.0.0.1', port: 1 } as never, o as never), typo: ['timeout', 'timeoutMs'] },
  { name: 'startJob', keys: SW.START_JOB_OPTION_KEYS, expected: ['command', 'env', 'mayInstall'], run: (d, o) => SW.startJob({ args: [], outDir: join(d, 'job') } as never, o as never), typo: ['commands', 'command'] },
];

describe('cli and sweep library options: unknown keys', () => {
  it.each(runnerCases.map((c) => [c.name, c] as const))('%s: refuses a misspelled key, starting and writing nothing', async (_, c) => {
    expect([...c.keys].sort()).toEqual([...c.expected].sort());
    const dir = mkdtempSync(join(tmpdir(), 'cinder-keys-'));
    try {
      const [typo, near] = c.typo;
      let e: unknown;
      try {
        await c.run(dir, { [typo]: 1 });
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(CinderArgumentError);
      expect((e as CinderArgumentError).param).toBe('options key');
      expect((e as CinderArgumentError).value).toBe(typo);
      expect((e as Error).message).toContain(`did you mean "${near}"?`);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
