/**
 * @module
 */
import type { tf as TF } from '../../core/tf.js';
import { checkSameShape } from './reducer.js';
import { ScaledValueTraceReducer } from './scaled-value-trace-reducer.js';
import type { ScaledTraceOptions } from './trace-options.js';

/**
 * Exponential trace that takes a value scaled by the observation, on a match of the observation `h` itself:
 * `x(t) = α·x(t − Δt) + (s·h(t) + A)·[match]`, α = exp(−Δt/τ). The first fold starts from 0.
 */
export class ScaledCumulativeTraceReducer extends ScaledValueTraceReducer<[TF.Tensor]> {
  /** @param options see {@link ScaledTraceOptions} */
  constructor(options: ScaledTraceOptions) {
    super(options, true);
  }

  protected compute([h]: [TF.Tensor], prev: TF.Tensor | null): TF.Tensor {
    checkSameShape('observation', h, prev);
    return this.cumulative(this.scaledValue(h), h, prev);
  }
}
