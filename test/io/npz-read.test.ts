// The checked .npz/.npy readers: numpy.savez layouts read as numpy reads them (Fortran order
// transposed to C order, big-endian, bool, int64, deflate), and every damaged, truncated or
// unsupported file refused with a CinderArgumentError naming the file and entry — never data.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CinderArgumentError } from '../../src/core/errors.js';
import * as npy from '../../src/io/npy.js';
import { decodeNpz, encodeNpy, encodeNpz, readNpz } from '../../src/io/npy.js';
import { npyBytes, numBytes, zipBytes } from './fixtures/zip-build.js';

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** The error `f` throws: it must be a CinderArgumentError; its message is returned. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(CinderArgumentError);
    return (err as Error).message;
  }
  throw new Error('no error thrown');
}

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

  it('decodeNpzEntries and decodeNpy give the shapes; .npy versions 2.0 and 3.0 are read', () => {
    const z = encodeNpz({ s: { data: Float32Array.of(7), shape: [] }, e: { data: new Uint8Array(0), shape: [0, 4] }, m: { data: Int32Array.of(1, 2, 3, 4, 5, 6), shape: [3, 2] } });
    const r = npy.decodeNpzEntries(z, 'x.npz');
    expect(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, [v.shape, Array.from(v.data)]]))).toEqual({ s: [[], [7]], e: [[0, 4], []], m: [[3, 2], [1, 2, 3, 4, 5, 6]] });
    expect(npy.decodeNpy(npyBytes(hdr('<f4', '(1, 2)'), numBytes('f4', [0.5, 3]), 2))).toEqual({ data: Float32Array.of(0.5, 3), shape: [1, 2] });
    expect(npy.decodeNpy(npyBytes(hdr('|u1', '(2,)'), Uint8Array.of(9, 255), 3))).toEqual({ data: Uint8Array.of(9, 255), shape: [2] });
    expect(npy.decodeNpy(encodeNpy(Float64Array.of(-0.25), [1]))).toEqual({ data: Float64Array.of(-0.25), shape: [1] });
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
    const dtypes = "expected one of '<f4', '<f8', '<i4', '<i8', '|u1', '|b1' (or big-endian '>…'; structured dtypes are not read)";
    expect(w(npyBytes(hdr('<f2', '(2,)'), new Uint8Array(4)))).toBe(`invalid dtype of x.npz entry w.npy: got "<f2", ${dtypes}`);
    expect(w(npyBytes(hdr('<c16', '(1,)'), new Uint8Array(16)))).toBe(`invalid dtype of x.npz entry w.npy: got "<c16", ${dtypes}`);
    expect(w(npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)))).toBe(`invalid dtype of x.npz entry w.npy: got [["a","<f4"]], ${dtypes}`);
    expect(w(npyBytes(hdr('<i8', '(2,)'), numBytes('i8', [1, 2147483648])))).toBe(
      'invalid x.npz entry w.npy: got "int64 value 2147483648 at index 1", expected int64 values within the int32 range (read as Int32Array; save with .astype(np.int32) or as float)',
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
