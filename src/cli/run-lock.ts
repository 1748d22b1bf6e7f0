/**
 * The lock of a run folder: `<out>/.lock` holds `{ pid, host, started_at }` of the process writing
 * the folder, created exclusively (`O_EXCL`), so of two runs started into the same folder exactly
 * one gets it; the other is refused before it writes anything. The lock is removed when the run
 * ends (whatever its status). A lock whose process no longer exists on this host marks a run that
 * was killed: {@link inspectRunFolder} then rewrites `run_summary.json` with status `crashed`,
 * and `--resume` may take the folder over.
 * @module
 */
import { openSync, readFileSync, renameSync, rmSync, writeSync, closeSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomicSync } from '../io/atomic.js';

/** File name of the lock inside a run folder. */
export const LOCK_FILE = '.lock';

/** Content of a lock file. */
export interface LockInfo {
  /** Process id of the owner. */
  pid: number;
  /** Host name of the owner. */
  host: string;
  /** When the owner took the lock (ISO time). */
  started_at: string;
}

/** Why a folder could not be locked. */
export class RunLockError extends Error {
  /**
   * @param reason `busy` (the owner runs), `crashed` (the owner died: resume it) or `io`
   * @param lock the current lock, when there is one
   */
  constructor(
    message: string,
    readonly reason: 'busy' | 'crashed' | 'io',
    readonly lock?: LockInfo,
  ) {
    super(message);
    this.name = 'RunLockError';
  }
}

/** Reads the lock of `dir` (null when there is none or it is unreadable). */
export function readLock(dir: string): LockInfo | null {
  try {
    const l = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockInfo;
    return typeof l?.pid === 'number' && typeof l.host === 'string' ? l : null;
  } catch {
    return null;
  }
}

/** True when the lock's process still runs (on another host: assumed to). */
export function ownerAlive(lock: LockInfo): boolean {
  if (lock.host !== hostname()) return true;
  if (lock.pid === process.pid) return true;
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockText(): string {
  const info: LockInfo = { pid: process.pid, host: hostname(), started_at: new Date().toISOString() };
  return `${JSON.stringify(info)}\n`;
}

/**
 * Takes the lock of the existing folder `dir`. With `takeOverCrashed` a lock whose owner died is
 * replaced (resume); otherwise it is refused with reason `crashed`.
 * @throws RunLockError when another live process holds it, or it is a crashed run's and not taken over
 */
export function acquireLock(dir: string, options: { takeOverCrashed?: boolean } = {}): LockInfo {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, lockText());
      } finally {
        closeSync(fd);
      }
      return readLock(dir)!;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new RunLockError(`cannot create ${path}: ${(err as Error).message}`, 'io');
    }
    const lock = readLock(dir);
    if (lock && ownerAlive(lock)) {
      throw new RunLockError(`${dir} is in use by process ${lock.pid} on ${lock.host} (since ${lock.started_at})`, 'busy', lock);
    }
    if (!options.takeOverCrashed) {
      throw new RunLockError(`${dir} holds a run whose process ${lock?.pid ?? '?'} on ${lock?.host ?? '?'} died (crashed); continue it with --resume ${dir}`, 'crashed', lock ?? undefined);
    }
    // the owner died: move its lock aside (one rename, so only one of two resumers succeeds) and retry
    try {
      renameSync(path, `${path}.stale.${process.pid}`);
      rmSync(`${path}.stale.${process.pid}`, { force: true });
    } catch {
      // another process took it over first; the retry reports it
    }
  }
  throw new RunLockError(`${dir}: the lock could not be taken`, 'busy', readLock(dir) ?? undefined);
}

/** Removes the lock of `dir` if this process holds it. */
export function releaseLock(dir: string): void {
  const lock = readLock(dir);
  if (lock && lock.pid === process.pid && lock.host === hostname()) rmSync(join(dir, LOCK_FILE), { force: true });
}

/** What {@link inspectRunFolder} found. */
export interface RunFolderState {
  /** Status from run_summary.json (`crashed` when it said `running` but its owner died), or null without a summary. */
  status: string | null;
  /** The lock, if any. */
  lock: LockInfo | null;
  /** True when a live process owns the folder. */
  busy: boolean;
}

/**
 * Looks at a run folder: its summary status and lock. A summary saying `running` whose lock owner
 * died (or with no lock at all) is rewritten with status `crashed`, so a SIGKILLed run never says
 * `running` forever.
 */
export function inspectRunFolder(dir: string): RunFolderState {
  const lock = readLock(dir);
  const busy = lock !== null && ownerAlive(lock);
  const summaryPath = join(dir, 'run_summary.json');
  if (!existsSync(summaryPath)) return { status: null, lock, busy };
  let summary: Record<string, unknown>;
  try {
    summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as Record<string, unknown>;
  } catch {
    return { status: null, lock, busy };
  }
  let status = typeof summary.status === 'string' ? summary.status : null;
  if (status === 'running' && !busy) {
    status = 'crashed';
    writeJsonAtomicSync(summaryPath, { ...summary, status, crashed_detected_at: new Date().toISOString(), ...(lock ? { crashed_pid: lock.pid, crashed_host: lock.host } : {}) });
  }
  return { status, lock, busy };
}
