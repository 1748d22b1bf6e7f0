// The tensor format keeps what it is given: float32/int32 bytes copied as they are (a signalling
// NaN stays signalling), and NaN/±Infinity in the manifest's metadata read back as numbers.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CinderArgumentError } from '../../src/core/errors.js';
import { toJson } from '../../src/io/atomic.js';
import { crc32 } from '../../src/io/npy.js';
import { tf } from '../../src/core/tf.js';
import { decodeTensors, encodeTensors, loadTensors, MANIFEST_FILE, readTensorFolder, saveTensors, writeTensorFolder } from '../../src/io/tensors.js';

const temp = (): string => mkdtempSync(join(tmpdir(), 'cinder-tensors-'));
const words = (a: ArrayBufferView): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4));

// signalling NaN, negative signalling NaN with a payload, quiet NaN, 1, -0
const F32 = Uint32Array.of(0x7f800001, 0xff800123, 0x7fc00000, 0x3f800000, 0x80000000);

describe('tensor bytes are copied, not converted', () => {
  it('encodeTensors writes the float32 and int32 bytes as they are', () => {
    const f = new Float32Array(F32.slice().buffer);
    const i = Int32Array.of(-1, 0x7fffffff, -0x80000000);
    const art = encodeTensors({ f: { data: f, shape: [5], dtype: 'float32' }, i: { data: i, shape: [3], dtype: 'int32' }, b: { data: Uint8Array.of(0, 1, 2), shape: [3], dtype: 'bool' } });
    expect(words(art.weightData.subarray(0, 32))).toEqual([0x7f800001, 0xff800123, 0x7fc00000, 0x3f800000, 0x80000000, 0xffffffff, 0x7fffffff, 0x80000000]);
    expect(Array.from(art.weightData.subarray(32))).toEqual([0, 1, 1]); // bool as 0/1, as before
  });

  it('a saved folder reads back bit for bit (decodeTensors, loadTensors)', async () => {
    const dir = temp();
    const f = new Float32Array(F32.slice().buffer);
    await writeTensorFolder(dir, encodeTensors({ f: { data: f, shape: [5], dtype: 'float32' } }));
    const host = decodeTensors(await readTensorFolder(dir));
    expect(words(host.f!.data)).toEqual([0x7f800001, 0xff800123, 0x7fc00000, 0x3f800000, 0x80000000]);
    // a view into a larger buffer (non-zero byteOffset) is copied from the right place
    const big = new Float32Array(new Uint32Array([0xdeadbeef, 0x7f800002, 0x3f800000, 0xdeadbeef]).buffer);
    const art = encodeTensors({ v: { data: big.subarray(1, 3), shape: [2], dtype: 'float32' } });
    expect(words(art.weightData)).toEqual([0x7f800002, 0x3f800000]);
    const { tensors } = await loadTensors(dir);
    expect(words(tensors.f!.dataSync() as Float32Array)).toEqual([0x7f800001, 0xff800123, 0x7fc00000, 0x3f800000, 0x80000000]);
    tensors.f!.dispose();
  });
});

describe('non-finite numbers in the manifest', () => {
  const metadata = { loss: NaN, best: Infinity, series: [1, -Infinity, NaN], f: Float32Array.of(NaN, 2), label: 'NaN', nested: { x: { y: -Infinity } }, n: null };

  it('are written as strings listed in nonFinite, and read back as numbers', async () => {
    const dir = temp();
    await writeTensorFolder(dir, encodeTensors({ a: { data: Float32Array.of(1), shape: [1], dtype: 'float32' } }, { metadata }));
    const raw = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
    expect(raw.metadata).toEqual({ loss: 'NaN', best: 'Infinity', series: [1, '-Infinity', 'NaN'], f: ['NaN', 2], label: 'NaN', nested: { x: { y: '-Infinity' } }, n: null });
    expect(raw.nonFinite).toEqual([['metadata', 'loss'], ['metadata', 'best'], ['metadata', 'series', 1], ['metadata', 'series', 2], ['metadata', 'f', 0], ['metadata', 'nested', 'x', 'y']]);
    const art = await readTensorFolder(dir);
    expect(art.manifest.metadata).toEqual({ loss: NaN, best: Infinity, series: [1, -Infinity, NaN], f: [NaN, 2], label: 'NaN', nested: { x: { y: -Infinity } }, n: null });
    expect('nonFinite' in art.manifest).toBe(false);
    expect((await loadTensors(dir)).metadata.best).toBe(Infinity);
    // saving what was read gives the same manifest text
    const again = temp();
    await writeTensorFolder(again, art);
    expect(readFileSync(join(again, MANIFEST_FILE), 'utf8')).toBe(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
    // with finite metadata there is no nonFinite key: the file is as before
    const plain = temp();
    await writeTensorFolder(plain, encodeTensors({ a: { data: Float32Array.of(1), shape: [1], dtype: 'float32' } }, { metadata: { k: 3, s: 'x' } }));
    expect(Object.keys(JSON.parse(readFileSync(join(plain, MANIFEST_FILE), 'utf8')))).toEqual(['format', 'version', 'extras', 'metadata', 'weightsManifest', 'weightsByteLength', 'weightsChecksum', 'manifestChecksum']);
  });

  it('a nonFinite entry that does not point at such a string is refused (checksum intact)', async () => {
    const dir = temp();
    await writeTensorFolder(dir, encodeTensors({ a: { data: Float32Array.of(1), shape: [1], dtype: 'float32' } }, { metadata: { loss: NaN, label: 'x' } }));
    const path = join(dir, MANIFEST_FILE);
    const { manifestChecksum: _drop, ...rest } = JSON.parse(readFileSync(path, 'utf8'));
    rest.nonFinite = [['metadata', 'loss'], ['metadata', 'label']];
    const body = toJson(rest);
    writeFileSync(path, toJson({ ...rest, manifestChecksum: crc32(Buffer.from(body, 'utf8')).toString(16).padStart(8, '0') }));
    const err = await readTensorFolder(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CinderArgumentError);
    expect((err as Error).message).toBe(`invalid ${path} nonFinite: got ["metadata","label"], expected a list of key paths of "NaN", "Infinity" and "-Infinity" strings (the manifest is damaged)`);
    expect(readdirSync(dir).length).toBe(2);
  });
});

describe('a save refused for its input writes nothing', () => {
  it('damaged artifacts or metadata that is not JSON (a cycle) create no folder; a CinderArgumentError says why', async () => {
    const root = temp();
    const good = (): ReturnType<typeof encodeTensors> => encodeTensors({ a: { data: Float32Array.of(1, 2), shape: [2], dtype: 'float32' } });
    const wrongSum = good();
    wrongSum.manifest.weightsChecksum = 'deadbeef';
    const badShape = good();
    badShape.manifest.weightsManifest[0]!.weights[0]!.shape = [-1, -2];
    const cyclic: Record<string, unknown> = { k: 1 };
    cyclic.self = cyclic;
    const withCycle = encodeTensors({ a: { data: Float32Array.of(1), shape: [1], dtype: 'float32' } }, { metadata: cyclic });
    const cases: [string, ReturnType<typeof encodeTensors>, RegExp][] = [
      ['a wrong weights checksum', wrongSum, /invalid weights checksum/],
      ['a negative dimension', badShape, /invalid manifest tensor entry/],
      ['cyclic metadata', withCycle, /invalid metadata: got .*, expected JSON-serializable metadata and extras \(Converting circular structure to JSON/],
    ];
    for (const [what, art, message] of cases) {
      const dir = join(root, what.replace(/ /g, '-'), 'sub');
      const err = await writeTensorFolder(dir, art).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(CinderArgumentError);
      expect((err as Error).message, what).toMatch(message);
    }
    expect(readdirSync(root), 'no folder created').toEqual([]);
  });
});

describe('tensor names that objects inherit', () => {
  it('"constructor", "toString", "valueOf" and "__proto__" save and load like any other name', async () => {
    const dir = temp();
    const names = ['constructor', 'toString', 'valueOf', '__proto__', 'w'];
    const given: Record<string, tf.Tensor> = {};
    names.forEach((n, k) => Object.defineProperty(given, n, { value: tf.fill([2], k + 0.5), enumerable: true }));
    await saveTensors(dir, given);
    const { tensors } = await loadTensors(dir); // used to fail: "invalid tensor name in the file: got "constructor", expected each name listed once"
    expect(Object.keys(tensors)).toEqual(names);
    for (const [k, n] of names.entries()) expect(Array.from(Object.getOwnPropertyDescriptor(tensors, n)!.value.dataSync() as Float32Array), n).toEqual([k + 0.5, k + 0.5]);
    tf.dispose([...Object.values(given), ...Object.values(tensors)]);
  });
});
