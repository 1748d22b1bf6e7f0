/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { disposeSnapshot, type Snapshot } from '../../core/snapshot.js';
import { CinderArgumentError, checkOptionKeys } from '../../core/errors.js';
import type { Observer } from '../../neural/types.js';
import type { Reducer } from '../reducers/reducer.js';
import { OBSERVE_OPTION_KEYS, Schedule, type ObserveOptions } from './schedule.js';

/** One accessor per observation of the tuple `A`. */
export type Accessors<A extends readonly tf.Tensor[]> = { readonly [K in keyof A]: () => A[K] };

/**
 * Reads several pieces of state through typed accessors and folds them together into one reducer,
 * e.g. an eligibility trace from a presynaptic trace and postsynaptic spikes:
 *
 * ```ts
 * const elig = new MultiStateMonitor<[tf.Tensor, tf.Tensor]>(
 *   [() => tracePre.latest, () => neuron.spike],
 *   new FoldFunctionReducer(([x, s], z) => …),
 * );
 * ```
 */
export class MultiStateMonitor<A extends readonly tf.Tensor[], R extends Reducer<A> = Reducer<A>> implements Observer {
  /** The reducer holding the folded state (owned by the monitor). */
  readonly reducer: R;
  /** When true (default) the layer calls {@link observe} only in training mode. */
  readonly trainOnly: boolean;
  private readonly accessors: Accessors<A>;
  private readonly schedule: Schedule;
  /** The observations' shapes at the last fold (null before the first, and after {@link clear}). */
  private shapes: readonly (readonly number[])[] | null = null;
  /** Set by {@link batchSizeChanged}: the next fold restarts the reducer if the shapes changed. */
  private resized = false;
  /** Set by {@link attached}: the next fold restarts the reducer if the shapes changed since the last fold. */
  private reattached = false;

  /**
   * @param accessors one function per observation, in the order the reducer's fold expects
   * @param reducer folds the observations; the monitor takes ownership
   * @param options `every` and `trainOnly` (default true)
   */
  constructor(accessors: Accessors<A>, reducer: R, options: ObserveOptions = {}) {
    // StateMonitor checks its own keys; user subclasses may add keys
    if (new.target === MultiStateMonitor) checkOptionKeys('options', options, OBSERVE_OPTION_KEYS);
    if (!Array.isArray(accessors) || accessors.length === 0 || accessors.some((a) => typeof a !== 'function')) {
      throw new CinderArgumentError('accessors', accessors, 'a non-empty array of functions returning tensors');
    }
    if (reducer === null || typeof reducer !== 'object' || typeof (reducer as { fold?: unknown }).fold !== 'function') {
      throw new CinderArgumentError('reducer', reducer, 'a Reducer (an object with fold(), e.g. new EMAReducer(…))');
    }
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {every?, trainOnly?}');
    this.accessors = accessors;
    this.reducer = reducer;
    this.trainOnly = options.trainOnly ?? true;
    this.schedule = new Schedule(options.every);
  }

  /** Fold on every n-th call. */
  get every(): number {
    return this.schedule.every;
  }

  /**
   * Reads all accessors and folds them together (on every n-th call). A call that throws (an
   * accessor, or the reducer rejecting the observation) changes nothing: it is not counted.
   *
   * After {@link batchSizeChanged} or {@link attached}, the next fold restarts the reducer (as after
   * `clear()`, the call count kept) when its observations' shapes differ from those of the last fold
   * (or those seen by {@link restoreState}); after {@link batchSizeChanged} also when those shapes are
   * unknown (values restored while an accessor could not be read).
   */
  observe(): void {
    if (!this.schedule.due) {
      this.schedule.tick();
      return;
    }
    tf.tidy(() => {
      const obs = (this.accessors as readonly (() => tf.Tensor)[]).map((a) => a()) as unknown as A;
      const last = this.shapes;
      const signalled = this.resized || this.reattached;
      // (last is null after a restoreState whose accessors threw: after a batch change the restored values restart)
      const restart =
        signalled && this.reducer.size > 0 && ((this.resized && last === null) || (last !== null && obs.some((o, i) => !tf.util.arraysEqual(o.shape, last[i] as number[]))));
      if (restart) this.restartWith(obs);
      else this.reducer.fold(...obs);
      // the shapes can change only across a batch change or an attach (otherwise the fold refuses them):
      // recorded on the first fold and after such a signal, not on every step
      if (last === null || signalled) this.shapes = obs.map((o) => o.shape);
    });
    this.resized = false;
    this.reattached = false;
    this.schedule.tick();
  }

  /**
   * Told by the layer it is attached to that its batch size changed: the values folded so far
   * describe the samples of the old batch. The next fold restarts the reducer when the observed
   * shapes changed with the batch (per-sample state such as `neuron.spike`), and continues it
   * when they did not (e.g. a monitor of weights).
   */
  batchSizeChanged(): void {
    this.resized = true;
  }

  /**
   * Told by a layer when it attaches the monitor: the layer's batch size may have changed while the
   * monitor was detached (e.g. a trainer in evaluation mode, a monitor re-attached by the user). The
   * next fold restarts the reducer, as after {@link batchSizeChanged}, when the observed shapes differ
   * from those of the last fold, and folds as usual when they do not. Costs one shape comparison (no
   * tensor op) on that fold.
   */
  attached(): void {
    this.reattached = true;
  }

  /** Clears the reducer and folds `obs` as its first value; a fold that throws puts the old values back. */
  private restartWith(obs: A): void {
    const backup = this.reducer.snapshotState();
    try {
      this.reducer.clear();
      this.reducer.fold(...obs);
    } catch (err) {
      this.reducer.restoreState(backup);
      throw err;
    } finally {
      disposeSnapshot(backup);
    }
  }

  /** The reducer's newest value. */
  get latest(): tf.Tensor {
    return this.reducer.latest;
  }

  /** Clears the reducer and restarts the call count. */
  clear(): void {
    this.reducer.clear();
    this.schedule.reset();
    this.shapes = null;
    this.resized = false;
    this.reattached = false;
  }

  /** The reducer's history and the call count (see `src/core/snapshot.ts`). */
  snapshotState(): Snapshot {
    const s = this.reducer.snapshotState();
    s.values.calls = this.schedule.count;
    return s;
  }

  /**
   * Restores what {@link snapshotState} captured. The accessors are read once (no fold) for the
   * observed shapes now: where the reducer knows the shape of its values from them
   * (`Reducer.valueShape`, e.g. a trace's value has the observation's shape), restored values of
   * another shape (a snapshot taken at another batch size: the neurons' `[2, n]` spikes restored
   * against `[5, n]` now) are refused before anything changes — the next fold would reject them
   * after the layer's neurons stepped. When an accessor throws, that check is skipped.
   * @throws CinderArgumentError for a bad call count, a value of the wrong shape, or a history the
   *   reducer refuses
   */
  restoreState(s: Snapshot): void {
    const { calls, ...values } = s.values;
    if (typeof calls !== 'number' || !Number.isInteger(calls) || calls < 0) throw new CinderArgumentError('snapshot calls', calls, 'an integer >= 0');
    const now = this.observedShapes();
    const expected = now && this.reducer.valueShape(now);
    if (expected) {
      for (const [k, t] of Object.entries(s.tensors)) {
        if (!tf.util.arraysEqual(t.shape, expected as number[])) {
          throw new CinderArgumentError(`snapshot ${k}`, t, `shape [${expected.join(', ')}] (the shape of the observed state now; was the snapshot taken at another batch size?)`);
        }
      }
    }
    this.reducer.restoreState({ tensors: s.tensors, values });
    this.schedule.reset(calls);
    this.shapes = now;
  }

  /** The shapes the accessors return now (no fold), or null when one throws or returns no tensor. */
  private observedShapes(): (readonly number[])[] | null {
    let shapes: (readonly number[])[] | null = null;
    try {
      tf.tidy(() => {
        shapes = (this.accessors as readonly (() => tf.Tensor)[]).map((a) => {
          const t = a();
          if (!(t instanceof tf.Tensor)) throw new Error('not a tensor');
          return [...t.shape];
        });
      });
    } catch {
      return null;
    }
    return shapes;
  }

  /** Frees the reducer. */
  dispose(): void {
    this.reducer.dispose();
  }
}
