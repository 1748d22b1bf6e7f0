/**
 * Fold reducers: the "state over time" primitive of monitors. Each {@link Reducer.fold} combines the
 * new observation(s) with the previous value into a new value, which is kept in a fixed-length
 * history (a ring of tensor references; memory never grows past it).
 * @module
 */
import type { Snapshot } from '../../core/snapshot.js';
import { share, tf } from '../../core/tf.js';
import { CinderArgumentError, checkInteger, optionKeys } from '../../core/errors.js';
import { TensorRing } from '../ring.js';

/** Options shared by all reducers. */
export interface ReducerOptions {
  /** Number of past values kept (integer >= 1, default 1 = only the latest). */
  history?: number;
}

/** The keys of {@link ReducerOptions}. */
export const REDUCER_OPTION_KEYS = optionKeys<ReducerOptions>()(['history']);

/**
 * Base of every reducer. `A` is the tuple of observations one fold takes (most reducers: one tensor).
 *
 * Values handed out by {@link latest}, {@link ago} belong to the reducer and stay valid until they
 * drop out of the history (with `history = 1`: until the next fold); clone them to keep them longer.
 */
export abstract class Reducer<A extends readonly tf.Tensor[] = [tf.Tensor]> {
  private readonly ring: TensorRing;
  private folds = 0;

  /** @param options see {@link ReducerOptions} */
  constructor(options: ReducerOptions = {}) {
    const history = options.history ?? 1;
    checkInteger('history', history, 1);
    this.ring = new TensorRing(history);
  }

  /**
   * Computes the next value from the observations and the previous value (`null` on the first fold).
   * Runs inside `tf.tidy`; must return a tensor. A tensor it did not create in this call (an input,
   * the previous value, a constant made once outside) is handed over as a new handle on its data
   * ({@link share}, no copy): the reducer owns and frees only its own handles.
   */
  protected abstract compute(observations: A, previous: tf.Tensor | null): tf.Tensor;

  /**
   * Folds the observations into the state and appends the result to the history. Observations are
   * not disposed. A fold whose computation throws or returns something other than a tensor changes nothing.
   */
  fold(...observations: A): void {
    const previous = this.ring.size > 0 ? this.ring.ago(0) : null;
    const next = tf.tidy(() => {
      const r = this.compute(observations, previous);
      if (!(r instanceof tf.Tensor)) throw new CinderArgumentError('fold result', r, 'a tensor (the new value)');
      // a tensor made before this fold (an input, the previous value, a constant) is not ours to free
      const made = (tf.engine().state.activeScope?.track as readonly tf.Tensor[] | undefined)?.includes(r) ?? false;
      return made && r !== previous && !observations.includes(r) ? r : share(r);
    });
    this.ring.push(tf.keep(next));
    this.folds++;
  }

  /** The newest value (owned by the reducer). Throws before the first fold. */
  get latest(): tf.Tensor {
    return this.ring.ago(0);
  }

  /** The value `k` folds ago (0 = latest), `0 <= k < size`. */
  ago(k: number): tf.Tensor {
    return this.ring.ago(k);
  }

  /** The kept history stacked oldest first: a new tensor `[size, ...]` owned by the caller. */
  stack(): tf.Tensor {
    return this.ring.stack();
  }

  /** Number of values currently in the history. */
  get size(): number {
    return this.ring.size;
  }

  /** Length of the history (the `history` option). */
  get capacity(): number {
    return this.ring.capacity;
  }

  /** Number of folds since construction or the last {@link clear}. */
  get count(): number {
    return this.folds;
  }

  /** Forgets all values: the next fold is a first fold again. */
  clear(): void {
    this.ring.clear();
    this.folds = 0;
  }

  /**
   * The kept history (handles of the caller's own on the values' data, no copy — tfjs tensors are
   * immutable; oldest first, as `h0`, `h1`, …) and the fold count, for checkpoints
   * (see `src/core/snapshot.ts`).
   */
  snapshotState(): Snapshot {
    const tensors: Record<string, tf.Tensor> = {};
    this.ring.items().forEach((t, i) => (tensors[`h${i}`] = share(t)));
    return { tensors, values: { folds: this.folds } };
  }

  /**
   * Restores a history captured by {@link snapshotState} (the reducer takes its own handles on the
   * tensors' data; the caller still owns and frees the snapshot's); checks everything
   * (consecutive entries of one shape, the fold count, at least one entry when it is > 0) before
   * changing anything.
   */
  restoreState(s: Snapshot): void {
    const n = Object.keys(s.tensors).length;
    if (n > this.ring.capacity) throw new CinderArgumentError('snapshot history', n, `at most ${this.ring.capacity} values (the reducer's history)`);
    const folds = s.values.folds;
    if (typeof folds !== 'number' || !Number.isInteger(folds) || folds < n) throw new CinderArgumentError('snapshot folds', folds, `an integer >= ${n}`);
    // a reducer that folded holds at least its latest value (the next fold continues from it)
    if (folds > 0 && n === 0) throw new CinderArgumentError('snapshot history', 'none', `at least the latest value h0 (the snapshot counts ${folds} folds)`);
    const history = Array.from({ length: n }, (_, i) => {
      const t = s.tensors[`h${i}`];
      if (!t) throw new CinderArgumentError('snapshot history', `h${i}`, 'consecutive entries h0, h1, …');
      return t;
    });
    for (const [i, t] of history.entries()) {
      if (!tf.util.arraysEqual(t.shape, history[0]!.shape)) throw new CinderArgumentError(`snapshot history h${i}`, t, `shape [${history[0]!.shape.join(', ')}] (the shape of h0)`);
    }
    this.ring.clear();
    for (const t of history) this.ring.push(tf.keep(share(t)));
    this.folds = folds;
  }

  /**
   * The shape of the value one fold of observations of shapes `shapes` makes, where the reducer
   * knows it, else null. Default null (e.g. a fold function may change shapes); elementwise reducers
   * (traces, EMA, CA, event, passthrough) return the first observation's shape. Monitors use it to
   * refuse restored values that their next fold would reject (see `MultiStateMonitor.restoreState`).
   */
  valueShape(shapes: readonly (readonly number[])[]): readonly number[] | null {
    void shapes;
    return null;
  }

  /** Frees the history and the reducer's constants. */
  dispose(): void {
    this.ring.clear();
    this.disposeConstants();
  }

  /** Frees constant tensors created by the subclass (default: none). */
  protected disposeConstants(): void {}
}

/** Throws unless `obs` has the same shape as the previous value `prev` (elementwise reducers). */
export function checkSameShape(param: string, obs: tf.Tensor, prev: tf.Tensor | null): void {
  if (prev === null) return;
  const a = obs.shape;
  const b = prev.shape;
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new CinderArgumentError(param, obs, `shape [${b.join(', ')}] (the shape of earlier observations; call clear() to change it)`);
  }
}
