// writeFileAtomic and writeFileAtomicSync flush the folder after the rename (so the rename itself
// survives a power loss), and go on where the platform refuses to fsync a directory.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';

/** What the file system calls did, in order: `rename:<to>`, `sync:<path>`, `fsync:<path>`. */
const events: string[] = [];
/** Error code that fsync of a directory fails with (none: it works). */
let dirSyncError: string | undefined;

vi.mock('node:fs/promises', async (importOriginal) => {
  const fsp = await importOriginal<typeof import('node:fs/promises')>();
  const { statSync } = await import('node:fs');
  return {
    ...fsp,
    rename: async (from: string, to: string) => {
      await fsp.rename(from, to);
      events.push(`rename:${to}`);
    },
    open: async (path: string, flags?: string) => {
      const fh = await fsp.open(path, flags);
      const isDir = statSync(path).isDirectory();
      const sync = fh.sync.bind(fh);
      fh.sync = async () => {
        if (isDir && dirSyncError) throw Object.assign(new Error(`${dirSyncError}: refused`), { code: dirSyncError });
        await sync();
        events.push(`sync:${path}`);
      };
      return fh;
    },
  };
});

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const dirs = new Map<number, string>();
  return {
    ...fs,
    renameSync: (from: string, to: string) => {
      fs.renameSync(from, to);
      events.push(`rename:${to}`);
    },
    openSync: (path: string, flags: string) => {
      const fd = fs.openSync(path, flags);
      if (fs.statSync(path).isDirectory()) dirs.set(fd, path);
      return fd;
    },
    fsyncSync: (fd: number) => {
      const dir = dirs.get(fd);
      if (dir !== undefined && dirSyncError) throw Object.assign(new Error(`${dirSyncError}: refused`), { code: dirSyncError });
      fs.fsyncSync(fd);
      if (dir !== undefined) events.push(`fsync:${dir}`);
    },
    closeSync: (fd: number) => {
      dirs.delete(fd);
      fs.closeSync(fd);
    },
  };
});

const { writeFileAtomic, writeFileAtomicSync } = await import('../../src/io/atomic.js');

beforeEach(() => {
  events.length = 0;
  dirSyncError = undefined;
});

describe('atomic writes flush the folder after the rename', () => {
  it('writeFileAtomic: rename, then fsync of the folder (also with a commit check)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-dirsync-'));
    const p = join(dir, 'x.json');
    await writeFileAtomic(p, 'one');
    expect(events.filter((e) => !e.startsWith('sync:') || e === `sync:${dir}`)).toEqual([`rename:${p}`, `sync:${dir}`]);
    events.length = 0;
    await writeFileAtomic(p, 'two', { commit: () => true });
    expect(events.filter((e) => !e.startsWith('sync:') || e === `sync:${dir}`)).toEqual([`rename:${p}`, `sync:${dir}`]);
    expect(readFileSync(p, 'utf8')).toBe('two');
  });

  it('writeFileAtomicSync: rename, then fsync of the folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-dirsync-'));
    const p = join(dir, 'x.json');
    writeFileAtomicSync(p, 'one');
    expect(events).toEqual([`rename:${p}`, `fsync:${dir}`]);
    expect(readFileSync(p, 'utf8')).toBe('one');
  });

  it('a folder fsync refused with EISDIR, EINVAL or EPERM is skipped; another error (EIO) is reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-dirsync-'));
    const p = join(dir, 'x.json');
    for (const code of ['EISDIR', 'EINVAL', 'EPERM']) {
      dirSyncError = code;
      await writeFileAtomic(p, code);
      writeFileAtomicSync(`${p}.sync`, code);
      expect([readFileSync(p, 'utf8'), readFileSync(`${p}.sync`, 'utf8')]).toEqual([code, code]);
    }
    dirSyncError = 'EIO';
    await expect(writeFileAtomic(p, 'io')).rejects.toThrow('EIO: refused');
    expect(() => writeFileAtomicSync(p, 'io')).toThrow('EIO: refused');
  });
});
