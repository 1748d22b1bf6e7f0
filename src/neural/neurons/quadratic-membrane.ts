/**
 * Euler integration of the quadratic membrane shared by QIF and Izhikevich.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { EulerMembrane, EulerMembraneSpec } from './euler-neuron.js';

/** Euler step of the quadratic membrane, shared by {@link QIF} and `Izhikevich`. */
export class QuadraticMembrane implements EulerMembrane {
  private readonly kRest: tf.Scalar;
  private readonly kCrit: tf.Scalar;
  private readonly kQuad: tf.Scalar;
  private readonly kGain: tf.Scalar;

  /**
   * The {@link EulerMembraneSpec} of this membrane for the model parameters `p`
   * (critical voltage `critV`, shape parameter `affinity`).
   */
  static spec(p: { restV: number; critV: number; affinity: number; tauM: number }): EulerMembraneSpec {
    return {
      critical: ['critV', p.critV],
      scale: ['affinity', p.affinity],
      // near rest δ' = −(a(V_crit − V_rest)/τ_m)·δ
      derived: (resistance, dt, tauM) => [
        ['affinity', p.affinity, 'affinity·dt/tauM', (p.affinity * dt) / tauM],
        ['resistance', resistance, 'resistance·dt/tauM', (resistance * dt) / tauM],
      ],
      relaxation: (tauM) => ['tauM/(affinity·(critV − restV))', tauM / (p.affinity * (p.critV - p.restV))],
      create: (constant, resistance, dt) => new QuadraticMembrane(constant, { ...p, resistance, dt }),
    };
  }

  /**
   * @param constant creates a scalar owned by the neuron group
   * @param p rest/critical voltage, affinity, τ_m, R and Δt
   */
  constructor(
    constant: (x: number) => tf.Scalar,
    p: { restV: number; critV: number; affinity: number; tauM: number; resistance: number; dt: number },
  ) {
    this.kRest = constant(p.restV);
    this.kCrit = constant(p.critV);
    this.kQuad = constant((p.affinity * p.dt) / p.tauM);
    this.kGain = constant((p.resistance * p.dt) / p.tauM);
  }

  /** V + (Δt/τ_m)·[a(V − V_rest)(V − V_crit) + R·I] (`i` = total current or `null`). */
  step(v: tf.Tensor, i: tf.Tensor | null): tf.Tensor {
    const quad = tf.mul(tf.mul(tf.sub(v, this.kRest), tf.sub(v, this.kCrit)), this.kQuad);
    const next = tf.add(v, quad);
    return i ? tf.add(next, tf.mul(i, this.kGain)) : next;
  }
}
