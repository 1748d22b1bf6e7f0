/**
 * The e-prop kernel seam: which scan/gradient kernel runs on which backend, and the glue to the
 * fused WGSL kernels of `src/kernels/webgpu` (which know nothing of `learn`).
 *
 * - `js`: event-driven float64 JavaScript (default on wasm and cpu);
 * - `tf`: tfjs ops (default on the native TensorFlow backend, any backend);
 * - `webgpu`: fused WGSL dispatches on the device — the scan, the readout/loss/backward factors,
 *   the gradients — that read back only a summary of the batch (loss, wrong predictions, spike
 *   counts, predictions: O(n + B) floats, nothing per step); default on webgpu, asynchronous only
 *   (use the `*Async` methods of `EProp`).
 * @module
 */
import { tf } from '../../core/tf.js';
import { epropScanWebgpu } from '../../kernels/webgpu/eprop.js';
import { epropFloatsPerSequence, epropGradientsWebgpu, epropReadoutWebgpu, summaryLayout } from '../../kernels/webgpu/eprop-readout.js';
import { maxBindingBytes } from '../../kernels/webgpu/limits.js';
import { CinderArgumentError } from '../../core/errors.js';
import type { RecurrentConstants } from './recurrent.js';
import type { ReadoutTarget } from './readout-pass.js';
import type { ReadoutLoss } from './readout.js';
import type { EPropGradientTensors } from './gradients.js';

/** Scan kernels: `js`, `tf`, `webgpu` or `auto` (see the module text). */
export const EPROP_KERNELS = ['auto', 'js', 'tf', 'webgpu'] as const;
/** One of {@link EPROP_KERNELS}. */
export type EPropKernel = (typeof EPROP_KERNELS)[number];

/**
 * The kernel that runs for `kernel` on a backend: itself, or for `auto` the backend's own — `js` on
 * wasm and cpu, `webgpu` on webgpu, `tf` elsewhere (the native TensorFlow backend).
 */
export function resolveEPropKernel(kernel: EPropKernel, backend: string = tf.getBackend()): Exclude<EPropKernel, 'auto'> {
  if (kernel !== 'auto') return kernel;
  if (backend === 'wasm' || backend === 'cpu') return 'js';
  if (backend === 'webgpu') return 'webgpu';
  return 'tf';
}

/** A count per e-prop cell. */
export interface CellCounts {
  /** Of the input weights (or their gradient). */
  input: number;
  /** Of the recurrent weights (or their gradient). */
  recurrent: number;
  /** Of the readout weights (or their gradient). */
  readout: number;
}

/** What a webgpu iteration needs besides the scan constants (the readout and backward settings). */
export interface WebgpuIterationSettings {
  /** Learning window n_lw. */
  nLw: number;
  /** Readout decay κ. */
  kappa: number;
  /** Readout loss. */
  loss: ReadoutLoss;
  /** Feedback mode of the readout. */
  feedback: 'symmetric' | 'random';
  /** Firing-rate regularisation strength. */
  cReg: number;
  /** Target rate in spikes per step. */
  f0: number;
  /** Divide by n_lw. */
  averageGradient: boolean;
}

/** The device tensors of a webgpu iteration (weights, feedback, inputs, β). */
export interface WebgpuIterationTensors {
  /** Input weights [n, nIn]. */
  wIn: tf.Tensor;
  /** Recurrent weights [n, n] (zero diagonal). */
  wRec: tf.Tensor;
  /** Readout weights [nOut, n]. */
  wOut: tf.Tensor;
  /** Feedback weights [n, nOut] (any tensor for symmetric feedback). */
  feedback: tf.Tensor;
  /** Input spikes [B, T, nIn]. */
  inputs: tf.Tensor;
  /** β per neuron [n] (cached by the caller). */
  beta: tf.Tensor;
}

/** The summary of a webgpu iteration (the one read back), and the gradients on the device. */
export interface WebgpuIteration {
  /** Sum of the loss terms over the batch and window (divide by `lossDivisor`: B·n_lw or B·nOut). */
  lossSum: number;
  /** Sequences predicted wrongly (cross-entropy). */
  wrong: number;
  /** Predicted class per sequence (−1 for MSE). */
  prediction: Int32Array;
  /** Spikes of each neuron over the batch. */
  counts: Float64Array;
  /** Input values that are not spikes (neither 0 nor 1; NaN and ±Inf included), counted on the device. */
  nonSpike: number;
  /** Non-finite entries of each weight matrix. */
  nonFinite: CellCounts;
  /** Non-finite entries of each gradient (0 without gradients), counted on the device. */
  gradNonFinite: CellCounts;
  /** Gradients (caller owns them), when requested. */
  gradients?: EPropGradientTensors;
}

/**
 * The most sequences of T steps one fused webgpu iteration can hold on the current device: each of
 * its buffers (the scan's ψ and z, the readout's factors, the inputs) grows with the batch and must
 * fit one buffer of the adapter (`maxBindingBytes`). Infinity off webgpu or without known limits.
 */
export function webgpuMaxBatch(T: number, n: number, nIn: number, nOut: number): number {
  const limit = maxBindingBytes();
  return limit === Infinity ? Infinity : Math.floor(limit / (4 * epropFloatsPerSequence(T, n, nIn, nOut)));
}

/**
 * Throws a CinderArgumentError naming the batch size (`param`) unless B sequences of T steps fit
 * the device ({@link webgpuMaxBatch}). On WebGPU a buffer over the limit does not throw: its
 * dispatch is skipped and reads as zeros, so this runs before anything is dispatched.
 */
export function checkWebgpuBatch(B: number, T: number, n: number, nIn: number, nOut: number, param = 'batch size'): void {
  const most = webgpuMaxBatch(T, n, nIn, nOut);
  if (B > most) {
    const per = 4 * epropFloatsPerSequence(T, n, nIn, nOut);
    throw new CinderArgumentError(
      param, B,
      `at most ${most} sequences of ${T} steps with ${n} neurons on this adapter (the fused webgpu kernels keep ψ and z of every step: ${per} bytes per sequence in one buffer of at most ${maxBindingBytes()} bytes); use a smaller batch, shorter sequences or the js or tf kernel`,
    );
  }
}

/**
 * One e-prop batch entirely on the device: the fused scan, the readout/loss/backward dispatch, the
 * gradient dispatches (when asked) and the summary; only the summary (3 + 7n + B floats,
 * independent of the sequence length) is read back, with one `await data()`. Check the batch with
 * {@link checkWebgpuBatch} first (as `EProp` does): a buffer over the device's limit is otherwise
 * refused only by the first program that would make it.
 */
export async function iterationWebgpu(c: RecurrentConstants, s: WebgpuIterationSettings, t: WebgpuIterationTensors, target: ReadoutTarget, withGradients: boolean): Promise<WebgpuIteration> {
  const [B] = t.inputs.shape as [number];
  const n = c.n;
  const tgt =
    s.loss === 'cross_entropy'
      ? tf.tensor1d(Float32Array.from(target.labels!, Number))
      : tf.tensor1d(Float32Array.from(target.signals!, Number));
  const made: tf.Tensor[] = [tgt];
  let out: ReturnType<typeof epropGradientsWebgpu>;
  try {
    const scan = epropScanWebgpu(c, t.wIn, t.wRec, t.inputs, t.beta);
    made.push(scan);
    const backward = epropReadoutWebgpu(scan, t.inputs, t.wOut, t.feedback, tgt, t.beta, {
      ...s,
      alpha: c.alpha,
      rho: c.rho,
      zeta: c.zeta,
      backward: withGradients,
    });
    made.push(backward);
    out = epropGradientsWebgpu(t.inputs, scan, backward, { wIn: t.wIn, wRec: t.wRec, wOut: t.wOut }, withGradients);
  } finally {
    tf.dispose(made);
  }
  const g = out.gradients;
  let v: Float32Array;
  try {
    v = (await out.summary.data()) as Float32Array;
  } catch (err) {
    if (g) tf.dispose([g.input, g.recurrent, g.readout]);
    throw err;
  } finally {
    out.summary.dispose();
  }
  const L = summaryLayout(n, B);
  const counts = new Float64Array(n);
  // per neuron j: the input row at o + j, the recurrent row at o + n + j, the readout column at o + 2n + j
  const perCell = (o: number): CellCounts => {
    const c = { input: 0, recurrent: 0, readout: 0 };
    for (let j = 0; j < n; j++) {
      c.input += v[o + j]!;
      c.recurrent += v[o + n + j]!;
      c.readout += v[o + 2 * n + j]!;
    }
    return c;
  };
  for (let j = 0; j < n; j++) counts[j] = v[L.counts + j]!;
  const nonFinite = perCell(L.nonFinite);
  const gradNonFinite = perCell(L.gradNonFinite);
  const prediction = new Int32Array(B);
  for (let b = 0; b < B; b++) prediction[b] = v[L.prediction + b]!;
  return { lossSum: v[L.loss]!, wrong: v[L.wrong]!, nonSpike: v[L.nonSpike]!, prediction, counts, nonFinite, gradNonFinite, gradients: g };
}
