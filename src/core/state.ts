/**
 * Named tensor state held by a {@link Module}. The value lives in a non-trainable `tf.Variable`, so
 * `assign` inside `tf.tidy` is zero-copy and never leaks: the tidy disposes its temporaries while
 * the variable keeps a reference to the data it was given.
 * @module
 */
import { tf } from './tf.js';
import { CinderArgumentError } from './errors.js';

/** One named state tensor with a reset rule. */
export class State {
  private v: tf.Variable;

  /**
   * @param name name used in saved manifests and error messages
   * @param init creates the reset value (called at construction, by `reset()` and on reshaping)
   */
  constructor(
    readonly name: string,
    private init: () => tf.Tensor,
  ) {
    this.v = State.make(init);
  }

  private static make(init: () => tf.Tensor): tf.Variable {
    return tf.tidy(() => tf.variable(init(), false));
  }

  /** The current value. Do not dispose it; it is owned by this state. */
  get value(): tf.Tensor {
    return this.v;
  }

  /** Shape of the current value. */
  get shape(): number[] {
    return this.v.shape;
  }

  /** Replaces the value. The new tensor must have the same shape and dtype (use `reinit` to reshape). */
  assign(t: tf.Tensor): void {
    if (t === this.v) return;
    if (t.shape.length !== this.v.shape.length || t.shape.some((d, i) => d !== this.v.shape[i])) {
      throw new CinderArgumentError(`state "${this.name}"`, t, `shape [${this.v.shape.join(', ')}]`);
    }
    this.v.assign(t.dtype === this.v.dtype ? t : tf.cast(t, this.v.dtype));
  }

  /** Resets to the init value. */
  reset(): void {
    const t = this.init();
    this.v.assign(t);
    t.dispose();
  }

  /** Changes the init rule (e.g. a new batch size) and re-creates the value from it. */
  reinit(init?: () => tf.Tensor): void {
    if (init) this.init = init;
    this.v.dispose();
    this.v = State.make(this.init);
  }

  /** Frees the tensor memory. */
  dispose(): void {
    this.v.dispose();
  }
}

/** A trainable parameter: a named `tf.Variable` whose value can be replaced in place. */
export class Parameter {
  private v: tf.Variable;

  /**
   * Takes ownership of `value`: it is disposed once the variable holds its data.
   * @param name name used in saved manifests and error messages
   * @param value initial value
   * @param trainable whether optimizers may change it
   */
  constructor(
    /** Name used in saved manifests and error messages. */
    readonly name: string,
    value: tf.Tensor,
    /** Whether optimizers may change it. */
    readonly trainable = true,
  ) {
    this.v = tf.variable(value, trainable);
    if (!(value instanceof tf.Variable)) value.dispose();
  }

  /** The variable itself (for optimizers). */
  get variable(): tf.Variable {
    return this.v;
  }

  /** The current value. Do not dispose it. */
  get value(): tf.Tensor {
    return this.v;
  }

  /** Shape of the value. */
  get shape(): number[] {
    return this.v.shape;
  }

  /** Replaces the value (same shape and dtype). */
  assign(t: tf.Tensor): void {
    if (t === this.v) return;
    if (t.shape.length !== this.v.shape.length || t.shape.some((d, i) => d !== this.v.shape[i])) {
      throw new CinderArgumentError(`parameter "${this.name}"`, t, `shape [${this.v.shape.join(', ')}]`);
    }
    this.v.assign(t.dtype === this.v.dtype ? t : tf.cast(t, this.v.dtype));
  }

  /** Replaces the value with a tensor of a possibly different shape (takes ownership of `t`). */
  replace(t: tf.Tensor): void {
    this.v.dispose();
    this.v = tf.variable(t, this.trainable);
    if (!(t instanceof tf.Variable)) t.dispose();
  }

  /** Frees the tensor memory. */
  dispose(): void {
    this.v.dispose();
  }
}
