// Saves of device tensors stream: each tensor is downloaded (one `await data()`) only once the
// bytes of the tensor before it are in the weights files, so a save holds about one tensor in host
// memory, never all of them. The files are those the host path writes (writeHostTensors of
// toHost), byte for byte, and are checked against bytes and CRC-32s (Python's zlib) built here
// independently; shard boundaries, failures mid-save and tensors disposed meanwhile are covered.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { CinderArgumentError } from '../../src/core/errors.js';
import { tf } from '../../src/core/tf.js';
import { collectExtras } from '../../src/core/snapshot.js';
import { loadModule, moduleTensors, saveModule } from '../../src/io/serialize.js';
import { loadTensors, MANIFEST_FILE, saveTensors, toHost, writeHostTensors, writeTensors, type TensorsManifest } from '../../src/io/tensors.js';
import { SeededModel } from '../helpers/modules.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-stream-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());
let n = 0;
const temp = (): string => join(root, `s${n++}`);

/** CRC-32 of each file, by Python's zlib (8 hex digits). */
function pyCrc(paths: string[]): string[] {
  const code = 'import sys, zlib\nfor p in sys.argv[1:]: print(format(zlib.crc32(open(p, "rb").read()), "08x"))';
  return execFileSync('python3', ['-c', code, ...paths], { encoding: 'utf8' }).trim().split('\n');
}

/** Every file of a folder: name → bytes. */
function files(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f))]),
  );
}

/** Bytes in the folder's weights files, written or being written (the manifest and lock aside). */
function weightBytesOnDisk(dir: string): number {
  if (!existsSync(dir)) return 0;
  let sum = 0;
  for (const f of readdirSync(dir)) if (f !== MANIFEST_FILE && f !== '.save.lock') sum += statSync(join(dir, f)).size;
  return sum;
}

// signalling NaN, negative NaN with a payload, quiet NaN, 1, -0, and more
const F32_WORDS = [0x7f800001, 0xff800123, 0x7fc00000, 0x3f800000, 0x80000000, 0x3eaaaaab, 0xc2f6e979, 0x00000001, 0x7f7fffff, 0xff800000, 0x40490fdb, 0x3dcccccd, 0x12345678];
/** Host values of the test tensors: 13 float32 (52 bytes), 5 int32 (20), 7 bool (7), an empty [0, 3] and a scalar float32 (4): 83 bytes. */
const host = () => ({
  f: new Float32Array(Uint32Array.from(F32_WORDS).buffer),
  i: Int32Array.of(-7, 2147483647, -2147483648, 12345, 3),
  b: Uint8Array.of(1, 0, 0, 1, 1, 0, 1),
  e: new Float32Array(0),
  s: Float32Array.of(-2.5),
});
const SHAPES = { f: [13], i: [5], b: [7], e: [0, 3], s: [] } as Record<string, number[]>;
const DTYPES = { f: 'float32', i: 'int32', b: 'bool', e: 'float32', s: 'float32' } as const;
const SIZES = [52, 20, 7, 0, 4];
const makeTensors = (): Record<string, tf.Tensor> => {
  const h = host();
  return { f: tf.tensor(h.f, SHAPES.f, 'float32'), i: tf.tensor(h.i, SHAPES.i, 'int32'), b: tf.tensor(h.b, SHAPES.b, 'bool'), e: tf.tensor(h.e, SHAPES.e, 'float32'), s: tf.scalar(-2.5) };
};

/** The stored bytes written out by hand: float32/int32 as their little-endian bytes, bool as one byte. */
function expectedBytes(): Buffer {
  const h = host();
  const parts: number[] = [];
  for (const k of ['f', 'i', 'b', 'e', 's'] as const) {
    const a = h[k];
    for (let j = 0; j < a.length; j++) {
      if (a instanceof Uint8Array) {
        parts.push(a[j] ? 1 : 0);
        continue;
      }
      const v = new DataView(new ArrayBuffer(4));
      if (a instanceof Int32Array) v.setInt32(0, a[j]!, true);
      else v.setUint32(0, new Uint32Array(a.buffer)[j]!, true); // the bits themselves (NaN payloads)
      parts.push(...new Uint8Array(v.buffer));
    }
  }
  return Buffer.from(parts);
}

describe('saveTensors streams', () => {
  it('downloads a tensor only after the bytes of every tensor before it are in the weights files', async () => {
    for (const shardBytes of [1e6, 30]) {
      const t = makeTensors();
      const dir = temp();
      const seen: number[] = [];
      const data = tf.Tensor.prototype.data;
      vi.spyOn(tf.Tensor.prototype, 'data').mockImplementation(function (this: tf.Tensor) {
        seen.push(weightBytesOnDisk(dir));
        return data.call(this);
      });
      await saveTensors(dir, t, {}, { shardBytes });
      vi.restoreAllMocks();
      // at the k-th download, exactly the bytes of tensors 0..k-1 are on disk: the downloads of the
      // earlier tensors are written (and dropped), none held alongside (the old code downloaded
      // all five first: 0 bytes on disk at every download)
      const prefix = SIZES.map((_, k) => SIZES.slice(0, k).reduce((a, b) => a + b, 0));
      expect(seen, `shardBytes ${shardBytes}`).toEqual(prefix);
      tf.dispose(Object.values(t));
    }
  });

  it('writes the files writeHostTensors(toHost(...)) writes, byte for byte, at every shard boundary', async () => {
    const all = expectedBytes();
    expect(all.length).toBe(83);
    // 1e6: one file; 83: one file exactly full; 52: "f" exactly fills the first shard (boundary
    // between tensors); 72: boundary between "i" and "b"; 30: tensors spanning shards; 4: many,
    // a shard ending inside "b"; 1: one byte each
    for (const shardBytes of [1e6, 83, 52, 72, 30, 4, 1]) {
      const t = makeTensors();
      const metadata = { epoch: 3, loss: NaN };
      const a = temp();
      const b = temp();
      await saveTensors(a, t, metadata, { shardBytes });
      await writeHostTensors(b, await toHost(t), { metadata }, { shardBytes });
      tf.dispose(Object.values(t));
      const fa = files(a);
      expect([...fa.keys()], `shardBytes ${shardBytes}`).toEqual([...files(b).keys()]);
      for (const [name, bytes] of files(b)) expect(fa.get(name)!.equals(bytes), `${name} at shardBytes ${shardBytes}`).toBe(true);
      // and against the layout built here
      const manifest = JSON.parse(fa.get(MANIFEST_FILE)!.toString('utf8')) as TensorsManifest;
      const paths = manifest.weightsManifest[0]!.paths;
      const count = Math.max(1, Math.ceil(83 / shardBytes));
      expect(paths).toHaveLength(count);
      expect(manifest.version).toBe(count > 1 ? 3 : 2);
      const sizes = paths.map((_, k) => Math.min(shardBytes, 83 - k * shardBytes));
      const parts = paths.map((p) => readFileSync(join(a, p)));
      expect(parts.map((p) => p.length)).toEqual(sizes);
      expect(Buffer.concat(parts).equals(all)).toBe(true);
      const unique = [...new Set(paths)];
      expect(unique).toEqual(pyCrc(unique.map((p) => join(a, p))).map((c) => `weights-${c}.bin`));
      expect(manifest.weightsByteLength).toBe(83);
      expect(manifest.weightsManifest[0]!.weights).toEqual(Object.keys(SHAPES).map((name) => ({ name, shape: SHAPES[name], dtype: DTYPES[name as keyof typeof DTYPES], group: 'tensor' })));
      // read back bit for bit
      const back = await loadTensors(a);
      const h = host();
      for (const k of Object.keys(h) as (keyof typeof h)[]) {
        const got = await back.tensors[k]!.data();
        expect(back.tensors[k]!.dtype).toBe(DTYPES[k]);
        expect(back.tensors[k]!.shape).toEqual(SHAPES[k]);
        const bits = (x: ArrayBufferView): number[] => Array.from(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
        expect(bits(got as ArrayBufferView), k).toEqual(bits(h[k]));
      }
      expect(back.metadata).toEqual(metadata);
      tf.dispose(Object.values(back.tensors));
    }
  });

  it('an empty save (no tensors, or only empty ones) is one empty weights file', async () => {
    const dir = temp();
    const e = tf.zeros([0, 4]);
    await saveTensors(dir, { e }, {}, { shardBytes: 4 });
    e.dispose();
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as TensorsManifest;
    expect(manifest.weightsManifest[0]!.paths).toEqual(['weights-00000000.bin']);
    expect(readFileSync(join(dir, 'weights-00000000.bin')).length).toBe(0);
  });

  it('saves the values at the call, also when the caller disposes its tensors or assigns a variable meanwhile', async () => {
    const before = tf.memory().numTensors;
    const t = makeTensors();
    const init = tf.tensor([1, 2, 3], [3], 'float32');
    const next = tf.tensor([7, 8, 9], [3], 'float32');
    const v = tf.variable(init, false);
    init.dispose();
    const dir = temp();
    const data = tf.Tensor.prototype.data;
    let calls = 0;
    vi.spyOn(tf.Tensor.prototype, 'data').mockImplementation(function (this: tf.Tensor) {
      if (calls++ === 0) {
        // a training step during the save: the variable changes, the caller frees its tensors
        v.assign(next);
        tf.dispose(Object.values(t));
      }
      return data.call(this);
    });
    await saveTensors(dir, { ...t, v }, {}, { shardBytes: 16 });
    vi.restoreAllMocks();
    const back = await loadTensors(dir);
    expect(Array.from(await back.tensors.v!.data())).toEqual([1, 2, 3]);
    const h = host();
    expect(Array.from(new Uint32Array((await back.tensors.f!.data()).buffer))).toEqual(F32_WORDS);
    expect(Array.from(await back.tensors.i!.data())).toEqual(Array.from(h.i));
    tf.dispose(Object.values(back.tensors));
    tf.dispose([v, next]);
    // the save released its handles (and the buffers held only by them)
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a download failing midway leaves the previous save, no temporary file, no lock and no tensor', async () => {
    const dir = temp();
    const old = { w: tf.tensor([0.5, -1.5], [2]), k: tf.tensor([4], [1], 'int32') };
    await saveTensors(dir, old, { run: 'old' }, { shardBytes: 4 });
    const previous = files(dir);
    const before = tf.memory().numTensors;
    const t = makeTensors();
    const data = tf.Tensor.prototype.data;
    let calls = 0;
    vi.spyOn(tf.Tensor.prototype, 'data').mockImplementation(function (this: tf.Tensor) {
      if (++calls === 3) return Promise.reject(new Error('device lost'));
      return data.call(this);
    });
    // shards of 30 bytes: the first shard ("f" and part of "i") is complete when the third download fails
    await expect(saveTensors(dir, t, { run: 'new' }, { shardBytes: 30 })).rejects.toThrow('device lost');
    vi.restoreAllMocks();
    const now = files(dir);
    expect([...now.keys()]).toEqual([...previous.keys()]);
    for (const [name, bytes] of previous) expect(now.get(name)!.equals(bytes), name).toBe(true);
    tf.dispose(Object.values(t));
    expect(tf.memory().numTensors).toBe(before);
    const back = await loadTensors(dir);
    expect(back.metadata).toEqual({ run: 'old' });
    expect(Array.from(await back.tensors.w!.data())).toEqual([0.5, -1.5]);
    tf.dispose([...Object.values(back.tensors), ...Object.values(old)]);
  });

  it('refuses bad input before anything is written (the folder is not created)', async () => {
    const t = tf.tensor([1, 2]);
    const gone = tf.tensor([3]);
    gone.dispose();
    const str = tf.tensor(['a', 'b']);
    const before = tf.memory().numTensors;
    const raw: [string, (d: string) => Promise<void>, RegExp][] = [
      ['disposed', (d) => saveTensors(d, { t, gone }), /invalid tensor "gone": got "a disposed tensor"/],
      ['string dtype', (d) => saveTensors(d, { t, str }), /invalid dtype of tensor "str": got "string", expected float32, int32 or bool/],
      ['not a tensor', (d) => saveTensors(d, { t, x: [1, 2] as unknown as tf.Tensor }), /invalid tensor "x"/],
      ['bad group', (d) => writeTensors(d, { t: { tensor: t, group: 'weights' as 'state' } }), /invalid group of tensor "t": got "weights", expected parameter, state, tensor/],
      ['bad entry', (d) => writeTensors(d, { t: t as unknown as { tensor: tf.Tensor } }), /invalid tensor "t"/],
      // (the host path wrote any group string into the manifest)
      ['bad host group', (d) => writeHostTensors(d, { h: { data: Float32Array.of(1), shape: [1], dtype: 'float32', group: 'weights' as 'state' } }), /invalid group of tensor "h": got "weights", expected parameter, state, tensor/],
      ['metadata with a cycle', (d) => {
        const m: Record<string, unknown> = {};
        m.self = m;
        return saveTensors(d, { t }, m);
      }, /invalid metadata/],
      ['option key', (d) => saveTensors(d, { t }, {}, { shard: 4 } as never), /invalid options key/],
      ['shardBytes', (d) => saveTensors(d, { t }, {}, { shardBytes: 0 }), /invalid shardBytes/],
    ];
    for (const [what, f, re] of raw) {
      const err = await f(join(root, `bad-${what}`)).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(CinderArgumentError);
      expect((err as Error).message, what).toMatch(re);
      expect(existsSync(join(root, `bad-${what}`)), what).toBe(false);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([t, str]);
  });
});


describe('saveModule streams', () => {
  it('downloads one parameter or state at a time; the files are those of writeHostTensors(moduleTensors), and load back bit for bit', async () => {
    const m = new SeededModel(1.25);
    const dir = temp();
    const seen: number[] = [];
    const data = tf.Tensor.prototype.data;
    vi.spyOn(tf.Tensor.prototype, 'data').mockImplementation(function (this: tf.Tensor) {
      seen.push(weightBytesOnDisk(dir));
      return data.call(this);
    });
    await saveModule(m, dir, { step: 9 });
    vi.restoreAllMocks();
    // storage order: head (20 bytes), block.w (12), block.b (8), block.mask (3); the old code
    // downloaded all four before writing: [0, 0, 0, 0]
    expect(seen).toEqual([0, 20, 32, 40]);
    const ref = temp();
    const extras: Record<string, Record<string, unknown>> = {};
    collectExtras(m, '', extras);
    await writeHostTensors(ref, await moduleTensors(m), { extras, metadata: { step: 9 } });
    const got = files(dir);
    expect([...got.keys()]).toEqual([...files(ref).keys()]);
    for (const [name, bytes] of files(ref)) expect(got.get(name)!.equals(bytes), name).toBe(true);
    const other = new SeededModel(-3);
    await loadModule(other, dir);
    const bits = async (t: tf.Tensor): Promise<number[]> => {
      const d = await t.data();
      return Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    };
    for (const [name, p] of m.namedParameters()) expect(await bits(other.namedParameters().find(([k]) => k === name)![1].value), name).toEqual(await bits(p.value));
    expect(Array.from(await other.block.mask.value.data())).toEqual([1, 0, 1]);
    m.dispose();
    other.dispose();
  });

  it('saves the values at the call when a training step assigns a parameter during the save', async () => {
    const m = new SeededModel(2);
    const dir = temp();
    const data = tf.Tensor.prototype.data;
    let calls = 0;
    const next = tf.tensor([9, 9, 9], [3]);
    vi.spyOn(tf.Tensor.prototype, 'data').mockImplementation(function (this: tf.Tensor) {
      if (calls++ === 0) m.block.w.assign(next); // block.w is downloaded second
      return data.call(this);
    });
    await saveModule(m, dir);
    vi.restoreAllMocks();
    const { tensors } = await loadTensors(dir);
    expect(Array.from(await tensors['block.w']!.data())).toEqual(Array.from(Float32Array.of(2, -2, 2 / 3)));
    tf.dispose([...Object.values(tensors), next]);
    m.dispose();
  });
});
