/**
 * The shared base of the scaled and conditional trace reducers.
 * @module
 */
import type { tf as TF } from '../../core/tf.js';
import { tf } from '../../core/tf.js';
import type { Criterion } from '../criterion.js';
import { ExponentialTraceReducer } from './exponential-trace-reducer.js';
import type { TraceOptions } from './trace-options.js';

/**
 * Base of the exponential traces that take the value `s·h + A` of the observation `h` on a match
 * (amplitude A defaults to 0): the scaled and the conditional traces.
 */
export abstract class ScaledValueTraceReducer<A extends readonly TF.Tensor[]> extends ExponentialTraceReducer<A> {
  /** Scale s. */
  readonly scale: number;

  /**
   * @param options trace options with scale s (default 1)
   * @param requireCriterion throw when `options.criterion` is missing (scaled traces)
   */
  protected constructor(options: TraceOptions & { scale?: number; criterion?: Criterion }, requireCriterion: boolean) {
    super(options, 0, requireCriterion);
    this.scale = options.scale ?? 1;
  }

  /** `s·h + A` (float32 order `(s·h) + A`). */
  protected scaledValue(h: TF.Tensor): TF.Tensor {
    return tf.add(tf.mul(this.c.scale, h), this.c.amplitude);
  }
}
