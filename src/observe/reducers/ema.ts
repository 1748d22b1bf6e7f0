/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { checkRange, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { REDUCER_OPTION_KEYS, Reducer, checkSameShape, type ReducerOptions } from './reducer.js';

/** Options of {@link EMAReducer}. */
export interface EMAReducerOptions extends ReducerOptions {
  /** Smoothing factor α in [0, 1]: weight of the newest observation. */
  alpha: number;
}

/** The keys of {@link EMAReducerOptions}: other keys make {@link EMAReducer}'s constructor throw. */
export const EMA_REDUCER_OPTION_KEYS = optionKeys<EMAReducerOptions>()([...REDUCER_OPTION_KEYS, 'alpha']);

/**
 * Exponential moving average: `s(t) = α·h(t) + (1 − α)·s(t − Δt)`, with `s = h` on the first fold.
 * Values are float32 (bool or int32 observations are cast, the first fold included); α and 1 − α are
 * computed in float64 and rounded once to float32, as Inferno's `exponential_smoothing` on float32 data.
 */
export class EMAReducer extends Reducer<[tf.Tensor]> {
  /** Smoothing factor α. */
  readonly alpha: number;
  private readonly a: tf.Scalar;
  private readonly b: tf.Scalar;

  /** @param options see {@link EMAReducerOptions} */
  constructor(options: EMAReducerOptions) {
    if (new.target === EMAReducer) checkOptionKeys('options', options, EMA_REDUCER_OPTION_KEYS);
    super(options);
    this.alpha = checkRange('alpha', options.alpha, 0, 1);
    this.a = tf.keep(tf.scalar(this.alpha));
    this.b = tf.keep(tf.scalar(1 - this.alpha));
  }

  /** The first observation's shape (elementwise: the value has the observation's shape). */
  override valueShape(shapes: readonly (readonly number[])[]): readonly number[] | null {
    return shapes[0] ?? null;
  }

  protected compute([h]: [tf.Tensor], prev: tf.Tensor | null): tf.Tensor {
    checkSameShape('observation', h, prev);
    if (prev === null) return h.dtype === 'float32' ? h.clone() : tf.cast(h, 'float32');
    return tf.add(tf.mul(this.a, h), tf.mul(this.b, prev));
  }

  protected override disposeConstants(): void {
    this.a.dispose();
    this.b.dispose();
  }
}
