/**
 * Quadratic integrate-and-fire neurons.
 * @module
 */
import { EulerNeuron, type EulerNeuronOptions } from './euler-neuron.js';
import { QuadraticMembrane } from './quadratic-membrane.js';
import { LIF_OPTION_KEYS } from './lif.js';
import { checkOptionKeys, optionKeys } from '../../core/errors.js';

/** Parameters of {@link QIF}. */
export interface QIFOptions extends EulerNeuronOptions {
  /** Critical voltage V_crit (mV) above which the voltage runs away, > restV and <= threshV. */
  critV: number;
  /** Affinity a (unitless), > 0. */
  affinity: number;
}

/** The keys of {@link QIFOptions}: other keys make {@link QIF}'s constructor throw. */
export const QIF_OPTION_KEYS = optionKeys<QIFOptions>()([...LIF_OPTION_KEYS, 'critV', 'affinity']);

/**
 * Quadratic integrate-and-fire (Inferno's `QIF`), Euler-integrated as Inferno:
 *
 *     V ← V + (Δt/τ_m)·[a(V − V_rest)(V − V_crit) + R·I]
 *
 * spike when V ≥ Θ, then V ← V_reset and the refractory period (see {@link NeuronGroup}).
 * Conductance input adds Σ_r g_r(E_r − V) to I (Euler).
 */
export class QIF extends EulerNeuron {
  /** Critical voltage V_crit (mV). */
  readonly critV: number;
  /** Affinity a. */
  readonly affinity: number;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: QIFOptions) {
    const o = options ?? ({} as QIFOptions);
    if (new.target === QIF) checkOptionKeys('options', o, QIF_OPTION_KEYS);
    super(shape, dt, o, QuadraticMembrane.spec(o));
    this.critV = o.critV;
    this.affinity = o.affinity;
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return { model: 'QIF', ...super.extras() };
  }
}
