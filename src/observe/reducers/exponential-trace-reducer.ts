/**
 * The shared base of the exponential trace reducers.
 * @module
 */
import type { tf as TF } from '../../core/tf.js';
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import { Matcher, type Criterion } from '../criterion.js';
import { Reducer } from './reducer.js';
import { TraceConstants, type TraceOptions } from './trace-options.js';

/**
 * Base of the exponential traces (decay α = exp(−Δt/τ) per fold). It holds the constants and the
 * match criterion; a concrete trace chooses the value taken on a match and how it combines with
 * the decayed trace: {@link ExponentialTraceReducer.cumulative} (added) or
 * {@link ExponentialTraceReducer.nearest} (replaces it).
 */
export abstract class ExponentialTraceReducer<A extends readonly TF.Tensor[]> extends Reducer<A> {
  /** Step length (ms). */
  readonly dt: number;
  /** Time constant (ms). */
  readonly tau: number;
  /** Decay per step exp(−Δt/τ) in float64 (the uploaded constant is its float32 rounding). */
  readonly decay: number;
  /** Amplitude A. */
  readonly amplitude: number;
  /** The uploaded constants α, A and s. */
  protected readonly c: TraceConstants;
  /** The match criterion. */
  protected readonly matcher: Matcher;

  /**
   * @param options trace options (`scale` is validated when given)
   * @param defaultAmplitude A when `options.amplitude` is not given
   * @param requireCriterion throw when `options.criterion` is missing (scaled traces)
   */
  protected constructor(
    options: TraceOptions & { scale?: number; criterion?: Criterion },
    defaultAmplitude: number,
    requireCriterion = false,
  ) {
    super(options);
    if (requireCriterion && options.criterion === undefined) {
      throw new CinderArgumentError('criterion', undefined, 'a function or { target, tolerance? } (required for scaled traces)');
    }
    this.c = new TraceConstants({ ...options, amplitude: options.amplitude ?? defaultAmplitude });
    this.dt = options.dt;
    this.tau = options.tau;
    this.decay = Math.exp(-options.dt / options.tau);
    this.amplitude = options.amplitude ?? defaultAmplitude;
    this.matcher = new Matcher(options.criterion);
  }

  /**
   * All-to-all fold `α·x + value·[match(on)]` (float32 order `(α·x) + (value·m)`, as Inferno);
   * the first fold (`prev` null) gives `value·[match(on)]`.
   */
  protected cumulative(value: TF.Tensor, on: TF.Tensor, prev: TF.Tensor | null): TF.Tensor {
    const inc = tf.mul(value, this.matcher.float(on));
    return prev === null ? inc : tf.add(tf.mul(this.c.decay, prev), inc);
  }

  /**
   * Nearest-neighbour fold: `value` where `on` matches, else `α·x`; the first fold (`prev` null)
   * gives `value·[match(on)]`.
   */
  protected nearest(value: TF.Tensor, on: TF.Tensor, prev: TF.Tensor | null): TF.Tensor {
    if (prev === null) return tf.mul(value, this.matcher.float(on));
    return tf.where(this.matcher.bool(on), value, tf.mul(this.c.decay, prev));
  }

  protected override disposeConstants(): void {
    this.c.dispose();
    this.matcher.dispose();
  }
}
