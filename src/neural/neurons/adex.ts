/**
 * Adaptive exponential integrate-and-fire neurons.
 * @module
 */
import type { tf } from '../../core/tf.js';
import type { State } from '../../core/state.js';
import { checkOneOf, checkPositive } from '../../core/errors.js';
import { NeuronGroup, type ConductanceDrive, type StepResult } from './neuron-group.js';
import { ExponentialMembrane } from './exponential-membrane.js';
import { AdaptiveCurrent, type AdaptiveCurrentOptions } from './adaptive-current.js';
import { BATCH_REDUCTIONS, type BatchReduction } from './adaptation.js';
import type { EIFOptions } from './eif.js';
import { checkAtMost, checkBelow } from './validate.js';

/** Parameters of {@link AdEx}: those of `EIF` plus the adaptive currents (coupling a_k, increment b_k). */
export interface AdExOptions extends EIFOptions, AdaptiveCurrentOptions {
  /** How adaptation updates are combined over the batch (default `'mean'`, as Inferno). */
  batchReduction?: BatchReduction;
}

/**
 * Adaptive exponential integrate-and-fire (Inferno's `AdEx`), Euler-integrated:
 *
 *     V ← V + (Δt/τ_m)·[−(V − V_rest) + Δ_T·exp((V − V_T)/Δ_T) + R·(I − Σ_k w_k)]
 *     w_k ← w_k + (Δt/τ_k)·[a_k(V − V_rest) − w_k],   w_k ← w_k + b_k on a spike
 *
 * The w update uses the voltage after this step's reset and is held for refractory neurons
 * (with `refracLock`); it runs when adapting (`forward(…, {adapt})`, default in training mode)
 * and is reduced over the batch (`batchReduction`). Step order: {@link NeuronGroup}.
 */
export class AdEx extends NeuronGroup {
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
  /** Batch reduction of the adaptation. */
  readonly batchReduction: BatchReduction;
  /** The adaptive currents' parameters. */
  readonly currents: AdaptiveCurrent;
  private readonly membrane: ExponentialMembrane;
  private readonly kThresh: tf.Scalar;
  private readonly adaptationState: State;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: AdExOptions) {
    const o = options ?? ({} as AdExOptions);
    checkBelow('restV', o.restV, 'rheobaseV', o.rheobaseV);
    checkAtMost('rheobaseV', o.rheobaseV, 'threshV', o.threshV);
    checkBelow('resetV', o.resetV, 'threshV', o.threshV);
    checkPositive('sharpness', o.sharpness);
    checkPositive('tauM', o.tauM);
    checkPositive('resistance', o.resistance ?? 1);
    const terms = AdaptiveCurrent.check(o);
    const reduction = checkOneOf('batchReduction', o.batchReduction ?? 'mean', BATCH_REDUCTIONS);
    super(shape, dt, o);
    this.rheobaseV = o.rheobaseV;
    this.sharpness = o.sharpness;
    this.threshV = o.threshV;
    this.tauM = o.tauM;
    this.resistance = o.resistance ?? 1;
    this.batchReduction = reduction;
    this.membrane = new ExponentialMembrane((x) => this.constant(x), { ...o, resistance: this.resistance, dt: this.dt });
    this.currents = new AdaptiveCurrent((x) => this.constant(x), (x) => this.constantVector(x), terms, this.restV, this.dt);
    this.kThresh = this.constant(this.threshV);
    this.adaptationState = this.addAdaptationState('adaptation', terms.tau.length, reduction);
  }

  /** Adaptive currents w_k: `[...shape, K]`, or `[B, ...shape, K]` without batch reduction. */
  get adaptation(): tf.Tensor {
    return this.adaptationState.value;
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return {
      model: 'AdEx',
      ...super.extras(),
      rheobaseV: this.rheobaseV,
      sharpness: this.sharpness,
      threshV: this.threshV,
      tauM: this.tauM,
      resistance: this.resistance,
      tauAdapt: [...this.currents.tauAdapt],
      voltageCoupling: [...this.currents.voltageCoupling],
      adaptIncrement: [...this.currents.adaptIncrement],
      batchReduction: this.batchReduction,
    };
  }

  protected override inputCurrent(current: tf.Tensor | undefined): tf.Tensor {
    return this.currents.apply(current, this.adaptationState.value);
  }

  protected integrate(v: tf.Tensor, i: tf.Tensor | null, drive: ConductanceDrive | null): tf.Tensor {
    return this.membrane.step(v, this.totalCurrent(v, i, drive));
  }

  protected threshold(): tf.Tensor {
    return this.kThresh;
  }

  protected override adapt(step: StepResult): void {
    const w = this.adaptationState.value;
    const next = this.currents.next(w, step.voltage);
    this.updateAdaptation(this.adaptationState, w, next, this.currents.kIncrement, step, this.batchReduction);
  }
}
