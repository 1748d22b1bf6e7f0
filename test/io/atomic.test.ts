// Atomic writes: content replaced whole, no temporary files left, parents created; JSON conventions.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toJson, writeFileAtomic, writeFileAtomicSync, writeJsonAtomic } from '../../src/io/atomic.js';

describe('atomic writes', () => {
  it('replaces the file and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-atomic-'));
    const p = join(dir, 'sub', 'x.json');
    await writeJsonAtomic(p, { a: 1 });
    await writeFileAtomic(p, 'second');
    expect(readFileSync(p, 'utf8')).toBe('second');
    writeFileAtomicSync(p, Buffer.from('third'));
    expect(readFileSync(p, 'utf8')).toBe('third');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['x.json']);
  });

  it('concurrent writers: the file always holds one complete version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-atomic-'));
    const p = join(dir, 'x.json');
    const big = (k: number): string => JSON.stringify({ k, pad: 'x'.repeat(200_000) });
    await Promise.all(Array.from({ length: 8 }, (_, k) => writeFileAtomic(p, big(k))));
    const v = JSON.parse(readFileSync(p, 'utf8'));
    expect(v.pad.length).toBe(200_000);
    expect(readdirSync(dir)).toEqual(['x.json']);
  });

  it('a failed write removes its temporary file and keeps the old content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-atomic-'));
    const p = join(dir, 'file');
    writeFileSync(p, 'old');
    // Renaming a file over a non-empty directory fails.
    const target = join(dir, 'd');
    await writeFileAtomic(join(target, 'inner'), 'x');
    await expect(writeFileAtomic(target, 'new')).rejects.toThrow();
    expect(readdirSync(dir).sort()).toEqual(['d', 'file']);
    expect(readFileSync(p, 'utf8')).toBe('old');
  });

  it('content that is not a string or Uint8Array is refused before anything is written (no truncated or empty file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-atomic-'));
    const p = join(dir, 'file');
    writeFileSync(p, 'old');
    // a Float32Array's length counts items, not bytes; an ArrayBuffer or a number has no length
    const bad: unknown[] = [new Float32Array([1, 2, 3, 4]), new ArrayBuffer(8), 5, { length: 3 }];
    for (const content of bad) {
      await expect(writeFileAtomic(p, content as Uint8Array)).rejects.toThrow(/invalid content: got .*, expected a string or a Uint8Array/);
      expect(() => writeFileAtomicSync(p, content as Uint8Array)).toThrow(/invalid content: got .*, expected a string or a Uint8Array/);
      expect(readFileSync(p, 'utf8')).toBe('old');
      // nor is a missing parent folder created for it
      await expect(writeFileAtomic(join(dir, 'new', 'f'), content as Uint8Array)).rejects.toThrow(/invalid content/);
      expect(readdirSync(dir)).toEqual(['file']);
    }
    // the bytes of a Float32Array, viewed as a Uint8Array, are written whole
    const f = new Float32Array([1, 2, 3, 4]);
    await writeFileAtomic(p, new Uint8Array(f.buffer));
    expect(new Float32Array(new Uint8Array(readFileSync(p)).buffer)).toEqual(f);
  });

  it('toJson: NaN/Infinity → null, typed arrays → arrays, bigint → string', () => {
    expect(JSON.parse(toJson({ a: NaN, b: Infinity, c: Float32Array.from([0.5, 2]), d: 5n, e: [1, -Infinity] }))).toEqual({ a: null, b: null, c: [0.5, 2], d: '5', e: [1, null] });
  });
});

describe('lost-work regressions (issue 11)', () => {
  it('saveModule on a pseudo file system fails fast with a clear error (no recursive mkdir spin)', async () => {
    const { saveModule } = await import('../../src/io/serialize.js');
    const { LIF } = await import('../../src/neural/neurons/index.js');
    const m = new LIF(2, 1, { restV: -65, resetV: -70, threshV: -50, refracT: 2, tauM: 20 });
    const t0 = Date.now();
    await expect(saveModule(m, '/proc/x/y')).rejects.toThrow(/invalid dir: got "\/proc\/x\/y", expected a folder on a regular file system \(\/proc is a kernel pseudo file system\)/);
    expect(Date.now() - t0).toBeLessThan(2000);
    m.dispose();
  });

  it('identical arrays give byte-identical .npz files whatever the time (fixed zip timestamps)', async () => {
    const { encodeNpz } = await import('../../src/io/npy.js');
    const arrays = { a: { data: new Float32Array([1, 2, 3]), shape: [3] }, b: { data: new Int32Array([4]), shape: [1] } };
    const first = encodeNpz(arrays);
    await new Promise((r) => setTimeout(r, 2100)); // the zip clock has 2 s resolution
    expect(Buffer.from(encodeNpz(arrays)).equals(Buffer.from(first))).toBe(true);
  });
});
