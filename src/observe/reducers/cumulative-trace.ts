/**
 * @module
 */
import type { tf as TF } from '../../core/tf.js';
import { checkSameShape } from './reducer.js';
import { ExponentialTraceReducer } from './exponential-trace-reducer.js';
import type { MatchTraceOptions } from './trace-options.js';

/**
 * All-to-all exponential trace: `x(t) = α·x(t − Δt) + A·[match(h(t))]`, α = exp(−Δt/τ).
 * The first fold gives `A·[match]` (as if starting from 0). Float32 operation order is that of
 * Inferno: `(α·x) + (A·m)`, two multiplications and one addition, so results are bit-identical.
 */
export class CumulativeTraceReducer extends ExponentialTraceReducer<[TF.Tensor]> {
  /** @param options see {@link MatchTraceOptions} */
  constructor(options: MatchTraceOptions) {
    super(options, 1);
  }

  protected compute([h]: [TF.Tensor], prev: TF.Tensor | null): TF.Tensor {
    checkSameShape('observation', h, prev);
    return this.cumulative(this.c.amplitude, h, prev);
  }
}
