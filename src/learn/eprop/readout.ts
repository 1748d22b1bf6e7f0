/**
 * The leaky readout of an e-prop network (NEST `eprop_readout_bsshslm_2020`): y_k ← κ·y_k +
 * (1 − κ)·Σ_j W_out,kj z_j with κ = exp(−dt/τ_out). With `cross_entropy` the outputs are
 * π = softmax(y) and the error is π − π*; with `mean_squared_error` the error is y − y*.
 * The learning signal of recurrent neuron j is L_j = Σ_k B_jk·err_k, with fixed random feedback
 * weights B [n, nOut] (`random`) or B = W_outᵀ (`symmetric`).
 * @module
 */
import { tf } from '../../core/tf.js';
import { Module } from '../../core/module.js';
import type { Parameter } from '../../core/state.js';
import { CinderArgumentError, checkElements, checkInteger, checkOneOf, checkPositive, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { Rng } from '../../core/random.js';
import { initWeights } from './recurrent.js';
import type { EPropCell } from './cell.js';

/** Readout loss functions. */
export const READOUT_LOSSES = ['cross_entropy', 'mean_squared_error'] as const;
/** One of {@link READOUT_LOSSES}. */
export type ReadoutLoss = (typeof READOUT_LOSSES)[number];
/** How learning signals are fed back. */
export const FEEDBACK_MODES = ['random', 'symmetric'] as const;
/** One of {@link FEEDBACK_MODES}. */
export type FeedbackMode = (typeof FEEDBACK_MODES)[number];

/** Options of {@link EPropReadout}. */
export interface EPropReadoutOptions {
  /** Number of recurrent neurons feeding the readout. */
  nRec: number;
  /** Number of readout neurons. */
  nOut: number;
  /** Time step in ms (default 1). */
  dt?: number;
  /** Readout time constant τ_out in ms (default 20). */
  tauOut?: number;
  /** Loss (default `cross_entropy`). */
  loss?: ReadoutLoss;
  /** Feedback weights: `random` (fixed, default) or `symmetric` (B = W_outᵀ). */
  feedback?: FeedbackMode;
  /** Initial W_out [nOut·nRec] row-major; default Glorot-uniform from `rng`. */
  wOut?: ArrayLike<number>;
  /** Random feedback B [nRec·nOut] row-major; default randn from `rng`. */
  feedbackWeights?: ArrayLike<number>;
  /** Random source for defaults (default `new Rng(1)`). */
  rng?: Rng;
}

/** The keys of {@link EPropReadoutOptions}. */
export const EPROP_READOUT_OPTION_KEYS = optionKeys<EPropReadoutOptions>()(['nRec', 'nOut', 'dt', 'tauOut', 'loss', 'feedback', 'wOut', 'feedbackWeights', 'rng']);

/** e-prop leaky readout with softmax/cross-entropy or mean-squared-error loss. */
export class EPropReadout extends Module {
  /** Recurrent neurons feeding in. */
  readonly nRec: number;
  /** Readout neurons. */
  readonly nOut: number;
  /** Time step (ms). */
  readonly dt: number;
  /** Readout time constant (ms). */
  readonly tauOut: number;
  /** Loss function. */
  readonly loss: ReadoutLoss;
  /** Feedback mode. */
  readonly feedback: FeedbackMode;
  private readonly pOut: Parameter;
  private readonly pB: Parameter;

  constructor(options: EPropReadoutOptions) {
    if (new.target === EPropReadout) checkOptionKeys('options', options, EPROP_READOUT_OPTION_KEYS);
    super();
    this.nRec = checkInteger('nRec', options.nRec, 1);
    this.nOut = checkInteger('nOut', options.nOut, 1);
    this.dt = checkPositive('dt', options.dt ?? 1);
    this.tauOut = checkPositive('tauOut', options.tauOut ?? 20);
    this.loss = checkOneOf('loss', options.loss ?? 'cross_entropy', READOUT_LOSSES);
    this.feedback = checkOneOf('feedback', options.feedback ?? 'random', FEEDBACK_MODES);
    if (this.loss === 'cross_entropy' && this.nOut < 2) throw new CinderArgumentError('nOut', this.nOut, 'at least 2 for cross_entropy');
    const rng = options.rng ?? new Rng(1);
    const lim = Math.sqrt(3 / Math.max(1, (this.nRec + this.nOut) / 2));
    checkElements('nOut', this.nOut * this.nRec, `the readout weights [${this.nOut}, ${this.nRec}]`);
    const wOut = initWeights('wOut', options.wOut, this.nOut * this.nRec, () => (2 * rng.uniform() - 1) * lim);
    const b = initWeights('feedbackWeights', options.feedbackWeights, this.nRec * this.nOut, () => rng.normal());
    this.pOut = this.addParameter('w_out', tf.tensor2d(wOut, [this.nOut, this.nRec]));
    this.pB = this.addParameter('feedback', tf.tensor2d(b, [this.nRec, this.nOut]), false);
  }

  /** Readout weights [nOut, nRec]. */
  get wOut(): Parameter {
    return this.pOut;
  }

  /** Fixed random feedback weights B [nRec, nOut] (unused when `feedback` is `symmetric`). */
  get feedbackWeights(): Parameter {
    return this.pB;
  }

  /** Readout decay κ = exp(−dt/τ_out). */
  get kappa(): number {
    return Math.exp(-this.dt / this.tauOut);
  }

  /** The recurrent→readout cell, for {@link EProp}. */
  cell(): EPropCell {
    return { kind: 'readout', weight: this.pOut, nPre: this.nRec, nPost: this.nOut };
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return { nRec: this.nRec, nOut: this.nOut, dt: this.dt, tauOut: this.tauOut, loss: this.loss, feedback: this.feedback };
  }
}
