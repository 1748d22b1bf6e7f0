// SpikeRecorder: the sparse events it records from a real LIF layer equal an independent list built
// by reading every step's spikes with `await data()`; counts and rates follow from that list; the
// streaming mode hands over the same events in order; nothing is read synchronously, the tensor
// count stays flat, a failed observe changes nothing, and snapshots (also through a Network) resume
// the recording exactly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { tf } from '../../src/core/tf.js';
import { initBackend } from '../../src/core/backend.js';
import { Rng } from '../../src/core/random.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { disposeSnapshot } from '../../src/core/snapshot.js';
import { Network, disposeNetworkState } from '../../src/network/index.js';
import { LinearDense } from '../../src/neural/connections/linear-dense.js';
import { uniformInit } from '../../src/neural/connections/initializers.js';
import { Serial } from '../../src/neural/layers/serial.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { SingleExponentialCurrent } from '../../src/neural/synapses/index.js';
import { SpikeRecorder, type RecordedSpikes } from '../../src/observe/index.js';

const N_IN = 10;
const SHAPE = [4, 5]; // 20 neurons per sample, flat index = 5·row + column
const N = 20;

/** A LIF layer [B, 4, 5] driven by seeded random input spikes; `step()` runs one step. */
function build(B: number, seed = 7) {
  const init = new Rng(seed);
  const layer = new Serial(
    new LinearDense([N_IN], SHAPE, 1, { synapse: SingleExponentialCurrent.factory({ charge: 30, tau: 5 }), batchSize: B, weightInit: uniformInit(init, 0, 1) }),
    new LIF(SHAPE, 1, { restV: -65, resetV: -65, threshV: -55, refracT: 2, tauM: 10, batchSize: B }),
  );
  const rng = new Rng(seed + 1000);
  const step = (): void =>
    tf.tidy(() => {
      const b = layer.batchSize;
      const x = tf.tensor2d(Array.from({ length: b * N_IN }, () => (rng.uniform() < 0.3 ? 1 : 0)), [b, N_IN]);
      layer.forward(x);
    });
  return { layer, step };
}

type Event = [step: number, sample: number, neuron: number];

/** The reference: this step's spikes read with `await data()`, appended as (step, sample, flat neuron). */
async function readStep(spikes: tf.Tensor, step: number, out: Event[]): Promise<void> {
  const d = await spikes.data();
  const B = spikes.shape[0]!;
  const n = spikes.size / B;
  for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) if (d[b * n + i] !== 0) out.push([step, b, i]);
}

function list(e: RecordedSpikes): Event[] {
  return Array.from(e.step, (s, k) => [s, e.sample[k]!, e.neuron[k]!]);
}

describe('SpikeRecorder', () => {
  it('records exactly the events of a per-step reference (1000 steps, chunk 64), with counts, rates, trains, a neuron subset and streaming', async () => {
    const B = 3;
    const { layer, step } = build(B);
    const rec = new SpikeRecorder(() => layer.neuron.spike, { chunkSteps: 64 });
    const subset = [17, 2, 9];
    const sub = new SpikeRecorder(() => layer.neuron.spike, { chunkSteps: 7, neurons: subset });
    const streamed: RecordedSpikes[] = [];
    let busy = false;
    const stream = new SpikeRecorder(() => layer.neuron.spike, {
      chunkSteps: 64,
      onChunk: async (e) => {
        expect(busy).toBe(false); // one at a time, in order
        busy = true;
        await new Promise((r) => setTimeout(r, 1));
        streamed.push(e);
        busy = false;
      },
    });
    for (const r of [rec, sub, stream]) layer.attach(r);
    const ref: Event[] = [];
    const T = 1000;
    for (let t = 1; t <= T; t++) {
      step();
      await readStep(layer.neuron.spike, t, ref);
    }
    expect(rec.observedSteps).toBe(T);
    await Promise.all([rec.flush(), sub.flush(), stream.flush()]);
    expect(rec.readSteps).toBe(T);
    expect(rec.pendingSteps).toBe(0);
    expect(ref.length).toBeGreaterThan(500); // an active layer
    expect(new Set(ref.map((e) => e[1])).size).toBe(B);

    // the events, in (step, sample, neuron) order — the reference is built in that order
    expect(list(rec.events())).toEqual(ref);
    expect(rec.spikeCount).toBe(ref.length);
    expect(rec.shape).toEqual([B, ...SHAPE]);
    // the subset: the reference's events of those neurons
    expect(Array.from(sub.neurons!)).toEqual([2, 9, 17]);
    expect(list(sub.events())).toEqual(ref.filter((e) => subset.includes(e[2])));
    // streaming: the chunks in order, concatenated = the reference; counts kept, events not
    expect(streamed.map((e) => e.step.length === 0 || (e.step[0]! >= 1 && e.step[e.step.length - 1]! <= T))).not.toContain(false);
    expect(streamed.flatMap(list)).toEqual(ref);
    expect(() => stream.events()).toThrow(CinderArgumentError);
    expect(() => stream.spikeTrains()).toThrow(CinderArgumentError);

    // counts [B, N] and rates (Hz) from the reference list
    const counts = new Float64Array(B * N);
    for (const [, b, i] of ref) counts[b * N + i]!++;
    expect(Array.from(rec.count())).toEqual(Array.from(counts));
    expect(Array.from(stream.count())).toEqual(Array.from(counts));
    expect(Array.from(sub.count())).toEqual(Array.from(counts, (c, k) => (subset.includes(k % N) ? c : 0)));
    const dt = 0.5; // ms
    const rates = rec.rates(dt);
    for (let k = 0; k < B * N; k++) expect(rates[k]).toBeCloseTo(counts[k]! / (T * dt * 1e-3), 9);
    expect(() => rec.rates(0)).toThrow(CinderArgumentError);
    // spike trains of sample 1: every neuron, its steps ascending
    const trains = rec.spikeTrains(1);
    expect([...trains.keys()]).toEqual(Array.from({ length: N }, (_, i) => i));
    for (const [i, steps] of trains) expect(Array.from(steps)).toEqual(ref.filter((e) => e[1] === 1 && e[2] === i).map((e) => e[0]));
    expect([...sub.spikeTrains(0).keys()]).toEqual([2, 9, 17]);
    expect(() => rec.spikeTrains(B)).toThrow(CinderArgumentError);

    for (const r of [rec, sub, stream]) r.dispose();
    layer.dispose();
  });

  it('a loop that never awaits: everything is read by flush(); then the tensor count is back where it was', async () => {
    const { layer, step } = build(2, 3);
    for (let t = 0; t < 3; t++) step(); // the layer's cached constants (made in its first steps)
    const before = tf.memory().numTensors;
    const rec = new SpikeRecorder(() => layer.neuron.spike, { chunkSteps: 16 });
    layer.attach(rec);
    const ref: Event[] = [];
    const held: tf.Tensor[] = [];
    for (let t = 1; t <= 100; t++) {
      step();
      held.push(layer.neuron.spike.clone());
    }
    // 6 chunks stacked (their reads cannot resolve: no await yet) and 4 records
    expect(rec.pendingSteps).toBe(100);
    for (const [k, s] of held.entries()) await readStep(s, k + 1, ref);
    tf.dispose(held);
    await rec.flush();
    expect(list(rec.events())).toEqual(ref);
    const counts: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let t = 0; t < 40; t++) step();
      await rec.flush();
      counts.push(tf.memory().numTensors);
    }
    expect(counts).toEqual(counts.map(() => before + 1)); // + the recorder's packing weights (freed by dispose)
    // disposed with 2 chunks in flight, 1 waiting and 8 records: all freed (the read ones once their reads settle)
    for (let t = 0; t < 56; t++) step();
    layer.detach(rec);
    rec.dispose();
    await new Promise((r) => setTimeout(r, 10));
    expect(tf.memory().numTensors).toBe(before);
    layer.dispose();
  });

  it('records in evaluation mode too (trainOnly defaults to false); trainOnly: true only while training', async () => {
    const { layer, step } = build(1, 17);
    const always = new SpikeRecorder(() => layer.neuron.spike, { chunkSteps: 4 });
    const training = new SpikeRecorder(() => layer.neuron.spike, { chunkSteps: 4, trainOnly: true });
    layer.attach(always);
    layer.attach(training);
    layer.train(false);
    for (let t = 0; t < 5; t++) step();
    layer.train(true);
    for (let t = 0; t < 3; t++) step();
    expect([always.observedSteps, training.observedSteps]).toEqual([8, 3]);
    always.dispose();
    training.dispose();
    layer.dispose();
  });

  it('bool and int32 spikes give the same events as float32', async () => {
    const { layer, step } = build(2, 11);
    const f = new SpikeRecorder(() => layer.neuron.spike, { chunkSteps: 10 });
    const b = new SpikeRecorder(() => tf.cast(layer.neuron.spike, 'bool'), { chunkSteps: 10 });
    const i = new SpikeRecorder(() => tf.cast(layer.neuron.spike, 'int32'), { chunkSteps: 33 });
    for (const r of [f, b, i]) layer.attach(r);
    for (let t = 0; t < 120; t++) step();
    await Promise.all([f.flush(), b.flush(), i.flush()]);
    expect(f.spikeCount).toBeGreaterThan(20);
    expect(list(b.events())).toEqual(list(f.events()));
    expect(list(i.events())).toEqual(list(f.events()));
    for (const r of [f, b, i]) r.dispose();
    layer.dispose();
  });

  it('a failed observe (accessor throws, other shape or dtype, neuron index out of range) changes nothing', async () => {
    let mode: 'ok' | 'throw' | 'shape' | 'dtype' = 'ok';
    let t = 0;
    const value = () => tf.tensor2d([[t % 2, 0, 1], [0, t % 3 === 0 ? 1 : 0, 0]]); // [2, 3]
    const accessor = (): tf.Tensor => {
      if (mode === 'throw') throw new Error('accessor failed');
      if (mode === 'shape') return tf.zeros([2, 4]);
      if (mode === 'dtype') return tf.cast(value(), 'int32');
      return value();
    };
    expect(() => new SpikeRecorder(accessor, { neurons: [3] }).observe()).toThrow(/invalid neurons: got 3, expected indices below 3/);
    const rec = new SpikeRecorder(accessor, { chunkSteps: 3 });
    const ref: Event[] = [];
    const before = tf.memory().numTensors;
    for (t = 1; t <= 10; t++) {
      mode = 'ok';
      tf.tidy(() => rec.observe());
      const v = value();
      await readStep(v, t, ref);
      v.dispose();
      for (const m of ['throw', 'shape', 'dtype'] as const) {
        mode = m;
        expect(() => tf.tidy(() => rec.observe())).toThrow(m === 'throw' ? /accessor failed/ : m === 'shape' ? /shape \[2, 3\]/ : /the dtype of the first record/);
        expect(rec.observedSteps).toBe(t);
      }
    }
    await rec.flush();
    expect(list(rec.events())).toEqual(ref);
    expect(Array.from(new Set(rec.events().step))).toEqual([...new Set(ref.map((e) => e[0]))]);
    rec.clear();
    expect(tf.memory().numTensors).toBe(before);
    // after clear(), another shape is accepted
    mode = 'shape';
    tf.tidy(() => rec.observe());
    expect(rec.shape).toEqual([2, 4]);
    rec.dispose();
  });

  it('bad options are refused', () => {
    const a = () => tf.zeros([1, 2]);
    expect(() => new SpikeRecorder(a, { chunkSteps: 0 })).toThrow(CinderArgumentError);
    expect(() => new SpikeRecorder(a, { chunkSteps: 2.5 })).toThrow(CinderArgumentError);
    expect(() => new SpikeRecorder(a, { neurons: [] })).toThrow(CinderArgumentError);
    expect(() => new SpikeRecorder(a, { neurons: [1, -1] })).toThrow(CinderArgumentError);
    expect(() => new SpikeRecorder(a, { neurons: [1, 1] })).toThrow(/distinct/);
    expect(() => new SpikeRecorder(a, { onChunk: 3 as unknown as () => void })).toThrow(CinderArgumentError);
    expect(() => new SpikeRecorder(null as unknown as () => tf.Tensor)).toThrow(CinderArgumentError);
    const r = new SpikeRecorder(() => tf.zeros([3]));
    expect(() => tf.tidy(() => r.observe())).toThrow(/at least one neuron dim/);
    expect(() => r.rates(1)).toThrow(/await flush/);
  });

  it('a failing onChunk: flush() throws, the chunk is handed over again on the next flush, none is lost', async () => {
    let t = 0;
    const rec = new SpikeRecorder(() => tf.tensor2d([[t % 2, 1]]), {
      chunkSteps: 4,
      onChunk: (e) => {
        if (fail) {
          fail = false;
          throw new Error('disk full');
        }
        got.push(...list(e));
      },
    });
    let fail = true;
    const got: Event[] = [];
    for (t = 1; t <= 10; t++) tf.tidy(() => rec.observe());
    await expect(rec.flush()).rejects.toThrow('disk full');
    expect(rec.readSteps).toBe(0);
    await rec.flush();
    const ref: Event[] = [];
    for (let s = 1; s <= 10; s++) {
      if (s % 2) ref.push([s, 0, 0]);
      ref.push([s, 0, 1]);
    }
    expect(got).toEqual(ref);
    rec.dispose();
  });

  it('batch size: a change is refused while the recorder holds records (nothing changes), allowed after clear()', async () => {
    const { layer, step } = build(2, 5);
    const rec = new SpikeRecorder(() => layer.neuron.spike, { chunkSteps: 8 });
    layer.attach(rec);
    for (let t = 0; t < 20; t++) step();
    expect(() => (layer.batchSize = 3)).toThrow(/no change while an attached SpikeRecorder holds 20 records of shape \[2, 4, 5\]/);
    expect(layer.batchSize).toBe(2);
    expect(layer.neuron.spike.shape).toEqual([2, ...SHAPE]);
    await rec.flush();
    expect(rec.readSteps).toBe(20);
    // detached, the layer may change; re-attaching a recorder holding [2, …] records is refused
    layer.detach(rec);
    layer.batchSize = 3;
    expect(() => layer.attach(rec)).toThrow(/shape \[2, 4, 5\] while the SpikeRecorder holds 20 records/);
    rec.clear();
    layer.attach(rec);
    layer.batchSize = 4; // nothing held: allowed
    const ref: Event[] = [];
    for (let t = 1; t <= 30; t++) {
      step();
      await readStep(layer.neuron.spike, t, ref);
    }
    await rec.flush();
    expect(rec.shape).toEqual([4, ...SHAPE]);
    expect(list(rec.events())).toEqual(ref);
    rec.dispose();
    layer.dispose();
  });

  it('snapshot in the middle of a run (records pending and in flight) restores into a new recorder that continues identically', async () => {
    // a deterministic source of [2, 3] spikes: neuron j of sample b spikes at step t when (t·(b+2) + j) % 5 < 2
    const spikesAt = (t: number) => tf.tensor2d([0, 1].map((b) => [0, 1, 2].map((j) => ((t * (b + 2) + j) % 5 < 2 ? 1 : 0))));
    let t = 0;
    const make = () => new SpikeRecorder(() => spikesAt(t), { chunkSteps: 16 });
    const a = make();
    for (t = 1; t <= 150; t++) tf.tidy(() => a.observe());
    await a.flush(); // 150 read
    for (; t <= 200; t++) tf.tidy(() => a.observe());
    // 3 chunks stacked with their reads started or waiting, 2 records unstacked
    expect(a.pendingSteps).toBe(50);
    const snap = a.snapshotState();
    expect(snap.values).toMatchObject({ calls: 200, read: 150, shape: [2, 3], dtype: 'float32', streaming: false });
    expect(snap.tensors.pending!.shape).toEqual([50, 2, 3]);
    const b = make();
    b.restoreState(snap);
    // a snapshot of the restored one before its reads: the same content
    const snap2 = b.snapshotState();
    const c = make();
    c.restoreState(snap2);
    disposeSnapshot(snap);
    disposeSnapshot(snap2);
    const continued = t;
    for (const r of [a, b, c]) {
      for (t = continued; t <= 260; t++) tf.tidy(() => r.observe());
    }
    await Promise.all([a.flush(), b.flush(), c.flush()]);
    const ref: Event[] = [];
    for (let s = 1; s <= 260; s++) {
      const v = spikesAt(s);
      await readStep(v, s, ref);
      v.dispose();
    }
    for (const r of [a, b, c]) {
      expect(list(r.events())).toEqual(ref);
      expect(r.readSteps).toBe(260);
      expect(Array.from(r.count())).toEqual(Array.from(a.count()));
    }
    // refused before anything changes: a snapshot of another shape, a streaming recorder
    const d = new SpikeRecorder(() => tf.zeros([3, 3]), { chunkSteps: 16 });
    const s3 = a.snapshotState();
    expect(() => d.restoreState(s3)).toThrow(/another batch size/);
    expect(() => new SpikeRecorder(() => spikesAt(t), { onChunk: () => {} }).restoreState(s3)).toThrow(/snapshot streaming/);
    disposeSnapshot(s3);
    for (const r of [a, b, c, d]) r.dispose();
  });

  it('steps and counts beyond 2^31 survive a snapshot (saved as two int32 halves)', async () => {
    const hi = (x: number) => Math.floor(x / 2 ** 31);
    const lo = (x: number) => x - hi(x) * 2 ** 31;
    const big = 2 ** 33 + 5;
    // memory mode: a restored state of `big` calls, all read, with one saved event at step `big` (its count 1)
    const rec = new SpikeRecorder(() => tf.tensor2d([[1, 0]]), { chunkSteps: 2 });
    const state = tf.tensor1d([hi(big), lo(big), 0, 0, 0, 0, 1, 0], 'int32');
    rec.restoreState({ tensors: { state }, values: { calls: big, read: big, events: 1, shape: [1, 2], dtype: 'float32', streaming: false } });
    state.dispose();
    tf.tidy(() => rec.observe());
    await rec.flush();
    expect(list(rec.events())).toEqual([[big, 0, 0], [big + 1, 0, 0]]);
    expect(Array.from(rec.count())).toEqual([2, 0]);
    const s = rec.snapshotState();
    const again = new SpikeRecorder(() => tf.tensor2d([[1, 0]]), { chunkSteps: 2 });
    again.restoreState(s);
    disposeSnapshot(s);
    await again.flush();
    expect(list(again.events())).toEqual([[big, 0, 0], [big + 1, 0, 0]]);
    expect(Array.from(again.count())).toEqual([2, 0]);
    rec.dispose();
    again.dispose();
    // streaming mode (counts kept, events not): a count of 2^32 + 3 over `big` read steps
    const count = 2 ** 32 + 3;
    const got: Event[] = [];
    const streaming = () => new SpikeRecorder(() => tf.tensor2d([[1, 0]]), { chunkSteps: 2, onChunk: (e) => { got.push(...list(e)); } });
    const sr = streaming();
    const st = tf.tensor1d([hi(count), 0, lo(count), 0], 'int32');
    sr.restoreState({ tensors: { state: st }, values: { calls: big, read: big, events: 0, shape: [1, 2], dtype: 'float32', streaming: true } });
    st.dispose();
    tf.tidy(() => sr.observe());
    await sr.flush();
    expect(got).toEqual([[big + 1, 0, 0]]);
    expect(Array.from(sr.count())).toEqual([count + 1, 0]);
    const s2 = sr.snapshotState();
    const sr2 = streaming();
    sr2.restoreState(s2);
    disposeSnapshot(s2);
    await sr2.flush();
    expect([sr2.readSteps, ...sr2.count()]).toEqual([big + 1, count + 1, 0]);
    sr.dispose();
    sr2.dispose();
  });

  it('a restored read part whose events are out of order, repeated, or disagree with the counts is refused when read, nothing taken (was accepted)', async () => {
    // neuron j of sample b spikes at step t when (t·(b+2) + j) % 5 < 2: shape [2, 3], 40 steps read
    const spikesAt = (t: number) => tf.tensor2d([0, 1].map((b) => [0, 1, 2].map((j) => ((t * (b + 2) + j) % 5 < 2 ? 1 : 0))));
    let t = 0;
    const a = new SpikeRecorder(() => spikesAt(t), { chunkSteps: 8 });
    for (t = 1; t <= 40; t++) tf.tidy(() => a.observe());
    await a.flush();
    const snap = a.snapshotState();
    const E = snap.values.events as number;
    const C = 6;
    const saved = Int32Array.from(await snap.tensors.state!.data());
    expect(saved.length).toBe(4 * E + 2 * C);
    const ev = list(a.events());
    // the saved events, in the recorder's layout: step low halves at E + k, samples at 2E + k, neurons at 3E + k, count low halves at 4E + C + i
    const at = (k: number) => ev.findIndex(([s]) => s === k);
    const k2 = ev.findIndex(([s, b], k) => k > 0 && s === ev[k - 1]![0] && b !== ev[k - 1]![1]); // first event of sample 1 after one of sample 0 in a step
    expect(k2).toBeGreaterThan(0);
    const restoreWith = (edit: (d: Int32Array) => void) => {
      const d = saved.slice();
      edit(d);
      const state = tf.tensor1d(d, 'int32');
      const rec = new SpikeRecorder(() => spikesAt(t), { chunkSteps: 8 });
      rec.restoreState({ tensors: { state }, values: snap.values });
      state.dispose();
      return rec;
    };
    const swap = (d: Int32Array, base: number, i: number, j: number) => { const x = d[base + i]!; d[base + i] = d[base + j]!; d[base + j] = x; };
    const cases: [string, (d: Int32Array) => void, RegExp][] = [
      // two events of different steps swapped (each event's steps, samples and neurons together)
      ['steps out of order', (d) => { const i = at(3), j = at(7); for (const base of [0, E, 2 * E, 3 * E]) swap(d, base, i, j); }, new RegExp(`^invalid restored event ${at(3) + 1}: got "\\(step 3, .* after \\(step 7, .*expected events sorted by step, then sample, then neuron, each once`)],
      // within one step, sample 1's event moved before sample 0's
      ['samples out of order', (d) => { for (const base of [0, E, 2 * E, 3 * E]) swap(d, base, k2 - 1, k2); }, new RegExp(`^invalid restored event ${k2}: got .*sample 0.* after .*sample 1.*expected events sorted by step, then sample, then neuron`)],
      // an event repeated: the same (step, sample, neuron) twice
      ['an event twice', (d) => { for (const base of [0, E, 2 * E, 3 * E]) d[base + 1] = d[base]!; }, /^invalid restored event 1: got .*expected events sorted by step, then sample, then neuron, each once/],
      // the events as saved, one count one too high
      ['a count off by one', (d) => { d[4 * E + C + 4]! += 1; }, new RegExp(`^invalid restored count of sample 1, neuron 1: got ${ev.filter(([, b, j]) => b === 1 && j === 1).length + 1}, expected ${ev.filter(([, b, j]) => b === 1 && j === 1).length} \\(its restored events\\)$`)],
    ];
    for (const [what, edit, msg] of cases) {
      const rec = restoreWith(edit);
      await expect(rec.flush(), what).rejects.toThrow(msg);
      await expect(rec.flush(), what).rejects.toThrow(msg); // refused again, not half taken
      expect([rec.readSteps, rec.spikeCount, rec.events().step.length, ...rec.count()], what).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
      rec.dispose();
    }
    // streaming (the state holds counts only): a count above the read steps (40) is refused, one of 40 taken
    const countsOnly = (c2: number) => {
      const state = tf.tensor1d([0, 0, 0, 0, 0, 0, 0, 0, c2, 0, 0, 0], 'int32');
      const rec = new SpikeRecorder(() => spikesAt(t), { chunkSteps: 8, onChunk: () => {} });
      rec.restoreState({ tensors: { state }, values: { ...snap.values, events: 0, streaming: true } });
      state.dispose();
      return rec;
    };
    const bad = countsOnly(41);
    await expect(bad.flush()).rejects.toThrow('invalid restored count of sample 0, neuron 2: got 41, expected a count in [0, 40] (at most one spike per read step)');
    expect([bad.readSteps, ...bad.count()]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    const fine = countsOnly(40);
    await fine.flush();
    expect([fine.readSteps, ...fine.count()]).toEqual([40, 0, 0, 40, 0, 0, 0]);
    // the snapshot as saved restores (events and counts as recorded)
    const ok = restoreWith(() => {});
    await ok.flush();
    expect(list(ok.events())).toEqual(ev);
    expect(Array.from(ok.count())).toEqual(Array.from(a.count()));
    for (const r of [a, bad, fine, ok]) r.dispose();
    disposeSnapshot(snap);
  });

  it('with a neurons subset, a restored event or streaming count of a neuron outside it is refused when read, nothing taken (was accepted)', async () => {
    // shape [2, 3], neurons 0 and 2 recorded; neuron j of sample b spikes at step t when (t·(b+2) + j) % 5 < 2 (neuron 1 spikes too)
    const spikesAt = (t: number) => tf.tensor2d([0, 1].map((b) => [0, 1, 2].map((j) => ((t * (b + 2) + j) % 5 < 2 ? 1 : 0))));
    const subset = [2, 0];
    let t = 0;
    const a = new SpikeRecorder(() => spikesAt(t), { chunkSteps: 8, neurons: subset });
    for (t = 1; t <= 40; t++) tf.tidy(() => a.observe());
    await a.flush();
    // reference: the recorded events by a plain loop over the pattern, neurons 0 and 2 only
    const want: Event[] = [];
    for (let s = 1; s <= 40; s++) for (let b = 0; b < 2; b++) for (const j of [0, 2]) if ((s * (b + 2) + j) % 5 < 2) want.push([s, b, j]);
    expect(list(a.events())).toEqual(want);
    const snap = a.snapshotState();
    const E = want.length;
    const C = 6;
    const saved = Int32Array.from(await snap.tensors.state!.data());
    expect(saved.length).toBe(4 * E + 2 * C);
    // an event of neuron 2 moved to neuron 1 (still sorted: 1 lies between 0 and 2), its count moved along (tally consistent)
    const k = want.findIndex(([, , j]) => j === 2);
    const [ks, kb] = want[k]!;
    const edited = saved.slice();
    edited[3 * E + k] = 1;
    edited[4 * E + C + kb * 3 + 2]! -= 1;
    edited[4 * E + C + kb * 3 + 1]! += 1;
    const restore = (d: Int32Array, values: typeof snap.values, onChunk?: () => void) => {
      const state = tf.tensor1d(d, 'int32');
      const rec = new SpikeRecorder(() => spikesAt(t), { chunkSteps: 8, neurons: subset, onChunk });
      rec.restoreState({ tensors: { state }, values });
      state.dispose();
      return rec;
    };
    const bad = restore(edited, snap.values);
    const msg = `invalid restored event ${k}: got "(step ${ks}, sample ${kb}, neuron 1)", expected a neuron among the 2 recorded neurons (options.neurons: 0, 2)`;
    await expect(bad.flush()).rejects.toThrow(msg);
    await expect(bad.flush()).rejects.toThrow(msg); // refused again, not half taken
    expect([bad.readSteps, bad.spikeCount, bad.events().step.length, ...bad.count()]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // streaming (counts only): a count of 1 for neuron 1 of sample 1 is refused; the recorded neurons' counts taken
    const counts = (c: number[]) => Int32Array.from([0, 0, 0, 0, 0, 0, ...c]);
    const values = { ...snap.values, events: 0, streaming: true };
    const sBad = restore(counts([3, 0, 4, 5, 1, 6]), values, () => {});
    await expect(sBad.flush()).rejects.toThrow('invalid restored count of sample 1, neuron 1: got 1, expected 0 (neuron 1 is not recorded: not among the 2 recorded neurons (options.neurons: 0, 2))');
    expect([sBad.readSteps, ...sBad.count()]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    const sOk = restore(counts([3, 0, 4, 5, 0, 6]), values, () => {});
    await sOk.flush();
    expect([sOk.readSteps, ...sOk.count()]).toEqual([40, 3, 0, 4, 5, 0, 6]);
    // the snapshot as saved restores (events and counts as recorded)
    const ok = restore(saved, snap.values);
    await ok.flush();
    expect(list(ok.events())).toEqual(want);
    expect(Array.from(ok.count())).toEqual(Array.from(a.count()));
    for (const r of [a, bad, sBad, sOk, ok]) r.dispose();
    disposeSnapshot(snap);
  });

  it('a restore is refused, nothing changed, when one chunk of the snapshot\'s records would exceed one tensor\'s 2^28 elements, as the first observe() is (was accepted)', async () => {
    // neuron j spikes at step t when (t + j) % 4 === 0: shape [1, 24]
    let t = 0;
    const acc = () => tf.tensor2d([Array.from({ length: 24 }, (_, j) => ((t + j) % 4 === 0 ? 1 : 0))]);
    const a = new SpikeRecorder(acc, { chunkSteps: 8 });
    for (t = 1; t <= 5; t++) tf.tidy(() => a.observe());
    await a.flush();
    const snap = a.snapshotState();
    // chunkSteps 2^24 of [1, 24]: 2^24 · 24 = 402653184 elements stacked (above 2^28 = 268435456; only 2^26 bytes of
    // packed words, within the default maxPendingBytes 2^28)
    const big = 2 ** 24;
    const msg = `invalid chunkSteps: got "${big * 24} elements for ${big} records of shape [1, 24] stacked (neurons padded to a multiple of 24)", expected at most ${2 ** 28} (2^28) elements for one tensor`;
    const fresh = new SpikeRecorder(acc, { chunkSteps: big });
    expect(() => tf.tidy(() => fresh.observe())).toThrow(msg);
    const before = tf.memory().numTensors;
    expect(() => fresh.restoreState(snap)).toThrow(msg);
    expect([fresh.observedSteps, fresh.readSteps, fresh.shape, tf.memory().numTensors]).toEqual([0, 0, null, before]);
    // 2^23 records (201326592 elements) restore and continue: the events of steps 1 … 7 by a plain loop
    const half = new SpikeRecorder(acc, { chunkSteps: big / 2 });
    half.restoreState(snap);
    for (t = 6; t <= 7; t++) tf.tidy(() => half.observe());
    await half.flush();
    const want: Event[] = [];
    for (let s = 1; s <= 7; s++) for (let j = 0; j < 24; j++) if ((s + j) % 4 === 0) want.push([s, 0, j]);
    expect(list(half.events())).toEqual(want);
    for (const r of [a, fresh, half]) r.dispose();
    disposeSnapshot(snap);
  });

  it('through Network.addMonitor: exportState mid-run, importState into a rebuilt network continues the recording', async () => {
    const make = () => {
      const built = build(2, 21);
      const net = new Network();
      net.addLayer('layer', built.layer);
      const rec = net.addMonitor('spikes', new SpikeRecorder(() => built.layer.neuron.spike, { chunkSteps: 64 }));
      built.layer.attach(rec);
      return { ...built, net, rec };
    };
    const inputs = (() => {
      const rng = new Rng(99);
      return Array.from({ length: 300 }, () => Array.from({ length: 2 * N_IN }, () => (rng.uniform() < 0.3 ? 1 : 0)));
    })();
    const run = (m: ReturnType<typeof make>, from: number, to: number) => {
      for (let k = from; k < to; k++) tf.tidy(() => void m.net.step(tf.tensor2d(inputs[k]!, [2, N_IN])));
    };
    const ref = make();
    run(ref, 0, 300);
    await ref.rec.flush();
    const a = make();
    run(a, 0, 170); // 2 chunks stacked, 42 records unstacked: nothing read yet
    const state = a.net.exportState();
    const b = make();
    b.net.importState(state);
    disposeNetworkState(state);
    // and through files (the int32 read part and the float32 pending records)
    const dir = mkdtempSync(join(tmpdir(), 'cinder-spikes-'));
    let c: ReturnType<typeof make> | null = null;
    try {
      await a.rec.flush(); // a save after a flush: the read part holds events, 42 records pending again below
      run(a, 170, 212);
      await a.net.save(dir);
      await Network.load(dir, () => (c = make()).net);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    run(b, 170, 300);
    run(c!, 212, 300);
    await Promise.all([b.rec.flush(), c!.rec.flush()]);
    expect(ref.rec.spikeCount).toBeGreaterThan(50);
    for (const m of [b, c!]) {
      expect(list(m.rec.events())).toEqual(list(ref.rec.events()));
      expect(Array.from(m.rec.count())).toEqual(Array.from(ref.rec.count()));
    }
    for (const m of [ref, a, b, c!]) m.net.dispose();
  });
});

describe('SpikeRecorder on the cpu backend', () => {
  let previous = '';
  beforeAll(async () => {
    previous = tf.getBackend();
    await initBackend({ backend: 'cpu' });
  });
  afterAll(async () => {
    if (previous && previous !== 'cpu') await initBackend({ backend: previous });
  });

  it('never reads synchronously (observe, flush, results, snapshot, restore)', async () => {
    const { layer, step } = build(2, 13);
    const rec = new SpikeRecorder(() => layer.neuron.spike, { chunkSteps: 9 });
    layer.attach(rec);
    step(); // set-up (the layer's constants) outside the spied region
    // a spy on the engine's readSync: dataSync/arraySync reach the backend through it (the cpu
    // backend's own reads inside kernels and for `await data()` do not)
    const engine = tf.engine() as unknown as { readSync: (id: object) => unknown };
    const readSync = engine.readSync;
    const stacks: string[] = [];
    engine.readSync = function (this: unknown, id: object) {
      stacks.push(new Error('readSync').stack ?? '');
      return readSync.call(this, id);
    };
    let events: Event[] = [];
    try {
      for (let t = 0; t < 50; t++) step();
      const s = rec.snapshotState();
      for (let t = 0; t < 30; t++) step();
      await rec.flush();
      rec.count();
      rec.rates(1);
      rec.spikeTrains(0);
      rec.restoreState(s);
      disposeSnapshot(s);
      await rec.flush();
      events = list(rec.events());
      expect(stacks.length, `synchronous reads, first from:\n${stacks[0] ?? ''}`).toBe(0);
      layer.neuron.spike.dataSync(); // the spy's control: a synchronous read is seen
      expect(stacks.length).toBe(1);
      stacks.length = 0;
    } finally {
      engine.readSync = readSync;
    }
    expect(stacks.length, `synchronous reads, first from:\n${stacks[0] ?? ''}`).toBe(0);
    expect(rec.readSteps).toBe(51);
    expect(events.length).toBeGreaterThan(0);
    rec.dispose();
    layer.dispose();
  });
});
