// SpikeFileSink: a streaming SpikeRecorder writes exactly its events to a [n, 3] float64 .npy (read
// back by readSpikeFile and numpy.load); a run interrupted after a snapshot — with spikes of later
// steps already in the file — and resumed with mode 'continue' ends with the uninterrupted run's file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { disposeSnapshot } from '../../src/core/snapshot.js';
import { encodeNpy } from '../../src/io/npy.js';
import { SpikeRecorder, type RecordedSpikes } from '../../src/observe/index.js';
import { SpikeFileSink, readSpikeFile } from '../../src/observe/monitors/spike-file.node.js';

const dir = mkdtempSync(join(tmpdir(), 'cinder-spike-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

// a deterministic source of [2, 3] spikes: neuron j of sample b spikes at step t when (t·(b+2) + j) % 7 < 2
const spikesAt = (t: number) => tf.tensor2d([0, 1].map((b) => [0, 1, 2].map((j) => ((t * (b + 2) + j) % 7 < 2 ? 1 : 0))));

/** The reference events of steps 1 … T, from the rule itself (float64 loop). */
function reference(T: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let t = 1; t <= T; t++) for (let b = 0; b < 2; b++) for (let j = 0; j < 3; j++) if ((t * (b + 2) + j) % 7 < 2) out.push([t, b, j]);
  return out;
}
const list = (e: RecordedSpikes) => Array.from(e.step, (s, k) => [s, e.sample[k]!, e.neuron[k]!]);

describe('SpikeFileSink', () => {
  it('writes exactly the recorder events (300 steps, chunk 16), read back by readSpikeFile and numpy.load', async () => {
    const path = join(dir, 'a.npy');
    const sink = SpikeFileSink.open(path);
    let t = 0;
    const rec = new SpikeRecorder(() => spikesAt(t), { chunkSteps: 16, onChunk: sink.onChunk });
    const mem = new SpikeRecorder(() => spikesAt(t), { chunkSteps: 16 });
    for (t = 1; t <= 300; t++) tf.tidy(() => (rec.observe(), mem.observe()));
    await Promise.all([rec.flush(), mem.flush()]);
    sink.close();
    const ref = reference(300);
    expect(list(mem.events())).toEqual(ref);
    expect(list(readSpikeFile(path))).toEqual(ref);
    expect(sink.spikes).toBe(ref.length);
    if (hasNumpy) {
      const r = spawnSync('python3', ['-c', `import numpy as np, json\na = np.load(${JSON.stringify(path)})\nprint(json.dumps([str(a.dtype), a.tolist()]))`], { encoding: 'utf8' });
      expect(JSON.parse(r.stdout)).toEqual(['float64', ref]);
    }
    rec.dispose();
    mem.dispose();
  });

  it("a run killed after a snapshot (later spikes already in the file) and resumed with mode 'continue' ends with the uninterrupted run's file", async () => {
    const path = join(dir, 'b.npy');
    let t = 0;
    const sinkA = SpikeFileSink.open(path);
    const a = new SpikeRecorder(() => spikesAt(t), { chunkSteps: 16, onChunk: sinkA.onChunk });
    for (t = 1; t <= 150; t++) tf.tidy(() => a.observe());
    await a.flush();
    for (; t <= 200; t++) tf.tidy(() => a.observe());
    const snap = a.snapshotState(); // 150 steps read (in the file), 50 pending
    expect(snap.values).toMatchObject({ calls: 200, read: 150 });
    // the run goes on past the snapshot and writes steps up to 250, then is killed
    for (; t <= 250; t++) tf.tidy(() => a.observe());
    await a.flush();
    expect(readSpikeFile(path).step.at(-1)).toBeGreaterThan(240);
    a.dispose();
    sinkA.close();
    // resume from the snapshot: the steps after 150 are handed over again, the file's tail is replaced
    const sinkB = SpikeFileSink.open(path, { mode: 'continue' });
    expect(sinkB.spikes).toBe(reference(250).length);
    const b = new SpikeRecorder(() => spikesAt(t), { chunkSteps: 16, onChunk: sinkB.onChunk });
    b.restoreState(snap);
    disposeSnapshot(snap);
    for (t = 201; t <= 300; t++) tf.tidy(() => b.observe());
    await b.flush();
    sinkB.close();
    expect(list(readSpikeFile(path))).toEqual(reference(300));
    b.dispose();
  });

  it("mode 'continue' on a missing file creates it; bad options and foreign files are refused before anything changes", () => {
    const fresh = join(dir, 'c.npy');
    const s = SpikeFileSink.open(fresh, { mode: 'continue' });
    expect(s.spikes).toBe(0);
    s.close();
    expect(() => SpikeFileSink.open(fresh, { mode: 'append' as never })).toThrow(/invalid mode: got "append", expected 'create' or 'continue'/);
    const foreign = join(dir, 'd.npy');
    const bytes = encodeNpy(new Float32Array(6), [2, 3]);
    writeFileSync(foreign, bytes);
    expect(() => SpikeFileSink.open(foreign, { mode: 'continue' })).toThrow(CinderArgumentError);
    expect(() => SpikeFileSink.open(foreign, { mode: 'continue' })).toThrow(/written by NpyAppendWriter with dtype float64/);
    expect(() => readSpikeFile(foreign)).toThrow(/a \[n, 3\] float64 \.npy/);
  });
});
