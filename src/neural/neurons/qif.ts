/**
 * Quadratic integrate-and-fire neurons.
 * @module
 */
import { tf } from '../../core/tf.js';
import { checkPositive } from '../../core/errors.js';
import { NeuronGroup, type ConductanceDrive, type NeuronGroupOptions } from './neuron-group.js';
import { QuadraticMembrane } from './quadratic-membrane.js';
import { checkAtMost, checkBelow } from './validate.js';

/** Parameters of {@link QIF}. */
export interface QIFOptions extends NeuronGroupOptions {
  /** Resting voltage V_rest (mV), < critV. */
  restV: number;
  /** Critical voltage V_crit (mV) above which the voltage runs away, <= threshV. */
  critV: number;
  /** Affinity a (unitless), > 0. */
  affinity: number;
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

/**
 * Quadratic integrate-and-fire (Inferno's `QIF`), Euler-integrated as Inferno:
 *
 *     V ← V + (Δt/τ_m)·[a(V − V_rest)(V − V_crit) + R·I]
 *
 * spike when V ≥ Θ, then V ← V_reset and the refractory period (see {@link NeuronGroup}).
 * Conductance input adds Σ_r g_r(E_r − V) to I (Euler).
 */
export class QIF extends NeuronGroup {
  /** Critical voltage V_crit (mV). */
  readonly critV: number;
  /** Affinity a. */
  readonly affinity: number;
  /** Firing threshold Θ (mV). */
  readonly threshV: number;
  /** Membrane time constant τ_m (ms). */
  readonly tauM: number;
  /** Membrane resistance R. */
  readonly resistance: number;
  private readonly membrane: QuadraticMembrane;
  private readonly kThresh: tf.Scalar;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: QIFOptions) {
    const o = options ?? ({} as QIFOptions);
    checkBelow('restV', o.restV, 'critV', o.critV);
    checkAtMost('critV', o.critV, 'threshV', o.threshV);
    checkBelow('resetV', o.resetV, 'threshV', o.threshV);
    checkPositive('affinity', o.affinity);
    checkPositive('tauM', o.tauM);
    checkPositive('resistance', o.resistance ?? 1);
    super(shape, dt, o);
    this.critV = o.critV;
    this.affinity = o.affinity;
    this.threshV = o.threshV;
    this.tauM = o.tauM;
    this.resistance = o.resistance ?? 1;
    this.membrane = new QuadraticMembrane((x) => this.constant(x), { ...o, resistance: this.resistance, dt: this.dt });
    this.kThresh = this.constant(this.threshV);
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return {
      model: 'QIF',
      ...super.extras(),
      critV: this.critV,
      affinity: this.affinity,
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
