/**
 * Spike sources: the JavaScript side of every encoder. A source writes 0/1 spikes for a range of
 * steps into a Float32Array; {@link renderSource} uploads them as one tensor.
 * @module
 */
import { tf } from '../../core/tf.js';
import { numel, checkElements } from '../../core/errors.js';

/**
 * Generates spikes step by step. Calls to {@link SpikeSource.fill} must cover consecutive step
 * ranges (`t0` = end of the previous range); a source keeps whatever state it needs between them.
 */
export interface SpikeSource {
  /** Number of spike trains (batch × neurons). */
  readonly size: number;
  /**
   * Writes steps `t0 … t0 + count − 1` into `out` (layout `[count, size]`, zero-filled by the caller):
   * `out[(t − t0)·size + i] = 1` when train `i` spikes at step `t`.
   */
  fill(out: Float32Array, t0: number, count: number): void;
}

/**
 * A source whose trains are point processes given by their inter-spike intervals (in steps, real
 * valued): each train keeps the time of its next spike; a spike at time t falls in step ⌊t⌋.
 * Subclasses draw the intervals; `next` is initialised by the subclass (Infinity = silent train).
 */
export abstract class IntervalProcessSource implements SpikeSource {
  readonly size: number;
  /** Time of each train's next spike, in steps. */
  protected readonly next: Float64Array;

  /** @param size number of trains */
  protected constructor(size: number) {
    this.size = size;
    this.next = new Float64Array(size);
  }

  /** The interval (steps) from a spike of train `i` to its next one. */
  protected abstract interval(i: number): number;

  fill(out: Float32Array, t0: number, count: number): void {
    const end = t0 + count;
    const n = this.size;
    for (let i = 0; i < n; i++) {
      let t = this.next[i]!;
      while (t < end) {
        out[(Math.floor(t) - t0) * n + i] = 1;
        t += this.interval(i);
      }
      this.next[i] = t;
    }
  }
}

/**
 * Throws the error {@link renderSource} throws when a train `[count, ...shape]` would exceed one
 * tensor's element limit: for callers that must refuse it before building a source that draws
 * from a generator (a refused encoding leaves the generator where it was).
 */
export function checkTrainSize(count: number, shape: readonly number[]): void {
  const n = numel(shape);
  checkElements('steps', count * n, `a train of ${count} steps × ${n} inputs (encode fewer steps, or stream it in chunks)`);
}

/** Renders steps `t0 … t0 + count − 1` of `source` into a new tensor `[count, ...shape]` (one upload). */
export function renderSource(source: SpikeSource, t0: number, count: number, shape: readonly number[]): tf.Tensor {
  const n = numel(shape);
  checkTrainSize(count, shape);
  const out = new Float32Array(count * n);
  source.fill(out, t0, count);
  return tf.tensor(out, [count, ...shape], 'float32');
}
