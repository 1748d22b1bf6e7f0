/**
 * @module
 */
import type { tf as TF } from '../../core/tf.js';
import { tf } from '../../core/tf.js';
import { Matcher } from '../criterion.js';
import { Reducer, checkSameShape } from './reducer.js';
import { TraceConstants, type MatchTraceOptions } from './trace-options.js';

/**
 * All-to-all exponential trace: `x(t) = α·x(t − Δt) + A·[match(h(t))]`, α = exp(−Δt/τ).
 * The first fold gives `A·[match]` (as if starting from 0). Float32 operation order is that of
 * Inferno: `(α·x) + (A·m)`, two multiplications and one addition, so results are bit-identical.
 */
export class CumulativeTraceReducer extends Reducer<[TF.Tensor]> {
  /** Step length (ms). */
  readonly dt: number;
  /** Time constant (ms). */
  readonly tau: number;
  /** Decay per step exp(−Δt/τ) in float64 (the uploaded constant is its float32 rounding). */
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
    const inc = tf.mul(this.c.amplitude, this.matcher.float(h));
    return prev === null ? inc : tf.add(tf.mul(this.c.decay, prev), inc);
  }

  protected override disposeConstants(): void {
    this.c.dispose();
    this.matcher.dispose();
  }
}
