// Saves split into several weights files (shards of `shardBytes` bytes, a tensor may span two or
// more), written tensor by tensor and read with positioned reads: the files, their names and the
// manifest are checked against bytes, CRC-32s (Python's zlib) and tf.io.decodeWeights computed
// here independently of the code under test; old saves (one weights file) still load.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { crc32Combine } from '../../src/io/npy.js';
import { checkArtifacts, loadTensors, MANIFEST_FILE, readHostTensors, readTensorFolder, saveTensors, writeHostTensors, type HostTensor, type TensorsManifest } from '../../src/io/tensors.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-shards-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const temp = (): string => join(root, `s${n++}`);

/** CRC-32 of each file, by Python's zlib (8 hex digits). */
function pyCrc(paths: string[]): string[] {
  const code = 'import sys, zlib\nfor p in sys.argv[1:]: print(format(zlib.crc32(open(p, "rb").read()), "08x"))';
  return execFileSync('python3', ['-c', code, ...paths], { encoding: 'utf8' }).trim().split('\n');
}

/** The little-endian bytes of the values, one by one through a DataView (the stored layout written out by hand). */
function expectedBytes(tensors: Record<string, HostTensor>): Uint8Array {
  const parts: number[] = [];
  for (const h of Object.values(tensors)) {
    for (const x of h.data) {
      const b = new DataView(new ArrayBuffer(4));
      if (h.dtype === 'bool') parts.push(x ? 1 : 0);
      else {
        if (h.dtype === 'float32') b.setFloat32(0, x, true);
        else b.setInt32(0, x, true);
        parts.push(...new Uint8Array(b.buffer));
      }
    }
  }
  return Uint8Array.from(parts);
}

// 13 float32 (52 bytes), 5 int32 (20 bytes), 7 bool (7 bytes): 79 bytes; in shards of 30 bytes
// [30, 30, 19]: f spans shards 1–2, i spans 2–3, b lies in 3.
const tensors = (): Record<string, HostTensor> => ({
  f: { data: Float32Array.from({ length: 13 }, (_, k) => (k - 6) * 0.37 + 1e-3 * k * k), shape: [13], dtype: 'float32', group: 'parameter' },
  i: { data: Int32Array.of(-7, 2147483647, -2147483648, 12345, 3), shape: [5], dtype: 'int32', group: 'state' },
  b: { data: Uint8Array.of(1, 0, 0, 1, 1, 0, 1), shape: [7], dtype: 'bool' },
});

describe('sharded saves', () => {
  it('writes shards of shardBytes bytes named by their CRC-32, whose concatenation tf.io.decodeWeights reads', async () => {
    const dir = temp();
    const t = tensors();
    await writeHostTensors(dir, t, { metadata: { k: 1 } }, { shardBytes: 30 });
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as TensorsManifest;
    const paths = manifest.weightsManifest[0]!.paths;
    expect(paths).toHaveLength(3);
    // version 3 (several shards: a build reading only version 2 says so instead of miscounting bytes)
    expect(manifest.version).toBe(3);
    expect(readdirSync(dir).sort()).toEqual([MANIFEST_FILE, ...paths].sort());
    const files = paths.map((p) => readFileSync(join(dir, p)));
    expect(files.map((f) => f.length)).toEqual([30, 30, 19]);
    expect(paths).toEqual(pyCrc(paths.map((p) => join(dir, p))).map((c) => `weights-${c}.bin`));
    const all = Buffer.concat(files);
    expect(Buffer.from(expectedBytes(t)).equals(all)).toBe(true);
    writeFileSync(join(root, 'all.bin'), all);
    expect(manifest.weightsChecksum).toBe(pyCrc([join(root, 'all.bin')])[0]);
    expect(manifest.weightsByteLength).toBe(79);
    // tfjs reads the concatenated shards with the manifest's entries
    const decoded = tf.io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.length), manifest.weightsManifest[0]!.weights as unknown as tf.io.WeightsManifestEntry[]);
    expect(Array.from(decoded.f!.dataSync())).toEqual(Array.from(t.f!.data));
    expect(Array.from(decoded.i!.dataSync())).toEqual(Array.from(t.i!.data));
    expect(Array.from(decoded.b!.dataSync())).toEqual(Array.from(t.b!.data));
    tf.dispose(Object.values(decoded));
    // read back tensor by tensor across the shard boundaries
    const back = await readHostTensors(dir);
    expect(back.manifest.metadata).toEqual({ k: 1 });
    for (const [name, h] of Object.entries(t)) {
      expect(Array.from(back.tensors[name]!.data), name).toEqual(Array.from(h.data));
      expect(back.tensors[name]!.dtype).toBe(h.dtype);
      expect(back.tensors[name]!.group).toBe(h.group ?? 'tensor');
    }
    // and into one array (the in-memory artifacts)
    expect(Buffer.from((await readTensorFolder(dir)).weightData).equals(all)).toBe(true);
  });

  it('a save in one weights file keeps version 2 (the earlier layout); version 2 naming several shards is refused', async () => {
    const dir = temp();
    await writeHostTensors(dir, tensors(), {}, { shardBytes: 1000 });
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as TensorsManifest;
    expect(manifest.version).toBe(2);
    expect(manifest.weightsManifest[0]!.paths).toHaveLength(1);
    const sharded = temp();
    await writeHostTensors(sharded, tensors(), {}, { shardBytes: 30 });
    const m3 = JSON.parse(readFileSync(join(sharded, MANIFEST_FILE), 'utf8')) as TensorsManifest;
    expect(() => checkArtifacts({ manifest: { ...m3, version: 2 }, weightData: new Uint8Array(79) }, 'manifest', false)).toThrow(
      /invalid manifest\.version: got 2, expected 3 for weights in 3 shards \(version 2 has one weights file\)/,
    );
    expect(() => checkArtifacts({ manifest: { ...m3, version: 4 }, weightData: new Uint8Array(79) }, 'manifest', false)).toThrow(/invalid manifest\.version: got 4, expected 2 or 3/);
  });

  it('one-byte shards (identical shards share one file) and a save over them leave only the new save', async () => {
    const dir = temp();
    const t = tensors();
    await writeHostTensors(dir, t, {}, { shardBytes: 1 });
    const paths = (JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as TensorsManifest).weightsManifest[0]!.paths;
    expect(paths).toHaveLength(79);
    const bytes = expectedBytes(t);
    expect(readdirSync(dir).length).toBe(1 + new Set(bytes).size); // one file per distinct byte value
    const back = await readHostTensors(dir);
    expect(Array.from(back.tensors.f!.data)).toEqual(Array.from(t.f!.data));
    // a save over it in 2 shards: the 1-byte files are gone
    t.f!.data[0] = 99;
    await writeHostTensors(dir, t, {}, { shardBytes: 40 });
    const next = (JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as TensorsManifest).weightsManifest[0]!.paths;
    expect(readdirSync(dir).sort()).toEqual([MANIFEST_FILE, ...next].sort());
    expect(next).toHaveLength(2);
    expect((await readHostTensors(dir)).tensors.f!.data[0]).toBe(99);
  });

  it('a damaged, truncated or missing shard is reported, never loaded', async () => {
    const t = tensors();
    const paths = async (dir: string): Promise<string[]> => {
      await writeHostTensors(dir, t, {}, { shardBytes: 30 });
      return (JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as TensorsManifest).weightsManifest[0]!.paths;
    };
    const flipped = temp();
    const [, second] = await paths(flipped);
    const bytes = readFileSync(join(flipped, second!));
    bytes[3] ^= 0x10;
    writeFileSync(join(flipped, second!), bytes);
    const err = (await readHostTensors(flipped).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^invalid weights checksum: got "[0-9a-f]{8}", expected [0-9a-f]{8} as in the manifest \(the weights are damaged or belong to another save; /);
    expect(err.message).toContain(`${second} has checksum ${pyCrc([join(flipped, second!)])[0]}`);
    const cut = temp();
    const [, , third] = await paths(cut);
    truncateSync(join(cut, third!), 18);
    await expect(readHostTensors(cut)).rejects.toThrow('invalid weights byte length: got 78, expected 79 bytes as listed in the manifest (a weights file is truncated or damaged)');
    const gone = temp();
    const [first] = await paths(gone);
    rmSync(join(gone, first!));
    await expect(loadTensors(gone)).rejects.toThrow(`a folder holding model.json and ${first} (ENOENT`);
  });

  it('a save failing half-way (after some shards) leaves the previous save and no file of its own', async () => {
    const dir = temp();
    await writeHostTensors(dir, tensors(), { metadata: { v: 'old' } }, { shardBytes: 30 });
    const before = readdirSync(dir).sort();
    // values that fail to read from index 40 on, after the first tensor filled two shards of 16 bytes
    const failing = new Proxy(new Float32Array(64), {
      get(target, key) {
        if (typeof key === 'string' && /^\d+$/.test(key) && Number(key) >= 40) throw new Error('value unavailable');
        const v = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const next: Record<string, HostTensor> = { a: { data: Float32Array.from({ length: 9 }, (_, k) => 100 + k), shape: [9], dtype: 'float32' }, z: { data: failing, shape: [64], dtype: 'int32' } };
    await expect(writeHostTensors(dir, next, {}, { shardBytes: 16 })).rejects.toThrow('value unavailable');
    expect(readdirSync(dir).sort()).toEqual(before);
    expect((await readHostTensors(dir)).manifest.metadata).toEqual({ v: 'old' });
  });

  it('bad shardBytes is refused before the folder is created', async () => {
    const dir = temp();
    const cases: [unknown, string][] = [[0, '0'], [-1, '-1'], [1.5, '1.5'], [NaN, 'NaN'], ['8', '"8"']];
    for (const [bad, shown] of cases) {
      await expect(writeHostTensors(dir, tensors(), {}, { shardBytes: bad as number })).rejects.toThrow(`invalid shardBytes: got ${shown}, expected an integer number of bytes >= 1`);
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('a manifest listing a tensor larger than a typed array can hold is refused before reading', async () => {
    const dir = temp();
    await writeHostTensors(dir, tensors(), {});
    const text = readFileSync(join(dir, MANIFEST_FILE), 'utf8');
    const m = JSON.parse(text) as TensorsManifest & Record<string, unknown>;
    m.weightsManifest[0]!.weights[0]!.shape = [2 ** 32 + 1];
    m.weightsByteLength = 4 * (2 ** 32 + 1) + 27;
    // re-checksum the manifest as written (CRC-32 of the text without the key, by Python)
    delete m.manifestChecksum;
    const body = `${JSON.stringify(m, null, 2)}\n`;
    writeFileSync(join(root, 'body.txt'), body);
    writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify({ ...m, manifestChecksum: pyCrc([join(root, 'body.txt')])[0] }, null, 2)}\n`);
    await expect(readHostTensors(dir)).rejects.toThrow(`invalid shape of tensor "f" in ${dir.split('/').pop()}/model.json: got [4294967297], expected at most 4294967296 elements (the largest typed array of this Node.js)`);
  });

  it('concurrent sharded saves and reads: each read returns one complete save, the folder holds the last and its shards', async () => {
    const dir = temp();
    const save = (v: number): Record<string, HostTensor> => ({ x: { data: new Float32Array(300).map((_, k) => v + k), shape: [300], dtype: 'float32' } });
    await writeHostTensors(dir, save(0), { metadata: { v: 0 } }, { shardBytes: 100 });
    for (let round = 1; round <= 5; round++) {
      const [, , got] = await Promise.all([
        writeHostTensors(dir, save(round * 1000), { metadata: { v: round * 1000 } }, { shardBytes: 100 }),
        writeHostTensors(dir, save(-round), { metadata: { v: -round } }, { shardBytes: 64 }),
        readHostTensors(dir),
      ]);
      const v = got.manifest.metadata.v as number;
      expect(Array.from(got.tensors.x!.data)).toEqual(Array.from(save(v).x!.data));
      const m = (await readHostTensors(dir)).manifest;
      expect(readdirSync(dir).sort()).toEqual([...new Set([MANIFEST_FILE, ...m.weightsManifest[0]!.paths])].sort());
    }
  });
});

describe('saves with one weights file (as Cinder wrote them before shards)', () => {
  // The layout of a save before shards, built here by hand: the weights as one file named by its
  // CRC-32, the manifest's keys in their order, its checksum the CRC-32 of its text without it.
  function oldSave(dir: string, t: Record<string, HostTensor>, metadata: Record<string, unknown>): void {
    const bytes = expectedBytes(t);
    rmSync(dir, { recursive: true, force: true });
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(root, 'w.bin'), bytes);
    const sum = pyCrc([join(root, 'w.bin')])[0]!;
    writeFileSync(join(dir, `weights-${sum}.bin`), bytes);
    const weights = Object.entries(t).map(([name, h]) => ({ name, shape: h.shape, dtype: h.dtype, group: h.group ?? 'tensor' }));
    const rest = { format: 'cinder-tensors', version: 2, extras: {}, metadata, weightsManifest: [{ paths: [`weights-${sum}.bin`], weights }], weightsByteLength: bytes.length, weightsChecksum: sum };
    writeFileSync(join(root, 'body.txt'), `${JSON.stringify(rest, null, 2)}\n`);
    writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify({ ...rest, manifestChecksum: pyCrc([join(root, 'body.txt')])[0] }, null, 2)}\n`);
  }

  it('load, and a save that fits one shard writes exactly that layout', async () => {
    const old = temp();
    const t = tensors();
    oldSave(old, t, { from: 'before shards' });
    const back = await readHostTensors(old);
    expect(back.manifest.metadata).toEqual({ from: 'before shards' });
    for (const [name, h] of Object.entries(t)) expect(Array.from(back.tensors[name]!.data), name).toEqual(Array.from(h.data));
    const { tensors: loaded } = await loadTensors(old);
    expect(Array.from(loaded.i!.dataSync())).toEqual(Array.from(t.i!.data));
    tf.dispose(Object.values(loaded));
    const now = temp();
    await writeHostTensors(now, t, { metadata: { from: 'before shards' } });
    expect(readdirSync(now).sort()).toEqual(readdirSync(old).sort());
    for (const f of readdirSync(old)) expect(readFileSync(join(now, f)).equals(readFileSync(join(old, f))), f).toBe(true);
  });

  it('saveTensors streams tf tensors into shards that loadTensors reads back', async () => {
    const dir = temp();
    const a = tf.tensor2d([[1.5, -2], [3, 4e-8], [NaN, 6]]);
    const b = tf.tensor1d([7, -8, 9], 'int32');
    await saveTensors(dir, { a, b }, { note: 'x' }, { shardBytes: 7 });
    expect(readdirSync(dir).length).toBe(1 + 6); // 36 bytes in shards of 7
    const { tensors: got, metadata } = await loadTensors(dir);
    expect(metadata).toEqual({ note: 'x' });
    expect(Array.from(got.a!.dataSync())).toEqual([1.5, -2, 3, Math.fround(4e-8), NaN, 6]);
    expect(Array.from(got.b!.dataSync())).toEqual([7, -8, 9]);
    tf.dispose([a, b, ...Object.values(got)]);
  });
});

describe('crc32Combine', () => {
  it('gives the CRC-32 of a concatenation from the CRC-32s of its parts (Python zlib for all three)', () => {
    const bytes = Uint8Array.from({ length: 5000 }, (_, k) => (k * 131 + (k >> 3)) & 0xff);
    for (const [cut, end] of [[0, 0], [0, 7], [1, 1], [1, 2], [37, 1000], [999, 5000], [4999, 5000], [5000, 5000]] as const) {
      const a = join(root, 'a.bin');
      const b = join(root, 'b.bin');
      const ab = join(root, 'ab.bin');
      writeFileSync(a, bytes.subarray(0, cut));
      writeFileSync(b, bytes.subarray(cut, end));
      writeFileSync(ab, bytes.subarray(0, end));
      const [ca, cb, cab] = pyCrc([a, b, ab]).map((h) => parseInt(h, 16));
      expect(crc32Combine(ca!, cb!, end - cut), `${cut}, ${end}`).toBe(cab);
    }
  });
});
