/**
 * Adaptive currents w_k and the shared base of the Euler-integrated models that use them (AdEx, Izhikevich).
 * @module
 */
import { tf } from '../../core/tf.js';
import { checkDerived, checkTerms } from './validate.js';
import type { State } from '../../core/state.js';
import { checkOneOf, optionKeys } from '../../core/errors.js';
import type { StepResult } from './neuron-group.js';
import { EulerNeuron, warnIfUnstable, type EulerMembraneSpec, type EulerNeuronOptions } from './euler-neuron.js';
import { BATCH_REDUCTIONS, type BatchReduction } from './batch-reduction.js';
import { LIF_OPTION_KEYS } from './lif.js';

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
   * Validates `options` (names the offending parameter); with `dt`, also that the uploaded constants
   * 1 − dt/τ_k and (dt/τ_k)·c_k lie within float32 range. Call before creating tensors.
   * @returns the per-term arrays
   */
  static check(options: AdaptiveCurrentOptions, dt?: number): AdaptiveCurrentTerms {
    const tau = checkTerms('tauAdapt', options.tauAdapt, true);
    const coupling = checkTerms('voltageCoupling', options.voltageCoupling, false, tau.length);
    const increment = checkTerms('adaptIncrement', options.adaptIncrement, false, tau.length);
    if (dt !== undefined) {
      tau.forEach((t, k) => {
        checkDerived(dt, `tauAdapt[${k}]`, t, `1 − dt/tauAdapt[${k}]`, 1 - dt / t);
        checkDerived(dt, `voltageCoupling[${k}]`, coupling[k], `(dt/tauAdapt[${k}])·voltageCoupling[${k}]`, (dt / t) * coupling[k]!);
      });
    }
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

/** Parameters of the adaptive-current models: the membrane's plus the adaptive currents. */
export interface AdaptiveCurrentNeuronOptions extends EulerNeuronOptions, AdaptiveCurrentOptions {
  /** How adaptation updates are combined over the batch (default `'mean'`, as Inferno). */
  batchReduction?: BatchReduction;
}

/** The keys of {@link AdaptiveCurrentNeuronOptions} (the membrane's keys plus the adaptive currents'). */
export const ADAPTIVE_CURRENT_NEURON_OPTION_KEYS = optionKeys<AdaptiveCurrentNeuronOptions>()([...LIF_OPTION_KEYS, 'tauAdapt', 'voltageCoupling', 'adaptIncrement', 'batchReduction']);

/**
 * Base of the Euler-integrated models with adaptive currents (AdEx, Izhikevich): the membrane
 * (given by its {@link EulerMembraneSpec}) is driven by I − Σ_k w_k, with
 *
 *     w_k ← w_k + (Δt/τ_k)·[c_k(V − V_rest) − w_k],   w_k ← w_k + inc_k on a spike
 *
 * (see {@link AdaptiveCurrent}). The w update uses the voltage after this step's reset and is held
 * for refractory neurons (with `refracLock`); it runs when adapting (`forward(…, {adapt})`,
 * default in training mode) and is reduced over the batch (`batchReduction`).
 */
export abstract class AdaptiveCurrentNeuron extends EulerNeuron {
  /** Batch reduction of the adaptation. */
  readonly batchReduction: BatchReduction;
  /** The adaptive currents' parameters. */
  readonly currents: AdaptiveCurrent;
  private readonly adaptationState: State;

  /**
   * Validates the membrane's parameters, then the adaptive currents and `batchReduction`.
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   * @param spec the membrane's parameters and factory
   */
  protected constructor(
    shape: number | readonly number[],
    dt: number,
    options: AdaptiveCurrentNeuronOptions,
    spec: EulerMembraneSpec,
  ) {
    const o = options ?? ({} as AdaptiveCurrentNeuronOptions);
    let terms!: AdaptiveCurrentTerms;
    let reduction!: BatchReduction;
    super(shape, dt, o, spec, () => {
      terms = AdaptiveCurrent.check(o, dt);
      reduction = checkOneOf('batchReduction', o.batchReduction ?? 'mean', BATCH_REDUCTIONS);
    });
    this.batchReduction = reduction;
    this.currents = new AdaptiveCurrent((x) => this.constant(x), (x) => this.constantVector(x), terms, this.restV, this.dt);
    this.adaptationState = this.addAdaptationState('adaptation', terms.tau.length, reduction);
    terms.tau.forEach((tau, k) => warnIfUnstable(this.constructor.name, this.dt, `tauAdapt[${k}]`, tau));
  }

  /** Adaptive currents w_k: `[...shape, K]`, or `[B, ...shape, K]` without batch reduction. */
  get adaptation(): tf.Tensor {
    return this.adaptationState.value;
  }

  /** Settings saved with the module: those of {@link EulerNeuron} plus the adaptive currents. */
  override extras(): Record<string, unknown> {
    return {
      ...super.extras(),
      tauAdapt: [...this.currents.tauAdapt],
      voltageCoupling: [...this.currents.voltageCoupling],
      adaptIncrement: [...this.currents.adaptIncrement],
      batchReduction: this.batchReduction,
    };
  }

  protected override inputCurrent(current: tf.Tensor | undefined): tf.Tensor {
    return this.currents.apply(current, this.adaptationState.value);
  }

  protected override adapt(step: StepResult): void {
    const w = this.adaptationState.value;
    const next = this.currents.next(w, step.voltage);
    this.updateAdaptation(this.adaptationState, w, next, this.currents.kIncrement, step, this.batchReduction);
  }
}
