/**
 * The training unit: one connection of a layer together with one neuron group it feeds.
 * @module
 */
import type { tf } from '../../core/tf.js';
import type { Neuron, Synapse } from '../types.js';
import type { Updater } from '../updater.js';
import type { Connection } from '../connections/connection.js';
import type { Layer } from './layer.js';

/**
 * (layer, connection, neuron) as trainers register it. A cell only refers to the modules: they
 * belong to the layer (a cell is not a module, so nothing is cleared or disposed twice). Make one
 * with {@link Layer.cell}.
 */
export class Cell {
  /**
   * @param layer the layer that owns both modules (and runs the observers)
   * @param connection the presynaptic side
   * @param neuron the postsynaptic side
   */
  constructor(
    readonly layer: Layer,
    readonly connection: Connection,
    readonly neuron: Neuron,
  ) {}

  /** The connection's updater (where trainers accumulate). */
  get updater(): Updater {
    return this.connection.updater;
  }

  /** The connection's synapse. */
  get synapse(): Synapse {
    return this.connection.synapse;
  }

  /** True while the layer is in training mode. */
  get training(): boolean {
    return this.layer.training;
  }

  /** Presynaptic spikes as seen by the weights (delay-selected when the connection has delays). */
  get prespike(): tf.Tensor {
    return this.connection.synspike;
  }

  /** Presynaptic current (delay-selected when the connection has delays). */
  get precurrent(): tf.Tensor {
    return this.connection.syncurrent;
  }

  /** Postsynaptic spikes of the last step. */
  get postspike(): tf.Tensor {
    return this.neuron.spike;
  }

  /** Postsynaptic membrane voltage. */
  get postvoltage(): tf.Tensor {
    return this.neuron.voltage;
  }
}
