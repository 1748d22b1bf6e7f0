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
 *
 * The events of all trains are taken in time order (ties by train index; a binary heap of the
 * trains by next event time, O(log n) per event), and each event draws its train's next interval
 * when it is taken. So the order of the draws from the generator is that of the events themselves,
 * whatever the step ranges asked for: a train streamed in chunks of any length equals the whole
 * train encoded at once, spike for spike (a run's results do not depend on its checkpoint interval).
 */
export abstract class IntervalProcessSource implements SpikeSource {
  readonly size: number;
  /** Time of each train's next spike, in steps. */
  protected readonly next: Float64Array;
  /** The trains with a next event, as a binary min-heap by (next time, index); built at the first fill. */
  private heap: Int32Array | null = null;
  private heapSize = 0;

  /** @param size number of trains */
  protected constructor(size: number) {
    this.size = size;
    this.next = new Float64Array(size);
  }

  /** The interval (steps) from a spike of train `i` to its next one. */
  protected abstract interval(i: number): number;

  /** Whether train a's next event comes before train b's (equal times: the lower index first). */
  private before(a: number, b: number): boolean {
    const ta = this.next[a]!;
    const tb = this.next[b]!;
    return ta < tb || (ta === tb && a < b);
  }

  /** Moves the train at heap slot k down to its place. */
  private siftDown(k: number): void {
    const h = this.heap!;
    const n = this.heapSize;
    const i = h[k]!;
    for (;;) {
      let c = 2 * k + 1;
      if (c >= n) break;
      if (c + 1 < n && this.before(h[c + 1]!, h[c]!)) c++;
      if (!this.before(h[c]!, i)) break;
      h[k] = h[c]!;
      k = c;
    }
    h[k] = i;
  }

  fill(out: Float32Array, t0: number, count: number): void {
    const n = this.size;
    if (this.heap === null) {
      // every train with a next event (Infinity: silent), heapified
      const h = new Int32Array(n);
      let m = 0;
      for (let i = 0; i < n; i++) if (this.next[i]! < Infinity) h[m++] = i;
      this.heap = h;
      this.heapSize = m;
      for (let k = (m >> 1) - 1; k >= 0; k--) this.siftDown(k);
    }
    const h = this.heap;
    const end = t0 + count;
    while (this.heapSize > 0) {
      const i = h[0]!;
      const t = this.next[i]!;
      if (!(t < end)) break;
      out[(Math.floor(t) - t0) * n + i] = 1;
      const later = t + this.interval(i);
      this.next[i] = later;
      if (!(later < Infinity)) h[0] = h[--this.heapSize]!; // a train that ends leaves the heap
      this.siftDown(0);
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
