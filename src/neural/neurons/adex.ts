/**
 * Adaptive exponential integrate-and-fire neurons.
 * @module
 */
import { ADAPTIVE_CURRENT_NEURON_OPTION_KEYS, AdaptiveCurrentNeuron, type AdaptiveCurrentNeuronOptions } from './adaptive-current-neuron.js';
import { EIF_OPTION_KEYS } from './eif.js';
import { ExponentialMembrane } from './exponential-membrane.js';
import type { EIFOptions } from './eif.js';
import { checkOptionKeys, optionKeys } from '../../core/errors.js';

/** Parameters of {@link AdEx}: those of `EIF` plus the adaptive currents (coupling a_k, increment b_k). */
export interface AdExOptions extends EIFOptions, AdaptiveCurrentNeuronOptions {}

/** The keys of {@link AdExOptions}: other keys make {@link AdEx}'s constructor throw. */
export const ADEX_OPTION_KEYS = optionKeys<AdExOptions>()([...EIF_OPTION_KEYS, ...ADAPTIVE_CURRENT_NEURON_OPTION_KEYS]);

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
export class AdEx extends AdaptiveCurrentNeuron {
  /** Rheobase voltage V_T (mV). */
  readonly rheobaseV: number;
  /** Sharpness Δ_T (mV). */
  readonly sharpness: number;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: AdExOptions) {
    const o = options ?? ({} as AdExOptions);
    if (new.target === AdEx) checkOptionKeys('options', o, ADEX_OPTION_KEYS);
    super(shape, dt, o, ExponentialMembrane.spec(o));
    this.rheobaseV = o.rheobaseV;
    this.sharpness = o.sharpness;
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return { model: 'AdEx', ...super.extras() };
  }
}
