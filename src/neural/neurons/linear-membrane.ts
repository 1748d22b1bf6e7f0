/**
 * Exact integration of the leaky (linear) membrane shared by LIF, ALIF and GLIF2.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { ConductanceDrive } from './neuron-group.js';
import type { FusedNeuronSpec } from '../../kernels/js/fused-neuron.js';

/**
 * τ_m dV/dt = −(V − V_rest) + R·I_total, integrated exactly over a step for piecewise-constant
 * input.
 *
 * - Current only: V ← V_rest + (V − V_rest − R·I)·e^{−Δt/τ_m} + R·I (Inferno's
 *   `voltage_integration_linear`), evaluated as V·d + V_rest(1 − d) + R(1 − d)·I.
 * - With conductances (I_total = I + Σ_r g_r (E_r − V)): with G = 1 + R·Σg,
 *   V∞ = (V_rest + R·I + R·Σ g_r E_r)/G and V ← V∞ + (V − V∞)·e^{−Δt·G/τ_m}
 *   (effective time constant τ_m/G). G must stay positive (non-negative conductances).
 *   float32 ops in this order; the products with R are skipped for R = 1 (bit-identical: x·1 = x).
 */
export class LinearMembrane {
  private readonly kDecay: tf.Scalar;
  private readonly kRestTerm: tf.Scalar;
  private readonly kInputGain: tf.Scalar;
  private readonly kRest: tf.Scalar;
  private readonly kR: tf.Scalar | null;
  private readonly kOne: tf.Scalar;
  private readonly kRate: tf.Scalar;
  /** The same constants for the fused step (see {@link fusedTerms}). */
  private readonly terms: Pick<FusedNeuronSpec, 'decay' | 'restTerm' | 'gain' | 'conductance'>;

  /**
   * @param constant creates a scalar owned by the neuron group
   * @param restV resting voltage (mV)
   * @param tauM membrane time constant (ms)
   * @param resistance membrane resistance R
   * @param dt step (ms)
   */
  constructor(constant: (x: number) => tf.Scalar, restV: number, tauM: number, resistance: number, dt: number) {
    const d = Math.exp(-dt / tauM);
    this.kDecay = constant(d);
    this.kRestTerm = constant(restV * (1 - d));
    this.kInputGain = constant(resistance * (1 - d));
    this.kRest = constant(restV);
    this.kR = resistance === 1 ? null : constant(resistance); // x·1 = x exactly: no kernel for R = 1
    this.kOne = constant(1);
    this.kRate = constant(-dt / tauM);
    this.terms = { decay: d, restTerm: restV * (1 - d), gain: resistance * (1 - d), conductance: { rest: restV, resistance, rate: -dt / tauM } };
  }

  /** The membrane's part of a fused neuron step's spec: the constants of {@link step}, unrounded (the kernel rounds them as the scalars are). */
  fusedTerms(): Pick<FusedNeuronSpec, 'decay' | 'restTerm' | 'gain' | 'conductance'> {
    return { ...this.terms, conductance: { ...this.terms.conductance! } };
  }

  /** The voltage after one step from `v` with current `i` and conductance drive `drive`. */
  step(v: tf.Tensor, i: tf.Tensor | null, drive: ConductanceDrive | null): tf.Tensor {
    if (!drive) {
      const leak = tf.add(tf.mul(v, this.kDecay), this.kRestTerm);
      return i ? tf.add(leak, tf.mul(i, this.kInputGain)) : leak;
    }
    const r = (t: tf.Tensor) => (this.kR ? tf.mul(t, this.kR) : t);
    const g = tf.add(this.kOne, r(drive.gSum));
    const drv = i ? tf.add(i, drive.gE) : drive.gE;
    const vInf = tf.div(tf.add(this.kRest, r(drv)), g);
    const decay = tf.exp(tf.mul(g, this.kRate));
    return tf.add(vInf, tf.mul(tf.sub(v, vInf), decay));
  }
}
