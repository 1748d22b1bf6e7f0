/**
 * Euler integration of the exponential membrane shared by EIF and AdEx.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { EulerMembrane, EulerMembraneSpec } from './euler-neuron.js';

/** Euler step of the exponential membrane, shared by {@link EIF} and `AdEx`. */
export class ExponentialMembrane implements EulerMembrane {
  private readonly kKeep: tf.Scalar;
  private readonly kRestTerm: tf.Scalar;
  private readonly kInvSharp: tf.Scalar;
  private readonly kShift: tf.Scalar;
  private readonly kExpGain: tf.Scalar;
  private readonly kGain: tf.Scalar;

  /**
   * The {@link EulerMembraneSpec} of this membrane for the model parameters `p`
   * (critical voltage `rheobaseV`, shape parameter `sharpness`).
   */
  static spec(p: { restV: number; rheobaseV: number; sharpness: number; tauM: number }): EulerMembraneSpec {
    return {
      critical: ['rheobaseV', p.rheobaseV],
      scale: ['sharpness', p.sharpness],
      derived: (resistance, dt, tauM) => [
        ['sharpness', p.sharpness, '1/sharpness', 1 / p.sharpness],
        ['sharpness', p.sharpness, 'rheobaseV/sharpness', p.rheobaseV / p.sharpness],
        ['tauM', tauM, 'dt/tauM', dt / tauM],
        ['tauM', tauM, 'dt·restV/tauM', (dt * p.restV) / tauM],
        ['tauM', tauM, 'dt·sharpness/tauM', (dt * p.sharpness) / tauM],
        ['resistance', resistance, 'dt·resistance/tauM', (dt * resistance) / tauM],
      ],
      create: (constant, resistance, dt) => new ExponentialMembrane(constant, { ...p, resistance, dt }),
    };
  }

  /**
   * @param constant creates a scalar owned by the neuron group
   * @param p rest/rheobase voltage, sharpness, τ_m, R and Δt
   */
  constructor(
    constant: (x: number) => tf.Scalar,
    p: { restV: number; rheobaseV: number; sharpness: number; tauM: number; resistance: number; dt: number },
  ) {
    const h = p.dt / p.tauM;
    this.kKeep = constant(1 - h);
    this.kRestTerm = constant(h * p.restV);
    this.kInvSharp = constant(1 / p.sharpness);
    this.kShift = constant(-p.rheobaseV / p.sharpness);
    this.kExpGain = constant(h * p.sharpness);
    this.kGain = constant(h * p.resistance);
  }

  /** V + (Δt/τ_m)·[−(V − V_rest) + Δ_T·exp((V − V_T)/Δ_T) + R·I] (`i` = total current or `null`). */
  step(v: tf.Tensor, i: tf.Tensor | null): tf.Tensor {
    const spikeTerm = tf.mul(tf.exp(tf.add(tf.mul(v, this.kInvSharp), this.kShift)), this.kExpGain);
    const next = tf.add(tf.add(tf.mul(v, this.kKeep), this.kRestTerm), spikeTerm);
    return i ? tf.add(next, tf.mul(i, this.kGain)) : next;
  }
}
