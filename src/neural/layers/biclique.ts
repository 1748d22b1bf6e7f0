/**
 * Several connections feeding several neuron groups (complete bipartite wiring).
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../../core/errors.js';
import type { Neuron } from '../types.js';
import type { Connection } from '../connections/connection.js';
import type { CombineFn, CombineMode } from './combine.js';
import { Layer, type LayerInput } from './layer.js';

/** A connection of a {@link Biclique} with wiring options. */
export interface BicliqueConnection {
  /** The connection. */
  connection: Connection;
  /** Input key it reads (default: its name); several connections may share one input. */
  input?: string;
  /** Receptor name, when its synapse delivers a conductance. */
  receptor?: string;
}

/** The keys of {@link BicliqueConnection}. */
export const BICLIQUE_CONNECTION_KEYS = optionKeys<BicliqueConnection>()(['connection', 'input', 'receptor']);

/** Options of {@link Biclique}. */
export interface BicliqueOptions {
  /** Connections by name (names must be identifiers and differ from the neuron names). */
  connections: Record<string, Connection | BicliqueConnection>;
  /** Neuron groups by name; each receives the output of every connection. */
  neurons: Record<string, Neuron>;
  /** How the current outputs are merged per group (default `'sum'`); conductances are summed per receptor. */
  combine?: CombineMode | CombineFn;
}

/** The keys of {@link BicliqueOptions}. */
export const BICLIQUE_OPTION_KEYS = optionKeys<BicliqueOptions>()(['connections', 'neurons', 'combine']);

/** Whether a value of {@link BicliqueOptions.connections} is a {@link BicliqueConnection} (not a bare connection). */
function isSpec(c: Connection | BicliqueConnection): c is BicliqueConnection {
  return c instanceof Object && 'connection' in c;
}

/**
 * Every connection feeds every neuron group, and each group steps once with the combination of
 * all of them. With several inputs this expresses e.g. "input spikes and the previous step's
 * inhibitory spikes → excitatory group" in one layer, so the group integrates both at once.
 */
export class Biclique extends Layer {
  /**
   * @param options connections, neuron groups and the combine mode
   */
  constructor(options: BicliqueOptions) {
    if (new.target === Biclique) checkOptionKeys('options', options, BICLIQUE_OPTION_KEYS);
    if (options?.connections !== null && typeof options?.connections === 'object') {
      for (const [name, c] of Object.entries(options.connections)) if (isSpec(c)) checkOptionKeys(`connections.${name}`, c, BICLIQUE_CONNECTION_KEYS);
    }
    super(options?.combine ?? 'sum');
    if (!options || options.neurons === null || typeof options.neurons !== 'object' || Object.keys(options.neurons).length === 0) {
      throw new CinderArgumentError('neurons', options?.neurons, 'at least one neuron group');
    }
    if (options.connections === null || typeof options.connections !== 'object' || Object.keys(options.connections).length === 0) {
      throw new CinderArgumentError('connections', options.connections, 'at least one connection');
    }
    for (const [name, n] of Object.entries(options.neurons)) this.addNeuron(name, n);
    const targets = Object.keys(options.neurons);
    for (const [name, c] of Object.entries(options.connections)) {
      const spec: BicliqueConnection = isSpec(c) ? c : { connection: c };
      this.wire(name, spec.connection, { targets, input: spec.input, receptor: spec.receptor });
    }
  }

  /**
   * One step: `inputs` maps every input key to its spikes (or `{ spikes, injected }`); returns
   * this step's spikes per neuron group.
   */
  forward(inputs: Record<string, LayerInput>): Record<string, tf.Tensor> {
    if (!inputs || typeof inputs !== 'object' || inputs instanceof tf.Tensor) {
      throw new CinderArgumentError('inputs', inputs, `an object with keys ${this.inputNames.join(', ')}`);
    }
    return Object.fromEntries(this.step(new Map(Object.entries(inputs))));
  }
}
