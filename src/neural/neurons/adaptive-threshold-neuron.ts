/**
 * The shared base of the leaky models with an adaptive threshold (ALIF, GLIF2).
 * @module
 */
import { tf } from '../../core/tf.js';
import type { State } from '../../core/state.js';
import { NEURON_GROUP_OPTION_KEYS, NeuronGroup, type ConductanceDrive, type NeuronGroupOptions, type StepResult } from './neuron-group.js';
import { LinearMembrane } from './linear-membrane.js';
import type { BatchReduction } from './batch-reduction.js';
import type { FusedNeuronSpec } from '../../kernels/js/fused-neuron.js';
import { optionKeys } from '../../core/errors.js';

/** Parameters shared by the adaptive-threshold models. */
export interface AdaptiveThresholdOptions extends NeuronGroupOptions {
  /** Resting voltage V_rest (mV); at or above threshV the neuron fires by itself (as LIF). */
  restV: number;
  /** Equilibrium firing threshold Θ∞ (mV). */
  threshV: number;
  /** Absolute refractory period (ms), >= 0. */
  refracT: number;
  /** Membrane time constant τ_m (ms), > 0. */
  tauM: number;
  /** Threshold increments d_k per spike (mV); a number applies to every term. */
  adaptIncrement: number | readonly number[];
  /** Membrane resistance R (default 1), > 0. */
  resistance?: number;
  /** How adaptation updates are combined over the batch (default `'mean'`, as Inferno). */
  batchReduction?: BatchReduction;
}

/** The keys of {@link AdaptiveThresholdOptions} (shared by ALIF and GLIF2). */
export const ADAPTIVE_THRESHOLD_OPTION_KEYS = optionKeys<AdaptiveThresholdOptions>()([
  ...NEURON_GROUP_OPTION_KEYS,
  'restV',
  'threshV',
  'refracT',
  'tauM',
  'adaptIncrement',
  'resistance',
  'batchReduction',
]);

/**
 * Base of the LIF-membrane models with an adaptive threshold Θ = Θ∞ + Σ_k θ_k: exact membrane
 * integration ({@link LinearMembrane}), and when adapting θ_k ← θ_k·decay_k (held for refractory
 * neurons with `refracLock`), θ_k ← θ_k + d_k on a spike, reduced over the batch
 * (`batchReduction`). The subclass validates its options and supplies the per-term decay factors.
 */
export abstract class AdaptiveThresholdNeuron extends NeuronGroup {
  /** Equilibrium threshold Θ∞ (mV). */
  readonly threshV: number;
  /** Membrane time constant τ_m (ms). */
  readonly tauM: number;
  /** Membrane resistance R. */
  readonly resistance: number;
  /** Threshold increments d_k (mV). */
  readonly adaptIncrement: readonly number[];
  /** Batch reduction of the adaptation. */
  readonly batchReduction: BatchReduction;
  private readonly membrane: LinearMembrane;
  private readonly kThresh: tf.Scalar;
  private readonly kAdaptDecay: tf.Tensor1D;
  private readonly kIncrement: tf.Tensor1D;
  private readonly adaptationState: State;
  private readonly decayValues: number[];

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options validated model parameters
   * @param decay per-step decay factor of each term (float64, uploaded once)
   * @param increment validated increments d_k, one per term
   * @param reduction validated batch reduction
   */
  protected constructor(
    shape: number | readonly number[],
    dt: number,
    options: AdaptiveThresholdOptions,
    decay: readonly number[],
    increment: number[],
    reduction: BatchReduction,
  ) {
    super(shape, dt, options);
    this.threshV = options.threshV;
    this.tauM = options.tauM;
    this.resistance = options.resistance ?? 1;
    this.adaptIncrement = increment;
    this.batchReduction = reduction;
    this.membrane = new LinearMembrane((x) => this.constant(x), this.restV, this.tauM, this.resistance, this.dt);
    this.kThresh = this.constant(this.threshV);
    this.kAdaptDecay = this.constantVector(decay);
    this.kIncrement = this.constantVector(increment);
    this.adaptationState = this.addAdaptationState('adaptation', decay.length, reduction);
    this.fusedAdaptationState = this.adaptationState;
    this.decayValues = [...decay];
  }

  /** Threshold adaptations θ_k (mV): `[...shape, K]`, or `[B, ...shape, K]` without batch reduction. */
  get adaptation(): tf.Tensor {
    return this.adaptationState.value;
  }

  protected override fusedSpec(): FusedNeuronSpec | null {
    // only when no subclass changed the step (GLIF2 resets differently)
    const P = AdaptiveThresholdNeuron.prototype;
    const own = this.integrate === P.integrate && this.threshold === P.threshold && this.adapt === P.adapt;
    if (!own || !this.keepsBaseStep(false)) return null;
    return {
      ...this.linearFusedSpec(this.membrane.fusedTerms(), this.threshV),
      adaptation: { decay: this.decayValues, increment: this.adaptIncrement, reduction: this.batchReduction, theta: this.adaptationState.value },
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
