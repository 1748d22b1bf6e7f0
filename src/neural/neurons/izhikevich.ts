/**
 * Izhikevich (adaptive quadratic) neurons.
 * @module
 */
import { AdaptiveCurrentNeuron, type AdaptiveCurrentNeuronOptions } from './adaptive-current-neuron.js';
import { QuadraticMembrane } from './quadratic-membrane.js';
import type { QIFOptions } from './qif.js';

/** Parameters of {@link Izhikevich}: those of `QIF` plus the adaptive currents. */
export interface IzhikevichOptions extends QIFOptions, AdaptiveCurrentNeuronOptions {}

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
export class Izhikevich extends AdaptiveCurrentNeuron {
  /** Critical voltage V_crit (mV). */
  readonly critV: number;
  /** Affinity a. */
  readonly affinity: number;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: IzhikevichOptions) {
    const o = options ?? ({} as IzhikevichOptions);
    super(shape, dt, o, QuadraticMembrane.spec(o));
    this.critV = o.critV;
    this.affinity = o.affinity;
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return { model: 'Izhikevich', ...super.extras() };
  }
}
