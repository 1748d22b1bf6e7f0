/**
 * @module
 */
import { tf } from '../../core/tf.js';
import type { Snapshot } from '../../core/snapshot.js';
import { CinderArgumentError } from '../../core/errors.js';
import { Reducer, checkSameShape, type ReducerOptions } from './reducer.js';

/** Largest fold count a {@link CAReducer} holds (its count is an int32). */
export const CA_MAX_FOLDS = 2 ** 31 - 1;

/**
 * Cumulative average of all observations since the last clear: `m(n) = (h(1) + … + h(n))/n`. With
 * spikes as observations this is the firing rate in spikes per step (divide by Δt/1000 for Hz).
 * The running sum (float32) and the fold count n (int32, exact up to {@link CA_MAX_FOLDS} folds;
 * rounded to float32 for the division) live in tensors, so no per-step scalar is created; three
 * ops and a cast per fold. The sum of 0/1 spikes is exact in float32 up to 2^24 spikes per element
 * (a float32 count would stop at 2^24 folds). On webgpu, tfjs adds int32 tensors in float32, so
 * there the count still stops at 2^24 folds. Checkpoints carry the running sum (`sum`) besides
 * the history, so a restored reducer continues the same average (a checkpoint without it, from
 * before the sum was saved, restarts the sum as `latest · folds` in float32).
 */
export class CAReducer extends Reducer<[tf.Tensor]> {
  private readonly one: tf.Scalar;
  private n: tf.Scalar | null = null;
  private sum: tf.Tensor | null = null;

  /** @param options history length */
  constructor(options: ReducerOptions = {}) {
    super(options);
    this.one = tf.keep(tf.scalar(1, 'int32'));
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

  /** The history, the fold count and the running sum (`sum`, a copy). */
  override snapshotState(): Snapshot {
    const s = super.snapshotState();
    if (this.sum) s.tensors.sum = this.sum.clone();
    return s;
  }

  /** Restores what {@link snapshotState} captured: history, fold count n and running sum. */
  override restoreState(s: Snapshot): void {
    const { sum, ...history } = s.tensors;
    const folds = s.values.folds;
    if (typeof folds === 'number' && folds > CA_MAX_FOLDS) throw new CinderArgumentError('snapshot folds', folds, `at most ${CA_MAX_FOLDS} (the fold count of a CAReducer is an int32)`);
    if (sum !== undefined && history.h0 !== undefined && !tf.util.arraysEqual(sum.shape, history.h0.shape)) {
      throw new CinderArgumentError('snapshot sum', sum, `shape [${history.h0.shape.join(', ')}] (the shape of the history)`);
    }
    super.restoreState({ tensors: history, values: s.values });
    this.dropSums();
    if (typeof folds !== 'number' || folds === 0 || this.size === 0) return;
    this.n = tf.keep(tf.scalar(folds, 'int32'));
    this.sum = tf.keep(sum ? sum.clone() : tf.tidy(() => tf.mul(this.latest, tf.scalar(folds))));
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

