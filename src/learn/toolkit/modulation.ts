/**
 * Reward modulation shared by the three-factor rules (MSTDP, MSTDPET, custom rules): scales a
 * post-spike and a pre-spike term by |M·γ| and routes them with the sign table of
 * {@link splitBySign}, for a scalar reward or one reward per batch sample.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkFinite } from '../../core/errors.js';
import { reduceOverBatch, type TrainerBatchReduction, type ReceptiveContraction } from './contraction.js';
import { ScalarCache } from '../../core/scalars.js';
import { splitBySign, type SignedParts } from './sign.js';

/** A modulatory signal: one value for the whole batch, or a float32 tensor `[B]` (one per sample). */
export type Reward = number | tf.Tensor;

/**
 * Checks a {@link Reward} for `batch` samples before a step changes anything: a finite number, or
 * a tensor of shape `[batch]` (`batch` null: any length; the values are not read back, so a NaN in
 * a tensor reward reaches the update, where the finite checks see it). Returns `reward`.
 * @throws CinderArgumentError otherwise
 */
export function checkReward(reward: unknown, batch: number | null): Reward {
  if (typeof reward === 'number') return checkFinite('reward', reward);
  if (!(reward instanceof tf.Tensor) || reward.rank !== 1 || (batch !== null && reward.shape[0] !== batch)) {
    throw new CinderArgumentError('reward', reward, `a finite number or a tensor of shape [${batch ?? 'B'}] (one per sample)`);
  }
  return reward;
}

/**
 * The two terms of a pair rule over a batch, as batch sums with optional per-sample weights. Build one
 * with {@link contractedTerms} (from spikes and traces) or {@link perSampleTerms} (from per-sample
 * tensors such as eligibility traces).
 */
export interface PairTerms {
  /** Batch size B. */
  readonly batch: number;
  /** `Σ_b w_b·dpost_b` (`weights` `[B]`; omitted: plain sum), shape W. */
  post(weights?: tf.Tensor | null): tf.Tensor;
  /** `Σ_b w_b·dpre_b`, shape W. */
  pre(weights?: tf.Tensor | null): tf.Tensor;
  /** Per-sample `dpost` `[B, ...W]` (for custom batch reductions). */
  postPerSample(): tf.Tensor;
  /** Per-sample `dpre` `[B, ...W]`. */
  prePerSample(): tf.Tensor;
}

/**
 * {@link PairTerms} over per-sample tensors `[B, ...W]` (e.g. eligibility traces z_post, z_pre).
 * @throws CinderArgumentError unless `dpost` has rank >= 1 and `dpre` its shape (a `dpre` of
 * batch 1 against B would otherwise broadcast into B copies when weighted)
 */
export function perSampleTerms(dpost: tf.Tensor, dpre: tf.Tensor): PairTerms {
  if (!(dpost instanceof tf.Tensor) || dpost.rank < 1) throw new CinderArgumentError('dpost', dpost, 'a tensor [B, ...W] (rank >= 1)');
  if (!(dpre instanceof tf.Tensor) || !tf.util.arraysEqual(dpre.shape, dpost.shape)) throw new CinderArgumentError('dpre', dpre, `a tensor of the shape of dpost [${dpost.shape.join(', ')}]`);
  const batch = dpost.shape[0]!;
  const sum = (d: tf.Tensor, w?: tf.Tensor | null): tf.Tensor => {
    let x = d;
    if (w) x = tf.mul(x, tf.reshape(w, [batch, ...d.shape.slice(1).map(() => 1)]));
    return batch === 1 ? tf.reshape(x, d.shape.slice(1)) : tf.sum(x, 0);
  };
  return {
    batch,
    post: (w) => sum(dpost, w),
    pre: (w) => sum(dpre, w),
    postPerSample: () => dpost,
    prePerSample: () => dpre,
  };
}

/**
 * {@link PairTerms} of the classic pair rule: `dpost_b = Σ_R i_post·x_pre`, `dpre_b = Σ_R x_post·i_pre`
 * through the connection's receptive contraction (for dense connections each batch sum is one matrix
 * product).
 */
export function contractedTerms(c: ReceptiveContraction, spikePost: tf.Tensor, tracePre: tf.Tensor, tracePost: tf.Tensor, spikePre: tf.Tensor): PairTerms {
  return {
    batch: spikePost.shape[0]!,
    post: (w) => c.batchSum(spikePost, tracePre, w),
    pre: (w) => c.batchSum(tracePost, spikePre, w),
    postPerSample: () => c.perSample(spikePost, tracePre),
    prePerSample: () => c.perSample(tracePost, spikePre),
  };
}

/** Uploads and caches the scalars a modulated split needs. */
export class Modulation {
  private readonly scalars = new ScalarCache(64);
  private readonly one: tf.Scalar = tf.keep(tf.scalar(1));
  private readonly zero: tf.Scalar = tf.keep(tf.scalar(0));

  /** `reduce_b(Σ_b terms)` with a batch reduction (new tensor; inside `tf.tidy`). */
  reduce(terms: PairTerms, which: 'post' | 'pre', reduction: TrainerBatchReduction): tf.Tensor {
    if (typeof reduction === 'function') return reduceOverBatch(which === 'post' ? terms.postPerSample() : terms.prePerSample(), reduction);
    const s = which === 'post' ? terms.post() : terms.pre();
    return reduction === 'sum' || terms.batch === 1 ? s : tf.div(s, this.scalars.get(terms.batch));
  }

  /**
   * The potentiation/depression parts of a modulated pair rule (new tensors; inside `tf.tidy`).
   *
   * - scalar `reward` M: `dpost = reduce_b(dpost_b)·|M·γ|`, likewise `dpre`, routed by the signs of
   *   (lrPost·M, lrPre·M);
   * - tensor `reward` `[B]`: each sample is scaled by |M_b·γ|; samples with M_b ≥ 0 are routed by the
   *   signs of the rates, samples with M_b < 0 with the roles swapped; each side is then reduced over
   *   the terms routed to it, as Inferno concatenates them (`sum`, or `mean` over their number: B per
   *   side when the rates differ in sign, 2·n_reg and 2·n_inv when they agree, since each sample then
   *   routes both its post and its pre term to one side). Custom reductions need a scalar reward.
   */
  parts(terms: PairTerms, lrPost: number, lrPre: number, reward: Reward, scale: number, reduction: TrainerBatchReduction): SignedParts {
    checkFinite('scale', scale);
    if (typeof reward === 'number') {
      checkFinite('reward', reward);
      const k = this.scalars.get(Math.abs(reward * scale));
      const dpost = tf.mul(this.reduce(terms, 'post', reduction), k);
      const dpre = tf.mul(this.reduce(terms, 'pre', reduction), k);
      return splitBySign(dpost, dpre, lrPost * reward >= 0, lrPre * reward >= 0);
    }
    if (!(reward instanceof tf.Tensor) || reward.shape.length !== 1 || reward.shape[0] !== terms.batch) {
      throw new CinderArgumentError('reward', reward, `a finite number or a tensor of shape [${terms.batch}] (one per sample)`);
    }
    if (typeof reduction === 'function') throw new CinderArgumentError('batchReduction', 'a function', '"sum" or "mean" with a per-sample reward (or a scalar reward)');
    const m = reward.dtype === 'float32' ? reward : tf.cast(reward, 'float32');
    const s = tf.abs(tf.mul(m, this.scalars.get(scale)));
    const regular = tf.cast(tf.greaterEqual(m, this.zero), 'float32');
    const inverted = tf.sub(this.one, regular);
    const sReg = tf.mul(s, regular);
    const sInv = tf.mul(s, inverted);
    const postUp = lrPost >= 0;
    const preUp = lrPre >= 0;
    // a sample's post term potentiates when sgn(lrPost) agrees with sgn(M_b)
    const pos = tf.add(terms.post(postUp ? sReg : sInv), terms.pre(preUp ? sReg : sInv));
    const neg = tf.add(terms.post(postUp ? sInv : sReg), terms.pre(preUp ? sInv : sReg));
    if (reduction === 'sum') return { pos, neg };
    const b = this.scalars.get(terms.batch);
    if (postUp !== preUp) return { pos: tf.div(pos, b), neg: tf.div(neg, b) };
    // potentiative/depressive: a side is the mean over its 2·n rows (a sample's post and pre terms),
    // as Inferno's torch.cat((dpost_reg, dpre_reg)) then mean; an empty side holds zeros
    const nReg2 = tf.mul(tf.sum(regular), this.scalars.get(2));
    const nInv2 = tf.sub(this.scalars.get(2 * terms.batch), nReg2);
    const nPos = tf.maximum(postUp ? nReg2 : nInv2, this.one);
    const nNeg = tf.maximum(postUp ? nInv2 : nReg2, this.one);
    return { pos: tf.div(pos, nPos), neg: tf.div(neg, nNeg) };
  }

  /** Frees the scalars. */
  dispose(): void {
    this.scalars.dispose();
    this.one.dispose();
    this.zero.dispose();
  }
}
