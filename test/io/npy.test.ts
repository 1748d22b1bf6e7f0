// .npy / .npz encoding: byte layout per the NumPy format spec, CRC-32 against zlib, and (when
// Python with NumPy is installed) numpy.load as the outside reader.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, encodeNpy, encodeNpz } from '../../src/io/npy.js';

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

function header(bytes: Uint8Array): { text: string; dataStart: number } {
  const len = bytes[8]! | (bytes[9]! << 8);
  return { text: Buffer.from(bytes.subarray(10, 10 + len)).toString('latin1'), dataStart: 10 + len };
}

describe('encodeNpy', () => {
  it('writes magic, version 1.0, a 64-byte aligned header and little-endian data', () => {
    const data = Float32Array.from([1.5, -2, 3.25, 0, 7, 8]);
    const b = encodeNpy(data, [2, 3]);
    expect([...b.subarray(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const h = header(b);
    expect(h.dataStart % 64).toBe(0);
    expect(h.text).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    const view = new DataView(b.buffer, b.byteOffset + h.dataStart);
    expect([0, 1, 2, 3, 4, 5].map((i) => view.getFloat32(4 * i, true))).toEqual([1.5, -2, 3.25, 0, 7, 8]);
    expect(b.length).toBe(h.dataStart + 24);
  });

  it('uses the dtype descriptors and tuple syntax of NumPy', () => {
    expect(header(encodeNpy(Int32Array.from([1, 2, 3]), [3])).text).toContain("'descr': '<i4', 'fortran_order': False, 'shape': (3,), }");
    expect(header(encodeNpy(Uint8Array.from([1]), [])).text).toContain("'descr': '|u1', 'fortran_order': False, 'shape': (), }");
    expect(header(encodeNpy(new Float64Array(0), [0, 4])).text).toContain("'descr': '<f8'");
  });

  it('rejects a shape that does not match the data', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/shape.*5 elements/);
    expect(() => encodeNpy(new Float32Array(2), [-2, -1])).toThrow(/shape/);
  });
});

describe('crc32', () => {
  it('matches zlib.crc32 and the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) & 0xff);
    const z = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
    if (z) expect(crc32(bytes)).toBe(z(bytes));
  });

  // opt-in with the other big-file tests (CINDER_BIG_IO=1): it hashes 4 GiB twice, in Node and in Python (≈ 10 s)
  it.skipIf(process.env.CINDER_BIG_IO !== '1')('is right for an array of 4 GiB (Node\'s zlib.crc32 takes a 32-bit length: it returned 0)', () => {
    // 2^32 bytes, zero but for two (untouched pages of a fresh array cost no memory); the
    // reference: Python's zlib over an anonymous mapping, in 1 GiB pieces
    const n = 2 ** 32;
    const b = new Uint8Array(n);
    b[7] = 1;
    b[n - 1] = 0x5a;
    const code = 'import mmap, zlib\nn = 2**32\nm = mmap.mmap(-1, n); m[7] = 1; m[n - 1] = 0x5a\nv = memoryview(m); c = 0\nfor o in range(0, n, 2**30): c = zlib.crc32(v[o:o + 2**30], c)\nprint(c)';
    const want = Number(execFileSync('python3', ['-c', code], { encoding: 'utf8' }).trim());
    expect(crc32(b)).toBe(want);
    expect(crc32(b.subarray(1), crc32(b.subarray(0, 1)))).toBe(want);
  });
});

describe('encodeNpz', () => {
  it('is a stored zip whose entries are the .npy files', () => {
    const a = Float32Array.from([1, 2, 3, 4]);
    const b = Int32Array.from([7, 8, 9]);
    const zip = encodeNpz({ a: { data: a, shape: [2, 2] }, b: { data: b, shape: [3] } });
    const v = new DataView(zip.buffer, zip.byteOffset);
    expect(v.getUint32(0, true)).toBe(0x04034b50);
    expect(v.getUint16(8, true)).toBe(0); // stored
    const size = v.getUint32(18, true);
    const nameLen = v.getUint16(26, true);
    expect(Buffer.from(zip.subarray(30, 30 + nameLen)).toString()).toBe('a.npy');
    expect([...zip.subarray(30 + nameLen, 30 + nameLen + size)]).toEqual([...encodeNpy(a, [2, 2])]);
    const eocd = zip.length - 22;
    expect(v.getUint32(eocd, true)).toBe(0x06054b50);
    expect(v.getUint16(eocd + 10, true)).toBe(2);
  });

  it('rejects names with slashes', () => {
    expect(() => encodeNpz({ 'a/b': { data: new Float32Array(1), shape: [1] } })).toThrow(/array name/);
  });

  it.skipIf(!hasNumpy)('numpy.load reads .npy and .npz back exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npy-'));
    const f = Float32Array.from([0.1, -1e-30, 3e30, Number.NaN, 5, 6]);
    writeFileSync(join(dir, 'f.npy'), encodeNpy(f, [3, 2]));
    writeFileSync(join(dir, 'z.npz'), encodeNpz({ w: { data: f, shape: [2, 3] }, i: { data: Int32Array.from([-5, 2147483647]), shape: [2] }, u: { data: Uint8Array.from([0, 255, 1]), shape: [1, 3] } }));
    const py = [
      'import numpy as np, json, sys',
      `a = np.load(${JSON.stringify(join(dir, 'f.npy'))})`,
      `z = np.load(${JSON.stringify(join(dir, 'z.npz'))})`,
      'out = dict(a_shape=list(a.shape), a_dtype=str(a.dtype), a=[None if np.isnan(x) else float(x) for x in a.ravel()],',
      '  keys=sorted(z.files), w_shape=list(z["w"].shape), i=z["i"].tolist(), i_dtype=str(z["i"].dtype), u=z["u"].tolist(), u_dtype=str(z["u"].dtype))',
      'print(json.dumps(out))',
    ].join('\n');
    const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.a_shape).toEqual([3, 2]);
    expect(out.a_dtype).toBe('float32');
    expect(out.a).toEqual([Math.fround(0.1), Math.fround(-1e-30), Math.fround(3e30), null, 5, 6]);
    expect(out.keys).toEqual(['i', 'u', 'w']);
    expect(out.w_shape).toEqual([2, 3]);
    expect(out.i).toEqual([-5, 2147483647]);
    expect(out.i_dtype).toBe('int32');
    expect(out.u).toEqual([[0, 255, 1]]);
    expect(out.u_dtype).toBe('uint8');
  });
});
