/**
 * @module
 */
import { tf } from '../../core/tf.js';
import type { Snapshot } from '../../core/snapshot.js';
import { CinderArgumentError, checkOptionKeys } from '../../core/errors.js';
import { REDUCER_OPTION_KEYS, Reducer, checkSameShape, type ReducerOptions } from './reducer.js';

/** Folds per block of the count's low part: the low part stays below it, exact in float32. */
const BLOCK = 2 ** 24;

/**
 * Largest fold count a {@link CAReducer} holds: 2^48 − 1 (the count is kept as a float32 multiple
 * of 2^24 plus a float32 remainder below 2^24, both exact).
 */
export const CA_MAX_FOLDS = BLOCK * BLOCK - 1;

/**
 * Cumulative average of all observations since the last clear: `m(n) = (h(1) + … + h(n))/n`. With
 * spikes as observations this is the firing rate in spikes per step (divide by Δt/1000 for Hz).
 * The running sum (float32) and the fold count n live in tensors, so no per-step scalar is created.
 * The count is split as n = hi + lo: `lo` (float32, below 2^24) is incremented on the device each
 * fold, `hi` (float32, a multiple of 2^24) is replaced when `lo` would reach 2^24 (every 2^24 folds;
 * the reducer knows n on the host, so no read). Both parts are exact, so n is exact up to
 * {@link CA_MAX_FOLDS} folds on every backend (also on webgpu, whose int32 adds are done in float32),
 * and `hi + lo` in float32 rounds once: m = sum / fround(n), as a division by Inferno's integer
 * count. Four ops per fold (lo + 1, sum + h, hi + lo, the division). The sum of 0/1 spikes is exact
 * in float32 up to 2^24 spikes per element. Checkpoints carry the running sum (`sum`) besides the
 * history, so a restored reducer continues the same average (a checkpoint without it, from before
 * the sum was saved, restarts the sum as `latest · folds` in float32).
 */
export class CAReducer extends Reducer<[tf.Tensor]> {
  private readonly one: tf.Scalar;
  /** Folds in whole blocks (a multiple of 2^24, float32); null before the first fold. */
  private hi: tf.Scalar | null = null;
  /** Folds since `hi` (below 2^24, float32). */
  private lo: tf.Scalar | null = null;
  private sum: tf.Tensor | null = null;

  /** @param options history length */
  constructor(options: ReducerOptions = {}) {
    if (new.target === CAReducer) checkOptionKeys('options', options, REDUCER_OPTION_KEYS);
    super(options);
    this.one = tf.keep(tf.scalar(1));
  }

  /** The first observation's shape (elementwise: the value has the observation's shape). */
  override valueShape(shapes: readonly (readonly number[])[]): readonly number[] | null {
    return shapes[0] ?? null;
  }

  protected compute([h]: [tf.Tensor], prev: tf.Tensor | null): tf.Tensor {
    checkSameShape('observation', h, prev);
    const folds = this.count + 1; // after this fold
    if (folds > CA_MAX_FOLDS) throw new CinderArgumentError('fold', folds, `at most ${CA_MAX_FOLDS} folds (the count of a CAReducer; clear() to start again)`);
    const oldSum = this.sum;
    const x = h.dtype === 'float32' ? h : tf.cast(h, 'float32');
    const sum = tf.keep(oldSum === null ? x.clone() : tf.add(oldSum, x));
    // a new block starts every 2^24 folds: hi takes the count, lo restarts at 0 (host-known values)
    const [hi, lo] = this.hi === null || folds % BLOCK === 0 ? countParts(folds) : [this.hi, tf.keep(tf.add<tf.Scalar>(this.lo!, this.one))];
    if (hi !== this.hi) this.hi?.dispose();
    this.lo?.dispose();
    oldSum?.dispose();
    this.hi = hi;
    this.lo = lo;
    this.sum = sum;
    return oldSum === null ? sum.clone() : tf.div(sum, tf.add(hi, lo));
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
    if (typeof folds === 'number' && folds > CA_MAX_FOLDS) throw new CinderArgumentError('snapshot folds', folds, `at most ${CA_MAX_FOLDS} (the fold count of a CAReducer)`);
    if (sum !== undefined && history.h0 !== undefined && !tf.util.arraysEqual(sum.shape, history.h0.shape)) {
      throw new CinderArgumentError('snapshot sum', sum, `shape [${history.h0.shape.join(', ')}] (the shape of the history)`);
    }
    super.restoreState({ tensors: history, values: s.values });
    this.dropSums();
    if (typeof folds !== 'number' || folds === 0 || this.size === 0) return;
    [this.hi, this.lo] = countParts(folds);
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
    this.hi?.dispose();
    this.lo?.dispose();
    this.sum?.dispose();
    this.hi = null;
    this.lo = null;
    this.sum = null;
  }
}

/** The count parts of `folds` (<= {@link CA_MAX_FOLDS}) as kept float32 scalars [hi, lo], both exact. */
function countParts(folds: number): [tf.Scalar, tf.Scalar] {
  const lo = folds % BLOCK;
  return [tf.keep(tf.scalar(folds - lo)), tf.keep(tf.scalar(lo))];
}

