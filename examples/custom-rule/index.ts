/**
 * A new learning rule written with Cinder's trainer toolkit: reward-modulated triplet STDP.
 *
 * Pfister & Gerstner's triplet rule with unit traces, scaled by a reward M(t)·γ:
 *
 *   dpost = Σ_R post(t)·(α_post + β_post·y_slow(t−Δt)) · x_fast(t)
 *   dpre  = Σ_R y_fast(t) · pre(t)·(α_pre + β_pre·x_slow(t−Δt))
 *
 * x are presynaptic traces, y postsynaptic ones (fast: τ₊, τ₋; slow: τ_x, τ_y), α = |pair rates|,
 * β = |triplet rates|; the signs of the pair rates (times M) route the terms to potentiation or
 * depression, exactly as in MSTDP. With β = 0 the rule is MSTDP with unit traces scaled by |lr|.
 *
 * Everything rule-specific fits in `build` (which monitors) and `step` (which formula): monitors
 * come from {@link PairTraces}, the Σ_R contraction from the cell's {@link ReceptiveContraction}
 * (one matrix product per term for dense connections), the reward scaling and sign routing from
 * {@link Modulation}.
 *
 * The imports below point into `src/` because this file lives in the repository; in a project of
 * your own import the same names from `cinder-snn` (all of them are exported there).
 */
import { tf } from '../../src/core/tf.js';
import { checkFinite, checkPositive } from '../../src/core/errors.js';
import {
  CellTrainer, Modulation, PairTraces, checkBatchReduction, contractedTerms,
  type TrainerBatchReduction, type CellResources, type Reward, type TrainableCell,
} from '../../src/learn/index.js';

/** Hyperparameters of {@link RewardTripletSTDP}. */
export interface RewardTripletOptions {
  /** Pair rate on postsynaptic spikes (sign: potentiation when ≥ 0 and M ≥ 0). */
  lrPostPair: number;
  /** Triplet rate on postsynaptic spikes (only |·| is used). */
  lrPostTriplet: number;
  /** Pair rate on presynaptic spikes (sign: depression when < 0 and M ≥ 0). */
  lrPrePair: number;
  /** Triplet rate on presynaptic spikes (only |·| is used). */
  lrPreTriplet: number;
  /** τ₊: fast presynaptic trace (ms). */
  tauPreFast: number;
  /** τ_x: slow presynaptic trace (ms). */
  tauPreSlow: number;
  /** τ₋: fast postsynaptic trace (ms). */
  tauPostFast: number;
  /** τ_y: slow postsynaptic trace (ms). */
  tauPostSlow: number;
  /** Batch reduction (default `sum`, as for MSTDP). */
  batchReduction?: TrainerBatchReduction;
}

type Hyper = Required<RewardTripletOptions>;

/** Per cell: unit fast traces (with spikes) and unit slow traces kept two steps (to read t − Δt). */
class TripletTraces implements CellResources {
  readonly fast: PairTraces;
  readonly slow: PairTraces;
  readonly alphaPost: tf.Scalar;
  readonly betaPost: tf.Scalar;
  readonly alphaPre: tf.Scalar;
  readonly betaPre: tf.Scalar;

  constructor(cell: TrainableCell, h: Hyper) {
    this.fast = new PairTraces(cell, { tauPre: h.tauPreFast, tauPost: h.tauPostFast, amplitudePre: 1, amplitudePost: 1 });
    this.slow = new PairTraces(cell, { tauPre: h.tauPreSlow, tauPost: h.tauPostSlow, amplitudePre: 1, amplitudePost: 1, history: 2 });
    this.alphaPost = tf.keep(tf.scalar(Math.abs(h.lrPostPair)));
    this.betaPost = tf.keep(tf.scalar(Math.abs(h.lrPostTriplet)));
    this.alphaPre = tf.keep(tf.scalar(Math.abs(h.lrPrePair)));
    this.betaPre = tf.keep(tf.scalar(Math.abs(h.lrPreTriplet)));
  }

  get observers() {
    return [...this.fast.observers, this.slow.tracePre, this.slow.tracePost];
  }

  clear(): void {
    this.fast.clear();
    this.slow.clear();
  }

  dispose(): void {
    this.fast.dispose();
    this.slow.dispose();
    for (const s of [this.alphaPost, this.betaPost, this.alphaPre, this.betaPre]) s.dispose();
  }
}

/** Reward-modulated triplet STDP (see the module comment). Per step: layer, `step(M)`, `update()`. */
export class RewardTripletSTDP extends CellTrainer<Hyper, TripletTraces> {
  private readonly modulation = new Modulation();

  constructor(options: RewardTripletOptions) {
    super({ batchReduction: 'sum', ...options });
  }

  protected validate(h: Hyper): Hyper {
    for (const k of ['lrPostPair', 'lrPostTriplet', 'lrPrePair', 'lrPreTriplet'] as const) checkFinite(k, h[k]);
    for (const k of ['tauPreFast', 'tauPreSlow', 'tauPostFast', 'tauPostSlow'] as const) checkPositive(k, h[k]);
    return { ...h, batchReduction: checkBatchReduction('batchReduction', h.batchReduction) };
  }

  protected build(cell: TrainableCell, h: Readonly<Hyper>): TripletTraces {
    return new TripletTraces(cell, h);
  }

  /** The monitors of a registered cell. */
  traces(cell: TrainableCell): TripletTraces {
    return this.entry(cell).state;
  }

  /** Adds this step's update, modulated by `reward` (number or tensor `[B]`), to every learning cell. */
  step(reward: Reward, scale = 1): void {
    for (const { cell, hyper: h, state: s } of this.active()) {
      if (!s.fast.ready) continue;
      tf.tidy(() => {
        const f = s.fast;
        // postsynaptic factor: post(t)·(α_post + β_post·y_slow(t − Δt))
        const post = tf.mul(f.spikePost.latest, tf.add(s.alphaPost, tf.mul(s.betaPost, s.slow.ago(s.slow.tracePost, 1))));
        // presynaptic factor: pre(t)·(α_pre + β_pre·x_slow(t − Δt))
        const pre = tf.mul(f.spikePre.latest, tf.add(s.alphaPre, tf.mul(s.betaPre, s.slow.ago(s.slow.tracePre, 1))));
        const terms = contractedTerms(f.contraction, post, f.tracePre.latest, f.tracePost.latest, pre);
        const { pos, neg } = this.modulation.parts(terms, h.lrPostPair, h.lrPrePair, reward, scale, h.batchReduction);
        cell.connection.updater.add('weight', pos, neg);
      });
    }
  }

  protected override disposeConstants(): void {
    this.modulation.dispose();
  }
}
