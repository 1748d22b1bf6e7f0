/**
 * Atomic file writes: the content goes to a temporary file in the same folder, is flushed to disk,
 * then renamed over the target, and the folder is flushed so that the rename itself survives a
 * power loss. A reader (or a run killed half-way) sees either the old file or the new one, never a
 * half-written file.
 *
 * Write guards ({@link registerWriteGuard}): a process may declare that writes into a folder must
 * be checked, e.g. a run folder whose lock it may lose to another process (`src/cli/run-folder.ts`
 * registers one that throws the `RunLockLostError` once the folder's lock was found taken over).
 * Every writer of this module and of the other files of `src/io` ({@link writeFileAtomic},
 * {@link writeFileAtomicSync}, {@link writeJsonAtomic}, {@link AtomicFileWriter}, `writeNpz`, the
 * tensor folder saves of `tensors.ts` (`saveTensors`, `saveModule`, `Network.save`) and
 * `NpyAppendWriter`) asks the guards of every registered folder that contains its target — the
 * folder itself or any folder below it, compared path component by path component on the resolved
 * paths (`/a/run` guards `/a/run/x` and `/a/run/b/x`, never `/a/run2/x`; symbolic links are not
 * followed) — once before it creates anything, and again right before its point of no return: the
 * rename of a temporary file over its target (run synchronously right after the guards, no other
 * task in between), or a write into an existing file. A guard that throws refuses the write: the
 * writer removes what it created (its temporary file; for a tensor folder, the weights files it
 * added that no manifest names), renames nothing, leaves the target and the folder's other files as
 * they were, and rethrows the guard's error. With no guard registered a write costs one check of
 * an empty map; with some, one map lookup per folder above the target and no file system access of
 * its own (the guards' own checks may read files). The guards are those registered in the same
 * thread (a worker thread has its own, empty, registry); files written by other means
 * (`fs.writeFileSync`, another library) are not guarded.
 *
 * A guard may also follow the writes under its folder ({@link WriteGuardHooks.begin}: a run folder
 * waits for them at its end). Each write of these writers is then begun with it — from its start
 * to its end (landed, refused or failed): a {@link writeFileAtomic}, `writeNpz`, a tensor folder
 * save (all its weights files and its manifest), the commit of an {@link AtomicFileWriter} — and
 * such a guard keeps being asked at that write's later checks even once it is unregistered, as it
 * is at every later change of an `NpyAppendWriter` opened while it was registered: a write started
 * while the guard watched never lands unasked after it stopped watching.
 * @module
 */
import { accessSync, closeSync, constants as fsConstants, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../core/errors.js';

const PSEUDO_FS = new Set([0x9fa0 /* proc */, 0x62656572 /* sysfs */, 0x64626720 /* debugfs */, 0x1cd1 /* devpts */, 0x74726163 /* tracefs */, 0x27e0eb /* cgroup */, 0x63677270 /* cgroup2 */]);

/**
 * Creates folder `dir` (and missing parents) after checking, without creating anything, that the
 * nearest existing ancestor is a writable directory on a real file system (not /proc, /sys and
 * the like, where Node's recursive mkdir never returns). `param` names the argument in errors.
 * @throws CinderArgumentError naming `param` when `dir` cannot be created or written
 */
export function ensureWritableDirSync(dir: string, param = 'dir'): void {
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError(param, dir, 'a directory path');
  const target = resolve(dir);
  const missing: string[] = [];
  let p = target;
  for (;;) {
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw new CinderArgumentError(param, dir, 'a folder path (a part of it is a file)');
      if (code !== 'ENOENT') throw new CinderArgumentError(param, dir, `a path that can be inspected (${(err as Error).message})`);
      const up = dirname(p);
      if (up === p) throw new CinderArgumentError(param, dir, 'a path under an existing directory');
      missing.push(p);
      p = up;
      continue;
    }
    if (!st.isDirectory()) throw new CinderArgumentError(param, dir, `a directory (${p} is a file)`);
    break;
  }
  try {
    const fs = statfsSync(p);
    if (PSEUDO_FS.has(Number(fs.type))) throw new CinderArgumentError(param, dir, `a folder on a regular file system (${p} is a kernel pseudo file system)`);
  } catch (err) {
    if (err instanceof CinderArgumentError) throw err;
  }
  try {
    accessSync(p, fsConstants.W_OK | fsConstants.X_OK);
  } catch {
    throw new CinderArgumentError(param, dir, `a writable location (${p} is not writable)`);
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CinderArgumentError(param, dir, `a folder that can be created (${(err as Error).message})`);
    }
  }
}

/** Promise form of {@link ensureWritableDirSync} (the checks are quick and synchronous). */
export async function ensureWritableDir(dir: string, param = 'dir'): Promise<void> {
  ensureWritableDirSync(dir, param);
}

/**
 * A write guard: called with the absolute (resolved) path of a file about to be written into its
 * folder; throws to refuse the write (the error is passed on to the writer's caller).
 */
export type WriteGuard = (path: string) => void;

/** Hooks of a write guard that follows the writes under its folder (see {@link registerWriteGuard}). */
export interface WriteGuardHooks {
  /**
   * Called when a write under the folder starts, once the guards let it start (and, for an
   * {@link AtomicFileWriter}, when its commit starts), with the absolute path of its target;
   * returns the function called once when that write has ended (landed, refused or failed).
   * Throwing refuses the write as the guard does. A write so begun asks the guard at its later
   * checks even once the guard is unregistered.
   */
  begin(path: string): () => void;
}

/** The keys of {@link WriteGuardHooks}: other keys are refused ("invalid options key"). */
export const WRITE_GUARD_HOOK_KEYS = optionKeys<WriteGuardHooks>()(['begin']);

/** One registration: its check and, for a guard that follows its writes, its begin hook. */
interface GuardEntry {
  check: WriteGuard;
  begin?: (path: string) => () => void;
}

/** The registered write guards by resolved folder (each registration its own entry). */
const writeGuards = new Map<string, Set<GuardEntry>>();

/**
 * Registers `check` as a write guard of folder `dir` (see the module notes): from now on every
 * atomic writer of `src/io` asks it before writing a file in `dir` or below it, and refuses the
 * write when it throws. Several guards may watch one folder, or nested folders: all of them are
 * asked. With `options.begin` the guard also follows the writes under the folder (see
 * {@link WriteGuardHooks}). Returns the function that unregisters this registration (calling it
 * again does nothing).
 * @throws CinderArgumentError for an empty `dir`, a `check` that is not a function, or options
 * that are not `{ begin: function }`
 */
export function registerWriteGuard(dir: string, check: WriteGuard, options?: WriteGuardHooks): () => void {
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError('dir', dir, 'a directory path');
  if (typeof check !== 'function') throw new CinderArgumentError('check', check, 'a function (path) => void that throws to refuse a write');
  const hooks = options;
  if (hooks !== undefined) {
    if (hooks === null || typeof hooks !== 'object') throw new CinderArgumentError('options', hooks, '{ begin: (path) => end }');
    checkOptionKeys('options', hooks, WRITE_GUARD_HOOK_KEYS);
    if (typeof hooks.begin !== 'function') throw new CinderArgumentError('options.begin', hooks.begin, 'a function (path) => () => void');
  }
  const key = resolve(dir);
  const entry: GuardEntry = hooks ? { check, begin: hooks.begin } : { check };
  let set = writeGuards.get(key);
  if (set === undefined) writeGuards.set(key, (set = new Set()));
  set.add(entry);
  return () => {
    const now = writeGuards.get(key);
    if (now === undefined || !now.delete(entry)) return;
    if (now.size === 0) writeGuards.delete(key);
  };
}

/**
 * Asks the write guards of every registered folder that contains `path` (the folder itself or one
 * above it: see the module notes) about a write of `path`; the first that throws ends the check
 * with its error. Returns true when at least one guard was asked (the caller then renames
 * synchronously right after, so that no other task runs between the check and the write).
 * Without any registered guard: false, at the cost of one map size check.
 */
export function checkWriteGuards(path: string): boolean {
  const guards = guardsOf(path);
  if (guards.length === 0) return false;
  const target = resolve(path);
  for (const e of guards) e.check(target);
  return true;
}

/** The registered guards of every folder containing `path` (innermost first); none: no path work. */
function guardsOf(path: string): GuardEntry[] {
  if (writeGuards.size === 0) return [];
  const out: GuardEntry[] = [];
  for (let d = resolve(path); ; ) {
    const set = writeGuards.get(d);
    if (set !== undefined) out.push(...set);
    const up = dirname(d);
    if (up === d) return out;
    d = up;
  }
}

/** One write into guarded folders, from its start to its end (see {@link startGuardedWrite}). */
export interface GuardedWrite {
  /**
   * Asks the guards about the write of `path` (default: the path the write started with) again,
   * right before a point of no return: those registered now for `path`, and those that follow
   * writes ({@link WriteGuardHooks}) registered when the write started (or was tracked), even if
   * unregistered since. The first that throws ends the check with its error. True when any was asked.
   */
  check(path?: string): boolean;
  /** Begins the write with the guards that follow writes (their `begin` hooks; once): one that throws refuses it. */
  track(): void;
  /** The write has ended (landed, refused or failed): the guards it was begun with are told, once. */
  end(): void;
}

/**
 * Starts a write of `path` into guarded folders: asks the guards registered now (see
 * {@link checkWriteGuards}; one that throws refuses the write, nothing begun) and, with `track`
 * (default), begins it with those that follow writes ({@link GuardedWrite.track}). The writers of
 * `src/io` call it before they create anything, {@link GuardedWrite.check} right before their
 * point of no return, and {@link GuardedWrite.end} once done, whatever happened.
 */
export function startGuardedWrite(path: string, track = true): GuardedWrite {
  const target = resolve(path);
  const now = guardsOf(target);
  for (const e of now) e.check(target);
  const followed = now.filter((e) => e.begin !== undefined);
  let ends: Array<() => void> | null = null;
  const w: GuardedWrite = {
    check(p = target) {
      const t = resolve(p);
      const current = guardsOf(t);
      for (const e of current) e.check(t);
      let asked = current.length > 0;
      for (const e of followed) {
        if (current.includes(e)) continue;
        asked = true;
        e.check(t);
      }
      return asked;
    },
    track() {
      if (ends !== null) return;
      ends = [];
      // (guards that follow writes registered since the start are followed from now on)
      for (const e of guardsOf(target)) if (e.begin !== undefined && !followed.includes(e)) followed.push(e);
      try {
        for (const e of followed) ends.push(e.begin!(target));
      } catch (err) {
        w.end();
        throw err;
      }
    },
    end() {
      const done = ends ?? [];
      ends = [];
      for (const end of done) end();
    },
  };
  if (track) w.track();
  return w;
}

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Asked just before the final rename: returning false drops the write (e.g. the run was closed meanwhile). */
  commit?: () => boolean;
}

/** The keys of {@link AtomicWriteOptions}: other keys are refused ("invalid options key"). */
export const ATOMIC_WRITE_OPTION_KEYS = optionKeys<AtomicWriteOptions>()(['commit']);

let counter = 0;

/** Largest single write (the file system writes at most 2 GiB − 1 bytes at once). */
const WRITE_CHUNK = 1 << 30;

/** Writes all of `bytes` to `fh` at its current position, in calls of at most 1 GiB. */
async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length; ) {
    off += (await fh.write(bytes, off, Math.min(WRITE_CHUNK, bytes.length - off))).bytesWritten;
  }
}

/**
 * Temporary file of a write to `path`: `.<name>.<pid>.<threadId>.<counter>.tmp` in its folder.
 * Worker threads share the process id and each has its own counter, so the thread id keeps two
 * threads writing one file at once from sharing (truncating, renaming away) one temporary file.
 * (Cinder before this wrote `.<name>.<pid>.<counter>.tmp`; both start with the pid.)
 */
function tempPath(path: string): string {
  counter = (counter + 1) % 1_000_000;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${threadId}.${counter}.tmp`);
}

/** Errors of a directory fsync on platforms and file systems that refuse it (Windows, some FUSE mounts, a folder without read permission). */
const DIR_SYNC_REFUSED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF']);

/** Flushes folder `dir` (its entries: a rename into it) to disk; best effort where that is refused. */
async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    if (!DIR_SYNC_REFUSED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await fh?.close();
  }
}

/** Synchronous form of {@link syncDir}. */
function syncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    if (!DIR_SYNC_REFUSED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The bytes of `content` (a string as UTF-8) to write to `path` (a non-empty path, checked here
 * too). Anything but a string or a Uint8Array is refused:
 * its `length` is not a byte count (a Float32Array's is a quarter of it, an ArrayBuffer has none),
 * so writing it would silently replace the target with a truncated or empty file.
 */
function checkedBytes(path: unknown, content: string | Uint8Array): Uint8Array {
  if (typeof path !== 'string' || path === '') throw new CinderArgumentError('path', path, 'a file path');
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (content instanceof Uint8Array) return content;
  throw new CinderArgumentError('content', content, 'a string or a Uint8Array (view other data as bytes: new Uint8Array(a.buffer, a.byteOffset, a.byteLength))');
}

/**
 * Writes `content` to `path` atomically (temporary file + fsync + rename + fsync of the folder,
 * the last skipped where the platform refuses it). Creates missing parent folders. On failure the
 * temporary file is removed and the target is left as it was. The write guards of the folders
 * containing `path` ({@link registerWriteGuard}) are asked before anything is created and again
 * after `options.commit`, right before the rename; one that throws fails the write the same way.
 * @throws CinderArgumentError, before anything is created, for an empty path or content that is
 * neither a string nor a Uint8Array
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  checkOptionKeys('options', options, ATOMIC_WRITE_OPTION_KEYS);
  const bytes = checkedBytes(path, content); // checked before anything is created
  const guard = startGuardedWrite(path);
  try {
    if (!existsSync(dirname(path))) ensureWritableDirSync(dirname(path));
    const tmp = tempPath(path);
    try {
      const fh = await open(tmp, 'w');
      try {
        await writeAll(fh, bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (options.commit && !options.commit()) {
        await rm(tmp, { force: true });
        return;
      }
      const guarded = guard.check(); // a guard that throws: temporary file removed below
      // with a commit check (or write guards) the rename runs on the main thread right after it, so
      // no synchronous write in between (a process's last word) can be overtaken by this one
      if (options.commit || guarded) renameSync(tmp, path);
      else await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await syncDir(dirname(path));
  } finally {
    guard.end();
  }
}

/** Synchronous form of {@link writeFileAtomic} (for the last write before the process exits). */
export function writeFileAtomicSync(path: string, content: string | Uint8Array): void {
  const bytes = checkedBytes(path, content); // checked before anything is created
  const guard = startGuardedWrite(path);
  try {
    if (!existsSync(dirname(path))) ensureWritableDirSync(dirname(path));
    const tmp = tempPath(path);
    try {
      const fd = openSync(tmp, 'w');
      try {
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off, Math.min(WRITE_CHUNK, bytes.length - off));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      guard.check();
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    syncDirSync(dirname(path));
  } finally {
    guard.end();
  }
}

/**
 * A file written piece by piece and then put in place atomically, for content too large to hold
 * in memory at once: the pieces go to a temporary file `.<name>.<pid>.<threadId>.<counter>.tmp`
 * next to `path` ({@link AtomicFileWriter.open}), and {@link AtomicFileWriter.commit} flushes it
 * to disk, renames it over its target (which may be named only then, e.g. by the content's
 * checksum) and flushes the folder; {@link AtomicFileWriter.abort} removes it. Until the commit
 * the target is left as it was.
 */
export class AtomicFileWriter {
  /** Bytes written so far. */
  bytesWritten = 0;
  private constructor(
    private readonly fh: FileHandle,
    /** The temporary file. */
    readonly tempPath: string,
    /** The write as the guards see it (begun with those that follow writes only at the commit). */
    private readonly guard: GuardedWrite,
    /** True when the writer started {@link guard} itself (and so ends it). */
    private readonly ownsGuard: boolean,
  ) {}

  /**
   * Opens the temporary file of a write to `path` (creating missing parent folders), after asking
   * the write guards of `path` ({@link startGuardedWrite}: one that throws refuses the open). The
   * guards that follow writes are asked again at the commit even if unregistered meanwhile; the
   * write is begun with them only when the commit starts (a writer never committed nor aborted
   * keeps nobody waiting). With `guard`, the file is a part of that larger write (a writer of
   * `src/io` made of several files, which has asked its guards for it): the guards are asked
   * through it ({@link GuardedWrite.check}) at the commit, and the writer neither begins nor ends it.
   * @throws CinderArgumentError for an empty path or a folder that cannot be created
   */
  static async open(path: string, guard?: GuardedWrite): Promise<AtomicFileWriter> {
    if (typeof path !== 'string' || path === '') throw new CinderArgumentError('path', path, 'a file path');
    const g = guard ?? startGuardedWrite(path, false);
    if (!existsSync(dirname(path))) ensureWritableDirSync(dirname(path));
    const tmp = tempPath(path);
    return new AtomicFileWriter(await open(tmp, 'w'), tmp, g, guard === undefined);
  }

  /** Appends `bytes` (in writes of at most 1 GiB). */
  async write(bytes: Uint8Array): Promise<void> {
    await writeAll(this.fh, bytes);
    this.bytesWritten += bytes.length;
  }

  /**
   * Flushes and closes the temporary file, renames it to `target` and (unless `syncFolder` is
   * false, for a caller that flushes the folder once after several renames) flushes the folder.
   * On failure the temporary file is removed and the error passed on. `check`, when given, is
   * asked after the flush and right before the rename (as {@link AtomicWriteOptions.commit}): false
   * removes the temporary file, renames nothing and resolves false; a throw does the same and
   * rejects with it. The write guards of `target` ({@link checkWriteGuards}) are asked after
   * `check`, right before the rename: one that throws does the same. Resolves true once renamed.
   */
  async commit(target: string, syncFolder = true, check?: () => boolean): Promise<boolean> {
    try {
      try {
        if (this.ownsGuard) this.guard.track(); // (a guard that follows writes may refuse it: temporary file removed below)
        await this.fh.sync();
        await this.fh.close();
        if (check && !check()) {
          await this.abort();
          return false;
        }
        const guarded = this.guard.check(target); // a guard that throws: temporary file removed below
        // with a check (or write guards) the rename runs synchronously right after it (as in writeFileAtomic)
        if (check || guarded) renameSync(this.tempPath, target);
        else await rename(this.tempPath, target);
      } catch (err) {
        await this.abort();
        throw err;
      }
      if (syncFolder) await syncDir(dirname(target));
      return true;
    } finally {
      if (this.ownsGuard) this.guard.end();
    }
  }

  /** Closes (if still open) and removes the temporary file; never throws. */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await rm(this.tempPath, { force: true }).catch(() => undefined);
    if (this.ownsGuard) this.guard.end();
  }
}

/** Flushes folder `dir` to disk (after renames into it); best effort where the platform refuses it. */
export async function syncFolder(dir: string): Promise<void> {
  await syncDir(dir);
}

/**
 * JSON text of `value` for run-folder files: two-space indentation, typed arrays as plain arrays,
 * non-finite numbers as `null` (JSON has no NaN or Infinity), bigints as strings. (The tensor
 * format's manifest keeps non-finite numbers instead: see `tensors.ts`.)
 */
export function toJson(value: unknown): string {
  return `${JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'number' && !Number.isFinite(v)) return null;
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
      return v;
    },
    2,
  )}\n`;
}

/** Writes `value` as JSON (see {@link toJson}) atomically. */
export async function writeJsonAtomic(path: string, value: unknown, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, toJson(value), options);
}

/** Synchronous form of {@link writeJsonAtomic}. */
export function writeJsonAtomicSync(path: string, value: unknown): void {
  writeFileAtomicSync(path, toJson(value));
}
