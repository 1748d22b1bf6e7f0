/**
 * Delta (memoryless) synapses: a spike delivers its charge within the step it arrives
 * ({@link DeltaCurrent}), or opens a conductance for that step only ({@link DeltaConductance}).
 * @module
 */
import { share, tf } from '../../core/tf.js';
import { CinderArgumentError, checkPositive, checkOptionKeys, optionKeys } from '../../core/errors.js';
import type { SynapseFactory, SynapseSpec } from '../types.js';
import { BaseSynapse } from './synapse.js';
import { fusedBackend } from '../../kernels/js/fused-memory.js';
import { fusedScale } from '../../kernels/js/fused-scale.js';

/** Kinetics of {@link DeltaCurrent} and {@link DeltaPlusCurrent}. */
export interface DeltaCurrentOptions {
  /** Charge Q carried by one spike (default 1); current = spike·Q/dt. */
  charge?: number;
}

/** The keys of {@link DeltaCurrentOptions}. */
export const DELTA_CURRENT_OPTION_KEYS = optionKeys<DeltaCurrentOptions>()(['charge']);

/**
 * Validates {@link DeltaCurrentOptions} (values, and keys unless `keys` is false: a user subclass
 * may add options) and returns the charge.
 */
export function checkDeltaOptions(options: DeltaCurrentOptions = {}, keys = true): number {
  if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, '{ charge? }');
  if (keys) checkOptionKeys('options', options, DELTA_CURRENT_OPTION_KEYS);
  return checkPositive('charge', options.charge ?? 1);
}

/**
 * `I = s·Q/dt`: a spike delivers its charge Q within the step it arrives; no kinetic state.
 * `DeltaPlusCurrent` also adds a current injected into the synapse (Inferno's `DeltaPlusCurrent`).
 */
export class DeltaCurrent extends BaseSynapse {
  /** Always `'current'`. */
  readonly kind = 'current' as const;
  /** Charge per spike. */
  readonly charge: number;
  private readonly scale: tf.Tensor;

  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param options kinetics
   */
  constructor(spec: SynapseSpec, options: DeltaCurrentOptions = {}) {
    const charge = checkDeltaOptions(options, new.target === DeltaCurrent || new.target === DeltaPlusCurrent);
    super(spec);
    this.charge = charge;
    this.scale = this.constant(charge / this.dt);
  }

  /** A factory for connections: `new LinearDense(..., { synapse: DeltaCurrent.factory({ charge: 2 }) })`. */
  static factory<T extends DeltaCurrent>(this: new (spec: SynapseSpec, o?: DeltaCurrentOptions) => T, options: DeltaCurrentOptions = {}): SynapseFactory<T> {
    checkDeltaOptions(options, (this as unknown) === DeltaCurrent || (this as unknown) === DeltaPlusCurrent);
    return (spec) => new this(spec, options);
  }

  protected integrate(spikes: tf.Tensor, _previous: tf.Tensor, injected?: tf.Tensor): tf.Tensor {
    // wasm/cpu: one pass, bit-identical to the product with the float32 scalar (fused-scale.ts)
    const i = fusedBackend() && spikes.dtype === 'float32' ? fusedScale(spikes, this.charge / this.dt) : tf.mul(spikes, this.scale);
    return injected ? tf.add(i, injected) : i;
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), charge: this.charge };
  }
}

/** {@link DeltaCurrent} that also passes through a current injected into the synapse: `I = s·Q/dt + I_inj`. */
export class DeltaPlusCurrent extends DeltaCurrent {
  protected override get acceptsInjected(): boolean {
    return true;
  }
}

/** Kinetics of {@link DeltaConductance}. */
export interface DeltaConductanceOptions {
  /** Conductance Δg per spike within its step (default 1; the connection's weight scales it). */
  increment?: number;
}

/** The keys of {@link DeltaConductanceOptions}. */
export const DELTA_CONDUCTANCE_OPTION_KEYS = optionKeys<DeltaConductanceOptions>()(['increment']);

/**
 * `g = Δg·s`: a memoryless conductance synapse, the conductance within the step of the spike, no
 * kinetic state (the conductance counterpart of {@link DeltaCurrent}, without its 1/Δt: a
 * conductance has no charge to spread over the step). float32 product of the spikes with the
 * float32 Δg; for Δg = 1 no product is computed (s·1 = s exactly): the conductance is a new handle
 * on the spikes' data (`share`, no kernel).
 *
 * Its use: the input of a postsynaptic filter ({@link postFiltered}), which turns
 * `Σ_a w_a·Δg·s_a` into the conductance `g ← g·e^{−Δt/τ} + Σ_a w_a·Δg·s_a` held by the connection
 * (Brian2's `on_pre: g += w`, NEST's `iaf_cond_exp`). Alone, it gives a conductance that lasts one step.
 */
export class DeltaConductance extends BaseSynapse {
  /** Always `'conductance'`. */
  readonly kind = 'conductance' as const;
  /** Conductance per spike. */
  readonly increment: number;
  private readonly scale: tf.Tensor;

  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param options the increment
   */
  constructor(spec: SynapseSpec, options: DeltaConductanceOptions = {}) {
    if (new.target === DeltaConductance) checkOptionKeys('options', options, DELTA_CONDUCTANCE_OPTION_KEYS);
    const increment = checkPositive('increment', options?.increment ?? 1);
    super(spec);
    this.increment = increment;
    this.scale = this.constant(increment);
  }

  /** A factory for connections: `new LinearDense(..., { synapse: DeltaConductance.factory({ increment: 2 }) })`. */
  static factory(options: DeltaConductanceOptions = {}): SynapseFactory<DeltaConductance> {
    checkOptionKeys('options', options, DELTA_CONDUCTANCE_OPTION_KEYS);
    checkPositive('increment', options?.increment ?? 1);
    return (spec) => new DeltaConductance(spec, options);
  }

  protected integrate(spikes: tf.Tensor): tf.Tensor {
    // Δg = 1: s·1 = s bit for bit (float32 spikes, as BaseSynapse.forward passes them)
    return this.increment === 1 ? share(spikes) : tf.mul(spikes, this.scale);
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), increment: this.increment };
  }
}
