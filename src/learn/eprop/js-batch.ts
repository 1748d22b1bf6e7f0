/**
 * The JavaScript e-prop kernel over a batch, in slices of {@link EPROP_SLICE} sequences. Sequences
 * are independent until the batch sums (loss, wrong predictions, spike counts, gradient sums), so
 * each slice runs the whole pipeline — forward scan ({@link forwardJs}), readout and loss
 * ({@link readoutPass}), backward pass ({@link epropAdjoint}) and gradient sums
 * ({@link gradientSumsJs}) — on its own, on this thread or on a worker thread
 * ({@link EPropSliceRunner}, e.g. `EPropThreads` of `cinder-snn/node`). The slices' sums are then
 * added in slice order (float64) and divided by B (gradients) and the loss divisor once. The slicing depends only on B, so
 * the results are the same bits for any number of threads; they differ from one unsliced pass over
 * the batch only by the association of those float64 sums (about 1e-16 relative).
 * @module
 */
import { forwardJs } from './forward-js.js';
import { readoutPass } from './readout-pass.js';
import type { ReadoutLoss } from './readout.js';
import { epropAdjoint, type AdjointSettings } from './adjoint.js';
import { gradientSumsJs, gradientsFromSums, type EPropGradientArrays, type EPropGradientSums } from './gradients.js';
import type { RecurrentConstants } from './recurrent.js';
import type { DenseInput, EPropScratch } from './record.js';

/** Sequences per slice of the JavaScript kernel. */
export const EPROP_SLICE = 8;

/** One slice of a batch: everything a thread needs (plain data; it crosses to worker threads). */
export interface EPropSliceJob {
  /** Scan constants. */
  consts: RecurrentConstants;
  /** Input weights [n, nIn]. */
  wIn: Float32Array;
  /** Recurrent weights [n, n]. */
  wRec: Float32Array;
  /** Readout weights [nOut, n]. */
  wOut: Float32Array;
  /** Readout decay κ. */
  kappa: number;
  /** Readout loss. */
  loss: ReadoutLoss;
  /** Backward-pass settings (feedback weights included). */
  adjoint: AdjointSettings;
  /** The slice's input spikes [b, T, nIn]. */
  input: DenseInput;
  /** The slice's labels (cross-entropy). */
  labels?: Int32Array;
  /** The slice's target signals [b, n_lw, nOut] (mean squared error). */
  signals?: Float64Array;
  /** Also the gradient sums. */
  withGradients: boolean;
}

/** What a slice contributes to the batch. */
export interface EPropSlicePartial {
  /** Loss summed over the slice's sequences and window steps. */
  lossSum: number;
  /** Wrong predictions. */
  wrong: number;
  /** Prediction per sequence of the slice. */
  prediction: Int32Array;
  /** Spikes of each neuron over the slice, [n]. */
  counts: Float64Array;
  /** Gradient sums (with `withGradients`). */
  sums?: EPropGradientSums;
}

/** Runs slices somewhere else (worker threads); results in the order of `jobs`. */
export interface EPropSliceRunner {
  /** Number of threads the slices are spread over. */
  readonly threads: number;
  /** Runs every job; resolves with their partials, in order. */
  run(jobs: EPropSliceJob[]): Promise<EPropSlicePartial[]>;
}

/** Runs one slice on this thread (ψ, z, D from `scratch`). */
export function runSlice(job: EPropSliceJob, scratch?: EPropScratch): EPropSlicePartial {
  const { consts, input } = job;
  const n = consts.n;
  const nOut = job.adjoint.nOut;
  const rec = forwardJs(consts, job.wIn, job.wRec, input, -1, scratch);
  const dims = { batch: input.batch, steps: input.steps, n, nOut, nLw: job.adjoint.nLw };
  const ro = readoutPass(rec.z, dims, job.wOut, job.kappa, job.loss, { labels: job.labels, signals: job.signals });
  const counts = new Float64Array(n);
  const c = rec.counts!;
  for (let i = 0; i < c.length; i++) counts[i % n] += c[i]!;
  const out: EPropSlicePartial = { lossSum: ro.lossSum, wrong: ro.wrong, prediction: ro.prediction, counts };
  if (job.withGradients) {
    const adj = epropAdjoint(rec, consts, ro.err, job.adjoint, false, scratch);
    out.sums = gradientSumsJs(input, rec, adj, nOut);
  }
  return out;
}

/** Everything of a batch but its inputs and targets. */
export type EPropSliceCommon = Omit<EPropSliceJob, 'input' | 'labels' | 'signals'>;

/**
 * Cuts a batch into slices of {@link EPROP_SLICE} sequences. A slice's inputs are a view on the
 * batch's (a runner that sends them to another thread copies the view's range); its targets are
 * copied.
 */
export function sliceJobs(common: EPropSliceCommon, input: DenseInput, target: { labels?: ArrayLike<number>; signals?: ArrayLike<number> }): EPropSliceJob[] {
  const { batch: B, steps: T, nIn } = input;
  const per = T * nIn;
  const nLw = common.adjoint.nLw;
  const nOut = common.adjoint.nOut;
  const jobs: EPropSliceJob[] = [];
  for (let b0 = 0; b0 < B; b0 += EPROP_SLICE) {
    const b1 = Math.min(B, b0 + EPROP_SLICE);
    const data = input.data.subarray(b0 * per, b1 * per);
    const job: EPropSliceJob = { ...common, input: { batch: b1 - b0, steps: T, nIn, data } };
    if (target.labels) job.labels = Int32Array.from(Array.prototype.slice.call(target.labels, b0, b1) as number[]);
    if (target.signals) job.signals = Float64Array.from(Array.prototype.slice.call(target.signals, b0 * nLw * nOut, b1 * nLw * nOut) as number[]);
    jobs.push(job);
  }
  return jobs;
}

/** A batch put together from its slices ({@link combineSlices}). */
export interface EPropBatchSums {
  /** Loss terms summed over sequences and window steps (divide by `lossDivisor`: B·n_lw or B·nOut). */
  lossSum: number;
  /** Wrong predictions. */
  wrong: number;
  /** Prediction per sequence, [B]. */
  prediction: Int32Array;
  /** Spikes of each neuron over the batch, [n]. */
  counts: Float64Array;
  /** Gradients [post, pre] (divided by B), when the slices carried sums. */
  gradients?: EPropGradientArrays;
}

/** The batch from its slices: sums added in slice order, then normalised once. */
export function combineSlices(partials: EPropSlicePartial[], dims: { batch: number; n: number; nIn: number; nOut: number; nLw: number }): EPropBatchSums {
  const { batch: B, n, nIn, nOut } = dims;
  let lossSum = 0;
  let wrong = 0;
  const prediction = new Int32Array(B);
  const counts = new Float64Array(n);
  let sums: EPropGradientSums | undefined;
  let b = 0;
  for (const p of partials) {
    lossSum += p.lossSum;
    wrong += p.wrong;
    prediction.set(p.prediction, b);
    b += p.prediction.length;
    for (let j = 0; j < n; j++) counts[j] += p.counts[j]!;
    if (p.sums) {
      if (!sums) sums = { gInT: new Float64Array(nIn * n), gRecT: new Float64Array(n * n), gOutT: new Float64Array(n * nOut) };
      addInto(sums.gInT, p.sums.gInT);
      addInto(sums.gRecT, p.sums.gRecT);
      addInto(sums.gOutT, p.sums.gOutT);
    }
  }
  return { lossSum, wrong, prediction, counts, gradients: sums ? gradientsFromSums(sums, n, nIn, nOut, B) : undefined };
}

function addInto(a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] += b[i]!;
}
