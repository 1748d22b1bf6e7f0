/**
 * Delta current synapse with an additional injected (pass-through) current.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { SynapseFactory, SynapseSpec } from '../types.js';
import { BaseSynapse } from './synapse.js';
import { checkDeltaOptions, type DeltaCurrentOptions } from './delta-current.js';

/** Delta current plus injected current: `I(t) = s(t)·Q/dt + I_x(t)` (`I_x` = 0 when not given). */
export class DeltaPlusCurrent extends BaseSynapse {
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
    const charge = checkDeltaOptions(options);
    super(spec);
    this.charge = charge;
    this.scale = this.constant(this.charge / this.dt);
  }

  /** A factory for connections. */
  static factory(options: DeltaCurrentOptions = {}): SynapseFactory<DeltaPlusCurrent> {
    checkDeltaOptions(options);
    return (spec) => new DeltaPlusCurrent(spec, options);
  }

  protected override get acceptsInjected(): boolean {
    return true;
  }

  protected integrate(spikes: tf.Tensor, _previous: tf.Tensor, injected?: tf.Tensor): tf.Tensor {
    const i = tf.mul(spikes, this.scale);
    return injected ? tf.add(i, injected) : i;
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), charge: this.charge };
  }
}
