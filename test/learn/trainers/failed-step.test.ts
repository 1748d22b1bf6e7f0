// A step that throws changes nothing: no cell keeps the parts added before another cell (or a later
// trainer of a Network) threw, no trainer state moves, and no tensor is left behind. Also: a custom
// batch reduction must return the weight's shape, in every rule.
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { LinearDense, LinearDirect, type Connection } from '../../../src/neural/connections/index.js';
import { constantInit } from '../../../src/neural/connections/initializers.js';
import { LinearHomeostasis, MSTDP, type HomeostasisCell, MSTDPET, STDP, TripletSTDP, VoltageSTDP } from '../../../src/learn/trainers/index.js';
import { Network } from '../../../src/network/index.js';
import { Serial } from '../../../src/neural/layers/serial.js';
import { LIF } from '../../../src/neural/neurons/index.js';
import { ForcedNeurons, TestLayer, values } from './harness.js';

const layers: TestLayer[] = [];
afterEach(() => {
  for (const l of layers.splice(0)) l.dispose();
});

function layer(c: Connection, post: number[], batch: number): TestLayer {
  const l = new TestLayer(c, new ForcedNeurons(post, batch));
  layers.push(l);
  return l;
}

/** Two dense cells, [2] → [2], batch 1, weights 0. */
function twoCells() {
  const a = layer(new LinearDense([2], [2], 1, { weightInit: constantInit(0) }), [2], 1);
  const b = layer(new LinearDense([2], [2], 1, { weightInit: constantInit(0) }), [2], 1);
  return [a, b] as const;
}

const empty = (l: TestLayer) => l.connection.updater.accumulator('weight').empty;
/** A custom batch reduction that forgets the weight's shape (a scalar). */
const scalarReduction = (x: tf.Tensor) => tf.sum(x);

describe('a failed trainer step adds nothing to any cell', () => {
  it('STDP: a second cell whose custom reduction returns the wrong shape throws before the first cell keeps its update', () => {
    const [a, b] = twoCells();
    const rule = new STDP({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10 });
    rule.register(a.cell);
    rule.register(b.cell, { batchReduction: scalarReduction });
    for (const l of [a, b]) l.step([1, 1], [1, 1]);
    const n = tf.memory().numTensors;
    expect(() => rule.step()).toThrow(/invalid batchReduction: got tensor of shape \[\] \(float32\), expected a tensor of shape \[2, 2\]/);
    expect(empty(a)).toBe(true);
    expect(empty(b)).toBe(true);
    expect(tf.memory().numTensors).toBe(n);
    // the same step without the faulty cell: x_pre = x_post = 1 → dpost = dpre = 1, net 0 (Hebbian)
    rule.step([a.cell]);
    a.connection.update();
    expect(values(a.connection.weight)).toEqual([0, 0, 0, 0]);
    rule.dispose();
  });

  it('TripletSTDP: a wrong-shaped custom reduction is rejected (it used to broadcast a scalar onto every weight)', () => {
    const [a] = twoCells();
    const rule = new TripletSTDP({ lrPostPair: 1, lrPostTriplet: 0, lrPrePair: -1, lrPreTriplet: 0, tauPostFast: 5, tauPostSlow: 10, tauPreFast: 5, tauPreSlow: 10, batchReduction: scalarReduction });
    rule.register(a.cell);
    a.step([1, 0], [1, 0]);
    expect(() => rule.step()).toThrow(CinderArgumentError);
    expect(empty(a)).toBe(true);
    rule.dispose();
  });

  it('MSTDP: a per-sample reward with a custom reduction on the second cell leaves the first cell without parts', () => {
    const [a, b] = twoCells();
    const rule = new MSTDP({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10 });
    rule.register(a.cell);
    rule.register(b.cell, { batchReduction: (x) => tf.sum(x, 0) });
    for (const l of [a, b]) l.step([1, 0], [0, 0]);
    for (const l of [a, b]) l.step([0, 0], [0, 1]);
    const reward = tf.tensor1d([1]);
    expect(() => rule.step(reward)).toThrow(/invalid batchReduction: got "a function", expected "sum" or "mean" with a per-sample reward/);
    expect(empty(a)).toBe(true);
    // flat over repeated failures (the first one cached the scale's scalar)
    const n = tf.memory().numTensors;
    expect(() => rule.step(reward)).toThrow(CinderArgumentError);
    expect(tf.memory().numTensors).toBe(n);
    // a scalar reward is accepted by both: post 1 one step after pre 0, w[1][0] += x_pre = e^{−1/10}
    rule.step(1);
    a.connection.update();
    const w = values(a.connection.weight);
    expect(w[2]).toBeCloseTo(Math.exp(-1 / 10), 6);
    expect([w[0], w[1], w[3]]).toEqual([0, 0, 0]);
    reward.dispose();
    rule.dispose();
  });

  it('MSTDPET: a wrong-shaped custom reduction is rejected before any cell keeps its update', () => {
    const [a, b] = twoCells();
    const rule = new MSTDPET({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10, tauEligibility: 10 });
    rule.register(a.cell);
    rule.register(b.cell, { batchReduction: scalarReduction });
    for (const l of [a, b]) l.step([1, 0], [0, 1]);
    expect(() => rule.step(1)).toThrow(CinderArgumentError);
    expect(empty(a)).toBe(true);
    expect(empty(b)).toBe(true);
    rule.dispose();
  });

  it('LinearHomeostasis: a cell without a target throws and the cell with one keeps no update', () => {
    const a = layer(new LinearDirect([2], 1, { weightInit: constantInit(1) }), [2], 1);
    const b = layer(new LinearDirect([2], 1, { weightInit: constantInit(1) }), [2], 1);
    const rule = new LinearHomeostasis({ plasticity: 0.1 });
    rule.register(a.cell as HomeostasisCell, { target: 0.5 });
    rule.register(b.cell as HomeostasisCell);
    for (const l of [a, b]) l.step([0, 0], [1, 0]);
    const n = tf.memory().numTensors;
    expect(() => rule.step()).toThrow(/invalid target: got null, expected a target rate > 0/);
    expect(empty(a)).toBe(true);
    expect(tf.memory().numTensors).toBe(n);
    rule.dispose();
  });

  it('VoltageSTDP: a wrong-shaped custom reduction throws before L, I and I_c move', () => {
    const conn = new LinearDense([2], [2], 1, { weightInit: constantInit(1) });
    const v = tf.tensor2d([[-20, -30]]);
    const cell = { connection: conn, neuron: { voltage: v, spike: v, training: true }, layer: { attach() {}, detach() {}, training: true } };
    const rule = new VoltageSTDP({ batchReduction: scalarReduction });
    rule.register(cell);
    tf.tidy(() => void conn.forward(tf.tensor2d([[1, 1]])));
    expect(() => rule.step()).toThrow(CinderArgumentError);
    const s = rule.entry(cell).state;
    // created on the first step, still at 0
    expect(values(s.signal!)).toEqual([0, 0]);
    expect(values(s.integral!)).toEqual([0, 0]);
    expect(values(s.lastIntegral!).every((x) => x === 0)).toBe(true);
    expect(conn.updater.accumulator('weight').empty).toBe(true);
    rule.dispose();
    conn.dispose();
    v.dispose();
  });
});

describe('Network.step: a trainer that throws leaves no pending update', () => {
  it('the parts added by earlier trainers of the failed step are dropped, not applied by the next step', () => {
    const layer1 = new Serial(
      new LinearDense([2], [2], 1, { weightInit: constantInit(20) }),
      new LIF([2], 1, { restV: 0, resetV: 0, threshV: 1, refracT: 0, tauM: 1 }),
    );
    const net = new Network();
    net.addLayer('l', layer1);
    const stdp = new STDP({ lrPost: 1, lrPre: 0, tauPost: 10, tauPre: 10 });
    stdp.register(layer1.cell('connection', 'neuron'));
    net.addTrainer('stdp', stdp);
    let fail = true;
    net.addTrainer('flaky', new LinearHomeostasis({ plasticity: 0 }), (t) => {
      if (fail) throw new CinderArgumentError('reward', undefined, 'a number');
      t.step(1);
    });
    const x = tf.tensor2d([[1, 1]]);
    fail = false;
    net.step(x).dispose(); // first step: the neurons spike (states allocated, traces folded)
    fail = true;
    const conn = layer1.connection as LinearDense;
    const w = values(conn.weight);
    expect(() => net.step(x)).toThrow(CinderArgumentError);
    expect(conn.updater.accumulator('weight').empty).toBe(true);
    expect(values(conn.weight)).toEqual(w);
    const n = tf.memory().numTensors;
    expect(() => net.step(x)).toThrow(CinderArgumentError);
    expect(tf.memory().numTensors).toBe(n);
    // the next good step applies only its own update
    fail = false;
    net.step(x).dispose();
    expect(conn.updater.accumulator('weight').empty).toBe(true);
    net.dispose();
    x.dispose();
  });
});

describe('MSTDPET: a step with a bad reward changes no state', () => {
  // z_post after one fold with post spike 1, pre trace A_pre = 1 (cumulative, first fold): 1/τ_z
  const tz = 10;
  const bad: [string, () => unknown][] = [
    ['NaN', () => NaN],
    ['Infinity', () => Infinity],
    ['a string', () => '1'],
    ['null', () => null],
    ['a tensor of the wrong batch', () => tf.tensor1d([1, 1, 1])],
    ['a rank-2 tensor', () => tf.tensor2d([[1]])],
  ];

  it.each(bad)('%s: refused before the eligibility folds (the monitors folded without the eligibility observer)', (_name, make) => {
    const a = layer(new LinearDense([1], [1], 1, { weightInit: constantInit(0) }), [1], 1);
    const rule = new MSTDPET({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10, tauEligibility: tz });
    rule.register(a.cell);
    const s = rule.traces(a.cell);
    // the eligibility observer is the last of the cell's observers: without it the monitors fold
    // and the eligibility waits for the next update() (step() folds it)
    const obs = s.observers;
    a.detach(obs[obs.length - 1]!);
    a.step([1], [1]);
    expect(s.post.size).toBe(0);
    const reward = make();
    expect(() => rule.step(reward as number)).toThrow(CinderArgumentError);
    expect(s.post.size).toBe(0);
    expect(empty(a)).toBe(true);
    // a good step folds it: z_post = x_pre·i_post/τ_z = 1/τ_z
    rule.step(1);
    expect(values(s.post.latest)).toEqual([Math.fround(1 / tz)]);
    if (reward instanceof tf.Tensor) reward.dispose();
    rule.dispose();
  });

  it.each(bad)('%s: refused while there is no eligibility yet (it used to be accepted)', (_name, make) => {
    const a = layer(new LinearDense([1], [1], 1, { weightInit: constantInit(0) }), [1], 1);
    const rule = new MSTDPET({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10, tauEligibility: tz });
    rule.register(a.cell);
    const reward = make();
    expect(() => rule.step(reward as number)).toThrow(CinderArgumentError);
    if (reward instanceof tf.Tensor) reward.dispose();
    rule.dispose();
  });

  it('a tensor reward with reduceEligibility is refused before the eligibility folds', () => {
    const a = layer(new LinearDense([1], [1], 1, { weightInit: constantInit(0) }), [1], 1);
    const rule = new MSTDPET({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10, tauEligibility: tz, reduceEligibility: true });
    rule.register(a.cell);
    const s = rule.traces(a.cell);
    const obs = s.observers;
    a.detach(obs[obs.length - 1]!);
    a.step([1], [1]);
    const reward = tf.tensor1d([1]);
    expect(() => rule.step(reward)).toThrow(/invalid reward/);
    expect(s.post.size).toBe(0);
    reward.dispose();
    rule.dispose();
  });
});

describe('MSTDP: a bad reward is refused also before the traces exist', () => {
  it.each([['NaN', NaN], ['a string', '1'], ['undefined', undefined]])('%s', (_name, reward) => {
    const a = layer(new LinearDense([1], [1], 1, { weightInit: constantInit(0) }), [1], 1);
    const rule = new MSTDP({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10 });
    rule.register(a.cell);
    expect(() => rule.step(reward as number)).toThrow(CinderArgumentError);
    rule.dispose();
  });
});
