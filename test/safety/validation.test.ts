// Regression tests for the validation gaps found in issue 11: each case either fails with a clear
// CinderArgumentError naming the parameter (before any state changes), or warns.
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError, MAX_ELEMENTS, UseAfterDisposeError, setWarningHandler } from '../../src/core/errors.js';
import { Rng } from '../../src/core/random.js';
import { AdEx, LIF } from '../../src/neural/neurons/index.js';
import { LinearDense, LinearDirect } from '../../src/neural/connections/index.js';
import { Biclique, Serial } from '../../src/neural/layers/index.js';
import { InhomogeneousPoissonEncoder } from '../../src/neural/encoders/index.js';
import { Recorder, StateMonitor } from '../../src/observe/index.js';
import { STDP } from '../../src/learn/trainers/index.js';
import { Adam, GradientDescent } from '../../src/learn/optimizers/index.js';
import { EProp, EPropReadout, EPropRecurrent } from '../../src/learn/eprop/index.js';

const P = { restV: -65, resetV: -65, threshV: -52, refracT: 2, tauM: 20 };
const made: { dispose(): void }[] = [];
afterEach(() => {
  for (const m of made.splice(0)) m.dispose();
});
const keep = <T extends { dispose(): void }>(m: T): T => (made.push(m), m);

function expectArgError(f: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CinderArgumentError);
  expect((err as Error).message).toMatch(re);
}

describe('issue 11 validation regressions', () => {
  it('the same connection→neuron pair registered through two layer.cell() calls is refused', () => {
    const layer = keep(new Serial(new LinearDense([3], [2], 1), new LIF([2], 1, P)));
    const stdp = keep(new STDP({ lrPost: 1e-3, lrPre: -1e-3, tauPost: 20, tauPre: 20 }));
    stdp.register(layer.cell(layer.connection, layer.neuron));
    expectArgError(() => stdp.register(layer.cell('connection', 'neuron')), /cell.*already registered.*learn twice/);
    expect(stdp.cells.length).toBe(1);
  });

  it('plain arrays and misspelled keys given to neuron and layer forward are errors, not zero input', () => {
    const lif = keep(new LIF([3], 1, P));
    expectArgError(() => lif.forward([[100, 100, 100]] as never), /invalid input: got \[\[100,100,100\]\].*plain arrays/);
    const x = tf.ones([1, 3]);
    expectArgError(() => lif.forward({ curent: x } as never), /invalid input key: got "curent", expected one of "current", "conductances"/);
    expectArgError(() => lif.forward(x, { refracLok: false } as never), /options key: got "refracLok"/);
    const layer = keep(new Biclique({ connections: { a: new LinearDirect([3], 1) }, neurons: { n: new LIF([3], 1, P) } }));
    expectArgError(() => layer.forward({ a: [[1, 0, 1]] as never }), /input "a"/);
    expectArgError(() => layer.forward({ a: { spikes: x, injectd: x } as never }), /key of input "a": got "injectd"/);
    expect(Array.from(lif.voltage.dataSync())).toEqual([-65, -65, -65]);
    x.dispose();
  });

  it('threshV: Infinity is rejected and a NaN threshV is blamed on threshV (not restV)', () => {
    expectArgError(() => new LIF([2], 1, { ...P, threshV: Infinity }), /invalid threshV: got Infinity, expected a finite number/);
    expectArgError(() => new LIF([2], 1, { ...P, threshV: NaN }), /invalid threshV: got NaN/);
    expectArgError(() => new AdEx([2], 1, { ...P, threshV: NaN, rheobaseV: -55, sharpness: 2, tauAdapt: 100, voltageCoupling: 0, adaptIncrement: 0 }), /threshV: got NaN/);
  });

  it('object seeds are rejected (they all used to become the same string)', () => {
    expectArgError(() => new Rng({} as never), /invalid seed: got an object \{\}, expected a finite number or a string/);
    expectArgError(() => new Rng([1, 2] as never), /seed/);
    expect(new Rng('a').uniform()).toBe(new Rng('a').uniform());
  });

  it('optimizer learning rates are checked on every assignment', () => {
    const adam = keep(new Adam({ learningRate: 0.1 }));
    expectArgError(() => (adam.learningRate = NaN), /invalid learningRate: got NaN/);
    expectArgError(() => (adam.learningRate = -1), /learningRate/);
    expect(adam.learningRate).toBe(0.1);
    adam.learningRate = 0; // evaluation batches
    expect(adam.learningRate).toBe(0);
    const gd = keep(new GradientDescent());
    expectArgError(() => (gd.learningRate = Infinity), /learningRate/);
  });

  it('a failed layer step leaves every state unchanged (no synapse advanced)', () => {
    const layer = keep(new Biclique({
      connections: { a: new LinearDirect([2], 1), b: new LinearDirect([2], 1) },
      neurons: { n: new LIF([2], 1, P) },
    }));
    tf.tidy(() => void layer.forward({ a: tf.ones([1, 2]), b: tf.zeros([1, 2]) }));
    const snapshot = () => layer.namedStates().map(([n, s]) => [n, Array.from(s.value.dataSync())] as const);
    const before = snapshot();
    expectArgError(() => tf.tidy(() => layer.forward({ a: tf.tensor2d([[0, 1]]), b: tf.zeros([1, 3]) })), /input "b".*shape \[1, 2\]/);
    expect(snapshot()).toEqual(before);
    const serial = keep(new Serial(new LinearDirect([2], 1), new LIF([2], 1, P)));
    tf.tidy(() => void serial.forward(tf.ones([1, 2])));
    const s0 = serial.namedStates().map(([n, st]) => [n, Array.from(st.value.dataSync())] as const);
    expectArgError(() => tf.tidy(() => serial.forward(tf.ones([1, 2]), undefined, { refracLok: false } as never)), /options key of neuron "neuron": got "refracLok"/);
    expect(serial.namedStates().map(([n, st]) => [n, Array.from(st.value.dataSync())] as const)).toEqual(s0);
  });

  it('explicit Euler with dt beyond a time constant warns (AdEx at dt 100 ms)', () => {
    const warnings: string[] = [];
    const prev = setWarningHandler((m) => warnings.push(m));
    try {
      keep(new AdEx([2], 100, { ...P, rheobaseV: -55, sharpness: 2, tauAdapt: 100, voltageCoupling: 0, adaptIncrement: 0 }));
      expect(warnings.some((w) => /AdEx: dt = 100 ms exceeds tauM = 20 ms.*diverges/.test(w))).toBe(true);
      warnings.length = 0;
      keep(new AdEx([2], 0.1, { ...P, rheobaseV: -55, sharpness: 2, tauAdapt: 100, voltageCoupling: 0, adaptIncrement: 0 }));
      keep(new LIF([2], 100, P)); // exact integration: no limit
      expect(warnings).toEqual([]);
    } finally {
      setWarningHandler(prev);
    }
  });

  it('using a module after dispose() names the module', () => {
    const lif = new LIF([2], 1, P);
    lif.dispose();
    expect(() => lif.forward(tf.tidy(() => tf.zeros([1, 2])))).toThrow(UseAfterDisposeError);
    expect(() => lif.voltage).toThrow(/LIF was used after dispose\(\) \(its state "voltage" is freed\)/);
    const dense = new LinearDense([2], [2], 1);
    dense.dispose();
    expect(() => dense.weight).toThrow(/LinearDense was used after dispose/);
  });

  it('bad synapse factories, null reducers and an e-prop trainer without optimizer fail at construction', () => {
    expectArgError(() => new LinearDense([2], [2], 1, { synapse: (() => 5) as never }), /invalid synapse/);
    expectArgError(() => new LinearDense([2], [2], 1, { synapse: (() => { throw new TypeError('boom'); }) as never }), /synapse.*TypeError: boom/);
    expectArgError(() => new StateMonitor(() => tf.zeros([1]), null as never), /invalid reducer: got null/);
    const rng = new Rng(1);
    const rec = keep(new EPropRecurrent({ nIn: 2, nLif: 2, nAlif: 0, rng }));
    const ro = keep(new EPropReadout({ nRec: 2, nOut: 2, rng }));
    expectArgError(() => new EProp({ recurrent: rec, readout: ro } as never), /invalid optimizer: got undefined/);
    expectArgError(() => new EProp({ recurrent: rec, readout: undefined, optimizer: new GradientDescent() } as never), /invalid readout/);
  });

  it('sizes, capacities and delays beyond 2^28 elements get a message instead of RangeError/OOM', () => {
    const cap = new RegExp(`at most ${MAX_ELEMENTS}`);
    expectArgError(() => new LinearDense([1e6], [1e6], 1), cap);
    expectArgError(() => new LIF([1e9], 1, P), cap);
    expectArgError(() => new LIF([1e5], 1, { ...P, batchSize: 1e4 }), cap);
    expectArgError(() => new LinearDense([1000], [1000], 1, { maxDelay: 1e6 }), /maxDelay/);
    expectArgError(() => new Recorder(() => tf.zeros([1]), { capacity: 1e12 }), /capacity/);
  });

  it('an encoding whose cost would explode is rejected with a message', () => {
    const enc = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(1), method: 'exact' });
    expectArgError(() => enc.encodeFunction(() => 1, { steps: 100, shape: [1, 10], maxRate: 1e300 }), /maxRate.*candidate events/);
    expectArgError(() => enc.encodeFunction(() => 1, { steps: 1e9, shape: [1, 10], maxRate: 1e-3 }), /steps.*at most/);
  });
});
