/**
 * The optimizer contract used by Cinder's trainers: an optimizer takes one gradient per trainable
 * variable and updates the variable in place, once per call of {@link Optimizer.apply}.
 * @module
 */
import type { tf } from '../../core/tf.js';
import { CinderArgumentError, FLOAT32_MAX, checkFinite, optionKeys } from '../../core/errors.js';

/** One variable and the gradient to apply to it (same shape). */
export interface VariableGradient {
  /** The variable to update in place. */
  variable: tf.Variable;
  /** Gradient of the loss with respect to `variable`; not disposed by the optimizer. */
  gradient: tf.Tensor;
}

/** Bounds every weight is clipped to after an update (NEST's `Wmin`/`Wmax`). */
export interface WeightBounds {
  /** Lower bound (default −∞). */
  wMin?: number;
  /** Upper bound (default +∞). */
  wMax?: number;
}

/** The keys of {@link WeightBounds}. */
export const WEIGHT_BOUNDS_KEYS = optionKeys<WeightBounds>()(['wMin', 'wMax']);

/** Updates variables from gradients. */
export interface Optimizer {
  /** Learning rate; may be changed between calls (e.g. 0 for evaluation batches). */
  learningRate: number;
  /** Number of `apply` calls so far (Adam's step counter k). */
  readonly iterations: number;
  /** Applies one update step to every listed variable. */
  apply(updates: readonly VariableGradient[]): void;
  /** Frees the optimizer's own state tensors (Adam moments). */
  dispose(): void;
}

/** Validates weight bounds and returns them with defaults filled in. */
export function resolveBounds(bounds: WeightBounds): Required<WeightBounds> {
  const wMin = bounds.wMin ?? -Infinity;
  const wMax = bounds.wMax ?? Infinity;
  if (Number.isNaN(wMin)) throw new CinderArgumentError('wMin', wMin, 'a number or -Infinity');
  if (Number.isNaN(wMax)) throw new CinderArgumentError('wMax', wMax, 'a number or Infinity');
  if (!(wMin < wMax)) throw new CinderArgumentError('wMax', wMax, `a number > wMin (${wMin})`);
  return { wMin, wMax };
}

/**
 * Throws unless `lr` is a number in [0, FLOAT32_MAX]: the updates multiply by η as a float32
 * scalar, and a larger η rounds to +∞ there (∞·0 = NaN for every zero gradient entry).
 */
export function checkLearningRate(lr: number): number {
  checkFinite('learningRate', lr);
  if (!(lr >= 0 && lr <= FLOAT32_MAX)) throw new CinderArgumentError('learningRate', lr, `a number in [0, ${FLOAT32_MAX}] (finite in float32)`);
  return lr;
}

/**
 * The learning rate and weight bounds shared by the optimizers: η is checked on every assignment
 * (a finite number ≥ 0), the bounds once (`wMin < wMax`, ±Infinity for none).
 */
export abstract class BoundedOptimizer {
  private lr: number;
  /** Lower weight bound. */
  readonly wMin: number;
  /** Upper weight bound. */
  readonly wMax: number;

  /** @param options learning rate (default 1e-3) and bounds */
  protected constructor(options: WeightBounds & { learningRate?: number }) {
    this.lr = checkLearningRate(options.learningRate ?? 1e-3);
    const { wMin, wMax } = resolveBounds(options);
    this.wMin = wMin;
    this.wMax = wMax;
  }

  /** Learning rate η (a finite number >= 0; checked on every assignment). */
  get learningRate(): number {
    return this.lr;
  }

  /** Sets η (a finite number >= 0; anything else throws and leaves η unchanged). */
  set learningRate(value: number) {
    this.lr = checkLearningRate(value);
  }
}

/**
 * Throws unless update `index` can be applied: a float32 variable and a float32, int32 or bool
 * gradient, neither disposed, of the same shape. Optimizers check every update before changing
 * anything, so that a failed step changes no variable, moment or counter.
 */
export function checkUpdate(u: VariableGradient, index: number): void {
  const variable = u?.variable as tf.Variable | undefined;
  const gradient = u?.gradient as tf.Tensor | undefined;
  if (variable === null || typeof variable !== 'object' || typeof variable.assign !== 'function' || variable.isDisposed || variable.dtype !== 'float32') {
    throw new CinderArgumentError(`updates[${index}].variable`, variable, 'a float32 tf.Variable (not disposed)');
  }
  if (gradient === null || typeof gradient !== 'object' || !Array.isArray(gradient.shape) || gradient.isDisposed || !['float32', 'int32', 'bool'].includes(gradient.dtype)) {
    throw new CinderArgumentError(`updates[${index}].gradient`, gradient, 'a float32, int32 or bool tensor (not disposed)');
  }
  const a = u.variable.shape;
  const b = u.gradient.shape;
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new CinderArgumentError(`updates[${index}].gradient`, u.gradient, `shape [${a.join(', ')}] (the variable's shape)`);
  }
}

/**
 * {@link checkUpdate} for every update of one step, and no variable listed twice (it would move, and
 * its moments advance, twice in one step): throws before anything changes.
 */
export function checkUpdates(updates: readonly VariableGradient[]): void {
  const seen = new Map<tf.Variable, number>();
  updates.forEach((u, i) => {
    checkUpdate(u, i);
    const first = seen.get(u.variable);
    if (first !== undefined) throw new CinderArgumentError(`updates[${i}].variable`, u.variable, `a variable not listed before in the same step (updates[${first}] has it)`);
    seen.set(u.variable, i);
  });
}
