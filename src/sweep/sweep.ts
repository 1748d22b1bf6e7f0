/**
 * The sweep coordinator: creates or continues a sweep folder, hands the jobs that are not
 * completed to an engine, records each result once in sweep.json (splitting packed jobs into one
 * record per seed), reports progress, and writes summary.json and the summary figure.
 *
 * The coordinator holds the folder's lock (`.sweep.lock`, a lease lock refreshed while held, see
 * {@link lockSweep}). When that lock is found taken over (a new `cinder sweep` judged this one dead:
 * stopped, or cut off from a shared file system, past its lease), the folder is the new
 * coordinator's: this one stops its engine at once ({@link SweepEngine.abandon}: no job starts, its
 * local runs are killed and their attempt folders removed, never installed), records no result,
 * writes neither sweep.json nor summary.json, and {@link runSweep} rejects with a
 * {@link SweepLockLostError}.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import type { ExampleSpec } from '../cli/example.js';
import type { Terminal } from '../cli/progress.js';
import { removeStaleAttempts, type JobResult } from './child.js';
import type { SweepEngine } from './engines.js';
import { expandPlan, type SweepPlan } from './plan.js';
import { holdLock, leaseOf, lookAtLock, readLockText, removeLockLeftovers, resolveLeaseMs, tryLock, type LockLook, type LockOwner } from '../io/lock.js';
import { readSweepFile, statusCounts, writeSummary, writeSweepFile, type SweepFile, type SweepRunRecord, type SweepSummary } from './store.js';

/** Options of {@link runSweep}. */
export interface SweepOptions {
  /** The example. */
  spec: ExampleSpec;
  /** What to run. */
  plan: SweepPlan;
  /** Sweep folder. */
  outDir: string;
  /** Makes the engine, given the sweep's id. */
  engine: (sweepId: string) => SweepEngine;
  /** Terminal output. */
  terminal: Terminal;
  /** Aborting stops the sweep (running jobs are told to stop; they are redone next time). */
  signal?: AbortSignal;
}

/** The keys of {@link SweepOptions}: other keys are refused ("invalid options key"). */
export const SWEEP_OPTION_KEYS = optionKeys<SweepOptions>()(['spec', 'plan', 'outDir', 'engine', 'terminal', 'signal']);

/** What a sweep invocation did. */
export interface SweepOutcome {
  /** Jobs started by this invocation. */
  jobsRun: number;
  /** Runs by status at the end. */
  counts: ReturnType<typeof statusCounts>;
  /** The summary written. */
  summary: SweepSummary;
  /** True when stopped before all runs ended. */
  interrupted: boolean;
}

const BOOKKEEPING = ['status', 'example', 'started_at', 'updated_at', 'finished_at', 'error'];

/**
 * The scalars of a run summary for sweep.json: numbers, strings and booleans, with nested objects
 * flattened to dotted keys (`pv_map_quality.sigma_theta_rad`, up to 3 levels); arrays are left out.
 */
export function scalarSummary(s: Record<string, unknown>, prefix = '', depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (depth === 0 && BOOKKEEPING.includes(k)) continue;
    const key = `${prefix}${k}`;
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[key] = v;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 2) Object.assign(out, scalarSummary(v as Record<string, unknown>, `${key}.`, depth + 1));
  }
  return out;
}

/**
 * Opens the sweep folder: a new sweep.json for a new folder, or the existing one when its plan
 * equals `plan` (a continued sweep).
 * @throws CinderArgumentError when the folder holds a different sweep or other files
 */
export function openSweep(spec: ExampleSpec, plan: SweepPlan, outDir: string): SweepFile {
  const dir = resolve(outDir);
  const existing = readSweepFile(dir);
  const { runs } = expandPlan(spec, plan);
  if (existing) {
    if (canonicalJson(existing.plan) !== canonicalJson(plan)) {
      throw new CinderArgumentError('--out', dir, `a new folder or one holding this same sweep (it holds a different sweep of ${existing.plan.example}: compare its sweep.json)`);
    }
    return existing;
  }
  if (existsSync(dir) && readdirSync(dir).some((n) => n !== '.sweep.lock')) throw new CinderArgumentError('--out', dir, 'a new or empty folder, or an earlier sweep folder (it holds other files)');
  const now = new Date().toISOString();
  return {
    format: 'cinder-sweep/1', id: `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`, plan,
    runs: runs.map((r) => ({ ...r, status: 'waiting', dir: `runs/${r.job}`, attempts: 0 })), created_at: now, updated_at: now,
  };
}

/**
 * The owner named by a sweep lock's text, `host pid [started at[,lease=<ms>]]` (the lease is glued
 * to the start time so that an older Cinder, which reads at most three fields, still reads the
 * owner instead of taking the lock for a damaged one).
 */
function sweepLockOwner(text: string): LockOwner | null {
  const m = /^(\S+) (\d+)(?: (?:[^\s,]+)(?:,lease=(\d+))?)?\s*$/.exec(text);
  if (!m) return null;
  const leaseMs = leaseOf(m[3]);
  return { host: m[1]!, pid: Number(m[2]), ...(leaseMs !== undefined ? { leaseMs } : {}) };
}

/** Options of {@link lockSweep}. */
export interface LockSweepOptions {
  /** The lease of the lock (ms; default `CINDER_LOCK_LEASE_MS` or 60 s): it is refreshed every `leaseMs / 3`. */
  leaseMs?: number;
}

/** Releases a sweep folder's lock; `signal` aborts when the lock was found taken over meanwhile. */
export type SweepLockRelease = (() => void) & {
  /** Aborted (reason: an Error naming the lock) when a refresh found the lock taken over or removed. */
  readonly signal: AbortSignal;
  /**
   * Looks at the lock now (refreshing it): false when it was found taken over or removed (now or
   * before; `signal` is then aborted). Call it only before the release.
   */
  held(): boolean;
};

/**
 * The lock of a sweep folder was found taken over (or removed) while this `cinder sweep` held it:
 * the folder belongs to another coordinator now, and this one stopped without writing it.
 */
export class SweepLockLostError extends Error {
  /**
   * @param dir the sweep folder (absolute)
   * @param text the text of the lock now in the folder (null when there is none)
   */
  constructor(
    readonly dir: string,
    readonly text: string | null,
  ) {
    const owner = text === null ? null : sweepLockOwner(text);
    const now = owner ? `${owner.host} pid ${owner.pid} holds it now` : text === null ? 'it was removed' : `it now holds ${JSON.stringify(text.trim())}`;
    super(`lost the lock of sweep folder ${dir} (${join(dir, '.sweep.lock')}): ${now}; this cinder sweep stopped its engine (its running local jobs were killed and discarded) and writes nothing more into the folder`);
    this.name = 'SweepLockLostError';
  }
}

/**
 * Takes `DIR/.sweep.lock` (host, pid, start time and lease of this process) so that one
 * `cinder sweep` at a time coordinates a folder, and refreshes it every `leaseMs / 3` until
 * released (see `src/io/lock.ts`). A lock whose process is gone (same host), a lease lock not
 * refreshed for its lease (another host, or a stopped process on this one; a lease lock this
 * process has not watched yet is watched, blocking, for up to its lease), or a damaged one, is taken
 * over — race-free among any number of sweeps started at once. A lock of another host without a
 * lease (an older Cinder's) counts as live.
 * @returns a function that releases it, with the signal of a lost lock
 * @throws CinderArgumentError when another live `cinder sweep` holds it, or for a bad lease
 */
export function lockSweep(dir: string, options: LockSweepOptions = {}): SweepLockRelease {
  checkOptionKeys('options', options, ['leaseMs']);
  const leaseMs = resolveLeaseMs(options.leaseMs);
  const path = join(dir, '.sweep.lock');
  const me = `${hostname()} ${process.pid} ${new Date().toISOString()},lease=${leaseMs}`;
  mkdirSync(dir, { recursive: true });
  const got = tryLock(path, me, sweepLockOwner, { takeOverDead: true, unreadable: 'dead', waitOutLease: true });
  if (!got.taken) {
    const who = got.owner ? `${got.owner.host} pid ${got.owner.pid}` : 'another process';
    throw new CinderArgumentError('--out', dir, `a sweep folder no other cinder sweep is running on (${who} holds ${path})`);
  }
  removeLockLeftovers(path);
  const hold = holdLock(path, me, leaseMs);
  const release = (): void => {
    try {
      hold.release();
    } catch {
      // already gone
    }
  };
  return Object.assign(release, { signal: hold.signal, held: () => hold.refresh() });
}

/** Who holds a sweep folder's lock, as {@link sweepLockState} found it. */
export interface SweepLockState {
  /** True when a live process holds the lock (or may: see `leasePendingMs`). */
  held: boolean;
  /** The lock's owner; null when there is no lock or it names none. */
  owner: {
    /** Host name of the owner. */
    host: string;
    /** Process id of the owner. */
    pid: number;
    /** The lease it declared (ms); absent in a lock of a Cinder before leases. */
    leaseMs?: number;
  } | null;
  /**
   * Only when `held` is not confirmed: the lock is a lease lock that this process has not yet seen
   * refreshed (another host's, or a stopped process's on this one; one look cannot tell, see
   * `src/io/lock.ts`), and it counts as gone once seen unchanged for this many more ms (this
   * process's clock).
   */
  leasePendingMs?: number;
}

/** Options of {@link sweepLockState}. */
export interface SweepLockStateOptions {
  /** Watch a lease lock not judged yet (blocking, for up to its lease) until it is seen refreshed (held) or not (gone). */
  watchLease?: boolean;
}

/**
 * Whether `DIR/.sweep.lock` is held by a live process: on this host its pid runs (and it is not a
 * stopped process whose lease this process saw expire); on another host, a lock without a lease
 * counts as held, and a lease lock until this process has seen it unrefreshed for its lease. A
 * single look (a fresh `cinder sweep status`) cannot tell yet: such a lock counts as held with
 * `leasePendingMs` set, unless `watchLease` watches it until it can (as `inspectRunFolder` does for
 * a run folder's lock). A damaged lock counts as gone.
 * @throws CinderArgumentError for an unknown option key
 */
export function sweepLockState(dir: string, options: SweepLockStateOptions = {}): SweepLockState {
  checkOptionKeys('options', options, ['watchLease']);
  let look: LockLook | null;
  try {
    look = lookAtLock(join(dir, '.sweep.lock'), sweepLockOwner, { unreadable: 'dead', watch: options.watchLease === true });
  } catch {
    return { held: false, owner: null }; // unreadable: as no lock
  }
  if (look === null || look.owner === null) return { held: false, owner: null };
  return { held: look.alive, owner: look.owner, ...(look.alive && look.leasePendingMs > 0 ? { leasePendingMs: look.leasePendingMs } : {}) };
}

/**
 * True when `DIR/.sweep.lock` is held by a live process, or may be: {@link sweepLockState}'s
 * `held` (a lease lock one look cannot judge yet counts as held; see its `leasePendingMs`).
 */
export function sweepLockHeld(dir: string): boolean {
  return sweepLockState(dir).held;
}

/**
 * Creates or continues a sweep and runs every run that is not completed. The folder's lock is
 * taken before sweep.json is read, so a coordinator never works from the file as it was before
 * another coordinator's last write.
 */
export async function runSweep(options: SweepOptions): Promise<SweepOutcome> {
  checkOptionKeys('options', options, SWEEP_OPTION_KEYS);
  const { spec, plan } = options;
  const dir = resolve(options.outDir);
  const release = lockSweep(dir);
  try {
    const file = openSweep(spec, plan, dir);
    return await execute(options, dir, file, release);
  } finally {
    release();
  }
}

async function execute(options: SweepOptions, dir: string, file: SweepFile, lock: SweepLockRelease): Promise<SweepOutcome> {
  const { spec, plan, terminal } = options;
  // the folder's lock: once found lost, every write refuses with the SweepLockLostError
  let lostError: SweepLockLostError | undefined;
  const lost = (): SweepLockLostError | undefined => {
    if (lostError === undefined && lock.signal.aborted) lostError = new SweepLockLostError(dir, readLockTextOrNull(join(dir, '.sweep.lock')));
    return lostError;
  };
  const assertHeld = (): void => {
    if (lostError === undefined && !lock.signal.aborted) lock.held();
    const e = lost();
    if (e) throw e;
  };
  const { jobs } = expandPlan(spec, plan);
  mkdirSync(join(dir, 'runs'), { recursive: true });
  // attempt folders of dead processes on this host go; live ones (a worker of this host still
  // running a job of an earlier BullMQ coordinator) and other hosts' stay
  await removeStaleAttempts(join(dir, 'runs'));
  const byJob = new Map<string, SweepRunRecord[]>();
  for (const r of file.runs) {
    if (!byJob.has(r.job)) byJob.set(r.job, []);
    byJob.get(r.job)!.push(r);
    if (r.status !== 'completed') r.status = 'waiting';
  }
  const todo = jobs.filter((j) => byJob.get(j.name)!.some((r) => r.status !== 'completed'));
  // writes of sweep.json one after the other; a failed write fails only its own caller (the next
  // write tries again with everything recorded so far)
  let writing = Promise.resolve();
  const save = (): Promise<void> => {
    const write = writing.then(() => writeSweepFile(dir, file, { commit: () => (assertHeld(), true) }));
    writing = write.catch(() => {});
    return write;
  };
  await save();
  const total = file.runs.length;
  const already = total - todo.reduce((n, j) => n + j.seeds.length, 0);
  const rerun = todo.length > 0 && file.runs.some((r) => r.attempts > 0) ? ' (continuing)' : '';
  terminal.log(`cinder sweep ${spec.name}: ${total} runs (${plan.grid.length ? `${plan.grid.map((g) => `${g.name} × ${g.values.length}`).join(', ')}, ` : ''}${plan.seeds.length} seeds), ${already} done, ${todo.length} jobs to run${rerun} → ${dir}`);
  // the bar counts this invocation's runs, so that its rate and ETA are this invocation's
  const progress = terminal.progress(total - already, already > 0 ? `sweep (${already} done before)` : 'sweep');
  let finished = total - todo.reduce((n, j) => n + j.seeds.length, 0);
  let jobsRun = 0;
  const engine = options.engine(file.id);
  const onAbort = (): void => engine.stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) engine.stop();
  // the lock lost: the engine stops at once, its local runs killed and discarded (not installed)
  const onLost = (): void => {
    const reason = `stopped: ${lost()!.message}`;
    if (engine.abandon) engine.abandon(reason);
    else engine.stop();
  };
  lock.signal.addEventListener('abort', onLost, { once: true });
  const detach = (): void => {
    options.signal?.removeEventListener('abort', onAbort);
    lock.signal.removeEventListener('abort', onLost);
  };
  const recorded = new Set<string>();
  try {
    await engine.run(todo.map((j) => ({ name: j.name, args: j.args, outDir: join(dir, 'runs', j.name) })), {
      onStart(name, worker) {
        assertHeld(); // (a lost lock: the engine starts nothing more)
        jobsRun++;
        for (const r of byJob.get(name) ?? []) {
          r.status = 'running';
          r.attempts++;
          r.worker = worker;
        }
        // (not awaited: a failed write here is retried by the write after the job's result)
        save().catch(() => {});
      },
      mayInstall() {
        try {
          assertHeld();
          return true;
        } catch {
          return false; // (the engine is being abandoned: onLost)
        }
      },
      async onResult(name: string, jobResult: JobResult, worker: string) {
        let result = jobResult;
        assertHeld(); // a result after the lock was lost is not this coordinator's to record
        if (recorded.has(name)) return;
        recorded.add(name);
        const runs = byJob.get(name) ?? [];
        let parts: Record<string, unknown>[] = [result.summary];
        // a packed job ran with the seed-batch option (also a leftover job of one seed): split it
        const packed = runs.length > 1 || (plan.pack > 1 && spec.seedBatch !== undefined);
        if (packed) {
          parts = result.status === 'completed' && spec.seedBatch ? spec.seedBatch.splitSummary(result.summary, runs.map((r) => r.seed)) : runs.map(() => ({}));
        }
        const badSplit = result.status === 'completed' && packed && parts.length !== runs.length;
        if (badSplit) result = { ...result, status: 'failed', error: `${spec.name} seedBatch.splitSummary returned ${parts.length} summaries for ${runs.length} seeds` };
        runs.forEach((r, i) => {
          r.status = result.status;
          r.exit_code = result.exitCode;
          r.ms = result.ms;
          r.summary = scalarSummary(parts[i] ?? {});
          r.worker = worker === 'bullmq' ? r.worker : worker;
          if (r.attempts === 0) r.attempts = 1;
          if (result.error && result.status !== 'completed') r.error = result.error;
          else delete r.error;
          if (runs.length > 1) r.dir = `runs/${name}`;
        });
        await save();
        finished += runs.length;
        terminal.log(`[${finished}/${total}] ${name}: ${result.status} (${(result.ms / 1000).toFixed(1)} s${worker !== 'local' ? `, ${worker}` : ''})${result.status === 'failed' && result.error ? ` — ${result.error}` : ''}`);
        progress.tick(runs.length);
      },
    });
  } catch (err) {
    detach();
    progress.done();
    const gone = lost();
    if (gone) throw gone;
    // the engine failed (Redis gone for good, sweep.json not writable): record what is known —
    // sweep.json with the running runs interrupted, and summary.json from the recorded runs — then
    // report the engine's error (a record that cannot be written is reported as well)
    for (const r of file.runs) if (r.status === 'running') r.status = 'interrupted';
    for (const [what, write] of [['sweep.json', save], ['summary.json', () => writeSummary(dir, spec, file)]] as const) {
      await write().catch((e: unknown) => terminal.error(`cinder sweep: could not write ${join(dir, what)}: ${e instanceof Error ? e.message : String(e)}`));
    }
    throw err;
  }
  detach();
  if (lost()) {
    progress.done();
    throw lost()!;
  }
  for (const r of file.runs) if (r.status === 'running') r.status = 'interrupted';
  try {
    await save();
    assertHeld();
  } finally {
    progress.done();
  }
  const summary = await writeSummary(dir, spec, file);
  const counts = statusCounts(file);
  const interrupted = counts.completed + counts.failed < total;
  terminal.log(`sweep ${interrupted ? 'stopped' : 'done'}: ${counts.completed} completed, ${counts.failed} failed, ${counts.interrupted + counts.waiting + counts.running} not finished → ${join(dir, 'summary.json')}`);
  return { jobsRun, counts, summary, interrupted };
}

/** The text of lock file `path`, or null when there is none or it cannot be read. */
function readLockTextOrNull(path: string): string | null {
  try {
    return readLockText(path);
  } catch {
    return null;
  }
}
