/**
 * A neuron group with a feed-forward input and a recurrent (lateral) connection onto itself.
 * @module
 */
import type { tf } from '../../core/tf.js';
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../../core/errors.js';
import type { Neuron } from '../types.js';
import type { Connection } from '../connections/connection.js';
import { Layer } from './layer.js';

/** Options of {@link RecurrentLayer}. */
export interface RecurrentLayerOptions {
  /** Receptor of the feed-forward connection (conductance synapses only). */
  feedforwardReceptor?: string;
  /** Receptor of the recurrent connection (conductance synapses only). */
  recurrentReceptor?: string;
}

/** The keys of {@link RecurrentLayerOptions}. */
export const RECURRENT_LAYER_OPTION_KEYS = optionKeys<RecurrentLayerOptions>()(['feedforwardReceptor', 'recurrentReceptor']);

/**
 * `input → feedforward → neuron ← recurrent ← neuron.spike (previous step)`. Each step the
 * recurrent connection receives the group's spikes of the previous step, both outputs are summed
 * and the group integrates once. Child modules: `feedforward`, `recurrent`, `neuron`.
 */
export class RecurrentLayer<N extends Neuron = Neuron> extends Layer {
  /** The feed-forward connection. */
  readonly feedforward: Connection;
  /** The recurrent connection (in and out shape = the group's shape), e.g. a `LinearLateral`. */
  readonly recurrent: Connection;
  /** The neuron group. */
  readonly neuron: N;

  /**
   * @param feedforward input → group
   * @param recurrent group → group (sees the previous step's spikes)
   * @param neuron the group
   * @param options receptors for conductance synapses
   */
  constructor(feedforward: Connection, recurrent: Connection, neuron: N, options: RecurrentLayerOptions = {}) {
    const o = options ?? {}; // null: no options, as the neuron models take it
    if (new.target === RecurrentLayer) checkOptionKeys('options', o, RECURRENT_LAYER_OPTION_KEYS);
    super('sum');
    this.neuron = this.addNeuron('neuron', neuron);
    const ins = recurrent?.inShape;
    if (!ins || ins.length !== neuron.shape.length || ins.some((d, i) => d !== neuron.shape[i])) {
      throw new CinderArgumentError('recurrent inShape', ins ? [...ins] : ins, `the group's shape [${neuron.shape.join(', ')}]`);
    }
    this.feedforward = this.wire('feedforward', feedforward, { targets: ['neuron'], input: 'input', receptor: o.feedforwardReceptor });
    this.recurrent = this.wire('recurrent', recurrent, { targets: ['neuron'], input: 'feedback', receptor: o.recurrentReceptor });
  }

  /** One step: `spikes` `[B, ...inShape]` → this step's spikes `[B, ...shape]`. */
  forward(spikes: tf.Tensor, injected?: tf.Tensor): tf.Tensor {
    return this.step(
      new Map([
        ['input', injected ? { spikes, injected } : spikes],
        ['feedback', this.neuron.spike],
      ]),
    ).get('neuron')!;
  }
}
