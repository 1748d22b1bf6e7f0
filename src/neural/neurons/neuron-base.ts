/**
 * Shape, batch size and the voltage / refractory / spike state common to every neuron module.
 * @module
 */
import { tf } from '../../core/tf.js';
import { Module } from '../../core/module.js';
import type { State } from '../../core/state.js';
import { checkInteger, numel } from '../../core/errors.js';

/**
 * Base of the neuron modules ({@link NeuronGroup} and `ExactNeuron`): the group's shape, step
 * length and batch size, the per-sample state `voltage`, `refrac` and `spike` (`[B, ...shape]`),
 * and float32 constants owned by the module. The subclass validates its arguments before calling
 * the constructor and assigns the state in its `forward`.
 */
export abstract class NeuronBase extends Module {
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
  private batch: number;
  private readonly batchedStates: State[] = [];
  private readonly owned: tf.Tensor[] = [];

  /**
   * @param shape validated shape of the group (no batch)
   * @param dt validated step length (ms)
   * @param batchSize validated batch size
   * @param restV initial (and reset) membrane voltage (mV)
   */
  protected constructor(shape: readonly number[], dt: number, batchSize: number, restV: number) {
    super();
    this.shape = shape;
    this.count = numel(shape);
    this.dt = dt;
    this.batch = batchSize;
    this.voltageState = this.addBatchedState('voltage', () => tf.fill(this.batchedShape, restV));
    this.refracState = this.addBatchedState('refrac', () => tf.zeros(this.batchedShape));
    this.spikeState = this.addBatchedState('spike', () => tf.zeros(this.batchedShape));
  }

  /** `[batchSize, ...shape]`. */
  get batchedShape(): number[] {
    return [this.batch, ...this.shape];
  }

  /** Batch size; setting it re-creates the per-sample state (voltage, refractory time, spikes, per-sample adaptation). */
  get batchSize(): number {
    return this.batch;
  }

  /** Sets the batch size (integer >= 1); a change re-creates the per-sample state. */
  set batchSize(value: number) {
    checkInteger('batchSize', value, 1);
    if (value === this.batch) return;
    this.batch = value;
    this.batchSizeChanged();
    for (const s of this.batchedStates) s.reinit();
  }

  /** Membrane voltage (mV) `[B, ...shape]`. */
  get voltage(): tf.Tensor {
    return this.voltageState.value;
  }

  /** Remaining refractory time (ms) `[B, ...shape]`. */
  get refrac(): tf.Tensor {
    return this.refracState.value;
  }

  /** Spikes of the last step, 0/1 float32 `[B, ...shape]`. */
  get spike(): tf.Tensor {
    return this.spikeState.value;
  }

  /** Frees the state and the constant tensors. */
  override dispose(): void {
    super.dispose();
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }

  /** Called when the batch size changes, before the per-sample state is re-created (default: nothing). */
  protected batchSizeChanged(): void {}

  /** Registers a state whose shape starts with the batch size (re-created by the `batchSize` setter). */
  protected addBatchedState(name: string, init: () => tf.Tensor): State {
    const s = this.addState(name, init);
    this.batchedStates.push(s);
    return s;
  }

  /** Creates a float32 scalar owned (and disposed) by this module. Call in constructors only. */
  protected constant(x: number): tf.Scalar {
    const t = tf.keep(tf.scalar(x, 'float32'));
    this.owned.push(t);
    return t;
  }

  /** Creates a float32 vector owned by this module (per-adaptation-term constants). */
  protected constantVector(values: readonly number[]): tf.Tensor1D {
    const t = tf.keep(tf.tensor1d([...values], 'float32'));
    this.owned.push(t);
    return t;
  }
}
