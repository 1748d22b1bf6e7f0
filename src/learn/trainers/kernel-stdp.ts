/**
 * @module
 */
import { CinderArgumentError } from '../../core/errors.js';
import type { TrainableCell } from '../toolkit/trainable-cell.js';
import type { TrainerBatchReduction } from '../toolkit/contraction.js';
import type { SpikeTimeKernel } from './kernels.js';
import { SpikeTimeTrainer, type CellKernels, type SpikeTimeRule } from './spike-time-trainer.js';

/** Hyperparameters of {@link KernelSTDP} and its delay-adjusted variants (all may be overridden per cell). */
export interface KernelSTDPOptions {
  /** K_post, conventionally nonzero for t_Δ ≥ 0 (post after pre). Not owned by the trainer. */
  kernelPost: SpikeTimeKernel;
  /** K_pre, conventionally nonzero for t_Δ < 0 (pre after post). Not owned by the trainer. */
  kernelPre: SpikeTimeKernel;
  /** Reduction of per-sample updates over the batch (default `mean`). */
  batchReduction?: TrainerBatchReduction;
}

/** {@link KernelSTDPOptions} with defaults filled in. */
export type KernelSTDPHyper = Required<KernelSTDPOptions>;

function checkKernel(param: string, k: unknown): void {
  if (!k || typeof (k as SpikeTimeKernel).apply !== 'function') throw new CinderArgumentError(param, k, 'a SpikeTimeKernel (an object with apply(diff))');
}

/** Shared implementation of the three user-kernel rules ({@link KernelSTDP}, {@link DelayAdjustedKernelSTDP}, {@link DelayAdjustedKernelSTDPD}). */
export abstract class UserKernelTrainer extends SpikeTimeTrainer<KernelSTDPHyper> {
  /**
   * @param options kernels and batch reduction
   * @param rule where presynaptic times come from and which parameter is updated
   */
  protected constructor(options: KernelSTDPOptions, rule: SpikeTimeRule) {
    if (!options || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an options object with kernelPost and kernelPre');
    super({ batchReduction: 'mean', ...options }, rule);
  }

  protected override get optionKeys(): readonly string[] {
    return ['kernelPost', 'kernelPre', 'batchReduction'];
  }

  protected validate(h: KernelSTDPHyper): KernelSTDPHyper {
    checkKernel('kernelPost', h.kernelPost);
    checkKernel('kernelPre', h.kernelPre);
    return this.checkSpikeTimeHyper(h);
  }

  protected kernels(h: Readonly<KernelSTDPHyper>): CellKernels {
    return { post: h.kernelPost, pre: h.kernelPre, owned: [] };
  }

  /** Adds this step's update of every learning cell (or of `cells`) to its connection's updater. */
  step(cells?: readonly TrainableCell[]): void {
    this.accumulate(cells, null);
  }
}

/**
 * Kernel spike-timing-dependent plasticity: with `t_Δ = t_post^f − t_pre^f` (most recent spike
 * times; NaN until both sides have spiked), every step adds
 * `pos = reduce_b Σ_R (max(K_post(t_Δ), 0) + max(K_pre(t_Δ), 0))` and `neg` (the magnitudes of the
 * negative parts) to the weight. Presynaptic times come from `connection.synspike` (spikes as
 * delivered). Not spike-gated: a pairing keeps contributing every step until a new spike.
 *
 * ```ts
 * const kPost = expStdpPostKernel(0.01, 20), kPre = expStdpPreKernel(-0.012, 20);
 * const rule = new KernelSTDP({ kernelPost: kPost, kernelPre: kPre });
 * rule.register(cell);
 * // per step: layer.forward(x); rule.step(); connection.update();
 * ```
 */
export class KernelSTDP extends UserKernelTrainer {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'KernelSTDP';
  /** @param options kernels and batch reduction (see {@link KernelSTDPOptions}) */
  constructor(options: KernelSTDPOptions) {
    super(options, { delayAdjusted: false, parameter: 'weight' });
  }
}

/**
 * Delay-adjusted kernel STDP of the weight: as {@link KernelSTDP} with
 * `t_Δ = t_post^f − t_pre^f − d`, presynaptic times taken when spikes are sent
 * (`connection.synapse.spike`) and `d` the connection's per-synapse delays (0 without delays).
 */
export class DelayAdjustedKernelSTDP extends UserKernelTrainer {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'DelayAdjustedKernelSTDP';
  /** @param options kernels and batch reduction (see {@link KernelSTDPOptions}) */
  constructor(options: KernelSTDPOptions) {
    super(options, { delayAdjusted: true, parameter: 'weight' });
  }
}

/**
 * Delay-adjusted kernel STDP of the delays: `Δd` from the kernels on
 * `t_Δ = t_post^f − t_pre^f − d` (positive kernel values lengthen, negative ones shorten the delay).
 * The connection must have learnable delays (`maxDelay > 0`).
 */
export class DelayAdjustedKernelSTDPD extends UserKernelTrainer {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'DelayAdjustedKernelSTDPD';
  /** @param options kernels and batch reduction (see {@link KernelSTDPOptions}) */
  constructor(options: KernelSTDPOptions) {
    super(options, { delayAdjusted: true, parameter: 'delay' });
  }
}
