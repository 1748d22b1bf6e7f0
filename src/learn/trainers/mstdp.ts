/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { checkFinite } from '../../core/errors.js';
import type { TrainableCell } from '../toolkit/trainable-cell.js';
import type { TrainerBatchReduction } from '../toolkit/contraction.js';
import { checkReward, Modulation, contractedTerms, type Reward } from '../toolkit/modulation.js';
import { PairTraceTrainer, type PairRuleOptions } from './pair-trace-trainer.js';

/**
 * Hyperparameters of {@link MSTDP} (all may be overridden per cell). The signs of the learning rates
 * times the reward's pick the mode.
 */
export interface MSTDPOptions extends PairRuleOptions {
  /** Reduction over the batch (default `sum`; must be homogeneous of degree 1). */
  batchReduction?: TrainerBatchReduction;
}

/** {@link MSTDPOptions} with defaults filled in. */
export type MSTDPHyper = Required<MSTDPOptions>;

/** Options of {@link MSTDP.step} and {@link MSTDPET.step}. */
export interface ModulatedStepOptions {
  /** Scale γ (default 1; only |γ| matters). Pass 1/B with a `sum` reduction for a batch mean. */
  scale?: number;
  /** Restrict the step to these cells (default: all registered cells). */
  cells?: readonly TrainableCell[];
}

/**
 * Reward-modulated STDP (Florian 2007, MSTDP): the STDP terms of the current step scaled by the
 * reward, `Δw = |γ|·M(t)·(sgn(lrPost)·D_post + sgn(lrPre)·D_pre)` with
 * `D_post = reduce_b Σ_R i_post·x_pre`, `D_pre = reduce_b Σ_R i_pre·x_post` (trace amplitudes
 * |lrPost|, |lrPre|). A negative reward swaps potentiation and depression (which matters for
 * bounding). With a reward tensor `[B]` each sample is modulated by its own reward.
 *
 * Per step: `layer.forward(x)`, then `mstdp.step(reward)`, then `connection.update()`.
 */
export class MSTDP extends PairTraceTrainer<MSTDPHyper> {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'MSTDP';
  private readonly modulation = new Modulation();

  /**
   * Creates the trainer; register cells with {@link register}.
   * @param options default hyperparameters (see {@link MSTDPOptions})
   */
  constructor(options: MSTDPOptions) {
    super({ traceMode: 'cumulative', batchReduction: 'sum', delayed: false, ...options });
  }

  /** Default batch reduction of this rule. */
  protected get defaultReduction(): 'sum' {
    return 'sum';
  }

  /**
   * Adds this step's update, modulated by `reward` (a number, or a float32 tensor `[B]`), to the
   * updater of every learning cell. The reward is checked (a finite number, or a tensor `[B]` for
   * every cell's batch B) also on steps where no cell has traces yet.
   * @throws CinderArgumentError for a bad reward or scale
   */
  step(reward: Reward, options: ModulatedStepOptions = {}): void {
    const scale = checkFinite('scale', options.scale ?? 1);
    const list = this.active(options.cells);
    checkReward(reward, null);
    if (typeof reward !== 'number') for (const { cell } of list) checkReward(reward, cell.neuron.spike.shape[0] ?? 0);
    this.atomically(list, () => {
      for (const { cell, hyper: h, state: s } of list) {
        if (!s.ready) continue;
        tf.tidy(() => {
          const terms = contractedTerms(s.contraction, s.spikePost.latest, s.preTrace(), s.tracePost.latest, s.preSpike());
          const { pos, neg } = this.modulation.parts(terms, h.lrPost, h.lrPre, reward, scale, h.batchReduction);
          cell.connection.updater.add('weight', pos, neg);
        });
      }
    });
  }

  protected override disposeConstants(): void {
    this.modulation.dispose();
  }
}
