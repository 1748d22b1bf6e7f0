/**
 * The batch-size plumbing and owned constants shared by modules whose state is per sample
 * (neurons, synapses).
 * @module
 */
import { tf } from './tf.js';
import { Module } from './module.js';
import type { State } from './state.js';
import { checkElements, checkInteger } from './errors.js';

/**
 * A {@link Module} with a batch size: states registered with {@link addBatchedState} start with the
 * batch dimension and are re-created when `batchSize` changes; float32 constants made with
 * {@link constant} are uploaded once and disposed with the module.
 */
export abstract class BatchedModule extends Module {
  private batch: number;
  private readonly batchedStates: State[] = [];
  private readonly owned: tf.Tensor[] = [];

  /** @param batchSize validated batch size (integer ≥ 1) */
  protected constructor(batchSize: number) {
    super();
    this.batch = batchSize;
  }

  /** Number of samples per batch; setting it re-creates the per-sample state. */
  get batchSize(): number {
    return this.batch;
  }

  /** Sets the batch size (integer ≥ 1); a change re-creates every batched state. */
  set batchSize(value: number) {
    this.checkBatchSize(value);
    if (value === this.batch) return;
    this.batch = value;
    this.batchSizeChanged();
    for (const s of this.batchedStates) s.reinit();
  }

  /**
   * Throws the error the `batchSize` setter would throw for `value` (not an integer ≥ 1, or a
   * batched state over `MAX_ELEMENTS`), changing nothing: a layer checks all its modules first.
   */
  checkBatchSize(value: number): void {
    checkInteger('batchSize', value, 1);
    for (const s of this.batchedStates) checkElements('batchSize', (s.value.size / this.batch) * value, `state "${s.name}" with batch ${value}`);
  }

  /** Called when the batch size changes, before the batched states are re-created (default: nothing). */
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

  /** Creates a float32 vector owned by this module (e.g. per-adaptation-term constants). */
  protected constantVector(values: readonly number[]): tf.Tensor1D {
    const t = tf.keep(tf.tensor1d([...values], 'float32'));
    this.owned.push(t);
    return t;
  }

  /** Frees the state, the parameters and the owned constants. */
  override dispose(): void {
    super.dispose();
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }
}
