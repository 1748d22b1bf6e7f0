// Zip64 npz archives: encodeNpz writes zip64 records when forced ('always') or needed (65535
// entries or more), and readNpz / decodeNpz read them, and Python's zipfile output (numpy.savez
// with zipfile's limits lowered so that small archives get every zip64 record), with numpy.load as
// the outside reader; damaged zip64 records are refused with a CinderArgumentError naming the file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CinderArgumentError } from '../../src/core/errors.js';
import * as N from '../../src/io/npy.js';
import type { NpyEntry } from '../../src/io/npy.js';
import { refusal } from '../helpers/refusal.js';
const { decodeNpz, decodeNpzEntries, encodeNpz, readNpz } = N;
const readNpzEntries = (p: string) => (N as any).readNpzEntries ? (N as any).readNpzEntries(p) : N.decodeNpzEntries(readFileSync(p), p);

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** Runs a Python program; its stdout (stderr must be empty). */
function python(code: string): string {
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8', maxBuffer: 1 << 26 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** The error `f` throws: it must be a CinderArgumentError; its message is returned. */

const hex = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
/** Entries as [typed array class, shape, data bytes in hex]. */
const summary = (r: Record<string, NpyEntry>) => Object.fromEntries(Object.entries(r).map(([k, e]) => [k, [e.data.constructor.name, e.shape, hex(e.data)]]));

const f32 = Float32Array.from([0.1, -0, Number.NaN, Infinity, 1e-45, -3.5e38]);
const arrays: Record<string, NpyEntry> = {
  w: { data: f32, shape: [2, 3] },
  d: { data: Float64Array.from([Math.PI, -1e-310, Number.NEGATIVE_INFINITY]), shape: [3] },
  i: { data: Int32Array.from([-2147483648, 0, 2147483647, 7]), shape: [2, 2] },
  u: { data: Uint8Array.from([0, 1, 255]), shape: [3, 1] },
  s: { data: Float32Array.of(2.5), shape: [] },
  e: { data: new Float32Array(0), shape: [0, 3] },
};
const zip64 = encodeNpz(arrays, { zip64: 'always' });
const u16 = (b: Uint8Array, p: number) => new DataView(b.buffer, b.byteOffset).getUint16(p, true);
const u32 = (b: Uint8Array, p: number) => new DataView(b.buffer, b.byteOffset).getUint32(p, true);
const u64 = (b: Uint8Array, p: number) => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(p, true));

describe('encodeNpz zip64', () => {
  it("zip64: 'always' writes every zip64 record, and decodeNpz and readNpz read the arrays back bit for bit", () => {
    const L = zip64.length;
    // end record: every field the zip64 marker; the locator and the zip64 end record right before it
    expect([u16(zip64, L - 12), u32(zip64, L - 10), u32(zip64, L - 6)]).toEqual([0xffff, 0xffffffff, 0xffffffff]);
    expect(u32(zip64, L - 42)).toBe(0x07064b50);
    expect(u64(zip64, L - 34)).toBe(L - 98);
    expect(u32(zip64, L - 98)).toBe(0x06064b50);
    expect(u64(zip64, L - 98 + 32)).toBe(6);
    const cdStart = u64(zip64, L - 98 + 48);
    expect(cdStart + u64(zip64, L - 98 + 40)).toBe(L - 98);
    // first local header: version 4.5, sizes marked, zip64 extra with the 64-bit sizes
    const size = 10 + 118 + 24; // .npy of w: 128-byte preamble + header, 24 data bytes
    expect([u16(zip64, 4), u32(zip64, 18), u32(zip64, 22), u16(zip64, 28), u16(zip64, 35), u16(zip64, 37), u64(zip64, 39), u64(zip64, 47)]).toEqual([45, 0xffffffff, 0xffffffff, 20, 1, 16, size, size]);
    // first central entry: sizes and offset marked, all three in its zip64 field
    expect([u32(zip64, cdStart + 20), u32(zip64, cdStart + 24), u32(zip64, cdStart + 42), u16(zip64, cdStart + 30)]).toEqual([0xffffffff, 0xffffffff, 0xffffffff, 28]);
    expect([u16(zip64, cdStart + 51), u16(zip64, cdStart + 53), u64(zip64, cdStart + 55), u64(zip64, cdStart + 63), u64(zip64, cdStart + 71)]).toEqual([1, 24, size, size, 0]);

    const want = summary(arrays);
    expect(summary(decodeNpzEntries(zip64, 'x.npz'))).toEqual(want);
    const dir = mkdtempSync(join(tmpdir(), 'cinder-zip64-'));
    writeFileSync(join(dir, 'z.npz'), zip64);
    expect(summary(readNpzEntries(join(dir, 'z.npz')))).toEqual(want);
    expect(Object.keys(readNpz(join(dir, 'z.npz')))).toEqual(Object.keys(arrays));
  });

  it("zip64: 'auto' keeps a small archive free of zip64 (version 2.0, no locator) and writes the zip64 end record for 65536 entries", () => {
    const small = encodeNpz(arrays);
    const L = small.length;
    expect(u16(small, 4)).toBe(20);
    expect(u32(small, L - 42)).not.toBe(0x07064b50);
    expect(u16(small, L - 12)).toBe(6);
    expect(encodeNpz(arrays, { zip64: 'auto' })).toEqual(small);

    const many: Record<string, NpyEntry> = {};
    for (let k = 0; k < 65536; k++) many[`a${k}`] = { data: Int32Array.of(k * 3 - 5), shape: [] };
    const z = encodeNpz(many);
    const M = z.length;
    expect(u16(z, M - 12)).toBe(0xffff);
    expect(u32(z, M - 42)).toBe(0x07064b50);
    expect(u64(z, M - 98 + 32)).toBe(65536);
    expect(u16(z, 4)).toBe(20); // the entries themselves need no zip64 field
    const got = decodeNpz(z, 'many.npz');
    expect(Object.keys(got).length).toBe(65536);
    for (const k of [0, 1, 65534, 65535]) expect(Array.from(got[`a${k}`]!)).toEqual([k * 3 - 5]);
  });

  it('refuses a bad zip64 option', () => {
    expect(refusal(() => encodeNpz(arrays, { zip64: 'yes' as 'auto' }))).toBe(`invalid npz zip64: got "yes", expected 'auto' or 'always'`);
  });
});

describe.skipIf(!hasNumpy)('zip64 against numpy', () => {
  it("numpy.load reads zip64: 'always' and 65536-entry archives exactly (zipfile checks every CRC-32)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-zip64-'));
    writeFileSync(join(dir, 'z.npz'), zip64);
    const many: Record<string, NpyEntry> = {};
    for (let k = 0; k < 65536; k++) many[`a${k}`] = { data: Float32Array.of(k / 7), shape: [1] };
    writeFileSync(join(dir, 'many.npz'), encodeNpz(many));
    const out = python(
      [
        'import numpy as np, json, zipfile',
        `p = ${JSON.stringify(join(dir, 'z.npz'))}; m = ${JSON.stringify(join(dir, 'many.npz'))}`,
        'assert zipfile.ZipFile(p).testzip() is None',
        'z = np.load(p)',
        'r = {k: [str(z[k].dtype), list(z[k].shape), z[k].tobytes().hex()] for k in z.files}',
        'zm = np.load(m)',
        "r['many'] = [len(zm.files), zm['a0'].tobytes().hex(), zm['a65535'].tobytes().hex()]",
        'print(json.dumps(r))',
      ].join('\n'),
    );
    const r = JSON.parse(out) as Record<string, unknown[]>;
    const dtypes: Record<string, string> = { Float32Array: 'float32', Float64Array: 'float64', Int32Array: 'int32', Uint8Array: 'uint8' };
    for (const [k, e] of Object.entries(arrays)) expect(r[k], k).toEqual([dtypes[e.data.constructor.name], e.shape, hex(e.data)]);
    expect(r.many).toEqual([65536, hex(Float32Array.of(0)), hex(Float32Array.of(65535 / 7))]);
  });

  it('reads zip64 archives Python writes: zip64 sizes, offsets and end record (zipfile limits lowered), deflated too, and 65536 entries', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-zip64-'));
    const out = python(
      [
        'import numpy as np, json, zipfile, io',
        'zipfile.ZIP64_LIMIT = 100; zipfile.ZIP_FILECOUNT_LIMIT = 3',
        "arrays = dict(a=np.arange(40, dtype=np.float32) / 3, b=np.array([[1.5, -2.25]]), c=np.arange(-3, 30, dtype=np.int32), d=np.array([True, False, True]), e=np.array([0, 200, 255], np.uint8))",
        `np.savez(${JSON.stringify(join(dir, 's.npz'))}, **arrays)`,
        `np.savez_compressed(${JSON.stringify(join(dir, 'c.npz'))}, **arrays)`,
        'zipfile.ZIP64_LIMIT = (1 << 31) - 1; zipfile.ZIP_FILECOUNT_LIMIT = (1 << 16) - 1',
        'b = io.BytesIO(); np.save(b, np.int32(7)); body = b.getvalue()',
        `with zipfile.ZipFile(${JSON.stringify(join(dir, 'm.npz'))}, 'w') as zf:`,
        "    for i in range(65536): zf.writestr(f'a{i}.npy', body)",
        'print(json.dumps({k: [list(v.shape), np.ascontiguousarray(v).tobytes().hex()] for k, v in arrays.items()}))',
      ].join('\n'),
    );
    const want = JSON.parse(out) as Record<string, [number[], string]>;
    for (const f of ['s.npz', 'c.npz']) {
      const p = join(dir, f);
      const bytes = new Uint8Array(readFileSync(p));
      const L = bytes.length;
      expect(u32(bytes, L - 42), `${f} has a zip64 locator`).toBe(0x07064b50);
      const cdStart = u64(bytes, L - 98 + 48);
      const lastExtra = (() => {
        // the central entry of e (the last one): offset beyond 100, so in a zip64 field
        let q = cdStart;
        for (let k = 0; k < 4; k++) q += 46 + u16(bytes, q + 28) + u16(bytes, q + 30) + u16(bytes, q + 32);
        return [u32(bytes, q + 42), u16(bytes, q + 46 + u16(bytes, q + 28))];
      })();
      expect(lastExtra).toEqual([0xffffffff, 1]);
      const got = readNpzEntries(p);
      expect(Object.keys(got), f).toEqual(['a', 'b', 'c', 'd', 'e']);
      for (const [k, [shape, h]] of Object.entries(want)) {
        expect(got[k]!.shape, `${f} ${k}`).toEqual(shape);
        expect(hex(got[k]!.data), `${f} ${k}`).toBe(h);
      }
    }
    const m = readNpz(join(dir, 'm.npz'));
    expect(Object.keys(m).length).toBe(65536);
    expect([m.a0, m.a65535].map((a) => Array.from(a!))).toEqual([[7], [7]]);
  });

  it('numpy.savez and savez_compressed (float32, float64, int32, int64, bool, uint8) read exactly; numpy writes zip64 sizes in every local header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-zip64-'));
    const out = python(
      [
        'import numpy as np, json',
        'rng = np.random.default_rng(3)',
        "arrays = dict(f4=rng.standard_normal((3, 4)).astype(np.float32), f8=rng.standard_normal(5), i4=rng.integers(-2**31, 2**31, 6, dtype=np.int32),",
        '  i8=np.array([-2**31, -1, 0, 2**31 - 1], np.int64), b=rng.random(7) > 0.5, u1=rng.integers(0, 256, (2, 3), dtype=np.uint8))',
        `np.savez(${JSON.stringify(join(dir, 's.npz'))}, **arrays)`,
        `np.savez_compressed(${JSON.stringify(join(dir, 'c.npz'))}, **arrays)`,
        "conv = {'i8': np.int32, 'b': np.uint8}",
        'print(json.dumps({k: [list(v.shape), v.astype(conv.get(k, v.dtype)).tobytes().hex()] for k, v in arrays.items()}))',
      ].join('\n'),
    );
    const want = JSON.parse(out) as Record<string, [number[], string]>;
    for (const f of ['s.npz', 'c.npz']) {
      const bytes = new Uint8Array(readFileSync(join(dir, f)));
      // first local header: sizes marked 0xFFFFFFFF, a 20-byte zip64 extra field with the real sizes
      const nameLen = u16(bytes, 26);
      expect([u32(bytes, 18), u32(bytes, 22), u16(bytes, 28), u16(bytes, 30 + nameLen)], f).toEqual([0xffffffff, 0xffffffff, 20, 1]);
      const got = readNpzEntries(join(dir, f));
      for (const [k, [shape, h]] of Object.entries(want)) {
        expect(got[k]!.shape, `${f} ${k}`).toEqual(shape);
        expect(hex(got[k]!.data), `${f} ${k}`).toBe(h);
      }
    }
  });
});

describe('damaged zip64 records are refused, naming the file', () => {
  const L = zip64.length;
  const edit = (f: (b: Uint8Array, v: DataView) => void): Uint8Array => {
    const b = Uint8Array.from(zip64);
    f(b, new DataView(b.buffer));
    return b;
  };
  const file = 'invalid npz file x.npz: got';

  it('a truncated locator, a wrong zip64 end record signature, a locator pointing beyond the end or past 2^53', () => {
    const cut = Buffer.concat([zip64.subarray(0, L - 42), zip64.subarray(L - 32)]); // 10 locator bytes gone
    expect(refusal(() => decodeNpz(cut, 'x.npz'))).toBe(
      `${file} "an end record with zip64 markers (0xFFFFFFFF) and no zip64 locator before it", expected a zip64 end record locator right before the end record (the file is truncated or damaged)`,
    );
    const sig = edit((b) => (b[L - 98] ^= 0x10));
    expect(refusal(() => decodeNpz(sig, 'x.npz'))).toBe(`${file} "no zip64 end record at byte ${L - 98} (signature 0x06064b40)", expected the zip64 end record its locator points at (the file is damaged)`);
    const beyond = edit((_, v) => v.setBigUint64(L - 34, BigInt(L + 100), true));
    expect(refusal(() => decodeNpz(beyond, 'x.npz'))).toBe(`${file} "a zip64 locator pointing at byte ${L + 100}", expected a zip64 end record of at least 56 bytes before the locator at byte ${L - 42} (the file is truncated or damaged)`);
    const huge = edit((_, v) => v.setBigUint64(L - 34, 1n << 60n, true));
    expect(refusal(() => decodeNpz(huge, 'x.npz'))).toBe(`${file} "a zip64 end record offset of ${1n << 60n}", expected a value below 2^53 (the file is damaged)`);
    // readNpz names the file
    const dir = mkdtempSync(join(tmpdir(), 'cinder-zip64-'));
    const p = join(dir, 'cut.npz');
    writeFileSync(p, beyond);
    expect(refusal(() => readNpz(p))).toBe(`invalid npz file ${p}: got "a zip64 locator pointing at byte ${L + 100}", expected a zip64 end record of at least 56 bytes before the locator at byte ${L - 42} (the file is truncated or damaged)`);
  });

  it('a zip64 end record of the wrong length, disagreeing end records, a directory not ending at the zip64 end record', () => {
    const len = edit((_, v) => v.setBigUint64(L - 94, 52n, true));
    expect(refusal(() => decodeNpz(len, 'x.npz'))).toBe(`${file} "a zip64 end record at byte ${L - 98} ending at byte ${L - 34}", expected a zip64 end record ending where its locator starts, at byte ${L - 42} (the file is damaged)`);
    const count = edit((_, v) => v.setUint16(L - 12, 5, true)); // the end record says 5 entries, the zip64 one 6
    expect(refusal(() => decodeNpz(count, 'x.npz'))).toMatch(/^invalid npz file x\.npz: got "an end record of 5 entries .* against a zip64 end record of 6, .*", expected end records that agree \(the file is damaged\)$/);
    const cdStart = u64(zip64, L - 98 + 48);
    const size = edit((_, v) => v.setBigUint64(L - 98 + 40, BigInt(L - 98 - cdStart - 1), true));
    expect(refusal(() => decodeNpz(size, 'x.npz'))).toBe(
      `${file} "a central directory at ${cdStart} of ${L - 98 - cdStart - 1} bytes before a zip64 end record at ${L - 98}", expected a central directory that ends where the zip64 end record starts (the file is truncated or damaged)`,
    );
  });

  it("a central entry's missing zip64 field, and a local header's zip64 size that differs from the directory", () => {
    const cdStart = u64(zip64, L - 98 + 48);
    const noField = edit((_, v) => v.setUint16(cdStart + 51, 0x0009, true)); // the field's id
    expect(refusal(() => decodeNpz(noField, 'x.npz'))).toBe('invalid x.npz entry w.npy: got "sizes or offset marked 0xFFFFFFFF without a zip64 extra field", expected a zip64 extra field holding 24 bytes of 64-bit values (the file is damaged)');
    const short = edit((_, v) => v.setUint16(cdStart + 53, 16, true));
    expect(refusal(() => decodeNpz(short, 'x.npz'))).toMatch(/^invalid x\.npz entry w\.npy: got /);
    const local = edit((_, v) => v.setBigUint64(39, 153n, true)); // size 152 → 153
    expect(refusal(() => decodeNpz(local, 'x.npz'))).toBe('invalid x.npz entry w.npy: got "local header CRC-32 0x' + hex8(u32(zip64, 14)) + ' and sizes 152/153", expected CRC-32 0x' + hex8(u32(zip64, 14)) + ' and sizes 152/152 as in the central directory (the file is damaged)');
  });

  it('every single-byte change or truncation of a zip64 archive reads the same arrays or is a CinderArgumentError (never a RangeError)', () => {
    const want = summary(arrays);
    for (let p = 0; p < L; p++) {
      const b = edit((x) => (x[p] ^= 0xa5));
      try {
        expect(summary(decodeNpzEntries(b, 'x.npz'))).toEqual(want);
      } catch (err) {
        expect(err, `byte ${p}`).toBeInstanceOf(CinderArgumentError);
      }
    }
    for (let n = 0; n < L; n++) expect(() => decodeNpzEntries(zip64.subarray(0, n), 'x.npz'), `${n} bytes`).toThrow(CinderArgumentError);
  });
});

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
