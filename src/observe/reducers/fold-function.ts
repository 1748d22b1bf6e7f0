/**
 * @module
 */
import type { tf } from '../../core/tf.js';
import { CinderArgumentError, checkOptionKeys } from '../../core/errors.js';
import { REDUCER_OPTION_KEYS, Reducer, type ReducerOptions } from './reducer.js';

/**
 * A fold step: the new value from this step's observations and the previous value (`null` on the
 * first fold). Called inside `tf.tidy`; create constant scalars outside it, once.
 */
export type FoldFunction<A extends readonly tf.Tensor[]> = (observations: A, previous: tf.Tensor | null) => tf.Tensor;

/**
 * A reducer defined by a user fold function over several observations, e.g. an eligibility trace
 * `z ← α_z·z + c·Σ_R pre·post` folding a presynaptic trace and postsynaptic spikes
 * (`new FoldFunctionReducer<[tf.Tensor, tf.Tensor]>(([x, s], z) => …)`), usually driven by a
 * {@link MultiStateMonitor}.
 */
export class FoldFunctionReducer<A extends readonly tf.Tensor[] = [tf.Tensor]> extends Reducer<A> {
  private readonly fn: FoldFunction<A>;

  /**
   * @param fn the fold step
   * @param options history length
   */
  constructor(fn: FoldFunction<A>, options: ReducerOptions = {}) {
    if (new.target === FoldFunctionReducer) checkOptionKeys('options', options, REDUCER_OPTION_KEYS);
    super(options);
    if (typeof fn !== 'function') throw new CinderArgumentError('fn', fn, 'a fold function (observations, previous) => tensor');
    this.fn = fn;
  }

  protected compute(observations: A, previous: tf.Tensor | null): tf.Tensor {
    return this.fn(observations, previous);
  }
}
