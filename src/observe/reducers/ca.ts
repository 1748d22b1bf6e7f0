/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { Reducer, checkSameShape, type ReducerOptions } from './reducer.js';

/**
 * Cumulative average of all observations since the last clear: `m(n) = (h(1) + … + h(n))/n`. With
 * spikes as observations this is the firing rate in spikes per step (divide by Δt/1000 for Hz).
 * The running sum and the fold count live in tensors (the sum of 0/1 spikes is exact in float32 up
 * to 2^24 folds), so no per-step scalar is created; three ops per fold.
 */
export class CAReducer extends Reducer<[tf.Tensor]> {
  private readonly one: tf.Scalar;
  private n: tf.Scalar | null = null;
  private sum: tf.Tensor | null = null;

  /** @param options history length */
  constructor(options: ReducerOptions = {}) {
    super(options);
    this.one = tf.keep(tf.scalar(1));
  }

  protected compute([h]: [tf.Tensor], prev: tf.Tensor | null): tf.Tensor {
    checkSameShape('observation', h, prev);
    const oldN = this.n;
    const oldSum = this.sum;
    const x = h.dtype === 'float32' ? h : tf.cast(h, 'float32');
    const n = tf.keep(oldN === null ? this.one.clone() : tf.add<tf.Scalar>(oldN, this.one));
    const sum = tf.keep(oldSum === null ? x.clone() : tf.add(oldSum, x));
    oldN?.dispose();
    oldSum?.dispose();
    this.n = n;
    this.sum = sum;
    return oldSum === null ? sum.clone() : tf.div(sum, n);
  }

  override clear(): void {
    super.clear();
    this.dropSums();
  }

  protected override disposeConstants(): void {
    this.one.dispose();
    this.dropSums();
  }

  private dropSums(): void {
    this.n?.dispose();
    this.sum?.dispose();
    this.n = null;
    this.sum = null;
  }
}
