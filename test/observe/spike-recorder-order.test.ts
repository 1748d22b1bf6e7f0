// SpikeRecorder ordering across clear()/restoreState(): an onChunk call of a dropped generation
// (still running when the recorder was restored) ends before the restored recording hands over its
// first chunk, as the docs promise ("an async one is awaited before the next chunk"); otherwise two
// calls of one sink run at once and a sink that cuts and appends (the file sink) interleaves them.
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { tf } from '../../src/core/tf.js';
import { disposeSnapshot } from '../../src/core/snapshot.js';
import { SpikeRecorder } from '../../src/observe/index.js';

const ticks = async (n: number, until: () => boolean): Promise<void> => {
  for (let i = 0; i < n && !until(); i++) await new Promise((r) => setTimeout(r, 0));
};

describe('SpikeRecorder onChunk ordering', () => {
  it('restoreState while an async onChunk runs: the restored chunk is handed over only after that call ended', async () => {
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let blocked = true;
    let t = 0;
    const rec = new SpikeRecorder(() => tf.tensor2d([[1, t % 2]]), {
      chunkSteps: 2,
      onChunk: async (e, steps) => {
        log.push(`start ${steps.first}-${steps.last} (${e.step.length} spikes)`);
        if (blocked) {
          blocked = false;
          await gate;
        }
        log.push(`end ${steps.first}-${steps.last}`);
      },
    });
    const before = tf.memory().numTensors;
    for (t = 1; t <= 2; t++) tf.tidy(() => rec.observe());
    await ticks(200, () => log.length > 0);
    expect(log).toEqual(['start 1-2 (3 spikes)']);
    const snap = rec.snapshotState(); // the chunk is not committed yet: it is pending in the snapshot
    rec.restoreState(snap);
    disposeSnapshot(snap);
    await ticks(50, () => log.length > 1);
    release();
    await rec.flush();
    // steps 1 and 2: neuron 0 spikes at both, neuron 1 at step 1 -> 3 spikes, handed over twice
    // (once by the dropped generation, once after the restore), never overlapping
    expect(log).toEqual(['start 1-2 (3 spikes)', 'end 1-2', 'start 1-2 (3 spikes)', 'end 1-2']);
    expect(rec.readSteps).toBe(2);
    rec.dispose();
    await ticks(5, () => false);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('SpikeRecorder extraction loop', () => {
  it('a chunk sealed just as the extraction loop ends is read without flush() (was left unread until the next seal or flush)', async () => {
    // neuron j of [1, 5] spikes at step t when (t + j) % 3 === 0; a loop that yields y microtasks after each step
    let t = 0;
    const acc = () => tf.tensor2d([Array.from({ length: 5 }, (_, j) => ((t + j) % 3 === 0 ? 1 : 0))]);
    const T = 60;
    const want: [number, number, number][] = [];
    for (let s = 1; s <= T; s++) for (let j = 0; j < 5; j++) if ((s + j) % 3 === 0) want.push([s, 0, j]);
    const unread: string[] = [];
    for (const chunkSteps of [1, 2, 3]) {
      for (let y = 1; y <= 12; y++) {
        const rec = new SpikeRecorder(acc, { chunkSteps });
        for (t = 1; t <= T; t++) {
          tf.tidy(() => rec.observe());
          for (let k = 0; k < y; k++) await null;
        }
        // every sealed chunk (the steps up to the last multiple of chunkSteps) is read once the loop yields to
        // the event loop, without flush()
        const sealed = T - (T % chunkSteps);
        await ticks(50, () => rec.readSteps >= sealed);
        if (rec.readSteps !== sealed) unread.push(`chunkSteps ${chunkSteps}, ${y} microtasks per step: ${rec.readSteps} of ${sealed} steps read`);
        await rec.flush();
        const e = rec.events();
        expect(Array.from(e.step, (s, k) => [s, e.sample[k]!, e.neuron[k]!]), `chunkSteps ${chunkSteps}, y ${y}`).toEqual(want);
        rec.dispose();
      }
    }
    expect(unread).toEqual([]);
  });
});
