/**
 * Memoryless current synapse: every spike delivers its charge within the step it arrives.
 * @module
 */
import { tf } from '../../core/tf.js';
import { checkPositive } from '../../core/errors.js';
import type { SynapseFactory, SynapseSpec } from '../types.js';
import { DeltaSynapse } from './delta-synapse.js';

/** Kinetics of {@link DeltaCurrent}. */
export interface DeltaCurrentOptions {
  /** Charge Q carried by one spike (default 1); current = spike·Q/dt. */
  charge?: number;
}

/** Validates delta-synapse options; returns the charge. */
export function checkDeltaOptions(options: DeltaCurrentOptions = {}): number {
  return checkPositive('charge', options.charge ?? 1);
}

/** Delta current synapse: `I(t) = s(t)·Q/dt` (no state besides the history). */
export class DeltaCurrent extends DeltaSynapse {
  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param options kinetics
   */
  constructor(spec: SynapseSpec, options: DeltaCurrentOptions = {}) {
    super(spec, checkDeltaOptions(options));
  }

  /** A factory for connections: `new LinearDense(..., { synapse: DeltaCurrent.factory({ charge: 2 }) })`. */
  static factory(options: DeltaCurrentOptions = {}): SynapseFactory<DeltaCurrent> {
    checkDeltaOptions(options);
    return (spec) => new DeltaCurrent(spec, options);
  }

  protected integrate(spikes: tf.Tensor): tf.Tensor {
    return this.spikeCurrent(spikes);
  }
}
