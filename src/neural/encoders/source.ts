/**
 * Spike sources: the JavaScript side of every encoder. A source writes 0/1 spikes for a range of
 * steps into a Float32Array; {@link renderSource} uploads them as one tensor.
 * @module
 */
import { tf } from '../../core/tf.js';
import { numel } from '../../core/errors.js';

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

/** Renders steps `t0 … t0 + count − 1` of `source` into a new tensor `[count, ...shape]` (one upload). */
export function renderSource(source: SpikeSource, t0: number, count: number, shape: readonly number[]): tf.Tensor {
  const n = numel(shape);
  const out = new Float32Array(count * n);
  source.fill(out, t0, count);
  return tf.tensor(out, [count, ...shape], 'float32');
}
