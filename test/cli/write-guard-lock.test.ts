// Files an example writes into its run folder itself (a checkpoint with Network.save or
// saveTensors at ctx.checkpointDir, an NpyAppendWriter at an artifactPath) after the folder's lock
// was taken over — while the loss is still unnoticed — are refused too: RunFolder registers the
// folder as a write guard of src/io, which throws the RunLockLostError right before such a write
// would land. The new owner's files stay byte for byte, no temporary or weights file is left, and
// the guard is gone once the run ends. Loss is simulated as in lock-lost.test.ts: the lock file is
// replaced by another owner's.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { backendInfo } from '../../src/core/backend.js';
import type { ExampleSpec } from '../../src/cli/example.js';
import { startRun } from '../../src/cli/runner.js';
import { Rng } from '../../src/core/random.js';
import { tf } from '../../src/core/tf.js';
import { Terminal } from '../../src/cli/progress.js';
import { RunFolder } from '../../src/cli/run-folder.js';
import { releaseLock, RunLockLostError } from '../../src/cli/run-lock.js';
import { checkWriteGuards, writeFileAtomic } from '../../src/io/atomic.js';
import { NpyAppendWriter } from '../../src/io/npy-append.js';
import { encodeNpy } from '../../src/io/npy.js';
import { loadTensors, saveTensors } from '../../src/io/tensors.js';
import { Network } from '../../src/network/index.js';
import { LinearDense } from '../../src/neural/connections/linear-dense.js';
import { uniformInit } from '../../src/neural/connections/initializers.js';
import { Serial } from '../../src/neural/layers/serial.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { SingleExponentialCurrent } from '../../src/neural/synapses/index.js';
import { FOREIGN_LOCK, lockedRunFolder, tmpFiles } from '../helpers/run-lock.js';
import { folderSnapshot } from '../helpers/files.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-write-guard-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const other = FOREIGN_LOCK;



const folder = (name: string) => lockedRunFolder(root, name, 'guard');

/** Another process takes `dir` over (its lock replaced by another owner's). */
function takeOver(dir: string): void {
  rmSync(join(dir, '.lock'), { force: true });
  writeFileSync(join(dir, '.lock'), other);
}

/** A small network whose weights depend on `seed`. */
function network(seed: number): Network {
  const init = new Rng(seed);
  const layer = new Serial(
    new LinearDense([6], [4], 1, { synapse: SingleExponentialCurrent.factory({ charge: 40, tau: 5 }), batchSize: 1, weightInit: uniformInit(init, 0, 1) }),
    new LIF([4], 1, { restV: -65, resetV: -65, threshV: -55, refracT: 2, tauM: 10, batchSize: 1 }),
  );
  const net = new Network();
  net.addLayer('hidden', layer);
  return net;
}

describe('a run folder whose lock was lost refuses the example\'s own io writes', () => {
  it('network.save(ctx.checkpointDir) after the loss: the new owner\'s checkpoint byte for byte, no temporary or weights file left, RunLockLostError', async () => {
    const { f, dir } = await folder('net-save');
    const ckpt = f.checkpointDir; // (an example takes the path once, before the loss)
    const mine = network(1);
    await mine.save(ckpt, { step: 1 }); // while the lock is held: written
    expect(checkWriteGuards(join(ckpt, 'model.json'))).toBe(true);
    // the new owner (a --resume elsewhere) takes the folder and writes its own checkpoint
    const theirs = join(root, 'new-owner-save');
    const owner = network(2);
    await owner.save(theirs, { step: 7 });
    takeOver(dir);
    rmSync(ckpt, { recursive: true });
    cpSync(theirs, ckpt, { recursive: true });
    const before = folderSnapshot(dir);
    await expect(mine.save(ckpt, { step: 2 })).rejects.toBeInstanceOf(RunLockLostError);
    expect(folderSnapshot(dir)).toEqual(before);
    expect(tmpFiles(dir)).toEqual([]);
    const loaded = await loadTensors(ckpt);
    expect((loaded.metadata as { step?: number }).step).toBe(7);
    tf.dispose(Object.values(loaded.tensors));
    f.abandon(new Error('lost'));
    expect(checkWriteGuards(join(ckpt, 'model.json'))).toBe(false);
    releaseLock(dir);
  });

  it('the lock lost during saveTensors (at its 2nd download, after a weights file was installed): the folder as before the save, apart from the new lock', async () => {
    const { f, dir } = await folder('mid-save');
    const ckpt = f.checkpointDir;
    const values = (tag: number) => ({
      a: tf.tensor1d(Float32Array.from({ length: 32 }, (_, k) => tag + k / 4)),
      b: tf.tensor1d(Float32Array.from({ length: 32 }, (_, k) => tag - k / 8)),
      c: tf.tensor1d(Int32Array.from({ length: 8 }, (_, k) => tag * 10 + k), 'int32'),
    });
    const first = values(1);
    await saveTensors(ckpt, first, { step: 1 }, { shardBytes: 64 });
    const before = folderSnapshot(dir);
    const data = tf.Tensor.prototype.data;
    let downloads = 0;
    let installed = 0;
    vi.spyOn(tf.Tensor.prototype, 'data').mockImplementation(function (this: tf.Tensor) {
      if (++downloads === 2) {
        // the first tensor's two weights files are in the folder now
        const named = (JSON.parse(readFileSync(join(ckpt, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] }).weightsManifest[0]!.paths.length;
        installed = readdirSync(ckpt).filter((n) => n.startsWith('weights-')).length - named;
        takeOver(dir);
      }
      return data.call(this);
    });
    const second = values(2);
    const count = tf.memory().numTensors;
    await expect(saveTensors(ckpt, second, { step: 2 }, { shardBytes: 64 })).rejects.toBeInstanceOf(RunLockLostError);
    expect(downloads).toBe(2); // refused at the next weights file's install: tensor c never downloaded
    expect(installed).toBe(2); // tensor a's 128 bytes: two weights files of 64 bytes, installed before the loss
    expect(tf.memory().numTensors).toBe(count);
    const after = folderSnapshot(dir);
    expect(after['.lock']).toBe(Buffer.from(other).toString('base64'));
    delete after['.lock'];
    delete before['.lock'];
    expect(after).toEqual(before);
    expect(tmpFiles(dir)).toEqual([]);
    f.abandon(new Error('lost'));
    releaseLock(dir);
    tf.dispose([...Object.values(first), ...Object.values(second)]);
  });

  it('an NpyAppendWriter append (and truncate) after the loss is refused: the file unchanged; writes into a sibling folder run2 are not', async () => {
    const { f, dir } = await folder('run');
    const p = f.artifactPath('rec.npy');
    const w = NpyAppendWriter.open(p, { dtype: 'float32', rowShape: [2] });
    const rows = Float32Array.from({ length: 6 }, (_, k) => k * 0.5 - 1);
    w.append(rows);
    takeOver(dir);
    const before = readFileSync(p);
    expect(before.equals(Buffer.from(encodeNpy(rows, [3, 2])))).toBe(true);
    expect(() => w.append(Float32Array.of(9, 9))).toThrow(RunLockLostError);
    expect(() => w.truncate(1)).toThrow(RunLockLostError);
    expect(readFileSync(p).equals(before)).toBe(true);
    expect(w.rows).toBe(3);
    w.close();
    // the prefix trap: <root>/run2 is not inside <root>/run
    await writeFileAtomic(join(root, 'run2', 'x.txt'), 'mine');
    expect(readFileSync(join(root, 'run2', 'x.txt'), 'utf8')).toBe('mine');
    f.abandon(new Error('lost'));
    releaseLock(dir);
  });

  it('the guard is registered only while the run runs: gone after finish, and a folder without lock guard registers none', async () => {
    const { f, dir } = await folder('ended');
    expect(checkWriteGuards(join(dir, 'artifacts', 'x'))).toBe(true);
    await f.finish('completed');
    expect(checkWriteGuards(join(dir, 'artifacts', 'x'))).toBe(false);
    releaseLock(dir);
    // (the folder is no longer guarded by this run: a later write is not refused for its old lock)
    takeOver(dir);
    await writeFileAtomic(join(dir, 'artifacts', 'later.txt'), 'later');
    expect(readFileSync(join(dir, 'artifacts', 'later.txt'), 'utf8')).toBe('later');

    const { f: g, dir: d2 } = await folder('sync-ended');
    takeOver(d2);
    expect(() => g.finishSync('interrupted')).toThrow(RunLockLostError);
    expect(checkWriteGuards(join(d2, 'x'))).toBe(false);
    releaseLock(d2);

    const plain = join(root, 'unguarded');
    mkdirSync(plain);
    const h = await RunFolder.create({
      outDir: plain, example: 'guard', params: {}, seed: 0, backend: backendInfo()!, quiet: true, signal: new AbortController().signal,
      terminal: new Terminal({ mode: 'quiet' }), paramsFile: {},
    });
    expect(checkWriteGuards(join(plain, 'x'))).toBe(false);
    await h.finish('completed');
  });
});

describe('a run (startRun) whose example saves its checkpoint itself after the loss', () => {
  /**
   * An example that takes ctx.checkpointDir once, then saves its network there 4 times without
   * looking at its signal; after the 2nd save `lose(dir)` runs (the takeover). `seen` records the
   * saves that resolved and the error.
   */
  function saver(seen: { saved: number; error?: unknown; ckpt?: string }, lose: (ckpt: string) => void): ExampleSpec {
    return {
      name: 'saver', description: 'saves its checkpoint', options: [], presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: [], figures: [],
      async run(ctx) {
        const ckpt = ctx.checkpointDir;
        seen.ckpt = ckpt;
        const net = network(3);
        try {
          for (let k = 1; k <= 4; k++) {
            await net.save(ckpt, { k });
            seen.saved = k;
            if (k === 2) lose(ckpt);
          }
        } catch (err) {
          seen.error = err;
          throw err;
        }
        return {};
      },
    };
  }
  const start = (spec: ExampleSpec, outDir: string, seeds = 1) => startRun({
    spec, params: {}, mode: 'tiny', seed: 0, seeds, outDir, backend: backendInfo()!, backendRequest: 'auto', quiet: true,
    signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
  });

  it('one seed: the 3rd save is refused, the new owner\'s checkpoint and folder stay byte for byte, the run fails with RunLockLostError', async () => {
    const out = join(root, 'run-single');
    const theirs = join(root, 'run-single-owner');
    await network(4).save(theirs, { k: 99 });
    let before: Record<string, string> = {};
    const seen: { saved: number; error?: unknown } = { saved: 0 };
    const outcome = await start(saver(seen, (ckpt) => {
      takeOver(out);
      rmSync(ckpt, { recursive: true });
      cpSync(theirs, ckpt, { recursive: true });
      before = folderSnapshot(out);
    }), out).done;
    expect(seen.saved).toBe(2);
    expect(seen.error).toBeInstanceOf(RunLockLostError);
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBeInstanceOf(RunLockLostError);
    expect(folderSnapshot(out)).toEqual(before);
    expect(tmpFiles(out)).toEqual([]);
    expect(checkWriteGuards(join(out, 'checkpoint', 'model.json'))).toBe(false); // unregistered at the end
  });

  it("two seeds, the top folder's lock lost during seed 0: the seed's checkpoint save is refused too", async () => {
    const out = join(root, 'run-seeds');
    let before: Record<string, string> = {};
    const seen: { saved: number; error?: unknown } = { saved: 0 };
    const outcome = await start(saver(seen, () => {
      takeOver(out);
      before = folderSnapshot(out);
    }), out, 2).done;
    expect(seen.saved).toBe(2);
    expect(seen.error).toBeInstanceOf(RunLockLostError);
    expect(outcome.status).toBe('failed');
    // the seed folder's own lock (this run's, not lost) is released at the seed's end; nothing else changes
    const after = folderSnapshot(out);
    expect(after['seed-0/.lock']).toBeUndefined();
    delete before['seed-0/.lock'];
    expect(after).toEqual(before);
    expect(tmpFiles(out)).toEqual([]);
  });
});
