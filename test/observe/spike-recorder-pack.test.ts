// SpikeRecorder packs each chunk into 24-bit words on the device before reading it: the bytes read
// back are 4 · steps · B · ceil(N / 24) per chunk (not 4 · steps · B · N), the device work is a
// fixed number of kernels per chunk, and the events equal those of a plain host loop over the dense
// values — random sparse and dense patterns, neuron counts that are not multiples of 24, B > 1,
// multi-dimensional neuron shapes, float32 (NaN, Infinity, 0.5, -0), int32 and bool, a neuron
// subset, streaming, chunk boundaries, snapshots and restores (also of raw pending records).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { tf } from '../../src/core/tf.js';
import { initBackend } from '../../src/core/backend.js';
import { disposeSnapshot } from '../../src/core/snapshot.js';
import { SpikeRecorder, type RecordedSpikes } from '../../src/observe/index.js';
import { list, pattern, readSpy, referenceEvents, tensorAt, type Event, type Pattern } from './spike-patterns.js';

interface Case {
  name: string;
  shape: number[];
  dtype: Pattern['dtype'];
  p: number;
  T: number;
  chunkSteps: number;
  neurons?: number[];
}

const CASES: Case[] = [
  { name: 'sparse float32 [2, 3, 50] (N = 150)', shape: [2, 3, 50], dtype: 'float32', p: 0.03, T: 101, chunkSteps: 7 },
  { name: 'dense int32 [2, 3, 4, 5] (N = 60)', shape: [2, 3, 4, 5], dtype: 'int32', p: 0.7, T: 64, chunkSteps: 16 },
  { name: 'bool [4, 24] (N = 24, full words)', shape: [4, 24], dtype: 'bool', p: 0.5, T: 23, chunkSteps: 5 },
  { name: 'float32 [3, 48], chunk 1', shape: [3, 48], dtype: 'float32', p: 0.2, T: 12, chunkSteps: 1 },
  { name: 'float32 [1, 1]', shape: [1, 1], dtype: 'float32', p: 0.4, T: 30, chunkSteps: 8 },
  { name: 'float32 [3, 97] with a neuron subset across word edges', shape: [3, 97], dtype: 'float32', p: 0.3, T: 40, chunkSteps: 9, neurons: [96, 0, 23, 24, 47, 48, 50, 72] },
  { name: 'int32 [2, 25] with a neuron subset', shape: [2, 25], dtype: 'int32', p: 0.5, T: 33, chunkSteps: 32, neurons: [24, 1] },
];

/** A recorder of `pat` whose accessor returns the step counter's values. */
function recorderOf(pat: Pattern, c: Case, clock: { t: number }, onChunk?: (e: RecordedSpikes) => void): SpikeRecorder {
  return new SpikeRecorder(() => tensorAt(pat, clock.t), { chunkSteps: c.chunkSteps, neurons: c.neurons, onChunk });
}

function suite(backend: string): void {
  describe(`SpikeRecorder packing (${backend})`, () => {
    let previous = '';
    beforeAll(async () => {
      previous = tf.getBackend();
      if (backend !== 'default') await initBackend({ backend: backend as 'cpu' });
    });
    afterAll(async () => {
      if (tf.getBackend() !== previous) await initBackend({ backend: previous as 'cpu' });
    });

    for (const [k, c] of CASES.entries()) {
      it(`${c.name}: events, counts, streamed chunks and a resumed snapshot equal the host loop`, async () => {
        const pat = pattern(100 + k, c.shape, c.dtype, c.T, c.p);
        const ref = referenceEvents(pat, c.neurons);
        expect(ref.length).toBeGreaterThan(0);
        const B = c.shape[0]!;
        const N = pat.values[0]!.length / B;
        const clock = { t: 0 };
        const streamed: RecordedSpikes[] = [];
        const rec = recorderOf(pat, c, clock);
        const stream = recorderOf(pat, c, clock, (e) => void streamed.push(e));
        const before = tf.memory().numTensors;
        const spy = readSpy();
        try {
          for (clock.t = 1; clock.t <= c.T; clock.t++) {
            tf.tidy(() => rec.observe());
            tf.tidy(() => stream.observe());
            if (clock.t % 11 === 0) await rec.flush();
          }
          await Promise.all([rec.flush(), stream.flush()]);
        } finally {
          spy.stop();
        }
        expect(list(rec.events())).toEqual(ref);
        expect(streamed.flatMap(list)).toEqual(ref);
        const counts = new Float64Array(B * N);
        for (const [, b, i] of ref) counts[b * N + i]!++;
        expect(Array.from(rec.count())).toEqual(Array.from(counts));
        expect(Array.from(stream.count())).toEqual(Array.from(counts));
        // the reads: one float32 word per 24 neurons (or part of 24) per sample and step
        expect(spy.bytes()).toBe(2 * 4 * c.T * B * Math.ceil(N / 24));

        // a snapshot mid-run (chunks stacked, records unstacked), restored into a new recorder
        const mid = Math.floor((2 * c.T) / 3);
        const a = recorderOf(pat, c, clock);
        for (clock.t = 1; clock.t <= Math.floor(c.T / 3); clock.t++) tf.tidy(() => a.observe());
        await a.flush();
        for (; clock.t <= mid; clock.t++) tf.tidy(() => a.observe());
        const snap = a.snapshotState();
        expect(snap.tensors.pending?.shape ?? null).toEqual(mid > Math.floor(c.T / 3) ? [mid - Math.floor(c.T / 3), ...c.shape] : null);
        expect(snap.tensors.pending?.dtype ?? c.dtype).toBe(c.dtype);
        const b2 = recorderOf(pat, c, clock);
        b2.restoreState(snap);
        disposeSnapshot(snap);
        const resume = clock.t;
        for (const r of [a, b2]) {
          for (clock.t = resume; clock.t <= c.T; clock.t++) tf.tidy(() => r.observe());
          await r.flush();
          expect(list(r.events())).toEqual(ref);
          expect(Array.from(r.count())).toEqual(Array.from(counts));
        }
        for (const r of [rec, stream, a, b2]) r.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('a restored snapshot with raw pending records (NaN, 0.5, -0, Infinity) records them as a host loop does', async () => {
      const c = CASES[0]!;
      const pat = pattern(7, c.shape, 'float32', 20, 0.3);
      const ref = referenceEvents(pat);
      const C = pat.values[0]!.length;
      const state = tf.zeros([2 * C], 'int32');
      const pending = tf.tensor(pat.values.flat(), [20, ...c.shape], 'float32');
      const rec = new SpikeRecorder(() => tf.zeros(c.shape), { chunkSteps: 6 });
      rec.restoreState({ tensors: { state, pending }, values: { calls: 20, read: 0, events: 0, shape: c.shape, dtype: 'float32', streaming: false } });
      tf.dispose([state, pending]);
      await rec.flush();
      expect(list(rec.events())).toEqual(ref);
      rec.dispose();
    });

    it('a word that is not exact (a fraction, or a padding bit set) stops the extraction with an error, not wrong events', async () => {
      const pat = pattern(5, [1, 50], 'float32', 4, 0.3); // G = 3 words, the last holds neurons 48, 49
      for (const [bad, message] of [[0.5, /packed word 0.5 .* not an integer in \[0, 16777216\)/], [4, /packed word 4 .*neurons 48..49.* not an integer in \[0, 4\)/]] as const) {
        const clock = { t: 0 };
        const rec = new SpikeRecorder(() => tensorAt(pat, clock.t), { chunkSteps: 4 });
        const engine = tf.engine() as unknown as { read: (id: object) => Promise<Float32Array> };
        const read = engine.read;
        engine.read = async function (this: unknown, id: object) {
          const v = Float32Array.from(await read.call(this, id));
          v[bad === 4 ? 2 : 0] = bad;
          return v;
        };
        try {
          for (clock.t = 1; clock.t <= 4; clock.t++) tf.tidy(() => rec.observe());
          await expect(rec.flush()).rejects.toThrow(message);
        } finally {
          engine.read = read;
        }
        expect(rec.readSteps).toBe(0);
        rec.dispose();
      }
    });

    it('the device work per chunk is a fixed number of kernels, the same for 4 and 40 steps per chunk', async () => {
      const pat = pattern(3, [2, 30], 'float32', 80, 0.2);
      const perChunk: number[] = [];
      for (const chunkSteps of [4, 40]) {
        const clock = { t: 0 };
        const rec = new SpikeRecorder(() => tensorAt(pat, clock.t), { chunkSteps });
        tf.tidy(() => {
          clock.t = 1;
          rec.observe();
        }); // the first record (and the recorder's constants) outside the count
        const info = await tf.profile(() => {
          for (clock.t = 2; clock.t <= 80; clock.t++) tf.tidy(() => rec.observe());
          return tf.scalar(0);
        });
        info.result instanceof tf.Tensor && info.result.dispose();
        await rec.flush();
        const chunks = 80 / chunkSteps;
        // kernels dispatched by the recorder (the accessor makes its tensors without kernels)
        perChunk.push(info.kernels.length / chunks);
        expect(info.kernels.length % chunks).toBe(0);
        const events: Event[] = list(rec.events());
        expect(events).toEqual(referenceEvents(pat));
        rec.dispose();
      }
      expect(perChunk[0]).toBe(perChunk[1]);
      expect(perChunk[0]).toBeLessThanOrEqual(8); // Pack, Reshape, NotEqual, Cast, Pad, Reshape, Mul, Sum
    });
  });
}

suite('default');
suite('cpu');
