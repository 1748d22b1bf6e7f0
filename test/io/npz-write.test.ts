// writeNpz: an npz archive written to a file entry by entry (no array of the whole archive),
// atomically. Its bytes are those encodeNpz builds in memory; numpy reads it (zip64 forced, and
// 70000 entries that need the zip64 end record), values checked against formulas in Python.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CinderArgumentError } from '../../src/core/errors.js';
import { encodeNpz, writeNpz, type NpyEntry } from '../../src/io/npy.js';
import { python } from '../helpers/python.js';
import { numpyReadsSampleNpz, sampleNpzArrays } from '../helpers/npz-arrays.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-npz-write-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const arrays = sampleNpzArrays;

describe('writeNpz', () => {
  it('writes the bytes encodeNpz builds (auto and forced zip64, a given date)', async () => {
    const cases: [string, Parameters<typeof encodeNpz>[1]][] = [
      ['auto', {}],
      ['always', { zip64: 'always' }],
      ['dated', new Date(2024, 4, 17, 13, 45, 10)],
    ];
    for (const [name, options] of cases) {
      const path = join(root, `${name}.npz`);
      await writeNpz(path, arrays(), options);
      expect(Buffer.from(readFileSync(path)).equals(Buffer.from(encodeNpz(arrays(), options))), name).toBe(true);
    }
    expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('numpy.load reads a forced-zip64 archive exactly', async () => {
    const path = join(root, 'z64.npz');
    await writeNpz(path, arrays(), { zip64: 'always' });
    const out = numpyReadsSampleNpz(path);
    expect(out).toBe("['d', 'e', 'i', 's', 'u', 'w'] True");
  });

  it('numpy.load reads 70000 entries (zip64 end record written as needed)', async () => {
    const many: Record<string, NpyEntry> = {};
    for (let k = 0; k < 70000; k++) many[`a${k}`] = { data: Int32Array.of(k, -k, 3 * k + 1), shape: [3] };
    const path = join(root, 'many.npz');
    await writeNpz(path, many);
    const out = python(
      `import sys, numpy as np
z = np.load(sys.argv[1])
bad = [k for k in range(70000) if not np.array_equal(z[f'a{k}'], np.array([k, -k, 3 * k + 1], dtype=np.int32))]
print(len(z.files), bad[:3])`,
      path,
    );
    expect(out).toBe('70000 []');
  });

  it('a refused write (bad shape, bad name, bad option) leaves the file as it was and no temporary file', async () => {
    const dir = join(root, 'keep');
    const path = join(dir, 'x.npz');
    await writeNpz(path, arrays());
    const before = readFileSync(path);
    await expect(writeNpz(path, { a: { data: new Float32Array(3), shape: [2] } })).rejects.toThrow('invalid shape: got [2], expected a shape with 3 elements (the data length), not 2');
    await expect(writeNpz(path, { 'a/b': { data: new Float32Array(1), shape: [1] } })).rejects.toThrow(/invalid array name/);
    await expect(writeNpz(path, arrays(), { zip64: 'yes' as 'auto' })).rejects.toThrow(`invalid npz zip64: got "yes", expected 'auto' or 'always'`);
    await expect(writeNpz('', arrays())).rejects.toThrow('invalid path: got ""');
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['x.npz']);
    const fresh = join(root, 'never', 'y.npz');
    await expect(writeNpz(fresh, { a: { data: new Float32Array(3), shape: [2] } })).rejects.toThrow(/invalid shape/);
    expect(existsSync(join(root, 'never'))).toBe(false);
  });

  it('an array of more than 4 GiB (2^32 bytes) is refused with an argument error before anything is created', async () => {
    // float32 of 2^30 + 1 elements: 2^32 + 4 bytes, more than one Uint8Array can view (the old code
    // failed with a bare RangeError "Invalid typed array length"). Untouched pages cost no memory.
    const big = new Float32Array(2 ** 30 + 1);
    const path = join(root, 'big', 'x.npz');
    const err = await writeNpz(path, { w: { data: big, shape: [big.length] } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CinderArgumentError);
    expect((err as Error).message).toBe(`invalid array "w": got "4294967300 bytes", expected at most 4294967296 bytes (the largest array of bytes of this Node.js; save larger tensors with saveTensors)`);
    expect(existsSync(join(root, 'big'))).toBe(false);
  });
});
