// Snapshots and monitors across batch sizes: a trainer or monitor snapshot taken at another batch
// size is refused on restore (before anything changes), and a monitor detached while its layer
// changed its batch size restarts at the new size when attached again — instead of throwing from
// its fold after the neurons stepped. References: twins never asked to restore, float64 traces
// folded in the test.
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { disposeSnapshot } from '../../../src/core/snapshot.js';
import { STDP } from '../../../src/learn/trainers/index.js';
import { StateMonitor } from '../../../src/observe/monitors/state-monitor.js';
import { Recorder } from '../../../src/observe/monitors/recorder.js';
import { CumulativeTraceReducer } from '../../../src/observe/reducers/trace.js';
import { PassthroughReducer } from '../../../src/observe/reducers/passthrough.js';
import { Network, disposeNetworkState } from '../../../src/network/network.js';
import { type Model, O, pair, cases, from, pattern, build, input, run, snapshot, trained, built, disposeBuilt } from './batch-harness.js';

afterEach(disposeBuilt);

describe('trainer.restoreState of a snapshot taken at another batch size', () => {
  for (const c of cases) {
    it(`${c[0]}: a B=2 snapshot into a trainer whose layer now has B=5 is refused before anything changes; the trainer learns on as if never asked`, () => {
      const src = trained(c, 2, 3);
      const saved = src.trainer.snapshotState();
      // the target: built at 2, stepped, changed to 5, stepped (so its traces are [5, …]); its twin is never asked to restore
      const w = pattern((k) => 2 + ((k * 3) % 4) * 0.5);
      const a = trained(c, 2, 2, 10, w);
      const b = trained(c, 2, 2, 10, w);
      for (const m of [a, b]) {
        m.layer.batchSize = 5;
        run(m.layer, m.trainer, c[2], 12);
      }
      const before = snapshot(a.trainer);
      const v = Array.from(a.layer.neuron.voltage.dataSync());
      built.push({ dispose: () => disposeSnapshot(saved) });
      const count = tf.memory().numTensors;
      // (VoltageSTDP checks its sites itself, with its own message)
      expect(() => a.trainer.restoreState(saved)).toThrow(/invalid snapshot \S+: got (tensor of shape )?\[2, ?\d+(, ?\d+)*\]( \(float32\))?, expected shape \[5, \d+(, \d+)*\] \(the /);
      expect(tf.memory().numTensors).toBe(count);
      expect(snapshot(a.trainer)).toEqual(before);
      expect(Array.from(a.layer.neuron.voltage.dataSync())).toEqual(v);
      for (let t = 13; t < 16; t++) expect([...run(a.layer, a.trainer, c[2], t), ...a.layer.neuron.voltage.dataSync()]).toEqual([...run(b.layer, b.trainer, c[2], t), ...b.layer.neuron.voltage.dataSync()]);
      expect(snapshot(a.trainer)).toEqual(snapshot(b.trainer));
    });
  }

  it('STDP: a snapshot at the same batch size is still restored, also into a trainer in evaluation mode, and steps on', () => {
    const c = cases[0]!;
    const src = trained(c, 5, 3);
    const saved = src.trainer.snapshotState();
    const dst = trained(c, 5, 0, 0, from(src.layer.connection.weight), from(src.layer.connection.delay!));
    tf.tidy(() => void dst.layer.forward(input(20, 5))); // its own traces, then replaced
    dst.trainer.train(false);
    dst.trainer.restoreState(saved);
    dst.trainer.train(true);
    disposeSnapshot(saved);
    expect(snapshot(dst.trainer)).toEqual(snapshot(src.trainer));
    expect(() => run(dst.layer, dst.trainer, c[2], 3)).not.toThrow();
  });
});

describe('StateMonitor.restoreState against the observed shapes', () => {
  it('a [2, 3] trace snapshot into a monitor of [5, 3] spikes is refused (values kept); a [5, 3] one restores and folds on (float64 reference)', () => {
    const a = build(2);
    const b = build(5);
    built.push(a, b);
    const ma = new StateMonitor(() => a.neuron.spike, new CumulativeTraceReducer({ dt: 1, tau: 5 }));
    const mb = new StateMonitor(() => b.neuron.spike, new CumulativeTraceReducer({ dt: 1, tau: 5 }));
    built.push(ma, mb);
    a.attach(ma);
    b.attach(mb);
    for (let t = 0; t < 3; t++) tf.tidy(() => void a.forward(input(t, 2)));
    for (let t = 0; t < 2; t++) tf.tidy(() => void b.forward(input(t + 7, 5)));
    const s2 = ma.snapshotState();
    const kept = Array.from(mb.latest.dataSync());
    expect(() => mb.restoreState(s2)).toThrow('invalid snapshot h0: got tensor of shape [2, 3] (float32), expected shape [5, 3] (the shape of the observed state now; was the snapshot taken at another batch size?)');
    disposeSnapshot(s2);
    expect(mb.reducer.count).toBe(2);
    expect(mb.latest.shape).toEqual([5, O]);
    expect(Array.from(mb.latest.dataSync())).toEqual(kept);
    // a snapshot of the right shape: restored, then folds x ← e^{-1/5}·x + s
    const restored = Array.from({ length: 5 * O }, (_, k) => 0.25 * k);
    tf.tidy(() => mb.restoreState({ tensors: { h0: tf.tensor2d(restored, [5, O]) }, values: { folds: 4, calls: 4 } })); // (restoreState clones)
    tf.tidy(() => void b.forward(input(3, 5)));
    const s = Array.from(b.neuron.spike.dataSync());
    Array.from(mb.latest.dataSync()).forEach((g, k) => expect(g).toBeCloseTo(Math.exp(-1 / 5) * restored[k]! + s[k]!, 5));
    expect(mb.reducer.count).toBe(5);
  });

  it('a monitor whose accessor cannot be read at restore time restores without the check', () => {
    const other = new StateMonitor(() => tf.ones([2, 3]), new PassthroughReducer());
    const m = new StateMonitor(() => other.latest, new CumulativeTraceReducer({ dt: 1, tau: 5 }));
    built.push(other, m);
    tf.tidy(() => m.restoreState({ tensors: { h0: tf.tensor2d([1, 2, 3], [1, 3]) }, values: { folds: 1, calls: 1 } })); // (restoreState clones)
    expect(Array.from(m.latest.dataSync())).toEqual([1, 2, 3]);
  });
});

describe('Network.importState of a trainer snapshot at another batch size', () => {
  const make = (batch: number) => {
    const layer = build(batch);
    const net = new Network();
    net.addLayer('layer', layer);
    const stdp = new STDP(pair);
    stdp.register(layer.cell('connection', 'neuron'));
    net.addTrainer('stdp', stdp, (t) => t.step());
    built.push(net);
    return { net, layer, stdp };
  };
  const stepNet = (m: { net: Network; layer: Model }, t: number): number[] => {
    const x = input(t, m.layer.batchSize);
    tf.dispose(m.net.step(x));
    x.dispose();
    return [...m.layer.connection.weight.dataSync(), ...m.layer.neuron.voltage.dataSync()];
  };

  it('a whole B=2 state into a B=5 network is refused by the module shapes; B=5 module states with a B=2 trainer part are refused by the trainer, nothing changed', () => {
    const a = make(2);
    const b = make(5);
    const twin = make(5);
    for (let t = 0; t < 3; t++) stepNet(a, t);
    for (let t = 0; t < 2; t++) {
      stepNet(b, t + 4);
      stepNet(twin, t + 4);
    }
    const s2 = a.net.exportState();
    const s5 = b.net.exportState();
    const mixed = { ...s5, snapshot: s2.snapshot };
    const before = snapshot(b.stdp as never);
    try {
      expect(() => b.net.importState(s2)).toThrow(/invalid extras of module "layer\.\w+" in the saved state: got .*batchSize\\":2/);
      expect(() => b.net.importState(mixed)).toThrow(/invalid snapshot h0: got tensor of shape \[2, \d\] \(float32\), expected shape \[5, \d\]/);
    } finally {
      disposeNetworkState(s2);
      disposeNetworkState(s5);
    }
    expect(snapshot(b.stdp as never)).toEqual(before);
    for (let t = 6; t < 9; t++) expect(stepNet(b, t)).toEqual(stepNet(twin, t));
  });
});

describe('a monitor detached during a batch-size change and attached again', () => {
  it('a trace of the spikes restarts at the new size on its next fold (float64 reference); a weight monitor keeps its history; no change: the trace folds on', () => {
    const a = build(2);
    built.push(a);
    const trace = new StateMonitor(() => a.neuron.spike, new CumulativeTraceReducer({ dt: 1, tau: 5 }));
    const weights = new StateMonitor(() => a.connection.weight, new PassthroughReducer({ history: 8 }));
    built.push(trace, weights);
    a.attach(trace);
    a.attach(weights);
    for (let t = 0; t < 3; t++) tf.tidy(() => void a.forward(input(t, 2)));
    // detached and attached again without a change: the trace folds on from its values
    a.detach(trace);
    a.attach(trace);
    const prev = Array.from(trace.latest.dataSync());
    tf.tidy(() => void a.forward(input(3, 2)));
    const s2 = Array.from(a.neuron.spike.dataSync());
    Array.from(trace.latest.dataSync()).forEach((g, k) => expect(g).toBeCloseTo(Math.exp(-1 / 5) * prev[k]! + s2[k]!, 5));
    expect(trace.reducer.count).toBe(4);
    a.detach(trace);
    a.detach(weights);
    a.batchSize = 5;
    a.attach(trace);
    a.attach(weights);
    const ref = new Array<number>(5 * O).fill(0);
    for (let t = 4; t < 7; t++) {
      tf.tidy(() => void a.forward(input(t, 5)));
      const s = Array.from(a.neuron.spike.dataSync());
      for (let k = 0; k < ref.length; k++) ref[k] = Math.exp(-1 / 5) * ref[k]! + s[k]!;
      expect(trace.latest.shape).toEqual([5, O]);
      Array.from(trace.latest.dataSync()).forEach((g, k) => expect(g).toBeCloseTo(ref[k]!, 5));
    }
    expect(trace.reducer.count).toBe(3);
    expect(weights.reducer.count).toBe(7);
  });

  it('a monitor restored while detached, then the batch changed: restarts at the new size when attached again', () => {
    const a = build(2);
    built.push(a);
    const trace = new StateMonitor(() => a.neuron.spike, new CumulativeTraceReducer({ dt: 1, tau: 5 }));
    built.push(trace);
    tf.tidy(() => trace.restoreState({ tensors: { h0: tf.fill([2, O], 3) }, values: { folds: 2, calls: 2 } })); // (restoreState clones)
    a.batchSize = 5;
    a.attach(trace);
    tf.tidy(() => void a.forward(input(0, 5)));
    expect(Array.from(trace.latest.dataSync())).toEqual(Array.from(a.neuron.spike.dataSync()));
    expect(trace.reducer.count).toBe(1);
  });
});

describe('a recorder detached during a batch-size change and attached again', () => {
  it('holding records of [2, 3], it refuses to be attached to the state now [5, 3] (not attached, records kept); after clear() it attaches and records', () => {
    const a = build(2);
    built.push(a);
    const rec = new Recorder(() => a.neuron.voltage, { capacity: 4 });
    built.push(rec);
    a.attach(rec);
    for (let t = 0; t < 2; t++) tf.tidy(() => void a.forward(input(t, 2)));
    const held = Array.from(rec.ago(1).dataSync());
    a.detach(rec);
    a.batchSize = 5;
    expect(() => a.attach(rec)).toThrow('invalid recorded state: got "shape [5, 3]", expected shape [2, 3] while the Recorder holds 2 records of it');
    // not attached: a step records nothing and does not throw
    tf.tidy(() => void a.forward(input(2, 5)));
    expect(rec.size).toBe(2);
    expect(Array.from(rec.ago(1).dataSync())).toEqual(held);
    expect(() => a.detach(rec)).not.toThrow();
    rec.clear();
    a.attach(rec);
    tf.tidy(() => void a.forward(input(3, 5)));
    expect(rec.size).toBe(1);
    expect(Array.from(rec.ago(0).dataSync())).toEqual(Array.from(a.neuron.voltage.dataSync()));
  });

  it('attached again with no change, it records on', () => {
    const a = build(2);
    built.push(a);
    const rec = new Recorder(() => a.neuron.voltage, { capacity: 4 });
    built.push(rec);
    a.attach(rec);
    tf.tidy(() => void a.forward(input(0, 2)));
    a.detach(rec);
    a.attach(rec);
    tf.tidy(() => void a.forward(input(1, 2)));
    expect(rec.size).toBe(2);
    expect(Array.from(rec.ago(0).dataSync())).toEqual(Array.from(a.neuron.voltage.dataSync()));
  });
});

describe('Recorder.restoreState against the recorded state', () => {
  it('records of [2, 3] into a recorder of [5, 3] voltages are refused (its records kept); records of [5, 3] restore and it records on', () => {
    const a = build(2);
    const b = build(5);
    built.push(a, b);
    const ra = new Recorder(() => a.neuron.voltage, { capacity: 4 });
    const rb = new Recorder(() => b.neuron.voltage, { capacity: 4 });
    built.push(ra, rb);
    a.attach(ra);
    b.attach(rb);
    for (let t = 0; t < 2; t++) tf.tidy(() => void a.forward(input(t, 2)));
    tf.tidy(() => void b.forward(input(5, 5)));
    const kept = Array.from(rb.ago(0).dataSync());
    const s2 = ra.snapshotState();
    built.push({ dispose: () => disposeSnapshot(s2) });
    expect(() => rb.restoreState(s2)).toThrow('invalid snapshot record r0: got tensor of shape [2, 3] (float32), expected shape [5, 3] (the shape of the recorded state now; was the snapshot taken at another batch size?)');
    expect(rb.size).toBe(1);
    expect(Array.from(rb.ago(0).dataSync())).toEqual(kept);
    const r0 = Array.from({ length: 5 * O }, (_, k) => -65 + 0.1 * k);
    tf.tidy(() => rb.restoreState({ tensors: { r0: tf.tensor2d(r0, [5, O]) }, values: { calls: 3, steps: [3] } })); // (restoreState clones)
    tf.tidy(() => void b.forward(input(6, 5)));
    expect(rb.size).toBe(2);
    expect(rb.recordedSteps()).toEqual([3, 4]);
    expect(Array.from(rb.ago(1).dataSync())).toEqual(Array.from(Float32Array.from(r0)));
    expect(Array.from(rb.ago(0).dataSync())).toEqual(Array.from(b.neuron.voltage.dataSync()));
  });
});
