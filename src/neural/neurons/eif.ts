/**
 * Exponential integrate-and-fire neurons.
 * @module
 */
import { EulerNeuron, type EulerNeuronOptions } from './euler-neuron.js';
import { ExponentialMembrane } from './exponential-membrane.js';
import { LIF_OPTION_KEYS } from './lif.js';
import { checkOptionKeys, optionKeys } from '../../core/errors.js';

/** Parameters of {@link EIF}. */
export interface EIFOptions extends EulerNeuronOptions {
  /** Rheobase voltage V_T (mV), > restV and <= threshV. */
  rheobaseV: number;
  /** Sharpness Δ_T (mV), > 0. */
  sharpness: number;
}

/** The keys of {@link EIFOptions}: other keys make {@link EIF}'s constructor throw. */
export const EIF_OPTION_KEYS = optionKeys<EIFOptions>()([...LIF_OPTION_KEYS, 'rheobaseV', 'sharpness']);

/**
 * Exponential integrate-and-fire (Inferno's `EIF`), Euler-integrated as Inferno:
 *
 *     V ← V + (Δt/τ_m)·[−(V − V_rest) + Δ_T·exp((V − V_T)/Δ_T) + R·I]
 *
 * spike when V ≥ Θ, then V ← V_reset and the refractory period (see {@link NeuronGroup}).
 * Conductance input adds Σ_r g_r(E_r − V) to I (Euler).
 */
export class EIF extends EulerNeuron {
  /** Rheobase voltage V_T (mV). */
  readonly rheobaseV: number;
  /** Sharpness Δ_T (mV). */
  readonly sharpness: number;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: EIFOptions) {
    const o = options ?? ({} as EIFOptions);
    if (new.target === EIF) checkOptionKeys('options', o, EIF_OPTION_KEYS);
    super(shape, dt, o, ExponentialMembrane.spec(o));
    this.rheobaseV = o.rheobaseV;
    this.sharpness = o.sharpness;
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return { model: 'EIF', ...super.extras() };
  }
}
