/**
 * Weight dependence (bounding): functions that scale the pending potentiation Σpos and depression
 * Σneg of an `Accumulator` by how far the parameter P is from its bounds, applied when the
 * update is applied (`P ← P + upper(P, Σpos) − lower(P, Σneg)`).
 *
 * | family | upper (scales pos) | lower (scales neg) |
 * |---|---|---|
 * | `power` (soft) | (P_max − P)^μ₊·U₊ | (P − P_min)^μ₋·U₋ |
 * | `scaled-power` | ((P_max − P)/(P_max − P_min))^μ₊·U₊ | ((P − P_min)/(P_max − P_min))^μ₋·U₋ |
 * | `multiplicative` | (P_max − P)·U₊ | (P − P_min)·U₋ |
 * | `scaled-multiplicative` | (P_max − P)/(P_max − P_min)·U₊ | (P − P_min)/(P_max − P_min)·U₋ |
 * | `hard` (sharp) | Θ(P_max − P)·U₊, Θ(0) = 1 | Θ(P − P_min)·U₋ |
 *
 * A bounding acts on the upper side, the lower side or both ("full"): see {@link BoundingOptions.side}.
 * A side that does not act leaves its part unchanged.
 *
 * Outside its bounds (P > P_max or P < P_min, e.g. initial weights drawn wider than the bounds) a
 * power family's base is negative: for a non-integer μ the factor is NaN (IEEE `pow`, as Inferno's
 * `torch.pow`), and for an even μ it is positive, so that side pushes P further out. Both are
 * the documented formula, on the op path, the fused wasm/cpu kernel and the webgpu update program
 * alike (WGSL's `pow` of a negative base is undefined, so that program applies IEEE `pow`'s rule
 * itself); keep P inside its bounds (a clamp) with such exponents. A NaN reaches the weights, where
 * the run's finite check reports it.
 * @module
 */
import { tf } from '../core/tf.js';
import { CinderArgumentError, checkFinite, checkOneOf, checkPositive, checkOptionKeys, optionKeys } from '../core/errors.js';

/** The bounding families. `'sharp'` is an alias of `'hard'`, `'soft'` of `'multiplicative'`. */
export const BOUNDING_KINDS = ['hard', 'sharp', 'multiplicative', 'soft', 'scaled-multiplicative', 'power', 'scaled-power'] as const;
/** One of {@link BOUNDING_KINDS}. */
export type BoundingKind = (typeof BOUNDING_KINDS)[number];
/** Which parts a bounding scales: Σpos (`upper`), Σneg (`lower`) or both (`full`). */
export type BoundingSide = 'upper' | 'lower' | 'full';

/** Options of {@link Bounding}. */
export interface BoundingOptions {
  /** Upper bound P_max (needed for the upper side and by the scaled families). */
  max?: number;
  /** Lower bound P_min (needed for the lower side and by the scaled families). */
  min?: number;
  /**
   * Sides that act. Default: `full` when both `max` and `min` are given, otherwise the side whose
   * bound is given. The scaled families need both bounds (for the range P_max − P_min) on any side.
   */
  side?: BoundingSide;
  /** Exponent μ₊ of the upper side for the power families (default `power`, else 1). */
  powerUpper?: number;
  /** Exponent μ₋ of the lower side for the power families (default `power`, else 1). */
  powerLower?: number;
  /** Exponent for both sides of the power families (default 1). */
  power?: number;
}

/** The keys of {@link BoundingOptions}. */
export const BOUNDING_OPTION_KEYS = optionKeys<BoundingOptions>()(['max', 'min', 'side', 'powerUpper', 'powerLower', 'power']);

/**
 * A weight-dependence rule. Holds its constants as scalars uploaded once (float64 → float32).
 * Install it with `updater.bound(name, bounding)` (or set `accumulator.bounding`).
 */
export class Bounding {
  /** The family (aliases resolved: `hard`, `multiplicative`, `scaled-multiplicative`, `power`, `scaled-power`). */
  readonly kind: 'hard' | 'multiplicative' | 'scaled-multiplicative' | 'power' | 'scaled-power';
  /** Which parts are scaled. */
  readonly side: BoundingSide;
  /** P_max, when given. */
  readonly max: number | undefined;
  /** P_min, when given. */
  readonly min: number | undefined;
  /** μ₊ (power families). */
  readonly powerUpper: number;
  /** μ₋ (power families). */
  readonly powerLower: number;
  private readonly cMax: tf.Scalar | null;
  private readonly cMin: tf.Scalar | null;
  private readonly cRange: tf.Scalar | null;
  private readonly cMuUp: tf.Scalar;
  private readonly cMuLo: tf.Scalar;
  private readonly cZero: tf.Scalar;

  /**
   * Creates a bounding and uploads its constants.
   * @param kind the family (see the module table)
   * @param options bounds, side and exponents
   */
  constructor(kind: BoundingKind, options: BoundingOptions = {}) {
    checkOneOf('kind', kind, BOUNDING_KINDS);
    if (new.target === Bounding) checkOptionKeys('options', options, BOUNDING_OPTION_KEYS);
    this.kind = kind === 'sharp' ? 'hard' : kind === 'soft' ? 'multiplicative' : kind;
    const { max, min } = options;
    if (max !== undefined) checkFinite('max', max);
    if (min !== undefined) checkFinite('min', min);
    if (max === undefined && min === undefined) throw new CinderArgumentError('max/min', undefined, 'at least one bound (max for the upper side, min for the lower side)');
    const side = options.side ?? (max !== undefined && min !== undefined ? 'full' : max !== undefined ? 'upper' : 'lower');
    checkOneOf('side', side, ['upper', 'lower', 'full'] as const);
    if ((side === 'upper' || side === 'full') && max === undefined) throw new CinderArgumentError('max', max, `a finite number (side "${side}" bounds potentiation)`);
    if ((side === 'lower' || side === 'full') && min === undefined) throw new CinderArgumentError('min', min, `a finite number (side "${side}" bounds depression)`);
    const scaled = this.kind === 'scaled-multiplicative' || this.kind === 'scaled-power';
    if (scaled && (max === undefined || min === undefined)) {
      throw new CinderArgumentError(max === undefined ? 'max' : 'min', undefined, `a finite number (the ${this.kind} bounding divides by max − min)`);
    }
    if (max !== undefined && min !== undefined && !(max > min)) throw new CinderArgumentError('max', max, `a number > min (${min})`);
    this.side = side;
    this.max = max;
    this.min = min;
    const mu = options.power ?? 1;
    this.powerUpper = checkPositive('powerUpper', options.powerUpper ?? mu);
    this.powerLower = checkPositive('powerLower', options.powerLower ?? mu);
    this.cMax = max !== undefined ? tf.keep(tf.scalar(max)) : null;
    this.cMin = min !== undefined ? tf.keep(tf.scalar(min)) : null;
    this.cRange = max !== undefined && min !== undefined ? tf.keep(tf.scalar(max - min)) : null;
    this.cMuUp = tf.keep(tf.scalar(this.powerUpper));
    this.cMuLo = tf.keep(tf.scalar(this.powerLower));
    this.cZero = tf.keep(tf.scalar(0));
  }

  /** True when Σpos is scaled. */
  get boundsUpper(): boolean {
    return this.side !== 'lower';
  }

  /** True when Σneg is scaled. */
  get boundsLower(): boolean {
    return this.side !== 'upper';
  }

  /** The bounded potentiation for parameter `p` (new tensor; call inside `tf.tidy`). */
  upper(p: tf.Tensor, pos: tf.Tensor): tf.Tensor {
    if (!this.boundsUpper) return pos;
    const dist = tf.sub(this.cMax!, p); // P_max − P
    return tf.mul(this.factor(dist, this.cMuUp), pos);
  }

  /** The bounded depression for parameter `p` (new tensor; call inside `tf.tidy`). */
  lower(p: tf.Tensor, neg: tf.Tensor): tf.Tensor {
    if (!this.boundsLower) return neg;
    const dist = tf.sub(p, this.cMin!); // P − P_min
    return tf.mul(this.factor(dist, this.cMuLo), neg);
  }

  /** The net update `upper(P, Σpos) − lower(P, Σneg)`; a missing side counts as 0. */
  bind(p: tf.Tensor, pos: tf.Tensor | null, neg: tf.Tensor | null): tf.Tensor {
    const up = pos ? this.upper(p, pos) : null;
    const lo = neg ? this.lower(p, neg) : null;
    if (up && lo) return tf.sub(up, lo);
    if (up) return up;
    if (lo) return tf.neg(lo);
    return tf.zerosLike(p);
  }

  private factor(dist: tf.Tensor, mu: tf.Scalar): tf.Tensor {
    switch (this.kind) {
      case 'hard':
        return tf.cast(tf.greaterEqual(dist, this.cZero), 'float32');
      case 'multiplicative':
        return dist;
      case 'scaled-multiplicative':
        return tf.div(dist, this.cRange!);
      case 'power':
        return tf.pow(dist, mu);
      case 'scaled-power':
        return tf.pow(tf.div(dist, this.cRange!), mu);
    }
  }

  /** Frees the constant scalars. */
  dispose(): void {
    for (const c of [this.cMax, this.cMin, this.cRange, this.cMuUp, this.cMuLo, this.cZero]) c?.dispose();
  }
}
