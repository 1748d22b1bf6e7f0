/**
 * Adaptive leaky integrate-and-fire neurons.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { State } from '../../core/state.js';
import { checkOneOf, checkPositive } from '../../core/errors.js';
import { NeuronGroup, type ConductanceDrive, type NeuronGroupOptions, type StepResult } from './neuron-group.js';
import { LinearMembrane } from './linear-membrane.js';
import { BATCH_REDUCTIONS, type BatchReduction } from './adaptation.js';
import { checkBelow, checkTerms } from './validate.js';

/** Parameters of {@link ALIF}. */
export interface ALIFOptions extends NeuronGroupOptions {
  /** Resting voltage V_rest (mV), < threshV. */
  restV: number;
  /** Reset voltage V_reset (mV), < threshV. */
  resetV: number;
  /** Equilibrium firing threshold Θ∞ (mV). */
  threshV: number;
  /** Absolute refractory period (ms), >= 0. */
  refracT: number;
  /** Membrane time constant τ_m (ms), > 0. */
  tauM: number;
  /** Time constants τ_k of the threshold adaptations (ms), each > 0; one entry per term. */
  tauAdapt: number | readonly number[];
  /** Threshold increments d_k per spike (mV); a number applies to every term. */
  adaptIncrement: number | readonly number[];
  /** Membrane resistance R (default 1), > 0. */
  resistance?: number;
  /** How adaptation updates are combined over the batch (default `'mean'`, as Inferno). */
  batchReduction?: BatchReduction;
}

/**
 * Adaptive LIF (Inferno's `ALIF`): LIF membrane (exact integration) with an adaptive threshold
 *
 *     Θ = Θ∞ + Σ_k θ_k,   θ_k ← θ_k·e^{−Δt/τ_k},   θ_k ← θ_k + d_k on a spike.
 *
 * Within a step the threshold of the current adaptation state is used for thresholding; then
 * (when adapting: `forward(…, {adapt})`, default in training mode) θ_k decays — except for
 * neurons refractory after this step when `refracLock` is on, including the ones that just fired
 * when `refracT > 0` — and d_k is added for each spike. The per-sample result is reduced over the
 * batch (`batchReduction`, default mean), so θ has shape `[...shape, K]` (or `[B, ...shape, K]`
 * with `'none'`).
 */
export class ALIF extends NeuronGroup {
  /** Equilibrium threshold Θ∞ (mV). */
  readonly threshV: number;
  /** Membrane time constant τ_m (ms). */
  readonly tauM: number;
  /** Membrane resistance R. */
  readonly resistance: number;
  /** Adaptation time constants τ_k (ms). */
  readonly tauAdapt: readonly number[];
  /** Threshold increments d_k (mV). */
  readonly adaptIncrement: readonly number[];
  /** Batch reduction of the adaptation. */
  readonly batchReduction: BatchReduction;
  private readonly membrane: LinearMembrane;
  private readonly kThresh: tf.Scalar;
  private readonly kAdaptDecay: tf.Tensor1D;
  private readonly kIncrement: tf.Tensor1D;
  private readonly adaptationState: State;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: ALIFOptions) {
    const o = options ?? ({} as ALIFOptions);
    checkBelow('restV', o.restV, 'threshV', o.threshV);
    checkBelow('resetV', o.resetV, 'threshV', o.threshV);
    checkPositive('tauM', o.tauM);
    checkPositive('resistance', o.resistance ?? 1);
    const tau = checkTerms('tauAdapt', o.tauAdapt, true);
    const inc = checkTerms('adaptIncrement', o.adaptIncrement, false, tau.length);
    const reduction = checkOneOf('batchReduction', o.batchReduction ?? 'mean', BATCH_REDUCTIONS);
    super(shape, dt, o);
    this.threshV = o.threshV;
    this.tauM = o.tauM;
    this.resistance = o.resistance ?? 1;
    this.tauAdapt = tau;
    this.adaptIncrement = inc;
    this.batchReduction = reduction;
    this.membrane = new LinearMembrane((x) => this.constant(x), this.restV, this.tauM, this.resistance, this.dt);
    this.kThresh = this.constant(this.threshV);
    this.kAdaptDecay = this.constantVector(tau.map((t) => Math.exp(-this.dt / t)));
    this.kIncrement = this.constantVector(inc);
    this.adaptationState = this.addAdaptationState('adaptation', tau.length, reduction);
  }

  /** Threshold adaptations θ_k (mV): `[...shape, K]`, or `[B, ...shape, K]` without batch reduction. */
  get adaptation(): tf.Tensor {
    return this.adaptationState.value;
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return {
      model: 'ALIF',
      ...super.extras(),
      threshV: this.threshV,
      tauM: this.tauM,
      resistance: this.resistance,
      tauAdapt: [...this.tauAdapt],
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

  protected override adapt(step: StepResult): void {
    const theta = this.adaptationState.value;
    this.updateAdaptation(this.adaptationState, theta, tf.mul(theta, this.kAdaptDecay), this.kIncrement, step, this.batchReduction);
  }
}
