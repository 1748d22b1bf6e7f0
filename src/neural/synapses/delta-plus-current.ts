/**
 * Delta current synapse with an additional injected (pass-through) current.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { SynapseFactory, SynapseSpec } from '../types.js';
import { DeltaSynapse } from './delta-synapse.js';
import { checkDeltaOptions, type DeltaCurrentOptions } from './delta-current.js';

/** Delta current plus injected current: `I(t) = s(t)·Q/dt + I_x(t)` (`I_x` = 0 when not given). */
export class DeltaPlusCurrent extends DeltaSynapse {
  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param options kinetics
   */
  constructor(spec: SynapseSpec, options: DeltaCurrentOptions = {}) {
    super(spec, checkDeltaOptions(options));
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
    const i = this.spikeCurrent(spikes);
    return injected ? tf.add(i, injected) : i;
  }
}
