/**
 * The run folder of one example run and the {@link RunContext} an example writes through:
 *
 * ```
 * <out>/params.json        resolved configuration, backend, package version, start time
 * <out>/run_summary.json   status + the example's metrics (updated at checkpoints)
 * <out>/log.txt            timestamped log lines
 * <out>/figures/*.html     plotly figures (+ figures.json manifest); plotly.js is shared: <out>/../plotly.min.js
 * <out>/artifacts/         weights and recordings (.npy/.npz, checksummed tensor folders, JSON)
 * <out>/checkpoint/        the last checkpoint of a resumable example (model + progress + RNG)
 * <out>/.lock              pid + host of the process writing the folder (removed at the end)
 * ```
 *
 * Every JSON and binary file is written atomically; `run_summary.json` exists (status `running`)
 * from the start, so an interrupted run always leaves valid files. A resumed run (`--resume`)
 * reopens the folder: params.json stays, the summary's metrics and checkpoint count carry on, and
 * so does its time: `started_at` stays the first attempt's start, `elapsed_s` sums the attempts'
 * wall times (see {@link RunFolder.summaryObject}) and `resumed_at` lists the resumptions.
 *
 * A folder whose lock (`.lock`, see `src/cli/run-lock.ts`; for a seed of a multi-seed run also its
 * parent's) was found taken over by another process ({@link RunFolderInit.lockGuard}) is no longer
 * this run's: every write through the run folder (log lines, checkpoints, figures, artifacts,
 * `artifactPath`, `checkpointDir`, the final summary) then throws the `RunLockLostError` instead of
 * writing — also a write already under way whose file is not renamed into place yet — and
 * {@link RunFolder.signal} aborts with it, so that the example stops.
 *
 * Files an example writes into the folder itself, with the writers of `src/io` — a checkpoint
 * (`Network.save(ctx.checkpointDir)`, `saveTensors`, `saveModule`), an `NpyAppendWriter`, `writeNpz`
 * or `writeFileAtomic` at an `artifactPath` — are guarded too: from {@link RunFolder.create} until
 * the run ends ({@link RunFolder.finish}, {@link RunFolder.finishSync}, {@link RunFolder.abandon})
 * a guarded folder (one with a {@link RunFolderInit.lockGuard}, as every run of the runner has) is
 * registered as a write guard (`registerWriteGuard`, `src/io/atomic.ts`) that looks
 * at the locks and throws the `RunLockLostError` once one is lost. So such a write, even one
 * started before the loss was noticed, refuses right before its file would be renamed into place
 * (or an appended file written): its temporary files and the weights files of a refused checkpoint
 * are removed, the new owner's files stay as they were. The folder's own atomic writes rely on the
 * same guard: one look at the lock right before each rename.
 *
 * That guard also follows those writes (`WriteGuardHooks.begin`): the run's end
 * ({@link RunFolder.finish}) first waits for the writes into the folder still under way — the
 * context's (a figure or artifact the example started without awaiting it) and those of `src/io`
 * (a `writeNpz`, `writeFileAtomic` or tensor folder save the example did not await) — so they land
 * then, under the lock, before the final summary. After the end — the lock released, the write
 * guard unregistered, the folder possibly another process's — every write through the context (log
 * line, figure, artifact, `artifactPath`, `checkpointDir`) throws "the run has ended"; a write
 * still under way when the run is ended synchronously ({@link RunFolder.finishSync},
 * {@link RunFolder.abandon}), the context's or one of `src/io` begun while the run went on, is
 * refused before its rename with that error, as is a later change of an `NpyAppendWriter` opened
 * while the run went on. (A write of `src/io` started after the end, at a path taken before it,
 * is not the run's: nothing refuses it.)
 * @module
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { BackendInfo } from '../core/backend.js';
import { CinderArgumentError } from '../core/errors.js';
import { FiniteChecker, assertFiniteMetrics, type FiniteCheckMode } from '../core/finite.js';
import type { Figure } from '../viz/figure.js';
import { checkFigure, ensurePlotlyCopy, figureHtml, PLOTLY_FILE } from '../viz/html.js';
import { ensureWritableDirSync, registerWriteGuard, writeFileAtomic, writeJsonAtomic, writeJsonAtomicSync } from '../io/atomic.js';
import type { Params, Progress, RunContext } from './example.js';
import { encodeNpy, writeNpz, type NpyArray, type NpzEntry } from '../io/npy.js';
import type { Terminal } from './progress.js';
import { carriedTime } from './run-lock.js';

/** Final state of a run, as written to `run_summary.json` under `status`. */
export type RunStatus = 'running' | 'completed' | 'interrupted' | 'failed' | 'crashed';

/** Keys the run folder itself writes into `run_summary.json` (an example's keys of the same name are overwritten). */
export const BOOKKEEPING_KEYS = ['status', 'example', 'seed', 'started_at', 'updated_at', 'finished_at', 'elapsed_s', 'checkpoints', 'error', 'resumed', 'resumed_at', 'crashed_detected_at', 'crashed_pid', 'crashed_host'] as const;


/** What {@link RunFolder.create} needs. */
export interface RunFolderInit {
  /** Folder to create (resolved to an absolute path). */
  outDir: string;
  /** Example name (for the summary). */
  example: string;
  /** Resolved parameters. */
  params: Params;
  /** Seed of this run. */
  seed: number;
  /** Backend in use. */
  backend: BackendInfo;
  /** No terminal output. */
  quiet: boolean;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Terminal for log lines and progress. */
  terminal: Terminal;
  /** Content of params.json. */
  paramsFile: Record<string, unknown>;
  /** Clock (default `() => new Date()`). */
  now?: () => Date;
  /** Reopen an existing run folder (`--resume`): keep params.json, carry on the summary. */
  resume?: boolean;
  /** When to check for NaN/Inf (`--check-finite`; default `'checkpoint'`). */
  checkFinite?: FiniteCheckMode;
  /**
   * The locks guarding the folder (`runLockGuard`): once one is found lost, every write refuses
   * with its `RunLockLostError` and {@link RunFolder.signal} aborts. Default: not guarded.
   */
  lockGuard?: RunLockGuard;
}

/** The locks that guard the writes of one run folder (made by `runLockGuard` of `src/cli/run-lock.ts`). */
export interface RunLockGuard {
  /** Aborted, with a `RunLockLostError` as reason, once one of the locks was found taken over or removed. */
  readonly signal: AbortSignal;
  /**
   * Looks at the locks now (refreshing them) and throws the `RunLockLostError` once one was found
   * lost (now, or earlier by the refresh timer).
   */
  check(): void;
}

/** One entry of `figures/figures.json`: what each figure should render. */
export interface FigureManifestEntry {
  /** Figure title. */
  title: string;
  /** Number of panels (axis pairs). */
  panels: number;
  /** Number of traces. */
  traces: number;
  /** File name under figures/. */
  file: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Testing hook: with `CINDER_TEST_HOLD_AT_CHECKPOINT=n` the n-th checkpoint of a run waits until
 * the run is interrupted, so tests can send SIGINT at a known point of any example.
 */
const HOLD_AT = Number(process.env.CINDER_TEST_HOLD_AT_CHECKPOINT ?? 0) || 0;

/**
 * The well-known symbols (`Symbol.toStringTag`, `Symbol.iterator`, …) and `util.inspect`'s: read on
 * any object by generic code (printing, type tests). Other symbol keys read or written on the
 * run's signal are the runtime's own (Node's `AbortSignal.any` links a derived signal through them),
 * except Node's listener-count bookkeeping of an event target (`events.maxEventTargetListeners`,
 * set by `events.setMaxListeners`, e.g. by `fetch`), which derives nothing.
 */
const GENERIC_SYMBOLS = new Set<symbol>([
  ...Object.getOwnPropertyNames(Symbol).map((k) => (Symbol as unknown as Record<string, unknown>)[k]).filter((v): v is symbol => typeof v === 'symbol'),
  Symbol.for('nodejs.util.inspect.custom'),
]);

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  const keepAlive = setInterval(() => {}, 1000); // a pending listener alone does not keep Node running
  return new Promise((r) => signal.addEventListener('abort', () => (clearInterval(keepAlive), r()), { once: true }));
}

function readJson(path: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function checkFileName(kind: string, name: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name.includes('..')) {
    throw new CinderArgumentError(`${kind} name`, name, 'letters, digits, ".", "_" and "-" (no slashes)');
  }
  return name;
}

/** A run folder and the {@link RunContext} of the example writing into it. */
export class RunFolder implements RunContext {
  /** Absolute path of the run folder. */
  readonly outDir: string;
  /** Resolved parameters (frozen). */
  readonly params: Params;
  /** Seed of this run. */
  readonly seed: number;
  /** The tfjs backend in use. */
  readonly backend: BackendInfo;
  /** No terminal output. */
  readonly quiet: boolean;
  /** Aborted on SIGINT/SIGTERM, and (reason: a `RunLockLostError`) when the folder's lock was found lost. */
  readonly signal: AbortSignal;
  /** Example name. */
  readonly example: string;
  private readonly terminal: Terminal;
  private readonly now: () => Date;
  /** Start of the run's first attempt (a resumed run: the one its summary names). */
  private startedAt: Date;
  /** Start of this attempt (this process's run of the folder). */
  private readonly attemptStartedAt: Date;
  /** Compute seconds of the earlier attempts of a resumed run (0 for a new run). */
  private elapsedBefore = 0;
  /** Start times of the resumptions, this one last (ISO; empty for a new run). */
  private resumedAt: string[] = [];
  private metrics: Record<string, unknown> = {};
  private status: RunStatus = 'running';
  private errorText: string | undefined;
  private checkpoints = 0;
  private closed = false;
  private closedSync = false;
  /** True while {@link finish}'s write of the final summary is pending: its status is decided. */
  private finishing = false;
  private queue: Promise<void> = Promise.resolve();
  private figureManifest: Record<string, FigureManifestEntry> = {};
  private resumedCount = 0;
  private readonly rawSignal: AbortSignal;
  private abortSeen = false;
  /**
   * True once the example's signal was handed to the runtime's own machinery through a symbol key
   * (Node's `AbortSignal.any([ctx.signal, …])` does so): a signal derived from it follows the run's
   * signal inside the runtime, where reads of it are not seen (see {@link interruptObserved}).
   */
  private derived = false;
  private lastYield = performance.now();
  private readonly lockGuard: RunLockGuard | undefined;
  /** Unregisters the folder's write guard (registered by {@link create} for a folder with a lock guard). */
  private unguard: (() => void) | undefined;
  /**
   * The writes into the folder still under way: the context's, and those of `src/io` under the
   * folder that its write guard follows (each entry settles, never rejects, with its write):
   * {@link finish} waits for them.
   */
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * True once the run has ended (the final summary is being written, or was: {@link finish},
   * {@link finishSync}, {@link abandon}): every write through the context is refused.
   */
  private ended = false;
  /** True when this run continues an earlier one (`--resume`): load {@link checkpointDir} if it exists. */
  readonly resumed: boolean;

  private constructor(init: RunFolderInit) {
    this.outDir = resolve(init.outDir);
    this.example = init.example;
    this.params = Object.freeze({ ...init.params });
    this.seed = init.seed;
    this.backend = init.backend;
    this.quiet = init.quiet;
    this.lockGuard = init.lockGuard;
    const signal = init.lockGuard ? AbortSignal.any([init.signal, init.lockGuard.signal]) : init.signal;
    // The example sees the signal through a view that notes whether it ever saw it aborted: a run
    // that finished all its work before looking is "completed", not "interrupted". Seeing it is
    // reading `aborted` (or `reason`) once it is aborted, or one of its abort listeners
    // (addEventListener, onabort) being called.
    const seen = (): void => void (this.abortSeen = true);
    /** Each abort listener of the example → the listener added in its place (the same one each time, for removeEventListener). */
    const stand = new WeakMap<object, (this: unknown, ev: Event) => unknown>();
    const standIn = (l: unknown): unknown => {
      if (l === null || (typeof l !== 'function' && typeof l !== 'object')) return l;
      let w = stand.get(l);
      if (w === undefined) {
        w = function (this: unknown, ev: Event): unknown {
          seen();
          return typeof l === 'function' ? (l as (e: Event) => unknown).call(this, ev) : (l as EventListenerObject).handleEvent(ev);
        };
        stand.set(l, w);
      }
      return w;
    };
    let onabort: unknown = null;
    const noteDerived = (prop: string | symbol): void => {
      if (typeof prop === 'symbol' && !GENERIC_SYMBOLS.has(prop) && !prop.description?.startsWith('events.')) this.derived = true;
    };
    this.signal = new Proxy(signal, {
      get: (target, prop) => {
        noteDerived(prop);
        if (prop === 'aborted' || prop === 'reason') {
          if (target.aborted) seen();
          return target[prop];
        }
        if (prop === 'addEventListener' || prop === 'removeEventListener') {
          return (type: string, l: unknown, opts?: unknown): void => {
            const add = prop === 'addEventListener';
            const use = type !== 'abort' ? l : add ? standIn(l) : ((l !== null && (typeof l === 'function' || typeof l === 'object') && stand.get(l)) || l);
            (target[prop] as (t: string, l: unknown, o?: unknown) => void).call(target, type, use, opts);
          };
        }
        if (prop === 'onabort') return onabort;
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
      set: (target, prop, value: unknown) => {
        noteDerived(prop);
        if (prop !== 'onabort') return Reflect.set(target, prop, value, target);
        onabort = value;
        target.onabort = typeof value === 'function' ? (standIn(value) as (ev: Event) => unknown) : null;
        return true;
      },
    });
    this.rawSignal = signal;
    this.resumed = init.resume === true;
    this.terminal = init.terminal;
    this.now = init.now ?? (() => new Date());
    this.attemptStartedAt = this.now();
    this.startedAt = this.attemptStartedAt;
    this.finite = new FiniteChecker(init.checkFinite ?? 'checkpoint');
  }

  /**
   * Creates the folder's files: params.json, a `running` run_summary.json and log.txt (the folder
   * itself exists: the CLI created and locked it). With `resume`, params.json is kept and the
   * previous summary's metrics, checkpoint count, figure list, `started_at` and `elapsed_s` carry on.
   */
  static async create(init: RunFolderInit): Promise<RunFolder> {
    const f = new RunFolder(init);
    f.assertHeld();
    // every write of src/io into the folder (the example's own: checkpoints, .npy appends, ...)
    // looks at the locks right before it lands, until the run ends; the writes under way are
    // followed (the end waits for them) and, once the run has ended, refused
    if (init.lockGuard) f.unguard = registerWriteGuard(f.outDir, (path) => f.guardWrite(path), { begin: (path) => f.beginWrite(path) });
    try {
      await f.createFiles(init);
    } catch (err) {
      f.releaseWriteGuard();
      throw err;
    }
    return f;
  }

  /** The files of {@link create}. */
  private async createFiles(init: RunFolderInit): Promise<void> {
    const f = this;
    ensureWritableDirSync(f.outDir, '--out');
    for (const sub of ['figures', 'artifacts']) if (!existsSync(join(f.outDir, sub))) mkdirSync(join(f.outDir, sub));
    if (f.resumed) {
      const prev = readJson(join(f.outDir, 'run_summary.json'));
      for (const [k, v] of Object.entries(prev)) if (!(BOOKKEEPING_KEYS as readonly string[]).includes(k)) f.metrics[k] = v;
      f.checkpoints = typeof prev.checkpoints === 'number' ? prev.checkpoints : 0;
      f.resumedCount = (typeof prev.resumed === 'number' ? prev.resumed : 0) + 1;
      const carried = carriedTime(prev, readJson(join(f.outDir, 'params.json')).started_at);
      if (carried.startedAt !== null) f.startedAt = carried.startedAt;
      f.elapsedBefore = carried.elapsedS;
      f.resumedAt = [...carried.resumedAt, f.attemptStartedAt.toISOString()];
      f.figureManifest = readJson(join(f.outDir, 'figures', 'figures.json')) as Record<string, FigureManifestEntry>;
    } else {
      await writeJsonAtomic(join(f.outDir, 'params.json'), { ...init.paramsFile, started_at: f.startedAt.toISOString() });
    }
    await writeJsonAtomic(join(f.outDir, 'run_summary.json'), f.summaryObject());
    f.assertHeld();
    appendFileSync(join(f.outDir, 'log.txt'), '');
    if (f.resumed) {
      const before = (readJson(join(f.outDir, 'params.json')).backend as { name?: unknown } | undefined)?.name;
      if (typeof before === 'string' && before !== init.backend.name) {
        f.log(`warning: resumed on backend ${init.backend.name}; the run started on ${before}, so its results equal an uninterrupted run's only within float32 tolerance, not bit for bit`);
      }
    }
  }

  /**
   * The folder's write guard (see {@link create}): refuses a write into the folder once the run
   * has ended ("the run has ended"; the final summary excepted) or its lock was found lost.
   */
  private guardWrite(path: string): void {
    if (this.ended && path !== join(this.outDir, 'run_summary.json')) {
      // (a lock found lost says so: the folder is another process's)
      if (this.lockLost) throw this.lockGuard!.signal.reason;
      this.assertOpen(`a write of ${path}`);
    }
    this.assertHeld();
  }

  /** The `begin` hook of the folder's write guard: a write of `src/io` under the folder is under way until the function returned is called. */
  private beginWrite(path: string): () => void {
    this.guardWrite(path);
    let settle!: () => void;
    const settled = new Promise<void>((r) => (settle = r));
    this.inFlight.add(settled);
    return () => {
      this.inFlight.delete(settled);
      settle();
    };
  }

  /** Unregisters the folder's write guard (the run has ended); nothing when there is none. */
  private releaseWriteGuard(): void {
    this.unguard?.();
    this.unguard = undefined;
  }

  /**
   * Folder of the example's checkpoint (model + progress + RNG), written with `Network.save` or
   * `saveTensors`. Throws the `RunLockLostError` once the folder's lock was found lost.
   */
  get checkpointDir(): string {
    this.assertOpen('the checkpoint folder');
    this.assertHeld();
    return join(this.outDir, 'checkpoint');
  }

  /**
   * Throws the `RunLockLostError` when the folder's lock (or its parent's) has been found lost,
   * looking at the lock now (see `RunLockGuard.check`); nothing without a guard.
   */
  assertHeld(): void {
    this.lockGuard?.check();
  }

  /**
   * Throws once the run has ended: a write after its end, its lock released (and its write guard
   * unregistered), could land in the folder when another process owns it.
   */
  private assertOpen(what: string): void {
    if (this.ended) throw new Error(`${what} in ${this.outDir} refused: the run has ended (write and await it before the example returns)`);
  }

  /**
   * The write `write` of the context, tracked until it settles (see {@link finish}). The promise
   * returned is the write's own: a rejection the example does not handle stays unhandled.
   */
  private track(write: () => Promise<void>): Promise<void> {
    let settle!: () => void;
    const settled = new Promise<void>((r) => (settle = r));
    this.inFlight.add(settled);
    const p = (async () => {
      try {
        await write();
      } finally {
        this.inFlight.delete(settled);
        settle();
      }
    })();
    return p;
  }

  /** The `commit` check of the context's writes: one still under way when the run ended synchronously is refused before its rename. */
  private commitOpen(what: string): () => boolean {
    return () => {
      this.assertOpen(what);
      return true;
    };
  }

  /** True once the folder's lock (or its parent's) was found lost: the run must not write the folder. */
  get lockLost(): boolean {
    return this.lockGuard?.signal.aborted === true;
  }

  /**
   * True once the example looked at {@link signal} after it was aborted (it stopped early): read
   * `aborted` or `reason` then, or had one of its abort listeners called. A signal the example
   * derives from it (`AbortSignal.any([ctx.signal, mine])`, e.g. with `AbortSignal.timeout`)
   * follows it inside the runtime, where its reads and listeners cannot be seen: once the example
   * has derived one, {@link signal} being aborted counts as seen (the run is `interrupted` if the
   * signal came before the example returned, even if it had finished its work: `--resume` then
   * redoes the work after the last checkpoint rather than a cut-short run passing for complete).
   */
  get interruptObserved(): boolean {
    return this.abortSeen || (this.derived && this.rawSignal.aborted);
  }

  async keepResponsive(): Promise<void> {
    const now = performance.now();
    if (now - this.lastYield < 250) return;
    await new Promise<void>((r) => setImmediate(r));
    this.lastYield = performance.now();
  }

  /** The metrics merged so far (checkpoints and final result). */
  get summary(): Record<string, unknown> {
    return { ...this.metrics };
  }

  /** Current status. */
  get currentStatus(): RunStatus {
    return this.status;
  }

  /**
   * The content of run_summary.json now: bookkeeping keys first, then the metrics. `started_at` is
   * the start of the run's first attempt; `elapsed_s` the compute seconds over all its attempts,
   * elapsed_s = (earlier attempts' elapsed_s) + (now − this attempt's start) / 1000 s, so the time
   * a run sat stopped or crashed between two attempts is not counted; `resumed` the number of
   * resumptions and `resumed_at` their start times (ISO, oldest first).
   */
  summaryObject(): Record<string, unknown> {
    const now = this.now();
    const out: Record<string, unknown> = {
      status: this.status,
      example: this.example,
      seed: this.seed,
      started_at: this.startedAt.toISOString(),
      updated_at: now.toISOString(),
    };
    if (this.status !== 'running') out.finished_at = now.toISOString();
    out.elapsed_s = this.elapsedBefore + (now.getTime() - this.attemptStartedAt.getTime()) / 1000;
    out.checkpoints = this.checkpoints;
    if (this.resumedCount > 0) {
      out.resumed = this.resumedCount;
      out.resumed_at = [...this.resumedAt];
    }
    if (this.errorText !== undefined) out.error = this.errorText;
    for (const [k, v] of Object.entries(this.metrics)) if (!(BOOKKEEPING_KEYS as readonly string[]).includes(k)) out[k] = v;
    return out;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task);
    this.queue = next.catch(() => {});
    return next;
  }

  log(message: string): void {
    this.assertOpen('a log line');
    this.assertHeld();
    const line = `${this.now().toISOString()} ${message}`;
    appendFileSync(join(this.outDir, 'log.txt'), `${line}\n`);
    this.terminal.log(message);
  }

  progress(total: number, label: string): Progress {
    return this.terminal.progress(total, label);
  }

  /** The run's finite checker (see {@link RunContext.finite}). */
  readonly finite: FiniteChecker;

  /**
   * Throws a `NonFiniteError` when `metrics` hold a NaN/Inf or a watched module does (unless the
   * mode is `'off'`); `index` is the checkpoint number reported in the error. `final`: the check
   * of the metrics an example returned (watched modules are not read; they may be disposed).
   */
  async checkFinite(metrics: Record<string, unknown>, index: number, final = false): Promise<void> {
    if (this.finite.mode === 'off') return;
    if (final) {
      // The example has returned (its modules may be disposed): its metrics and the queued per-step reads.
      await this.finite.flush();
      assertFiniteMetrics(metrics, undefined, 'checkpoint', '');
      return;
    }
    assertFiniteMetrics(metrics, index);
    await this.finite.checkpoint(index);
  }

  async checkpoint(summary: Record<string, unknown>): Promise<void> {
    if (this.closed || this.ended || this.finishing) return;
    this.assertHeld();
    await this.checkFinite(summary, this.checkpoints + 1);
    if (this.closed || this.ended || this.finishing) return;
    this.assertHeld();
    Object.assign(this.metrics, summary);
    this.checkpoints++;
    const snapshot = this.summaryObject();
    const written = this.enqueue(() => (this.closed ? Promise.resolve() : writeJsonAtomic(join(this.outDir, 'run_summary.json'), snapshot, { commit: () => !this.closed })));
    if (HOLD_AT > 0 && this.checkpoints === HOLD_AT) return written.then(() => untilAborted(this.rawSignal));
    return written;
  }

  figure(name: string, figure: Figure): Promise<void> {
    checkFileName('figure', name);
    checkFigure(figure);
    const file = `${name}.html`;
    const entry: FigureManifestEntry = { title: figure.title, panels: figure.panels, traces: figure.data.length, file };
    const what = `figure ${name}`;
    this.assertOpen(what);
    this.assertHeld();
    return this.track(() => this.enqueue(async () => {
      this.assertOpen(what);
      this.assertHeld();
      const plotlyUrl = await this.sharedPlotly();
      await writeFileAtomic(join(this.outDir, 'figures', file), figureHtml(figure, { plotly: 'relative', plotlyUrl }), { commit: this.commitOpen(what) });
      // listed only once its page is written: a figure that fails never appears in figures.json
      this.figureManifest[name] = entry;
      await writeJsonAtomic(join(this.outDir, 'figures', 'figures.json'), { ...this.figureManifest }, { commit: this.commitOpen(what) });
    }));
  }

  private plotlyUrl: string | null = null;

  /**
   * One plotly.js copy for all the run folders of a parent folder (`<parent>/plotly.min.js`,
   * loaded as `../../plotly.min.js`); when the parent is not writable, a copy in figures/.
   */
  private async sharedPlotly(): Promise<string> {
    if (this.plotlyUrl !== null) return this.plotlyUrl;
    this.assertHeld();
    try {
      await ensurePlotlyCopy(dirname(this.outDir));
      this.plotlyUrl = `../../${PLOTLY_FILE}`;
    } catch {
      this.assertHeld();
      await ensurePlotlyCopy(join(this.outDir, 'figures'));
      this.plotlyUrl = PLOTLY_FILE;
    }
    return this.plotlyUrl;
  }

  artifactJson(name: string, value: unknown): Promise<void> {
    const file = checkFileName('artifact', name).endsWith('.json') ? name : `${name}.json`;
    const what = `artifact ${file}`;
    this.assertOpen(what);
    this.assertHeld();
    return this.track(() => writeJsonAtomic(join(this.outDir, 'artifacts', file), value, { commit: this.commitOpen(what) }));
  }

  artifactNpy(name: string, data: Float32Array | Int32Array | Uint8Array, shape: number[]): Promise<void> {
    const file = checkFileName('artifact', name).endsWith('.npy') ? name : `${name}.npy`;
    const bytes = encodeNpy(data, shape);
    const what = `artifact ${file}`;
    this.assertOpen(what);
    this.assertHeld();
    return this.track(() => writeFileAtomic(join(this.outDir, 'artifacts', file), bytes, { commit: this.commitOpen(what) }));
  }

  /**
   * Writes `artifacts/<name>.npz` holding several named arrays, eager or lazy (see `writeNpz`:
   * streamed entry by entry, atomic). The folder's lock is looked at before the write starts and
   * again right before the final rename: once it is found lost (even during a long write) the
   * temporary file is removed, nothing is renamed over the new owner's file, and the call rejects
   * with the `RunLockLostError`.
   */
  artifactNpz(name: string, arrays: Record<string, NpzEntry | { data: NpyArray; shape: number[] }>): Promise<void> {
    const file = checkFileName('artifact', name).endsWith('.npz') ? name : `${name}.npz`;
    const what = `artifact ${file}`;
    this.assertOpen(what);
    this.assertHeld();
    return this.track(() => writeNpz(join(this.outDir, 'artifacts', file), arrays, { commit: this.commitOpen(what) }));
  }

  /** Absolute path for a file under artifacts/; throws the `RunLockLostError` once the folder's lock was found lost. */
  artifactPath(name: string): string {
    const path = join(this.outDir, 'artifacts', checkFileName('artifact', name));
    this.assertOpen(`artifact path ${name}`);
    this.assertHeld();
    return path;
  }

  /**
   * Ends the run: merges the final metrics, waits for the writes of the context still under way
   * (figures and artifacts the example started without awaiting them land now, under the lock,
   * before the final summary; their failures are theirs), then writes run_summary.json with the
   * status. Later checkpoints are ignored; any other write through the context after this point
   * is refused ("the run has ended"). Throws the `RunLockLostError` (writing nothing) once the
   * folder's lock was found lost: see {@link abandon}.
   */
  async finish(status: Exclude<RunStatus, 'running'>, metrics: Record<string, unknown> = {}, error?: unknown): Promise<Record<string, unknown>> {
    if (this.closed) return this.summaryObject();
    this.assertHeld();
    Object.assign(this.metrics, metrics);
    this.status = status;
    if (error !== undefined) this.errorText = error instanceof Error ? error.message : String(error);
    this.finishing = true;
    let snapshot: Record<string, unknown>;
    try {
      // (a write started meanwhile, by a callback of the example, is waited for as well)
      while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
      if (this.closed) return this.summaryObject(); // ended meanwhile: finishSync (forced exit) or abandon
      this.assertHeld();
      this.ended = true;
      snapshot = this.summaryObject();
      const written = snapshot;
      await this.enqueue(() => writeJsonAtomic(join(this.outDir, 'run_summary.json'), written, { commit: () => !this.closedSync }));
    } finally {
      this.finishing = false;
    }
    this.closed = true;
    this.releaseWriteGuard();
    return snapshot;
  }

  /**
   * Ends a run whose folder is no longer its own (its lock was found lost): writes nothing, drops
   * the writes still queued, and returns the summary as it would have been, with status `failed`
   * and the message of `error`.
   */
  abandon(error: unknown, metrics: Record<string, unknown> = {}): Record<string, unknown> {
    this.ended = true;
    if (!this.closed) {
      Object.assign(this.metrics, metrics);
      this.status = 'failed';
      this.errorText = error instanceof Error ? error.message : String(error);
    }
    this.closed = true;
    this.closedSync = true;
    this.releaseWriteGuard();
    return this.summaryObject();
  }

  /**
   * Synchronous end for a process about to exit (second signal or grace period over), or of a run
   * whose asynchronous end failed: writes run_summary.json with the status (and the message of
   * `error`, if given) and what was checkpointed, and ignores later writes. While {@link finish}'s
   * write is pending (the run has ended and its status is decided, e.g. `completed`), that status,
   * error and final metrics are what is written, not `status`: a run that finished its work is
   * not recorded interrupted. The context's writes still under way are refused before their
   * rename ("the run has ended"), as are later ones.
   */
  finishSync(status: Exclude<RunStatus, 'running'>, error?: unknown): Record<string, unknown> {
    this.ended = true;
    if (this.closed) return this.summaryObject();
    try {
      this.assertHeld();
      if (!this.finishing) {
        this.status = status;
        if (error !== undefined) this.errorText = error instanceof Error ? error.message : String(error);
      }
      this.closed = true;
      this.closedSync = true;
      const snapshot = this.summaryObject();
      writeJsonAtomicSync(join(this.outDir, 'run_summary.json'), snapshot);
      return snapshot;
    } finally {
      // the run ends here whatever happened (a failure of this last write is the caller's to report)
      this.releaseWriteGuard();
    }
  }

  /** Number of checkpoints written so far. */
  get checkpointCount(): number {
    return this.checkpoints;
  }

  /** True once {@link finish} or {@link finishSync} ran. */
  get isClosed(): boolean {
    return this.closed;
  }
}
