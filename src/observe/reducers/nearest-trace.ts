/**
 * @module
 */
import type { tf as TF } from '../../core/tf.js';
import { tf } from '../../core/tf.js';
import { Matcher } from '../criterion.js';
import { Reducer, checkSameShape } from './reducer.js';
import { TraceConstants, type MatchTraceOptions } from './trace-options.js';

/**
 * Nearest-neighbour exponential trace: `x(t) = A` where `h(t)` matches, else `α·x(t − Δt)`,
 * α = exp(−Δt/τ). The first fold gives `A·[match]`.
 */
export class NearestTraceReducer extends Reducer<[TF.Tensor]> {
  /** Step length (ms). */
  readonly dt: number;
  /** Time constant (ms). */
  readonly tau: number;
  /** Decay per step exp(−Δt/τ) in float64. */
  readonly decay: number;
  /** Amplitude A. */
  readonly amplitude: number;
  private readonly c: TraceConstants;
  private readonly matcher: Matcher;

  /** @param options see {@link MatchTraceOptions} */
  constructor(options: MatchTraceOptions) {
    super(options);
    this.c = new TraceConstants(options);
    this.dt = options.dt;
    this.tau = options.tau;
    this.decay = Math.exp(-options.dt / options.tau);
    this.amplitude = options.amplitude ?? 1;
    this.matcher = new Matcher(options.criterion);
  }

  protected compute([h]: [TF.Tensor], prev: TF.Tensor | null): TF.Tensor {
    checkSameShape('observation', h, prev);
    if (prev === null) return tf.mul(this.c.amplitude, this.matcher.float(h));
    return tf.where(this.matcher.bool(h), this.c.amplitude, tf.mul(this.c.decay, prev));
  }

  protected override disposeConstants(): void {
    this.c.dispose();
    this.matcher.dispose();
  }
}
