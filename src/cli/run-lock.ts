/**
 * The lock of a run folder: `<out>/.lock` holds `{ pid, host, started_at }` of the process writing
 * the folder, created exclusively (a lock file of `src/io/lock.ts`: written to a private file, then
 * hard-linked to `.lock`, which fails when the name exists, so no reader sees an empty lock), so of
 * two runs started into the same folder exactly one gets it; the other is refused before it writes
 * anything. The lock is removed when the run ends (whatever its status). A lock whose process no
 * longer exists on this host marks a run that was killed: {@link inspectRunFolder} then rewrites
 * `run_summary.json` with status `crashed`, and `--resume` may take the folder over.
 *
 * The lock also declares a lease, `lease_ms` (default 60 s, or `CINDER_LOCK_LEASE_MS`): while
 * this process holds it, it refreshes the file's modification time every `lease_ms / 3` (see
 * `src/io/lock.ts`), so that a run on another host sharing the folder (NFS) that was killed, or a
 * run stopped with SIGSTOP on this one, counts as crashed once its lock has not been refreshed for
 * `lease_ms` — as timed by the reader's own clock over its own sightings, never by comparing the
 * clocks of two hosts. A one-off look (a fresh `cinder status`) cannot tell yet:
 * {@link inspectRunFolder} counts such a lock as busy with `leasePendingMs` set (`cinder status`
 * says `unconfirmed`), or, with `watchLease` (`cinder status --watch`), watches it for up to its
 * lease; {@link acquireLock} with `takeOverCrashed` (`--resume`) watches it for up to its lease. A lock without `lease_ms` (written by an older Cinder) of another host counts as
 * live, as before. A holder whose lock was taken over meanwhile finds out at its next refresh (or,
 * through {@link runLockGuard}, at its next write): {@link runLockSignal} aborts, a
 * `CINDER_LOCK_LOST` warning is printed, and a run (`src/cli/runner.ts`) stops writing the folder
 * ({@link RunLockLostError}).
 * @module
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { checkOptionKeys } from '../core/errors.js';
import { writeJsonAtomicSync } from '../io/atomic.js';
import type { RunLockGuard } from './run-folder.js';
import { DEFAULT_LEASE_MS, holdLock, leaseOf, lockLiveness, lockOwnerAlive, lookAtLock, removeLockLeftovers, resolveLeaseMs, tryLock, watchLockLiveness, whileLockUnchanged, type LockAttempt, type LockHold, type LockLiveness, type LockLook, type LockOwner } from '../io/lock.js';

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
  /**
   * The owner's lease (ms): it refreshes the lock every `lease_ms / 3`. Absent in locks written by
   * an older Cinder (never refreshed).
   */
  lease_ms?: number;
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

/** The owner a lock names, with its lease when it declares a valid one. */
function ownerOfLock(lock: LockInfo): LockOwner {
  const leaseMs = leaseOf(lock.lease_ms);
  return { host: lock.host, pid: lock.pid, ...(leaseMs !== undefined ? { leaseMs } : {}) };
}

/** The owner in a lock file's text (null when it is not a lock). */
function lockOwnerOf(text: string): LockOwner | null {
  const lock = lockOf(text);
  return lock ? ownerOfLock(lock) : null;
}

/**
 * True when the lock's process still runs: on this host, its pid exists (and, for a lock with a
 * lease, it is not a stopped process whose lock this process has seen unrefreshed for the lease);
 * on another host, a lock without a lease is assumed live, one with a lease is live until this
 * process has seen it unrefreshed for the lease (see the module notes). Pass `dir` to judge the
 * lease (without it a lease lock is judged by its pid on this host, live on another).
 */
export function ownerAlive(lock: LockInfo, dir?: string): boolean {
  if (dir === undefined) return lockOwnerAlive(ownerOfLock(lock));
  return lockState(lock, dir, false)?.alive ?? lockOwnerAlive(ownerOfLock(lock));
}

/**
 * {@link ownerAlive} of `dir`'s lock read as `lock`, with how long it must still be watched to be
 * judged (see {@link LockLiveness}); with `watch`, a lease lock not judged yet is watched
 * (blocking) until it is. Null when the lock was replaced meanwhile (look again).
 */
function lockState(lock: LockInfo, dir: string, watch: boolean): LockLiveness | null {
  const owner = ownerOfLock(lock);
  const path = join(dir, LOCK_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { alive: false, leasePendingMs: 0 }; // gone
  }
  const now = lockOf(text);
  if (!now || now.pid !== lock.pid || now.host !== lock.host || now.started_at !== lock.started_at) return null; // replaced meanwhile
  return watch ? watchLockLiveness(path, text, owner) : lockLiveness(path, text, owner);
}

/** The locks this process holds and refreshes, by resolved folder. */
const held = new Map<string, LockHold>();

/**
 * The signal of this process's lock of `dir`: aborted (reason: an Error naming the lock) when a
 * refresh found the lock taken over or removed — the run must stop writing the folder. Undefined
 * when this process does not hold the lock through {@link acquireLock}.
 */
export function runLockSignal(dir: string): AbortSignal | undefined {
  return held.get(resolve(dir))?.signal;
}

/**
 * A run folder's lock was found taken over (or removed) while this process held it: the folder
 * belongs to another process now (a `--resume` that judged this one dead: stopped, or cut off from
 * the shared file system, for longer than its lease), so this process must not write it any more.
 */
export class RunLockLostError extends Error {
  /**
   * @param dir the run folder (absolute)
   * @param holder the lock now in the folder, or null when there is none (removed) or it names no owner
   * @param text the text of the lock now in the folder (null when there is none)
   */
  constructor(
    readonly dir: string,
    readonly holder: LockInfo | null,
    readonly text: string | null,
  ) {
    const now = holder ? `process ${holder.pid} on ${holder.host} holds it now (since ${holder.started_at})` : text === null ? 'its lock was removed' : `it now holds ${JSON.stringify(text.trim())}`;
    super(`lost the lock of run folder ${dir} (${join(dir, LOCK_FILE)}): ${now}; this run stopped and writes nothing more into the folder`);
    this.name = 'RunLockLostError';
  }
}

/**
 * A guard over this process's locks of `dirs` (a run folder, and for a seed of a multi-seed run
 * also its parent folder): its signal aborts as soon as one of them is found taken over or
 * removed, and {@link RunLockGuard.check} lets a writer look right before it writes. Folders whose
 * lock this process does not hold through {@link acquireLock} are not watched.
 */
export function runLockGuard(dirs: readonly string[]): RunLockGuard {
  const controller = new AbortController();
  const holds: LockHold[] = [];
  for (const d of dirs) {
    const dir = resolve(d);
    const hold = held.get(dir);
    if (!hold) continue;
    holds.push(hold);
    const lost = (): void => {
      if (controller.signal.aborted) return;
      let text: string | null = null;
      try {
        text = readFileSync(join(dir, LOCK_FILE), 'utf8');
      } catch {
        // gone (or unreadable): reported as removed
      }
      controller.abort(new RunLockLostError(dir, lockOf(text), text));
    };
    if (hold.signal.aborted) lost();
    else hold.signal.addEventListener('abort', lost, { once: true });
  }
  return {
    signal: controller.signal,
    check() {
      for (const h of holds) {
        if (controller.signal.aborted) break;
        h.refresh(); // a lost lock aborts its signal, and so this guard's, synchronously
      }
      if (controller.signal.aborted) throw controller.signal.reason as RunLockLostError;
    },
  };
}

/** Options of {@link acquireLock}. */
export interface AcquireLockOptions {
  /** Replace a crashed run's lock (resume), watching a lease lock for up to its lease to tell. */
  takeOverCrashed?: boolean;
  /** The lease of this process's lock (ms; default `CINDER_LOCK_LEASE_MS` or 60 s). */
  leaseMs?: number;
}

const ACQUIRE_KEYS = ['takeOverCrashed', 'leaseMs'];

/**
 * Takes the lock of the existing folder `dir` and keeps it refreshed (lease `leaseMs`) until
 * {@link releaseLock}. With `takeOverCrashed` a lock whose owner died is replaced (resume;
 * race-free among any number of resumers, see `src/io/lock.ts`) — a lease lock this process has
 * not watched yet is watched, blocking, for up to its lease; otherwise it is refused with reason
 * `crashed`. A lock file that is not one (damaged) counts as a crashed run's.
 * @throws CinderArgumentError for an unknown option key or a lease out of 30 ms … 1 day
 * @throws RunLockError when another live process holds it, or it is a crashed run's and not taken over
 */
export function acquireLock(dir: string, options: AcquireLockOptions = {}): LockInfo {
  checkOptionKeys('options', options, ACQUIRE_KEYS);
  const leaseMs = resolveLeaseMs(options.leaseMs);
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), started_at: new Date().toISOString(), lease_ms: leaseMs };
  const text = `${JSON.stringify(info)}\n`;
  let got: LockAttempt;
  try {
    const takeOverDead = options.takeOverCrashed === true;
    got = tryLock(path, text, lockOwnerOf, { takeOverDead, unreadable: 'dead', waitOutLease: takeOverDead });
  } catch (err) {
    throw new RunLockError(`cannot create ${path}: ${(err as Error).message}`, 'io');
  }
  if (got.taken) {
    removeLockLeftovers(path); // of takeovers and lock creations killed half-way
    const key = resolve(dir);
    held.get(key)?.release(); // (a lock of this folder this process held before and lost)
    held.set(key, holdLock(path, text, leaseMs));
    return info;
  }
  const lock = lockOf(got.text);
  if (got.alive) {
    const who = lock ? `process ${lock.pid} on ${lock.host} (since ${lock.started_at})` : 'another process';
    const lease = got.leasePendingMs !== undefined && lock?.lease_ms !== undefined ? `; if that process is gone, --resume takes the folder over once its lock has gone ${lock.lease_ms} ms without a refresh` : '';
    throw new RunLockError(`${dir} is in use by ${who}${lease}`, 'busy', lock ?? undefined);
  }
  throw new RunLockError(`${dir} holds a run whose process ${lock?.pid ?? '?'} on ${lock?.host ?? '?'} died (crashed); continue it with --resume ${dir}`, 'crashed', lock ?? undefined);
}

/**
 * Removes the lock of `dir` if this process holds it. A lock this process took through
 * {@link acquireLock} is removed only while the file still holds this process's own text: a lock
 * it lost (taken over by a `--resume`, which may even name this same host and pid, e.g. a
 * container on another machine sharing the folder) is the new owner's and stays. A lock named
 * after this process that it did not take through {@link acquireLock} is removed by its pid.
 */
export function releaseLock(dir: string): void {
  const key = resolve(dir);
  const hold = held.get(key);
  held.delete(key);
  if (hold) {
    hold.release(); // removes the file only while it holds this process's text (not after a loss)
    return;
  }
  const lock = readLock(dir);
  if (lock && lock.pid === process.pid && lock.host === hostname()) rmSync(join(dir, LOCK_FILE), { force: true });
}

/**
 * What `cinder status` and `cinder sweep status` say of a lease lock one look cannot judge (not yet
 * seen refreshed: `leasePendingMs` set): `maybe running as process P on H: its lock, lease L ms,
 * last refreshed N s ago by this host's clock, is judged by watching it for up to its lease; add
 * --watch to wait for that`. The age is that of the lock file's modification time by this host's
 * clock `nowMs` (ms since 1970); it was set by the holder's clock at its last refresh, so it is a
 * hint only (two hosts' clocks may differ: a clock behind shows `N s in the future`), and it is
 * left out when the file is gone.
 */
export function unconfirmedLockNote(lockPath: string, owner: LockOwner, nowMs: number): string {
  let age = '';
  try {
    const s = Math.round((nowMs - statSync(lockPath).mtimeMs) / 1000);
    age = s >= 0 ? `, last refreshed ${s} s ago by this host's clock` : `, last refreshed ${-s} s in the future by this host's clock`;
  } catch {
    // gone meanwhile: no age
  }
  return `maybe running as process ${owner.pid} on ${owner.host}: its lock, lease ${owner.leaseMs ?? '?'} ms${age}, is judged by watching it for up to its lease; add --watch to wait for that`;
}

/** What {@link inspectRunFolder} found. */
export interface RunFolderState {
  /** Status from run_summary.json (`crashed` when it said `running` but its owner died), or null without a summary. */
  status: string | null;
  /** The lock, if any. */
  lock: LockInfo | null;
  /** True when a live process owns the folder (or may: see `leasePendingMs`). */
  busy: boolean;
  /**
   * Only when `busy` is not confirmed: the lock is a lease lock that this process has not yet seen
   * refreshed (another host's, or a stopped process's on this one; a single look cannot tell, see
   * the module notes), and it counts as the lock of a crashed run once seen unchanged for this
   * many more ms (this process's clock).
   */
  leasePendingMs?: number;
}

/** Options of {@link inspectRunFolder}. */
export interface InspectRunFolderOptions {
  /** Watch a lease lock not judged yet (blocking, for up to its lease) until it is seen refreshed (running) or not (crashed). */
  watchLease?: boolean;
}

/**
 * Looks at a run folder: its summary status and lock. A summary saying `running` whose lock owner
 * died (or with no lock at all) is rewritten with status `crashed`, so a SIGKILLed run never says
 * `running` forever. A lease lock a single look cannot judge yet counts as live, with
 * `leasePendingMs` set, unless `watchLease` watches it until it can.
 *
 * The rewrite never goes over what a new owner of the folder writes: it is made only while the
 * lock is still the dead one (or still absent) and the summary still holds what was read, both
 * checked again while no process can take the lock (this process holds a takeover of the dead
 * lock, or, when there is none, the lock itself for the moment of the write: a `--resume` at that
 * very moment is refused as busy; see `whileLockUnchanged` in `src/io/lock.ts`). A folder taken
 * meanwhile (a `--resume` that took the lock and wrote its summary) is looked at again.
 * @throws CinderArgumentError for an unknown option key
 */
export function inspectRunFolder(dir: string, options: InspectRunFolderOptions = {}): RunFolderState {
  checkOptionKeys('options', options, ['watchLease']);
  const path = join(dir, LOCK_FILE);
  const summaryPath = join(dir, 'run_summary.json');
  for (let attempt = 1; ; attempt++) {
    let look: LockLook | null = null;
    let unreadable = false;
    try {
      look = lookAtLock(path, lockOwnerOf, { unreadable: 'dead', watch: options.watchLease === true });
    } catch {
      unreadable = true; // a lock file that cannot be read: as before, no lock, but not rewritten over
    }
    const lock = look === null ? null : lockOf(look.text);
    const busy = lock !== null && look!.alive;
    const pending = busy && look!.leasePendingMs > 0 ? { leasePendingMs: look!.leasePendingMs } : {};
    let raw: string;
    let summary: Record<string, unknown>;
    try {
      raw = readFileSync(summaryPath, 'utf8');
      summary = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return { status: null, lock, busy, ...pending };
    }
    const status = typeof summary.status === 'string' ? summary.status : null;
    if (status !== 'running' || busy) return { status, lock, busy, ...pending };
    if (unreadable || attempt > 10) return { status: 'crashed', lock, busy }; // (not rewritten: it cannot be done safely)
    const crashed = { ...summary, status: 'crashed', crashed_detected_at: new Date().toISOString(), ...(lock ? { crashed_pid: lock.pid, crashed_host: lock.host } : {}) };
    const r = rewriteWhileLockUnchanged(path, look, summaryPath, raw, crashed);
    // written, or the lock or its takeover file cannot be made (not rewritten)
    if (r === 'written' || r === 'unavailable') return { status: 'crashed', lock, busy };
    if (r === 'busy') sleepMs(1); // another process is taking the lock over right now
    // the folder changed meanwhile: look again
  }
}

/**
 * Rewrites JSON file `file` with `value` while no process can take the folder's lock at `lockPath`
 * ({@link whileLockUnchanged}: holding the lock seen in `look`'s takeover file, or, with no lock,
 * the lock itself for the moment of the write), and only when the file still holds `raw`, the text
 * read before (a `--resume` that took the folder meanwhile may have written its own).
 * Returns 'written'; 'changed' when the file or the lock changed since (look again); 'busy' when
 * another process is taking the lock over right now; 'unavailable' when the lock or its takeover
 * file cannot be made (nothing written).
 * @throws the write's own error when the file cannot be written
 */
export function rewriteWhileLockUnchanged(lockPath: string, look: LockLook | null | undefined, file: string, raw: string | null, value: unknown): 'written' | 'changed' | 'busy' | 'unavailable' {
  const me = `${JSON.stringify({ pid: process.pid, host: hostname(), started_at: new Date().toISOString(), lease_ms: DEFAULT_LEASE_MS } satisfies LockInfo)}\n`;
  let writeError: { err: unknown } | undefined;
  let r: ReturnType<typeof whileLockUnchanged<boolean>>;
  try {
    r = whileLockUnchanged(lockPath, look?.text ?? null, me, () => {
      let now: string | null = null;
      try {
        now = readFileSync(file, 'utf8');
      } catch {
        // gone: not rewritten
      }
      if (now !== raw) return false;
      try {
        writeJsonAtomicSync(file, value);
      } catch (err) {
        writeError = { err };
        throw err;
      }
      return true;
    }, { leaseMs: look?.owner?.leaseMs ?? DEFAULT_LEASE_MS });
  } catch {
    if (writeError) throw writeError.err;
    return 'unavailable';
  }
  if (r.done) return r.value ? 'written' : 'changed';
  return r.why === 'busy' ? 'busy' : 'changed';
}

/** Sleeps `ms` synchronously. */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The time bookkeeping a resumed run carries on from its folder's last summary `prev` (see
 * `RunFolder.summaryObject`, `src/cli/run-folder.ts`): the first attempt's start (the summary's `started_at`, else
 * `fallbackStart` — params.json's —, else none), the compute seconds of the earlier attempts (the
 * summary's `elapsed_s`, which already sums every attempt before the last; a finite number >= 0,
 * else 0) and the start times of the earlier resumptions (`resumed_at`, its ISO strings).
 * A crashed attempt's summary is the one its last checkpoint wrote: its `elapsed_s`, taken at its
 * `updated_at`, is the best known end of that attempt (the time between its last checkpoint and
 * the crash is not known, and not counted).
 */
export function carriedTime(prev: Record<string, unknown>, fallbackStart?: unknown): { startedAt: Date | null; elapsedS: number; resumedAt: string[] } {
  const date = (v: unknown): Date | null => {
    if (typeof v !== 'string') return null;
    const d = new Date(v);
    return Number.isFinite(d.getTime()) ? d : null;
  };
  const e = prev.elapsed_s;
  return {
    startedAt: date(prev.started_at) ?? date(fallbackStart),
    elapsedS: typeof e === 'number' && Number.isFinite(e) && e >= 0 ? e : 0,
    resumedAt: Array.isArray(prev.resumed_at) ? prev.resumed_at.filter((t): t is string => date(t) !== null) : [],
  };
}
