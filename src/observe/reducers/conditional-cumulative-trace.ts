/**
 * @module
 */
import type { tf as TF } from '../../core/tf.js';
import { checkSameShape } from './reducer.js';
import { ScaledValueTraceReducer } from './scaled-value-trace-reducer.js';
import type { ConditionalTraceOptions } from './trace-options.js';

/**
 * Exponential trace that takes a value scaled by the observation, on a match of the separate condition input `c` (`fold(h, c)`):
 * `x(t) = α·x(t − Δt) + (s·h(t) + A)·[match]`, α = exp(−Δt/τ). The first fold starts from 0.
 */
export class ConditionalCumulativeTraceReducer extends ScaledValueTraceReducer<[TF.Tensor, TF.Tensor]> {
  /** @param options see {@link ConditionalTraceOptions} */
  constructor(options: ConditionalTraceOptions) {
    super(options, false);
  }

  protected compute([h, cnd]: [TF.Tensor, TF.Tensor], prev: TF.Tensor | null): TF.Tensor {
    checkSameShape('observation', h, prev);
    checkSameShape('condition', cnd, h);
    return this.cumulative(this.scaledValue(h), cnd, prev);
  }
}
