// Files an example writes itself with the writers of src/io at a path of its run folder
// (`writeNpz(ctx.artifactPath(…))`, `saveTensors(ctx.checkpointDir)`, an NpyAppendWriter) were not
// followed by the run's end: RunFolder.finish waited only for the writes made through the context,
// so a write the example had not awaited landed after the final summary (the run recorded done
// while its artifact was still being written), and once the run had ended synchronously
// (finishSync: a forced exit, abandon) such a write — its folder's write guard unregistered — landed
// in a folder that was no longer the run's. The folder's write guard now follows the writes under
// it (WriteGuardHooks.begin): finish waits for them, and once the run has ended a write begun
// before (and any later change of an NpyAppendWriter opened before) is refused before it lands.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { registerWriteGuard } from '../../src/io/atomic.js';
import { hostPidText } from '../../src/io/lock.js';
import { NpyAppendWriter } from '../../src/io/npy-append.js';
import { readNpy, readNpz, writeNpz } from '../../src/io/npy.js';
import { loadTensors, SAVE_LOCK_FILE, saveTensors } from '../../src/io/tensors.js';
import { releaseLock } from '../../src/cli/run-lock.js';
import { lockedRunFolder, tmpFiles } from '../helpers/run-lock.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-run-folder-io-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

/** A gate: `wait` resolves once `open` was called. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/** An npz write of one lazy array [1, 2, 3] whose data is produced once `g` opens. */
function gatedNpz(path: string, g: { wait: Promise<void> }): Promise<void> {
  return writeNpz(path, { a: { dtype: 'float32', shape: [3], data: async () => (await g.wait, Float32Array.of(1, 2, 3)) } });
}

/**
 * A tensor-folder save of w = [1, 2, 3] into `dir` that waits for the folder's save lock, held
 * (by this process) until `g` opens.
 */
function gatedSave(dir: string, g: { wait: Promise<void> }): Promise<void> {
  writeFileSync(join(dir, SAVE_LOCK_FILE), hostPidText());
  void g.wait.then(() => rmSync(join(dir, SAVE_LOCK_FILE), { force: true }));
  const w = tf.tensor1d([1, 2, 3]);
  return saveTensors(dir, { w }).finally(() => w.dispose());
}

const WRITERS = [
  {
    name: 'writeNpz at an artifactPath',
    start: (f: { artifactPath(n: string): string }, g: { wait: Promise<void> }) => {
      const path = f.artifactPath('late.npz');
      return { path, write: gatedNpz(path, g) };
    },
    landed: async (path: string) => Array.from(readNpz(path).a!),
  },
  {
    name: 'saveTensors at checkpointDir',
    start: (f: { checkpointDir: string }, g: { wait: Promise<void> }) => {
      const dir = f.checkpointDir;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      return { path: join(dir, 'model.json'), write: gatedSave(dir, g) };
    },
    landed: async (path: string) => {
      const t = await loadTensors(join(path, '..'));
      const v = Array.from(await t.tensors.w!.data());
      tf.dispose(Object.values(t.tensors));
      return v;
    },
  },
];

describe("the run's end and the example's own src/io writes under way", () => {
  for (const wr of WRITERS) {
    it(`finish waits for ${wr.name} (it lands before the final summary)`, async () => {
      const { f, dir } = await lockedRunFolder(root, `finish-${wr.name.split(' ')[0]}`, 'io');
      cleanup.push(() => releaseLock(dir));
      const summary = join(dir, 'run_summary.json');
      const g = gate();
      const { path, write } = wr.start(f, g);
      // the order in which the writes ask the guards: the artifact's last look (right before its
      // rename) must come before the final summary's first
      const order: string[] = [];
      let finishing = false;
      cleanup.push(registerWriteGuard(dir, (p) => {
        if (!finishing) return;
        order.push(p === summary ? 'summary' : p === path ? 'artifact' : 'other');
        // on the old code the final summary's write starts while the artifact waits: let it go on then
        if (p === summary) g.open();
      }));
      finishing = true;
      const fin = f.finish('completed');
      // (the end waits for the artifact: nothing else opens the gate)
      const fallback = setTimeout(g.open, 300);
      cleanup.push(() => clearTimeout(fallback));
      await write;
      const s = await fin;
      expect(s.status).toBe('completed');
      expect(order.indexOf('artifact')).toBeGreaterThanOrEqual(0);
      expect(order.lastIndexOf('artifact')).toBeLessThan(order.indexOf('summary'));
      expect(await wr.landed(path)).toEqual([1, 2, 3]);
    });

    it(`finishSync refuses ${wr.name} begun before it: nothing lands, no temporary file`, async () => {
      const { f, dir } = await lockedRunFolder(root, `sync-${wr.name.split(' ')[0]}`, 'io');
      cleanup.push(() => releaseLock(dir));
      const g = gate();
      const { path, write } = wr.start(f, g);
      const settled = write.then(() => 'landed', (e: unknown) => e);
      f.finishSync('interrupted');
      g.open();
      const r = await settled;
      expect(r).toBeInstanceOf(Error);
      expect((r as Error).message).toMatch(/the run has ended/);
      expect(existsSync(path)).toBe(false);
      expect(tmpFiles(dir)).toEqual([]);
      if (wr.name.startsWith('save')) expect(readdirSync(join(path, '..')).filter((n) => n.startsWith('weights'))).toEqual([]);
    });
  }

  it('an NpyAppendWriter opened while the run went on: appends after its end are refused, the file keeps its rows', async () => {
    const { f, dir } = await lockedRunFolder(root, 'append', 'io');
    cleanup.push(() => releaseLock(dir));
    const path = f.artifactPath('rec.npy');
    const w = NpyAppendWriter.open(path, { dtype: 'float32', rowShape: [2] });
    w.append(Float32Array.of(1, 2));
    await f.finish('completed');
    expect(() => w.append(Float32Array.of(3, 4))).toThrow(/the run has ended/);
    expect(() => w.truncate(0)).toThrow(/the run has ended/);
    w.close();
    const a = readNpy(path);
    expect(a.shape).toEqual([1, 2]);
    expect(Array.from(a.data)).toEqual([1, 2]);
  });
});
