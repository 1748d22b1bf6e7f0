/**
 * Match criteria for traces and event reducers: which elements of an observation count as an event.
 * @module
 */
import { tf } from '../core/tf.js';
import { CinderArgumentError, checkFinite, checkNonNegative, checkOptionKeys, optionKeys } from '../core/errors.js';

/** Match by value: `|h − target| <= tolerance`, or exact equality without a tolerance. */
export interface TargetCriterion {
  /** Value h* that counts as a match. */
  target: number;
  /** Allowed absolute difference ε (>= 0; default: exact match). */
  tolerance?: number;
}

/** The keys of {@link TargetCriterion}. */
export const TARGET_CRITERION_KEYS = optionKeys<TargetCriterion>()(['target', 'tolerance']);

/**
 * Which observed elements are events.
 * - `undefined` (the default): the observation is a spike tensor (0/1, bool or numeric): every
 *   non-zero element is an event, `notEqual(h, 0)` (so a spike value of 2 or 0.5 counts 1, never 2
 *   or 0.5, as Inferno's `A·[spike]`; NaN counts as an event, −0 does not);
 * - `{ target, tolerance? }`: elements with `|h − target| <= tolerance` (exact equality without tolerance);
 * - a function `h => mask` returning a bool tensor, or a numeric one (float32 or int32) where every
 *   non-zero element is an event: it is turned into 0/1 on the device by `notEqual(mask, 0)` (no
 *   read), so a mask of 0/2 or 0/0.5 counts 1 per event, never 2 or 0.5, and NaN counts as an event
 *   (called inside `tf.tidy` on every fold: use constant tensors created once, not JS numbers, in it).
 */
export type Criterion = TargetCriterion | ((observation: tf.Tensor) => tf.Tensor);

/** Evaluates a {@link Criterion}; holds its constant scalars (created once). */
export class Matcher {
  private readonly target: tf.Scalar | null = null;
  private readonly tolerance: tf.Scalar | null = null;
  private readonly zero: tf.Scalar;
  private readonly fn: ((observation: tf.Tensor) => tf.Tensor) | null = null;

  /**
   * @param criterion the criterion (see {@link Criterion})
   * @param param parameter name used in error messages
   */
  constructor(criterion: Criterion | undefined, param = 'criterion') {
    if (typeof criterion === 'function') {
      this.fn = criterion;
    } else if (criterion !== undefined) {
      if (typeof criterion !== 'object' || criterion === null) throw new CinderArgumentError(param, criterion, 'a function or { target, tolerance? }');
      checkOptionKeys(param, criterion, TARGET_CRITERION_KEYS);
      checkFinite(`${param}.target`, criterion.target);
      this.target = tf.keep(tf.scalar(criterion.target));
      if (criterion.tolerance !== undefined) {
        checkNonNegative(`${param}.tolerance`, criterion.tolerance);
        this.tolerance = tf.keep(tf.scalar(criterion.tolerance));
      }
    }
    this.zero = tf.keep(tf.scalar(0));
  }

  /** True when no criterion was given: the observation's non-zero elements are the events. */
  get isSpike(): boolean {
    return this.fn === null && this.target === null;
  }

  /** Bool mask of the events in `h` (a function's numeric mask: `notEqual(mask, 0)`; new tensor; call inside `tf.tidy`). */
  bool(h: tf.Tensor): tf.Tensor {
    if (this.fn) {
      const m = this.fn(h);
      return m.dtype === 'bool' ? m : tf.notEqual(m, this.zero);
    }
    if (this.target) {
      if (this.tolerance) return tf.lessEqual(tf.abs(tf.sub(h, this.target)), this.tolerance);
      return tf.equal(h, this.target);
    }
    return tf.notEqual(h, this.zero);
  }

  /**
   * 0/1 float32 mask of the events in `h`: {@link Matcher.bool} cast to float32 (a function's
   * numeric mask, and for the default criterion `h` itself, thus count every non-zero element as 1).
   */
  float(h: tf.Tensor): tf.Tensor {
    return tf.cast(this.bool(h), 'float32');
  }

  /** Frees the constant scalars. */
  dispose(): void {
    this.target?.dispose();
    this.tolerance?.dispose();
    this.zero.dispose();
  }
}
