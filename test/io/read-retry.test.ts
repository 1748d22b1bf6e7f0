// readTensorFolder against saves that swap the folder's content between its two reads (manifest,
// then the weights files it names). The file system's open is wrapped so that the interleaving
// that concurrent processes produce only now and then happens on every run: the first opening of
// a weights file for reading runs other saves first and then fails as a read caught between them
// would.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const hook: { onWeightsRead?: (path: string) => Promise<void>; skip?: number } = {};
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open = (async (path: Parameters<typeof real.open>[0], flags?: unknown, ...rest: unknown[]) => {
    const run = hook.onWeightsRead;
    if (run && typeof path === 'string' && /weights-[0-9a-f]{8}\.bin$/.test(path) && (flags === undefined || flags === 'r') && !((hook.skip ?? 0) > 0 && hook.skip!--)) {
      hook.onWeightsRead = undefined;
      await run(path);
    }
    return (real.open as (...a: unknown[]) => unknown)(path, flags, ...rest);
  }) as typeof real.open;
  return { ...real, default: { ...real, open }, open };
});

const { decodeTensors, encodeTensors, readTensorFolder, weightsFileName, writeTensorFolder } = await import('../../src/io/tensors.js');

const save = (v: number, who: string) => encodeTensors({ x: { data: new Float32Array(64).fill(v), shape: [64], dtype: 'float32' } }, { metadata: { who } });
const enoent = (path: string) => Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
const dirs: string[] = [];
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'cinder-read-retry-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  hook.onWeightsRead = undefined;
  hook.skip = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('readTensorFolder while saves replace the folder', () => {
  it('A → B → A between the manifest read and the weights read: the same manifest is back, its weights written again, and the read returns save A', async () => {
    const dir = temp();
    const a = save(1.5, 'A');
    await writeTensorFolder(dir, a);
    hook.onWeightsRead = async (path) => {
      await writeTensorFolder(dir, save(-2, 'B')); // removes A's weights
      await writeTensorFolder(dir, a); // the same save again: same manifest text, same weights name
      throw enoent(path); // the read that happened while B's save held the folder
    };
    const art = await readTensorFolder(dir);
    expect(hook.onWeightsRead).toBeUndefined(); // the interleaving did happen
    expect(art.manifest.metadata).toEqual({ who: 'A' });
    expect(Array.from(decodeTensors(art).x!.data.subarray(0, 3))).toEqual([1.5, 1.5, 1.5]);
  });

  it('A → B between the reads: the read returns save B', async () => {
    const dir = temp();
    await writeTensorFolder(dir, save(1, 'A'));
    hook.onWeightsRead = async () => {
      await writeTensorFolder(dir, save(7, 'B'));
    };
    const art = await readTensorFolder(dir);
    expect(hook.onWeightsRead).toBeUndefined();
    expect(art.manifest.metadata).toEqual({ who: 'B' });
    expect(decodeTensors(art).x!.data[0]).toBe(7);
  });

  it('sharded: A → B after the first of A\'s shards is open, before the second: the read returns save B, whole', async () => {
    const dir = temp();
    await writeTensorFolder(dir, save(1, 'A'), { shardBytes: 100 }); // 256 bytes: 3 shards
    hook.skip = 1; // the first shard opens, then B replaces A (and removes A's shards)
    hook.onWeightsRead = async () => {
      await writeTensorFolder(dir, save(7, 'B'), { shardBytes: 100 });
    };
    const art = await readTensorFolder(dir);
    expect(hook.onWeightsRead).toBeUndefined();
    expect(art.manifest.metadata).toEqual({ who: 'B' });
    expect(Array.from(decodeTensors(art).x!.data)).toEqual(new Array(64).fill(7));
  });

  it('weights missing for good: the error names the folder and the file', async () => {
    const dir = temp();
    const a = save(3, 'A');
    await writeTensorFolder(dir, a);
    const file = weightsFileName(a.manifest.weightsChecksum);
    rmSync(join(dir, file));
    expect(readdirSync(dir)).toEqual(['model.json']);
    await expect(readTensorFolder(dir)).rejects.toThrow(`invalid dir: got ${JSON.stringify(dir)}, expected a folder holding model.json and ${file} (ENOENT`);
  });
});
