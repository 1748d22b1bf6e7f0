/**
 * Delay-adjusted exponential STDP of weights or delays, plain and reward-modulated.
 * @module
 */
import { checkFinite, checkPositive } from '../../core/errors.js';
import type { TrainableCell } from '../toolkit/trainable-cell.js';
import type { TrainerBatchReduction } from '../toolkit/contraction.js';
import type { Reward } from '../toolkit/modulation.js';
import type { ModulatedStepOptions } from './mstdp.js';
import { expStdpPostKernel, expStdpPreKernel } from './kernels.js';
import { SpikeTimeTrainer, type CellKernels, type SpikeTimeRule } from './spike-time-trainer.js';

/** Hyperparameters of the delay-adjusted exponential rules (all may be overridden per cell). */
export interface DelayAdjustedSTDPOptions {
  /** Learning rate η₊ (signed; see the class for which side of t_Δ it applies to). */
  lrPos: number;
  /** Learning rate η₋ (signed). */
  lrNeg: number;
  /** Time constant τ₊ of η₊'s exponential (ms). */
  tauPos: number;
  /** Time constant τ₋ of η₋'s exponential (ms). */
  tauNeg: number;
  /** Reduction of per-sample updates over the batch (default `mean`; `sum` for the modulated rules). */
  batchReduction?: TrainerBatchReduction;
}

/** {@link DelayAdjustedSTDPOptions} with defaults filled in. */
export type DelayAdjustedSTDPHyper = Required<DelayAdjustedSTDPOptions>;

/** Shared implementation of the delay-adjusted exponential rules: kernels built per cell from the rates and time constants. */
export abstract class ExponentialDelayTrainer extends SpikeTimeTrainer<DelayAdjustedSTDPHyper> {
  /** `true`: η₊ applies to t_Δ ≥ 0 (weight rules); `false`: η₋ does (delay rules). */
  private readonly causalIsPos: boolean;

  /**
   * @param options rates, time constants, batch reduction
   * @param rule which parameter is updated (presynaptic times are always taken when sent)
   * @param defaultReduction batch reduction used when `options` gives none
   */
  protected constructor(options: DelayAdjustedSTDPOptions, rule: SpikeTimeRule, defaultReduction: TrainerBatchReduction) {
    super({ batchReduction: defaultReduction, ...options }, rule);
    this.causalIsPos = rule.parameter === 'weight';
  }

  protected override get optionKeys(): readonly string[] {
    return ['lrPos', 'lrNeg', 'tauPos', 'tauNeg', 'batchReduction'];
  }

  protected validate(h: DelayAdjustedSTDPHyper): DelayAdjustedSTDPHyper {
    checkFinite('lrPos', h.lrPos);
    checkFinite('lrNeg', h.lrNeg);
    checkPositive('tauPos', h.tauPos);
    checkPositive('tauNeg', h.tauNeg);
    return this.checkSpikeTimeHyper(h);
  }

  protected kernels(h: Readonly<DelayAdjustedSTDPHyper>): CellKernels {
    const post = this.causalIsPos ? expStdpPostKernel(h.lrPos, h.tauPos) : expStdpPostKernel(h.lrNeg, h.tauNeg);
    const pre = this.causalIsPos ? expStdpPreKernel(h.lrNeg, h.tauNeg) : expStdpPreKernel(h.lrPos, h.tauPos);
    return { post, pre, owned: [post, pre] };
  }
}

/**
 * Delay-adjusted pair STDP of the weight (Inferno's `DelayAdjustedSTDP`):
 *
 * `Δw = η₊·exp(−|t_Δ|/τ₊)·[t_Δ ≥ 0] + η₋·exp(−|t_Δ|/τ₋)·[t_Δ < 0]`, `t_Δ = t_post^f − t_pre^f − d`,
 *
 * with the most recent spike times (presynaptic: when sent), `d` the connection's per-synapse
 * delays (0 without delays), batch mean by default. A term goes to potentiation when its rate is
 * ≥ 0 and to depression otherwise (Hebbian: η₊ > 0 > η₋). Evaluated every step, not spike-gated.
 */
export class DelayAdjustedSTDP extends ExponentialDelayTrainer {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'DelayAdjustedSTDP';
  /** @param options rates, time constants, batch reduction (default `mean`) */
  constructor(options: DelayAdjustedSTDPOptions) {
    super(options, { delayAdjusted: true, parameter: 'weight' }, 'mean');
  }

  /** Adds this step's update of every learning cell (or of `cells`) to its connection's updater. */
  step(cells?: readonly TrainableCell[]): void {
    this.accumulate(cells, null);
  }
}

/**
 * Delay-adjusted pair STDP of the delays (Inferno's `DelayAdjustedSTDPD`):
 *
 * `Δd = η₋·exp(−|t_Δ|/τ₋)·[t_Δ ≥ 0] + η₊·exp(−|t_Δ|/τ₊)·[t_Δ < 0]`, `t_Δ = t_post^f − t_pre^f − d`.
 *
 * The usual ("Hebbian") setting is η₋ < 0 < η₊: a postsynaptic spike after the delayed arrival
 * shortens the delay, one before it lengthens it, so arrivals move towards the postsynaptic spikes.
 * The connection must have learnable delays (`maxDelay > 0`); batch mean by default.
 */
export class DelayAdjustedSTDPD extends ExponentialDelayTrainer {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'DelayAdjustedSTDPD';
  /** @param options rates, time constants, batch reduction (default `mean`) */
  constructor(options: DelayAdjustedSTDPOptions) {
    super(options, { delayAdjusted: true, parameter: 'delay' }, 'mean');
  }

  /** Adds this step's update of every learning cell (or of `cells`) to its connection's updater. */
  step(cells?: readonly TrainableCell[]): void {
    this.accumulate(cells, null);
  }
}

/**
 * Reward-modulated {@link DelayAdjustedSTDP}: `Δw = |γ|·M(t)·ζ(t)` with ζ the delay-adjusted STDP
 * term. Batch **sum** by default (pass `scale = 1/B` for a mean). With a per-sample reward `[B]`,
 * each sample's terms are scaled by `M_b·|γ|` before the potentiation/depression split, so a
 * negative reward turns that sample's potentiation into depression. (With `batchReduction: 'mean'`
 * and a per-sample reward both sides are divided by B; Inferno's MSTDP, and Cinder's, divide each
 * side by the number of terms routed to it.)
 */
export class DelayAdjustedMSTDP extends ExponentialDelayTrainer {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'DelayAdjustedMSTDP';
  /** @param options rates, time constants, batch reduction (default `sum`) */
  constructor(options: DelayAdjustedSTDPOptions) {
    super(options, { delayAdjusted: true, parameter: 'weight' }, 'sum');
  }

  /**
   * Adds this step's modulated update of every learning cell (or of `options.cells`).
   * @param reward M(t): a number, or a float32 tensor `[B]` with one value per sample
   * @param options scale γ (only |γ| matters; default 1) and the cells to update
   */
  step(reward: Reward, options: ModulatedStepOptions = {}): void {
    this.accumulate(options.cells, { reward, scale: options.scale ?? 1 });
  }
}

/** Reward-modulated {@link DelayAdjustedSTDPD}: `Δd = |γ|·M(t)·ζ_d(t)`; batch sum by default. */
export class DelayAdjustedMSTDPD extends ExponentialDelayTrainer {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'DelayAdjustedMSTDPD';
  /** @param options rates, time constants, batch reduction (default `sum`) */
  constructor(options: DelayAdjustedSTDPOptions) {
    super(options, { delayAdjusted: true, parameter: 'delay' }, 'sum');
  }

  /**
   * Adds this step's modulated delay update of every learning cell (or of `options.cells`).
   * @param reward M(t): a number, or a float32 tensor `[B]` with one value per sample
   * @param options scale γ (only |γ| matters; default 1) and the cells to update
   */
  step(reward: Reward, options: ModulatedStepOptions = {}): void {
    this.accumulate(options.cells, { reward, scale: options.scale ?? 1 });
  }
}
