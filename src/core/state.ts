/**
 * Named tensor state held by a {@link Module}. The value lives in a non-trainable `tf.Variable`, so
 * `assign` inside `tf.tidy` is zero-copy and never leaks: the tidy disposes its temporaries while
 * the variable keeps a reference to the data it was given.
 * @module
 */
import { tf } from './tf.js';
import { CinderArgumentError, UseAfterDisposeError } from './errors.js';

/**
 * A named tensor held in a `tf.Variable` whose value is replaced in place: the part shared by
 * {@link State} and {@link Parameter}.
 */
export abstract class TensorSlot {
  /** The variable holding the value. */
  protected v: tf.Variable;

  /**
   * @param name name used in saved manifests and error messages
   * @param v the variable (owned by the slot)
   */
  protected constructor(
    /** Name used in saved manifests and error messages. */
    readonly name: string,
    v: tf.Variable,
  ) {
    this.v = v;
  }

  /** What the slot is called in errors: `state "x"` or `parameter "x"`. */
  protected abstract get label(): string;

  /** Class name of the module that registered the slot (for use-after-dispose errors). */
  owner = 'module';

  /** The current value. Do not dispose it; it is owned by this slot. Throws after `dispose()`. */
  get value(): tf.Tensor {
    if (this.v.isDisposed) throw new UseAfterDisposeError(this.owner, this.label);
    return this.v;
  }

  /** Shape of the current value. */
  get shape(): number[] {
    return this.v.shape;
  }

  /** Applied by {@link assign} to every new value (see {@link setConstraint}). */
  private constraint: ((t: tf.Tensor) => tf.Tensor) | null = null;

  /**
   * Makes every later {@link assign} store `fn(t)` instead of `t` (t already checked and cast to the
   * slot's dtype; `fn` runs in a `tf.tidy` and returns a tensor of the same shape and dtype): a
   * projection onto the values the owner allows, e.g. a connection's mask `W ⊙ M` (Inferno's
   * masked-weight setter), so post-update hooks that write the slot and then read it see the
   * projected value. Writes to the raw variable bypass it. `null` removes it.
   */
  setConstraint(fn: ((t: tf.Tensor) => tf.Tensor) | null): void {
    this.constraint = fn;
  }

  /** Replaces the value. The new tensor must have the same shape (it is cast to the slot's dtype). */
  assign(t: tf.Tensor): void {
    if (t === this.v) return;
    if (!(t instanceof tf.Tensor) || t.shape.length !== this.v.shape.length || t.shape.some((d, i) => d !== this.v.shape[i])) {
      throw new CinderArgumentError(this.label, t, `shape [${this.v.shape.join(', ')}]`);
    }
    const fn = this.constraint;
    if (fn) {
      tf.tidy(() => this.v.assign(fn(t.dtype === this.v.dtype ? t : tf.cast(t, this.v.dtype))));
      return;
    }
    this.v.assign(t.dtype === this.v.dtype ? t : tf.cast(t, this.v.dtype));
  }

  /** Frees the tensor memory. */
  dispose(): void {
    this.v.dispose();
  }
}

/** One named state tensor with a reset rule (a non-trainable variable). */
export class State extends TensorSlot {
  /**
   * @param name name used in saved manifests and error messages
   * @param init creates the reset value (called at construction, by `reset()` and on reshaping)
   */
  constructor(
    name: string,
    private init: () => tf.Tensor,
  ) {
    super(name, State.make(init));
  }

  private static make(init: () => tf.Tensor): tf.Variable {
    return tf.tidy(() => tf.variable(init(), false));
  }

  protected get label(): string {
    return `state "${this.name}"`;
  }

  /** Resets to the init value. */
  reset(): void {
    if (this.v.isDisposed) throw new UseAfterDisposeError(this.owner, this.label);
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
}

/** A trainable parameter: a named `tf.Variable` whose value can be replaced in place. */
export class Parameter extends TensorSlot {
  /**
   * Takes ownership of `value`: it is disposed once the variable holds its data.
   * @param name name used in saved manifests and error messages
   * @param value initial value
   * @param trainable whether optimizers may change it
   */
  constructor(
    name: string,
    value: tf.Tensor,
    /** Whether optimizers may change it. */
    readonly trainable = true,
  ) {
    super(name, Parameter.own(value, trainable));
  }

  private static own(t: tf.Tensor, trainable: boolean): tf.Variable {
    const v = tf.variable(t, trainable);
    if (!(t instanceof tf.Variable)) t.dispose();
    return v;
  }

  protected get label(): string {
    return `parameter "${this.name}"`;
  }

  /** The variable itself (for optimizers). */
  get variable(): tf.Variable {
    if (this.v.isDisposed) throw new UseAfterDisposeError(this.owner, this.label);
    return this.v;
  }

  /** Replaces the value with a tensor of a possibly different shape (takes ownership of `t`). */
  replace(t: tf.Tensor): void {
    this.v.dispose();
    this.v = Parameter.own(t, this.trainable);
  }
}
