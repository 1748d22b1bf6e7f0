// writeNpz with lazy entries ({ dtype, shape, data: () => array }): each array is produced only when
// its entry is written, after every entry before it is in the file, so an archive holds about one
// array in memory; the bytes are those of the same arrays given eagerly (encodeNpz), and numpy
// reads them. Checks (dtype, shape, size) come before anything is created; a producer that fails
// or returns another array leaves the previous file and no temporary file. The commit option is
// asked right before the rename: false or a throw replaces nothing.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CinderArgumentError } from '../../src/core/errors.js';
import { encodeNpz, writeNpz, type NpyArray, type NpyDtype, type NpyLazyEntry } from '../../src/io/npy.js';
import { python } from '../helpers/python.js';
import { numpyReadsSampleNpz, sampleNpzArrays } from '../helpers/npz-arrays.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-npz-lazy-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `d${n++}`);

const arrays = sampleNpzArrays;

const dtypeOf = (a: NpyArray): NpyDtype => (a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : a instanceof Int32Array ? 'int32' : 'uint8');

/** The same arrays as lazy entries; `onCall(name)` runs when an entry's data is asked for. */
function lazyArrays(onCall: (name: string) => void = () => {}): Record<string, NpyLazyEntry> {
  const out: Record<string, NpyLazyEntry> = {};
  for (const [name, e] of Object.entries(arrays())) {
    out[name] = {
      dtype: dtypeOf(e.data),
      shape: e.shape,
      data: async () => {
        onCall(name);
        await new Promise((r) => setTimeout(r, 1));
        return arrays()[name]!.data; // a new array each time
      },
    };
  }
  return out;
}

/** Temporary files of atomic writes in `dir`. */
const tmpFiles = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.tmp')) : []);

describe('writeNpz with lazy entries', () => {
  it('writes the bytes of the same arrays given eagerly (auto and forced zip64, a date; lazy and eager mixed), and numpy reads them', async () => {
    const cases: [string, Date | { zip64?: 'auto' | 'always' }][] = [
      ['auto', {}],
      ['always', { zip64: 'always' }],
      ['dated', new Date(2024, 4, 17, 13, 45, 10)],
    ];
    const dir = fresh();
    for (const [name, options] of cases) {
      const path = join(dir, `${name}.npz`);
      await writeNpz(path, lazyArrays(), options);
      expect(Buffer.from(readFileSync(path)).equals(Buffer.from(encodeNpz(arrays(), options))), name).toBe(true);
      const mixed = { ...arrays(), ...Object.fromEntries(Object.entries(lazyArrays()).filter(([k]) => k === 'd' || k === 'u')) };
      const path2 = join(dir, `${name}-mixed.npz`);
      await writeNpz(path2, mixed, options);
      expect(Buffer.from(readFileSync(path2)).equals(Buffer.from(encodeNpz(arrays(), options))), `${name} mixed`).toBe(true);
    }
    const out = numpyReadsSampleNpz(join(dir, 'always.npz'));
    expect(out).toBe("['d', 'e', 'i', 's', 'u', 'w'] True");
    expect(tmpFiles(dir)).toEqual([]);
  });

  it('asks for an entry\'s data only once every entry before it is in the file', async () => {
    const dir = fresh();
    const path = join(dir, 'x.npz');
    await writeNpz(join(dir, 'eager.npz'), arrays());
    // where each entry's local header starts, by Python's zipfile (in entry order)
    const offsets = JSON.parse(python('import sys, json, zipfile\nprint(json.dumps([i.header_offset for i in zipfile.ZipFile(sys.argv[1]).infolist()]))', join(dir, 'eager.npz'))) as number[];
    const seen: [string, number][] = [];
    await writeNpz(
      path,
      lazyArrays((name) => {
        const t = tmpFiles(dir);
        expect(t).toHaveLength(1);
        seen.push([name, statSync(join(dir, t[0]!)).size]);
      }),
    );
    expect(seen).toEqual(Object.keys(arrays()).map((name, k) => [name, offsets[k]]));
  });

  it('refuses a bad lazy entry before anything is created, its data never asked for', async () => {
    const dir = fresh();
    const path = join(dir, 'x.npz');
    let calls = 0;
    const data = (): Float32Array => {
      calls++;
      return new Float32Array(2);
    };
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ dtype: 'float16', shape: [2], data }, /^invalid dtype of array "a": got "float16", expected 'float32', 'float64', 'int32' or 'uint8'/],
      [{ shape: [2], data }, /^invalid dtype of array "a": got undefined/],
      [{ dtype: 'float32', shape: [2, -1], data }, /^invalid shape of array "a": got \[2,-1\], expected an array of non-negative integers$/],
      [{ dtype: 'float32', shape: [1.5], data }, /^invalid shape of array "a": got \[1.5\]/],
      [{ dtype: 'float32', shape: 2, data }, /^invalid shape of array "a": got 2,/],
      // 2^31 float32: 2^33 bytes, over buffer.kMaxLength (2^32 on Node 20)
      [{ dtype: 'float32', shape: [2 ** 16, 2 ** 15], data }, /^invalid array "a": got "8589934592 bytes", expected at most \d+ bytes/],
    ];
    for (const [entry, message] of bad) {
      const err = await writeNpz(path, { ok: { data: new Float32Array(1), shape: [1] }, a: entry as unknown as NpyLazyEntry }).catch((e: unknown) => e);
      expect(err, String(message)).toBeInstanceOf(CinderArgumentError);
      expect((err as Error).message).toMatch(message);
    }
    expect(calls).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });

  it('a producer that throws or returns another array mid-write leaves the previous file and no temporary file', async () => {
    const dir = fresh();
    const path = join(dir, 'x.npz');
    await writeNpz(path, arrays());
    const before = readFileSync(path);
    const failing: [NpyLazyEntry, RegExp][] = [
      [{ dtype: 'float32', shape: [2], data: async () => Promise.reject(new Error('device lost')) }, /^device lost$/],
      [{ dtype: 'float32', shape: [2], data: () => Float64Array.of(1, 2) }, /^invalid data of array "z": got .*, expected a Float32Array \(its declared dtype float32\)/],
      [{ dtype: 'int32', shape: [2, 2], data: () => new Int32Array(3) }, /^invalid data of array "z": got "3 items", expected 4 items/],
    ];
    for (const [entry, message] of failing) {
      // "z" comes after two entries: the file is half-written when it fails
      await expect(writeNpz(path, { ...arrays(), z: entry })).rejects.toThrow(message);
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(readdirSync(dir)).toEqual(['x.npz']);
    }
  });

  it('commit: asked once the whole archive is written, right before the rename; false or a throw replaces nothing', async () => {
    const dir = fresh();
    const path = join(dir, 'x.npz');
    await writeNpz(path, { a: { data: Float32Array.of(1), shape: [1] } });
    const before = readFileSync(path);
    const full = encodeNpz(arrays()).length;
    const sizes: number[] = [];
    const asked = (answer: boolean | Error) => () => {
      const t = tmpFiles(dir);
      sizes.push(t.length === 1 ? statSync(join(dir, t[0]!)).size : -1);
      if (answer instanceof Error) throw answer;
      return answer;
    };
    await expect(writeNpz(path, lazyArrays(), { commit: asked(false) })).resolves.toBeUndefined();
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['x.npz']);
    await expect(writeNpz(path, lazyArrays(), { commit: asked(new Error('lock lost')) })).rejects.toThrow('lock lost');
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['x.npz']);
    await writeNpz(path, lazyArrays(), { commit: asked(true), zip64: 'auto' });
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(encodeNpz(arrays())))).toBe(true);
    expect(readdirSync(dir)).toEqual(['x.npz']);
    // each time the temporary file held the whole archive when asked
    expect(sizes).toEqual([full, full, full]);
    await expect(writeNpz(path, arrays(), { commit: true as unknown as () => boolean })).rejects.toThrow('invalid npz commit: got true, expected a function returning a boolean');
    await expect(writeNpz(path, arrays(), { comit: () => true } as never)).rejects.toThrow(/invalid options key/);
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(encodeNpz(arrays())))).toBe(true);
  });
});
