/**
 * The shared base of the Euler-integrated models with adaptive currents.
 * @module
 */
import type { tf } from '../../core/tf.js';
import type { State } from '../../core/state.js';
import { checkOneOf } from '../../core/errors.js';
import type { StepResult } from './neuron-group.js';
import { EulerNeuron, type EulerMembraneSpec, type EulerNeuronOptions } from './euler-neuron.js';
import { AdaptiveCurrent, type AdaptiveCurrentOptions, type AdaptiveCurrentTerms } from './adaptive-current.js';
import { BATCH_REDUCTIONS, type BatchReduction } from './adaptation.js';

/** Parameters of the adaptive-current models: the membrane's plus the adaptive currents. */
export interface AdaptiveCurrentNeuronOptions extends EulerNeuronOptions, AdaptiveCurrentOptions {
  /** How adaptation updates are combined over the batch (default `'mean'`, as Inferno). */
  batchReduction?: BatchReduction;
}

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
      terms = AdaptiveCurrent.check(o);
      reduction = checkOneOf('batchReduction', o.batchReduction ?? 'mean', BATCH_REDUCTIONS);
    });
    this.batchReduction = reduction;
    this.currents = new AdaptiveCurrent((x) => this.constant(x), (x) => this.constantVector(x), terms, this.restV, this.dt);
    this.adaptationState = this.addAdaptationState('adaptation', terms.tau.length, reduction);
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
