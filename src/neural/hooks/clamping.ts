/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkFinite } from '../../core/errors.js';
import { TensorHook, type HookOptions, type HookTarget } from './tensor-hook.js';

/** Options of {@link Clamping}. */
export interface ClampingOptions extends HookOptions {
  /** Lower limit (none when omitted). */
  min?: number;
  /** Upper limit (none when omitted). */
  max?: number;
}

/**
 * `P := clamp(P, min, max)` after an update or a step; a missing limit is not applied. Entries that
 * are NaN or ±Inf are kept as they are (never replaced by a limit), so a numerical fault stays
 * visible to the finite checks (`FiniteChecker`) instead of being laundered into a bound.
 *
 * ```ts
 * new Clamping(conn.weightParameter, { min: 0 }).attachToUpdate(conn.updater);
 * ```
 */
export class Clamping extends TensorHook {
  /** Lower limit, when given. */
  readonly min: number | undefined;
  /** Upper limit, when given. */
  readonly max: number | undefined;
  private readonly cMin: tf.Scalar | null;
  private readonly cMax: tf.Scalar | null;

  /**
   * Creates the hook and uploads its limits.
   * @param target the tensor to clamp
   * @param options limits (at least one) and `trainOnly`
   */
  constructor(target: HookTarget, options: ClampingOptions) {
    super(target, options);
    const { min, max } = options ?? {};
    if (min === undefined && max === undefined) throw new CinderArgumentError('min/max', undefined, 'at least one limit');
    if (min !== undefined) checkFinite('min', min);
    if (max !== undefined) checkFinite('max', max);
    if (min !== undefined && max !== undefined && min > max) throw new CinderArgumentError('max', max, `a number >= min (${min})`);
    this.min = min;
    this.max = max;
    this.cMin = min !== undefined ? tf.keep(tf.scalar(min)) : null;
    this.cMax = max !== undefined ? tf.keep(tf.scalar(max)) : null;
  }

  protected transform(value: tf.Tensor): tf.Tensor {
    let v = value;
    if (this.cMin) v = tf.maximum(v, this.cMin);
    if (this.cMax) v = tf.minimum(v, this.cMax);
    return tf.where(tf.isFinite(value), v, value);
  }

  /** Frees the limit scalars. */
  dispose(): void {
    this.cMin?.dispose();
    this.cMax?.dispose();
  }
}
