/**
 * Worker thread of `cinder lateral-line --workers W`: runs one batch of lanes ({@link runBatch}) and
 * talks to the main thread through messages — log lines, progress ticks, summary checkpoints and
 * figures go to the main thread's run folder; artifacts are written here directly (atomic files);
 * an `abort` message stops the batch at the next trial as SIGINT does.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { join } from 'node:path';
import type { Params, Progress } from '../../src/cli/example.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import { readNpz } from '../../src/io/npy.js';
import type { Figure } from '../../src/viz/figure.js';
import { runBatch, type BatchContext } from './batch.js';

/** What the main thread sends to start a worker. */
export interface WorkerStart {
  params: Params;
  outDir: string;
  seeds: number[];
  batchIndex: number;
  nBatches: number;
  /** The batch's checkpoint npz to continue from (`--resume`), or null for a fresh start. */
  resumeFile: string | null;
}

/** Messages from a worker. */
export type WorkerMessage =
  | { type: 'log'; message: string }
  | { type: 'tick'; n: number; info?: string }
  | { type: 'checkpoint'; id: number; summary: Record<string, unknown> }
  | { type: 'figure'; name: string; figure: Figure }
  | { type: 'done'; value: Awaited<ReturnType<typeof runBatch>> }
  | { type: 'error'; message: string };

const port = parentPort;
if (port) {
  const start = workerData as WorkerStart;
  const controller = new AbortController();
  // a checkpoint waits for the main thread's acknowledgement (the summary is written, or the run
  // is held there by a test), so the batch never runs ahead of its run folder
  const acks = new Map<number, () => void>();
  let nextId = 0;
  port.on('message', (m: { type: string; id?: number }) => {
    if (m.type === 'abort') {
      controller.abort('SIGINT');
      for (const r of acks.values()) r();
      acks.clear();
    } else if (m.type === 'ack' && m.id !== undefined) {
      acks.get(m.id)?.();
      acks.delete(m.id);
    }
  });
  const send = (m: WorkerMessage): void => port.postMessage(m);
  const ctx: BatchContext = {
    params: start.params,
    outDir: start.outDir,
    signal: controller.signal,
    log: (message: string) => send({ type: 'log', message }),
    progress: (): Progress => ({ tick: (n = 1, info?: string) => send({ type: 'tick', n, info }), done: () => {} }),
    checkpoint: (summary: Record<string, unknown>) => {
      if (controller.signal.aborted) return Promise.resolve();
      const id = nextId++;
      return new Promise<void>((r) => {
        acks.set(id, r);
        send({ type: 'checkpoint', id, summary });
      });
    },
    figure: async (name: string, figure: Figure) => send({ type: 'figure', name, figure }),
    artifactJson: (name: string, value: unknown) => writeJsonAtomic(join(start.outDir, 'artifacts', name.endsWith('.json') ? name : `${name}.json`), value),
    artifactPath: (name: string) => join(start.outDir, 'artifacts', name),
  };
  runBatch(ctx, start.seeds, start.resumeFile === null ? null : readNpz(start.resumeFile), start.batchIndex, start.nBatches)
    .then((value) => send({ type: 'done', value }))
    .catch((e: unknown) => send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
}
