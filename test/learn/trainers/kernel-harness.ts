// Minimal cell for trainer tests: a real connection, neurons whose spikes are forced, and a layer
// host that notifies its observers after each step (what Layer does after its neurons stepped).
import { tf } from '../../../src/core/tf.js';
import type { Observer } from '../../../src/neural/types.js';
import type { Connection } from '../../../src/neural/connections/connection.js';
import type { ObserverHost, TrainableNeurons } from '../../../src/learn/toolkit/trainable-cell.js';

export class HostLayer implements ObserverHost {
  training = true;
  readonly observers = new Set<Observer>();
  attach(o: Observer): void {
    this.observers.add(o);
  }
  detach(o: Observer): void {
    this.observers.delete(o);
  }
  notify(): void {
    for (const o of this.observers) if (this.training || o.trainOnly === false) o.observe();
  }
}

export class ForcedNeurons implements TrainableNeurons {
  training = true;
  private current: tf.Tensor;
  constructor(readonly shape: number[]) {
    this.current = tf.zeros(shape);
  }
  get spike(): tf.Tensor {
    return this.current;
  }
  set(values: number[]): void {
    this.current.dispose();
    this.current = tf.tensor(values, this.shape);
  }
  dispose(): void {
    this.current.dispose();
  }
}

export interface TestCell {
  connection: Connection;
  neuron: ForcedNeurons;
  layer: HostLayer;
}

export function makeCell(connection: Connection, postShape: number[]): TestCell {
  return { connection, neuron: new ForcedNeurons(postShape), layer: new HostLayer() };
}

/** One step: presynaptic spikes into the connection, forced postsynaptic spikes, observers fold. */
export function stepCell(cell: TestCell, pre: number[], post: number[]): void {
  const x = tf.tensor(pre, [cell.connection.batchSize, ...cell.connection.inShape]);
  tf.tidy(() => {
    cell.connection.forward(x);
  });
  x.dispose();
  cell.neuron.set(post);
  cell.layer.notify();
}

export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}
