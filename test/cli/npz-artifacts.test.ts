// The .npz half of writeTensorArtifacts / writeModuleArtifacts streams like the tensor-folder half:
// each tensor is downloaded (one `await data()`) only once every entry before it is in the npz's
// temporary file, so the write holds about one tensor in host memory, not all of them; the values
// are those at the call even if the caller disposes or assigns its tensors meanwhile; the bytes are
// those of the eager path (encodeNpz of the host arrays built here) and numpy reads the values.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { tf } from '../../src/core/tf.js';
import type { RunContext } from '../../src/cli/example.js';
import { writeModuleArtifacts, writeTensorArtifacts } from '../../src/cli/artifacts.js';
import { encodeNpz, readNpz, type NpyEntry } from '../../src/io/npy.js';
import { python } from '../helpers/python.js';
import { SeededModel } from '../helpers/modules.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-npz-artifacts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());
let n = 0;

/** A context whose artifacts go to a fresh folder (only artifactPath is used). */
function context(): { ctx: RunContext; dir: string } {
  const dir = join(root, `run${n++}`, 'artifacts');
  mkdirSync(dir, { recursive: true });
  return { ctx: { artifactPath: (name: string) => join(dir, name) } as unknown as RunContext, dir };
}

/** Local header offsets of an npz's entries, in order, by Python's zipfile. */
const headerOffsets = (path: string): number[] => JSON.parse(python('import sys, json, zipfile\nprint(json.dumps([i.header_offset for i in zipfile.ZipFile(sys.argv[1]).infolist()]))', path)) as number[];

/** Size of the npz's temporary file in `dir` (-1 when there is none: a download for the tensor folder). */
function npzTempSize(dir: string): number {
  const t = readdirSync(dir).filter((f) => f.endsWith('.tmp') && f.includes('.npz.'));
  return t.length === 1 ? statSync(join(dir, t[0]!)).size : -1;
}

const F32_WORDS = [0x7f800001, 0xff800123, 0x7fc00000, 0x3f800000, 0x80000000, 0x3eaaaaab, 0x00000001];
const host = (): Record<string, NpyEntry> => ({
  f: { data: new Float32Array(Uint32Array.from(F32_WORDS).buffer), shape: [7] },
  i: { data: Int32Array.of(-7, 2147483647, -2147483648, 12345, 3, 0), shape: [2, 3] },
  b: { data: Uint8Array.of(1, 0, 0, 1), shape: [2, 2] },
  e: { data: new Float32Array(0), shape: [0, 3] },
  s: { data: Float32Array.of(-2.5), shape: [] },
});
const makeTensors = (): Record<string, tf.Tensor> => {
  const h = host();
  const t = (k: string, dtype: 'float32' | 'int32' | 'bool'): tf.Tensor => tf.tensor(h[k]!.data as Float32Array, [...h[k]!.shape], dtype);
  return { f: t('f', 'float32'), i: t('i', 'int32'), b: t('b', 'bool'), e: t('e', 'float32'), s: tf.scalar(-2.5) };
};

/** Spies on data(): records the npz temporary file's size at each download (-1: none). */
function spyDownloads(dir: string, onCall: (k: number) => void = () => {}): number[] {
  const seen: number[] = [];
  const data = tf.Tensor.prototype.data;
  vi.spyOn(tf.Tensor.prototype, 'data').mockImplementation(function (this: tf.Tensor) {
    onCall(seen.length);
    seen.push(npzTempSize(dir));
    return data.call(this);
  });
  return seen;
}


describe('writeTensorArtifacts streams the npz', () => {
  it('downloads a tensor for the npz only once the entries before it are written; the bytes are the eager ones', async () => {
    const before = tf.memory().numTensors;
    const t = makeTensors();
    const { ctx, dir } = context();
    const seen = spyDownloads(dir);
    await writeTensorArtifacts(ctx, 'w', t, { step: 1 });
    vi.restoreAllMocks();
    const path = join(dir, 'w.npz');
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(encodeNpz(host())))).toBe(true);
    // 5 downloads for the folder (no npz temporary file yet), then 5 for the npz, the k-th when the
    // temporary file holds exactly entries 0..k-1 (the old code downloaded all five before the
    // npz file was opened: no temporary file at any download)
    expect(seen).toEqual([-1, -1, -1, -1, -1, ...headerOffsets(path)]);
    expect(readdirSync(dir).sort()).toEqual(['w', 'w.npz']);
    tf.dispose(Object.values(t));
    expect(tf.memory().numTensors).toBe(before);
    const out = python(
      `import sys, numpy as np
z = np.load(sys.argv[1])
print(z['f'].dtype, z['f'].view(np.uint32).tolist(), z['i'].dtype, z['i'].tolist(), z['b'].dtype, z['b'].tolist(), z['e'].shape, z['s'].shape, float(z['s']))`,
      path,
    );
    expect(out).toBe(`float32 [${F32_WORDS.join(', ')}] int32 [[-7, 2147483647, -2147483648], [12345, 3, 0]] uint8 [[1, 0], [0, 1]] (0, 3) () -2.5`);
  });

  it('writes the values at the call when the caller disposes its tensors and assigns a variable meanwhile', async () => {
    const before = tf.memory().numTensors;
    const t = makeTensors();
    const init = tf.tensor([1, 2, 3], [3]);
    const v = tf.variable(init, false);
    init.dispose();
    const next = tf.tensor([7, 8, 9], [3]);
    const { ctx, dir } = context();
    spyDownloads(dir, (k) => {
      if (k === 0) {
        // a training step during the save: the variable changes, the caller frees its tensors
        v.assign(next);
        tf.dispose(Object.values(t));
      }
    });
    await writeTensorArtifacts(ctx, 'w', { ...t, v });
    vi.restoreAllMocks();
    const back = readNpz(join(dir, 'w.npz'));
    expect(Array.from(back.v!)).toEqual([1, 2, 3]);
    expect(Array.from(new Uint32Array(back.f!.buffer, back.f!.byteOffset, back.f!.length))).toEqual(F32_WORDS);
    expect(Array.from(back.i!)).toEqual(Array.from(host().i!.data));
    tf.dispose([v, next]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a failing download mid-npz leaves no npz, no temporary file and no held tensor', async () => {
    const before = tf.memory().numTensors;
    const t = makeTensors();
    const { ctx, dir } = context();
    const data = tf.Tensor.prototype.data;
    let calls = 0;
    vi.spyOn(tf.Tensor.prototype, 'data').mockImplementation(function (this: tf.Tensor) {
      if (calls++ === 7) return Promise.reject(new Error('device lost')); // the npz's third tensor
      return data.call(this);
    });
    await expect(writeTensorArtifacts(ctx, 'w', t)).rejects.toThrow('device lost');
    vi.restoreAllMocks();
    expect(readdirSync(dir)).toEqual(['w']);
    tf.dispose(Object.values(t));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('writeModuleArtifacts streams the npz', () => {
  it('downloads one parameter or state at a time for the npz; bytes as the eager path, values at the call', async () => {
    const m = new SeededModel(1.25);
    const before = tf.memory().numTensors;
    const { ctx, dir } = context();
    const next = tf.tensor([9, 9, 9], [3]);
    // 4 downloads for the folder, then 4 for the npz; a training step assigns block.w at the first
    const seen = spyDownloads(dir, (k) => {
      if (k === 0) m.block.w.assign(next);
    });
    await writeModuleArtifacts(ctx, 'layer', m);
    vi.restoreAllMocks();
    const path = join(dir, 'layer.npz');
    const expected: Record<string, NpyEntry> = {
      head: { data: Float32Array.from({ length: 5 }, (_, k) => 1.25 + k / 7), shape: [5] },
      'block.w': { data: Float32Array.of(1.25, -1.25, 1.25 / 3), shape: [3] },
      'block.b': { data: Int32Array.of(1250, -2147483648), shape: [2] },
      'block.mask': { data: Uint8Array.of(1, 0, 1), shape: [3] },
    };
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(encodeNpz(expected)))).toBe(true);
    expect(seen).toEqual([-1, -1, -1, -1, ...headerOffsets(path)]);
    expect(existsSync(join(dir, 'layer', 'model.json'))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    m.dispose();
    next.dispose();
    // (the module's own tensors were freed with it; the assigned value was next's copy)
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  });
});
