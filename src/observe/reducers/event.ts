/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { checkDt, checkOneOf, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { Matcher, type Criterion } from '../criterion.js';
import { REDUCER_OPTION_KEYS, Reducer, checkSameShape, type ReducerOptions } from './reducer.js';

/** Value of {@link EventReducer} before the first event. */
export type EventInitial = 'inf' | 'zero' | 'nan';

/** Options of {@link EventReducer}. */
export interface EventReducerOptions extends ReducerOptions {
  /**
   * Step length (ms): a number > 0 that float32 holds as a normal number (2^-126 <= dt <=
   * 3.4028234663852886e38, see {@link checkDt}), since it is added to the float32 value each fold.
   */
  dt: number;
  /** What counts as an event (default: every non-zero element of the observation, a spike tensor; see `Criterion`). */
  criterion?: Criterion;
  /** Elapsed time assumed before any event: `'inf'` (default), `'zero'` or `'nan'`. */
  initial?: EventInitial;
}

/** The keys of {@link EventReducerOptions}: other keys make {@link EventReducer}'s constructor throw. */
export const EVENT_REDUCER_OPTION_KEYS = optionKeys<EventReducerOptions>()([...REDUCER_OPTION_KEYS, 'dt', 'criterion', 'initial']);

/**
 * Time since the last event (ms): `e(t) = 0` where the criterion matches, else `e(t − dt) + dt`;
 * the first fold (no earlier value, also after `clear()`) gives 0 where it matches, else the initial
 * value, as Inferno's EventReducer. So before any event: `∞` stays `∞`, NaN stays NaN, and `'zero'`
 * counts up from 0 at the first fold (0, dt, 2·dt, …).
 */
export class EventReducer extends Reducer<[tf.Tensor]> {
  /** Step length (ms). */
  readonly dt: number;
  /** Initial elapsed time. */
  readonly initial: EventInitial;
  private readonly matcher: Matcher;
  private readonly dtS: tf.Scalar;
  private readonly zero: tf.Scalar;

  /** @param options see {@link EventReducerOptions} */
  constructor(options: EventReducerOptions) {
    if (new.target === EventReducer) checkOptionKeys('options', options, EVENT_REDUCER_OPTION_KEYS);
    super(options);
    this.dt = checkDt(options.dt);
    this.initial = checkOneOf('initial', options.initial ?? 'inf', ['inf', 'zero', 'nan'] as const);
    this.matcher = new Matcher(options.criterion);
    this.dtS = tf.keep(tf.scalar(this.dt));
    this.zero = tf.keep(tf.scalar(0));
  }

  /** The first observation's shape (elementwise: the value has the observation's shape). */
  override valueShape(shapes: readonly (readonly number[])[]): readonly number[] | null {
    return shapes[0] ?? null;
  }

  protected compute([h]: [tf.Tensor], prev: tf.Tensor | null): tf.Tensor {
    checkSameShape('observation', h, prev);
    const next = prev ? tf.add(prev, this.dtS) : tf.fill(h.shape, this.initial === 'inf' ? Infinity : this.initial === 'nan' ? NaN : 0, 'float32');
    return tf.where(this.matcher.bool(h), this.zero, next);
  }

  protected override disposeConstants(): void {
    this.matcher.dispose();
    this.dtS.dispose();
    this.zero.dispose();
  }
}
