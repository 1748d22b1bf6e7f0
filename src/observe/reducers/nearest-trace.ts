/**
 * @module
 */
import type { tf as TF } from '../../core/tf.js';
import { checkSameShape } from './reducer.js';
import { ExponentialTraceReducer } from './exponential-trace-reducer.js';
import type { MatchTraceOptions } from './trace-options.js';

/**
 * Nearest-neighbour exponential trace: `x(t) = A` where `h(t)` matches, else `α·x(t − Δt)`,
 * α = exp(−Δt/τ). The first fold gives `A·[match]`.
 */
export class NearestTraceReducer extends ExponentialTraceReducer<[TF.Tensor]> {
  /** @param options see {@link MatchTraceOptions} */
  constructor(options: MatchTraceOptions) {
    super(options, 1);
  }

  protected compute([h]: [TF.Tensor], prev: TF.Tensor | null): TF.Tensor {
    checkSameShape('observation', h, prev);
    return this.nearest(this.c.amplitude, h, prev);
  }
}
