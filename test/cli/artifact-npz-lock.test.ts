// RunFolder.artifactNpz looks at the folder's lock again right before its final rename (writeNpz's
// commit option), as the folder's other atomic writes do: a lock lost while a (long) npz is being
// written leaves the new owner's file untouched and no temporary file, and the call rejects with
// the RunLockLostError. Loss is simulated as in lock-lost.test.ts: the lock file is replaced by
// another owner's, and that owner writes its own artifact, while the npz's bytes are being written.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { releaseLock, RunLockLostError } from '../../src/cli/run-lock.js';
import { AtomicFileWriter } from '../../src/io/atomic.js';
import { encodeNpz, type NpyEntry } from '../../src/io/npy.js';
import { tf } from '../../src/core/tf.js';
import { writeNpzArtifact, writeTensorArtifacts } from '../../src/cli/artifacts.js';
import { FOREIGN_LOCK, lockedRunFolder, tmpFiles } from '../helpers/run-lock.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-artifact-npz-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const other = FOREIGN_LOCK;


const folder = (name: string) => lockedRunFolder(root, name, 'npz');

/** Another process takes `dir` over and writes its own `artifacts/<file>` (one synchronous block). */
function takeOver(dir: string, file: string): void {
  rmSync(join(dir, '.lock'));
  writeFileSync(join(dir, '.lock'), other);
  writeFileSync(join(dir, 'artifacts', file), 'new owner');
}

const arrays = (): Record<string, NpyEntry> => ({
  w: { data: Float32Array.from({ length: 4096 }, (_, k) => Math.sin(k)), shape: [64, 64] },
  i: { data: Int32Array.from({ length: 100 }, (_, k) => k * k - 50), shape: [100] },
});

describe('RunFolder.artifactNpz and a lost folder lock', () => {
  it('written normally while the lock is held (the bytes of encodeNpz)', async () => {
    const { f, dir } = await folder('held');
    await f.artifactNpz('a', arrays());
    expect(Buffer.from(readFileSync(join(dir, 'artifacts', 'a.npz'))).equals(Buffer.from(encodeNpz(arrays())))).toBe(true);
    expect(tmpFiles(dir)).toEqual([]);
    releaseLock(dir);
  });

  it('the lock taken over during the write: the new owner\'s file stays, no temporary file, RunLockLostError', async () => {
    const { f, dir } = await folder('lost');
    const path = join(dir, 'artifacts', 'a.npz');
    const write = AtomicFileWriter.prototype.write;
    let writes = 0;
    vi.spyOn(AtomicFileWriter.prototype, 'write').mockImplementation(function (this: AtomicFileWriter, bytes: Uint8Array) {
      if (writes++ === 2) {
        // mid-write (after the first entry's headers): another process takes the folder over and
        // writes its own artifact (one synchronous block)
        rmSync(join(dir, '.lock'));
        writeFileSync(join(dir, '.lock'), other);
        writeFileSync(path, 'new owner');
      }
      return write.call(this, bytes);
    });
    const err = await f.artifactNpz('a', arrays()).catch((e: unknown) => e);
    vi.restoreAllMocks();
    // the old code renamed its archive over the new owner's file (and resolved)
    expect(err).toBeInstanceOf(RunLockLostError);
    expect((err as RunLockLostError).holder).toEqual(JSON.parse(other));
    expect(writes).toBeGreaterThan(3); // the write went on past the loss, to the commit check
    expect(readFileSync(path, 'utf8')).toBe('new owner');
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(other);
    expect(tmpFiles(dir)).toEqual([]);
    expect(f.lockLost).toBe(true);
    releaseLock(dir); // (leaves the new owner's lock)
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(other);
  });

  it('a lazy entry whose data is produced after the loss: nothing replaced either', async () => {
    const { f, dir } = await folder('lazy');
    const path = join(dir, 'artifacts', 'a.npz');
    writeFileSync(path, 'mine before');
    const err = await f
      .artifactNpz('a', {
        ...arrays(),
        z: {
          dtype: 'float32',
          shape: [3],
          data: () => {
            rmSync(join(dir, '.lock'));
            writeFileSync(join(dir, '.lock'), other);
            writeFileSync(path, 'new owner');
            return Float32Array.of(1, 2, 3);
          },
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunLockLostError);
    expect(readFileSync(path, 'utf8')).toBe('new owner');
    expect(tmpFiles(dir)).toEqual([]);
    releaseLock(dir);
  });

  it('writeNpzArtifact and writeTensorArtifacts in a run folder: the same check right before the rename', async () => {
    const { f, dir } = await folder('helpers');
    const write = AtomicFileWriter.prototype.write;
    let writes = 0;
    vi.spyOn(AtomicFileWriter.prototype, 'write').mockImplementation(function (this: AtomicFileWriter, bytes: Uint8Array) {
      if (writes++ === 2) takeOver(dir, 'b.npz');
      return write.call(this, bytes);
    });
    const err = await writeNpzArtifact(f, 'b', arrays()).catch((e: unknown) => e);
    vi.restoreAllMocks();
    // (the old code wrote through ctx.artifactPath + writeNpz: no check after the start)
    expect(err).toBeInstanceOf(RunLockLostError);
    expect(readFileSync(join(dir, 'artifacts', 'b.npz'), 'utf8')).toBe('new owner');
    expect(tmpFiles(dir)).toEqual([]);
    releaseLock(dir);

    const { f: g, dir: dir2 } = await folder('tensors');
    const before = tf.memory().numTensors;
    const t = { w: tf.tensor([1, 2, 3], [3]), k: tf.tensor([4, 5], [2], 'int32') };
    const data = tf.Tensor.prototype.data;
    let downloads = 0;
    vi.spyOn(tf.Tensor.prototype, 'data').mockImplementation(function (this: tf.Tensor) {
      // the two downloads of the tensor folder, then the npz's: lost at the npz's second one
      if (downloads++ === 3) takeOver(dir2, 'c.npz');
      return data.call(this);
    });
    const err2 = await writeTensorArtifacts(g, 'c', t).catch((e: unknown) => e);
    vi.restoreAllMocks();
    expect(err2).toBeInstanceOf(RunLockLostError);
    expect(readFileSync(join(dir2, 'artifacts', 'c.npz'), 'utf8')).toBe('new owner');
    expect(tmpFiles(dir2)).toEqual([]);
    tf.dispose(Object.values(t));
    expect(tf.memory().numTensors).toBe(before);
    releaseLock(dir2);
  });
});
