/**
 * @module
 */
import type { tf } from '../../core/tf.js';
import { CinderArgumentError, checkOptionKeys } from '../../core/errors.js';
import type { Reducer } from '../reducers/reducer.js';
import { MultiStateMonitor } from './multi-state-monitor.js';
import { OBSERVE_OPTION_KEYS, type ObserveOptions } from './schedule.js';

/**
 * Reads one piece of state through a typed accessor (e.g. `() => neuron.spike`) and folds it into a
 * reducer: a {@link MultiStateMonitor} with a single accessor. Attach it to a layer, which calls
 * `observe()` after its neurons stepped.
 *
 * ```ts
 * const trace = new StateMonitor(() => lif.spike, new CumulativeTraceReducer({ dt: 1, tau: 20 }));
 * // per step, after the layer ran: trace.latest is x(t)
 * ```
 */
export class StateMonitor<R extends Reducer<[tf.Tensor]> = Reducer<[tf.Tensor]>> extends MultiStateMonitor<[tf.Tensor], R> {
  /**
   * @param accessor returns the observed tensor (not disposed by the monitor)
   * @param reducer folds the observations; the monitor takes ownership
   * @param options `every` (fold on every n-th call) and `trainOnly` (default true)
   */
  constructor(accessor: () => tf.Tensor, reducer: R, options: ObserveOptions = {}) {
    if (typeof accessor !== 'function') throw new CinderArgumentError('accessor', accessor, 'a function returning a tensor');
    if (new.target === StateMonitor) checkOptionKeys('options', options, OBSERVE_OPTION_KEYS);
    super([accessor], reducer, options);
  }
}
