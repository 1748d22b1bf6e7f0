/**
 * Izhikevich (adaptive quadratic) neurons.
 * @module
 */
import type { tf } from '../../core/tf.js';
import type { State } from '../../core/state.js';
import { checkOneOf, checkPositive } from '../../core/errors.js';
import { NeuronGroup, type ConductanceDrive, type StepResult } from './neuron-group.js';
import { QuadraticMembrane } from './quadratic-membrane.js';
import { AdaptiveCurrent, type AdaptiveCurrentOptions } from './adaptive-current.js';
import { BATCH_REDUCTIONS, type BatchReduction } from './adaptation.js';
import type { QIFOptions } from './qif.js';
import { checkAtMost, checkBelow } from './validate.js';

/** Parameters of {@link Izhikevich}: those of `QIF` plus the adaptive currents. */
export interface IzhikevichOptions extends QIFOptions, AdaptiveCurrentOptions {
  /** How adaptation updates are combined over the batch (default `'mean'`, as Inferno). */
  batchReduction?: BatchReduction;
}

/**
 * Izhikevich neurons in Inferno's form (`Izhikevich`): a QIF membrane driven by I − Σ_k w_k
 * with adaptive currents (Euler, as Inferno):
 *
 *     V ← V + (Δt/τ_m)·[a(V − V_rest)(V − V_crit) + R·(I − Σ_k w_k)]
 *     w_k ← w_k + (Δt/τ_k)·[b_k(V − V_rest) − w_k],   w_k ← w_k + d_k on a spike
 *
 * The w update uses the voltage after this step's reset and is held for refractory neurons
 * (with `refracLock`); it runs when adapting (`forward(…, {adapt})`, default in training mode)
 * and is reduced over the batch (`batchReduction`). Step order: {@link NeuronGroup}.
 */
export class Izhikevich extends NeuronGroup {
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
  /** Batch reduction of the adaptation. */
  readonly batchReduction: BatchReduction;
  /** The adaptive currents' parameters. */
  readonly currents: AdaptiveCurrent;
  private readonly membrane: QuadraticMembrane;
  private readonly kThresh: tf.Scalar;
  private readonly adaptationState: State;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: IzhikevichOptions) {
    const o = options ?? ({} as IzhikevichOptions);
    checkBelow('restV', o.restV, 'critV', o.critV);
    checkAtMost('critV', o.critV, 'threshV', o.threshV);
    checkBelow('resetV', o.resetV, 'threshV', o.threshV);
    checkPositive('affinity', o.affinity);
    checkPositive('tauM', o.tauM);
    checkPositive('resistance', o.resistance ?? 1);
    const terms = AdaptiveCurrent.check(o);
    const reduction = checkOneOf('batchReduction', o.batchReduction ?? 'mean', BATCH_REDUCTIONS);
    super(shape, dt, o);
    this.critV = o.critV;
    this.affinity = o.affinity;
    this.threshV = o.threshV;
    this.tauM = o.tauM;
    this.resistance = o.resistance ?? 1;
    this.batchReduction = reduction;
    this.membrane = new QuadraticMembrane((x) => this.constant(x), { ...o, resistance: this.resistance, dt: this.dt });
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
      model: 'Izhikevich',
      ...super.extras(),
      critV: this.critV,
      affinity: this.affinity,
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
