/**
 * `EProp`: trains an e-prop network (an {@link EPropRecurrent} population and an
 * {@link EPropReadout}) with exact e-prop gradients (Bellec et al. 2020, as implemented by NEST's
 * `*_bsshslm_2020` models). It registers the three plastic cells (input→recurrent,
 * recurrent→recurrent, recurrent→readout); once per batch of B sequences simulated in parallel it
 * runs the forward scan (storing ψ and z only), the backward per-neuron recursions
 * ({@link epropAdjoint}) and one gradient product per cell, and hands the gradients to an
 * {@link Optimizer}. All states are reset at the start of every sequence.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkInteger, checkNonNegative, checkOneOf, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { NonFiniteError } from '../../core/finite.js';
import { checkSyncReads } from '../../core/backend.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { EPropRecurrent, type RecurrentConstants } from './recurrent.js';
import { EPropReadout } from './readout.js';
import type { EPropCell, EPropCellKind } from './cell.js';
import { forwardJs } from './forward-js.js';
import { forwardTf, forwardTfAsync } from './forward-tf.js';
import { checkWebgpuBatch, EPROP_KERNELS, iterationWebgpu, resolveEPropKernel, type EPropKernel } from './kernels.js';
import { lossDivisor, readoutPass, type ReadoutPassResult } from './readout-pass.js';
import { epropAdjoint } from './adjoint.js';
import { gradientsTf, type EPropGradientArrays } from './gradients.js';
import { EPropScratch, type DenseInput, type ForwardRecord } from './record.js';
import { combineSlices, runSlice, sliceJobs, type EPROP_SLICE, type EPropSliceJob, type EPropSlicePartial, type EPropSliceRunner } from './js-batch.js';

export { EPROP_KERNELS, type EPropKernel } from './kernels.js';

/** Options of {@link EProp}. */
export interface EPropOptions {
  /** The recurrent population (its input and recurrent cells are registered). */
  recurrent: EPropRecurrent;
  /** The readout (its cell is registered). */
  readout: EPropReadout;
  /** Optimizer that applies the batch gradients. */
  optimizer: Optimizer;
  /** Learning window n_lw in steps (the last n_lw steps of each sequence; default: whole sequence). */
  learningWindow?: number;
  /** Firing-rate regularisation strength c_reg (default 0). */
  cReg?: number;
  /** Target firing rate f_target in Hz, ≥ 0 (default 10); f0 = f_target·dt/1000 spikes per step. */
  fTarget?: number;
  /** Divide gradients by n_lw (NEST `average_gradient`, default false). */
  averageGradient?: boolean;
  /**
   * Scan kernel (default `auto`: `js` on the wasm and cpu backends, the fused `webgpu` kernel on
   * webgpu, `tf` otherwise). The `webgpu` kernel runs only on the webgpu backend (another backend is
   * refused here, a CinderArgumentError) and only through the `*Async` methods.
   */
  kernel?: EPropKernel;
  /** Which cells learn (default all three). */
  train?: Partial<Record<EPropCellKind, boolean>>;
  /**
   * Worker threads for the `js` kernel's slices of {@link EPROP_SLICE} sequences (e.g.
   * `await EPropThreads.create(4)` of `cinder-snn/node`), used by the `*Async` methods; the results
   * are the same bits as without it. Default: this thread.
   */
  threads?: EPropSliceRunner;
}

/** The keys of {@link EPropOptions}. */
export const EPROP_OPTION_KEYS = optionKeys<EPropOptions>()(['recurrent', 'readout', 'optimizer', 'learningWindow', 'cReg', 'fTarget', 'averageGradient', 'kernel', 'train', 'threads']);

/** One batch: input spikes and targets. */
export interface EPropBatch {
  /**
   * Input spikes [B, T, nIn] with B ≥ 1 and T ≥ 1 (an empty batch is refused), float32 0/1. Any other value (NaN and ±Inf included) is rejected with a
   * CinderArgumentError naming its [b][t][i] before anything changes — the `js` kernel checks the
   * values it downloads, the `tf` kernel one on-device count of non-spike values (one scalar read).
   */
  inputs: tf.Tensor;
  /** Class index per sequence (cross-entropy readouts). */
  labels?: ArrayLike<number>;
  /** Target signals [B, n_lw, nOut] row-major (mean-squared-error readouts), finite numbers. */
  targets?: ArrayLike<number>;
}

/** Per-batch metrics. */
export interface EPropStepResult {
  /**
   * Loss of the batch (before the update), as NEST reports it: cross-entropy
   * −mean_{b,t∈window} Σ_k π*_k log π_k, or squared error 0.5·mean_{b,k} Σ_{t∈window} (y − y*)²
   * (summed over the window); never includes the regulariser.
   */
  loss: number;
  /** Recall error: fraction of wrongly classified sequences (NaN for MSE). */
  recallError: number;
  /** Mean firing rate over the batch and all neurons, Hz. */
  rateHz: number;
  /** Firing rate of each neuron averaged over the batch, Hz, [n]. */
  ratesHz: Float64Array;
  /** Predicted class per sequence. */
  prediction: Int32Array;
  /** Wall time of the call in seconds. */
  seconds: number;
}

/** Everything recorded for one sequence (for figures), arrays [T, n] or [T, nOut] row-major. */
export interface EPropSequenceRecord {
  /** Steps T. */
  steps: number;
  /** Recurrent neurons n. */
  n: number;
  /** Readouts nOut. */
  nOut: number;
  /** Spikes. */
  spikes: Uint8Array;
  /** Membrane voltages. */
  v: Float32Array;
  /** Adaptive thresholds. */
  threshold: Float32Array;
  /** Surrogate gradients. */
  psi: Float32Array;
  /** Learning signals L = B·err (0 outside the window). */
  learningSignal: Float32Array;
  /** Readout traces y. */
  readout: Float64Array;
  /** Readout outputs (softmax of y for cross-entropy, else y) in the window, NaN before. */
  output: Float64Array;
  /** Target (one-hot or signal) in the window, NaN before. */
  target: Float64Array;
}

/** Result of {@link EProp.gradients}. */
export interface EPropGradientsResult {
  /** Metrics of the batch. */
  result: EPropStepResult;
  /** Gradients of the three cells. */
  gradients: EPropGradientArrays;
}

/** Exact e-prop trainer with dense per-batch optimizer steps. */
export class EProp {
  /** The registered cells, in order input, recurrent, readout. */
  readonly cells: readonly EPropCell[];
  /** The recurrent population. */
  readonly recurrent: EPropRecurrent;
  /** The readout. */
  readonly readout: EPropReadout;
  /** The optimizer. */
  readonly optimizer: Optimizer;
  /** Learning window in steps, or undefined for the whole sequence. */
  readonly learningWindow: number | undefined;
  /** Regularisation strength. */
  readonly cReg: number;
  /** Target rate (Hz). */
  readonly fTarget: number;
  /** Whether gradients are divided by n_lw. */
  readonly averageGradient: boolean;
  /** The scan kernel in use (`js`, `tf` or `webgpu`). */
  readonly kernel: Exclude<EPropKernel, 'auto'>;
  private readonly trainable: Record<EPropCellKind, boolean>;
  private readonly consts: RecurrentConstants;
  private batches = 0;
  /** ψ, z, D of the JavaScript kernel, reused from batch to batch (see {@link EPropScratch}). */
  private readonly scratch = new EPropScratch();
  private readonly threads: EPropSliceRunner | undefined;
  private betaTensor: tf.Tensor | undefined;
  /** The last queued async call (settled or not): the next one starts after it. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Async calls queued or running. */
  private inFlight = 0;

  constructor(options: EPropOptions) {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {recurrent, readout, optimizer, …}');
    if (new.target === EProp) checkOptionKeys('options', options, EPROP_OPTION_KEYS);
    const { recurrent, readout, optimizer } = options;
    if (!(recurrent instanceof EPropRecurrent)) throw new CinderArgumentError('recurrent', recurrent, 'an EPropRecurrent');
    if (!(readout instanceof EPropReadout)) throw new CinderArgumentError('readout', readout, 'an EPropReadout');
    if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.apply !== 'function' || typeof optimizer.learningRate !== 'number') {
      throw new CinderArgumentError('optimizer', optimizer, 'an Optimizer (e.g. new Adam({ learningRate: 5e-3 }))');
    }
    if (readout.nRec !== recurrent.n) throw new CinderArgumentError('readout.nRec', readout.nRec, `the recurrent size ${recurrent.n}`);
    if (Math.abs(readout.dt - recurrent.dt) > 1e-12) throw new CinderArgumentError('readout.dt', readout.dt, `the recurrent dt ${recurrent.dt}`);
    this.recurrent = recurrent;
    this.readout = readout;
    this.optimizer = optimizer;
    this.learningWindow = options.learningWindow === undefined ? undefined : checkInteger('learningWindow', options.learningWindow, 1);
    this.cReg = checkNonNegative('cReg', options.cReg ?? 0);
    this.fTarget = checkNonNegative('fTarget', options.fTarget ?? 10);
    this.averageGradient = checkBoolean('averageGradient', options.averageGradient ?? false);
    const k = checkOneOf('kernel', options.kernel ?? 'auto', EPROP_KERNELS);
    this.kernel = resolveEPropKernel(k);
    if (this.kernel === 'webgpu' && tf.getBackend() !== 'webgpu') {
      throw new CinderArgumentError('kernel', 'webgpu', `js, tf or auto on the ${tf.getBackend()} backend (the fused webgpu kernel runs only on the webgpu backend)`);
    }
    const train = options.train ?? {};
    if (train === null || typeof train !== 'object') throw new CinderArgumentError('train', train, 'an object {input?, recurrent?, readout?} of booleans');
    for (const [key, value] of Object.entries(train)) {
      if (key !== 'input' && key !== 'recurrent' && key !== 'readout') throw new CinderArgumentError(`train.${key}`, value, 'one of the cells input, recurrent, readout');
      checkBoolean(`train.${key}`, value);
    }
    this.trainable = { input: true, recurrent: true, readout: true, ...train };
    this.cells = [...recurrent.cells(), readout.cell()];
    this.consts = recurrent.constants();
    const th = options.threads;
    if (th !== undefined) {
      if (th === null || typeof th !== 'object' || typeof th.run !== 'function') throw new CinderArgumentError('threads', th, 'an EPropSliceRunner (e.g. EPropThreads.create() of cinder-snn/node)');
      if (this.kernel !== 'js') throw new CinderArgumentError('threads', `${th.threads} threads`, `the js kernel (the kernel is ${this.kernel})`);
    }
    this.threads = th;
  }

  /** Number of training batches applied so far (the batch index a {@link NonFiniteError} names). */
  get iterations(): number {
    return this.batches;
  }

  /**
   * Sets the count, for a run resumed from a checkpoint (weights and optimizer state restored
   * elsewhere), so that later errors name the run's batch.
   * @throws CinderArgumentError unless an integer >= 0
   */
  set iterations(n: number) {
    this.batches = checkInteger('iterations', n, 0);
  }

  /**
   * Simulates a batch, computes the e-prop gradients and applies one optimizer step. Synchronous:
   * it reads weights and ψ/z back with `dataSync`, which the webgpu backend cannot do in Node — use
   * {@link EProp.stepAsync} there (and in any loop that should not block).
   */
  step(batch: EPropBatch): EPropStepResult {
    this.checkIdle('step');
    const t0 = performance.now();
    const { result, grads } = this.run(batch, true);
    this.checkFiniteUpdate(result, grads!, this.kernel === 'tf' ? this.countNonFinite(grads!, (c) => c.dataSync()) : undefined);
    this.apply(grads!);
    result.seconds = (performance.now() - t0) / 1000;
    return result;
  }

  /**
   * {@link EProp.step} without synchronous reads. With the `webgpu` kernel the whole iteration
   * stays on the device and only a summary of the batch (loss, wrong predictions, spike counts,
   * predictions, non-spike inputs, a non-finite check of the weights and the gradients: 3 + 7n + B floats) is read back, with one
   * `await data()`; a non-finite weight or loss throws before the update. With the `js` and `tf`
   * kernels, weights, inputs (JS kernel) and ψ/z are downloaded with `await data()` once per batch
   * and the `tf` kernel's gradients stay on the device (only their count of non-finite entries is
   * read: a gradient that is NaN or ±Inf in float32 throws before the update, as on the js kernel). Runs on every backend and every kernel.
   * Async calls on one trainer are queued: concurrent calls give the results of the same calls
   * made one after the other, and the synchronous methods are refused while any is pending.
   */
  stepAsync(batch: EPropBatch): Promise<EPropStepResult> {
    return this.serial(() => this.stepAsyncNow(batch));
  }

  private async stepAsyncNow(batch: EPropBatch): Promise<EPropStepResult> {
    const t0 = performance.now();
    const { result, grads, gradNonFinite } = await this.runAsync(batch, true);
    // the fused webgpu kernel counted its gradients' non-finite entries on the device (in its summary)
    this.checkFiniteUpdate(result, grads!, this.kernel === 'tf' ? await this.countNonFinite(grads!, (c) => c.data()) : gradNonFinite);
    this.apply(grads!);
    result.seconds = (performance.now() - t0) / 1000;
    return result;
  }

  /** {@link EProp.evaluate} without synchronous reads (queued after pending async calls). */
  evaluateAsync(batch: EPropBatch): Promise<EPropStepResult> {
    return this.serial(async () => {
      const t0 = performance.now();
      const { result } = await this.runAsync(batch, false);
      result.seconds = (performance.now() - t0) / 1000;
      return result;
    });
  }

  /** {@link EProp.gradients} without synchronous reads (one `await data()` per gradient; queued after pending async calls). */
  gradientsAsync(batch: EPropBatch): Promise<EPropGradientsResult> {
    return this.serial(() => this.gradientsAsyncNow(batch));
  }

  private async gradientsAsyncNow(batch: EPropBatch): Promise<EPropGradientsResult> {
    const t0 = performance.now();
    const { result, grads } = await this.runAsync(batch, true);
    const out = {} as EPropGradientArrays;
    try {
      for (const kind of GRADIENT_KINDS) {
        const a = grads![kind];
        out[kind] = a instanceof Float64Array ? a : Float64Array.from(await a.data());
      }
    } finally {
      disposeGradients(grads!); // every gradient tensor, also those not read when a read failed
    }
    result.seconds = (performance.now() - t0) / 1000;
    return { result, gradients: out };
  }

  /**
   * {@link nonFiniteCounts} read with `read` (`dataSync` in {@link EProp.step}, `data` in
   * {@link EProp.stepAsync}); a failed read disposes the gradient tensors before it rethrows.
   */
  private countNonFinite(grads: Record<EPropCellKind, Float64Array | tf.Tensor2D>, read: (c: tf.Tensor) => ArrayLike<number>): number[];
  private countNonFinite(grads: Record<EPropCellKind, Float64Array | tf.Tensor2D>, read: (c: tf.Tensor) => Promise<ArrayLike<number>>): Promise<number[]>;
  private countNonFinite(grads: Record<EPropCellKind, Float64Array | tf.Tensor2D>, read: (c: tf.Tensor) => ArrayLike<number> | Promise<ArrayLike<number>>): number[] | Promise<number[]> {
    const counts = nonFiniteCounts(grads);
    const fail = (e: unknown): never => {
      disposeGradients(grads);
      throw e;
    };
    let r: ArrayLike<number> | Promise<ArrayLike<number>>;
    try {
      r = read(counts);
    } catch (e) {
      counts.dispose();
      return fail(e);
    }
    if (!(r instanceof Promise)) {
      counts.dispose();
      return Array.from(r);
    }
    return r.then((v) => Array.from(v), fail).finally(() => counts.dispose());
  }

  /**
   * Throws a {@link NonFiniteError} (after disposing the gradient tensors) when the loss or a
   * gradient is NaN or ±Inf as it would be applied, in float32, so that nothing is applied: the same
   * check for {@link EProp.step} and {@link EProp.stepAsync}. A gradient held on the host (the `js`
   * kernel's float64 arrays) fails when an entry's float32 rounding is not finite (|g| beyond
   * FLOAT32_MAX is ±∞ once it is a float32 tensor); gradient tensors (the `tf` and `webgpu`
   * kernels') are checked by `counts`, the non-finite entries of each cell ([input, recurrent,
   * readout]) counted on the device (the webgpu kernel counts them in its summary).
   */
  private checkFiniteUpdate(result: EPropStepResult, grads: Record<EPropCellKind, Float64Array | tf.Tensor2D>, counts?: readonly number[]): void {
    let failure: NonFiniteError | undefined;
    for (const cell of this.cells) {
      const g = grads[cell.kind];
      if (g instanceof Float64Array ? !allFinite32(g) : (counts?.[GRADIENT_KINDS.indexOf(cell.kind)] ?? 0) > 0) {
        failure = new NonFiniteError(`gradient of the ${cell.kind} weights`, this.batches, 'NaN or Inf', 'batch');
        break;
      }
    }
    if (!failure && !Number.isFinite(result.loss)) failure = new NonFiniteError('loss', this.batches, Number.isNaN(result.loss) ? 'NaN' : 'Inf', 'batch');
    if (!failure) return;
    disposeGradients(grads);
    throw failure;
  }

  private apply(grads: Record<EPropCellKind, Float64Array | tf.Tensor2D>): void {
    const updates: { variable: tf.Variable; gradient: tf.Tensor }[] = [];
    for (const cell of this.cells) {
      const g = grads[cell.kind];
      const gradient = g instanceof Float64Array ? tf.tensor2d(Float32Array.from(g), [cell.nPost, cell.nPre]) : g;
      if (this.trainable[cell.kind]) updates.push({ variable: cell.weight.variable, gradient });
      else gradient.dispose();
    }
    try {
      this.optimizer.apply(updates);
    } finally {
      tf.dispose(updates.map((u) => u.gradient));
    }
    this.batches += 1;
  }

  /** Simulates a batch without learning (loss, recall error, rates). */
  evaluate(batch: EPropBatch): EPropStepResult {
    this.checkIdle('evaluate');
    const t0 = performance.now();
    const { result } = this.run(batch, false);
    result.seconds = (performance.now() - t0) / 1000;
    return result;
  }

  /** The e-prop gradients of a batch (no update), in float64 arrays [post, pre]. */
  gradients(batch: EPropBatch): EPropGradientsResult {
    this.checkIdle('gradients');
    const t0 = performance.now();
    const { result, grads } = this.run(batch, true);
    const out = {} as EPropGradientArrays;
    for (const kind of ['input', 'recurrent', 'readout'] as const) {
      const a = grads![kind];
      if (a instanceof Float64Array) out[kind] = a;
      else {
        out[kind] = Float64Array.from(a.dataSync());
        a.dispose();
      }
    }
    result.seconds = (performance.now() - t0) / 1000;
    return { result, gradients: out };
  }

  /**
   * Simulates one sequence of a batch (no learning) and returns all its signals, for figures. Always
   * runs the JavaScript kernel (it computes the same numbers as the tfjs kernel).
   */
  recordSequence(batch: EPropBatch, index = 0): EPropSequenceRecord {
    this.checkIdle('recordSequence');
    this.checkIndex(batch, index);
    checkSyncReads('recordSequence', 'recordSequenceAsync');
    return this.recordFrom(this.prepare(batch), index);
  }

  /** {@link EProp.recordSequence} without synchronous reads (queued after pending async calls). */
  recordSequenceAsync(batch: EPropBatch, index = 0): Promise<EPropSequenceRecord> {
    return this.serial(async () => {
      this.checkIndex(batch, index);
      return this.recordFrom(await this.prepareAsync(batch, true), index);
    });
  }

  /**
   * Runs `fn` after every async call queued before it has settled, so that concurrent calls
   * (`Promise.all([t.stepAsync(a), t.stepAsync(b)])`) act as the same calls made one after the
   * other: each iteration reads the weights the previous one wrote, and the JS kernel's scratch
   * arrays and worker threads serve one batch at a time. A failed call does not stop the queue.
   */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    const run = this.queue.then(fn).finally(() => {
      this.inFlight -= 1;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The synchronous methods would run between the awaits of a pending async call (on the weights it
   * has read, with its scratch arrays): refused while one is queued or running.
   * @throws CinderArgumentError naming the method
   */
  private checkIdle(method: string): void {
    if (this.inFlight > 0) {
      throw new CinderArgumentError(`call of ${method}()`, `while ${this.inFlight} async call${this.inFlight === 1 ? '' : 's'} (stepAsync, evaluateAsync, gradientsAsync, recordSequenceAsync) ${this.inFlight === 1 ? 'is' : 'are'} pending`, 'the pending calls awaited first');
    }
  }

  /**
   * Frees what the trainer keeps between batches: β on the device (webgpu kernel) and the JavaScript
   * kernel's scratch arrays (ψ, z, D). The cells' weights, the optimizer and `threads` belong to
   * their owners and are left alone. The trainer stays usable: the next batch allocates them again.
   */
  dispose(): void {
    this.betaTensor?.dispose();
    this.betaTensor = undefined;
    this.scratch.clear();
  }

  private checkIndex(batch: EPropBatch, index: number): void {
    this.validate(batch); // the batch first: a null batch is named, not a TypeError
    const B = batch.inputs.shape[0]!;
    checkInteger('index', index, 0);
    if (index >= B) throw new CinderArgumentError('index', index, `a sequence index < batch size ${B}`);
  }

  private recordFrom(p: ReturnType<EProp['prepare']>, index: number): EPropSequenceRecord {
    const rec = forwardJs(this.consts, p.wIn, p.wRec, p.dense(), index);
    const ro = readoutPass(rec.z, p.dims, p.wOut, this.readout.kappa, this.readout.loss, p.target, index);
    const adj = epropAdjoint(rec, this.consts, ro.err, this.adjointSettings(p), true);
    const { steps: T, n } = rec;
    const nOut = this.readout.nOut;
    const nLw = p.dims.nLw;
    const sl = (a: Float32Array | Float64Array) => Float32Array.from(a.subarray(index * T * n, (index + 1) * T * n));
    const output = new Float64Array(T * nOut).fill(NaN);
    const target = new Float64Array(T * nOut).fill(NaN);
    for (let t = T - nLw; t < T; t++) {
      const eo = (index * nLw + t - (T - nLw)) * nOut;
      for (let k = 0; k < nOut; k++) {
        const e = ro.err[eo + k]!;
        const tgt = this.readout.loss === 'cross_entropy' ? (k === Number(p.target.labels![index]) ? 1 : 0) : Number(p.target.signals![eo + k]);
        target[t * nOut + k] = tgt;
        output[t * nOut + k] = e + tgt;
      }
    }
    return {
      steps: T, n, nOut,
      spikes: rec.z.slice(index * T * n, (index + 1) * T * n),
      v: rec.trace!.v,
      threshold: rec.trace!.threshold,
      psi: sl(rec.psi),
      learningSignal: sl(adj.learningSignal!),
      readout: ro.yTrace!,
      output,
      target,
    };
  }

  private adjointSettings(p: ReturnType<EProp['prepare']>) {
    return {
      nLw: p.dims.nLw,
      kappa: this.readout.kappa,
      nOut: this.readout.nOut,
      feedback: p.feedback,
      cReg: this.cReg,
      f0: (this.fTarget * this.recurrent.dt) / 1000,
      averageGradient: this.averageGradient,
    };
  }

  /** Validates a batch and downloads weights and inputs once (synchronously). */
  private prepare(batch: EPropBatch) {
    this.validate(batch);
    const x = batch.inputs;
    // the js kernel checks the inputs as it downloads them (dense()); the tf kernel never downloads
    // them, so it reads one on-device count of non-spike values instead (and the inputs only to
    // name the first one)
    if (this.kernel !== 'js' && nonSpikeCountSync(x) > 0) checkSpikes(x.dataSync(), x.shape);
    const fb = this.readout.feedback === 'symmetric' ? undefined : (this.readout.feedbackWeights.value.dataSync() as Float32Array);
    return this.assemble(batch, this.readout.wOut.value.dataSync() as Float32Array, fb, this.recurrent.wIn.value.dataSync() as Float32Array, this.recurrent.wRec.value.dataSync() as Float32Array, () => x.dataSync() as Float32Array);
  }

  /** {@link EProp.prepare} with `await data()`; the inputs are downloaded only for the JS kernel. */
  private async prepareAsync(batch: EPropBatch, withInputs = this.kernel === 'js') {
    this.validate(batch);
    const [wOut, fb, wIn, wRec, xs, bad] = await Promise.all([
      this.readout.wOut.value.data(),
      this.readout.feedback === 'symmetric' ? undefined : this.readout.feedbackWeights.value.data(),
      this.recurrent.wIn.value.data(),
      this.recurrent.wRec.value.data(),
      withInputs ? batch.inputs.data() : undefined,
      withInputs ? 0 : nonSpikeCountAsync(batch.inputs),
    ]);
    if (bad > 0) checkSpikes(await batch.inputs.data(), batch.inputs.shape);
    return this.assemble(batch, wOut as Float32Array, fb as Float32Array | undefined, wIn as Float32Array, wRec as Float32Array, () => xs as Float32Array);
  }

  private validate(batch: EPropBatch): void {
    if (batch === null || typeof batch !== 'object') throw new CinderArgumentError('batch', batch, 'an object {inputs, labels?, targets?}');
    const x = batch.inputs;
    if (!(x instanceof tf.Tensor) || x.shape.length !== 3 || x.shape[2] !== this.recurrent.nIn) {
      throw new CinderArgumentError('batch.inputs', x, `a tensor of shape [B, T, ${this.recurrent.nIn}]`);
    }
    if (x.isDisposed) throw new CinderArgumentError('batch.inputs', 'a disposed tensor', `a live tensor of shape [B, T, ${this.recurrent.nIn}]`);
    const [B, T] = x.shape as [number, number];
    // an empty batch has no loss (0/0) and no gradient: refused rather than reported as NaN
    if (B < 1 || T < 1) throw new CinderArgumentError('batch.inputs', `a tensor of shape [${x.shape.join(', ')}]`, `at least 1 sequence of at least 1 step ([B ≥ 1, T ≥ 1, ${this.recurrent.nIn}])`);
    const nOut = this.readout.nOut;
    const nLw = this.learningWindow ?? T;
    if (nLw > T) throw new CinderArgumentError('learningWindow', nLw, `at most the sequence length ${T}`);
    if (this.readout.loss === 'cross_entropy') {
      const l = batch.labels;
      if (!l || l.length !== B) throw new CinderArgumentError('batch.labels', l, `${B} class indices`);
      for (let b = 0; b < B; b++) {
        const v = l[b]!;
        if (!Number.isInteger(v) || v < 0 || v >= nOut) throw new CinderArgumentError(`batch.labels[${b}]`, v, `an integer in [0, ${nOut})`);
      }
    } else {
      const s = batch.targets;
      if (!s || s.length !== B * nLw * nOut) throw new CinderArgumentError('batch.targets', s?.length, `${B * nLw * nOut} values ([B, n_lw, nOut])`);
      for (let i = 0; i < s.length; i++) {
        const v = s[i]!;
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new CinderArgumentError(`batch.targets[${Math.floor(i / (nLw * nOut))}][${Math.floor(i / nOut) % nLw}][${i % nOut}]`, v, 'a finite number');
        }
      }
    }
  }

  private assemble(batch: EPropBatch, wOut: Float32Array, fbWeights: Float32Array | undefined, wIn: Float32Array, wRec: Float32Array, inputs: () => Float32Array) {
    const x = batch.inputs;
    const [B, T] = x.shape as [number, number];
    const nOut = this.readout.nOut;
    const nLw = this.learningWindow ?? T;
    // The weights are read anyway: a NaN/Inf left by an earlier batch is reported, not simulated
    // into silent neurons and a believable loss.
    for (const [name, w] of [['recurrent.wIn', wIn], ['recurrent.wRec', wRec], ['readout.wOut', wOut]] as const) {
      if (!allFinite(w)) throw new NonFiniteError(name, this.batches);
    }
    let feedback: ArrayLike<number>;
    if (this.readout.feedback === 'symmetric') {
      const n = this.recurrent.n;
      const fb = new Float64Array(n * nOut);
      for (let k = 0; k < nOut; k++) for (let j = 0; j < n; j++) fb[j * nOut + k] = wOut[k * n + j]!;
      feedback = fb;
    } else feedback = fbWeights!;
    return {
      dims: { batch: B, steps: T, n: this.recurrent.n, nOut, nLw },
      wIn,
      wRec,
      wOut,
      feedback,
      target: { labels: batch.labels, signals: batch.targets },
      /** The inputs as a dense array (downloaded once per batch, only for the JS kernel). */
      dense(): DenseInput {
        const data = inputs();
        checkSpikes(data, x.shape);
        return { batch: B, steps: T, nIn: x.shape[2]!, data };
      },
    };
  }

  private async runAsync(batch: EPropBatch, withGradients: boolean): Promise<{ result: EPropStepResult; grads?: Record<EPropCellKind, Float64Array | tf.Tensor2D>; gradNonFinite?: number[] }> {
    if (this.kernel === 'webgpu') return this.runWebgpu(batch, withGradients);
    const p = await this.prepareAsync(batch);
    if (this.kernel === 'js') {
      const jobs = this.sliceJobs(p, withGradients);
      return this.fromSlices(p, this.threads ? await this.threads.run(jobs) : jobs.map((j) => runSlice(j, this.scratch)));
    }
    // the tf kernel: the scan on tfjs, then the same readout and backward pass, gradients on tfjs
    const rec = await forwardTfAsync(this.consts, this.recurrent.wIn.value, this.recurrent.wRec.value, batch.inputs);
    return this.tfRest(batch, p, rec, withGradients);
  }

  /**
   * A batch with the fused webgpu kernels: everything stays on the device and only the batch
   * summary is read back (one `await data()`); inputs other than 0 and 1 (counted on the device;
   * the inputs are then read to name the first), non-finite weights or loss are reported before any
   * update.
   */
  private async runWebgpu(batch: EPropBatch, withGradients: boolean): Promise<{ result: EPropStepResult; grads?: Record<EPropCellKind, Float64Array | tf.Tensor2D>; gradNonFinite: number[] }> {
    this.validate(batch);
    const [B, T] = batch.inputs.shape as [number, number];
    checkWebgpuBatch(B, T, this.recurrent.n, this.recurrent.nIn, this.readout.nOut);
    const nLw = this.learningWindow ?? T;
    this.betaTensor ??= tf.keep(tf.tensor1d(Float32Array.from(this.consts.beta)));
    const wOut = this.readout.wOut.value;
    const it = await iterationWebgpu(
      this.consts,
      {
        nLw,
        kappa: this.readout.kappa,
        loss: this.readout.loss,
        feedback: this.readout.feedback,
        cReg: this.cReg,
        f0: (this.fTarget * this.recurrent.dt) / 1000,
        averageGradient: this.averageGradient,
      },
      {
        wIn: this.recurrent.wIn.value,
        wRec: this.recurrent.wRec.value,
        wOut,
        feedback: this.readout.feedback === 'symmetric' ? wOut : this.readout.feedbackWeights.value,
        inputs: batch.inputs,
        beta: this.betaTensor,
      },
      { labels: batch.labels, signals: batch.targets },
      withGradients,
    );
    const g = it.gradients;
    if (it.nonSpike > 0) {
      // as the tf kernel: counted on the device, the first one named from the inputs read back
      if (g) tf.dispose([g.input, g.recurrent, g.readout]);
      checkSpikes(await batch.inputs.data(), batch.inputs.shape);
      throw new CinderArgumentError('batch.inputs', `${it.nonSpike} values that are not 0 or 1`, 'spikes (0 or 1)');
    }
    const loss = it.lossSum / lossDivisor(this.readout.loss, { batch: B, nOut: this.readout.nOut, nLw });
    const failure =
      it.nonFinite.input > 0 ? new NonFiniteError('recurrent.wIn', this.batches)
      : it.nonFinite.recurrent > 0 ? new NonFiniteError('recurrent.wRec', this.batches)
      : it.nonFinite.readout > 0 ? new NonFiniteError('readout.wOut', this.batches)
      : withGradients && !Number.isFinite(loss) ? new NonFiniteError('loss', this.batches, Number.isNaN(loss) ? 'NaN' : 'Inf')
      : undefined;
    if (failure) {
      if (g) tf.dispose([g.input, g.recurrent, g.readout]);
      throw failure;
    }
    const { rateHz, ratesHz } = this.rates(it.counts, B, T);
    const ce = this.readout.loss === 'cross_entropy';
    const result: EPropStepResult = {
      loss,
      recallError: ce ? it.wrong / B : NaN,
      rateHz,
      ratesHz,
      prediction: ce ? it.prediction : new Int32Array(B).fill(-1),
      seconds: 0,
    };
    return { result, grads: g, gradNonFinite: GRADIENT_KINDS.map((k) => it.gradNonFinite[k]) };
  }

  private run(batch: EPropBatch, withGradients: boolean): { result: EPropStepResult; grads?: Record<EPropCellKind, Float64Array | tf.Tensor2D> } {
    if (this.kernel === 'webgpu') {
      throw new CinderArgumentError('kernel', this.kernel, 'the async methods (stepAsync, evaluateAsync, gradientsAsync) for the fused webgpu kernel');
    }
    checkSyncReads('step/evaluate/gradients', 'stepAsync, evaluateAsync, gradientsAsync');
    const p = this.prepare(batch);
    if (this.kernel === 'js') return this.fromSlices(p, this.sliceJobs(p, withGradients).map((j) => runSlice(j, this.scratch)));
    return this.tfRest(batch, p, forwardTf(this.consts, this.recurrent.wIn.value, this.recurrent.wRec.value, batch.inputs), withGradients);
  }

  /** The tf kernel after its scan: readout, backward pass (float64, on the host), gradients on tfjs. */
  private tfRest(batch: EPropBatch, p: ReturnType<EProp['prepare']>, rec: ForwardRecord, withGradients: boolean): { result: EPropStepResult; grads?: Record<EPropCellKind, Float64Array | tf.Tensor2D> } {
    const ro = readoutPass(rec.z, p.dims, p.wOut, this.readout.kappa, this.readout.loss, p.target);
    let grads: Record<EPropCellKind, Float64Array | tf.Tensor2D> | undefined;
    if (withGradients) {
      const adj = epropAdjoint(rec, this.consts, ro.err, this.adjointSettings(p));
      grads = gradientsTf(batch.inputs, rec, adj, p.dims.nOut);
    }
    return { result: this.metrics(rec, ro), grads };
  }

  /** The JavaScript kernel's slices of a batch (`./js-batch.ts`). */
  private sliceJobs(p: ReturnType<EProp['prepare']>, withGradients: boolean): EPropSliceJob[] {
    const common = { consts: this.consts, wIn: p.wIn, wRec: p.wRec, wOut: p.wOut, kappa: this.readout.kappa, loss: this.readout.loss, adjoint: this.adjointSettings(p), withGradients };
    return sliceJobs(common, p.dense(), p.target);
  }

  /** Metrics and gradients of a batch from its slices. */
  private fromSlices(p: ReturnType<EProp['prepare']>, partials: EPropSlicePartial[]): { result: EPropStepResult; grads?: Record<EPropCellKind, Float64Array | tf.Tensor2D> } {
    const { batch: B, steps: T, n, nOut, nLw } = p.dims;
    const c = combineSlices(partials, { batch: B, n, nIn: this.recurrent.nIn, nOut, nLw });
    const ce = this.readout.loss === 'cross_entropy';
    const result: EPropStepResult = { loss: c.lossSum / lossDivisor(this.readout.loss, p.dims), recallError: ce ? c.wrong / B : NaN, ...this.rates(c.counts, B, T), prediction: c.prediction, seconds: 0 };
    return { result, grads: c.gradients };
  }

  private metrics(rec: ForwardRecord, ro: ReadoutPassResult): EPropStepResult {
    const { batch: B, steps: T, n, z } = rec;
    const counts = new Float64Array(n);
    for (let i = 0; i < z.length; i++) if (z[i]) counts[i % n] += 1;
    return { loss: ro.loss, recallError: ro.recallError, ...this.rates(counts, B, T), prediction: ro.prediction, seconds: 0 };
  }

  /**
   * Firing rates from spike counts over B samples × T steps of dt ms: per neuron
   * ratesHz[j] = counts[j]·1000/(B·T·dt), and their mean rateHz (float64).
   */
  private rates(counts: ArrayLike<number>, B: number, T: number): { rateHz: number; ratesHz: Float64Array } {
    const toHz = 1000 / (B * T * this.recurrent.dt);
    const ratesHz = new Float64Array(counts.length);
    let total = 0;
    for (let j = 0; j < counts.length; j++) {
      total += counts[j]!;
      ratesHz[j] = counts[j]! * toHz;
    }
    return { rateHz: (total * toHz) / counts.length, ratesHz };
  }
}

/** True when every entry is a finite number. */
function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

/** True when every entry is finite in float32 (its float32 rounding is neither NaN nor ±∞). */
function allFinite32(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(Math.fround(a[i]!))) return false;
  return true;
}

/** The order of {@link nonFiniteCounts}. */
const GRADIENT_KINDS: readonly EPropCellKind[] = ['input', 'recurrent', 'readout'];

/** The non-finite entries of each gradient tensor ([input, recurrent, readout], float32, exact up to 2^24 per cell); caller disposes. */
function nonFiniteCounts(grads: Record<EPropCellKind, Float64Array | tf.Tensor2D>): tf.Tensor1D {
  return tf.tidy(() => tf.stack(GRADIENT_KINDS.map((k) => {
    const g = grads[k];
    return g instanceof Float64Array ? tf.scalar(0) : tf.sum(tf.cast(tf.logicalNot(tf.isFinite(g)), 'float32'));
  })) as tf.Tensor1D);
}

/** Disposes the gradient tensors of `grads` (those not held on the host). */
function disposeGradients(grads: Record<EPropCellKind, Float64Array | tf.Tensor2D>): void {
  for (const g of Object.values(grads)) if (!(g instanceof Float64Array)) g.dispose();
}

/**
 * Number of input values that are not spikes (neither 0 nor 1; NaN and ±Inf included), counted on
 * the device as a float32 scalar (exact up to 2^24 values). The caller disposes it.
 */
function nonSpikeCount(x: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.logicalAnd(tf.notEqual(x, 0), tf.notEqual(x, 1)), 'float32')));
}

/** {@link nonSpikeCount} read synchronously. */
function nonSpikeCountSync(x: tf.Tensor): number {
  const c = nonSpikeCount(x);
  try {
    return c.dataSync()[0]!;
  } finally {
    c.dispose();
  }
}

/** {@link nonSpikeCount} read with `await data()`. */
async function nonSpikeCountAsync(x: tf.Tensor): Promise<number> {
  const c = nonSpikeCount(x);
  try {
    return (await c.data())[0]!;
  } finally {
    c.dispose();
  }
}

/** Throws a CinderArgumentError naming the first input value [b][t][i] that is not 0 or 1. */
function checkSpikes(data: ArrayLike<number>, shape: readonly number[]): void {
  const T = shape[1]!;
  const nIn = shape[2]!;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v !== 0 && v !== 1) {
      throw new CinderArgumentError(`batch.inputs[${Math.floor(i / (T * nIn))}][${Math.floor(i / nIn) % T}][${i % nIn}]`, v, 'a spike (0 or 1)');
    }
  }
}

/** Throws unless `value` is `true` or `false`. */
function checkBoolean(param: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new CinderArgumentError(param, value, 'true or false');
  return value;
}
