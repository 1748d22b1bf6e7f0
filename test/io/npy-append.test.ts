// NpyAppendWriter: a .npy written a block of rows at a time, read back by numpy.load and readNpy
// exactly; the header is rewritten after every append, so a process killed between appends leaves
// a complete file; refused calls write nothing.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NpyAppendWriter, openCheckpointSeries } from '../../src/io/npy-append.js';
import { encodeNpy, readNpy } from '../../src/io/npy.js';
import { refusal } from '../helpers/refusal.js';

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const hex = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

/** numpy.load of `path`: [dtype, shape, data bytes in hex]. */
function numpyLoad(path: string): [string, number[], string] {
  const r = spawnSync('python3', ['-c', `import numpy as np, json\na = np.load(${JSON.stringify(path)})\nprint(json.dumps([str(a.dtype), list(a.shape), a.tobytes().hex()]))`], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as [string, number[], string];
}

/** Rows of shape [2, 3]: element (r, i, j) = r + i / 4 - j * 1e-3 as float32 (a float64 loop). */
function rows(from: number, n: number): Float32Array {
  const out = new Float32Array(n * 6);
  for (let r = 0; r < n; r++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) out[r * 6 + i * 3 + j] = from + r + i / 4 - j * 1e-3;
  return out;
}

describe('NpyAppendWriter', () => {
  it('three appends of 2, 5 and 1 rows are one [8, 2, 3] array, byte for byte what encodeNpy writes for the data, read exactly by readNpy (and numpy.load)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npy-append-'));
    const p = join(dir, 'v.npy');
    const w = NpyAppendWriter.open(p, { dtype: 'float32', rowShape: [2, 3] });
    w.append(rows(0, 2));
    w.append(rows(2, 5));
    w.append(rows(7, 1));
    w.append(new Float32Array(0));
    expect(w.rows).toBe(8);
    w.close();
    w.close(); // a second close does nothing
    expect(w.closed).toBe(true);
    const all = rows(0, 8);
    const bytes = readFileSync(p);
    // data at 128 (the header padded to 64 bytes with room for 20 digits), identical to encodeNpy's
    const ref = encodeNpy(all, [8, 2, 3]);
    expect(bytes.length).toBe(128 + all.byteLength);
    expect(hex(bytes.subarray(128))).toBe(hex(ref.subarray(ref.length - all.byteLength)));
    expect(bytes.subarray(10, 128).toString('latin1')).toBe(`{'descr': '<f4', 'fortran_order': False, 'shape': (8, 2, 3), }${' '.repeat(55)}\n`);
    const got = readNpy(p);
    expect(got.shape).toEqual([8, 2, 3]);
    expect(got.data).toBeInstanceOf(Float32Array);
    expect(hex(got.data)).toBe(hex(all));
    if (hasNumpy) expect(numpyLoad(p)).toEqual(['float32', [8, 2, 3], hex(all)]);
  });

  it.skipIf(!hasNumpy)('float64, int32 and uint8 rows, and 1-D arrays (rowShape [])', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npy-append-'));
    const cases = [
      { dtype: 'float64' as const, rowShape: [3], blocks: [Float64Array.from([Math.PI, -0, Number.NaN]), Float64Array.from([1e-310, -Infinity, 2, 3, 4, 5])], np: 'float64' },
      { dtype: 'int32' as const, rowShape: [], blocks: [Int32Array.from([-2147483648]), Int32Array.from([0, 2147483647, 7])], np: 'int32' },
      { dtype: 'uint8' as const, rowShape: [2, 2], blocks: [Uint8Array.from([0, 1, 254, 255])], np: 'uint8' },
    ];
    for (const c of cases) {
      const p = join(dir, `${c.dtype}.npy`);
      const w = NpyAppendWriter.open(p, { dtype: c.dtype, rowShape: c.rowShape });
      for (const b of c.blocks) w.append(b);
      w.close();
      const n = c.blocks.reduce((s, b) => s + b.length, 0);
      const all = new (c.blocks[0]!.constructor as new (n: number) => Float64Array)(n);
      let at = 0;
      for (const b of c.blocks) {
        all.set(b as Float64Array, at);
        at += b.length;
      }
      const shape = [n / c.rowShape.reduce((a, b) => a * b, 1), ...c.rowShape];
      expect(numpyLoad(p), c.dtype).toEqual([c.np, shape, hex(all)]);
      expect(readNpy(p).shape).toEqual(shape);
      expect(hex(readNpy(p).data), c.dtype).toBe(hex(all));
    }
  });

  it.skipIf(!hasNumpy)('a process killed after appends (flushed or not) leaves a file numpy.load and readNpy read with every appended row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npy-append-'));
    const p = join(dir, 'killed.npy');
    const mod = join(process.cwd(), 'src/io/npy-append.ts');
    const script = [
      `import { NpyAppendWriter } from ${JSON.stringify(mod)};`,
      `const w = NpyAppendWriter.open(${JSON.stringify(p)}, { dtype: 'int32', rowShape: [2] });`,
      'w.append(Int32Array.from([1, 2, 3, 4, 5, 6]));',
      'w.flush();',
      'w.append(Int32Array.from([7, 8]));',
      "process.kill(process.pid, 'SIGKILL');",
    ].join('\n');
    const scriptPath = join(dir, 'kill.ts');
    writeFileSync(scriptPath, script);
    const r = spawnSync(process.execPath, ['--import', 'tsx', scriptPath], { encoding: 'utf8', cwd: process.cwd() });
    expect(r.signal).toBe('SIGKILL');
    const want = hex(Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(numpyLoad(p)).toEqual(['int32', [4, 2], want]);
    expect(hex(readNpy(p).data)).toBe(want);
    // a kill in the middle of an append (data written, header not yet): numpy reads the counted rows
    appendFileSync(p, Buffer.from(Int32Array.from([9]).buffer));
    expect(numpyLoad(p)).toEqual(['int32', [4, 2], want]);
    expect(refusal(() => readNpy(p))).toBe(`invalid ${p}: got "36 data bytes", expected 32 bytes for shape [4, 2] of <i4 (the array is truncated or damaged)`);
  });

  it('refuses bad options, another typed array, partial rows and calls after close, writing nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npy-append-'));
    const p = join(dir, 'r.npy');
    expect(refusal(() => NpyAppendWriter.open(p, { dtype: 'int64' as 'int32', rowShape: [2] }))).toBe(`invalid npy dtype: got "int64", expected 'float32', 'float64', 'int32' or 'uint8'`);
    expect(refusal(() => NpyAppendWriter.open(p, { dtype: 'int32', rowShape: [2, 0] }))).toBe('invalid npy rowShape: got [2,0], expected an array of positive integers ([] for a 1-D array)');
    expect(refusal(() => NpyAppendWriter.open(join(dir, 'no', 'such.npy'), { dtype: 'int32', rowShape: [] }))).toMatch(/^invalid npy path: got ".*such\.npy", expected a writable file \(ENOENT/);
    const w = NpyAppendWriter.open(p, { dtype: 'float32', rowShape: [3] });
    w.append(Float32Array.from([1, 2, 3]));
    const before = readFileSync(p);
    expect(refusal(() => w.append(Float64Array.from([1, 2, 3]) as unknown as Float32Array))).toBe(`invalid data appended to ${p}: got "a Float64Array", expected a Float32Array (dtype float32)`);
    expect(refusal(() => w.append(Float32Array.from([1, 2, 3, 4])))).toBe(`invalid data appended to ${p}: got "4 values", expected a multiple of 3 (whole rows of shape [3])`);
    expect(refusal(() => w.append([1, 2, 3] as unknown as Float32Array))).toBe(`invalid data appended to ${p}: got "object", expected a Float32Array (dtype float32)`);
    expect(w.rows).toBe(1);
    expect(readFileSync(p).equals(before)).toBe(true);
    w.close();
    expect(refusal(() => w.append(Float32Array.from([1, 2, 3])))).toBe(`invalid npy writer of ${p}: got "append after close", expected an open writer`);
    expect(refusal(() => w.flush())).toBe(`invalid npy writer of ${p}: got "flush after close", expected an open writer`);
    expect(readFileSync(p).equals(before)).toBe(true);
    expect(Array.from(readNpy(p).data)).toEqual([1, 2, 3]);
  });
});

describe('NpyAppendWriter.reopen, readRows, truncate', () => {
  it('reopens its own file (cutting the bytes of an append cut short), reads rows back, truncates, and appends on', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npy-append-'));
    const p = join(dir, 'r.npy');
    const w = NpyAppendWriter.open(p, { dtype: 'float32', rowShape: [2, 3] });
    w.append(rows(0, 5));
    w.close();
    // a killed append: 7 bytes of a row after the counted rows
    appendFileSync(p, Buffer.alloc(7, 0xab));
    const r = NpyAppendWriter.reopen(p, { dtype: 'float32', rowShape: [2, 3] });
    expect(r.rows).toBe(5);
    expect(readFileSync(p).length).toBe(128 + 5 * 24);
    expect(hex(r.readRows(1, 3))).toBe(hex(rows(1, 3)));
    expect(refusal(() => r.readRows(4, 2))).toBe(`invalid rows read from ${p}: got "4 … 5", expected rows within 0 … 4`);
    r.truncate(2);
    expect(r.rows).toBe(2);
    expect(Array.from(readNpy(p).data)).toEqual(Array.from(rows(0, 2)));
    expect(refusal(() => r.truncate(3))).toBe(`invalid rows kept in ${p}: got 3, expected an integer within 0 … 2`);
    r.append(rows(10, 2));
    r.close();
    const got = readNpy(p);
    expect(got.shape).toEqual([4, 2, 3]);
    expect(Array.from(got.data)).toEqual([...rows(0, 2), ...rows(10, 2)]);
  });

  it('refuses a file of another dtype or row shape, or one not written by the writer, and changes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npy-append-'));
    const p = join(dir, 'r.npy');
    const w = NpyAppendWriter.open(p, { dtype: 'float64', rowShape: [3] });
    w.append(Float64Array.from([1, 2, 3]));
    w.close();
    const before = readFileSync(p);
    expect(refusal(() => NpyAppendWriter.reopen(p, { dtype: 'float32', rowShape: [3] }))).toBe(`invalid npy path: got ${JSON.stringify(p)}, expected a .npy written by NpyAppendWriter with dtype float32 and rows of shape [3]`);
    expect(refusal(() => NpyAppendWriter.reopen(p, { dtype: 'float64', rowShape: [4] }))).toMatch(/rows of shape \[4\]$/);
    expect(readFileSync(p).equals(before)).toBe(true);
    // a Fortran-order header (same length, otherwise the writer's): refused
    const q = join(dir, 'q.npy');
    writeFileSync(q, Buffer.from(before.toString('latin1').replace("'fortran_order': False", "'fortran_order': True "), 'latin1'));
    expect(refusal(() => NpyAppendWriter.reopen(q, { dtype: 'float64', rowShape: [3] }))).toMatch(/expected a \.npy written by NpyAppendWriter/);
    // encodeNpy pads this header to the same 118 bytes, with room for the count: taken, and appended to
    writeFileSync(q, encodeNpy(Float64Array.from([1, 2, 3]), [1, 3]));
    const e = NpyAppendWriter.reopen(q, { dtype: 'float64', rowShape: [3] });
    e.append(Float64Array.from([4, 5, 6]));
    e.close();
    expect(readNpy(q).shape).toEqual([2, 3]);
    expect(Array.from(readNpy(q).data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(refusal(() => NpyAppendWriter.reopen(join(dir, 'none.npy'), { dtype: 'float64', rowShape: [3] }))).toMatch(/expected an existing \.npy written by NpyAppendWriter \(ENOENT/);
    // a header counting more rows than the data holds
    const short = join(dir, 's.npy');
    writeFileSync(short, before.subarray(0, before.length - 8));
    expect(refusal(() => NpyAppendWriter.reopen(short, { dtype: 'float64', rowShape: [3] }))).toBe(`invalid npy path: got ${JSON.stringify(short)}, expected 1 rows of data (the header's count; the file holds 16 data bytes)`);
  });
});

describe('NpyAppendWriter.readPieces', () => {
  it('reads the rows in pieces of at most block rows (all, or the first rows), or one column of rows [c]; bad arguments refused at the first piece', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npy-pieces-'));
    const a = NpyAppendWriter.open(join(dir, 'a.npy'), { dtype: 'float32', rowShape: [2, 3] });
    a.append(rows(0, 7));
    const pieces = [...a.readPieces(3)];
    expect(pieces.map((q) => q.length)).toEqual([18, 18, 6]);
    expect(pieces.map(hex).join('')).toBe(hex(rows(0, 7)));
    expect([...a.readPieces(4, { rows: 5 })].map((q) => q.length)).toEqual([24, 6]);
    expect([...a.readPieces(2, { rows: 0 })]).toEqual([]);
    // pairs (i, 10·i + 1): column 1 in pieces equals the loop over the rows
    const b = NpyAppendWriter.open(join(dir, 'b.npy'), { dtype: 'int32', rowShape: [2] });
    b.append(Int32Array.from({ length: 20 }, (_, k) => (k % 2 === 0 ? k / 2 : 10 * ((k - 1) / 2) + 1)));
    const col = [...b.readPieces(4, { column: 1 })];
    expect(col.map((q) => q.constructor.name)).toEqual(['Int32Array', 'Int32Array', 'Int32Array']);
    expect(col.flatMap((q) => Array.from(q))).toEqual(Array.from({ length: 10 }, (_, i) => 10 * i + 1));
    expect(refusal(() => [...b.readPieces(0)])).toBe('invalid block: got 0, expected an integer >= 1');
    expect(refusal(() => [...b.readPieces(2, { rows: 11 })])).toBe('invalid rows: got 11, expected an integer from 0 to 10 (the rows written)');
    expect(refusal(() => [...b.readPieces(2, { column: 2 })])).toBe('invalid column: got 2, expected an index in [0, 2) of rows of shape [c] (rows here: [2])');
    expect(refusal(() => [...a.readPieces(2, { column: 0 })])).toBe('invalid column: got 0, expected an index in [0, 6) of rows of shape [c] (rows here: [2, 3])');
    a.close();
    b.close();
  });
});

describe('readNpy', () => {
  it('reads encodeNpy output; names the file when it is missing, not a .npy, or truncated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-npy-append-'));
    const p = join(dir, 'a.npy');
    const data = Float64Array.from([1.5, -2, Number.MIN_VALUE, 4]);
    writeFileSync(p, encodeNpy(data, [2, 2]));
    const got = readNpy(p);
    expect(got.shape).toEqual([2, 2]);
    expect(hex(got.data)).toBe(hex(data));
    expect(refusal(() => readNpy(join(dir, 'none.npy')))).toMatch(/^invalid npy path: got ".*none\.npy", expected a readable file \(ENOENT/);
    expect(refusal(() => readNpy(dir))).toBe(`invalid npy path: got ${JSON.stringify(dir)}, expected a readable file (it is not a regular file)`);
    writeFileSync(p, 'hello');
    expect(refusal(() => readNpy(p))).toBe(`invalid ${p}: got "5 bytes starting \\"hello\\"", expected a .npy array (starting \\x93NUMPY)`);
    writeFileSync(p, encodeNpy(data, [2, 2]).subarray(0, 140));
    expect(refusal(() => readNpy(p))).toBe(`invalid ${p}: got "12 data bytes", expected 32 bytes for shape [2, 2] of <f8 (the array is truncated or damaged)`);
  });
});

describe('openCheckpointSeries', () => {
  const specs = [
    { file: 'a.npy', dtype: 'int32' as const, rowShape: [2] },
    { file: 'b.npy', dtype: 'float64' as const, rowShape: [] },
  ];

  it('fresh: empty files; resume: every file cut back to the rows its checkpoint records (the rows of a killed run dropped)', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cinder-series-')), 'checkpoint');
    const [a, b] = openCheckpointSeries(dir, specs, null);
    a!.append(Int32Array.of(1, 2, 3, 4));
    b!.append(Float64Array.of(0.5, 1.5, 2.5));
    a!.close();
    b!.close();
    // the checkpoint recorded a: 1 row, b: 2 rows (the rest was appended after it)
    const [a2, b2] = openCheckpointSeries(dir, specs, { 'a.npy': 1, 'b.npy': 2 });
    expect([a2!.rows, b2!.rows]).toEqual([1, 2]);
    a2!.close();
    b2!.close();
    expect(Array.from(readNpy(join(dir, 'a.npy')).data)).toEqual([1, 2]);
    expect(Array.from(readNpy(join(dir, 'b.npy')).data)).toEqual([0.5, 1.5]);
  });

  it('a file shorter than its checkpoint records (or missing) refuses the resume before any file is cut', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-series-'));
    const [a, b] = openCheckpointSeries(dir, specs, null);
    a!.append(Int32Array.of(1, 2, 3, 4));
    b!.append(Float64Array.of(0.5));
    a!.close();
    b!.close();
    const before = readFileSync(join(dir, 'a.npy'));
    expect(() => openCheckpointSeries(dir, specs, { 'a.npy': 1, 'b.npy': 2 })).toThrow(`invalid checkpoint file ${join(dir, 'b.npy')}: got "1 rows", expected at least the 2 rows the checkpoint records`);
    // a.npy (checked first, 2 rows) was not cut to 1
    expect(readFileSync(join(dir, 'a.npy')).equals(before)).toBe(true);
    expect(() => openCheckpointSeries(dir, [...specs, { file: 'c.npy', dtype: 'uint8', rowShape: [] }], { 'a.npy': 1, 'b.npy': 1, 'c.npy': 3 })).toThrow(`invalid checkpoint file ${join(dir, 'c.npy')}: got "none", expected a file with the 3 rows the checkpoint records`);
    expect(readFileSync(join(dir, 'a.npy')).equals(before)).toBe(true);
    // a missing file the checkpoint records no rows of is created
    const w = openCheckpointSeries(dir, [{ file: 'd.npy', dtype: 'uint8', rowShape: [] }], {});
    expect(w[0]!.rows).toBe(0);
    w[0]!.close();
  });
});
