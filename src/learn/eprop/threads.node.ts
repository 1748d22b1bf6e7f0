/**
 * Worker threads for the JavaScript e-prop kernel (Node only; in `cinder-snn/node`). A batch is cut
 * into slices of `EPROP_SLICE` sequences (`./js-batch.ts`); {@link EPropThreads.run} hands them to
 * the threads as they become free and returns the partials in slice order, so the trainer adds them
 * in the same order as on one thread: the same bits for any number of threads.
 *
 *     const threads = await EPropThreads.create(4);
 *     const trainer = new EProp({ …, threads });
 *     await trainer.stepAsync(batch);   // the async methods use the threads
 *     await threads.close();
 *
 * Each thread keeps its own ψ/z/D scratch (about 14 MB per slice at T = 2250, n = 100). A job's
 * inputs are copied to the thread (T·nIn floats per sequence); only sums come back.
 * @module
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { moduleWorker } from '../../core/module-worker.node.js';
import { CinderArgumentError, checkInteger } from '../../core/errors.js';
import type { EPropSliceJob, EPropSlicePartial, EPropSliceRunner } from './js-batch.js';

type Reply = { ready: true } | { type: 'error'; message: string } | { i: number; partial: EPropSlicePartial } | { i: number; error: string };

/** Starts one worker (`thread-worker.node.ts`) and waits until it is ready. */
function spawn(): Promise<Worker> {
  const w = moduleWorker(import.meta.url, './thread-worker.node');
  return new Promise((resolve, reject) => {
    const onMessage = (m: Reply) => {
      w.off('message', onMessage);
      w.off('error', reject);
      if ('ready' in m) {
        w.unref(); // an idle pool does not keep the process alive
        resolve(w);
      } else {
        void w.terminate();
        reject(new Error(`e-prop worker thread failed to start: ${'message' in m ? m.message : 'no ready message'}`));
      }
    };
    w.on('message', onMessage);
    w.on('error', reject);
  });
}

/** A pool of worker threads running the JavaScript e-prop kernel's slices (see the module text). */
export class EPropThreads implements EPropSliceRunner {
  /** Number of worker threads. */
  readonly threads: number;
  private readonly workers: Worker[];
  private queue: Promise<unknown> = Promise.resolve();
  private broken: string | undefined;

  private constructor(workers: Worker[]) {
    this.workers = workers;
    this.threads = workers.length;
    // a thread that fails or ends while idle breaks the pool (the next run says so)
    for (const w of workers) {
      w.on('error', (e: Error) => void (this.broken ??= `broken (${e.message})`));
      w.on('exit', (code: number) => void (this.broken ??= `broken (a worker thread exited with code ${code})`));
    }
  }

  /**
   * Starts `threads` worker threads (default: `os.availableParallelism()`).
   * @throws CinderArgumentError when `threads` is not an integer ≥ 1
   */
  static async create(threads: number = availableParallelism()): Promise<EPropThreads> {
    checkInteger('threads', threads, 1);
    const started = await Promise.allSettled(Array.from({ length: threads }, () => spawn()));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      for (const s of started) if (s.status === 'fulfilled') void s.value.terminate();
      throw failed.reason;
    }
    return new EPropThreads(started.map((s) => (s as PromiseFulfilledResult<Worker>).value));
  }

  /** Runs the jobs on the threads (one run at a time; later calls wait); partials in job order. */
  run(jobs: EPropSliceJob[]): Promise<EPropSlicePartial[]> {
    const next = this.queue.then(() => this.runNow(jobs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private runNow(jobs: EPropSliceJob[]): Promise<EPropSlicePartial[]> {
    if (this.broken !== undefined) return Promise.reject(new CinderArgumentError('threads', this.broken, 'an open EPropThreads pool'));
    const out: EPropSlicePartial[] = new Array(jobs.length);
    if (jobs.length === 0) return Promise.resolve(out);
    return new Promise((resolve, reject) => {
      let next = 0;
      let done = 0;
      let over = false;
      const listeners = this.workers.map((w) => {
        const onMessage = (m: Reply) => {
          if (over || 'ready' in m || 'type' in m) return;
          if ('error' in m) return finish(new Error(`e-prop worker thread, slice ${m.i}: ${m.error}`));
          out[m.i] = m.partial;
          if (++done === jobs.length) finish();
          else feed(w);
        };
        const onError = (e: Error) => finish(e);
        const onExit = (code: number) => finish(new Error(`an e-prop worker thread exited with code ${code} during a run`));
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        w.ref(); // keep the process alive while slices are out
        return { w, onMessage, onError, onExit };
      });
      const feed = (w: Worker) => {
        if (!over && next < jobs.length) {
          const i = next++;
          try {
            const job = jobs[i]!;
            // a view would be cloned with its whole buffer (the batch): copy just the slice's range,
            // and hand that copy over (transferred, not cloned a second time)
            const data = job.input.data.slice();
            w.postMessage({ i, job: { ...job, input: { ...job.input, data } } }, [data.buffer as ArrayBuffer]);
          } catch (e) {
            finish(new Error(`e-prop worker thread, slice ${i}: the job could not be sent (${(e as Error).message})`));
          }
        }
      };
      const finish = (error?: Error) => {
        if (over) return;
        over = true;
        for (const l of listeners) {
          l.w.off('message', l.onMessage);
          l.w.off('error', l.onError);
          l.w.off('exit', l.onExit);
          l.w.unref();
        }
        if (error) {
          // slices may still be running: a later run must not see their replies
          this.broken ??= `broken (${error.message})`;
          reject(error);
        } else resolve(out);
      };
      for (const w of this.workers) feed(w);
    });
  }

  /** Stops the threads; the pool cannot run afterwards. */
  async close(): Promise<void> {
    this.broken ??= 'closed';
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
