/**
 * Shape, batch size and the voltage / refractory / spike state common to every neuron module.
 * @module
 */
import { tf } from '../../core/tf.js';
import { BatchedModule } from '../../core/batched-module.js';
import type { State } from '../../core/state.js';
import { numel } from '../../core/errors.js';

/**
 * Base of the neuron modules ({@link NeuronGroup} and `ExactNeuron`): the group's shape, step
 * length and batch size, the per-sample state `voltage`, `refrac` and `spike` (`[B, ...shape]`),
 * and float32 constants owned by the module. The subclass validates its arguments before calling
 * the constructor and assigns the state in its `forward`.
 */
export abstract class SpikingModule extends BatchedModule {
  /** Shape of the group without the batch dimension. */
  readonly shape: readonly number[];
  /** Number of neurons (product of `shape`). */
  readonly count: number;
  /** Step length (ms). */
  readonly dt: number;
  /** Membrane voltage state `[B, ...shape]`. */
  protected readonly voltageState: State;
  /** Remaining refractory time state `[B, ...shape]`. */
  protected readonly refracState: State;
  /** Spike state (0/1 float32) `[B, ...shape]`. */
  protected readonly spikeState: State;

  /**
   * @param shape validated shape of the group (no batch)
   * @param dt validated step length (ms)
   * @param batchSize validated batch size
   * @param restV initial (and reset) membrane voltage (mV)
   */
  protected constructor(shape: readonly number[], dt: number, batchSize: number, restV: number) {
    super(batchSize);
    this.shape = shape;
    this.count = numel(shape);
    this.dt = dt;
    this.voltageState = this.addBatchedState('voltage', () => tf.fill(this.batchedShape, restV));
    this.refracState = this.addBatchedState('refrac', () => tf.zeros(this.batchedShape));
    this.spikeState = this.addBatchedState('spike', () => tf.zeros(this.batchedShape));
  }

  /** `[batchSize, ...shape]`. */
  get batchedShape(): number[] {
    return [this.batchSize, ...this.shape];
  }

  /** Membrane voltage (mV) `[B, ...shape]`. */
  get voltage(): tf.Tensor {
    return this.voltageState.value;
  }

  /**
   * Remaining refractory time (ms) `[B, ...shape]`; with `refracCount: 'steps'` it includes half a
   * step of margin (see `NeuronGroup.refracStart`).
   */
  get refrac(): tf.Tensor {
    return this.refracState.value;
  }

  /** Spikes of the last step, 0/1 float32 `[B, ...shape]`. */
  get spike(): tf.Tensor {
    return this.spikeState.value;
  }
}
