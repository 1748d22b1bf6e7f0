// Saves and loads above the limits of one file read (2 GiB), an npz above 4 GiB and an npz array of exactly 4 GiB — opt-in,
// it writes 17 GB in all and needs about 5 GB of memory: run with CINDER_BIG_IO=1
//   CINDER_BIG_IO=1 node node_modules/vitest/vitest.mjs run test/io/big-io.test.ts
// Prints the times and the peak resident memory seen; asserts only values.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { readNpzEntries, writeNpz } from '../../src/io/npy.js';
import { readHostTensors, readTensorFolder, writeHostTensors, type HostTensor } from '../../src/io/tensors.js';

const BIG = process.env.CINDER_BIG_IO === '1';
const root = BIG ? mkdtempSync(join(process.env.CINDER_BIG_IO_DIR ?? tmpdir(), 'cinder-big-io-')) : '';
afterAll(() => {
  if (BIG) rmSync(root, { recursive: true, force: true });
});

let peak = 0;
const rss = (): void => {
  peak = Math.max(peak, process.memoryUsage().rss);
};
const seconds = (t: number): string => ((performance.now() - t) / 1000).toFixed(1);

// value k of the big array: an integer pattern exact in float32 (|v| < 2^24)
const value = (k: number): number => (k % 16_777_213) - 8_000_000;

describe.skipIf(!BIG)('2.2 GB saves (CINDER_BIG_IO=1)', () => {
  it('writeHostTensors / readHostTensors / readTensorFolder / writeFileAtomic over 2 GiB, writeNpz over 4 GiB', async () => {
    const n = 550_000_000; // 2.2 GB of float32
    const all = new Float32Array(n);
    for (let k = 0; k < n; k++) all[k] = value(k);
    const split = 300_000_001; // w1 ends 1.2 GB in: inside the second 1 GiB shard
    const tensors: Record<string, HostTensor> = {
      w1: { data: all.subarray(0, split), shape: [split], dtype: 'float32', group: 'parameter' },
      w2: { data: all.subarray(split), shape: [n - split], dtype: 'float32', group: 'parameter' },
      c: { data: Int32Array.of(1, -2, 3), shape: [3], dtype: 'int32', group: 'state' },
    };
    rss();
    const dir = join(root, 'save');
    let t = performance.now();
    await writeHostTensors(dir, tensors, { metadata: { n } });
    rss();
    console.log(`writeHostTensors 2.2 GB: ${seconds(t)} s`);

    t = performance.now();
    const back = await readHostTensors(dir);
    rss();
    console.log(`readHostTensors 2.2 GB: ${seconds(t)} s, ${back.manifest.weightsManifest[0]!.paths.length} shards`);
    expect(back.manifest.weightsManifest[0]!.paths).toHaveLength(3);
    expect(back.manifest.weightsByteLength).toBe(4 * n + 12);
    const w1 = back.tensors.w1!.data;
    const w2 = back.tensors.w2!.data;
    let bad = 0;
    for (let k = 0; k < split; k++) if (w1[k] !== value(k)) bad++;
    for (let k = split; k < n; k++) if (w2[k - split] !== value(k)) bad++;
    expect(bad).toBe(0);
    expect(Array.from(back.tensors.c!.data)).toEqual([1, -2, 3]);
    back.tensors = {};

    t = performance.now();
    const art = await readTensorFolder(dir); // one array of 2.2 GB: above the 2 GiB of one file read
    rss();
    console.log(`readTensorFolder 2.2 GB: ${seconds(t)} s`);
    const words = new Float32Array(art.weightData.buffer, 0, n);
    bad = 0;
    for (let k = 0; k < n; k++) if (words[k] !== value(k)) bad++;
    expect(bad).toBe(0);
    art.weightData = new Uint8Array(0);
    rmSync(dir, { recursive: true, force: true });

    // one atomic write of 2.2 GB (fs.write takes at most 2 GiB − 1 bytes at once)
    const file = join(root, 'all.bin');
    t = performance.now();
    await writeFileAtomic(file, new Uint8Array(all.buffer));
    rss();
    console.log(`writeFileAtomic 2.2 GB: ${seconds(t)} s`);
    expect(statSync(file).size).toBe(4 * n);
    const fd = openSync(file, 'r');
    const probe = new Float32Array(1);
    for (const k of [0, split, n - 1]) {
      readSync(fd, new Uint8Array(probe.buffer), 0, 4, 4 * k);
      expect(probe[0]).toBe(value(k));
    }
    closeSync(fd);
    rmSync(file);

    // an npz of 6.6 GB (the 2.2 GB array three times): zip64 offsets and end record needed
    // ('auto'); Python's zipfile checks the directory and every entry's CRC-32 streaming
    const npz = join(root, 'big.npz');
    t = performance.now();
    await writeNpz(npz, { a: { data: all, shape: [n] }, b: { data: all, shape: [1000, n / 1000] }, c: { data: all, shape: [n] } });
    rss();
    console.log(`writeNpz 6.6 GB: ${seconds(t)} s`);
    const py = spawnSync(
      'python3',
      [
        '-c',
        `import sys, zipfile, numpy as np
z = zipfile.ZipFile(sys.argv[1])
out = []
for info in z.infolist():
    with z.open(info) as f:
        v = np.lib.format.read_magic(f)
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        while f.read(1 << 26): pass
    out.append(f"{info.filename} {info.header_offset} {info.file_size} {shape} {dtype}")
print(chr(10).join(out))`,
        npz,
      ],
      { encoding: 'utf8' },
    );
    expect(py.stderr).toBe('');
    const entry = 128 + 4 * n; // .npy header (128 bytes for these shapes) and data
    const offsets = [0, 30 + 5 + entry, 2 * (30 + 5 + entry)]; // (entries under 4 GiB: no zip64 local field)
    expect(py.stdout.trim().split('\n')).toEqual([`a.npy ${offsets[0]} ${entry} (${n},) float32`, `b.npy ${offsets[1]} ${entry} (1000, ${n / 1000}) float32`, `c.npy ${offsets[2]} ${entry} (${n},) float32`]);
    rmSync(npz);
    console.log(`peak rss seen: ${(peak / 2 ** 30).toFixed(2)} GiB`);
  }, 600_000);

  it('readNpz reads back an array of exactly 4 GiB that writeNpz wrote (float32 [32768, 32768])', async () => {
    // its .npy file is 4 GiB + 128 bytes: only its data must fit one array (the reader refused the
    // entry for its header's bytes). Zero but a few values (untouched pages of the written array
    // cost no memory; the array read back does: 4 GiB).
    const side = 32768;
    const w = new Float32Array(side * side);
    const set: [number, number][] = [
      [0, 1.5],
      [12_345_678, -3.25],
      [2 ** 30 - 1, 7],
      [2 ** 29 + 5, 2 ** -20],
    ];
    for (const [k, v] of set) w[k] = v;
    const npz = join(root, 'edge.npz');
    let t = performance.now();
    await writeNpz(npz, { w: { data: w, shape: [side, side] }, s: { data: Int32Array.of(-9), shape: [] } });
    console.log(`writeNpz 4 GiB array: ${seconds(t)} s`);
    t = performance.now();
    const back = readNpzEntries(npz);
    console.log(`readNpzEntries 4 GiB array: ${seconds(t)} s`);
    rss();
    expect(back.w!.shape).toEqual([side, side]);
    const r = back.w!.data;
    expect(r).toBeInstanceOf(Float32Array);
    expect(r.length).toBe(2 ** 30);
    for (const [k, v] of set) expect(r[k], `w[${k}]`).toBe(v);
    let nonZero = 0;
    for (let k = 0; k < r.length; k += 4099) if (r[k] !== 0) nonZero++;
    expect(nonZero).toBe(1); // (k = 0 of the values set is on the stride)
    expect(Array.from(back.s!.data)).toEqual([-9]);
    rmSync(npz);
  }, 600_000);
});
