/**
 * @module
 */
import type { tf as TF } from '../../core/tf.js';
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import { Matcher } from '../criterion.js';
import { Reducer, checkSameShape } from './reducer.js';
import { TraceConstants, type ScaledTraceOptions } from './trace-options.js';

/**
 * Exponential trace that takes a value scaled by the observation, on a match of the observation `h` itself:
 * `x(t) = s·h(t) + A` where it matches, else `α·x(t − Δt)`, α = exp(−Δt/τ). The first fold starts from 0.
 */
export class ScaledNearestTraceReducer extends Reducer<[TF.Tensor]> {
  /** Step length (ms). */
  readonly dt: number;
  /** Time constant (ms). */
  readonly tau: number;
  /** Decay per step exp(−Δt/τ) in float64. */
  readonly decay: number;
  /** Amplitude A (default 0). */
  readonly amplitude: number;
  /** Scale s. */
  readonly scale: number;
  private readonly c: TraceConstants;
  private readonly matcher: Matcher;

  /** @param options see {@link ScaledTraceOptions} */
  constructor(options: ScaledTraceOptions) {
    super(options);
    if (options.criterion === undefined) throw new CinderArgumentError('criterion', undefined, 'a function or { target, tolerance? } (required for scaled traces)');
    this.c = new TraceConstants({ ...options, amplitude: options.amplitude ?? 0 });
    this.dt = options.dt;
    this.tau = options.tau;
    this.decay = Math.exp(-options.dt / options.tau);
    this.amplitude = options.amplitude ?? 0;
    this.scale = options.scale ?? 1;
    this.matcher = new Matcher(options.criterion);
  }

  protected compute([h]: [TF.Tensor], prev: TF.Tensor | null): TF.Tensor {
    checkSameShape('observation', h, prev);
    const v = tf.add(tf.mul(this.c.scale, h), this.c.amplitude);
    if (prev === null) return tf.mul(v, this.matcher.float(h));
    return tf.where(this.matcher.bool(h), v, tf.mul(this.c.decay, prev));
  }

  protected override disposeConstants(): void {
    this.c.dispose();
    this.matcher.dispose();
  }
}
