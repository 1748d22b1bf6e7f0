/**
 * A worker thread of {@link EPropThreads}: runs slices of e-prop batches with the JavaScript kernel
 * (`runSlice`), keeping its own scratch arrays from batch to batch. Node only.
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { runSlice, type EPropSliceJob } from './js-batch.js';
import { EPropScratch } from './record.js';

const port = parentPort!;
const scratch = new EPropScratch();
port.on('message', (m: { i: number; job: EPropSliceJob }) => {
  try {
    const partial = runSlice(m.job, scratch);
    const buffers: ArrayBuffer[] = [partial.prediction.buffer as ArrayBuffer, partial.counts.buffer as ArrayBuffer];
    if (partial.sums) buffers.push(partial.sums.gInT.buffer as ArrayBuffer, partial.sums.gRecT.buffer as ArrayBuffer, partial.sums.gOutT.buffer as ArrayBuffer);
    port.postMessage({ i: m.i, partial }, buffers);
  } catch (e) {
    port.postMessage({ i: m.i, error: String((e as Error)?.stack ?? e) });
  }
});
port.postMessage({ ready: true });
