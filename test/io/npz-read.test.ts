// The checked .npz/.npy readers: numpy.savez layouts read as numpy reads them (Fortran order
// transposed to C order, big-endian, bool, half floats bit for bit, int8/16/64 and uint16/32/64
// within the int32 range, deflate), and every damaged, truncated or
// unsupported file refused with a CinderArgumentError naming the file and entry — never data.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as npy from '../../src/io/npy.js';
import { decodeNpz, encodeNpy, encodeNpz, readNpz } from '../../src/io/npy.js';
import { npyBytes, numBytes, zipBytes } from './fixtures/zip-build.js';
import { refusal } from '../helpers/refusal.js';

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

const hdr = (descr: string, shape: string, fortran = false): string => `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
const entry = (name: string, body: Uint8Array, deflate = false) => zipBytes([{ name, body, deflate }]);
/** Values of decodeNpz as plain arrays with the typed array's class name first. */
const plain = (r: Record<string, ArrayLike<number>>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, [v.constructor.name, ...Array.from(v)]]));

// two entries as encodeNpz writes them: a = [1, 2, 3, 4] (163 + 16 bytes), b = [5, 6]
const good = encodeNpz({ a: { data: new Float32Array([1, 2, 3, 4]), shape: [4] }, b: { data: new Float32Array([5, 6]), shape: [2] } });

describe('decodeNpz: numpy.savez layouts', () => {
  it('a Fortran-order array comes back in C order (numpy.load gives [[0, 1, 2], [3, 4, 5]])', () => {
    // np.asfortranarray([[0, 1, 2], [3, 4, 5]]) stores its columns one after another: 0 3 1 4 2 5
    const z = entry('w.npy', npyBytes(hdr('<f4', '(2, 3)', true), numBytes('f4', [0, 3, 1, 4, 2, 5])));
    expect(plain(decodeNpz(z, 'x.npz'))).toEqual({ w: ['Float32Array', 0, 1, 2, 3, 4, 5] });
    // three axes: element (i, j, k) = 6i + 2j + k stored at i + 2j + 6k
    const f3 = [0, 6, 2, 8, 4, 10, 1, 7, 3, 9, 5, 11];
    expect(plain(decodeNpz(entry('v.npy', npyBytes(hdr('<i4', '(2, 3, 2)', true), numBytes('i4', f3))), 'x.npz'))).toEqual({ v: ['Int32Array', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] });
  });

  it('reads big-endian, bool, int64 (within int32) and deflate-compressed entries', () => {
    const z = zipBytes([
      { name: 'be.npy', body: npyBytes(hdr('>f8', '(2,)'), numBytes('f8', [1.5, -2], false)) },
      { name: 'bi.npy', body: npyBytes(hdr('>i4', '(2,)'), numBytes('i4', [7, -70000], false)) },
      { name: 'flag.npy', body: npyBytes(hdr('|b1', '(3,)'), Uint8Array.of(1, 0, 1)) },
      { name: 'idx.npy', body: npyBytes(hdr('<i8', '(3,)'), numBytes('i8', [-2147483648, 0, 2147483647])) },
      { name: 'c.npy', body: npyBytes(hdr('<i4', '(2,)'), numBytes('i4', [5, -6])), deflate: true },
    ]);
    expect(plain(decodeNpz(z, 'x.npz'))).toEqual({
      be: ['Float64Array', 1.5, -2],
      bi: ['Int32Array', 7, -70000],
      flag: ['Uint8Array', 1, 0, 1],
      idx: ['Int32Array', -2147483648, 0, 2147483647],
      c: ['Int32Array', 5, -6],
    });
  });

  it('reads half floats exactly: 65504, the smallest normal 2^-14, subnormals down to 2^-24, -0, ±inf, NaN payloads, 1/3 rounded', () => {
    // binary16 bits → value: sign · 2^(e−15) · (1 + f/1024) for 1 ≤ e ≤ 30, sign · f · 2^−24 for e = 0
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x7bff, 65504], // 2^15 · (1 + 1023/1024), the largest half
      [0x0400, 2 ** -14], // 6.103515625e-5, the smallest normal
      [0x03ff, 1023 * 2 ** -24], // the largest subnormal
      [0x0001, 2 ** -24], // 5.960464477539063e-8, the smallest subnormal
      [0x8001, -(2 ** -24)],
      [0x3555, 1365 / 4096], // 1/3 = 2^−2 · 1.0101010101|01…₂ rounded down to 10 fraction bits: 0.333251953125
      [0x0000, 0],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    const bits = cases.map(([b]) => b);
    for (const [descr, le] of [['<f2', true], ['>f2', false]] as const) {
      const r = npy.decodeNpy(npyBytes(hdr(descr, `(${cases.length},)`), numBytes('h2', bits, le)), 'h.npy');
      expect(r.data).toBeInstanceOf(Float32Array);
      expect(Array.from(r.data), descr).toEqual(cases.map(([, v]) => v));
      const z = npy.decodeNpy(npyBytes(hdr(descr, '(1,)'), numBytes('h2', [0x8000], le)));
      expect(Object.is(z.data[0], -0), `${descr} -0`).toBe(true);
    }
    // NaNs: sign and the 10 payload bits land in the top float32 fraction bits (quiet bit 9 → bit 22)
    const nan = npy.decodeNpy(npyBytes(hdr('<f2', '(4,)'), numBytes('h2', [0x7e00, 0xfe00, 0x7d01, 0x7c01])));
    expect(Array.from(new Uint32Array(nan.data.buffer, nan.data.byteOffset, 4))).toEqual([0x7fc00000, 0xffc00000, 0x7f800000 | (0x101 << 13), 0x7f800000 | (1 << 13)]);
  });

  it('reads int8, int16, uint16 as Int32Array, and uint32, uint64 within the int32 range, both byte orders and in Fortran order', () => {
    const read = (descr: string, body: Uint8Array, shape = `(${body.length / Number(descr.slice(2))},)`) => {
      const r = npy.decodeNpy(npyBytes(hdr(descr, shape), body), 'x.npy');
      return [r.data.constructor.name, ...Array.from(r.data)];
    };
    expect(read('|i1', numBytes('i1', [-128, -1, 0, 127]))).toEqual(['Int32Array', -128, -1, 0, 127]);
    for (const [o, le] of [['<', true], ['>', false]] as const) {
      expect(read(`${o}i2`, numBytes('i2', [-32768, -2, 300, 32767], le)), o).toEqual(['Int32Array', -32768, -2, 300, 32767]);
      expect(read(`${o}u2`, numBytes('u2', [0, 258, 65535], le)), o).toEqual(['Int32Array', 0, 258, 65535]);
      expect(read(`${o}u4`, numBytes('u4', [0, 16909060, 2147483647], le)), o).toEqual(['Int32Array', 0, 16909060, 2147483647]);
      expect(read(`${o}u8`, numBytes('u8', [0, 7, 2147483647], le)), o).toEqual(['Int32Array', 0, 7, 2147483647]);
      expect(read(`${o}i8`, numBytes('i8', [-2147483648, -1, 2147483647], le)), o).toEqual(['Int32Array', -2147483648, -1, 2147483647]);
    }
    // np.asfortranarray([[0, 1, 2], [3, 4, 5]], '>i2') stores 0 3 1 4 2 5; 2-byte items move whole
    const f = npy.decodeNpy(npyBytes(hdr('>i2', '(2, 3)', true), numBytes('i2', [0, -3, 1, -4, 2, -5], false)));
    expect([f.shape, Array.from(f.data)]).toEqual([[2, 3], [0, 1, 2, -3, -4, -5]]);
  });

  it('decodeNpzEntries and decodeNpy give the shapes; .npy versions 2.0 and 3.0 are read', () => {
    const z = encodeNpz({ s: { data: Float32Array.of(7), shape: [] }, e: { data: new Uint8Array(0), shape: [0, 4] }, m: { data: Int32Array.of(1, 2, 3, 4, 5, 6), shape: [3, 2] } });
    const r = npy.decodeNpzEntries(z, 'x.npz');
    expect(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, [v.shape, Array.from(v.data)]]))).toEqual({ s: [[], [7]], e: [[0, 4], []], m: [[3, 2], [1, 2, 3, 4, 5, 6]] });
    expect(npy.decodeNpy(npyBytes(hdr('<f4', '(1, 2)'), numBytes('f4', [0.5, 3]), 2))).toEqual({ data: Float32Array.of(0.5, 3), shape: [1, 2] });
    expect(npy.decodeNpy(npyBytes(hdr('|u1', '(2,)'), Uint8Array.of(9, 255), 3))).toEqual({ data: Uint8Array.of(9, 255), shape: [2] });
    expect(npy.decodeNpy(encodeNpy(Float64Array.of(-0.25), [1]))).toEqual({ data: Float64Array.of(-0.25), shape: [1] });
  });

  it('entries named like Object.prototype members (constructor, __proto__, toString) are read as any other name', () => {
    // numpy.savez(f, **{'constructor': a, '__proto__': b, 'toString': c}) is valid Python
    const z = zipBytes([
      { name: 'constructor.npy', body: npyBytes(hdr('<i4', '(2,)'), numBytes('i4', [1, 2])) },
      { name: '__proto__.npy', body: npyBytes(hdr('<i4', '(1,)'), numBytes('i4', [3])) },
      { name: 'toString.npy', body: npyBytes(hdr('<f8', '(1,)'), numBytes('f8', [0.5])) },
    ]);
    const got = decodeNpz(z, 'x.npz');
    expect(Object.keys(got)).toEqual(['constructor', '__proto__', 'toString']);
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(plain(got)).toEqual({ constructor: ['Int32Array', 1, 2], ['__proto__']: ['Int32Array', 3], toString: ['Float64Array', 0.5] });
    expect(Object.keys(npy.decodeNpzEntries(z, 'x.npz'))).toEqual(['constructor', '__proto__', 'toString']);
  });

  it('keeps NaN payloads bit for bit (no trip through JS numbers)', () => {
    const bits = Uint32Array.of(0x7f800001, 0xffc00123);
    const r = decodeNpz(encodeNpz({ n: { data: new Float32Array(bits.buffer), shape: [2] } }), 'x.npz');
    expect(Array.from(new Uint32Array(r.n!.buffer, r.n!.byteOffset, 2))).toEqual([0x7f800001, 0xffc00123]);
    const be = decodeNpz(entry('n.npy', npyBytes(hdr('>f4', '(1,)'), Uint8Array.of(0x7f, 0x80, 0x00, 0x01))), 'x.npz');
    expect(Array.from(new Uint32Array(be.n!.buffer, be.n!.byteOffset, 1))).toEqual([0x7f800001]);
  });
});

describe('decodeNpz refuses damaged archives', () => {
  it('an empty file, a file that is not a zip, an archive without entries', () => {
    expect(refusal(() => decodeNpz(new Uint8Array(0), 'x.npz'))).toBe('invalid npz file x.npz: got "0 bytes", expected a zip archive (numpy.savez output; the file is empty or truncated)');
    expect(refusal(() => decodeNpz(Buffer.from('hello, this is not a zip file at all.........'), 'x.npz'))).toBe(
      'invalid npz file x.npz: got "45 bytes without a zip end record", expected a zip archive (numpy.savez output; the file is truncated or not a zip)',
    );
    expect(refusal(() => decodeNpz(encodeNpz({}), 'x.npz'))).toBe('invalid npz file x.npz: got "an archive without entries", expected an npz archive holding at least one array');
  });

  it('a truncated archive: cut inside the first or the second entry, or bytes missing before an intact directory', () => {
    const cut = 'expected a zip archive (numpy.savez output; the file is truncated or not a zip)';
    expect(refusal(() => decodeNpz(good.subarray(0, 171), 'x.npz'))).toBe(`invalid npz file x.npz: got "171 bytes without a zip end record", ${cut}`);
    expect(refusal(() => decodeNpz(good.subarray(0, 347), 'x.npz'))).toBe(`invalid npz file x.npz: got "347 bytes without a zip end record", ${cut}`);
    // three data bytes of b removed, directory and end record kept
    const short = Buffer.concat([good.subarray(0, 340), good.subarray(343)]);
    expect(refusal(() => decodeNpz(short, 'x.npz'))).toBe(
      'invalid npz file x.npz: got "a central directory at 350 of 102 bytes before an end record at 449", expected a central directory that ends where the end record starts (the file is truncated or damaged)',
    );
  });

  it('a flipped data byte fails the CRC-32; a flipped deflate byte fails to inflate', () => {
    const flipped = Uint8Array.from(good);
    flipped[30 + 5 + 128 + 3] ^= 0x40; // a's first value
    expect(refusal(() => decodeNpz(flipped, 'x.npz'))).toBe('invalid x.npz entry a.npy: got "CRC-32 0xe859ad26", expected CRC-32 0x55d43c8d as listed in the archive (the entry is damaged)');
    const dz = entry('a.npy', npyBytes(hdr('<i4', '(64,)'), numBytes('i4', Array(64).fill(3))), true);
    dz[80] ^= 0x55;
    expect(refusal(() => decodeNpz(dz, 'x.npz'))).toMatch(/^invalid x\.npz entry a\.npy: got "a deflate stream that does not decompress", expected a valid deflate stream \(.*; the file is damaged\)$/);
  });

  it('local headers must match the central directory, and every listed entry must be there', () => {
    const renamed = Uint8Array.from(good);
    renamed[31] ^= 1; // a.npy → a/npy in the local header only
    expect(refusal(() => decodeNpz(renamed, 'x.npz'))).toBe('invalid x.npz entry a.npy: got "a local header named \\"a/npy\\"", expected a local header of the same name (the file is damaged)');
    const gone = Uint8Array.from(good);
    gone[179] = 0; // b's local header signature
    expect(refusal(() => decodeNpz(gone, 'x.npz'))).toBe('invalid x.npz entry b.npy: got "no local header at byte 179", expected the entry the central directory lists (the file is truncated or damaged)');
    const more = Uint8Array.from(good);
    const v = new DataView(more.buffer);
    v.setUint16(more.length - 14, 3, true); // entries on this disk
    v.setUint16(more.length - 12, 3, true); // entries in all
    expect(refusal(() => decodeNpz(more, 'x.npz'))).toBe('invalid npz file x.npz: got "central directory entry 3 of 3 missing at byte 452", expected every entry the end record counts (the file is damaged)');
  });

  it('two entries of one name, and entries that are not .npy arrays', () => {
    const one = npyBytes(hdr('<i4', '(1,)'), numBytes('i4', [5]));
    expect(refusal(() => decodeNpz(zipBytes([{ name: 'a.npy', body: one }, { name: 'a', body: one }]), 'x.npz'))).toBe('invalid x.npz entry a: got "a second entry of this name", expected each array name once');
    expect(refusal(() => decodeNpz(entry('readme.txt', Buffer.from('hello there, this is text')), 'x.npz'))).toBe('invalid x.npz entry readme.txt: got "25 bytes starting \\"hello \\"", expected a .npy array (starting \\x93NUMPY)');
  });
});

describe('decodeNpz refuses bad .npy entries', () => {
  const w = (body: Uint8Array): string => refusal(() => decodeNpz(entry('w.npy', body), 'x.npz'));

  it('data length other than prod(shape) × itemsize', () => {
    expect(w(npyBytes(hdr('<f4', '(2, 3)'), new Uint8Array(20)))).toBe('invalid x.npz entry w.npy: got "20 data bytes", expected 24 bytes for shape [2, 3] of <f4 (the array is truncated or damaged)');
    expect(w(npyBytes(hdr('<f4', '(2,)'), new Uint8Array(12)))).toBe('invalid x.npz entry w.npy: got "12 data bytes", expected 8 bytes for shape [2] of <f4 (the array is truncated or damaged)');
  });

  it('unsupported dtypes, int64 beyond int32, bad version, header and shape', () => {
    const dtypes = "expected one of '<f2', '<f4', '<f8', '|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8', '|b1' (or big-endian '>…'; structured dtypes are not read)";
    expect(w(npyBytes(hdr('<c8', '(2,)'), new Uint8Array(16)))).toBe(`invalid dtype of x.npz entry w.npy: got "<c8", ${dtypes}`);
    expect(w(npyBytes(hdr('<f16', '(1,)'), new Uint8Array(16)))).toBe(`invalid dtype of x.npz entry w.npy: got "<f16", ${dtypes}`);
    expect(w(npyBytes(hdr('|i2', '(1,)'), new Uint8Array(2)))).toBe(`invalid dtype of x.npz entry w.npy: got "|i2", ${dtypes}`);
    expect(w(npyBytes(hdr('<c16', '(1,)'), new Uint8Array(16)))).toBe(`invalid dtype of x.npz entry w.npy: got "<c16", ${dtypes}`);
    expect(w(npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)))).toBe(`invalid dtype of x.npz entry w.npy: got [["a","<f4"]], ${dtypes}`);
    expect(w(npyBytes(hdr('<i8', '(2,)'), numBytes('i8', [1, 2147483648])))).toBe(
      'invalid x.npz entry w.npy: got "int64 value 2147483648 at index 1", expected int64 values within the int32 range (read as Int32Array; save with .astype(np.int32) or as float)',
    );
    expect(w(npyBytes(hdr('<u4', '(3,)'), numBytes('u4', [1, 2147483647, 2147483648])))).toBe(
      'invalid x.npz entry w.npy: got "uint32 value 2147483648 at index 2", expected uint32 values within the int32 range (read as Int32Array; save with .astype(np.int32) or as float)',
    );
    expect(w(npyBytes(hdr('>u4', '(2,)'), numBytes('u4', [4294967295, 0], false)))).toBe(
      'invalid x.npz entry w.npy: got "uint32 value 4294967295 at index 0", expected uint32 values within the int32 range (read as Int32Array; save with .astype(np.int32) or as float)',
    );
    expect(w(npyBytes(hdr('<u8', '(2,)'), numBytes('u8', [5, 2 ** 53])))).toBe(
      'invalid x.npz entry w.npy: got "uint64 value 9007199254740992 at index 1", expected uint64 values within the int32 range (read as Int32Array; save with .astype(np.int32) or as float)',
    );
    const v4 = npyBytes(hdr('<f4', '(1,)'), new Uint8Array(4));
    v4[6] = 4;
    expect(w(v4)).toBe('invalid .npy format version of x.npz entry w.npy: got "4.0", expected 1.0, 2.0 or 3.0');
    expect(w(npyBytes("{'descr': '<f4', 'shape': (1,), }", new Uint8Array(4)))).toBe(
      "invalid header of x.npz entry w.npy: got \"{'descr': '<f4', 'shape': (1,), }\", expected a .npy header dict of 'descr', 'fortran_order' and 'shape' (the array is damaged)",
    );
    expect(w(npyBytes(hdr('<f4', '(-1,)'), new Uint8Array(0)))).toBe('invalid shape of x.npz entry w.npy: got [-1], expected a tuple of non-negative integers');
    expect(w(npyBytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", new Uint8Array(4)))).toBe('invalid fortran_order of x.npz entry w.npy: got 0, expected True or False');
  });

  it('readNpz names the file; a missing file is a CinderArgumentError too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npz-'));
    const p = join(dir, 'cut.npz');
    writeFileSync(p, good.subarray(0, 171));
    expect(refusal(() => readNpz(p))).toBe(`invalid npz file ${p}: got "171 bytes without a zip end record", expected a zip archive (numpy.savez output; the file is truncated or not a zip)`);
    expect(refusal(() => readNpz(join(dir, 'none.npz')))).toMatch(/^invalid npz path: got ".*none\.npz", expected a readable file \(ENOENT/);
  });
});

describe.skipIf(!hasNumpy)('readNpz against numpy', () => {
  it('all 65536 half-float bit patterns, little- and big-endian, read as numpy.astype(np.float32) gives them, bit for bit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npz-'));
    const py = [
      'import numpy as np',
      "h = np.arange(65536, dtype=np.uint16).view('<f2')",
      'with np.errstate(invalid="ignore"):',
      '    f = h.astype(np.float32)',
      `np.savez(${JSON.stringify(join(dir, 'h.npz'))}, h=h, hb=h.astype('>f2'), f=f)`,
    ].join('\n');
    const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const got = readNpz(join(dir, 'h.npz'));
    const bits = (a: ArrayLike<number>) => new Uint32Array((a as Float32Array).buffer, (a as Float32Array).byteOffset, 65536);
    expect(got.h).toBeInstanceOf(Float32Array);
    const want = bits(got.f!);
    expect(want[0x3555]).toBe(0x3eaaa000); // numpy's own 1/3 half, as a check on the reference
    expect(Array.from(bits(got.h!))).toEqual(Array.from(want));
    expect(Array.from(bits(got.hb!))).toEqual(Array.from(want));
  });

  it('numpy int8, int16, uint16, uint32, uint64 (both byte orders) read as numpy.load gives them; uint32 2^31 is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npz-'));
    const py = [
      'import numpy as np, json',
      "arrays = dict(i1=np.array([-128, -7, 0, 127], np.int8), i2=np.array([-32768, 12345, 32767], '<i2'), i2b=np.array([[-32768, 5], [6, 32767]], '>i2'),",
      "  u2=np.array([0, 65535], '<u2'), u2b=np.array([1, 65534], '>u2'), u4=np.array([0, 2**31 - 1], '<u4'), u4b=np.asfortranarray(np.array([[3, 2**31 - 1], [0, 9]], '>u4')),",
      "  u8=np.array([0, 2**31 - 1], '<u8'), u8b=np.array([12, 2**30], '>u8'))",
      `np.savez(${JSON.stringify(join(dir, 'i.npz'))}, **arrays)`,
      `np.savez(${JSON.stringify(join(dir, 'big.npz'))}, w=np.array([0, 2**31], '<u4'))`,
      'print(json.dumps({k: v.ravel().tolist() for k, v in arrays.items()}))',
    ].join('\n');
    const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const want = JSON.parse(r.stdout) as Record<string, number[]>;
    const got = readNpz(join(dir, 'i.npz'));
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [k, v] of Object.entries(want)) {
      expect(got[k], k).toBeInstanceOf(Int32Array);
      expect(Array.from(got[k]!), k).toEqual(v);
    }
    expect(refusal(() => readNpz(join(dir, 'big.npz')))).toBe(
      `invalid ${join(dir, 'big.npz')} entry w.npy: got "uint32 value 2147483648 at index 1", expected uint32 values within the int32 range (read as Int32Array; save with .astype(np.int32) or as float)`,
    );
  });

  it('numpy.savez / savez_compressed output (Fortran order, big-endian, bool, int64) reads as numpy.load gives it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npz-'));
    const py = [
      'import numpy as np, json, sys',
      'a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 3',
      'arrays = dict(f=np.asfortranarray(a), be=a.astype(">f8"), flag=np.array([[True, False], [False, True]]), idx=np.arange(-3, 3), u=np.array([0, 255], np.uint8), s=np.float32(2.5))',
      `np.savez(${JSON.stringify(join(dir, 'a.npz'))}, **arrays)`,
      `np.savez_compressed(${JSON.stringify(join(dir, 'c.npz'))}, **arrays)`,
      'print(json.dumps({k: [list(np.shape(v)), np.asarray(v).astype(np.float64).ravel().tolist()] for k, v in arrays.items()}))',
    ].join('\n');
    const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const want = JSON.parse(r.stdout) as Record<string, [number[], number[]]>;
    for (const f of ['a.npz', 'c.npz']) {
      const got = readNpz(join(dir, f));
      expect(Object.keys(got).sort()).toEqual(['be', 'f', 'flag', 'idx', 's', 'u']);
      for (const [k, [, values]] of Object.entries(want)) expect(Array.from(got[k]!), `${f} ${k}`).toEqual(values.map((x) => (k === 'f' ? Math.fround(x) : x)));
      expect(got.f!.constructor.name).toBe('Float32Array');
      expect(got.be!.constructor.name).toBe('Float64Array');
      expect(got.idx!.constructor.name).toBe('Int32Array');
      expect(got.flag!.constructor.name).toBe('Uint8Array');
    }
  });
});
