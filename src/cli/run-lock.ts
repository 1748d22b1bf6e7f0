/**
 * The lock of a run folder: `<out>/.lock` holds `{ pid, host, started_at }` of the process writing
 * the folder, created exclusively (a lock file of `src/io/lock.ts`: written to a private file, then
 * hard-linked to `.lock`, which fails when the name exists, so no reader sees an empty lock), so of
 * two runs started into the same folder exactly one gets it; the other is refused before it writes
 * anything. The lock is removed when the run ends (whatever its status). A lock whose process no
 * longer exists on this host marks a run that was killed: {@link inspectRunFolder} then rewrites
 * `run_summary.json` with status `crashed`, and `--resume` may take the folder over.
 * @module
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomicSync } from '../io/atomic.js';
import { lockOwnerAlive, removeLockLeftovers, tryLock, type LockAttempt } from '../io/lock.js';

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
    return lockOf(readFileSync(join(dir, LOCK_FILE), 'utf8'));
  } catch {
    return null;
  }
}

/** The lock in a lock file's text (null when it is not one). */
function lockOf(text: string | null): LockInfo | null {
  try {
    const l = JSON.parse(text ?? '') as LockInfo;
    return typeof l?.pid === 'number' && typeof l.host === 'string' ? l : null;
  } catch {
    return null;
  }
}

/** True when the lock's process still runs (on another host: assumed to). */
export function ownerAlive(lock: LockInfo): boolean {
  return lockOwnerAlive(lock);
}

/**
 * Takes the lock of the existing folder `dir`. With `takeOverCrashed` a lock whose owner died is
 * replaced (resume; race-free among any number of resumers, see `src/io/lock.ts`); otherwise it
 * is refused with reason `crashed`. A lock file that is not one (damaged) counts as a crashed run's.
 * @throws RunLockError when another live process holds it, or it is a crashed run's and not taken over
 */
export function acquireLock(dir: string, options: { takeOverCrashed?: boolean } = {}): LockInfo {
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), started_at: new Date().toISOString() };
  let got: LockAttempt;
  try {
    got = tryLock(path, `${JSON.stringify(info)}\n`, lockOf, { takeOverDead: options.takeOverCrashed === true, unreadable: 'dead' });
  } catch (err) {
    throw new RunLockError(`cannot create ${path}: ${(err as Error).message}`, 'io');
  }
  if (got.taken) {
    removeLockLeftovers(path); // of takeovers and lock creations killed half-way
    return info;
  }
  const lock = lockOf(got.text);
  if (got.alive) {
    const who = lock ? `process ${lock.pid} on ${lock.host} (since ${lock.started_at})` : 'another process';
    throw new RunLockError(`${dir} is in use by ${who}`, 'busy', lock ?? undefined);
  }
  throw new RunLockError(`${dir} holds a run whose process ${lock?.pid ?? '?'} on ${lock?.host ?? '?'} died (crashed); continue it with --resume ${dir}`, 'crashed', lock ?? undefined);
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
