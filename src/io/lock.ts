/**
 * Lock files: a file whose existence gives one process a folder (a run folder, a tensor folder
 * being saved), holding its owner's host and pid. Node only.
 *
 * - Taking: the owner text is written to a private file which is then hard-linked to the lock's
 *   name; `link` fails when the name exists, so of any number of processes exactly one creates it,
 *   and no reader ever sees an empty lock (on a file system without hard links: exclusive create
 *   `wx`, then write — a short window in which the lock reads empty).
 * - Releasing: the owner removes it (only while it still holds the owner's own text).
 * - A stale lock, whose owner no longer runs on this host (a killed process), is removed by
 *   {@link removeStaleLock} so that, of any number of processes doing it at once, at most one
 *   removes it, and a lock that has changed meanwhile (a live owner's) is never removed: the right
 *   to remove a lock of text T is the takeover file `<lock>.takeover-<hash of T>.0`, created
 *   exclusively like a lock. Its holder re-reads the lock and removes it if it still holds T —
 *   nobody else can change it in between: its owner is dead and only a takeover holder removes it.
 *   A takeover file whose own creator died (killed half-way) is passed by to `.1`, `.2`, …, so at
 *   most one live process ever holds a takeover of T. Takeover files are removed once T is gone
 *   (its text is unique to it, so it never comes back): by the taker that removed T, and by the
 *   next holder of the lock ({@link removeLockLeftovers}), whoever created them.
 * - A takeover file whose creator cannot be checked by its pid — it names another host (NFS), a
 *   stopped process of this one, or nobody (unreadable) — is judged like a lease lock (below):
 *   passed by once the reader has seen it unchanged (same stamp) for the lease of the lock being
 *   removed (T's `leaseMs`; {@link DEFAULT_LEASE_MS} when T declares none) by its own monotonic
 *   clock. A takeover takes milliseconds, so one left that long is abandoned: its creator died, or
 *   was stopped or cut off from the file system for longer than a lease, which counts as dead for
 *   its locks too. No two hosts' clocks are compared. To keep "at most one live holder" for such
 *   a frozen creator, a taker acts on its takeover only while less than half the lease has
 *   passed, by its own clock, since it began creating it (before anyone's first sighting of the
 *   file, so before anyone can pass it by): past that it removes nothing, leaves its takeover file
 *   to be passed by, and reports the lock busy. What remains is a taker frozen (or an NFS
 *   `unlink` held up) for longer than the lease in the instant between that check and its removal —
 *   the same limit as for a holder frozen half-way through a write (below).
 *
 * Leases (locks of run folders and sweep folders; a lock whose text declares a lease, see
 * {@link LockOwner.leaseMs}). On a shared file system (NFS) a lock may be held by a process on
 * another host, whose pid cannot be checked from here. Its holder ({@link holdLock}) therefore
 * refreshes it: every `leaseMs / 3` (a timer that is `unref()`ed, so it never keeps Node alive) it
 * opens the lock, checks that the lock still holds its own text, and sets the file's modification
 * time (`futimes` on the opened file, so that it can only ever touch its own file, never a lock
 * that replaced it; the text itself never changes, so the race-free takeover above is unchanged).
 * A reader decides whether such a lock is dead without comparing the clocks of two hosts: it
 * remembers, per lock path, the lock's text and file stamp (inode, mtime, ctime, read through a
 * fresh `open`, which on NFS revalidates the cached attributes) and when — by its own monotonic
 * clock — it first saw that stamp; the lock is dead once the reader has seen the same stamp for
 * `leaseMs` (the holder's, from the lock's text) by its own clock. Any change of the stamp proves
 * the holder alive. So a reader that looks once (a fresh process) cannot yet tell: to it the lock
 * is live, with `leasePendingMs` left to watch; takers that want to recover such a lock watch it
 * for up to that long ({@link TryLockOptions.waitOutLease}, {@link watchLockLiveness}). The file system's time resolution
 * must be finer than `leaseMs / 3` (true of ext4, XFS, btrfs, tmpfs and NFS; 1–2 s on FAT/HFS+).
 *
 * Which lock counts as live:
 * - same host: its pid is checked (fast); a live pid counts as live — a holder whose event loop is
 *   merely busy keeps its lock however long — except a process that is stopped (SIGSTOP/SIGTSTP,
 *   seen in `/proc`, Linux only): its lease lock is dead once not refreshed for `leaseMs`;
 * - another host, with a lease: dead once not refreshed for `leaseMs` (as above);
 * - another host, without a lease (a lock of an older Cinder, which never refreshes it): live,
 *   always (its process cannot be checked from here; remove the file by hand).
 *
 * A holder whose lock was taken over (stopped, or cut off from the file system, for longer than
 * its lease) finds at its next refresh that the lock is gone or holds another text: it stops
 * refreshing, never touches the new lock, aborts {@link LockHold.signal} and warns
 * (`process.emitWarning`, code `CINDER_LOCK_LOST`) unless given `onLost`. A stopped holder that is
 * continued runs that refresh at its first timer phase, i.e. after whatever callbacks were already
 * due: what it writes into the folder before it (and until its user reacts to the signal) can mix
 * with the new owner's writes — a lease bounds how long a lost lock goes unnoticed; it cannot stop
 * a process that was frozen half-way through a write.
 * @module
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, futimesSync, linkSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { checkOptionKeys, CinderArgumentError } from '../core/errors.js';
import { processAlive, processStopped } from './process-alive.js';

/** Who holds a lock. */
export interface LockOwner {
  /** Host name of the owner. */
  host: string;
  /** Process id of the owner. */
  pid: number;
  /**
   * The lease the owner declared in the lock (ms): it refreshes the lock every `leaseMs / 3`.
   * Absent for locks that declare none (tensor-folder save locks, locks of older Cinder versions):
   * those are never refreshed, and one of another host counts as live forever.
   */
  leaseMs?: number;
}

/** True when the lock owner's process still runs, by its pid alone (on another host: assumed to; leases: {@link lockLiveness}). */
export function lockOwnerAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  return owner.pid === process.pid || processAlive(owner.pid);
}

/** Default lease of run-folder and sweep locks (ms), unless `CINDER_LOCK_LEASE_MS` says otherwise. */
export const DEFAULT_LEASE_MS = 60_000;

/** Smallest and largest lease (ms) a lock may declare. */
export const LEASE_MS_RANGE = [30, 86_400_000] as const;

/** Whether `v` is a lease a lock may declare (an integer number of ms in {@link LEASE_MS_RANGE}). */
function isLeaseMs(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= LEASE_MS_RANGE[0] && v <= LEASE_MS_RANGE[1];
}

/**
 * Checks a lease given as option `param`.
 * @throws CinderArgumentError ("invalid leaseMs: got …, expected an integer number of ms from 30 to 86400000")
 */
export function checkLeaseMs(param: string, v: unknown): number {
  if (!isLeaseMs(v)) throw new CinderArgumentError(param, v, `an integer number of ms from ${LEASE_MS_RANGE[0]} to ${LEASE_MS_RANGE[1]}`);
  return v;
}

/**
 * The lease of a new lock: `leaseMs` when given (checked), else environment variable
 * `CINDER_LOCK_LEASE_MS` when set, else {@link DEFAULT_LEASE_MS}.
 * @throws CinderArgumentError for a lease out of {@link LEASE_MS_RANGE} or an env value that is not one
 */
export function resolveLeaseMs(leaseMs: number | undefined, env: Record<string, string | undefined> = process.env): number {
  if (leaseMs !== undefined) return checkLeaseMs('leaseMs', leaseMs);
  const raw = env.CINDER_LOCK_LEASE_MS;
  if (raw === undefined || raw === '') return DEFAULT_LEASE_MS;
  const v = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!isLeaseMs(v)) throw new CinderArgumentError('CINDER_LOCK_LEASE_MS', raw, `an integer number of ms from ${LEASE_MS_RANGE[0]} to ${LEASE_MS_RANGE[1]}`);
  return v;
}

/** A lease read from a lock's text (undefined when it is missing or not a valid one: no lease). */
export function leaseOf(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return isLeaseMs(n) ? n : undefined;
}

/** What a reader last saw of a lock: its text, its file stamp, and since when (reader's clock, ms). */
interface Sighting {
  text: string;
  stamp: string;
  since: number;
}

/** Per lock path, the last sighting of its lock by this process (see the module notes). */
const sightings = new Map<string, Sighting>();

/** The reader's clock for sightings: monotonic ms. */
const monotonic = (): number => performance.now();

/**
 * The text and stamp (inode, mtime and ctime in ns) of lock `path`, read through one fresh `open`
 * (so that NFS revalidates its cached attributes), or null when there is none.
 */
function lockStamp(path: string): { text: string; stamp: string } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    return { text: readFileSync(fd, 'utf8'), stamp: `${st.ino}:${st.mtimeNs}:${st.ctimeNs}` };
  } finally {
    closeSync(fd);
  }
}

/**
 * How long this process has seen lock `path` unchanged (holding `text`, same stamp), by the clock
 * `now`, recording a new sighting when it changed: `unchangedMs` 0 and `changed` true when a
 * different stamp was seen before (proof that the holder refreshes it), `unchangedMs` 0 and
 * `changed` false at a first sighting, null when the lock no longer holds `text`.
 */
function watchLock(path: string, text: string, now: number): { unchangedMs: number; changed: boolean } | null {
  const seen = lockStamp(path);
  if (seen === null || seen.text !== text) {
    sightings.delete(path);
    return null;
  }
  const prev = sightings.get(path);
  if (prev && prev.text === text && prev.stamp === seen.stamp) return { unchangedMs: Math.max(0, now - prev.since), changed: false };
  sightings.set(path, { text, stamp: seen.stamp, since: now });
  return { unchangedMs: 0, changed: prev !== undefined && prev.text === text };
}

/** Whether a lock counts as live, and for how long more a reader must watch it to know. */
export interface LockLiveness {
  /** Whether the owner counts as live (see the module notes). */
  alive: boolean;
  /**
   * For a live lease lock not yet seen refreshed: how many more ms (reader's clock) it must stay
   * unchanged before it counts as dead; 0 otherwise.
   */
  leasePendingMs: number;
}

/**
 * Whether the lock at `path`, read as `text` naming `owner`, is live (see the module notes). A
 * lease lock is judged by this process's sightings of it, timed by `clock` (monotonic ms; the
 * default is `performance.now`).
 */
export function lockLiveness(path: string, text: string, owner: LockOwner, clock: () => number = monotonic): LockLiveness {
  const local = owner.host === hostname();
  if (local) {
    if (owner.pid === process.pid) return { alive: true, leasePendingMs: 0 };
    if (!processAlive(owner.pid)) return { alive: false, leasePendingMs: 0 };
    if (owner.leaseMs === undefined || !processStopped(owner.pid)) return { alive: true, leasePendingMs: 0 };
  } else if (owner.leaseMs === undefined) return { alive: true, leasePendingMs: 0 };
  return leaseLiveness(path, text, owner.leaseMs!, clock);
}

/**
 * The lease rule alone: the file at `path`, read as `text`, is dead once this process has seen it
 * unchanged (same stamp) for `leaseMs` by `clock`; live when seen changed or replaced (look again).
 */
function leaseLiveness(path: string, text: string, leaseMs: number, clock: () => number): LockLiveness {
  const w = watchLock(path, text, clock());
  if (w === null || w.changed) return { alive: true, leasePendingMs: 0 }; // replaced (look again) or refreshed: live
  if (w.unchangedMs >= leaseMs) return { alive: false, leasePendingMs: 0 };
  return { alive: true, leasePendingMs: leaseMs - w.unchangedMs };
}

/**
 * {@link lockLiveness}, except that a lock it cannot judge yet (`leasePendingMs` > 0: a lease lock
 * this process has not watched for long enough) is watched until it can: the call blocks (sleeping,
 * polls of at most 250 ms, for at most the lock's lease; the locks this process holds are refreshed
 * meanwhile when due, see {@link holdLock}) until the lock is seen refreshed (live) or unchanged
 * for its lease (dead).
 * @returns the judgement, or null when the lock was removed or replaced meanwhile (look again)
 */
export function watchLockLiveness(path: string, text: string, owner: LockOwner, clock: () => number = monotonic): LockLiveness | null {
  let live = lockLiveness(path, text, owner, clock);
  while (live.alive && live.leasePendingMs > 0) {
    sleepRefreshing(Math.min(live.leasePendingMs, 250));
    if (readLockText(path) !== text) return null;
    live = lockLiveness(path, text, owner, clock);
  }
  return readLockText(path) === text ? live : null;
}

/** A lock this process holds and refreshes ({@link holdLock}). */
export interface LockHold {
  /** Aborted (reason: an Error naming the lock) when the lock was found taken over or removed. */
  readonly signal: AbortSignal;
  /** Refreshes the lock now: false when it was found lost (now or before), true otherwise (also when an I/O error let this refresh pass, and after {@link release}: a lock this process removed is not a lost one). */
  refresh(): boolean;
  /** Stops refreshing and removes the lock if it still holds this process's text. */
  release(): void;
}

/** A lock this process refreshes: its refresh interval, when it was last refreshed (monotonic ms), and the refresh. */
interface ActiveHold {
  intervalMs: number;
  at: number;
  refresh: () => boolean;
}

/** The locks this process refreshes ({@link holdLock}), until released or lost. */
const activeHolds = new Set<ActiveHold>();

/**
 * Sleeps `ms` synchronously (the event loop blocked) while refreshing, when due, the locks this
 * process holds: their timers cannot fire during the sleep, and a lease lock left unrefreshed for
 * its lease would count as dead to another host even though this process is alive.
 */
function sleepRefreshing(ms: number): void {
  const end = monotonic() + ms;
  for (;;) {
    let now = monotonic();
    for (const h of [...activeHolds]) {
      if (now - h.at >= h.intervalMs) h.refresh();
    }
    now = monotonic();
    if (now >= end) return;
    let step = end - now;
    for (const h of activeHolds) step = Math.min(step, Math.max(1, h.at + h.intervalMs - now));
    sleepSync(Math.ceil(step));
  }
}

/**
 * Sets the modification time of lock `path` if it still holds `text`, through one open file (so
 * that a lock that replaced it is never touched).
 * @returns `held`, `lost` (gone or another text) or `failed` (an I/O error: try again later)
 */
function touchLock(path: string, text: string, mtimeMs: number): 'held' | 'lost' | 'failed' {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ESTALE' ? 'lost' : 'failed';
  }
  try {
    if (readFileSync(fd, 'utf8') !== text) return 'lost';
    const t = new Date(mtimeMs);
    futimesSync(fd, t, t);
    return 'held';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESTALE' ? 'lost' : 'failed';
  } finally {
    closeSync(fd);
  }
}

/**
 * Keeps lock `path`, which this process has just created with `text` declaring lease `leaseMs`,
 * alive: refreshes it every `leaseMs / 3` from an `unref()`ed timer (see the module notes). When a
 * refresh finds the lock gone or holding another text, the timer stops, `signal` aborts, and
 * `onLost` is called (default: `process.emitWarning` with code `CINDER_LOCK_LOST`). An I/O error
 * of one refresh is let pass (the next one tries again).
 * @throws CinderArgumentError for a lease out of {@link LEASE_MS_RANGE}
 */
export function holdLock(path: string, text: string, leaseMs: number, onLost?: (err: Error) => void): LockHold {
  checkLeaseMs('leaseMs', leaseMs);
  const controller = new AbortController();
  const intervalMs = Math.max(1, Math.floor(leaseMs / 3));
  let last = 0;
  let timer: NodeJS.Timeout | null = null;
  const stop = (): void => {
    if (timer !== null) clearInterval(timer);
    timer = null;
    activeHolds.delete(active);
  };
  let released = false;
  const refresh = (): boolean => {
    if (controller.signal.aborted) return false;
    if (released) return true; // released by this process: gone on purpose, not lost
    active.at = monotonic();
    // a stamp that always differs from the last one, even when the clock stepped back
    last = Math.max(Date.now(), last + 1);
    const r = touchLock(path, text, last);
    if (r !== 'lost') return true;
    stop();
    let now: string | null = null;
    try {
      now = readLockText(path);
    } catch {
      // unreadable: reported as removed
    }
    const err = new Error(`lost lock ${path}: ${now === null ? 'it was removed' : `it was taken over (it now holds ${JSON.stringify(now.trim())})`}; this process must stop writing what it guards`);
    controller.abort(err);
    if (onLost) onLost(err);
    else process.emitWarning(err.message, { code: 'CINDER_LOCK_LOST' });
    return false;
  };
  const active: ActiveHold = { intervalMs, at: monotonic(), refresh };
  activeHolds.add(active);
  timer = setInterval(refresh, intervalMs);
  timer.unref();
  return {
    signal: controller.signal,
    refresh,
    release() {
      stop();
      released = true;
      if (!controller.signal.aborted) releaseLockFile(path, text);
    },
  };
}

/** `host pid` of this process: the text of a lock that names nothing else. */
export function hostPidText(): string {
  return `${hostname()} ${process.pid}`;
}

/** The owner in a `host pid` text (null when it is not one). */
export function hostPidOwner(text: string): LockOwner | null {
  const m = /^(\S+) (\d+)\s*$/.exec(text);
  return m ? { host: m[1]!, pid: Number(m[2]) } : null;
}

/** Errors of `link` on file systems without hard links. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Name of this thread's private file for creating `path`: `<path>.new-<pid>.<threadId>-<host>`.
 * Worker threads share the pid: without the thread id, two threads creating one lock at once
 * would write (and remove) one private file, so that one's `link` fails or links the other's
 * text. (Cinder before this wrote `<path>.new-<pid>-<host>`, still recognised as a leftover.)
 */
function privateName(path: string): string {
  return `${path}.new-${process.pid}.${threadId}-${hostname()}`;
}

/**
 * Creates file `path` holding `content` unless a file of that name exists (see the module notes).
 * @returns true when this call created it, false when it existed
 * @throws the file system's error for anything but an existing name
 */
export function createLockFile(path: string, content: string): boolean {
  const mine = privateName(path);
  try {
    writeFileSync(mine, content);
    try {
      linkSync(mine, path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') return false;
      if (!NO_LINKS.has(code)) throw err;
      try {
        writeFileSync(path, content, { flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      }
    }
    return true;
  } finally {
    rmSync(mine, { force: true });
  }
}

/** The text of lock file `path`, or null when there is none. @throws for errors other than a missing file */
export function readLockText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Takeover files of a lock text are `<lock>.takeover-<16 hex digits of its SHA-256>.<level>`. */
function takeoverName(path: string, text: string, level: number): string {
  return `${path}.takeover-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.${level}`;
}

/** More takeover levels than this (that many takeovers killed half-way) are not tried. */
const TAKEOVER_LEVELS = 16;

/** Options of {@link removeStaleLock}. */
export interface RemoveStaleOptions {
  /**
   * The lease of the lock being removed (ms; default {@link DEFAULT_LEASE_MS}, for a lock that
   * declares none): a takeover file whose creator cannot be checked by its pid counts as abandoned
   * once seen unchanged for this long, and a taker removes the lock only within half of it (see
   * the module notes).
   */
  leaseMs?: number;
  /** The clock of the sightings of takeover files and of the taker's own time (monotonic ms; default `performance.now`), for tests. */
  clock?: () => number;
}

/** The keys of {@link RemoveStaleOptions}. */
const REMOVE_STALE_KEYS = ['leaseMs', 'clock'];

/**
 * Removes lock file `path`, read as holding `text`, whose owner has ended, unless it holds
 * something else by now (see the module notes: at most one process removes a given stale lock,
 * and never a lock that replaced it).
 * @returns `removed` (this call removed it), `changed` (it is gone or holds another text: look
 * again) or `busy` (another process is removing it right now, or left a takeover file not yet
 * seen unchanged for the lease: look again shortly)
 * @throws CinderArgumentError for an unknown option key or a lease out of {@link LEASE_MS_RANGE}
 */
export function removeStaleLock(path: string, text: string, options: RemoveStaleOptions = {}): 'removed' | 'changed' | 'busy' {
  checkOptionKeys('options', options, REMOVE_STALE_KEYS);
  const leaseMs = options.leaseMs === undefined ? DEFAULT_LEASE_MS : checkLeaseMs('leaseMs', options.leaseMs);
  return removeStale(path, text, leaseMs, options.clock ?? monotonic).outcome;
}

/**
 * {@link removeStaleLock}, with, for `busy` because of a takeover file that cannot be checked by
 * its pid, how many more ms it must be seen unchanged before it is passed by (0 otherwise).
 */
function removeStale(path: string, text: string, leaseMs: number, clock: () => number): { outcome: 'removed' | 'changed' | 'busy'; pendingMs: number } {
  const r = underTakeover(path, text, leaseMs, clock, () => rmSync(path, { force: true }), true);
  return r.outcome === 'done' ? { outcome: 'removed', pendingMs: 0 } : r;
}

/**
 * Runs `act` holding a takeover of lock `path`'s text `text` (the lock of an ended owner), once
 * the lock has been re-read to hold `text` and only within half the lease since this call began
 * creating the takeover file (see the module notes): nobody else can remove the lock meanwhile.
 * `removes`: `act` removes the lock (the takeover files of `text` then go); otherwise the takeover
 * file is removed after `act`, as if it had never been taken.
 * @returns `done` with what `act` returned, `changed` (the lock is gone or holds another text) or
 * `busy` (another live process holds a takeover of it, with how many more ms one whose creator
 * cannot be checked by its pid must be seen unchanged to be passed by; or this call was too slow)
 */
function underTakeover<R>(path: string, text: string, leaseMs: number, clock: () => number, act: () => R, removes: boolean): { outcome: 'done'; value: R } | { outcome: 'changed' | 'busy'; pendingMs: number } {
  const me = hostPidText();
  for (let level = 0; level < TAKEOVER_LEVELS; level++) {
    const marker = takeoverName(path, text, level);
    const start = clock();
    if (createLockFile(marker, me)) {
      // another taker passes this takeover file by once it has seen it unchanged for the lease (by
      // its clock, from a first sighting after `start`): until half of that has passed by this
      // process's clock, nobody has, so this process alone may act on it
      const mine = (): boolean => clock() - start < leaseMs / 2;
      let gone = false;
      try {
        if (readLockText(path) !== text) {
          gone = true;
          return { outcome: 'changed', pendingMs: 0 };
        }
        if (!mine()) return { outcome: 'busy', pendingMs: 0 }; // too slow: it may have been passed by, leave it
        const value = act();
        if (removes) gone = true;
        return { outcome: 'done', value };
      } finally {
        if (gone) {
          // the lock no longer holds `text`, for good: the takeover files of it have done their work
          for (let l = 0; l <= level; l++) {
            rmSync(takeoverName(path, text, l), { force: true });
            sightings.delete(takeoverName(path, text, l));
          }
        } else if (mine()) rmSync(marker, { force: true }); // (done, or an I/O error) as if this call had never taken it
      }
    }
    const holder = readLockText(marker);
    if (holder === null) return { outcome: 'changed', pendingMs: 0 }; // takeover files go only after the lock has changed
    // a takeover takes milliseconds: one whose creator cannot be checked by its pid (another
    // host's, a stopped process's, or one that names nobody) is abandoned once seen unchanged for the lease
    const owner = hostPidOwner(holder);
    const live = owner === null ? leaseLiveness(marker, holder, leaseMs, clock) : lockLiveness(marker, holder, { host: owner.host, pid: owner.pid, leaseMs }, clock);
    if (live.alive) return { outcome: 'busy', pendingMs: live.leasePendingMs };
    // its creator was killed half-way (or abandoned it): the next level decides
  }
  return { outcome: 'busy', pendingMs: 0 };
}

/** Options of {@link whileLockUnchanged}. */
export interface WhileLockUnchangedOptions {
  /**
   * The lease (ms; default {@link DEFAULT_LEASE_MS}) of the lock read as `seen` (what it declares;
   * the default for one that declares none), or, for `seen` null, the one `content` declares: the
   * action runs only within half of it since the call began (see the module notes).
   */
  leaseMs?: number;
  /** The taker's clock (monotonic ms; default `performance.now`), for tests. */
  clock?: () => number;
}

/**
 * Runs `action` only while lock file `path` is still as the caller found it, and so that no
 * process can take the lock until `action` is done: for a caller that acts on what it saw of a
 * folder the lock guards (a summary saying `running` while no live process holds the lock) and
 * must not act over what a new holder writes once it has the lock.
 * - `seen` a text (a lock whose owner has ended, judged so by the caller, or one naming nobody):
 *   this call takes a takeover of it (as {@link removeStaleLock} does, without removing the lock)
 *   and re-reads the lock; nobody can remove a lock of `seen` meanwhile, so no one can take it.
 * - `seen` null (no lock): this call creates the lock with `content` (a text naming this process,
 *   declaring lease `leaseMs` if the lock's readers judge leases) and removes it after `action`; a
 *   process that tries to take it meanwhile finds it held (by this live process).
 *
 * Either way `action` runs only within half the lease since this call began (a taker frozen for
 * longer may have been judged dead meanwhile), and the residual window of the module notes — a
 * process frozen for longer than the lease in the middle of `action` — remains.
 * @returns `{ done: true, value }` with what `action` returned, or `{ done: false, why }`:
 * `changed` (the lock is not as seen: look again) or `busy` (another live process is taking it
 * over right now, or this call was too slow: look again shortly)
 * @throws CinderArgumentError for an unknown option key or a lease out of {@link LEASE_MS_RANGE}
 * @throws the file system's error when the lock or its takeover file cannot be created or read
 */
export function whileLockUnchanged<R>(path: string, seen: string | null, content: string, action: () => R, options: WhileLockUnchangedOptions = {}): { done: true; value: R } | { done: false; why: 'changed' | 'busy' } {
  checkOptionKeys('options', options, ['leaseMs', 'clock']);
  const leaseMs = options.leaseMs === undefined ? DEFAULT_LEASE_MS : checkLeaseMs('leaseMs', options.leaseMs);
  const clock = options.clock ?? monotonic;
  if (seen !== null) {
    const r = underTakeover(path, seen, leaseMs, clock, action, false);
    return r.outcome === 'done' ? { done: true, value: r.value } : { done: false, why: r.outcome };
  }
  const start = clock();
  if (!createLockFile(path, content)) return { done: false, why: 'changed' };
  sightings.delete(path);
  try {
    // (a reader judges this lock by its lease only from a first sighting after `start`)
    if (clock() - start >= leaseMs / 2) return { done: false, why: 'busy' };
    return { done: true, value: action() };
  } finally {
    releaseLockFile(path, content);
  }
}

/** What a look at a lock found ({@link lookAtLock}). */
export interface LockLook extends LockLiveness {
  /** The lock's text. */
  text: string;
  /** The owner it names (null when it names none). */
  owner: LockOwner | null;
}

/** Options of {@link lookAtLock}. */
export interface LookAtLockOptions {
  /** How a lock whose text names no owner counts: held by a live process, or dead. */
  unreadable: 'held' | 'dead';
  /** Watch a lease lock not judged yet (blocking, for up to its lease: {@link watchLockLiveness}) until it is. */
  watch?: boolean;
  /** The clock of lease sightings (monotonic ms; default `performance.now`), for tests. */
  clock?: () => number;
}

/**
 * Looks at lock file `path`: its text, the owner it names (`ownerOf`) and whether that owner counts
 * as live ({@link lockLiveness}; with `watch`, {@link watchLockLiveness}). A lock replaced while
 * being watched is looked at again (10 looks at most; then the last one is judged by its owner's
 * pid alone, {@link lockOwnerAlive}).
 * @returns what it found, or null when there is no lock
 * @throws CinderArgumentError for an unknown option key
 * @throws the file system's error for a lock that cannot be read
 */
export function lookAtLock(path: string, ownerOf: (text: string) => LockOwner | null, options: LookAtLockOptions): LockLook | null {
  checkOptionKeys('options', options, ['unreadable', 'watch', 'clock']);
  const clock = options.clock ?? monotonic;
  let last: LockLook | null = null;
  for (let look = 0; look < 10; look++) {
    const text = readLockText(path);
    if (text === null) return null;
    const owner = ownerOf(text);
    if (owner === null) return { text, owner, alive: options.unreadable === 'held', leasePendingMs: 0 };
    const live = options.watch === true ? watchLockLiveness(path, text, owner, clock) : lockLiveness(path, text, owner, clock);
    if (live !== null) return { text, owner, ...live };
    last = { text, owner, alive: lockOwnerAlive(owner), leasePendingMs: 0 }; // replaced meanwhile: look again
  }
  return last;
}

/** What one {@link tryLock} found. */
export type LockAttempt =
  | { taken: true }
  | {
      taken: false;
      /** The text of the lock that is there. */
      text: string;
      /** Its owner (null when the text does not name one). */
      owner: LockOwner | null;
      /** Whether the owner runs (a text naming no owner counts as `unreadable` says). */
      alive: boolean;
      /**
       * Only for a live lease lock not yet seen refreshed: how many more ms it must stay
       * unchanged before it counts as dead ({@link LockLiveness.leasePendingMs}).
       */
      leasePendingMs?: number;
    };

/** Options of {@link tryLock}. */
export interface TryLockOptions {
  /** Remove a lock whose owner has ended (race-free, {@link removeStaleLock}) and take it. */
  takeOverDead: boolean;
  /** How a lock whose text names no owner counts: held by a live process, or dead. */
  unreadable: 'held' | 'dead';
  /**
   * With `takeOverDead`: when the lock is a lease lock this process has not watched for long
   * enough to tell (see the module notes), block (sleeping, polls of at most 250 ms) until it is
   * seen refreshed (then it is live: refused) or unchanged for its lease (then it is taken over) —
   * at most the holder's lease; likewise, when a dead lock's takeover file cannot be checked by
   * its creator's pid (another host's), wait until it is seen unchanged for the lease, then pass it
   * by. The event loop is blocked meanwhile, so the wait itself refreshes
   * the locks this process holds ({@link holdLock}) when due. Default false: such a lock counts as
   * live at once (and such a takeover file as busy).
   */
  waitOutLease?: boolean;
  /** The clock of lease sightings (monotonic ms; default `performance.now`), for tests. */
  clock?: () => number;
}

/** The keys of {@link TryLockOptions}. */
const TRY_LOCK_KEYS = ['takeOverDead', 'unreadable', 'waitOutLease', 'clock'];

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * One attempt to take lock file `path` with `content` (which must name this process through
 * `ownerOf`, and differ from the text of every other lock that may be there).
 * @returns `{ taken: true }`, or what holds it: a live owner, or a dead one not taken over
 * @throws the file system's error when the lock cannot be created or read
 */
export function tryLock(path: string, content: string, ownerOf: (text: string) => LockOwner | null, options: TryLockOptions): LockAttempt {
  checkOptionKeys('options', options, TRY_LOCK_KEYS);
  const clock = options.clock ?? monotonic;
  const wait = options.waitOutLease === true && options.takeOverDead;
  let last: Extract<LockAttempt, { taken: false }> | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (createLockFile(path, content)) {
      sightings.delete(path);
      return { taken: true };
    }
    const text = readLockText(path);
    if (text === null) continue; // released meanwhile
    const owner = ownerOf(text);
    let live: LockLiveness = { alive: owner === null && options.unreadable === 'held', leasePendingMs: 0 };
    if (owner !== null) {
      live = lockLiveness(path, text, owner, clock);
      if (wait && live.alive && live.leasePendingMs > 0) {
        // a lease lock not seen refreshed yet: watch it until it tells (refreshed, or not for its lease)
        const judged = watchLockLiveness(path, text, owner, clock);
        if (judged === null) continue; // released or replaced meanwhile: look again
        live = judged;
      }
    }
    const alive = live.alive;
    last = { taken: false, text, owner, alive, ...(live.leasePendingMs > 0 ? { leasePendingMs: live.leasePendingMs } : {}) };
    if (alive || !options.takeOverDead) return last;
    // another process removing this stale lock right now takes microseconds (unless it is killed)
    const leaseMs = owner?.leaseMs ?? DEFAULT_LEASE_MS;
    let r = removeStale(path, text, leaseMs, clock);
    // a takeover file another host (or a stopped process) left: watch it until it is abandoned
    while (wait && r.outcome === 'busy' && r.pendingMs > 0) {
      sleepRefreshing(Math.min(r.pendingMs, 250));
      if (readLockText(path) !== text) break; // look again
      r = removeStale(path, text, leaseMs, clock);
    }
    if (r.outcome === 'busy') sleepSync(1);
  }
  return last ? { ...last, alive: true } : { taken: false, text: '', owner: null, alive: true };
}

/**
 * Takes lock file `path` with `content` (see {@link tryLock}; a dead owner's lock is taken over),
 * waiting while a live process holds it: one attempt every `pollMs` until `timeoutMs` have passed,
 * timed by the monotonic clock (`performance.now`), so that a step of the wall clock (NTP, a
 * suspended machine, a user setting the date) neither ends the wait early nor stretches it.
 * @returns `{ taken: true }`, or the lock that held it at the end of the wait
 */
export async function waitForLock(path: string, content: string, ownerOf: (text: string) => LockOwner | null, options: { timeoutMs: number; pollMs: number; unreadable: 'held' | 'dead' }): Promise<LockAttempt> {
  const end = monotonic() + options.timeoutMs;
  for (;;) {
    const got = tryLock(path, content, ownerOf, { takeOverDead: true, unreadable: options.unreadable });
    if (got.taken || monotonic() >= end) return got;
    await sleep(Math.min(options.pollMs, Math.max(1, Math.ceil(end - monotonic()))));
  }
}

/** Removes lock file `path` if it still holds `content` (this process's lock). */
export function releaseLockFile(path: string, content: string): void {
  if (readLockText(path) === content) rmSync(path, { force: true });
}

/**
 * Removes what killed processes left beside lock file `path`: private files of lock creation
 * whose process has ended on this host, takeover files whose creator has ended, and takeover files
 * of lock texts other than the one `path` holds now, whoever created them (another host's, whose
 * creator cannot be checked from here). Call it only while holding the lock (a stale lock's
 * takeover files matter only while that lock is there).
 */
export function removeLockLeftovers(path: string): void {
  const dir = dirname(path);
  const lock = basename(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  let held: string | null = null;
  try {
    held = readLockText(path);
  } catch {
    // unreadable: only files of ended creators go
  }
  // The takeover files of the text the lock holds now (this caller's own lock: a taker that judges
  // this holder dead may be creating one right now) are removed only when their creator has ended,
  // as are all takeover files when the lock cannot be read. Those of any other text T are removed whoever created them: the lock no longer holds T, and T
  // never comes back (a lock's text is unique to it: see the module notes), so a takeover of T
  // can only ever find the lock changed. A taker of T that creates or holds such a file re-reads
  // the lock, finds something else, and removes nothing but T's takeover files (force: fine if
  // gone); one that passed that re-read before T was removed is the residual window of the module
  // notes, which its file being there or not does not change; one that finds its file gone and
  // creates it again (level 0) likewise finds the lock changed. Nobody can pass such a file by to
  // act on T either, since acting needs the lock to hold T.
  const own = held === null ? null : basename(takeoverName(path, held, 0)).replace(/\.0$/, '.');
  for (const name of names) {
    if (!name.startsWith(`${lock}.`)) continue;
    const rest = name.slice(lock.length + 1);
    const priv = /(?:^|\.)new-(\d+)(?:\.\d+)?-(.+)$/.exec(rest); // (a name without the thread id: an older Cinder's)
    let dead = false;
    if (priv) dead = !lockOwnerAlive({ pid: Number(priv[1]), host: priv[2]! });
    else if (/^takeover-[0-9a-f]{16}\.\d+$/.test(rest)) {
      if (own !== null && !name.startsWith(own)) dead = true; // of a text the lock no longer holds
      else {
        const owner = hostPidOwner(readLockText(join(dir, name)) ?? '');
        dead = owner !== null && !lockOwnerAlive(owner);
      }
    }
    if (dead) {
      rmSync(join(dir, name), { force: true });
      sightings.delete(join(dir, name));
    }
  }
}
