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
 * Told about batch-size changes of a module (see `BatchedModule.onBatchSizeChange`): e.g. a
 * layer, which passes the change on to its observers, or a trainer restarting its per-sample traces.
 */
export interface BatchSizeListener {
  /**
   * Throws when the listener cannot follow a change to `value` (called by `checkBatchSize`, so
   * before anything changes; must change nothing itself).
   */
  checkBatchSize?(value: number): void;
  /** Called after the module's batched states were re-created for batch size `value`. */
  batchSizeChanged(value: number): void;
}

/**
 * A {@link Module} with a batch size: states registered with {@link addBatchedState} start with the
 * batch dimension and are re-created when `batchSize` changes; float32 constants made with
 * {@link constant} are uploaded once and disposed with the module.
 */
export abstract class BatchedModule extends Module {
  private batch: number;
  private readonly batchedStates: State[] = [];
  private readonly owned: tf.Tensor[] = [];
  private readonly listeners = new Set<BatchSizeListener>();

  /** @param batchSize validated batch size (integer ≥ 1) */
  protected constructor(batchSize: number) {
    super();
    this.batch = batchSize;
  }

  /** Number of samples per batch; setting it re-creates the per-sample state. */
  get batchSize(): number {
    return this.batch;
  }

  /**
   * Sets the batch size (integer ≥ 1); a change re-creates every batched state, then tells the
   * {@link onBatchSizeChange} listeners. Checked first ({@link checkBatchSize}, listeners included):
   * a size refused changes nothing.
   */
  set batchSize(value: number) {
    this.checkBatchSize(value);
    if (value === this.batch) return;
    this.batch = value;
    this.batchSizeChanged();
    for (const s of this.batchedStates) s.reinit();
    for (const l of [...this.listeners]) l.batchSizeChanged(value);
  }

  /**
   * Throws the error the `batchSize` setter would throw for `value` (not an integer ≥ 1, a batched
   * state over `MAX_ELEMENTS`, or a listener that cannot follow a change), changing nothing: a
   * layer checks all its modules first.
   */
  checkBatchSize(value: number): void {
    checkInteger('batchSize', value, 1);
    for (const s of this.batchedStates) checkElements('batchSize', (s.value.size / this.batch) * value, `state "${s.name}" with batch ${value}`);
    if (value !== this.batch) for (const l of this.listeners) l.checkBatchSize?.(value);
  }

  /**
   * Adds a listener told about every change of the batch size (after the batched states were
   * re-created) and asked first whether it can follow one. Returns a function that removes it.
   */
  onBatchSizeChange(listener: BatchSizeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
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
