/**
 * Base of the post-update hooks ({@link Clamping}, {@link Normalization}): a transform of one tensor
 * (a parameter or a state) that runs after a connection's update is applied, or after a layer's step.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, optionKeys } from '../../core/errors.js';
import type { Observer } from '../types.js';
import type { Updater } from '../updater.js';
import type { OuterClamp } from '../../kernels/js/fused-outer-update.js';

/**
 * What a hook changes: anything with a `value` and an `assign` — a `Parameter` or a
 * `State` as they are, or an accessor/assign pair such as
 * `{ get value() { return conn.weight; }, assign: (t) => (conn.weight = t) }` (e.g. to go through a
 * connection's setter that re-applies a mask).
 */
export interface HookTarget {
  /** The current value (not disposed by the hook). */
  readonly value: tf.Tensor;
  /** Replaces the value with a tensor of the same shape (called inside `tf.tidy`). */
  assign(t: tf.Tensor): void;
}

/** Options shared by the hooks. */
export interface HookOptions {
  /** When true the hook runs only while its module is in training mode (default false: also in eval). */
  trainOnly?: boolean;
}

/** The keys of {@link HookOptions}. */
export const HOOK_OPTION_KEYS = optionKeys<HookOptions>()(['trainOnly']);

/** Something whose training flag gates a train-only hook. */
export interface TrainingFlag {
  /** True in training mode. */
  readonly training: boolean;
}

/**
 * A post-update transform of one tensor. Use it in one of two ways:
 * - {@link attachToUpdate}: runs after every `connection.update()` that changed a parameter;
 * - as an {@link Observer} (`layer.attach(hook)`): runs after every step of the layer, which honours
 *   {@link trainOnly}.
 * {@link run} applies it once, now.
 */
export abstract class TensorHook implements Observer {
  /** When true the hook runs in training mode only. */
  readonly trainOnly: boolean;
  /** The tensor changed by the hook. */
  readonly target: HookTarget;

  /**
   * Creates the hook (not attached yet).
   * @param target the tensor to change
   * @param options see {@link HookOptions}
   * @throws CinderArgumentError unless `target` has an `assign` function and a tensor `value`, and
   * `options` is an object (or omitted) whose `trainOnly` is a boolean (or omitted)
   */
  constructor(target: HookTarget, options: HookOptions = {}) {
    if (!target || typeof target !== 'object' || !('value' in target) || typeof target.assign !== 'function') {
      throw new CinderArgumentError('target', target, 'a Parameter, a State or { value, assign(t) }');
    }
    const value: unknown = target.value;
    if (!(value instanceof tf.Tensor)) throw new CinderArgumentError('target.value', value, 'a tensor');
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new CinderArgumentError('options', options, 'an object of hook options');
    if (options.trainOnly !== undefined && typeof options.trainOnly !== 'boolean') throw new CinderArgumentError('options.trainOnly', options.trainOnly, 'a boolean');
    this.target = target;
    this.trainOnly = options.trainOnly ?? false;
  }

  /** The transformed value (called inside `tf.tidy`; must return a new tensor of the same shape). */
  protected abstract transform(value: tf.Tensor): tf.Tensor;

  /**
   * The limits when this hook only clamps its target (a fused update may then apply it in the same
   * pass; see `Updater.onUpdate`), else null.
   */
  protected clampLimits(): OuterClamp | null {
    return null;
  }

  /** Applies the transform once, now. */
  run(): void {
    tf.tidy(() => this.target.assign(this.transform(this.target.value)));
  }

  /** Observer entry point: the layer calls this after its step (training mode only when {@link trainOnly}). */
  observe(): void {
    this.run();
  }

  /**
   * Runs the hook after every apply of `updater` that changed a parameter. With {@link trainOnly}
   * it is skipped while `gate.training` is false (pass the connection). Returns a detach function.
   * @throws CinderArgumentError unless `updater` has an `onUpdate` function and, for a trainOnly hook,
   * `gate` is an object whose `training` is a boolean (nothing is attached then)
   */
  attachToUpdate(updater: Updater, gate?: TrainingFlag): () => void {
    if (updater === null || typeof updater !== 'object' || typeof updater.onUpdate !== 'function') throw new CinderArgumentError('updater', updater, 'an Updater (e.g. connection.updater)');
    if (this.trainOnly && (gate === null || typeof gate !== 'object' || typeof gate.training !== 'boolean')) {
      throw new CinderArgumentError('gate', gate, 'the module whose training mode gates a trainOnly hook (an object with a boolean training)');
    }
    const active = () => !this.trainOnly || gate!.training;
    const limits = this.clampLimits();
    return updater.onUpdate(
      () => {
        if (active()) this.run();
      },
      limits ? { ...limits, target: this.target, active } : null,
    );
  }

  /** Frees the hook's constants. */
  abstract dispose(): void;
}
