// SpikeRecorder's bound on device memory (maxPendingBytes): a loop that never awaits used to keep
// every chunk on the device (4 · B · ⌈N/24⌉ bytes of packed words per step, growing without end,
// since the reads resolve only while the caller awaits). Now at most K = ⌊maxPendingBytes /
// (4 · B · ⌈N/24⌉)⌋ steps not read are held: the (K+1)-th observe() is refused before anything
// changes (tensor count and bytes the same over 1000 refused calls), and a loop that awaits
// flush() every K steps records exactly the events of a plain host loop over the same values.
import { afterEach, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { disposeSnapshot } from '../../src/core/snapshot.js';
import { SpikeRecorder } from '../../src/observe/index.js';
import { Rng } from '../../src/core/random.js';
import { LinearDense } from '../../src/neural/connections/linear-dense.js';
import { uniformInit } from '../../src/neural/connections/initializers.js';
import { Serial } from '../../src/neural/layers/serial.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { SingleExponentialCurrent } from '../../src/neural/synapses/index.js';
import { list, pattern, referenceEvents, tensorAt, type Pattern } from './spike-patterns.js';

// [B = 2, 30 neurons]: G = ⌈30/24⌉ = 2 words per sample and step, 4 · 2 · 2 = 16 bytes per step
const SHAPE = [2, 30];
const PER_STEP = 16;
const K = 40;
const MAX = PER_STEP * K + 15; // ⌊655 / 16⌋ = 40 steps

let cur: tf.Tensor | null = null;
const accessor = (): tf.Tensor => cur!;
function feed(rec: SpikeRecorder, pat: Pattern, t: number): void {
  cur?.dispose();
  cur = tensorAt(pat, t);
  tf.tidy(() => rec.observe());
}
afterEach(() => {
  cur?.dispose();
  cur = null;
});

/** The host reference's counts [B, N] from its event list. */
function referenceCounts(pat: Pattern): number[] {
  const N = pat.values[0]!.length / pat.shape[0]!;
  const c = new Array<number>(pat.values[0]!.length).fill(0);
  for (const [, b, i] of referenceEvents(pat)) c[b * N + i]!++;
  return c;
}

describe('SpikeRecorder maxPendingBytes', () => {
  it('a loop that never awaits: the (K+1)-th step is refused, nothing changes, memory stays bounded; flush() every K steps records every event', async () => {
    const T = 400;
    const pat = pattern(41, SHAPE, 'float32', T, 0.2);
    const rec = new SpikeRecorder(accessor, { chunkSteps: 8, maxPendingBytes: MAX });
    expect(rec.maxPendingBytes).toBe(MAX);
    for (let t = 1; t <= K; t++) feed(rec, pat, t); // never awaits: nothing can be read
    expect(rec.pendingSteps).toBe(K);
    cur?.dispose();
    cur = tensorAt(pat, K + 1);
    const tensors = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    // a synchronous loop of 1000 further steps: each is refused, device memory does not grow
    for (let i = 0; i < 1000; i++) {
      let err: unknown = null;
      try {
        tf.tidy(() => rec.observe());
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CinderArgumentError);
      expect((err as Error).message).toMatch(/got "step 41 with 40 steps \(640 bytes of packed words\) not read yet"/);
      expect((err as Error).message).toMatch(/await rec\.flush\(\) at least every 40 steps/);
      expect(rec.observedSteps).toBe(K);
      expect(rec.pendingSteps).toBe(K);
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.memory().numBytes).toBe(bytes);

    // the remedy: flush, then retry the refused step; flush every K steps from then on
    await rec.flush();
    expect(rec.readSteps).toBe(K);
    const after: number[][] = [];
    for (let t = K + 1; t <= T; t++) {
      if ((t - 1) % K === 0) {
        await rec.flush();
        after.push([tf.memory().numTensors, tf.memory().numBytes]);
      }
      feed(rec, pat, t);
    }
    expect(after.length).toBe(9);
    expect(after).toEqual(after.map(() => after[0]));
    await rec.flush();
    expect(rec.readSteps).toBe(T);
    expect(list(rec.events())).toEqual(referenceEvents(pat));
    expect(Array.from(rec.count())).toEqual(referenceCounts(pat));
    rec.dispose();
  });

  it('the same steps without a bound (Infinity) or with the default give the same events', async () => {
    const T = 120;
    const pat = pattern(43, SHAPE, 'float32', T, 0.3);
    const unbounded = new SpikeRecorder(accessor, { chunkSteps: 8, maxPendingBytes: Infinity });
    const byDefault = new SpikeRecorder(accessor, { chunkSteps: 8 });
    expect(byDefault.maxPendingBytes).toBe(2 ** 28);
    for (let t = 1; t <= T; t++) {
      feed(unbounded, pat, t);
      tf.tidy(() => byDefault.observe());
    }
    expect([unbounded.pendingSteps, byDefault.pendingSteps]).toEqual([T, T]);
    await Promise.all([unbounded.flush(), byDefault.flush()]);
    expect(list(unbounded.events())).toEqual(referenceEvents(pat));
    expect(list(byDefault.events())).toEqual(referenceEvents(pat));
    unbounded.dispose();
    byDefault.dispose();
  });

  it('bad values are refused at construction; one that cannot hold a chunk is refused at the first record and on restore, nothing changed', async () => {
    const a = () => tf.zeros([2, 30]);
    for (const v of [0, 0.5, 1.5, -1, NaN, '64']) {
      expect(() => new SpikeRecorder(a, { maxPendingBytes: v as number })).toThrow(/invalid maxPendingBytes: .*expected an integer >= 1 or Infinity/);
    }
    const pat = pattern(44, SHAPE, 'float32', 8, 0.3);
    // chunk 8 of 16 bytes per step needs 128 bytes
    const small = new SpikeRecorder(accessor, { chunkSteps: 8, maxPendingBytes: 127 });
    cur = tensorAt(pat, 1);
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => small.observe())).toThrow(/invalid maxPendingBytes: got 127, expected at least 128 \(one chunk: chunkSteps 8 · 16 bytes/);
    expect([small.observedSteps, small.shape, tf.memory().numTensors]).toEqual([0, null, before]);

    const big = new SpikeRecorder(accessor, { chunkSteps: 8, maxPendingBytes: 128 });
    for (let t = 1; t <= 8; t++) feed(big, pat, t);
    const snap = big.snapshotState();
    expect(() => small.restoreState(snap)).toThrow(/invalid maxPendingBytes: got 127/);
    expect([small.observedSteps, small.shape]).toEqual([0, null]);
    // 8 steps of the chunk (128 bytes) fit: accepted, a ninth is refused until they are read
    expect(big.pendingSteps).toBe(8);
    cur?.dispose();
    cur = tensorAt(pat, 1);
    expect(() => tf.tidy(() => big.observe())).toThrow(/await rec\.flush\(\) at least every 8 steps/);
    disposeSnapshot(snap);
    small.dispose();
    big.dispose();
  });

  it('after a restore, only the restored pending steps count (not the read part still queued)', async () => {
    const T = 150;
    const pat = pattern(45, SHAPE, 'float32', T, 0.25);
    const a = new SpikeRecorder(accessor, { chunkSteps: 8, maxPendingBytes: MAX });
    for (let t = 1; t <= 100; t++) {
      if ((t - 1) % 20 === 0) await a.flush();
      feed(a, pat, t);
    }
    await a.flush();
    for (let t = 101; t <= 110; t++) feed(a, pat, t); // 10 pending at the snapshot
    const snap = a.snapshotState();
    a.dispose();

    const b = new SpikeRecorder(accessor, { chunkSteps: 8, maxPendingBytes: MAX });
    b.restoreState(snap);
    disposeSnapshot(snap);
    // nothing read yet (no await): 10 restored pending steps + 30 new ones reach K = 40
    for (let t = 111; t <= 140; t++) feed(b, pat, t);
    cur?.dispose();
    cur = tensorAt(pat, 141);
    expect(() => tf.tidy(() => b.observe())).toThrow(/got "step 141 with 40 steps/);
    expect(b.observedSteps).toBe(140);
    await b.flush();
    for (let t = 141; t <= T; t++) feed(b, pat, t);
    await b.flush();
    expect(list(b.events())).toEqual(referenceEvents(pat));
    b.dispose();
  });

  it('attached to a layer, the refusal comes before the step: the layer is left as it was, and after flush() the retried step gives an uninterrupted run', async () => {
    // a LIF layer [2, 30] (16 bytes of packed words per step) driven by seeded input spikes, twice:
    // with a bound of K = 40 steps and a loop that never awaits, and without a bound
    const make = (bound: number) => {
      const layer = new Serial(
        new LinearDense([12], [30], 1, { synapse: SingleExponentialCurrent.factory({ charge: 40, tau: 5 }), batchSize: 2, weightInit: uniformInit(new Rng(3), 0, 1) }),
        new LIF([30], 1, { restV: -65, resetV: -65, threshV: -55, refracT: 2, tauM: 10, batchSize: 2 }),
      );
      const rec = new SpikeRecorder(() => layer.neuron.spike, { chunkSteps: 8, maxPendingBytes: bound });
      layer.attach(rec);
      return { layer, rec };
    };
    const inputs = Array.from({ length: 100 }, (_, t) => { const r = new Rng(100 + t); return Array.from({ length: 24 }, () => (r.uniform() < 0.4 ? 1 : 0)); });
    const step = (layer: Serial, t: number) => tf.tidy(() => { layer.forward(tf.tensor2d(inputs[t]!, [2, 12])); });
    const a = make(MAX);
    const b = make(Infinity);
    let t = 0;
    for (; t < K; t++) step(a.layer, t);
    const v = a.layer.neuron.voltage.dataSync().slice(); // (read synchronously: an await would let the recorder's reads resolve)
    const tensors = tf.memory().numTensors;
    let err: unknown = null;
    try {
      step(a.layer, t);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/await rec\.flush\(\) at least every 40 steps/);
    // nothing advanced: the voltages are those before the refused step, no tensor made or lost
    expect(Array.from(a.layer.neuron.voltage.dataSync())).toEqual(Array.from(v));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(a.rec.observedSteps).toBe(K);
    await a.rec.flush();
    for (; t < inputs.length; t++) {
      if (t % K === 0) await a.rec.flush();
      step(a.layer, t);
    }
    for (let u = 0; u < inputs.length; u++) step(b.layer, u);
    await Promise.all([a.rec.flush(), b.rec.flush()]);
    expect(a.rec.readSteps).toBe(inputs.length);
    expect(list(a.rec.events())).toEqual(list(b.rec.events()));
    expect(list(b.rec.events()).length).toBeGreaterThan(50);
    expect(Array.from(await a.layer.neuron.voltage.data())).toEqual(Array.from(await b.layer.neuron.voltage.data()));
    for (const m of [a, b]) { m.rec.dispose(); m.layer.dispose(); }
  });
});
