/**
 * Generalized leaky integrate-and-fire neurons with reset rules (GLIF2).
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkOneOf, checkPositive, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { ADAPTIVE_THRESHOLD_OPTION_KEYS, AdaptiveThresholdNeuron, type AdaptiveThresholdOptions } from './adaptive-threshold-neuron.js';
import { BATCH_REDUCTIONS } from './batch-reduction.js';
import { FLOAT32_MAX, checkFloat32, checkTerms } from './validate.js';
import { select } from './select.js';

/** Parameters of {@link GLIF2}. */
export interface GLIF2Options extends AdaptiveThresholdOptions {
  /** Multiplicative reset parameter m_v (unitless). */
  resetVMul: number;
  /** Additive reset parameter b_v (mV). */
  resetVAdd: number;
  /** Rate constants λ_k of the threshold adaptations (1/ms), each > 0; one entry per term. */
  rateAdapt: number | readonly number[];
}

/** The keys of {@link GLIF2Options}: other keys make {@link GLIF2}'s constructor throw. */
export const GLIF2_OPTION_KEYS = optionKeys<GLIF2Options>()([...ADAPTIVE_THRESHOLD_OPTION_KEYS, 'resetVMul', 'resetVAdd', 'rateAdapt']);

/**
 * GLIF2 (Inferno's `GLIF2`; Teeter et al. 2018 "LIF with reset rules"): LIF membrane (exact
 * integration), adaptive threshold Θ = Θ∞ + Σ_k θ_k with θ_k ← θ_k·e^{−λ_k Δt}, and on a spike
 *
 *     V ← V_rest + m_v·(V − V_rest) − b_v,   θ_k ← θ_k + d_k.
 *
 * The adaptation update follows the same order, refractory hold and batch reduction as
 * {@link ALIF}, and equals Inferno's `GLIF2.forward` (`adaptive_thresholds_linear_spike`, which
 * adds d_k on a spike: the published GLIF2 rule).
 *
 * Validation: the reset from the equilibrium threshold, V_rest + m_v(Θ∞ − V_rest) − b_v, must
 * lie below Θ∞ (otherwise the neuron would fire again as soon as it leaves refractoriness); m_v, b_v
 * and the reset offset V_rest(1 − m_v) − b_v must lie within float32 range.
 */
export class GLIF2 extends AdaptiveThresholdNeuron {
  /** Multiplicative reset parameter m_v. */
  readonly resetVMul: number;
  /** Additive reset parameter b_v (mV). */
  readonly resetVAdd: number;
  /** Adaptation rate constants λ_k (1/ms). */
  readonly rateAdapt: readonly number[];
  private readonly kResetMul: tf.Scalar;
  private readonly kResetAdd: tf.Scalar;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: GLIF2Options) {
    const o = options ?? ({} as GLIF2Options);
    if (new.target === GLIF2) checkOptionKeys('options', o, GLIF2_OPTION_KEYS);
    checkFloat32('restV', o.restV); // at or above threshV: fires by itself (as LIF)
    checkFloat32('threshV', o.threshV);
    checkFloat32('resetVMul', o.resetVMul);
    checkFloat32('resetVAdd', o.resetVAdd);
    const offset = o.restV * (1 - o.resetVMul) - o.resetVAdd;
    if (!(Math.abs(offset) <= FLOAT32_MAX)) {
      throw new CinderArgumentError('resetVMul/resetVAdd', [o.resetVMul, o.resetVAdd], `a reset offset restV·(1 − resetVMul) − resetVAdd of magnitude <= ${FLOAT32_MAX} (float32), got ${offset}`);
    }
    const fromThreshold = o.restV + o.resetVMul * (o.threshV - o.restV) - o.resetVAdd;
    if (!(fromThreshold < o.threshV)) {
      throw new CinderArgumentError(
        'resetVMul/resetVAdd',
        [o.resetVMul, o.resetVAdd],
        `a reset from threshold restV + resetVMul·(threshV − restV) − resetVAdd below threshV (${o.threshV}), got ${fromThreshold}`,
      );
    }
    checkPositive('tauM', o.tauM);
    checkFloat32('resistance', checkPositive('resistance', o.resistance ?? 1));
    const rate = checkTerms('rateAdapt', o.rateAdapt, true);
    const inc = checkTerms('adaptIncrement', o.adaptIncrement, false, rate.length);
    const reduction = checkOneOf('batchReduction', o.batchReduction ?? 'mean', BATCH_REDUCTIONS);
    super(shape, dt, o, rate.map((l) => Math.exp(-l * dt)), inc, reduction);
    this.resetVMul = o.resetVMul;
    this.resetVAdd = o.resetVAdd;
    this.rateAdapt = rate;
    this.kResetMul = this.constant(this.resetVMul);
    this.kResetAdd = this.constant(this.restV * (1 - this.resetVMul) - this.resetVAdd);
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return {
      model: 'GLIF2',
      ...super.extras(),
      threshV: this.threshV,
      resetVMul: this.resetVMul,
      resetVAdd: this.resetVAdd,
      tauM: this.tauM,
      resistance: this.resistance,
      rateAdapt: [...this.rateAdapt],
      adaptIncrement: [...this.adaptIncrement],
      batchReduction: this.batchReduction,
    };
  }

  protected override reset(vNew: tf.Tensor, fired: tf.Tensor): tf.Tensor {
    return select(fired, tf.add(tf.mul(vNew, this.kResetMul), this.kResetAdd), vNew);
  }
}
