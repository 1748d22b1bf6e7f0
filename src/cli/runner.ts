/**
 * Runs an example into a run folder: one seed, or K consecutive seeds in sub-folders `seed-<n>/`
 * with a summary across seeds at the top. Handles the final status (`completed`, `interrupted`,
 * `failed`) and, through {@link Run.finishNow}, the synchronous last write of a process that must
 * exit at once.
 *
 * A run whose folder's lock (`.lock`, or a seed's parent folder's) is found taken over by another
 * process (a `--resume` that judged this one dead, see `src/cli/run-lock.ts`) stops: its example
 * is told through its signal and every write through the run folder refuses; the folder's final
 * status is not written (the folder belongs to the new owner), and the outcome is `failed` with
 * the `RunLockLostError`. A seed of a multi-seed run that lost only its own folder's lock ends the
 * run as `failed` too, whose top summary (still this run's) says so.
 * @module
 */
import { checkOptionKeys, optionKeys } from '../core/errors.js';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { BackendInfo } from '../core/backend.js';
import { tf } from '../core/tf.js';
import { ensureWritableDirSync, registerWriteGuard, writeJsonAtomic, writeJsonAtomicSync } from '../io/atomic.js';
import type { FiniteCheckMode } from '../core/finite.js';
import type { ExampleSpec, Params } from './example.js';
import { packageInfo } from './package-info.js';
import type { Terminal } from './progress.js';
import { BOOKKEEPING_KEYS, RunFolder, type RunLockGuard, type RunStatus } from './run-folder.js';
import { acquireLock, carriedTime, inspectRunFolder, LOCK_FILE, readLock, releaseLock, rewriteWhileLockUnchanged, runLockGuard } from './run-lock.js';
import { leaseOf, lookAtLock, type LockLook, type LockOwner } from '../io/lock.js';
import { MAX_RUNS } from './options.js';

/** Everything a run needs (already validated). */
export interface RunOptions {
  /** The example. */
  spec: ExampleSpec;
  /** Resolved parameters. */
  params: Params;
  /** Preset the parameters started from. */
  mode: string;
  /** First seed. */
  seed: number;
  /** Number of consecutive seeds (>= 1). */
  seeds: number;
  /** Run folder (created; must not hold a previous run). */
  outDir: string;
  /** Backend in use. */
  backend: BackendInfo;
  /** Backend as requested (`auto`, `tensorflow`, `wasm`, `cpu`). */
  backendRequest: string;
  /** No terminal output. */
  quiet: boolean;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Terminal output. */
  terminal: Terminal;
  /** Command line, for params.json. */
  command?: readonly string[];
  /** Continue the run in `outDir` (`--resume`): completed seeds are kept, the others resume from their checkpoints. */
  resume?: boolean;
  /** When to check for NaN/Inf (default `'checkpoint'`). */
  checkFinite?: FiniteCheckMode;
  /**
   * Clock in milliseconds that paces the rewrites of the top run_summary.json of a multi-seed run
   * (see {@link TOP_SUMMARY_PACE}; default `performance.now`). Tests substitute their own.
   */
  clock?: () => number;
}

/** The keys of {@link RunOptions}: other keys are refused ("invalid options key"). */
export const RUN_OPTION_KEYS = optionKeys<RunOptions>()(['spec', 'params', 'mode', 'seed', 'seeds', 'outDir', 'backend', 'backendRequest', 'quiet', 'signal', 'terminal', 'command', 'resume', 'checkFinite', 'clock']);

/** Result of a run. */
export interface RunOutcome {
  /** Final status. */
  status: Exclude<RunStatus, 'running'>;
  /** Absolute path of the run folder. */
  outDir: string;
  /** Content of the final run_summary.json. */
  summary: Record<string, unknown>;
  /** The error of a failed run. */
  error?: unknown;
}

/** Statistics of one metric across seeds. */
export interface SeedStats {
  /** Mean. */
  mean: number;
  /** Sample standard deviation (n − 1; 0 for one seed). */
  std: number;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Number of seeds with a finite value. */
  n: number;
}

/**
 * Mean, sample standard deviation (sum of squared deviations / (n − 1)), min and max of every
 * finite numeric scalar metric, in float64, over any number of summaries.
 *
 * mean = (Σ x) / n and std = sqrt(Σ (x − mean)² / (n − 1)), summed in order: ordinary data gets
 * exactly these roundings. Where they would leave the float64 range — a sum past ±1.8e308 (two
 * values of 1e308 gave mean Infinity), squared deviations that overflow, or squares that underflow
 * below 1e-308 (1e-200 and 3e-200 gave std 0) — the same sums are taken over the values scaled by
 * a power of two s near max |x| (and the deviations by one near their largest), which only
 * changes exponents, and scaled back: mean = s · (Σ x/s) / n, std = s · t · sqrt(Σ ((x/s − mean/s)/t)² / (n − 1)).
 * A std above the float64 range (values spread by more than ~1.3e308) stays Infinity.
 */
export function aggregateSeeds(summaries: readonly Record<string, unknown>[], skip: readonly string[] = []): Record<string, SeedStats> {
  const values = new Map<string, number[]>();
  for (const s of summaries) {
    for (const [k, v] of Object.entries(s)) {
      if (skip.includes(k) || typeof v !== 'number' || !Number.isFinite(v)) continue;
      if (!values.has(k)) values.set(k, []);
      values.get(k)!.push(v);
    }
  }
  const out: Record<string, SeedStats> = {};
  for (const [k, vs] of values) {
    const n = vs.length;
    // a loop, not Math.min(...vs): a spread of ~120 000 or more arguments overflows the call stack
    let min = Infinity;
    let max = -Infinity;
    for (const v of vs) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const maxAbs = Math.max(Math.abs(min), Math.abs(max));
    const mean = meanOf(vs, maxAbs);
    out[k] = { mean, std: n > 1 ? sampleStd(vs, mean, maxAbs) : 0, min, max, n };
  }
  return out;
}

/** Largest power of two <= `a` (a finite and > 0): dividing by it changes only the exponent. */
function pow2Floor(a: number): number {
  let p = 2 ** Math.min(1023, Math.max(-1074, Math.floor(Math.log2(a))));
  if (p > a) p /= 2; // Math.log2 rounded up across a power of two
  else if (p * 2 <= a) p *= 2; // … or down
  return p;
}

/** (Σ x) / n; over x / s for s = {@link pow2Floor}(max |x|) when the plain sum overflows. */
function meanOf(vs: readonly number[], maxAbs: number): number {
  let sum = 0;
  for (const v of vs) sum += v;
  if (Number.isFinite(sum)) return sum / vs.length;
  const s = pow2Floor(maxAbs);
  let scaled = 0;
  for (const v of vs) scaled += v / s; // |v / s| < 2: no overflow for any count
  return (scaled / vs.length) * s;
}

/** Squared-deviation sums at least this large lost nothing to underflow worth a bit (each lost square < 2^-1022). */
const SQUARES_NORMAL = 2 ** -900;

/** sqrt(Σ (x − mean)² / (n − 1)), scaled as {@link aggregateSeeds} describes when the plain sum over- or underflows. */
function sampleStd(vs: readonly number[], mean: number, maxAbs: number): number {
  let ss = 0;
  let maxDev = 0;
  for (const v of vs) {
    const d = v - mean;
    ss += d ** 2;
    if (Math.abs(d) > maxDev) maxDev = Math.abs(d);
  }
  if (maxDev === 0) return 0;
  if (Number.isFinite(ss) && ss >= SQUARES_NORMAL) return Math.sqrt(ss / (vs.length - 1));
  // deviations of the scaled values (x/s − mean/s = (x − mean)/s, never overflowing), scaled again
  // by t near their largest so their squares are near 1
  const s = pow2Floor(Math.max(maxAbs, Math.abs(mean)));
  const m = mean / s;
  let maxScaled = 0;
  for (const v of vs) maxScaled = Math.max(maxScaled, Math.abs(v / s - m));
  if (maxScaled === 0) return 0;
  const t = pow2Floor(maxScaled);
  let scaled = 0;
  for (const v of vs) scaled += ((v / s - m) / t) ** 2;
  return s * (t * Math.sqrt(scaled / (vs.length - 1)));
}

/**
 * Keys of a seed's summary left out of `across_seeds`: the run folder's bookkeeping (seed, times,
 * checkpoint count, `resumed`, a crash's pid, …), numbers that are not metrics.
 */
const SKIP_IN_AGGREGATE: readonly string[] = BOOKKEEPING_KEYS;

/**
 * When the top run_summary.json of a multi-seed run is rewritten while it runs. It lists every seed
 * (and its statistics cover all completed ones), so its size grows with the seed count n: rewritten
 * after every seed, K seeds wrote O(K²) bytes (2000 trivial seeds: 370 MB). It is rewritten after a
 * seed only when at least `minMs` passed since the last write and the seeds done grew by
 * `growth` (10 %) since then, or when `maxMs` passed: the bytes written stay within a small
 * multiple of the final file (plus at most one file per `maxMs`), and a slow run's summary lags at
 * most `maxMs` behind its seeds. It is always written at the start and at the end (completed,
 * interrupted, failed, also on a forced exit). Nothing is lost in between: each seed folder holds
 * its own summary, from which `--resume` and `cinder status` (after a crash) rebuild the top one.
 */
export const TOP_SUMMARY_PACE = {
  /** Shortest interval between two rewrites while running (ms). */
  minMs: 2_000,
  /** Longest interval (ms): a rewrite after the next seed is due regardless of growth. */
  maxMs: 60_000,
  /** Growth of the seeds done since the last rewrite that makes one due (fraction of the count then). */
  growth: 0.1,
} as const;

/** One seed of a multi-seed run as the top summary lists it. */
interface SeedRun {
  seed: number;
  dir: string;
  status: RunStatus;
  summary: Record<string, unknown>;
}

/** A multi-seed run's own state: its folder, the seeds so far, its start and a failure's message. */
interface ParentState {
  dir: string;
  runs: SeedRun[];
  /** Start of the run's first attempt (a resumed run: its top summary's `started_at`). */
  started: Date;
  /** Start of this attempt. */
  attemptStarted: Date;
  /** Compute seconds of the earlier attempts (see {@link parentCarriedTime}). */
  elapsedBefore: number;
  /** Start times of the resumptions, this one last (ISO; empty for a new run). */
  resumedAt: string[];
  /** Number of resumptions (0 for a new run). */
  resumed: number;
  error?: string;
}

/**
 * The time bookkeeping a resumed multi-seed run carries on (see `carriedTime`): from its top
 * summary, whose `elapsed_s` is that of its last rewrite. An attempt that did not end (the top
 * summary still says `running`, or `crashed`) wrote that summary only now and then (see
 * {@link TOP_SUMMARY_PACE}), while each seed folder's summary was rewritten at every checkpoint:
 * the latest `updated_at` of the seed folders is the best known end of that attempt, and the time
 * from the top summary's `updated_at` to it is added (never less than 0).
 */
function parentCarriedTime(dir: string, first: number, count: number): { startedAt: Date | null; elapsedS: number; resumedAt: string[]; resumed: number } {
  const top = readSummary(join(dir, 'run_summary.json')) ?? {};
  const carried = carriedTime(top, readSummary(join(dir, 'params.json'))?.started_at);
  const resumed = typeof top.resumed === 'number' && Number.isSafeInteger(top.resumed) && top.resumed >= 0 ? top.resumed : 0;
  const topUpdated = typeof top.updated_at === 'string' ? Date.parse(top.updated_at) : NaN;
  if ((top.status === 'running' || top.status === 'crashed') && Number.isFinite(topUpdated)) {
    let last = topUpdated;
    for (let i = 0; i < count; i++) {
      const u = readSummary(join(dir, `seed-${first + i}`, 'run_summary.json'))?.updated_at;
      const t = typeof u === 'string' ? Date.parse(u) : NaN;
      if (t > last) last = t;
    }
    carried.elapsedS += (last - topUpdated) / 1000;
  }
  return { ...carried, resumed };
}

/** The text of an error for a summary or the terminal (its message, without the stack). */
function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The top summary's per-seed list, completed count and statistics across the completed seeds. */
function seedsSection(runs: readonly SeedRun[], skip: readonly string[]): Record<string, unknown> {
  return {
    completed_seeds: runs.filter((r) => r.status === 'completed').length,
    runs: runs.map((r) => ({ seed: r.seed, dir: r.dir, status: r.status, ...scalars(r.summary) })),
    across_seeds: aggregateSeeds(runs.filter((r) => r.status === 'completed').map((r) => r.summary), [...SKIP_IN_AGGREGATE, ...skip]),
  };
}

/** A run in progress. Create with {@link startRun}. */
export class Run {
  /** Resolves when the run (all seeds) has ended. */
  readonly done: Promise<RunOutcome>;
  private active: RunFolder | null = null;
  private parent: ParentState | null = null;
  /** Set by {@link finishNow}: a pending asynchronous write of the top summary must not land after its last word. */
  private closedSync = false;
  /** The run folder whose lock this run took itself (and so releases), or null: the caller holds it (the CLI). */
  private ownLock: string | null = null;
  /** The guard of the top folder's lock of a multi-seed run (see {@link runLockGuard}). */
  private topGuard: RunLockGuard | null = null;

  /** @param options the run's options (see {@link RunOptions}) */
  constructor(private readonly options: RunOptions) {
    if (new.target === Run) checkOptionKeys('options', options, RUN_OPTION_KEYS);
    this.done = this.execute();
  }

  private paramsFile(seed: number, seeds: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const o = this.options;
    const pkg = packageInfo();
    return {
      format: 'cinder-run/1',
      example: o.spec.name,
      mode: o.mode,
      seed,
      seeds,
      params: o.params,
      backend: { request: o.backendRequest, name: o.backend.name, gpu: o.backend.gpu, package: o.backend.package },
      package: { name: pkg.name, version: pkg.version },
      node: process.version,
      tfjs: tf.version_core,
      platform: `${process.platform}-${process.arch}`,
      command: o.command ? [...o.command] : undefined,
      ...extra,
    };
  }

  private async runSeed(dir: string, seed: number, seeds: number, extra: Record<string, unknown> = {}): Promise<RunOutcome> {
    const own = extra.parent === undefined;
    if (!own) {
      // a seed folder of a multi-seed run is locked too while it runs: `--resume` of that folder
      // alone is refused as busy, and `cinder status` does not take it for crashed
      try {
        ensureWritableDirSync(dir, '--out');
        acquireLock(dir, { takeOverCrashed: true });
      } catch (err) {
        // not this run's folder (another live process holds it) or not writable: left as it is
        return this.seedFailed(dir, seed, err, false);
      }
    }
    // the folder's lock and, for a seed, its parent's: once one is lost, the folder is not this run's
    const guard = runLockGuard(own ? [dir] : [this.parent!.dir, dir]);
    try {
      return await this.runSeedIn(dir, seed, seeds, extra, guard);
    } catch (err) {
      // the folder's lock was lost: nothing more is written there (the new owner's folder). Looked
      // at once more first: a takeover not noticed yet (the lock is refreshed every lease / 3, and
      // the write guard of a folder whose files failed to be created is gone) must not get this
      // failure written over the new owner's log and summary
      try {
        guard.check();
      } catch {
        // lost (the signal says so), or the lock could not be looked at: as before
      }
      if (guard.signal.aborted) return this.lockLost(dir, seed, guard.signal.reason);
      // an error outside the example's own run (the folder's files could not be created or its
      // summary written: permissions, disk full): the seed fails with the message, no stack trace
      return this.seedFailed(dir, seed, err, true);
    } finally {
      if (!own) releaseLock(dir);
    }
  }

  /**
   * The outcome of a seed whose folder's lock was lost (`error`, a `RunLockLostError`): `failed`,
   * with the summary as it would have been; nothing is written to the folder.
   */
  private lockLost(dir: string, seed: number, error: unknown): RunOutcome {
    const a = this.active;
    this.active = null;
    const summary = a ? a.abandon(error) : { status: 'failed', example: this.options.spec.name, seed, error: errorText(error) };
    return { status: 'failed', outDir: dir, summary, error };
  }

  /**
   * The outcome of a seed that failed outside the example's run; with `write` (the folder is this
   * run's) its run_summary.json says `failed` with the message and its log has the error, as far
   * as the folder can still be written (a failure to do so leaves it as it was).
   */
  private seedFailed(dir: string, seed: number, err: unknown, write: boolean): RunOutcome {
    const o = this.options;
    const a = this.active;
    this.active = null;
    const now = new Date().toISOString();
    let summary: Record<string, unknown> = { status: 'failed', example: o.spec.name, seed, error: errorText(err) };
    if (write) {
      try {
        appendFileSync(join(dir, 'log.txt'), `${now} error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n${now} failed\n`);
      } catch {
        // the log cannot be written either
      }
      try {
        if (a && !a.isClosed) summary = a.finishSync('failed', err);
        else {
          summary = { ...(readSummary(join(dir, 'run_summary.json')) ?? {}), status: 'failed', example: o.spec.name, seed, updated_at: now, finished_at: now, error: errorText(err) };
          writeJsonAtomicSync(join(dir, 'run_summary.json'), summary);
        }
      } catch {
        // the folder cannot be written (most likely the error itself): its summary stays as it was
      }
    }
    return { status: 'failed', outDir: dir, summary, error: err };
  }

  private async runSeedIn(dir: string, seed: number, seeds: number, extra: Record<string, unknown>, guard: RunLockGuard): Promise<RunOutcome> {
    const o = this.options;
    const resume = o.resume === true && existsSync(join(dir, 'params.json'));
    const folder = await RunFolder.create({
      outDir: dir, example: o.spec.name, params: o.params, seed, backend: o.backend, quiet: o.quiet, signal: o.signal, terminal: o.terminal,
      paramsFile: this.paramsFile(seed, seeds, extra), resume, checkFinite: o.checkFinite, lockGuard: guard,
    });
    this.active = folder;
    folder.log(`cinder ${o.spec.name} (mode ${o.mode}, seed ${seed}, backend ${o.backend.name}${o.backend.gpu ? ' GPU' : ''}) ${resume ? 'resumed in' : '→'} ${folder.outDir}`);
    let status: Exclude<RunStatus, 'running'>;
    let metrics: Record<string, unknown> = {};
    let error: unknown;
    const tensorsBefore = tf.memory().numTensors;
    try {
      metrics = (await o.spec.run(folder)) ?? {};
      // "interrupted" only when the example saw the signal (and so stopped early); a run that had
      // finished its work when the signal came is complete (a signal after the return is not looked at)
      const observed = folder.interruptObserved;
      await folder.checkFinite(metrics, folder.checkpointCount, true);
      status = observed ? 'interrupted' : 'completed';
    } catch (err) {
      // the interruption itself (the signal's reason, as `throwIfAborted` throws it, or an
      // AbortError of an awaited call given the signal) ends the run as interrupted; any other
      // error fails it, also one after the signal, and keeps its message
      error = err;
      status = isAbortError(err, o.signal) ? 'interrupted' : 'failed';
      folder.assertHeld(); // (a lost lock ends the run in runSeed, writing nothing)
      if (!folder.isClosed) folder.log(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    if (folder.isClosed) {
      // ended meanwhile by a forced exit's last word (finishNow): its summary is final, nothing more is written
      this.active = null;
      const summary = folder.summaryObject();
      return { status: summary.status as Exclude<RunStatus, 'running'>, outDir: folder.outDir, summary, error };
    }
    folder.assertHeld();
    folder.log(`${status}; tensors alive: ${tf.memory().numTensors} (${tf.memory().numTensors - tensorsBefore >= 0 ? '+' : ''}${tf.memory().numTensors - tensorsBefore})`);
    const summary = await folder.finish(status, metrics, status === 'failed' ? error : undefined);
    this.active = null;
    return { status, outDir: folder.outDir, summary, error };
  }

  private parentSummary(status: RunStatus): Record<string, unknown> {
    const p = this.parent!;
    const o = this.options;
    const now = new Date();
    return {
      status,
      example: o.spec.name,
      seeds: Array.from({ length: o.seeds }, (_, i) => o.seed + i),
      started_at: p.started.toISOString(),
      updated_at: now.toISOString(),
      ...(status === 'running' ? {} : { finished_at: now.toISOString() }),
      // compute seconds over all attempts: the earlier ones' plus this one's (see RunFolder.summaryObject)
      elapsed_s: p.elapsedBefore + (now.getTime() - p.attemptStarted.getTime()) / 1000,
      ...(p.resumed > 0 ? { resumed: p.resumed, resumed_at: [...p.resumedAt] } : {}),
      ...(status === 'failed' && p.error !== undefined ? { error: p.error } : {}),
      ...seedsSection(p.runs, o.spec.labelKeys ?? []),
    };
  }

  /**
   * Writes the top run_summary.json (dropped if {@link finishNow} has written its last word
   * meanwhile; refused with the `RunLockLostError` once the top folder's lock was found lost).
   */
  private async writeParentSummary(status: RunStatus): Promise<Record<string, unknown>> {
    const summary = this.parentSummary(status);
    const guard = this.topGuard;
    guard?.check();
    await writeJsonAtomic(join(this.parent!.dir, 'run_summary.json'), summary, { commit: () => (guard?.check(), !this.closedSync) });
    return summary;
  }

  /** The outcome of a multi-seed run whose top folder's lock was lost (`error`): `failed`, nothing more written. */
  private parentLost(error: unknown): RunOutcome {
    this.parent!.error = errorText(error);
    return { status: 'failed', outDir: this.parent!.dir, summary: this.parentSummary('failed'), error };
  }

  /**
   * Takes the run folder's lock (`.lock`, see `src/cli/run-lock.ts`) unless this process holds it
   * already (the CLI takes it before it starts the run), so that `cinder status` never takes a
   * live run started through {@link startRun} for a crashed one; with `resume` a crashed run's lock
   * is taken over. A folder another live process holds (or a crashed run's, without `resume`) ends
   * the run as `failed` with the {@link RunLockError}, before anything is written.
   */
  private async execute(): Promise<RunOutcome> {
    const o = this.options;
    const outDir = resolve(o.outDir);
    const held = readLock(outDir);
    if (!(held && held.pid === process.pid && held.host === hostname())) {
      try {
        ensureWritableDirSync(outDir, '--out');
        acquireLock(outDir, { takeOverCrashed: o.resume === true });
        this.ownLock = outDir;
      } catch (err) {
        return this.seedFailed(outDir, o.seed, err, false);
      }
    }
    try {
      return await this.executeLocked(outDir);
    } finally {
      if (this.ownLock !== null) releaseLock(this.ownLock);
      this.ownLock = null;
    }
  }

  private async executeLocked(outDir: string): Promise<RunOutcome> {
    const o = this.options;
    if (o.seeds <= 1) return this.runSeed(outDir, o.seed, 1);
    const attemptStarted = new Date();
    const p: ParentState = { dir: outDir, runs: [], started: attemptStarted, attemptStarted, elapsedBefore: 0, resumedAt: [], resumed: 0 };
    if (o.resume && existsSync(join(outDir, 'run_summary.json'))) {
      const carried = parentCarriedTime(outDir, o.seed, o.seeds);
      if (carried.startedAt !== null) p.started = carried.startedAt;
      p.elapsedBefore = carried.elapsedS;
      p.resumed = carried.resumed + 1;
      p.resumedAt = [...carried.resumedAt, attemptStarted.toISOString()];
    }
    this.parent = p;
    const top = runLockGuard([outDir]);
    this.topGuard = top;
    // every write into the top folder (params, summary, log; and the seeds' below it) first checks its lock
    const unguard = registerWriteGuard(outDir, () => top.check());
    try {
      const clock = o.clock ?? (() => performance.now());
      let writtenAt = clock();
      let writtenRuns = 0;
      const log = (m: string): void => {
        top.check();
        appendFileSync(join(outDir, 'log.txt'), `${new Date().toISOString()} ${m}\n`);
        o.terminal.log(m);
      };
      let status: Exclude<RunStatus, 'running'> = 'completed';
      let error: unknown;
      try {
        ensureWritableDirSync(outDir, '--out');
        if (!o.resume || !existsSync(join(outDir, 'params.json'))) {
          await writeJsonAtomic(join(outDir, 'params.json'), { ...this.paramsFile(o.seed, o.seeds), started_at: p.started.toISOString() });
        }
        await this.writeParentSummary('running');
        log(`cinder ${o.spec.name}: ${o.seeds} seeds from ${o.seed} → ${outDir}`);
        for (let i = 0; i < o.seeds; i++) {
          if (o.signal.aborted) {
            status = 'interrupted';
            break;
          }
          const seed = o.seed + i;
          const dir = `seed-${seed}`;
          if (o.resume) {
            const prev = readSummary(join(outDir, dir, 'run_summary.json'));
            if (prev?.status === 'completed') {
              p.runs.push({ seed, dir, status: 'completed', summary: prev });
              log(`seed ${seed}: completed before, kept`);
              continue;
            }
          }
          const r = await this.runSeed(join(outDir, dir), seed, 1, { parent: '..' });
          if (top.signal.aborted) return this.parentLost(top.signal.reason);
          p.runs.push({ seed, dir, status: r.status, summary: r.summary });
          if (r.status !== 'completed') {
            status = r.status;
            error = r.error;
            if (r.status === 'failed') p.error = `seed ${seed}: ${errorText(r.error)}`;
            log(`seed ${seed}: ${r.status}${r.status === 'failed' ? `: ${errorText(r.error)}` : ''}`);
            break;
          }
          log(`seed ${seed}: ${r.status}`);
          const since = clock() - writtenAt;
          if (since >= TOP_SUMMARY_PACE.maxMs || (since >= TOP_SUMMARY_PACE.minMs && p.runs.length - writtenRuns >= Math.max(1, TOP_SUMMARY_PACE.growth * writtenRuns))) {
            await this.writeParentSummary('running');
            writtenAt = clock();
            writtenRuns = p.runs.length;
          }
        }
      } catch (err) {
        if (top.signal.aborted) return this.parentLost(top.signal.reason);
        // an error of the top folder itself (not writable, disk full): the run fails with its message
        status = 'failed';
        error = err;
        p.error = errorText(err);
      }
      let summary = this.parentSummary(status);
      try {
        summary = await this.writeParentSummary(status);
      } catch (err) {
        if (top.signal.aborted) return this.parentLost(top.signal.reason);
        // the final summary cannot be written: the run has failed whatever its seeds did (the top
        // summary on disk still says running; `cinder status` reports it crashed and rebuilds it)
        if (status !== 'failed') {
          status = 'failed';
          error = err;
          p.error = errorText(err);
          summary = this.parentSummary(status);
        }
      }
      return { status, outDir, summary, error };
    } finally {
      unguard();
    }
  }

  /**
   * Ends the run now, synchronously (for a process that exits right after): the active seed's
   * run_summary.json and, for several seeds, the top-level one get `status` (normally
   * `interrupted`) with everything checkpointed so far (a seed that had ended and was writing its
   * final summary keeps the status it ended with, see `RunFolder.finishSync`); the running seed folder's lock is removed,
   * and the run folder's where the run took it itself ({@link startRun}). A folder whose lock was
   * found lost is not written (it is the new owner's).
   *
   * Each of these steps is taken whatever the ones before did (the seed's summary write failing,
   * e.g. a disk full, still leaves the top summary written and the locks released, the run
   * folder's last); their errors are thrown at the end: the one error, or an `AggregateError` of
   * all of them whose message joins theirs.
   */
  finishNow(status: Exclude<RunStatus, 'running'>): void {
    const errors: unknown[] = [];
    const a = this.active;
    if (a && !a.isClosed) {
      let s: Record<string, unknown>;
      try {
        s = a.finishSync(status);
      } catch (err) {
        if (a.lockLost) s = a.abandon(err);
        else {
          // the seed's folder keeps what its last checkpoint wrote; the top summary lists the
          // seed as it ended here
          errors.push(err);
          s = a.summaryObject();
        }
      }
      // (the seed's own status when it had ended and was writing its final summary: see finishSync)
      if (this.parent) this.parent.runs.push({ seed: a.seed, dir: `seed-${a.seed}`, status: s.status as RunStatus, summary: s });
    }
    // a seed folder of a multi-seed run has its own lock (runSeed); the top one is released below
    // where this run took it, else by the caller that did (the CLI)
    if (a && this.parent) {
      try {
        releaseLock(a.outDir);
      } catch (err) {
        errors.push(err);
      }
    }
    if (this.parent) {
      this.closedSync = true;
      let held = true;
      try {
        this.topGuard?.check();
      } catch {
        held = false;
      }
      if (held) {
        try {
          writeJsonAtomicSync(join(this.parent.dir, 'run_summary.json'), this.parentSummary(status));
        } catch (err) {
          errors.push(err);
        }
      }
    }
    // the run folder's lock, where the run took it itself (startRun); the CLI releases its own
    const own = this.ownLock;
    this.ownLock = null;
    if (own !== null) {
      try {
        releaseLock(own);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, errors.map(errorText).join('; '));
  }
}

/** True when `err` is the abort of `signal` itself: its reason, or an `AbortError` once it is aborted. */
function isAbortError(err: unknown, signal: AbortSignal): boolean {
  if (!signal.aborted) return false;
  return err === signal.reason || (err instanceof Error && err.name === 'AbortError');
}

function readSummary(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function scalars(s: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (['status', 'example', 'seed', 'started_at', 'updated_at', 'finished_at'].includes(k)) continue;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') out[k] = v;
  }
  return out;
}

/** The owner a run folder's lock text names (`{ pid, host, lease_ms? }`), or null when it names none. */
function runLockOwner(text: string): LockOwner | null {
  try {
    const l = JSON.parse(text) as { pid?: unknown; host?: unknown; lease_ms?: unknown } | null;
    if (typeof l?.pid !== 'number' || typeof l.host !== 'string') return null;
    const leaseMs = leaseOf(l.lease_ms);
    return { host: l.host, pid: l.pid, ...(leaseMs !== undefined ? { leaseMs } : {}) };
  } catch {
    return null;
  }
}

/**
 * Rebuilds the top run_summary.json of a multi-seed run folder whose process died (its status
 * `crashed`, as `cinder status` records it) from the seed folders: the top summary is
 * rewritten only now and then while the run goes on ({@link TOP_SUMMARY_PACE}), so the one a killed
 * run left may lack the last seeds. `runs`, `completed_seeds` and `across_seeds` are recomputed
 * from every `seed-<n>/run_summary.json` there (a seed whose process died is recorded `crashed`
 * in its own folder as well); the other keys stay. `examples` give the label keys left out of the
 * statistics. Returns the new summary, or null (and writes nothing) for a folder that is not a
 * crashed multi-seed run.
 *
 * The rewrite never lands over what a new owner of the folder writes (a `--resume` that takes the
 * folder's lock while the seed folders are read): as for `inspectRunFolder`'s crashed rewrite, it
 * is made only while the folder's lock is still the dead one (or there is still none) and the top
 * summary still holds the text read, both checked again while no process can take the lock
 * (`whileLockUnchanged` of `src/io/lock.ts`); a folder taken meanwhile is looked at again (10 looks
 * at most). A folder whose lock a live process holds (or may: a lease lock not judged yet), or
 * whose lock cannot be read or taken over, is not rewritten (null). A failing write still throws.
 */
export function rebuildSeedsSummary(dir: string, examples: readonly ExampleSpec[] = []): Record<string, unknown> | null {
  const lockPath = join(dir, LOCK_FILE);
  const topPath = join(dir, 'run_summary.json');
  for (let attempt = 1; attempt <= 10; attempt++) {
    let look: LockLook | null;
    try {
      look = lookAtLock(lockPath, runLockOwner, { unreadable: 'dead' });
    } catch {
      return null; // a lock that cannot be read: the rewrite cannot be made safely
    }
    if (look !== null && look.owner !== null && look.alive) return null; // the folder's owner runs (or may)
    let raw: string;
    try {
      raw = readFileSync(topPath, 'utf8');
    } catch {
      return null;
    }
    let top: Record<string, unknown> | null = null;
    try {
      top = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      // not a summary
    }
    const params = readSummary(join(dir, 'params.json'));
    if (top?.status !== 'crashed' || !params) return null;
    const first = params.seed;
    const count = params.seeds;
    if (typeof first !== 'number' || !Number.isSafeInteger(first) || first < 0 || typeof count !== 'number' || !Number.isSafeInteger(count) || count <= 1 || count > MAX_RUNS) return null;
    const runs: SeedRun[] = [];
    for (let i = 0; i < count; i++) {
      const seed = first + i;
      const sub = `seed-${seed}`;
      if (!existsSync(join(dir, sub, 'run_summary.json'))) continue;
      const status = inspectRunFolder(join(dir, sub)).status;
      const summary = readSummary(join(dir, sub, 'run_summary.json'));
      if (status === null || summary === null) continue;
      runs.push({ seed, dir: sub, status: status as RunStatus, summary });
    }
    const labelKeys = examples.find((e) => e.name === params.example)?.labelKeys ?? [];
    const out = { ...top, ...seedsSection(runs, labelKeys) };
    const r = rewriteWhileLockUnchanged(lockPath, look, topPath, raw, out);
    if (r === 'unavailable') return null; // the lock or its takeover file cannot be made: not rewritten
    if (r === 'written') return out;
    if (r === 'busy') sleepMs(1); // another process is taking the lock over right now
    // the folder changed meanwhile: look again
  }
  return null;
}

/** Sleeps `ms` synchronously. */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Starts a run; await `run.done` for the outcome. The run folder's lock is taken at once (unless
 * this process holds it already, as the CLI does) and released when the run ends, so a concurrent
 * `cinder status` sees a live run; a folder in use by another live process, or a crashed run's
 * without `resume`, gives a `failed` outcome with a `RunLockError` and writes nothing.
 */
export function startRun(options: RunOptions): Run {
  return new Run(options);
}
