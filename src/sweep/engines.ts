/**
 * Sweep engines: where jobs run.
 *
 * - {@link LocalEngine}: a pool of N lanes on this machine, each job its own child process (a crash
 *   or out-of-memory costs only that job).
 * - {@link BullmqEngine}: jobs in a BullMQ queue on Redis, taken by `cinder worker` processes on any
 *   machine ({@link runWorker}). Job ids are `<sweep id>~<job name>`, so submitting a job twice is a
 *   no-op and a continued sweep finds its earlier jobs. A worker killed mid-job loses its lock; after
 *   `lockMs` another worker's stalled-job check moves the job back to the queue and it runs again.
 *   A worker that lost a lock while alive (stopped, stalled, or Redis emptied) kills that job's run
 *   and discards its attempt, so a job never runs twice at once. Only a worker holding the lock
 *   can complete a job, so each job has one result, and the coordinator records each job once.
 *   The coordinator puts a job that vanished from Redis (a restarted server without persistence)
 *   back in the queue, and gives up when Redis stays unreachable for `lostMs`; an error of its own
 *   hooks (sweep.json not writable) ends its run at once, the job left in Redis for the next one.
 * @module
 */
import { checkInteger, checkNonNegative, checkOptionKeys, checkRange, optionKeys } from '../core/errors.js';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { removeStaleAttempts, startJob, type JobRequest, type JobResult, type RunningJob } from './child.js';
import { redisConnection, type RedisAddress } from './redis.js';

/** A job as engines see it. */
export interface EngineJob extends JobRequest {
  /** Unique job name within the sweep. */
  name: string;
}

/** Callbacks of {@link SweepEngine.run}. */
export interface EngineHooks {
  /** A job started (or was seen running) on `worker`. */
  onStart(name: string, worker: string): void;
  /** A job ended; called once per job. */
  onResult(name: string, result: JobResult, worker: string): Promise<void> | void;
  /**
   * Asked right before a job this engine ran itself is installed into the sweep folder (its
   * attempt folder renamed to its run folder): false discards the attempt (the coordinator lost
   * the folder). Optional: always installed without it.
   */
  mayInstall?(): boolean;
}

/** Runs jobs somewhere. */
export interface SweepEngine {
  /** Runs the jobs; resolves when all have a result, or soon after {@link stop}. */
  run(jobs: readonly EngineJob[], hooks: EngineHooks): Promise<void>;
  /** Stops starting jobs; local jobs get SIGINT (they end at their next checkpoint). */
  stop(): void;
  /**
   * Stops at once because another process now owns the sweep folder (its coordinator's lock was
   * taken over): no job starts, and jobs this engine runs itself are killed and their attempts
   * discarded, never installed into the folder (their results, `interrupted` with `reason`, still
   * go to `onResult`). Optional: an engine without it is stopped with {@link stop}.
   */
  abandon?(reason: string): void;
}

/**
 * Child processes on this machine, at most `workers` at a time. When a hook throws (e.g. `onResult`
 * cannot write sweep.json) or a job cannot be started, no further job starts, the jobs still running
 * are given up (each process group killed, its attempt folder removed; their results, `interrupted`,
 * still go to `onResult`, whose errors are then ignored), and `run` rejects with the first error once
 * every process has ended, so none is left running without its sweep.
 */
export class LocalEngine implements SweepEngine {
  private stopping = false;
  private readonly running = new Set<RunningJob>();

  /**
   * @param workers parallel processes (an integer >= 1)
   * @param command the `cinder` command (default {@link cinderCommand})
   * @throws CinderArgumentError when `workers` is not an integer >= 1
   */
  constructor(readonly workers: number, private readonly command?: string[]) {
    checkInteger('workers', workers, 1);
  }

  async run(jobs: readonly EngineJob[], hooks: EngineHooks): Promise<void> {
    let next = 0;
    let failure: { error: unknown } | undefined;
    const lane = async (): Promise<void> => {
      try {
        while (!this.stopping && failure === undefined && next < jobs.length) {
          const job = jobs[next++]!;
          hooks.onStart(job.name, 'local');
          const rj = startJob(job, { command: this.command, ...(hooks.mayInstall ? { mayInstall: () => hooks.mayInstall!() } : {}) });
          this.running.add(rj);
          const result = await rj.done;
          this.running.delete(rj);
          if (this.stopping && result.status === 'failed' && result.exitCode === null) result.status = 'interrupted';
          try {
            await hooks.onResult(job.name, result, 'local');
          } catch (e) {
            if (failure === undefined) throw e;
          }
        }
      } catch (error) {
        if (failure !== undefined) return;
        failure = { error };
        const why = error instanceof Error ? error.message : String(error);
        for (const rj of this.running) rj.abandon(`stopped: the sweep failed (${why})`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.workers, jobs.length)) }, lane));
    if (failure !== undefined) throw failure.error;
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const rj of this.running) rj.child.kill('SIGINT');
  }

  /** Starts no further job and gives up the running ones (process group killed, attempt folder removed). */
  abandon(reason: string): void {
    this.stopping = true;
    for (const rj of this.running) rj.abandon(reason);
  }
}

/** Data of a BullMQ job of a sweep. */
export interface SweepJobData extends EngineJob {
  /** The sweep's id. */
  sweepId: string;
}

/** Return value of a BullMQ job: the run's result and who ran it. */
export interface SweepJobReturn {
  /** The result. */
  result: JobResult;
  /** `host:pid` of the worker. */
  worker: string;
}

/** Default BullMQ queue of `cinder sweep --engine bullmq` and `cinder worker`. */
export const DEFAULT_QUEUE = 'cinder-sweep';

/**
 * Checks within `timeoutMs` that a Redis server answers PING.
 * @returns undefined when it does, else the reason
 */
export async function checkRedis(address: RedisAddress, timeoutMs = 4000): Promise<string | undefined> {
  const c = redisConnection(address, { probe: true, timeoutMs });
  c.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      c.connect().then(() => c.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
    c.disconnect();
  }
}

/** An error thrown by a hook of {@link EngineHooks} inside {@link BullmqEngine.run} (told apart from Redis's errors). */
class HookFailure {
  constructor(readonly error: unknown) {}
}

/** The coordinator's side of a sweep on BullMQ: submits jobs and collects their results. */
export class BullmqEngine implements SweepEngine {
  private stopping = false;
  private wake: (() => void) | null = null;

  /**
   * @param address the Redis server
   * @param sweepId the sweep's id (job ids start with it)
   * @param queueName BullMQ queue (default {@link DEFAULT_QUEUE})
   * @param pollMs how often job states are checked (default 200 ms)
   * @param lostMs how long Redis may stay unreachable before {@link run} fails (default 60 s; timed by the
   *   monotonic clock `performance.now`, so a step of the wall clock does not change it)
   * @throws CinderArgumentError when `pollMs` is not in [1, 2^31 − 1] (`setTimeout`'s range: past it
   *   Node waits 1 ms) or `lostMs` is not a finite number >= 0
   */
  constructor(readonly address: RedisAddress, readonly sweepId: string, readonly queueName = DEFAULT_QUEUE, readonly pollMs = 200, readonly lostMs = 60_000) {
    checkRange('pollMs', pollMs, 1, 2 ** 31 - 1);
    checkNonNegative('lostMs', lostMs);
  }

  /** BullMQ job id of a job of this sweep. */
  jobId(name: string): string {
    return `${this.sweepId}~${name}`;
  }

  async run(jobs: readonly EngineJob[], hooks: EngineHooks): Promise<void> {
    // commands fail (after one reconnection attempt) instead of waiting for Redis for ever
    const conn = redisConnection(this.address, { failFast: true });
    let lastError = '';
    conn.on('error', (e: Error) => {
      lastError = e.message;
    });
    const queue = new Queue<SweepJobData, SweepJobReturn>(this.queueName, { connection: conn });
    queue.on('error', (e: Error) => {
      lastError = e.message;
    });
    const submit = (j: EngineJob): Promise<unknown> => queue.add('run', { ...j, sweepId: this.sweepId }, { jobId: this.jobId(j.name), removeOnComplete: false, removeOnFail: false, attempts: 1 });
    let failed = false;
    try {
      const outstanding = new Map<string, EngineJob>();
      const started = new Set<string>();
      // an error of a hook (sweep.json not writable, the sweep's lock lost) is the sweep's, not a
      // lost Redis: it ends run() at once, and the job is left in Redis for the next coordinator
      const hook = async (call: () => Promise<void> | void): Promise<void> => {
        try {
          await call();
        } catch (error) {
          throw new HookFailure(error);
        }
      };
      const record = async (job: Job<SweepJobData, SweepJobReturn> | undefined, name: string, state: string): Promise<boolean> => {
        if (!job || (state !== 'completed' && state !== 'failed')) return false;
        const [result, worker]: [JobResult, string] = state === 'completed' ? [job.returnvalue.result, job.returnvalue.worker] : [{ status: 'failed', exitCode: null, summary: {}, error: job.failedReason || 'job failed', ms: 0 }, 'bullmq'];
        await hook(() => hooks.onResult(name, result, worker));
        // recorded in sweep.json: the job is no longer needed in Redis
        await job.remove().catch(() => {});
        return true;
      };
      for (const j of jobs) {
        const id = this.jobId(j.name);
        const existing = (await queue.getJob(id)) as Job<SweepJobData, SweepJobReturn> | undefined;
        const state = existing ? await existing.getState() : 'missing';
        try {
          if (state === 'completed' && (await record(existing, j.name, state))) continue;
        } catch (e) {
          throw e instanceof HookFailure ? e.error : e;
        }
        if (existing && state === 'failed') await existing.remove();
        if (!existing || state === 'failed' || state === 'unknown') await submit(j);
        outstanding.set(id, j);
      }
      // since when Redis has been unreachable (performance.now, monotonic: a step of the wall clock
      // must neither end the wait at once nor stretch it), or null while it answers
      let lostSince: number | null = null;
      while (outstanding.size > 0 && !this.stopping) {
        try {
          for (const [id, j] of [...outstanding]) {
            const state = await queue.getJobState(id);
            if (state === 'active' && !started.has(id)) {
              started.add(id);
              await hook(() => hooks.onStart(j.name, 'bullmq'));
            }
            if (state === 'completed' || state === 'failed') {
              const job = (await queue.getJob(id)) as Job<SweepJobData, SweepJobReturn> | undefined;
              if (await record(job, j.name, state)) outstanding.delete(id);
            }
            if (state === 'unknown') {
              // gone from Redis without a result (restarted without persistence, flushed): again
              // to the queue; a worker still running it loses its lock and stops its run
              started.delete(id);
              await submit(j);
            }
          }
          lostSince = null;
        } catch (e) {
          if (e instanceof HookFailure) throw e.error;
          // Redis unreachable for a moment: the client reconnects; give up after lostMs
          lostSince ??= performance.now();
          if (performance.now() - lostSince > this.lostMs) {
            failed = true;
            const why = e instanceof Error ? e.message : String(e);
            throw new Error(`Redis at ${this.address.host}:${this.address.port} unreachable for ${Math.round(this.lostMs / 1000)} s (${lastError || why}); the jobs stay in Redis and running jobs go on: run the same cinder sweep again to collect them`);
          }
        }
        if (outstanding.size === 0 || this.stopping) break;
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.pollMs);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = null;
      }
    } finally {
      if (failed) conn.disconnect();
      await queue.close().catch(() => {});
      if (!failed) await conn.quit().catch(() => conn.disconnect());
    }
  }

  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  /** Stops collecting (as {@link stop}): the jobs stay in Redis, where the new coordinator finds them. */
  abandon(): void {
    this.stop();
  }
}

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** The Redis server. */
  address: RedisAddress;
  /** Queue (default {@link DEFAULT_QUEUE}). */
  queueName?: string;
  /** Jobs at a time (default 1). */
  concurrency?: number;
  /** Lock duration in ms: a worker silent for this long counts as dead and its job runs again (default 30 000). */
  lockMs?: number;
  /** Aborting stops taking jobs and waits for the running ones. */
  signal: AbortSignal;
  /** A line of output. */
  log(line: string): void;
  /** The `cinder` command for the jobs (default {@link cinderCommand}). */
  command?: string[];
}

/** The keys of {@link WorkerOptions}: other keys are refused ("invalid options key"). */
export const WORKER_OPTION_KEYS = optionKeys<WorkerOptions>()(['address', 'queueName', 'concurrency', 'lockMs', 'signal', 'log', 'command']);

/**
 * `cinder worker`: takes sweep jobs from the queue until `signal` aborts, running each in its own
 * process. A failed run is a completed job whose result says `failed` (runs are deterministic, so
 * retrying would fail again); only a lost worker makes BullMQ run a job again. When renewing a
 * job's lock fails (this worker was stopped or stalled past `lockMs`, or Redis lost the job), the
 * job belongs to nobody or to another worker: its run is killed and its attempt folder removed.
 * Before a job starts, attempt folders of that job left by dead processes on this host go.
 * @returns the number of jobs this worker completed
 */
export async function runWorker(options: WorkerOptions): Promise<number> {
  checkOptionKeys('options', options, WORKER_OPTION_KEYS);
  const lockMs = options.lockMs ?? 30_000;
  const me = `${hostname()}:${process.pid}`;
  const conn = redisConnection(options.address);
  conn.on('error', () => {});
  let count = 0;
  const worker = new Worker<SweepJobData, SweepJobReturn>(
    options.queueName ?? DEFAULT_QUEUE,
    async (job, _token, signal) => {
      options.log(`start ${job.data.name}`);
      await removeStaleAttempts(dirname(job.data.outDir), basename(job.data.outDir)).catch(() => {});
      const rj = startJob({ args: job.data.args, outDir: job.data.outDir }, { command: options.command });
      const onLost = (): void => {
        options.log(`lost the lock of ${job.data.name}: stopped its run (the job runs again elsewhere)`);
        rj.abandon(`the worker ${me} lost the job's lock`);
      };
      signal?.addEventListener('abort', onLost, { once: true });
      const result = await rj.done;
      signal?.removeEventListener('abort', onLost);
      if (signal?.aborted) throw new Error(`lock of ${job.data.name} lost`);
      count++;
      options.log(`${result.status} ${job.data.name} (${(result.ms / 1000).toFixed(1)} s)`);
      return { result, worker: me };
    },
    {
      connection: conn, concurrency: options.concurrency ?? 1, lockDuration: lockMs, stalledInterval: Math.max(500, Math.round(lockMs / 2)),
      maxStalledCount: 10, drainDelay: 1,
    },
  );
  worker.on('error', (e) => options.log(`worker error: ${e.message}`));
  worker.on('lockRenewalFailed', (ids: string[]) => {
    for (const id of ids) worker.cancelJob(id, 'lock lost');
  });
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    else options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await worker.close();
  await conn.quit().catch(() => {});
  return count;
}
