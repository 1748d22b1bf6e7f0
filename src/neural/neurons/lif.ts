/**
 * Leaky integrate-and-fire neurons.
 * @module
 */
import type { tf } from '../../core/tf.js';
import { checkPositive, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { NEURON_GROUP_OPTION_KEYS, NeuronGroup, type ConductanceDrive, type NeuronGroupOptions } from './neuron-group.js';
import { LinearMembrane } from './linear-membrane.js';
import { checkBelow, checkFloat32 } from './validate.js';
import type { FusedNeuronSpec } from '../../kernels/js/fused-neuron.js';

/** Parameters of {@link LIF}. */
export interface LIFOptions extends NeuronGroupOptions {
  /**
   * Resting voltage V_rest (mV), any float32 number: at or above threshV the neuron fires by itself
   * (a tonically driven cell, e.g. E_l = −49 mV over Θ = −50 mV in Brette et al.'s CUBA benchmark).
   */
  restV: number;
  /** Reset voltage V_reset (mV), < threshV. */
  resetV: number;
  /** Firing threshold Θ (mV). */
  threshV: number;
  /** Absolute refractory period (ms), >= 0. */
  refracT: number;
  /** Membrane time constant τ_m (ms), > 0. */
  tauM: number;
  /** Membrane resistance R (default 1), > 0. */
  resistance?: number;
}

/** The keys of {@link LIFOptions}: other keys make {@link LIF}'s constructor throw. */
export const LIF_OPTION_KEYS = optionKeys<LIFOptions>()([...NEURON_GROUP_OPTION_KEYS, 'restV', 'resetV', 'threshV', 'refracT', 'tauM', 'resistance']);

/**
 * Leaky integrate-and-fire (Inferno's `LIF`, alias GLIF1), integrated exactly:
 *
 *     V ← V_rest + (V − V_rest − R·I)·e^{−Δt/τ_m} + R·I
 *
 * spike when V ≥ Θ (and not refractory), then V ← V_reset and an absolute refractory period of
 * `refracT` ms. V_rest may lie at or above Θ (then the neuron fires without input: from V_reset
 * it reaches Θ after m = ⌈(τ_m/Δt)·ln((V_rest − V_reset)/(V_rest − Θ))⌉ free steps, a period of
 * k − 1 + m steps with k = ⌈refracT/Δt⌉ the lock-out of {@link NeuronGroup}). With conductances (`receptors`), the exact solution for constant g over the step
 * is used (see {@link LinearMembrane}); step order and refractory semantics: {@link NeuronGroup}.
 */
export class LIF extends NeuronGroup {
  /** Firing threshold Θ (mV). */
  readonly threshV: number;
  /** Membrane time constant τ_m (ms). */
  readonly tauM: number;
  /** Membrane resistance R. */
  readonly resistance: number;
  private readonly membrane: LinearMembrane;
  private readonly kThresh: tf.Scalar;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: LIFOptions) {
    const o = options ?? ({} as LIFOptions);
    if (new.target === LIF) checkOptionKeys('options', o, LIF_OPTION_KEYS);
    LIF.checkOptions(o);
    super(shape, dt, o);
    this.threshV = o.threshV;
    this.tauM = o.tauM;
    this.resistance = o.resistance ?? 1;
    this.membrane = new LinearMembrane((x) => this.constant(x), this.restV, this.tauM, this.resistance, this.dt);
    this.kThresh = this.constant(this.threshV);
  }

  /**
   * The checks of LIF's own parameters (restV and threshV within float32 range, resetV below
   * threshV, tauM > 0, resistance > 0 within float32 range; restV may lie at or above threshV),
   * without creating tensors: the constructor runs them, and so can a CLI before anything is built.
   * @throws CinderArgumentError naming the parameter
   */
  static checkOptions(options: LIFOptions): void {
    const o = options ?? ({} as LIFOptions);
    checkFloat32('restV', o.restV);
    checkBelow('resetV', o.resetV, 'threshV', o.threshV);
    checkPositive('tauM', o.tauM);
    checkFloat32('resistance', checkPositive('resistance', o.resistance ?? 1));
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return { model: 'LIF', ...super.extras(), threshV: this.threshV, tauM: this.tauM, resistance: this.resistance };
  }

  protected override fusedSpec(): FusedNeuronSpec | null {
    // only when no subclass changed the step
    const own = this.integrate === LIF.prototype.integrate && this.threshold === LIF.prototype.threshold;
    if (!own || !this.keepsBaseStep(true)) return null;
    return this.linearFusedSpec(this.membrane.fusedTerms(), this.threshV);
  }

  protected integrate(v: tf.Tensor, i: tf.Tensor | null, drive: ConductanceDrive | null): tf.Tensor {
    return this.membrane.step(v, i, drive);
  }

  protected threshold(): tf.Tensor {
    return this.kThresh;
  }
}
