/**
 * @module
 */
import type { tf as TF } from '../../core/tf.js';
import { tf } from '../../core/tf.js';
import { Matcher } from '../criterion.js';
import { Reducer, checkSameShape } from './reducer.js';
import { TraceConstants, type ConditionalTraceOptions } from './trace-options.js';

/**
 * Exponential trace that takes a value scaled by the observation, on a match of the separate condition input `c` (`fold(h, c)`):
 * `x(t) = s·h(t) + A` where it matches, else `α·x(t − Δt)`, α = exp(−Δt/τ). The first fold starts from 0.
 */
export class ConditionalNearestTraceReducer extends Reducer<[TF.Tensor, TF.Tensor]> {
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

  /** @param options see {@link ConditionalTraceOptions} */
  constructor(options: ConditionalTraceOptions) {
    super(options);
    this.c = new TraceConstants({ ...options, amplitude: options.amplitude ?? 0 });
    this.dt = options.dt;
    this.tau = options.tau;
    this.decay = Math.exp(-options.dt / options.tau);
    this.amplitude = options.amplitude ?? 0;
    this.scale = options.scale ?? 1;
    this.matcher = new Matcher(options.criterion);
  }

  protected compute([h, cnd]: [TF.Tensor, TF.Tensor], prev: TF.Tensor | null): TF.Tensor {
    checkSameShape('observation', h, prev);
    checkSameShape('condition', cnd, h);
    const v = tf.add(tf.mul(this.c.scale, h), this.c.amplitude);
    if (prev === null) return tf.mul(v, this.matcher.float(cnd));
    return tf.where(this.matcher.bool(cnd), v, tf.mul(this.c.decay, prev));
  }

  protected override disposeConstants(): void {
    this.c.dispose();
    this.matcher.dispose();
  }
}
