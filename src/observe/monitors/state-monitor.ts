/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import type { Observer } from '../../neural/types.js';
import type { Reducer } from '../reducers/reducer.js';
import { Schedule, type ObserveOptions } from './schedule.js';

/**
 * Reads one piece of state through a typed accessor (e.g. `() => neuron.spike`) and folds it into a
 * reducer. Attach it to a layer, which calls {@link observe} after its neurons stepped.
 *
 * ```ts
 * const trace = new StateMonitor(() => lif.spike, new CumulativeTraceReducer({ dt: 1, tau: 20 }));
 * // per step, after the layer ran: trace.latest is x(t)
 * ```
 */
export class StateMonitor<R extends Reducer<[tf.Tensor]> = Reducer<[tf.Tensor]>> implements Observer {
  /** The reducer holding the folded state (owned by the monitor). */
  readonly reducer: R;
  /** When true (default) the layer calls {@link observe} only in training mode. */
  readonly trainOnly: boolean;
  private readonly accessor: () => tf.Tensor;
  private readonly schedule: Schedule;

  /**
   * @param accessor returns the observed tensor (not disposed by the monitor)
   * @param reducer folds the observations; the monitor takes ownership
   * @param options `every` (fold on every n-th call) and `trainOnly` (default true)
   */
  constructor(accessor: () => tf.Tensor, reducer: R, options: ObserveOptions = {}) {
    if (typeof accessor !== 'function') throw new CinderArgumentError('accessor', accessor, 'a function returning a tensor');
    this.accessor = accessor;
    this.reducer = reducer;
    this.trainOnly = options.trainOnly ?? true;
    this.schedule = new Schedule(options.every);
  }

  /** Fold on every n-th call. */
  get every(): number {
    return this.schedule.every;
  }

  /** Reads the state and folds it (on every n-th call). */
  observe(): void {
    if (!this.schedule.tick()) return;
    tf.tidy(() => this.reducer.fold(this.accessor()));
  }

  /** The reducer's newest value. */
  get latest(): tf.Tensor {
    return this.reducer.latest;
  }

  /** Clears the reducer and restarts the call count. */
  clear(): void {
    this.reducer.clear();
    this.schedule.reset();
  }

  /** Frees the reducer. */
  dispose(): void {
    this.reducer.dispose();
  }
}
