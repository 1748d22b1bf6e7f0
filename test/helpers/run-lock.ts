// Test helper: run folders whose lock another process takes over (the lease tests of src/cli).
import { mkdirSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { backendInfo } from '../../src/core/backend.js';
import { Terminal } from '../../src/cli/progress.js';
import { RunFolder } from '../../src/cli/run-folder.js';
import { acquireLock, runLockGuard } from '../../src/cli/run-lock.js';
import type { LockAttempt, tryLock } from '../../src/io/lock.js';

/** The text of a run-folder lock held by a process on another host (lease 90 ms). */
export const FOREIGN_LOCK = JSON.stringify({ pid: 4242, host: 'elsewhere.invalid', started_at: '2026-01-01T00:00:00.000Z', lease_ms: 90 });

/** Temporary files of atomic writes left anywhere under `dir`. */
export function tmpFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((n) => n.endsWith('.tmp'));
}

/** A new folder `root/name`, locked by this process, with a RunFolder (example `example`) that watches the lock. */
export async function lockedRunFolder(root: string, name: string, example: string): Promise<{ f: RunFolder; dir: string }> {
  const dir = join(root, name);
  mkdirSync(dir);
  acquireLock(dir);
  const f = await RunFolder.create({
    outDir: dir, example, params: {}, seed: 0, backend: backendInfo()!, quiet: true, signal: new AbortController().signal,
    terminal: new Terminal({ mode: 'quiet' }), paramsFile: {}, lockGuard: runLockGuard([dir]),
  });
  return { f, dir };
}

/**
 * A `--resume` of this process trying to take `dir`'s lock over from a dead owner (this process's
 * own lock counts as live). `take` is the caller's `tryLock`, imported after its file-system mocks.
 */
export function resumerAttempt(dir: string, take: typeof tryLock): LockAttempt {
  const ownerOf = (t: string) => {
    const l = JSON.parse(t) as { host: string; pid: number };
    return { host: l.host, pid: l.pid };
  };
  return take(join(dir, '.lock'), `${JSON.stringify({ pid: process.pid, host: hostname(), started_at: 'resumer' })}\n`, ownerOf, { takeOverDead: true, unreadable: 'dead' });
}
