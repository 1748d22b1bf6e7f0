/**
 * @module
 */
import { share, type tf } from '../../core/tf.js';
import { REDUCER_OPTION_KEYS, Reducer, type ReducerOptions } from './reducer.js';
import { checkOptionKeys } from '../../core/errors.js';

/**
 * Keeps the raw observations: `latest` is the last observation, `ago(k)` the one `k` folds earlier.
 * Observations are shared ({@link share}: a new handle, no data copy), so later changes to the observed state do not affect them.
 */
export class PassthroughReducer extends Reducer<[tf.Tensor]> {
  /** @param options history length */
  constructor(options: ReducerOptions = {}) {
    if (new.target === PassthroughReducer) checkOptionKeys('options', options, REDUCER_OPTION_KEYS);
    super(options);
  }

  /** The first observation's shape (elementwise: the value has the observation's shape). */
  override valueShape(shapes: readonly (readonly number[])[]): readonly number[] | null {
    return shapes[0] ?? null;
  }

  protected compute([h]: [tf.Tensor]): tf.Tensor {
    return share(h);
  }
}
