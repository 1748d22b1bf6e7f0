/**
 * Generalized leaky integrate-and-fire neurons with reset rules (GLIF2).
 * @module
 */
import { tf } from '../../core/tf.js';
import type { State } from '../../core/state.js';
import { CinderArgumentError, checkFinite, checkOneOf, checkPositive } from '../../core/errors.js';
import { NeuronGroup, type ConductanceDrive, type NeuronGroupOptions, type StepResult } from './neuron-group.js';
import { LinearMembrane } from './linear-membrane.js';
import { BATCH_REDUCTIONS, type BatchReduction } from './adaptation.js';
import { checkBelow, checkTerms } from './validate.js';
import { select } from './select.js';

/** Parameters of {@link GLIF2}. */
export interface GLIF2Options extends NeuronGroupOptions {
  /** Resting voltage V_rest (mV), < threshV. */
  restV: number;
  /** Multiplicative reset parameter m_v (unitless). */
  resetVMul: number;
  /** Additive reset parameter b_v (mV). */
  resetVAdd: number;
  /** Equilibrium firing threshold Θ∞ (mV). */
  threshV: number;
  /** Absolute refractory period (ms), >= 0. */
  refracT: number;
  /** Membrane time constant τ_m (ms), > 0. */
  tauM: number;
  /** Rate constants λ_k of the threshold adaptations (1/ms), each > 0; one entry per term. */
  rateAdapt: number | readonly number[];
  /** Threshold increments d_k per spike (mV); a number applies to every term. */
  adaptIncrement: number | readonly number[];
  /** Membrane resistance R (default 1), > 0. */
  resistance?: number;
  /** How adaptation updates are combined over the batch (default `'mean'`). */
  batchReduction?: BatchReduction;
}

/**
 * GLIF2 (Inferno's `GLIF2`; Teeter et al. 2018 "LIF with reset rules"): LIF membrane (exact
 * integration), adaptive threshold Θ = Θ∞ + Σ_k θ_k with θ_k ← θ_k·e^{−λ_k Δt}, and on a spike
 *
 *     V ← V_rest + m_v·(V − V_rest) − b_v,   θ_k ← θ_k + d_k.
 *
 * The adaptation update follows the same order, refractory hold and batch reduction as
 * {@link ALIF}. Deviation from Inferno: Inferno multiplies θ_k by (1 + d_k) on a spike, which
 * leaves thresholds that start at 0 at 0 forever; Cinder adds d_k (the published GLIF2 rule).
 *
 * Validation: the reset from the equilibrium threshold, V_rest + m_v(Θ∞ − V_rest) − b_v, must
 * lie below Θ∞ (otherwise the neuron would fire again as soon as it leaves refractoriness).
 */
export class GLIF2 extends NeuronGroup {
  /** Equilibrium threshold Θ∞ (mV). */
  readonly threshV: number;
  /** Multiplicative reset parameter m_v. */
  readonly resetVMul: number;
  /** Additive reset parameter b_v (mV). */
  readonly resetVAdd: number;
  /** Membrane time constant τ_m (ms). */
  readonly tauM: number;
  /** Membrane resistance R. */
  readonly resistance: number;
  /** Adaptation rate constants λ_k (1/ms). */
  readonly rateAdapt: readonly number[];
  /** Threshold increments d_k (mV). */
  readonly adaptIncrement: readonly number[];
  /** Batch reduction of the adaptation. */
  readonly batchReduction: BatchReduction;
  private readonly membrane: LinearMembrane;
  private readonly kThresh: tf.Scalar;
  private readonly kResetMul: tf.Scalar;
  private readonly kResetAdd: tf.Scalar;
  private readonly kAdaptDecay: tf.Tensor1D;
  private readonly kIncrement: tf.Tensor1D;
  private readonly adaptationState: State;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: GLIF2Options) {
    const o = options ?? ({} as GLIF2Options);
    checkBelow('restV', o.restV, 'threshV', o.threshV);
    checkFinite('resetVMul', o.resetVMul);
    checkFinite('resetVAdd', o.resetVAdd);
    const fromThreshold = o.restV + o.resetVMul * (o.threshV - o.restV) - o.resetVAdd;
    if (!(fromThreshold < o.threshV)) {
      throw new CinderArgumentError(
        'resetVMul/resetVAdd',
        [o.resetVMul, o.resetVAdd],
        `a reset from threshold restV + resetVMul·(threshV − restV) − resetVAdd below threshV (${o.threshV}), got ${fromThreshold}`,
      );
    }
    checkPositive('tauM', o.tauM);
    checkPositive('resistance', o.resistance ?? 1);
    const rate = checkTerms('rateAdapt', o.rateAdapt, true);
    const inc = checkTerms('adaptIncrement', o.adaptIncrement, false, rate.length);
    const reduction = checkOneOf('batchReduction', o.batchReduction ?? 'mean', BATCH_REDUCTIONS);
    super(shape, dt, o);
    this.threshV = o.threshV;
    this.resetVMul = o.resetVMul;
    this.resetVAdd = o.resetVAdd;
    this.tauM = o.tauM;
    this.resistance = o.resistance ?? 1;
    this.rateAdapt = rate;
    this.adaptIncrement = inc;
    this.batchReduction = reduction;
    this.membrane = new LinearMembrane((x) => this.constant(x), this.restV, this.tauM, this.resistance, this.dt);
    this.kThresh = this.constant(this.threshV);
    this.kResetMul = this.constant(this.resetVMul);
    this.kResetAdd = this.constant(this.restV * (1 - this.resetVMul) - this.resetVAdd);
    this.kAdaptDecay = this.constantVector(rate.map((l) => Math.exp(-l * this.dt)));
    this.kIncrement = this.constantVector(inc);
    this.adaptationState = this.addAdaptationState('adaptation', rate.length, reduction);
  }

  /** Threshold adaptations θ_k (mV): `[...shape, K]`, or `[B, ...shape, K]` without batch reduction. */
  get adaptation(): tf.Tensor {
    return this.adaptationState.value;
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

  protected integrate(v: tf.Tensor, i: tf.Tensor | null, drive: ConductanceDrive | null): tf.Tensor {
    return this.membrane.step(v, i, drive);
  }

  protected threshold(): tf.Tensor {
    return tf.add(tf.sum(this.adaptationState.value, -1), this.kThresh);
  }

  protected override reset(vNew: tf.Tensor, fired: tf.Tensor): tf.Tensor {
    return select(fired, tf.add(tf.mul(vNew, this.kResetMul), this.kResetAdd), vNew);
  }

  protected override adapt(step: StepResult): void {
    const theta = this.adaptationState.value;
    this.updateAdaptation(this.adaptationState, theta, tf.mul(theta, this.kAdaptDecay), this.kIncrement, step, this.batchReduction);
  }
}
