import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import type { Observer } from '../../src/neural/types.js';
import {
  CAReducer, CumulativeTraceReducer, EMAReducer, FoldFunctionReducer, MultiStateMonitor, NearestTraceReducer,
  PassthroughReducer, Recorder, StateMonitor,
} from '../../src/observe/index.js';

/** A stand-in for a neuron group: a spike variable assigned once per step. */
class FakeNeurons {
  private readonly v = tf.variable(tf.zeros([2, 3]), false);
  t = 0;
  get spike(): tf.Tensor { return this.v; }
  /** Step t: neuron (b, j) spikes when (t + b + j) % 4 == 0. */
  step(): void {
    const t = this.t++;
    tf.tidy(() => this.v.assign(tf.tensor2d([0, 1].map((b) => [0, 1, 2].map((j) => ((t + b + j) % 4 === 0 ? 1 : 0))))));
  }
  dispose(): void { this.v.dispose(); }
}

describe('StateMonitor', () => {
  it('folds the accessor value after each step: trace = closed form', () => {
    const n = new FakeNeurons();
    const m = new StateMonitor(() => n.spike, new CumulativeTraceReducer({ dt: 1, tau: 10, amplitude: 0.5 }));
    const observers: Observer[] = [m];
    expect(m.trainOnly).toBe(true);
    for (let t = 0; t < 25; t++) tf.tidy(() => { n.step(); for (const o of observers) o.observe(); });
    const a = Math.exp(-0.1);
    const got = m.latest.arraySync() as number[][];
    for (let b = 0; b < 2; b++) for (let j = 0; j < 3; j++) {
      let x = 0;
      for (let t = 0; t < 25; t++) if ((t + b + j) % 4 === 0) x += 0.5 * a ** (24 - t);
      expect(got[b]![j]).toBeCloseTo(x, 6);
    }
    expect(m.reducer.decay).toBe(a); // typed access to the concrete reducer
    m.dispose(); n.dispose();
  });

  it('every: n folds only on the n-th, 2n-th, … call', () => {
    const n = new FakeNeurons();
    const m = new StateMonitor(() => n.spike, new PassthroughReducer({ history: 10 }), { every: 3, trainOnly: false });
    expect(m.trainOnly).toBe(false);
    for (let t = 0; t < 10; t++) { n.step(); m.observe(); }
    expect(m.reducer.count).toBe(3); // calls 3, 6, 9 -> steps 2, 5, 8
    const st = m.reducer.stack();
    const expected = [2, 5, 8].map((t) => [0, 1].map((b) => [0, 1, 2].map((j) => ((t + b + j) % 4 === 0 ? 1 : 0))));
    expect(st.arraySync()).toEqual(expected);
    st.dispose();
    m.clear();
    expect(m.reducer.size).toBe(0);
    m.dispose(); n.dispose();
  });

  it('firing rate with CAReducer = spikes per step', () => {
    const n = new FakeNeurons();
    const m = new StateMonitor(() => n.spike, new CAReducer());
    for (let t = 0; t < 40; t++) { n.step(); m.observe(); }
    expect(Array.from(m.latest.dataSync())).toEqual(new Array(6).fill(0.25));
    m.dispose(); n.dispose();
  });
});

describe('MultiStateMonitor', () => {
  it('folds several accessors together (eligibility from a trace monitor and spikes)', () => {
    const n = new FakeNeurons();
    const trace = new StateMonitor(() => n.spike, new NearestTraceReducer({ dt: 1, tau: 4 }));
    const gate = new FakeNeurons();
    gate.t = 2; // a second spike source shifted by 2 steps
    const c = tf.keep(tf.scalar(0.1)), d = tf.keep(tf.scalar(Math.exp(-1 / 8)));
    const elig = new MultiStateMonitor<[tf.Tensor, tf.Tensor]>(
      [() => trace.latest, () => gate.spike],
      new FoldFunctionReducer(([x, s], z) => (z === null ? tf.mul(c, tf.mul(x, s)) : tf.add(tf.mul(d, z), tf.mul(c, tf.mul(x, s))))),
    );
    let z = 0;
    let x = 0;
    for (let t = 0; t < 30; t++) {
      tf.tidy(() => { n.step(); gate.step(); trace.observe(); elig.observe(); });
      const pre = t % 4 === 0; // neuron (0, 0)
      const post = (t + 2) % 4 === 0;
      x = pre ? 1 : Math.exp(-1 / 4) * x;
      z = Math.exp(-1 / 8) * z + 0.1 * x * (post ? 1 : 0);
    }
    expect(elig.latest.dataSync()[0]).toBeCloseTo(z, 6);
    expect(z).toBeGreaterThan(0);
    elig.dispose(); trace.dispose(); n.dispose(); gate.dispose();
    tf.dispose([c, d]);
  });
});

describe('Recorder', () => {
  it('keeps the right entries every n steps in a ring of fixed capacity', () => {
    const n = new FakeNeurons();
    const rec = new Recorder(() => n.spike, { capacity: 5, every: 2 });
    expect(rec.trainOnly).toBe(false);
    for (let t = 0; t < 17; t++) { n.step(); rec.observe(); }
    expect(rec.size).toBe(5);
    expect(rec.recordedSteps()).toEqual([8, 10, 12, 14, 16]); // 1-based call numbers
    const { data, shape } = rec.toArray();
    expect(shape).toEqual([5, 2, 3]);
    const expected = [7, 9, 11, 13, 15].flatMap((t) => [0, 1].flatMap((b) => [0, 1, 2].map((j) => ((t + b + j) % 4 === 0 ? 1 : 0))));
    expect(Array.from(data)).toEqual(expected);
    const tt = rec.toTensor();
    expect(tt.shape).toEqual([5, 2, 3]);
    tt.dispose();
    expect(Array.from(rec.ago(0).dataSync())).toEqual(expected.slice(24));
    rec.clear();
    expect(rec.size).toBe(0);
    expect(() => rec.toTensor()).toThrow(CinderArgumentError);
    rec.dispose(); n.dispose();
  });

  it('memory stays flat: numTensors equal after 100 and after 5000 further steps', () => {
    const n = new FakeNeurons();
    const rec = new Recorder(() => n.spike, { capacity: 20, every: 3 }); // full after 60 steps
    const tr = new StateMonitor(() => n.spike, new CumulativeTraceReducer({ dt: 1, tau: 20, history: 16 }));
    const ema = new StateMonitor(() => tr.latest, new EMAReducer({ alpha: 0.1 }), { every: 2 });
    const observers: Observer[] = [rec, tr, ema];
    const step = () => tf.tidy(() => { n.step(); for (const o of observers) o.observe(); });
    for (let t = 0; t < 100; t++) step();
    const n100 = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    for (let t = 0; t < 5000; t++) step();
    expect(tf.memory().numTensors).toBe(n100);
    expect(tf.memory().numBytes).toBe(bytes);
    expect(rec.size).toBe(20);
    rec.dispose(); tr.dispose(); ema.dispose(); n.dispose();
  });
});

describe('a failed observe() changes nothing', () => {
  it('StateMonitor: a rejected observation neither folds nor counts the call (every keeps its phase)', () => {
    let shape = [3];
    const m = new StateMonitor(() => tf.ones(shape), new CumulativeTraceReducer({ dt: 1, tau: 4, history: 4 }), { every: 2 });
    m.observe(); m.observe(); // folds on call 2
    m.observe();
    shape = [4];
    expect(() => tf.tidy(() => m.observe())).toThrow(CinderArgumentError); // call 4 would fold: rejected
    expect(m.snapshotState().values.calls).toBe(3);
    shape = [3];
    m.observe(); // this is call 4: it folds
    expect(m.reducer.count).toBe(2);
    const thrower = new StateMonitor(() => { throw new Error('accessor failed'); }, new PassthroughReducer());
    expect(() => thrower.observe()).toThrow(/accessor failed/);
    expect(thrower.snapshotState().values.calls).toBe(0);
    m.dispose(); thrower.dispose();
  });

  it('Recorder: a record of another shape is rejected before anything changes', () => {
    let shape = [2, 3];
    const rec = new Recorder(() => tf.fill(shape, 7), { capacity: 3, every: 1 });
    rec.observe();
    const n = tf.memory().numTensors;
    shape = [2, 4];
    let err: unknown;
    try { tf.tidy(() => rec.observe()); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CinderArgumentError);
    expect((err as Error).message).toMatch(/invalid record: got tensor of shape \[2, 4\] \(float32\), expected shape \[2, 3\]/);
    expect(rec.size).toBe(1);
    expect(rec.snapshotState().values.calls).toBe(1);
    expect(tf.memory().numTensors).toBe(n + 1); // + the snapshot's copy above
    shape = [2, 3];
    rec.observe();
    expect(rec.recordedSteps()).toEqual([1, 2]);
    expect(rec.toArray().shape).toEqual([2, 2, 3]);
    rec.clear();
    shape = [5]; // a cleared recorder takes a new shape
    rec.observe();
    expect(rec.toArray().shape).toEqual([1, 5]);
    rec.dispose();
  });
});

describe('Recorder ring', () => {
  /** Records t (a [2] tensor [t, −t]) at call t = 1, 2, …; returns the recorder's contents. */
  function recordRun(capacity: number, calls: number, every = 1) {
    let t = 0;
    const rec = new Recorder(() => tf.tensor1d([t, -t]), { capacity, every });
    for (let i = 0; i < calls; i++) { t++; tf.tidy(() => rec.observe()); }
    return { rec, next: () => { t++; tf.tidy(() => rec.observe()); } };
  }

  it('exactly full, one over and many over keep the newest records, oldest first', () => {
    for (const [calls, want] of [[4, [1, 2, 3, 4]], [5, [2, 3, 4, 5]], [11, [8, 9, 10, 11]], [3, [1, 2, 3]]] as const) {
      const { rec } = recordRun(4, calls);
      expect(rec.recordedSteps()).toEqual(want);
      expect(Array.from(rec.toArray().data)).toEqual(want.flatMap((t) => [t, -t]));
      expect(Array.from(rec.ago(0).dataSync())).toEqual([calls, -calls]);
      rec.dispose();
    }
  });

  it('a wrapped ring saved and restored continues bit-identically, with the same tensor count', () => {
    let t = 0;
    const make = () => new Recorder(() => tf.tensor1d([t, -t]), { capacity: 5, every: 2 });
    const a = make();
    for (let i = 0; i < 13; i++) { t++; tf.tidy(() => a.observe()); } // records at calls 2, 4, …, 12: wrapped once
    expect(a.recordedSteps()).toEqual([4, 6, 8, 10, 12]);
    const snap = a.snapshotState();
    const b = make();
    b.restoreState(snap);
    tf.dispose(Object.values(snap.tensors));
    expect(Array.from(b.toArray().data)).toEqual(Array.from(a.toArray().data));
    const n = tf.memory().numTensors;
    for (let i = 0; i < 9; i++) { t++; tf.tidy(() => { a.observe(); b.observe(); }); } // calls 14 … 22
    expect(tf.memory().numTensors).toBe(n);
    expect(b.recordedSteps()).toEqual([14, 16, 18, 20, 22]);
    expect(b.recordedSteps()).toEqual(a.recordedSteps());
    expect(Array.from(b.toArray().data)).toEqual([14, 16, 18, 20, 22].flatMap((k) => [k, -k]));
    expect(Array.from(b.toArray().data)).toEqual(Array.from(a.toArray().data));
    a.dispose(); b.dispose();
  });
});

describe('restoring a snapshot whose records differ in shape', () => {
  it('Recorder: refused before anything changes (was accepted; toTensor then threw "must have matching shapes")', () => {
    let t = 0;
    const rec = new Recorder(() => tf.tensor1d([t, -t]), { capacity: 4 });
    for (let i = 0; i < 2; i++) { t++; tf.tidy(() => rec.observe()); }
    const r0 = tf.tensor1d([7, 8]);
    const r1 = tf.tensor1d([7, 8, 9]);
    const n = tf.memory().numTensors;
    expect(() => rec.restoreState({ tensors: { r0, r1 }, values: { calls: 5, steps: [3, 5] } })).toThrow(/invalid snapshot record r1: got tensor of shape \[3\] \(float32\), expected shape \[2\] \(the shape of r0\)/);
    expect(tf.memory().numTensors).toBe(n);
    expect(rec.recordedSteps()).toEqual([1, 2]);
    expect(Array.from(rec.toArray().data)).toEqual([1, -1, 2, -2]);
    t++; tf.tidy(() => rec.observe()); // the call count kept its value: this is call 3
    expect(rec.recordedSteps()).toEqual([1, 2, 3]);
    tf.dispose([r0, r1]); rec.dispose();
  });
});

describe('restoring a Recorder snapshot with bad call numbers or records of another dtype', () => {
  it('refused before anything changes (were accepted: recordedSteps() returned the junk, toTensor threw "matching dtypes" at the next record)', () => {
    let t = 0;
    const rec = new Recorder(() => tf.tensor1d([t, -t]), { capacity: 4, every: 2 });
    for (let i = 0; i < 4; i++) { t++; tf.tidy(() => rec.observe()); } // records at calls 2 and 4
    const f = tf.tensor1d([7, 8]);
    const g = tf.tensor1d([9, 10]);
    const int = tf.tensor1d([7, 8], 'int32');
    const n = tf.memory().numTensors;
    const bad: [Record<string, tf.Tensor>, unknown[], number, RegExp][] = [
      [{ r0: int }, [2], 3, /invalid snapshot record r0 dtype: got "int32", expected float32/],
      [{ r0: f, r1: int }, [2, 3], 3, /invalid snapshot record r1 dtype/],
      [{ r0: f }, ['a'], 3, /invalid snapshot steps\[0\]: got "a", expected an integer in \[1, 3\]/],
      [{ r0: f }, [0], 3, /invalid snapshot steps\[0\]: got 0/],
      [{ r0: f }, [4], 3, /invalid snapshot steps\[0\]: got 4, expected an integer in \[1, 3\]/],
      [{ r0: f }, [2.5], 3, /invalid snapshot steps\[0\]: got 2.5/],
      [{ r0: f, r1: g }, [3, 3], 5, /invalid snapshot steps\[1\]: got 3, expected an integer in \[4, 5\]/],
      [{ r0: f, r1: g }, [3, 1], 5, /invalid snapshot steps\[1\]: got 1/],
      [{ r0: f, r1: g }, [3, 4], 3, /invalid snapshot steps\[1\]: got 4, expected none \(at most 3 calls\)/],
    ];
    for (const [tensors, steps, calls, msg] of bad) {
      expect(() => rec.restoreState({ tensors, values: { calls, steps } })).toThrow(msg);
      expect(tf.memory().numTensors).toBe(n);
      expect(rec.recordedSteps()).toEqual([2, 4]);
    }
    // a good one: call numbers 1 and 5 of 6 calls (call 7 is not due, call 8 is)
    rec.restoreState({ tensors: { r0: f, r1: g }, values: { calls: 6, steps: [1, 5] } });
    expect(rec.recordedSteps()).toEqual([1, 5]);
    for (let i = 0; i < 2; i++) { t++; tf.tidy(() => rec.observe()); }
    expect(rec.recordedSteps()).toEqual([1, 5, 8]);
    expect(Array.from(rec.toArray().data)).toEqual([7, 8, 9, 10, t, -t]);
    tf.dispose([f, g, int]); rec.dispose();
  });
});
