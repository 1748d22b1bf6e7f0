// A layer's batch size changed mid-run (`layer.batchSize = 5` after steps at 2): every trainer
// keeps working, its per-sample traces restarting from zero at the new size as the neurons' states
// do. Reference: a model newly built at the new batch size with the weights (and delays) the
// changed model has at the change, fed the same inputs — its weights, delays and trainer state must
// be bit-identical step by step.
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { MSTDPET, STDP } from '../../../src/learn/trainers/index.js';
import { StateMonitor } from '../../../src/observe/monitors/state-monitor.js';
import { Recorder } from '../../../src/observe/monitors/recorder.js';
import { CumulativeTraceReducer } from '../../../src/observe/reducers/trace.js';
import { PassthroughReducer } from '../../../src/observe/reducers/passthrough.js';
import { FoldFunctionReducer } from '../../../src/observe/reducers/fold-function.js';
import { Network, disposeNetworkState } from '../../../src/network/network.js';
import { type Model, I, O, pair, cases, from, pattern, build, input, run, snapshot, trained, built, disposeBuilt } from './batch-harness.js';

afterEach(disposeBuilt);

describe('a batch-size change mid-run: trainers follow (reference: a model newly built at the new size)', () => {
  for (const [name, make, step] of cases) {
    it(`${name}: 3 steps at B=2, B → 5, 6 steps equal the fresh B=5 model bit for bit; tensor count flat`, () => {
      const a = build(2);
      const ta = make();
      built.push(ta, a);
      ta.register(a.cell('connection', 'neuron'));
      for (let t = 0; t < 3; t++) run(a, ta, step, t);
      a.batchSize = 5;
      const w0 = Array.from(a.connection.weight.dataSync());
      const d0 = Array.from(a.connection.delay!.dataSync());
      const got: number[][] = [];
      for (let t = 3; t < 9; t++) {
        got.push([...run(a, ta, step, t), ...a.neuron.voltage.dataSync()]);
      }
      const snapA = snapshot(ta);
      // changing back and forth holds no more tensors: B → 2, 4 steps, B → 5, 4 steps
      const at5 = tf.memory().numTensors;
      a.batchSize = 2;
      for (let t = 0; t < 4; t++) run(a, ta, step, t);
      a.batchSize = 5;
      for (let t = 0; t < 4; t++) run(a, ta, step, t);
      expect(tf.memory().numTensors).toBe(at5);
      const b = build(5, pattern((k) => w0[k]!), pattern((k) => d0[k]!));
      const tb = make();
      built.push(tb, b);
      tb.register(b.cell('connection', 'neuron'));
      for (let t = 3; t < 9; t++) expect(got[t - 3]).toEqual([...run(b, tb, step, t), ...b.neuron.voltage.dataSync()]);
      const p0 = [...w0, ...d0];
      expect(got.some((g) => g.slice(0, p0.length).some((w, k) => w !== p0[k]))).toBe(true); // the steps after the change learned
      expect(snapA).toEqual(snapshot(tb));
    });
  }

  it('STDP in evaluation mode during the change (monitors detached) restarts its traces too', () => {
    const [, , step] = cases[0]!;
    const { layer: a, trainer: ta } = trained(cases[0]!, 2, 3);
    ta.train(false);
    a.batchSize = 5;
    ta.train(true);
    const { layer: b, trainer: tb } = trained(cases[0]!, 5, 0, 0, from(a.connection.weight), from(a.connection.delay!));
    for (let t = 3; t < 6; t++) expect(run(a, ta, step, t)).toEqual(run(b, tb, step, t));
    expect(snapshot(ta)).toEqual(snapshot(tb));
  });

  it('STDP: the batch size set on the modules directly (neuron, then connection) restarts the traces too; setting the same size changes nothing', () => {
    const [, , step] = cases[0]!;
    const { layer: a, trainer: ta } = trained(cases[0]!, 2, 3);
    const same = snapshot(ta);
    a.batchSize = 2;
    expect(snapshot(ta)).toEqual(same);
    a.neuron.batchSize = 5;
    a.connection.batchSize = 5;
    const { layer: b, trainer: tb } = trained(cases[0]!, 5, 0, 0, from(a.connection.weight), from(a.connection.delay!));
    for (let t = 3; t < 6; t++) expect(run(a, ta, step, t)).toEqual(run(b, tb, step, t));
    expect(snapshot(ta)).toEqual(snapshot(tb));
  });

  it('the repro: STDP on a Serial, forward at B=5 after the change does not throw, and a failing step changes nothing', () => {
    const layer = build(2);
    const stdp = new STDP({ lrPost: 0.01, lrPre: -0.012, tauPre: 20, tauPost: 20 });
    built.push(stdp, layer);
    stdp.register(layer.cell('connection', 'neuron'));
    for (let i = 0; i < 3; i++) {
      tf.dispose(layer.forward(tf.ones([2, I])));
      stdp.step();
      layer.connection.update();
    }
    layer.batchSize = 5;
    expect(() => tf.dispose(layer.forward(tf.ones([5, I])))).not.toThrow();
    // a step that fails (input of the old batch) changes no state: voltages, traces
    const v = Array.from(layer.neuron.voltage.dataSync());
    const s = snapshot(stdp as never);
    expect(() => layer.forward(tf.ones([2, I]))).toThrow(/invalid spikes of input "connection": got tensor of shape \[2, 4\] \(float32\), expected shape \[5, 4\]/);
    expect(Array.from(layer.neuron.voltage.dataSync())).toEqual(v);
    expect(snapshot(stdp as never)).toEqual(s);
  });
});

describe('monitors attached to a layer whose batch size changes', () => {
  it('a trace monitor of the spikes restarts at the new size (as a new monitor would); a weight monitor keeps its history', () => {
    const a = build(2);
    built.push(a);
    const trace = new StateMonitor(() => a.neuron.spike, new CumulativeTraceReducer({ dt: 1, tau: 5 }));
    const weights = new StateMonitor(() => a.connection.weight, new PassthroughReducer({ history: 8 }));
    built.push(trace, weights);
    a.attach(trace);
    a.attach(weights);
    for (let t = 0; t < 3; t++) tf.tidy(() => void a.forward(input(t, 2)));
    a.batchSize = 5;
    // reference: float64 trace of the B=5 spikes from 0, folded in the test
    const ref = new Array<number>(5 * O).fill(0);
    for (let t = 3; t < 6; t++) {
      tf.tidy(() => void a.forward(input(t, 5)));
      const s = Array.from(a.neuron.spike.dataSync());
      for (let k = 0; k < ref.length; k++) ref[k] = Math.exp(-1 / 5) * ref[k]! + s[k]!;
      const got = Array.from(trace.latest.dataSync());
      expect(trace.latest.shape).toEqual([5, O]);
      got.forEach((g, k) => expect(g).toBeCloseTo(ref[k]!, 6));
    }
    expect(trace.reducer.count).toBe(3);
    expect(weights.reducer.count).toBe(6); // weights do not depend on the batch: their history continues
  });

  it('a recorder holding records refuses the change before anything changes; after clear() it follows', () => {
    const a = build(2);
    built.push(a);
    const rec = new Recorder(() => a.neuron.voltage, { capacity: 4 });
    built.push(rec);
    a.attach(rec);
    for (let t = 0; t < 2; t++) tf.tidy(() => void a.forward(input(t, 2)));
    const v = Array.from(a.neuron.voltage.dataSync());
    const count = tf.memory().numTensors;
    expect(() => (a.batchSize = 5)).toThrow(/invalid batchSize: got 5, expected no change while an attached Recorder holds 2 records of shape \[2, 3\]/);
    expect(a.batchSize).toBe(2);
    expect(a.connection.batchSize).toBe(2);
    expect(Array.from(a.neuron.voltage.dataSync())).toEqual(v);
    expect(rec.size).toBe(2);
    expect(tf.memory().numTensors).toBe(count);
    rec.clear();
    a.batchSize = 5;
    tf.tidy(() => void a.forward(input(2, 5)));
    expect(rec.ago(0).shape).toEqual([5, O]);
  });
});

describe('saving after a batch-size change', () => {
  it('Network.exportState at B=5 (after steps at 2) imported into a network built at 5 continues bit for bit', () => {
    const make = (batch: number) => {
      const layer = build(batch);
      const net = new Network();
      net.addLayer('layer', layer);
      const stdp = new MSTDPET({ ...pair, tauEligibility: 20 });
      stdp.register(layer.cell('connection', 'neuron'));
      net.addTrainer('mstdpet', stdp, (t, info) => t.step(info.reward ?? 0));
      built.push(net);
      return { net, layer };
    };
    const a = make(2);
    const stepNet = (m: { net: Network; layer: Model }, t: number): number[] => {
      const x = input(t, m.layer.batchSize);
      tf.dispose(m.net.step(x, { reward: t % 2 ? 1 : -0.5 }));
      x.dispose();
      return [...m.layer.connection.weight.dataSync(), ...m.layer.neuron.voltage.dataSync()];
    };
    for (let t = 0; t < 3; t++) stepNet(a, t);
    a.layer.batchSize = 5;
    for (let t = 3; t < 6; t++) stepNet(a, t);
    const saved = a.net.exportState();
    const b = make(5);
    b.net.importState(saved);
    disposeNetworkState(saved);
    for (let t = 6; t < 10; t++) expect(stepNet(b, t)).toEqual(stepNet(a, t));
  });
});

describe('a monitor whose restart at the new size fails', () => {
  it('keeps the values it had (the fold that threw is undone)', () => {
    const a = build(2);
    built.push(a);
    // a reducer that refuses observations of 5 samples, fresh or not
    const m = new StateMonitor(() => a.neuron.spike, new FoldFunctionReducer<[tf.Tensor]>(([s], z) => {
      if (s.shape[0] === 5) throw new Error('no 5');
      return z === null ? s.clone() : tf.add(z, s);
    }));
    built.push(m);
    a.attach(m);
    for (let t = 0; t < 3; t++) tf.tidy(() => void a.forward(input(t, 2)));
    const kept = Array.from(m.latest.dataSync());
    a.batchSize = 5;
    expect(() => tf.tidy(() => void a.forward(input(3, 5)))).toThrow('no 5');
    expect(m.reducer.count).toBe(3);
    expect(m.latest.shape).toEqual([2, O]);
    expect(Array.from(m.latest.dataSync())).toEqual(kept);
  });
});
