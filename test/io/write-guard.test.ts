// Write guards (registerWriteGuard, src/io/atomic.ts): every writer of src/io asks the guards of
// the folders containing its target before it creates anything and again right before its point
// of no return (the rename; for NpyAppendWriter the write into the file). A guard that throws
// refuses the write: temporary files (and a tensor save's added weights files) are removed, the
// folder's files are left byte for byte as they were, and the guard's error reaches the caller.
// Each writer is tested with a guard that throws at its k-th call, for every k up to the number of
// calls an unrefused write makes, so the last check before each rename is covered.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { AtomicFileWriter, checkWriteGuards, registerWriteGuard, writeFileAtomic, writeFileAtomicSync, writeJsonAtomic } from '../../src/io/atomic.js';
import { NpyAppendWriter } from '../../src/io/npy-append.js';
import { encodeNpy, encodeNpz, readNpy, writeNpz, type NpyEntry } from '../../src/io/npy.js';
import { loadTensors, saveTensors, writeHostTensors, type HostTensor } from '../../src/io/tensors.js';
import { folderSnapshot } from '../helpers/files.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-write-guard-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let unregister: Array<() => void> = [];
afterEach(() => {
  for (const u of unregister) u();
  unregister = [];
});

class Refused extends Error {}

/** Registers a guard over `dir` that records the paths asked and throws a Refused at its `throwAt`-th call (1-based; never when 0). */
function guard(dir: string, throwAt = 0): { calls: string[] } {
  const rec = { calls: [] as string[] };
  unregister.push(registerWriteGuard(dir, (p) => {
    rec.calls.push(p);
    if (rec.calls.length === throwAt) throw new Refused(`refused ${p}`);
  }));
  return rec;
}


const fresh = (name: string): string => {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
};

describe('registerWriteGuard: which writes a guard sees', () => {
  it('a guard of /x/run sees writes in /x/run and below, as resolved absolute paths, never those of /x/run2, /x or /x/ru', async () => {
    const base = fresh('scope');
    const run = join(base, 'run');
    const g = guard(run);
    await writeFileAtomic(join(run, 'a.txt'), 'a');
    await writeFileAtomic(join(run, 'sub', 'deeper', 'b.txt'), 'b');
    // a relative path is resolved against the working folder
    const rel = relative(process.cwd(), join(run, 'c.txt'));
    await writeFileAtomic(rel, 'c');
    for (const p of [join(base, 'run2', 'x.txt'), join(base, 'ru', 'x.txt'), join(base, 'x.txt'), join(base, 'run.txt')]) await writeFileAtomic(p, 'not guarded');
    // each guarded write asks twice (before it creates anything, right before the rename)
    expect(g.calls).toEqual([join(run, 'a.txt'), join(run, 'a.txt'), join(run, 'sub', 'deeper', 'b.txt'), join(run, 'sub', 'deeper', 'b.txt'), join(run, 'c.txt'), join(run, 'c.txt')]);
    expect(checkWriteGuards(join(base, 'run2', 'y'))).toBe(false);
    expect(checkWriteGuards(join(run, 'y'))).toBe(true);
  });

  it('a refusing guard of /x/run does not refuse a write into /x/run2 (prefix trap), and nested guards are all asked', async () => {
    const base = fresh('prefix');
    const run = join(base, 'run');
    const run2 = join(base, 'run2');
    unregister.push(registerWriteGuard(run, () => {
      throw new Refused('run is not ours');
    }));
    await writeFileAtomic(join(run2, 'f.txt'), 'mine');
    expect(readFileSync(join(run2, 'f.txt'), 'utf8')).toBe('mine');
    await expect(writeFileAtomic(join(run, 'f.txt'), 'x')).rejects.toThrow(Refused);
    expect(existsSync(run)).toBe(false); // refused before anything was created, the folder included
    const outer = guard(base);
    const inner = guard(run2);
    await writeFileAtomic(join(run2, 'g.txt'), 'g');
    expect(outer.calls.length).toBe(2);
    expect(inner.calls.length).toBe(2);
  });

  it('unregister: the guard is no longer asked; calling it twice does nothing; another registration of the same folder stays', async () => {
    const dir = fresh('unregister');
    const calls: string[] = [];
    const check = (p: string): void => {
      calls.push(p);
      throw new Refused('no');
    };
    const u1 = registerWriteGuard(dir, check);
    const u2 = registerWriteGuard(dir, check); // the same function twice: two registrations
    u1();
    u1();
    await expect(writeFileAtomic(join(dir, 'a'), 'a')).rejects.toThrow(Refused);
    expect(calls.length).toBe(1);
    u2();
    await writeFileAtomic(join(dir, 'a'), 'a');
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('a');
    expect(calls.length).toBe(1);
    expect(checkWriteGuards(join(dir, 'a'))).toBe(false);
  });

  it('refuses a bad folder or check', () => {
    expect(() => registerWriteGuard('', () => undefined)).toThrow(/invalid dir/);
    expect(() => registerWriteGuard(root, 'x' as unknown as () => void)).toThrow(/invalid check/);
  });
});

describe('each writer refused at each of its checks leaves the folder as it was', () => {
  const old = { 'keep.txt': 'the folder before', 'target.bin': 'previous target' };
  function prepared(name: string): string {
    const d = fresh(name);
    for (const [f, t] of Object.entries(old)) writeFileSync(join(d, f), t);
    return d;
  }
  const arrays = (): Record<string, NpyEntry> => ({
    w: { data: Float32Array.from({ length: 300 }, (_, k) => Math.cos(k)), shape: [3, 100] },
    i: { data: Int32Array.from({ length: 7 }, (_, k) => 7 - k * k), shape: [7] },
  });
  const writers: Record<string, (dir: string) => Promise<unknown>> = {
    writeFileAtomic: (d) => writeFileAtomic(join(d, 'target.bin'), Uint8Array.of(1, 2, 3)),
    'writeFileAtomic with a commit check': (d) => writeFileAtomic(join(d, 'target.bin'), 'x', { commit: () => true }),
    writeJsonAtomic: (d) => writeJsonAtomic(join(d, 'target.bin'), { a: 1 }),
    writeFileAtomicSync: async (d) => writeFileAtomicSync(join(d, 'target.bin'), 'sync'),
    'AtomicFileWriter.commit': async (d) => {
      const w = await AtomicFileWriter.open(join(d, 'target.bin'));
      await w.write(Uint8Array.of(9, 9));
      return w.commit(join(d, 'target.bin'));
    },
    writeNpz: (d) => writeNpz(join(d, 'target.bin'), arrays()),
  };
  for (const [name, write] of Object.entries(writers)) {
    it(name, async () => {
      const ok = prepared(`${name}-ok`);
      const g = guard(ok);
      await write(ok);
      const n = g.calls.length;
      expect(n).toBe(2);
      expect(readFileSync(join(ok, 'target.bin')).toString('hex')).not.toBe(Buffer.from(old['target.bin']).toString('hex'));
      for (let k = 1; k <= n; k++) {
        const d = prepared(`${name}-${k}`);
        const before = folderSnapshot(d);
        guard(d, k);
        await expect(write(d), `refused at check ${k}`).rejects.toThrow(Refused);
        expect(folderSnapshot(d), `refused at check ${k}`).toEqual(before);
      }
    });
  }

  it('writeNpz without guards writes the bytes of encodeNpz (unchanged)', async () => {
    const d = fresh('npz-plain');
    await writeNpz(join(d, 'a.npz'), arrays());
    expect(readFileSync(join(d, 'a.npz')).equals(Buffer.from(encodeNpz(arrays())))).toBe(true);
  });
});

describe('tensor folder saves and write guards', () => {
  /** Host tensors whose bytes are distinct per `tag` (float64 loop, rounded to float32 by the array). */
  function host(tag: number, n = 40): Record<string, HostTensor> {
    return {
      a: { data: Float32Array.from({ length: n }, (_, k) => Math.sin(k)), shape: [n], dtype: 'float32', group: 'parameter' },
      b: { data: Float32Array.from({ length: n }, (_, k) => tag + k / 8), shape: [n], dtype: 'float32', group: 'state' },
      c: { data: Int32Array.from({ length: 10 }, (_, k) => tag * 100 - k), shape: [2, 5], dtype: 'int32', group: 'tensor' },
    };
  }
  const SHARD = 64; // bytes: several weights files per save, the first one (tensor a's start) shared by both saves

  it('a save refused at each of its checks (before starting, each weights file, the manifest) leaves the previous save byte for byte, no temporary or added weights file', async () => {
    const ok = fresh('tensors-ok');
    await writeHostTensors(ok, host(1), { metadata: { owner: 'previous' } }, { shardBytes: SHARD });
    const g = guard(ok);
    await writeHostTensors(ok, host(2), { metadata: { owner: 'refused' } }, { shardBytes: SHARD });
    const n = g.calls.length;
    const shardCount = (JSON.parse(readFileSync(join(ok, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] }).weightsManifest[0]!.paths.length;
    // before starting + (open, rename) of each weights file + (before, rename) of the manifest
    expect(shardCount).toBeGreaterThan(3);
    expect(n).toBe(1 + 2 * shardCount + 2);
    for (let k = 1; k <= n; k++) {
      const d = fresh(`tensors-${k}`);
      await writeHostTensors(d, host(1), { metadata: { owner: 'previous' } }, { shardBytes: SHARD });
      const before = folderSnapshot(d);
      guard(d, k);
      await expect(writeHostTensors(d, host(2), { metadata: { owner: 'refused' } }, { shardBytes: SHARD }), `refused at check ${k}`).rejects.toThrow(Refused);
      expect(folderSnapshot(d), `refused at check ${k}`).toEqual(before);
      const loaded = await loadTensors(d);
      expect(loaded.metadata.owner).toBe('previous');
      expect(Array.from(loaded.tensors.b!.dataSync())).toEqual(Array.from(host(1).b!.data));
      tf.dispose(Object.values(loaded.tensors));
    }
  });

  it('saveTensors (device tensors) refused right before its manifest swap: the previous save stays, no tensor left', async () => {
    const d = fresh('device-tensors');
    await writeHostTensors(d, host(1), {}, { shardBytes: SHARD });
    const before = folderSnapshot(d);
    const ts = { a: tf.tensor1d(host(3).a!.data as Float32Array), b: tf.tensor1d(host(3).b!.data as Float32Array) };
    const count = tf.memory().numTensors;
    const g = { calls: [] as string[] };
    unregister.push(registerWriteGuard(d, (p) => {
      g.calls.push(p);
      if (p.endsWith('model.json') && g.calls.filter((q) => q === p).length === 3) throw new Refused('manifest');
    }));
    await expect(saveTensors(d, ts, {}, { shardBytes: SHARD })).rejects.toThrow(Refused);
    expect(folderSnapshot(d)).toEqual(before);
    expect(tf.memory().numTensors).toBe(count);
    tf.dispose(Object.values(ts));
  });
});

describe('NpyAppendWriter and write guards', () => {
  const rows = (from: number, n: number): Float32Array => Float32Array.from({ length: n * 3 }, (_, k) => from + k / 4);

  it('append and truncate refused: the file byte for byte as it was, rows unchanged; later appends once unregistered', () => {
    const d = fresh('npy-append');
    const p = join(d, 'rec.npy');
    const w = NpyAppendWriter.open(p, { dtype: 'float32', rowShape: [3] });
    w.append(rows(0, 4));
    const before = readFileSync(p);
    let refuse = true;
    const u = registerWriteGuard(d, () => {
      if (refuse) throw new Refused('not ours');
    });
    unregister.push(u);
    expect(() => w.append(rows(4, 2))).toThrow(Refused);
    expect(() => w.truncate(1)).toThrow(Refused);
    expect(w.rows).toBe(4);
    expect(readFileSync(p).equals(before)).toBe(true);
    refuse = false;
    w.append(rows(4, 2));
    w.close();
    const all = new Float32Array([...rows(0, 4), ...rows(4, 2)]);
    expect(readFileSync(p).equals(Buffer.from(encodeNpy(all, [6, 3])))).toBe(true);
    expect(Array.from(readNpy(p).data)).toEqual(Array.from(all));
  });

  it('open (would truncate) and reopen (may cut bytes off) refused before the file is touched', () => {
    const d = fresh('npy-open');
    const p = join(d, 'rec.npy');
    const w = NpyAppendWriter.open(p, { dtype: 'float32', rowShape: [3] });
    w.append(rows(0, 2));
    w.close();
    writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.from([1, 2, 3])])); // an append cut short
    const before = readFileSync(p);
    guard(d, 1);
    expect(() => NpyAppendWriter.open(p, { dtype: 'float32', rowShape: [3] })).toThrow(Refused);
    guard(d, 1);
    expect(() => NpyAppendWriter.reopen(p, { dtype: 'float32', rowShape: [3] })).toThrow(Refused);
    expect(readFileSync(p).equals(before)).toBe(true);
  });
});

// A guard registered with a `begin` hook (options.begin) follows the writes under its folder: each write is begun with it
// (and ended once, whatever happened), and keeps asking it at its later checks after it was
// unregistered; a plain guard is no longer asked once unregistered.
describe('write guards that follow writes (options.begin)', () => {
  it('writeFileAtomic: begun and ended once; a guard unregistered while the write runs is still asked (following) or not (plain)', async () => {
    const d = fresh('follow');
    const events: string[] = [];
    let refuse = false;
    const unFollow = registerWriteGuard(d, (p) => {
      events.push(`check ${relative(d, p)}`);
      if (refuse) throw new Refused('ended');
    }, { begin: (p) => (events.push(`begin ${relative(d, p)}`), () => void events.push(`end ${relative(d, p)}`)) });
    const plain: string[] = [];
    const unPlain = registerWriteGuard(d, (p) => void plain.push(p));
    // landed: one check before, one right before the rename, then ended
    await writeFileAtomic(join(d, 'a.txt'), 'a');
    expect(events).toEqual(['check a.txt', 'begin a.txt', 'check a.txt', 'end a.txt']);
    expect(plain).toHaveLength(2);
    // both unregistered while the write is under way (its content is written in the meantime)
    events.length = 0;
    plain.length = 0;
    const big = new Uint8Array(1 << 20);
    const w = writeFileAtomic(join(d, 'b.bin'), big);
    unFollow();
    unPlain();
    refuse = true;
    await expect(w).rejects.toThrow(Refused);
    expect(events).toEqual(['check b.bin', 'begin b.bin', 'check b.bin', 'end b.bin']);
    expect(plain).toHaveLength(1); // asked only at the start
    expect(existsSync(join(d, 'b.bin'))).toBe(false);
    // a write started after the unregistration asks neither
    await writeFileAtomic(join(d, 'c.txt'), 'c');
    expect(events).toHaveLength(4);
    expect(readFileSync(join(d, 'c.txt'), 'utf8')).toBe('c');
  });

  it('a begin hook that throws refuses the write before anything is created', async () => {
    const d = fresh('begin-throws');
    unregister.push(registerWriteGuard(d, () => {}, { begin: () => { throw new Refused('no'); } }));
    await expect(writeFileAtomic(join(d, 'x', 'a.txt'), 'a')).rejects.toThrow(Refused);
    expect(existsSync(join(d, 'x'))).toBe(false);
  });

  it('options must be { begin: function }', () => {
    expect(() => registerWriteGuard(root, () => {}, { begin: 1 } as never)).toThrow(/invalid options.begin/);
  });
});
