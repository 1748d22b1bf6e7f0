/**
 * Adaptive leaky integrate-and-fire neurons.
 * @module
 */
import { checkOneOf, checkPositive, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { ADAPTIVE_THRESHOLD_OPTION_KEYS, AdaptiveThresholdNeuron, type AdaptiveThresholdOptions } from './adaptive-threshold-neuron.js';
import { BATCH_REDUCTIONS } from './batch-reduction.js';
import { checkBelow, checkFloat32, checkTerms } from './validate.js';

/** Parameters of {@link ALIF}. */
export interface ALIFOptions extends AdaptiveThresholdOptions {
  /** Reset voltage V_reset (mV), < threshV. */
  resetV: number;
  /** Time constants τ_k of the threshold adaptations (ms), each > 0; one entry per term. */
  tauAdapt: number | readonly number[];
}

/** The keys of {@link ALIFOptions}: other keys make {@link ALIF}'s constructor throw. */
export const ALIF_OPTION_KEYS = optionKeys<ALIFOptions>()([...ADAPTIVE_THRESHOLD_OPTION_KEYS, 'resetV', 'tauAdapt']);

/**
 * Adaptive LIF (Inferno's `ALIF`): LIF membrane (exact integration) with an adaptive threshold
 *
 *     Θ = Θ∞ + Σ_k θ_k,   θ_k ← θ_k·e^{−Δt/τ_k},   θ_k ← θ_k + d_k on a spike.
 *
 * Within a step the threshold of the current adaptation state is used for thresholding; then
 * (when adapting: `forward(…, {adapt})`, default in training mode) θ_k decays — except for
 * neurons refractory after this step when `refracLock` is on, including the ones that just fired
 * when `refracT > 0` — and d_k is added for each spike. The per-sample result is reduced over the
 * batch (`batchReduction`, default mean), so θ has shape `[...shape, K]` (or `[B, ...shape, K]`
 * with `'none'`).
 */
export class ALIF extends AdaptiveThresholdNeuron {
  /** Adaptation time constants τ_k (ms). */
  readonly tauAdapt: readonly number[];

  /**
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   */
  constructor(shape: number | readonly number[], dt: number, options: ALIFOptions) {
    const o = options ?? ({} as ALIFOptions);
    if (new.target === ALIF) checkOptionKeys('options', o, ALIF_OPTION_KEYS);
    checkFloat32('restV', o.restV); // at or above threshV: fires by itself (as LIF)
    checkBelow('resetV', o.resetV, 'threshV', o.threshV);
    checkPositive('tauM', o.tauM);
    checkFloat32('resistance', checkPositive('resistance', o.resistance ?? 1));
    const tau = checkTerms('tauAdapt', o.tauAdapt, true);
    const inc = checkTerms('adaptIncrement', o.adaptIncrement, false, tau.length);
    const reduction = checkOneOf('batchReduction', o.batchReduction ?? 'mean', BATCH_REDUCTIONS);
    super(shape, dt, o, tau.map((t) => Math.exp(-dt / t)), inc, reduction);
    this.tauAdapt = tau;
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return {
      model: 'ALIF',
      ...super.extras(),
      threshV: this.threshV,
      tauM: this.tauM,
      resistance: this.resistance,
      tauAdapt: [...this.tauAdapt],
      adaptIncrement: [...this.adaptIncrement],
      batchReduction: this.batchReduction,
    };
  }
}
