// A save whose manifest rename went through but whose folder fsync then failed (an I/O error after
// the rename) must not delete the weights files the manifest on disk now names: the folder must
// stay loadable (the new save), the error is still reported. The file system's folder fsync is
// wrapped to fail with EIO once the manifest has been renamed into place.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const hook = { armed: false, failDirSync: false };
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const { statSync } = await import('node:fs');
  const rename = (async (from: string, to: string) => {
    await real.rename(from, to);
    if (hook.armed && typeof to === 'string' && to.endsWith('model.json')) hook.failDirSync = true;
  }) as typeof real.rename;
  const open = (async (path: string, flags?: string) => {
    const fh = await real.open(path, flags);
    if (typeof path === 'string' && statSync(path).isDirectory()) {
      const sync = fh.sync.bind(fh);
      fh.sync = async () => {
        if (hook.failDirSync) {
          hook.failDirSync = false;
          hook.armed = false;
          throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
        }
        await sync();
      };
    }
    return fh;
  }) as unknown as typeof real.open;
  return { ...real, default: { ...real, open, rename }, open, rename };
});

const { readHostTensors, writeHostTensors } = await import('../../src/io/tensors.js');

const dirs: string[] = [];
afterEach(() => {
  hook.armed = false;
  hook.failDirSync = false;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('a save failing after its manifest rename', () => {
  it.each([1 << 20, 40])('keeps the weights files the manifest on disk names (shardBytes %i): the folder loads', async (shardBytes) => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-after-rename-'));
    dirs.push(dir);
    const a = new Float32Array(64).map((_, i) => i + 0.5);
    const b = new Float32Array(64).map((_, i) => -3 * i);
    await writeHostTensors(dir, { x: { data: a, shape: [64], dtype: 'float32' } }, { metadata: { who: 'a' } }, { shardBytes });
    hook.armed = true;
    await expect(writeHostTensors(dir, { x: { data: b, shape: [64], dtype: 'float32' } }, { metadata: { who: 'b' } }, { shardBytes })).rejects.toThrow(/EIO/);
    expect(hook.armed).toBe(false); // the failure did happen after the manifest rename
    const got = await readHostTensors(dir);
    // the manifest on disk is the new save's: its weights must be there
    expect(got.manifest.metadata).toEqual({ who: 'b' });
    expect(Array.from(got.tensors.x!.data)).toEqual(Array.from(b));
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
