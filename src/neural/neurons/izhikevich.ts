/**
 * Izhikevich (adaptive quadratic) neurons.
 * @module
 */
import { ADAPTIVE_CURRENT_NEURON_OPTION_KEYS, AdaptiveCurrentNeuron, type AdaptiveCurrentNeuronOptions } from './adaptive-current-neuron.js';
import { QIF_OPTION_KEYS } from './qif.js';
import { QuadraticMembrane } from './quadratic-membrane.js';
import type { QIFOptions } from './qif.js';
import { checkOptionKeys, optionKeys } from '../../core/errors.js';

/** Parameters of {@link Izhikevich}: those of `QIF` plus the adaptive currents. */
export interface IzhikevichOptions extends QIFOptions, AdaptiveCurrentNeuronOptions {}

/** The keys of {@link IzhikevichOptions}: other keys make {@link Izhikevich}'s constructor throw. */
export const IZHIKEVICH_OPTION_KEYS = optionKeys<IzhikevichOptions>()([...QIF_OPTION_KEYS, ...ADAPTIVE_CURRENT_NEURON_OPTION_KEYS]);

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
    if (new.target === Izhikevich) checkOptionKeys('options', o, IZHIKEVICH_OPTION_KEYS);
    super(shape, dt, o, QuadraticMembrane.spec(o));
    this.critV = o.critV;
    this.affinity = o.affinity;
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return { model: 'Izhikevich', ...super.extras() };
  }
}
