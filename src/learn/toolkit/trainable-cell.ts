/**
 * What a trainer needs from a cell (a connection and the neurons it drives, inside a layer). The
 * concrete `Cell` of `src/neural/layers` satisfies it; trainers depend only on this contract.
 * @module
 */
import type { tf } from '../../core/tf.js';
import type { BatchSizeListener } from '../../core/batched-module.js';
import type { Observer, Receptive } from '../../neural/types.js';
import type { Updater } from '../../neural/updater.js';

/** The connection side of a cell. */
export interface TrainableConnection extends Receptive {
  /** Pending updates of the connection's parameters; applied by `connection.update()`. */
  readonly updater: Updater;
  /** Presynaptic spikes of the last step as the synapses deliver them (delay-selected when delayed). */
  readonly synspike: tf.Tensor;
  /**
   * The connection's weight (its current value, owned by the connection; e.g. for weight decay or
   * Oja's rule). Change it through {@link updater}, never in place.
   */
  readonly weight: tf.Tensor;
  /** Step length (ms). */
  readonly dt: number;
  /** True in training mode. */
  readonly training: boolean;
  /** Largest delay in steps (0 or absent: no delays). Needed for delay-aware (`delayed`) traces. */
  readonly delaySteps?: number;
  /** The synapse; its raw `spike` is traced by delay-aware (`delayed`) rules. */
  readonly synapse?: {
    /** The synapse's latest raw presynaptic spikes `[B, ...inShape]`. */
    readonly spike: tf.Tensor;
  };
  /**
   * Per-edge selection of a presynaptic history by the connection's delays (`ago(k)` = value k steps
   * ago), shaped like {@link synspike}. Needed for delay-aware (`delayed`) traces.
   */
  selectByDelay?(ago: (k: number) => tf.Tensor): tf.Tensor;
  /**
   * Per-edge delays in ms (the weight's shape), or null without delays. Read by delay-aware
   * (`delayed`) traces for the part of a delay between two steps.
   */
  readonly delay?: tf.Tensor | null;
  /** Tolerance (ms) within which a delay counts as a whole number of steps (default 0). */
  readonly delayTolerance?: number;
}

/** The neuron side of a cell. */
export interface TrainableNeurons {
  /** Spikes of the last step, 0/1 float `[B, ...shape]`. */
  readonly spike: tf.Tensor;
  /** True in training mode. */
  readonly training: boolean;
}

/** Something that notifies observers after each step (a layer). */
export interface ObserverHost {
  /** Adds an observer, called after every step (in training mode only when `trainOnly`). */
  attach(observer: Observer): void;
  /** Removes an observer added with {@link attach}. */
  detach(observer: Observer): void;
  /** True in training mode. */
  readonly training: boolean;
  /**
   * Adds a listener told when the host's batch size changes (a layer); returns a function that
   * removes it. Trainers use it to restart their cells' per-sample traces at the new batch size.
   */
  onBatchSizeChange?(listener: BatchSizeListener): () => void;
}

/** A training unit: one connection, the neurons it drives, and the layer that steps them. */
export interface TrainableCell {
  /** The connection whose parameters are trained. */
  readonly connection: TrainableConnection;
  /** The postsynaptic neurons. */
  readonly neuron: TrainableNeurons;
  /** The layer the monitors attach to. */
  readonly layer: ObserverHost;
}

/** True when the cell's layer, connection and neurons are all in training mode. */
export function cellTraining(cell: TrainableCell): boolean {
  return cell.layer.training && cell.connection.training && cell.neuron.training;
}
