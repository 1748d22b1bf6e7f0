// writeNpz with pieces entries ({ dtype, shape, pieces: () => iterable of arrays }): the data is
// read in pieces twice (a CRC-32 pass, then a writing pass after the local header), one piece in
// memory at a time; the archive is byte-identical to the same arrays given whole (encodeNpz), and
// numpy reads it. Bad declarations are refused before anything is created; pieces of the wrong
// type or total length, or a second pass yielding other bytes, fail the write, leaving the
// previous file and no temporary file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { CinderArgumentError } from '../../src/core/errors.js';
import { AtomicFileWriter, registerWriteGuard } from '../../src/io/atomic.js';
import { encodeNpz, writeNpz, type NpyArray, type NpyDtype, type NpyEntry, type NpzEntry } from '../../src/io/npy.js';
import { python } from '../helpers/python.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-npz-pieces-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());
let n = 0;
const fresh = (): string => join(root, `d${n++}.npz`);

const dtypeOf = (a: NpyArray): NpyDtype => (a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : a instanceof Int32Array ? 'int32' : 'uint8');

const arrays = (): Record<string, NpyEntry> => ({
  w: { data: Float32Array.from({ length: 60 }, (_, k) => Math.fround(Math.sin(k) * 1e3)), shape: [5, 12] },
  d: { data: Float64Array.of(Math.PI, -1e-310, -Infinity, NaN, 0, -0, 1e300), shape: [7] },
  i: { data: Int32Array.of(-2147483648, 0, 2147483647, 7, -1, 3), shape: [2, 3] },
  u: { data: Uint8Array.of(0, 1, 255, 128, 7), shape: [5, 1] },
  s: { data: Float32Array.of(2.5), shape: [] },
  e: { data: new Float32Array(0), shape: [0, 3] },
});

/** Cuts `a` at `cuts` (item offsets, ascending, repeats giving empty pieces), each piece a copy. */
function cut(a: NpyArray, cuts: readonly number[]): NpyArray[] {
  const at = [0, ...cuts.filter((c) => c <= a.length), a.length];
  return at.slice(1).map((e, k) => a.slice(at[k], e) as NpyArray);
}

/** The same arrays as pieces entries, cut unevenly (empty pieces at the start, middle and end). */
function piecesArrays(asAsync: boolean): Record<string, NpzEntry> {
  const out: Record<string, NpzEntry> = {};
  for (const [name, e] of Object.entries(arrays())) {
    const cuts = [0, 0, 1, 1, 4, 17, 17, 30, e.data.length];
    out[name] = {
      dtype: dtypeOf(e.data),
      shape: e.shape,
      pieces: asAsync
        ? async function* () {
            for (const p of cut(arrays()[name]!.data, cuts)) {
              await new Promise((r) => setTimeout(r, 0));
              yield p;
            }
          }
        : () => cut(arrays()[name]!.data, cuts),
    };
  }
  return out;
}

const tmpFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('writeNpz with pieces entries', () => {
  it('writes the bytes of the same arrays given whole (sync and async pieces, uneven and empty pieces, auto and forced zip64, a date), and numpy reads them', async () => {
    const cases: [boolean, Date | { zip64?: 'auto' | 'always' }][] = [
      [true, {}],
      [false, {}],
      [true, { zip64: 'always' }],
      [false, new Date(2024, 5, 7, 8, 9, 10)],
    ];
    for (const [asAsync, opts] of cases) {
      const path = fresh();
      await writeNpz(path, piecesArrays(asAsync), opts);
      expect(Buffer.compare(readFileSync(path), Buffer.from(encodeNpz(arrays(), opts)))).toBe(0);
    }
    // mixed with whole and lazy entries
    const path = fresh();
    const mixed: Record<string, NpzEntry> = { ...piecesArrays(true) };
    mixed.w = arrays().w;
    mixed.i = { dtype: 'int32', shape: [2, 3], data: () => arrays().i!.data };
    await writeNpz(path, mixed);
    expect(Buffer.compare(readFileSync(path), Buffer.from(encodeNpz(arrays())))).toBe(0);
    // numpy, independently: every value
    const expected = JSON.stringify(Object.fromEntries(Object.entries(arrays()).map(([k, e]) => [k, { shape: e.shape, v: Array.from(e.data, (x) => (Number.isNaN(x) ? 'nan' : Object.is(x, -0) ? '-0' : String(x))) }])));
    const got = python(`
import numpy as np, sys, json
z = np.load(sys.argv[1])
out = {}
for k in ['w', 'd', 'i', 'u', 's', 'e']:
    a = z[k]
    f = lambda x: 'nan' if np.isnan(x) else ('-0' if x == 0 and np.signbit(x) else (repr(float(x)) if a.dtype.kind == 'f' else str(int(x))))
    out[k] = {'shape': list(a.shape), 'v': [f(x) for x in a.ravel()]}
print(json.dumps(out))
`, path);
    const norm = (s: string): unknown => {
      const o = JSON.parse(s) as Record<string, { shape: number[]; v: string[] }>;
      return Object.fromEntries(Object.entries(o).map(([k, e]) => [k, { shape: e.shape, v: e.v.map((x) => (x === 'nan' || x === '-0' ? x : Number(x === 'inf' ? Infinity : x === '-inf' ? -Infinity : x))) }]));
    };
    expect(norm(got)).toEqual(norm(expected));
  });

  it('holds one piece at a time: a producer reusing one buffer gives the right bytes, no write is larger than a piece, and the pieces are asked for twice', async () => {
    const rows = 300;
    const cols = 257;
    const whole = Float32Array.from({ length: rows * cols }, (_, k) => Math.fround(k * 0.001 - 3));
    const pieceRows = 7;
    const limit = pieceRows * cols * 4; // bytes of the largest piece
    let calls = 0;
    let largestAsked = 0;
    const entry: NpzEntry = {
      dtype: 'float32',
      shape: [rows, cols],
      pieces: function* () {
        calls++;
        const buf = new Float32Array(pieceRows * cols); // one buffer, refilled for every piece
        for (let r = 0; r < rows; r += pieceRows) {
          const m = Math.min(pieceRows, rows - r);
          // the row-major values, computed here (never the whole array)
          for (let k = 0; k < m * cols; k++) buf[k] = Math.fround((r * cols + k) * 0.001 - 3);
          largestAsked = Math.max(largestAsked, m * cols * 4);
          yield buf.subarray(0, m * cols);
          buf.fill(NaN); // the writer is done with the piece once it asks for the next
        }
      },
    };
    const writes: number[] = [];
    const write = AtomicFileWriter.prototype.write;
    vi.spyOn(AtomicFileWriter.prototype, 'write').mockImplementation(function (this: AtomicFileWriter, bytes: Uint8Array) {
      writes.push(bytes.byteLength);
      return write.call(this, bytes);
    });
    const path = fresh();
    await writeNpz(path, { w_rec: entry, t: { data: Float64Array.of(1, 2), shape: [2] } });
    expect(calls).toBe(2);
    expect(largestAsked).toBe(limit);
    expect(Math.max(...writes)).toBeLessThanOrEqual(limit);
    expect(writes.reduce((a, b) => a + b, 0)).toBe(readFileSync(path).length);
    const ref = encodeNpz({ w_rec: { data: whole, shape: [rows, cols] }, t: { data: Float64Array.of(1, 2), shape: [2] } });
    expect(Buffer.compare(readFileSync(path), Buffer.from(ref))).toBe(0);
  });

  it('refuses a bad pieces entry before anything is created, its pieces never asked for', async () => {
    const dir = mkdtempSync(join(root, 'bad-'));
    const path = join(dir, 'x.npz');
    let asked = 0;
    const pieces = (): Float32Array[] => {
      asked++;
      return [new Float32Array(2)];
    };
    const bad: Record<string, unknown>[] = [
      { dtype: 'float16', shape: [2], pieces },
      { dtype: 'float32', shape: [-1], pieces },
      { dtype: 'float32', shape: [2.5], pieces },
      { dtype: 'float32', shape: 'x', pieces },
      { dtype: 'float32', shape: [2], pieces: 'nope' },
      { dtype: 'float64', shape: [2 ** 40, 2 ** 13], pieces }, // 2^56 bytes: no exact byte count
    ];
    for (const b of bad) {
      await expect(writeNpz(path, { ok: { data: Float32Array.of(1), shape: [1] }, b: b as unknown as NpzEntry })).rejects.toThrow(CinderArgumentError);
    }
    expect(asked).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an entry larger than buffer.kMaxLength is accepted (its size is not limited by one array)', async () => {
    // 5 GiB of uint8 declared; the producer fails on the first pass, so nothing that large is made
    const path = fresh();
    const err = await writeNpz(path, {
      big: {
        dtype: 'uint8',
        shape: [5 * 2 ** 30],
        pieces: () => {
          throw new Error('producer reached');
        },
      },
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('producer reached');
    expect(existsSync(path)).toBe(false);
  });

  it('pieces of the wrong type or total length, a throw, or a second pass with other bytes leave the previous file and no temporary file', async () => {
    const dir = mkdtempSync(join(root, 'fail-'));
    const path = join(dir, 'x.npz');
    writeFileSync(path, 'previous');
    const whole = Float32Array.from({ length: 10 }, (_, k) => k);
    const cases: [string, () => Iterable<NpyArray> | AsyncIterable<NpyArray>, RegExp][] = [
      ['wrong type', () => [whole.subarray(0, 5), Float64Array.from(whole.subarray(5))], /a piece of array "x"/],
      ['too few items', () => [whole.subarray(0, 9)], /9 items/],
      ['too many items', () => [whole, Float32Array.of(1)], /at least 11 items/],
      ['not iterable', () => 5 as unknown as Iterable<NpyArray>, /pieces of array "x"/],
      [
        'a throw mid-way (second pass)',
        (() => {
          let call = 0;
          return function* () {
            call++;
            yield whole.subarray(0, 4);
            if (call === 2) throw new Error('disk gone');
            yield whole.subarray(4);
          };
        })(),
        /disk gone/,
      ],
    ];
    // a second pass yielding other bytes (same types and length): refused after the CRC check
    let pass = 0;
    cases.push([
      'different bytes on the second pass',
      () => {
        pass++;
        const b = whole.slice();
        if (pass === 2) b[7] = 7.5;
        return [b.subarray(0, 3), b.subarray(3)];
      },
      /second pass with CRC-32 .* expected the bytes of the first pass/,
    ]);
    for (const [what, pieces, message] of cases) {
      const err = await writeNpz(path, { a: { data: whole, shape: [10] }, x: { dtype: 'float32', shape: [10], pieces } }).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(Error);
      expect((err as Error).message, what).toMatch(message);
      expect(readFileSync(path, 'utf8'), what).toBe('previous');
      expect(tmpFiles(dir), what).toEqual([]);
    }
    expect(pass).toBe(2);
  });

  it('write guards: asked before the temporary file is created (pieces never asked for) and right before the rename (a guard that starts refusing while the pieces are read replaces nothing)', async () => {
    const dir = mkdtempSync(join(root, 'guard-'));
    const path = join(dir, 'x.npz');
    writeFileSync(path, 'previous');
    let refuse = true;
    let asked = 0;
    const release = registerWriteGuard(dir, () => {
      if (refuse) throw new Error('lock lost');
    });
    try {
      const entry = (flip: boolean): NpzEntry => ({
        dtype: 'float64',
        shape: [2],
        pieces: () => {
          asked++;
          if (flip) refuse = true; // the lock is lost while the entry is written
          return [Float64Array.of(1, 2)];
        },
      });
      await expect(writeNpz(path, { x: entry(false) })).rejects.toThrow('lock lost');
      expect(asked).toBe(0);
      refuse = false;
      await expect(writeNpz(path, { x: entry(true) })).rejects.toThrow('lock lost');
      expect(asked).toBe(2);
      expect(readFileSync(path, 'utf8')).toBe('previous');
      expect(tmpFiles(dir)).toEqual([]);
    } finally {
      release();
    }
  });

  it('commit: asked after both passes, right before the rename; false replaces nothing', async () => {
    const dir = mkdtempSync(join(root, 'commit-'));
    const path = join(dir, 'x.npz');
    writeFileSync(path, 'previous');
    const log: string[] = [];
    const entry: NpzEntry = {
      dtype: 'int32',
      shape: [3],
      pieces: () => {
        log.push('pieces');
        return [Int32Array.of(1, 2, 3)];
      },
    };
    await writeNpz(path, { x: entry }, { commit: () => (log.push('commit'), false) });
    expect(log).toEqual(['pieces', 'pieces', 'commit']);
    expect(readFileSync(path, 'utf8')).toBe('previous');
    expect(tmpFiles(dir)).toEqual([]);
    await writeNpz(path, { x: entry }, { commit: () => true });
    expect(Buffer.compare(readFileSync(path), Buffer.from(encodeNpz({ x: { data: Int32Array.of(1, 2, 3), shape: [3] } })))).toBe(0);
  });
});

// An entry of more than 4 GiB (zip64 sizes, and more than buffer.kMaxLength on Node 20) written from
// 64 MiB pieces of one reused buffer: 4.3 GB on disk, checked by Python's zipfile (CRC-32 read in
// a streaming pass) and numpy's .npy header parser. Run with
//   CINDER_BIG_IO=1 node node_modules/vitest/vitest.mjs run test/io/npz-pieces.test.ts
describe.skipIf(process.env.CINDER_BIG_IO !== '1')('writeNpz pieces over 4 GiB (CINDER_BIG_IO=1)', () => {
  it('writes a 4.3 GB uint8 entry from 64 MiB pieces with zip64 sizes, host memory bounded by a piece', async () => {
    const dir = mkdtempSync(join(process.env.CINDER_BIG_IO_DIR ?? root, 'big-'));
    const total = 2 ** 32 + 2 ** 26 + 12345; // over 4 GiB, not a whole number of pieces
    const piece = 2 ** 26;
    let peak = 0;
    const path = join(dir, 'big.npz');
    try {
      await writeNpz(path, {
        head: { data: Int32Array.of(1, 2, 3), shape: [3] },
        big: {
          dtype: 'uint8',
          shape: [total],
          pieces: function* () {
            // one buffer of a hash of the position; piece p is a view of it starting at p mod 251
            const buf = Uint8Array.from({ length: piece + 251 }, (_, k) => Math.imul(k, 2654435761 | 0) >>> 24);
            for (let at = 0, p = 0; at < total; at += piece, p++) {
              peak = Math.max(peak, process.memoryUsage().arrayBuffers);
              yield buf.subarray(p % 251, p % 251 + Math.min(piece, total - at));
            }
          },
        },
      });
      expect(peak).toBeLessThan(2 ** 30); // the whole entry would be 4 GiB
      const py = spawnSync('python3', ['-c', `
import zipfile, sys, numpy as np
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None  # every CRC-32, read in a streaming pass
i = z.getinfo('big.npy')
with z.open('big.npy') as f:
    assert np.lib.format.read_magic(f) == (1, 0)
    shape, order, dtype = np.lib.format.read_array_header_1_0(f)
    first = np.frombuffer(f.read(1 << 20), np.uint8)
k = np.arange(1 << 20, dtype=np.uint64)
assert np.array_equal(first, ((k * 2654435761) % (1 << 32) >> 24).astype(np.uint8))
print(i.file_size, shape, dtype, np.array_equal(np.load(sys.argv[1])['head'], [1, 2, 3]))
`, path], { encoding: 'utf8' });
      expect(py.stderr).toBe('');
      const [size, ...rest] = py.stdout.trim().split(' ');
      expect(Number(size)).toBeGreaterThan(total);
      expect(rest.join(' ')).toBe(`(${total},) uint8 True`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 1_800_000);
});
