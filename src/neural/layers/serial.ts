/**
 * One connection feeding one neuron group.
 * @module
 */
import type { tf } from '../../core/tf.js';
import type { Neuron, NeuronForwardOptions } from '../types.js';
import type { Connection } from '../connections/connection.js';
import { Layer } from './layer.js';
import { checkOptionKeys, optionKeys } from '../../core/errors.js';

/** Options of {@link Serial}. */
export interface SerialOptions {
  /** Applied to the connection's output before the neurons (current connections only). */
  transform?: (output: tf.Tensor) => tf.Tensor;
  /** Receptor name, when the connection's synapse delivers a conductance. */
  receptor?: string;
}

/** The keys of {@link SerialOptions}. */
export const SERIAL_OPTION_KEYS = optionKeys<SerialOptions>()(['transform', 'receptor']);

/** `connection → neuron`: the connection's output (optionally transformed) drives the group. */
export class Serial<C extends Connection = Connection, N extends Neuron = Neuron> extends Layer {
  /** The connection (child module `connection`). */
  readonly connection: C;
  /** The neuron group (child module `neuron`). */
  readonly neuron: N;

  /**
   * @param connection presynaptic side; its outShape must equal the group's shape
   * @param neuron the neuron group
   * @param options transform / receptor
   */
  constructor(connection: C, neuron: N, options: SerialOptions = {}) {
    const o = options ?? {}; // null: no options, as the neuron models take it
    if (new.target === Serial) checkOptionKeys('options', o, SERIAL_OPTION_KEYS);
    super('sum');
    this.neuron = this.addNeuron('neuron', neuron);
    this.connection = this.wire('connection', connection, { targets: ['neuron'], receptor: o.receptor, transform: o.transform });
  }

  /**
   * One step: `spikes` `[B, ...inShape]` → this step's spikes `[B, ...shape]`. `injected` goes to
   * synapses that take it (DeltaPlusCurrent); `neuronOptions` to the neuron group (e.g. `override`).
   */
  forward(spikes: tf.Tensor, injected?: tf.Tensor, neuronOptions?: NeuronForwardOptions): tf.Tensor {
    const opts = neuronOptions ? new Map([['neuron', neuronOptions]]) : undefined;
    return this.step(new Map([['connection', injected ? { spikes, injected } : spikes]]), opts).get('neuron')!;
  }
}
