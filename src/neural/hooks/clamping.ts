/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkFinite, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { HOOK_OPTION_KEYS, TensorHook, type HookOptions, type HookTarget } from './tensor-hook.js';
import type { OuterClamp } from '../../kernels/js/fused-outer-update.js';

/** Options of {@link Clamping}. */
export interface ClampingOptions extends HookOptions {
  /** Lower limit (none when omitted). */
  min?: number;
  /** Upper limit (none when omitted). */
  max?: number;
}

/** The keys of {@link ClampingOptions}: other keys make {@link Clamping}'s constructor throw. */
export const CLAMPING_OPTION_KEYS = optionKeys<ClampingOptions>()([...HOOK_OPTION_KEYS, 'min', 'max']);

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

  /**
   * Creates the hook and uploads its limits.
   * @param target the tensor to clamp
   * @param options limits (at least one) and `trainOnly`
   */
  constructor(target: HookTarget, options: ClampingOptions) {
    if (new.target === Clamping) checkOptionKeys('options', options, CLAMPING_OPTION_KEYS);
    super(target, options);
    const { min, max } = options ?? {};
    if (min === undefined && max === undefined) throw new CinderArgumentError('min/max', undefined, 'at least one limit');
    if (min !== undefined) checkFinite('min', min);
    if (max !== undefined) checkFinite('max', max);
    if (min !== undefined && max !== undefined && min > max) throw new CinderArgumentError('max', max, `a number >= min (${min})`);
    this.min = min;
    this.max = max;
  }

  protected transform(value: tf.Tensor): tf.Tensor {
    // One ClipByValue kernel (the wasm Maximum/Minimum against a scalar take a slow broadcast path);
    // NaN and ±Inf are kept as they are (a fault is never laundered into a plausible value).
    const clipped = tf.clipByValue(value, this.min ?? -Infinity, this.max ?? Infinity);
    return tf.where(tf.isFinite(value), clipped, value);
  }

  protected override clampLimits(): OuterClamp {
    return { min: this.min, max: this.max };
  }

  /** Nothing to free (the limits are kernel attributes). */
  dispose(): void {}
}
