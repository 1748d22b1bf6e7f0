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
 *   (its text is unique to it, so it never comes back).
 *
 * A lock held on another host is taken for live (its process cannot be checked from here).
 * @module
 */
import { createHash } from 'node:crypto';
import { linkSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { processAlive } from './process-alive.js';

/** Who holds a lock. */
export interface LockOwner {
  /** Host name of the owner. */
  host: string;
  /** Process id of the owner. */
  pid: number;
}

/** True when the lock owner's process still runs (on another host: assumed to). */
export function lockOwnerAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  return owner.pid === process.pid || processAlive(owner.pid);
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

/**
 * Removes lock file `path`, read as holding `text`, whose owner has ended, unless it holds
 * something else by now (see the module notes: at most one process removes a given stale lock,
 * and never a lock that replaced it).
 * @returns `removed` (this call removed it), `changed` (it is gone or holds another text: look
 * again) or `busy` (another live process is removing it right now: look again shortly)
 */
export function removeStaleLock(path: string, text: string): 'removed' | 'changed' | 'busy' {
  const me = hostPidText();
  for (let level = 0; level < TAKEOVER_LEVELS; level++) {
    const marker = takeoverName(path, text, level);
    if (createLockFile(marker, me)) {
      try {
        if (readLockText(path) !== text) return 'changed';
        rmSync(path, { force: true });
        return 'removed';
      } finally {
        // the lock no longer holds `text`, for good: the takeover files of it have done their work
        for (let l = 0; l <= level; l++) rmSync(takeoverName(path, text, l), { force: true });
      }
    }
    const holder = readLockText(marker);
    if (holder === null) return 'changed'; // takeover files go only after the lock has changed
    const owner = hostPidOwner(holder);
    if (owner === null || lockOwnerAlive(owner)) return 'busy';
    // its creator was killed half-way: the next level decides
  }
  return 'busy';
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
    };

/** Options of {@link tryLock}. */
export interface TryLockOptions {
  /** Remove a lock whose owner has ended (race-free, {@link removeStaleLock}) and take it. */
  takeOverDead: boolean;
  /** How a lock whose text names no owner counts: held by a live process, or dead. */
  unreadable: 'held' | 'dead';
}

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
  let last: Extract<LockAttempt, { taken: false }> | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (createLockFile(path, content)) return { taken: true };
    const text = readLockText(path);
    if (text === null) continue; // released meanwhile
    const owner = ownerOf(text);
    const alive = owner === null ? options.unreadable === 'held' : lockOwnerAlive(owner);
    last = { taken: false, text, owner, alive };
    if (alive || !options.takeOverDead) return last;
    // another process removing this stale lock right now takes microseconds (unless it is killed)
    if (removeStaleLock(path, text) === 'busy') sleepSync(1);
  }
  return last ? { ...last, alive: true } : { taken: false, text: '', owner: null, alive: true };
}

/**
 * Takes lock file `path` with `content` (see {@link tryLock}; a dead owner's lock is taken over),
 * waiting while a live process holds it: one attempt every `pollMs` until `timeoutMs` have passed.
 * @returns `{ taken: true }`, or the lock that held it at the end of the wait
 */
export async function waitForLock(path: string, content: string, ownerOf: (text: string) => LockOwner | null, options: { timeoutMs: number; pollMs: number; unreadable: 'held' | 'dead' }): Promise<LockAttempt> {
  const end = Date.now() + options.timeoutMs;
  for (;;) {
    const got = tryLock(path, content, ownerOf, { takeOverDead: true, unreadable: options.unreadable });
    if (got.taken || Date.now() >= end) return got;
    await sleep(Math.min(options.pollMs, Math.max(1, end - Date.now())));
  }
}

/** Removes lock file `path` if it still holds `content` (this process's lock). */
export function releaseLockFile(path: string, content: string): void {
  if (readLockText(path) === content) rmSync(path, { force: true });
}

/**
 * Removes what killed processes left beside lock file `path`: private files of lock creation
 * whose process has ended on this host, and takeover files whose creator has ended. Call it only
 * while holding the lock (a stale lock's takeover files matter only while that lock is there).
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
  for (const name of names) {
    if (!name.startsWith(`${lock}.`)) continue;
    const rest = name.slice(lock.length + 1);
    const priv = /(?:^|\.)new-(\d+)(?:\.\d+)?-(.+)$/.exec(rest); // (a name without the thread id: an older Cinder's)
    let dead = false;
    if (priv) dead = !lockOwnerAlive({ pid: Number(priv[1]), host: priv[2]! });
    else if (/^takeover-[0-9a-f]{16}\.\d+$/.test(rest)) {
      const owner = hostPidOwner(readLockText(join(dir, name)) ?? '');
      dead = owner !== null && !lockOwnerAlive(owner);
    }
    if (dead) rmSync(join(dir, name), { force: true });
  }
}
