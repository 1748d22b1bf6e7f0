// A layer's batch size changed mid-run (`layer.batchSize = 5` after steps at 2): every trainer
// keeps working, its per-sample traces restarting from zero at the new size as the neurons' states
// do. Reference: a model newly built at the new batch size with the weights (and delays) the
// changed model has at the change, fed the same inputs — its weights, delays and trainer state must
// be bit-identical step by step.
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { disposeSnapshot } from '../../../src/core/snapshot.js';
import { LinearDense } from '../../../src/neural/connections/linear-dense.js';
import { LIF } from '../../../src/neural/neurons/lif.js';
import { Serial } from '../../../src/neural/layers/serial.js';
import type { Initializer } from '../../../src/neural/connections/initializers.js';
import {
  DelayAdjustedKernelSTDP, DelayAdjustedMSTDP, DelayAdjustedSTDP, DelayAdjustedSTDPD, KernelSTDP, LinearHomeostasis, MSTDP, MSTDPET, STDP, TripletSTDP, VoltageSTDP,
  expStdpPostKernel, expStdpPreKernel,
} from '../../../src/learn/trainers/index.js';
import type { CellTrainer } from '../../../src/learn/toolkit/trainer.js';
import { StateMonitor } from '../../../src/observe/monitors/state-monitor.js';
import { Recorder } from '../../../src/observe/monitors/recorder.js';
import { CumulativeTraceReducer } from '../../../src/observe/reducers/trace.js';
import { PassthroughReducer } from '../../../src/observe/reducers/passthrough.js';
import { FoldFunctionReducer } from '../../../src/observe/reducers/fold-function.js';
import { Network, disposeNetworkState } from '../../../src/network/network.js';

type AnyTrainer = CellTrainer<object, never> & { step(...a: unknown[]): void };
type Model = Serial<LinearDense, LIF>;

const I = 4;
const O = 3;
const pair = { lrPost: 0.05, lrPre: -0.04, tauPost: 10, tauPre: 7 };
const delayed = { lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 };
const kPost = expStdpPostKernel(0.1, 20);
const kPre = expStdpPreKernel(-0.05, 20);
const cases: [string, () => AnyTrainer, (t: AnyTrainer) => void][] = [
  ['STDP', () => new STDP(pair) as never, (t) => t.step()],
  ['STDP (nearest, delayed traces)', () => new STDP({ ...pair, traceMode: 'nearest', delayed: true }) as never, (t) => t.step()],
  ['MSTDP', () => new MSTDP(pair) as never, (t) => t.step(0.7)],
  ['MSTDPET', () => new MSTDPET({ ...pair, tauEligibility: 20 }) as never, (t) => t.step(-0.6)],
  ['MSTDPET (reduced eligibility)', () => new MSTDPET({ ...pair, tauEligibility: 20, reduceEligibility: true }) as never, (t) => t.step(0.9)],
  ['TripletSTDP', () => new TripletSTDP({ lrPostPair: 0.05, lrPostTriplet: 0.03, lrPrePair: -0.04, lrPreTriplet: 0.02, tauPostFast: 8, tauPostSlow: 30, tauPreFast: 10, tauPreSlow: 40 }) as never, (t) => t.step()],
  ['KernelSTDP', () => new KernelSTDP({ kernelPost: kPost, kernelPre: kPre }) as never, (t) => t.step()],
  ['DelayAdjustedKernelSTDP', () => new DelayAdjustedKernelSTDP({ kernelPost: kPost, kernelPre: kPre }) as never, (t) => t.step()],
  ['DelayAdjustedSTDP', () => new DelayAdjustedSTDP(delayed) as never, (t) => t.step()],
  ['DelayAdjustedSTDPD', () => new DelayAdjustedSTDPD(delayed) as never, (t) => t.step()],
  ['DelayAdjustedMSTDP', () => new DelayAdjustedMSTDP(delayed) as never, (t) => t.step(0.8)],
  ['LinearHomeostasis', () => new LinearHomeostasis({ plasticity: 0.1, target: 0.25 }) as never, (t) => t.step()],
  ['VoltageSTDP', () => new VoltageSTDP({ thetaLtd: -66, thetaLtp: -64.5, ltdHalf: -65, ltpHalf: -64 } as never) as never, (t) => t.step()],
];

const from = (t: tf.Tensor): Initializer => () => t.clone();
const pattern = (values: (k: number) => number): Initializer => (s) => tf.tensor(Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, k) => values(k)), [...s]);

/** A dense 4 → 3 layer with delays and LIF neurons that spike now and then. */
function build(batch: number, weight: Initializer = pattern((k) => 2 + ((k * 7) % 5) * 0.5), delay: Initializer = pattern((k) => 0.25 + (k % 3) * 0.75)): Model {
  return new Serial(
    new LinearDense([I], [O], 1, { batchSize: batch, maxDelay: 2, weightInit: weight, delayInit: delay }),
    new LIF([O], 1, { restV: -65, resetV: -65, threshV: -64, refracT: 2, tauM: 10, batchSize: batch }),
  );
}

/** Input spikes of step t, sample b (distinct per sample and step). */
const input = (t: number, batch: number): tf.Tensor => tf.tensor2d(Array.from({ length: batch * I }, (_, k) => ((t * 5 + k * 3 + (k >> 2)) % 7 < 3 ? 1 : 0)), [batch, I]);

/** One training step; returns the connection's weights (and delays) after the update. */
function run(layer: Model, trainer: AnyTrainer, step: (t: AnyTrainer) => void, t: number): number[] {
  tf.tidy(() => void layer.forward(input(t, layer.batchSize)));
  step(trainer);
  layer.connection.update();
  return [...layer.connection.weight.dataSync(), ...(layer.connection.delay?.dataSync() ?? [])];
}

/** The trainer's snapshot as plain numbers (tensors by key, then the values). */
function snapshot(trainer: AnyTrainer): Record<string, unknown> {
  const s = trainer.snapshotState();
  const out: Record<string, unknown> = { ...s.values };
  for (const [k, v] of Object.entries(s.tensors)) out[k] = { shape: v.shape, data: Array.from(v.dataSync()) };
  disposeSnapshot(s);
  return out;
}

const built: { dispose(): void }[] = [];
afterEach(() => {
  for (const m of built.splice(0)) m.dispose();
});

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
    const [, make, step] = cases[0]!;
    const a = build(2);
    const ta = make();
    built.push(ta, a);
    ta.register(a.cell('connection', 'neuron'));
    for (let t = 0; t < 3; t++) run(a, ta, step, t);
    ta.train(false);
    a.batchSize = 5;
    ta.train(true);
    const b = build(5, from(a.connection.weight), from(a.connection.delay!));
    const tb = make();
    built.push(tb, b);
    tb.register(b.cell('connection', 'neuron'));
    for (let t = 3; t < 6; t++) expect(run(a, ta, step, t)).toEqual(run(b, tb, step, t));
    expect(snapshot(ta)).toEqual(snapshot(tb));
  });

  it('STDP: the batch size set on the modules directly (neuron, then connection) restarts the traces too; setting the same size changes nothing', () => {
    const [, make, step] = cases[0]!;
    const a = build(2);
    const ta = make();
    built.push(ta, a);
    ta.register(a.cell('connection', 'neuron'));
    for (let t = 0; t < 3; t++) run(a, ta, step, t);
    const same = snapshot(ta);
    a.batchSize = 2;
    expect(snapshot(ta)).toEqual(same);
    a.neuron.batchSize = 5;
    a.connection.batchSize = 5;
    const b = build(5, from(a.connection.weight), from(a.connection.delay!));
    const tb = make();
    built.push(tb, b);
    tb.register(b.cell('connection', 'neuron'));
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
