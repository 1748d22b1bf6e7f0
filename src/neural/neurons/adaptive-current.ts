/**
 * Linear adaptive currents shared by `Izhikevich` and `AdEx`.
 * @module
 */
import { tf } from '../../core/tf.js';
import { checkTerms } from './validate.js';

/** Parameters of the adaptive currents w_k (one entry per term; numbers apply to every term). */
export interface AdaptiveCurrentOptions {
  /** Time constants τ_k (ms), each > 0; their count K sets the number of terms. */
  tauAdapt: number | readonly number[];
  /** Voltage coupling (a_k for AdEx, b_k for Izhikevich). */
  voltageCoupling: number | readonly number[];
  /** Increment per spike (b_k for AdEx, d_k for Izhikevich). */
  adaptIncrement: number | readonly number[];
}

/** Checked per-term parameters of the adaptive currents (all of length K). */
export interface AdaptiveCurrentTerms {
  /** Time constants τ_k (ms). */
  tau: number[];
  /** Voltage couplings c_k. */
  coupling: number[];
  /** Spike increments inc_k. */
  increment: number[];
}

/**
 * w_k ← w_k + (Δt/τ_k)·[c_k·(V − V_rest) − w_k] (Euler, V the voltage after this step's reset,
 * as Inferno's `adaptive_currents_linear`), w_k ← w_k + inc_k on a spike; the membrane sees
 * I − Σ_k w_k. The neuron group applies the refractory hold and the batch reduction.
 */
export class AdaptiveCurrent {
  /** τ_k (ms). */
  readonly tauAdapt: readonly number[];
  /** Voltage couplings c_k. */
  readonly voltageCoupling: readonly number[];
  /** Spike increments inc_k. */
  readonly adaptIncrement: readonly number[];
  /** inc_k as a tensor `[K]`. */
  readonly kIncrement: tf.Tensor1D;
  private readonly kKeep: tf.Tensor1D;
  private readonly kGain: tf.Tensor1D;
  private readonly kRest: tf.Scalar;

  /**
   * Validates `options` (names the offending parameter). Call before creating tensors.
   * @returns the per-term arrays
   */
  static check(options: AdaptiveCurrentOptions): AdaptiveCurrentTerms {
    const tau = checkTerms('tauAdapt', options.tauAdapt, true);
    const coupling = checkTerms('voltageCoupling', options.voltageCoupling, false, tau.length);
    const increment = checkTerms('adaptIncrement', options.adaptIncrement, false, tau.length);
    return { tau, coupling, increment };
  }

  /**
   * @param constant creates a scalar owned by the neuron group
   * @param constantVector creates a vector owned by the neuron group
   * @param terms checked per-term arrays ({@link AdaptiveCurrent.check})
   * @param restV resting voltage (mV)
   * @param dt step (ms)
   */
  constructor(
    constant: (x: number) => tf.Scalar,
    constantVector: (x: readonly number[]) => tf.Tensor1D,
    terms: AdaptiveCurrentTerms,
    restV: number,
    dt: number,
  ) {
    this.tauAdapt = terms.tau;
    this.voltageCoupling = terms.coupling;
    this.adaptIncrement = terms.increment;
    this.kKeep = constantVector(terms.tau.map((t) => 1 - dt / t));
    this.kGain = constantVector(terms.tau.map((t, k) => (dt / t) * terms.coupling[k]!));
    this.kIncrement = constantVector(terms.increment);
    this.kRest = constant(restV);
  }

  /** I − Σ_k w_k (`current` undefined = no injected current). */
  apply(current: tf.Tensor | undefined, w: tf.Tensor): tf.Tensor {
    const total = tf.sum(w, -1);
    return current ? tf.sub(current, total) : tf.neg(total);
  }

  /** The Euler-updated w (before refractory hold and spike increment), `[B, ...shape, K]`. */
  next(w: tf.Tensor, voltage: tf.Tensor): tf.Tensor {
    const dv = tf.expandDims(tf.sub(voltage, this.kRest), -1);
    return tf.add(tf.mul(w, this.kKeep), tf.mul(dv, this.kGain));
  }
}
