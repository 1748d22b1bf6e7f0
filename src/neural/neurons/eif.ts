/**
 * Exponential integrate-and-fire neurons.
 * @module
 */
import { tf } from '../../core/tf.js';
import { checkPositive } from '../../core/errors.js';
import { NeuronGroup, type ConductanceDrive, type NeuronGroupOptions } from './neuron-group.js';
import { ExponentialMembrane } from './exponential-membrane.js';
import { checkAtMost, checkBelow } from './validate.js';

/** Parameters of {@link EIF}. */
export interface EIFOptions extends NeuronGroupOptions {
  /** Resting voltage V_rest (mV), < rheobaseV. */
  restV: number;
  /** Rheobase voltage V_T (mV), <= threshV. */
  rheobaseV: number;
  /** Sharpness Δ_T (mV), > 0. */
  sharpness: number;
  /** Reset voltage V_reset (mV), < threshV. */
  resetV: number;
  /** Firing (cut-off) threshold Θ (mV). */
  threshV: number;
  /** Absolute refractory period (ms), >= 0. */
  refracT: number;
  /** Membrane time constant τ_m (ms), > 0. */
  tauM: number;
  /** Membrane resistance R (default 1), > 0. */
  resistance?: number;
}

/**
 * Exponential integrate-and-fire (Inferno's `EIF`), Euler-integrated as Inferno:
 *
 *     V ← V + (Δt/τ_m)·[−(V − V_rest) + Δ_T·exp((V − V_T)/Δ_T) + R·I]
 *
 * spike when V ≥ Θ, then V ← V_reset and the refractory period (see {@link NeuronGroup}).
 * Conductance input adds Σ_r g_r(E_r − V) to I (Euler).
 */
export class EIF extends NeuronGroup {
  /** Rheobase voltage V_T (mV). */
  readonly rheobaseV: number;
  /** Sharpness Δ_T (mV). */
  readonly sharpness: number;
  /** Firing threshold Θ (mV). */
  readonly threshV: number;
  /** Membrane time constant τ_m (ms). */
  readonly tauM: number;
  /** Membrane resistance R. */
  readonly resistance: number;
  private readonly membrane: ExponentialMembrane;
  private readonly kThresh: tf.Scalar;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: EIFOptions) {
    const o = options ?? ({} as EIFOptions);
    checkBelow('restV', o.restV, 'rheobaseV', o.rheobaseV);
    checkAtMost('rheobaseV', o.rheobaseV, 'threshV', o.threshV);
    checkBelow('resetV', o.resetV, 'threshV', o.threshV);
    checkPositive('sharpness', o.sharpness);
    checkPositive('tauM', o.tauM);
    checkPositive('resistance', o.resistance ?? 1);
    super(shape, dt, o);
    this.rheobaseV = o.rheobaseV;
    this.sharpness = o.sharpness;
    this.threshV = o.threshV;
    this.tauM = o.tauM;
    this.resistance = o.resistance ?? 1;
    this.membrane = new ExponentialMembrane((x) => this.constant(x), { ...o, resistance: this.resistance, dt: this.dt });
    this.kThresh = this.constant(this.threshV);
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return {
      model: 'EIF',
      ...super.extras(),
      rheobaseV: this.rheobaseV,
      sharpness: this.sharpness,
      threshV: this.threshV,
      tauM: this.tauM,
      resistance: this.resistance,
    };
  }

  protected integrate(v: tf.Tensor, i: tf.Tensor | null, drive: ConductanceDrive | null): tf.Tensor {
    return this.membrane.step(v, this.totalCurrent(v, i, drive));
  }

  protected threshold(): tf.Tensor {
    return this.kThresh;
  }
}
