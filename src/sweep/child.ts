/**
 * One job of a sweep in its own process: `cinder <example> … --out <attempt folder>`. The run
 * writes into a fresh hidden attempt folder `runs/.attempt-<job>~<host>~<pid>~<id>/` (host and pid
 * of the process that started it), which is renamed to `runs/<job>/` when the process ends, so an
 * earlier attempt (interrupted, failed, or still running as an orphan of a killed worker) never
 * mixes with the new one. An abandoned job ({@link RunningJob.abandon}: its worker lost the job's
 * lock, so another worker runs it) is killed and its attempt folder removed, never installed.
 * @module
 */
import { checkOptionKeys, optionKeys } from '../core/errors.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive } from '../io/process-alive.js';

/** Exit status of a job's process and what it left. */
export interface JobResult {
  /** `completed` (exit 0), `interrupted` (exit 130/143 or stopped by us), `failed` otherwise. */
  status: 'completed' | 'failed' | 'interrupted';
  /** Exit code (null when killed by a signal). */
  exitCode: number | null;
  /** The run's run_summary.json (empty when it wrote none). */
  summary: Record<string, unknown>;
  /** Error text for a failed job. */
  error?: string;
  /** Milliseconds the process ran. */
  ms: number;
}

/** What to run. */
export interface JobRequest {
  /** `cinder` arguments without `--out`. */
  args: readonly string[];
  /** Final run folder (absolute). */
  outDir: string;
}

/**
 * The command that starts `cinder` in a child process, as `[executable, ...args]`:
 * `CINDER_SWEEP_COMMAND` (a JSON array) when set; else the running process's own entry script when
 * it is a `cinder` bin (same Node flags, e.g. `--import tsx`); else the package's bin next to this
 * module: `dist/bin/cinder.js` when built, `bin/cinder.ts` through tsx from a source checkout.
 */
export function cinderCommand(env: NodeJS.ProcessEnv = process.env): string[] {
  const override = env.CINDER_SWEEP_COMMAND;
  if (override) {
    const parsed: unknown = JSON.parse(override);
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((p) => typeof p === 'string')) {
      throw new Error(`invalid CINDER_SWEEP_COMMAND: got ${override}, expected a JSON array of strings`);
    }
    return parsed as string[];
  }
  const script = process.argv[1];
  if (script && /^cinder$|cinder[\w-]*\.(ts|js|mjs)$/.test(basename(script))) return [process.execPath, ...process.execArgv, realpathSync(script)];
  const here = fileURLToPath(import.meta.url);
  const root = resolve(dirname(here), '..', '..');
  if (here.endsWith('.ts')) return [process.execPath, '--import', import.meta.resolve('tsx'), join(root, 'bin', 'cinder.ts')];
  return [process.execPath, join(root, 'bin', 'cinder.js')];
}

/** The orphan guard module, preloaded into run processes. */
function guardModule(): string {
  const here = fileURLToPath(import.meta.url);
  return join(dirname(here), `orphan-guard${here.endsWith('.ts') ? '.ts' : '.js'}`);
}

/** A job's process, started by {@link startJob}. */
export interface RunningJob {
  /** The child process. */
  child: ChildProcess;
  /** Resolves when it has ended and its folder is in place (or, abandoned, removed). */
  done: Promise<JobResult>;
  /**
   * Gives the job up: its process group is killed (SIGKILL: the attempt is discarded, so there is
   * nothing to save), its attempt folder removed instead of installed, and `done` resolves
   * `interrupted` with `reason` as its error. Used when another process now owns the job.
   */
  abandon(reason: string): void;
}

const ATTEMPT_PREFIX = '.attempt-';

/** This host's name as it appears in attempt folder names (no `~` or `/`). */
function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Who made an attempt folder, read from its name. */
export interface AttemptOwner {
  /** The job (its run folder's name). */
  job: string;
  /** Host tag of the process that started it. */
  host: string;
  /** Its process id. */
  pid: number;
}

/**
 * The owner of an attempt folder named `.attempt-<job>~<host>~<pid>~<hex>`; names of the earlier
 * form `.attempt-<job>-<pid>-<hex>` count as this host's. Undefined for any other name.
 */
export function attemptOwner(name: string): AttemptOwner | undefined {
  if (!name.startsWith(ATTEMPT_PREFIX)) return undefined;
  const rest = name.slice(ATTEMPT_PREFIX.length);
  const current = /^(.+)~([^~]+)~(\d+)~[0-9a-f]{8}$/.exec(rest);
  if (current) return { job: current[1]!, host: current[2]!, pid: Number(current[3]) };
  const legacy = /^(.+)-(\d+)-[0-9a-f]{8}$/.exec(rest);
  return legacy ? { job: legacy[1]!, host: hostTag(), pid: Number(legacy[2]) } : undefined;
}

/** What {@link removeStaleAttempts} did. */
export interface StaleAttempts {
  /** Names of the attempt folders removed. */
  removed: string[];
  /** Names of attempt folders of other hosts, kept (their processes cannot be checked from here). */
  otherHosts: string[];
}

/**
 * Removes the attempt folders under `runsDir` (only `job`'s, when given) whose starting process
 * on this host has ended: nothing can still write into them. Attempts of live processes and of
 * other hosts (whose processes cannot be checked from here) stay.
 * @returns the names removed and the names of other hosts' attempts kept
 */
export async function removeStaleAttempts(runsDir: string, job?: string): Promise<StaleAttempts> {
  const removed: string[] = [];
  const otherHosts: string[] = [];
  let names: string[];
  try {
    names = await readdir(runsDir);
  } catch {
    return { removed, otherHosts };
  }
  const here = hostTag();
  for (const n of names) {
    const owner = attemptOwner(n);
    if (!owner || (job !== undefined && owner.job !== job)) continue;
    if (owner.host !== here) otherHosts.push(n);
    else if (!processAlive(owner.pid)) {
      await rm(join(runsDir, n), { recursive: true, force: true });
      removed.push(n);
    }
  }
  return { removed, otherHosts };
}

/**
 * A run folder's run_summary.json: the object (empty when there is none or it is not a JSON
 * object) and, when it is not the summary of a completed run, what is wrong with it.
 */
function readSummary(dir: string): { summary: Record<string, unknown>; problem?: string } {
  const path = join(dir, 'run_summary.json');
  let s: unknown;
  try {
    s = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    return { summary: {}, problem: missing ? `it wrote no ${path}` : `${path} is not readable JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return { summary: {}, problem: `${path} is not a JSON object` };
  const summary = s as Record<string, unknown>;
  if (summary.status !== 'completed') return { summary, problem: `${path} says status ${JSON.stringify(summary.status)}, not "completed"` };
  return { summary };
}

/** Options of {@link startJob}. */
export interface StartJobOptions {
  /** The command that runs `cinder` (default: this package's CLI under this Node.js). */
  command?: string[];
  /** Environment whose CINDER_SWEEP_COMMAND overrides the default command (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Asked when the process has ended, right before its attempt folder replaces the run folder:
   * false discards the attempt instead (removed, `done` resolves `interrupted`), for a coordinator
   * that no longer owns the sweep folder. Default: always installed.
   */
  mayInstall?: () => boolean;
}

/** The keys of {@link StartJobOptions}: other keys are refused ("invalid options key"). */
export const START_JOB_OPTION_KEYS = optionKeys<StartJobOptions>()(['command', 'env', 'mayInstall']);

/**
 * Starts one job in a child process (stdout/stderr go to `<run folder>/process.txt` only through
 * the run's own log; the child runs `--quiet`). The process's exit code decides the status; exit 0
 * is `completed` only when the run folder holds a run_summary.json object with status
 * `completed` (otherwise the job fails, saying what is missing or unreadable).
 */
export function startJob(req: JobRequest, options: StartJobOptions = {}): RunningJob {
  checkOptionKeys('options', options, START_JOB_OPTION_KEYS);
  const [exe, ...pre] = options.command ?? cinderCommand(options.env);
  const outDir = resolve(req.outDir);
  const attempt = join(dirname(outDir), `${ATTEMPT_PREFIX}${basename(outDir)}~${hostTag()}~${process.pid}~${randomBytes(4).toString('hex')}`);
  const t0 = Date.now();
  // the command is [node, ...node flags, script]; the guard joins the node flags
  const isNode = basename(exe!).startsWith('node') && pre.length > 0;
  const argv = isNode
    ? [...pre.slice(0, -1), '--import', guardModule(), pre[pre.length - 1]!, ...req.args, '--out', attempt, '--quiet']
    : [...pre, ...req.args, '--out', attempt, '--quiet'];
  const child = spawn(exe!, argv, {
    stdio: ['ignore', 'ignore', 'pipe'],
    // its own process group: Ctrl-C reaches the sweep only, which tells its runs to stop once
    detached: true,
    env: { ...(options.env ?? process.env), CINDER_SWEEP_PARENT: String(process.pid), CI: '1' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  let abandoned: string | undefined;
  const done = new Promise<JobResult>((resolveDone) => {
    let ended = false;
    const finish = async (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): Promise<void> => {
      if (ended) return;
      ended = true;
      const ms = Date.now() - t0;
      if (abandoned === undefined && existsSync(attempt) && options.mayInstall && !options.mayInstall()) abandoned = `not installed: ${outDir} is no longer this sweep's to write`;
      if (abandoned !== undefined) {
        await rm(attempt, { recursive: true, force: true }).catch(() => {});
        resolveDone({ status: 'interrupted', exitCode: code, summary: {}, error: abandoned, ms });
        return;
      }
      let read: ReturnType<typeof readSummary> = { summary: {}, problem: `it wrote no run folder (${attempt})` };
      let installError: string | undefined;
      if (existsSync(attempt)) {
        // the attempt replaces the run folder; when that fails (another process installed the same
        // job meanwhile) the job fails with the reason and the attempt is kept, but `done` resolves
        try {
          await mkdir(dirname(outDir), { recursive: true });
          await rm(outDir, { recursive: true, force: true });
          await rename(attempt, outDir);
          read = readSummary(outDir);
        } catch (err) {
          installError = `could not install ${attempt} as ${outDir}: ${err instanceof Error ? err.message : String(err)}`;
          read = readSummary(attempt);
        }
      }
      const summary = read.summary;
      const exited: JobResult['status'] = code === 0 ? 'completed' : code === 130 || code === 143 || signal === 'SIGINT' || signal === 'SIGTERM' ? 'interrupted' : 'failed';
      // exit 0 counts as completed only with the summary of a completed run: a sweep never records
      // (and so never skips on continuing) a run whose results are missing or unreadable
      const noResults = exited === 'completed' && read.problem !== undefined ? `exit code 0, but ${read.problem}` : undefined;
      const status: JobResult['status'] = (installError || noResults) && exited === 'completed' ? 'failed' : exited;
      const error = status === 'completed' ? undefined
        : installError ?? noResults ?? (spawnError ? spawnError.message
          : typeof summary.error === 'string' ? summary.error
            : (stderr.trim().split('\n').slice(-3).join(' ') || `exit code ${code}${signal ? `, signal ${signal}` : ''}`));
      resolveDone({ status, exitCode: code, summary, error, ms });
    };
    child.once('error', (e) => void finish(null, null, e));
    child.once('exit', (code, signal) => void finish(code, signal));
  });
  const abandon = (reason: string): void => {
    if (abandoned !== undefined) return;
    abandoned = reason;
    try {
      // detached: the run is its own process group (the group id is its pid)
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL'); // already gone, or no group: the process itself
    }
  };
  return { child, done, abandon };
}
