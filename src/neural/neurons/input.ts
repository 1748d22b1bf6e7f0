/**
 * Validation of the input handed to a neuron group's `forward`.
 * @module
 */
import type { tf } from '../../core/tf.js';
import { CinderArgumentError, checkTensorShape } from '../../core/errors.js';
import type { NeuronInput } from '../types.js';

/** A neuron input after validation: an optional current and optional per-receptor conductances. */
export interface CheckedNeuronInput {
  /** Injected current `[B, ...shape]`, or `undefined` for none. */
  current?: tf.Tensor;
  /** Conductances aligned with the receptors (`undefined` entries = none), or `undefined` for none at all. */
  conductances?: readonly (tf.Tensor | undefined)[];
}

/**
 * Checks `input` against the group's batched shape `[batchSize, ...shape]` and receptor count.
 * A bare tensor is a current. Every tensor must be live (not disposed), float32 and of exactly the
 * batched shape.
 */
export function readNeuronInput(
  input: tf.Tensor | NeuronInput,
  batchSize: number,
  shape: readonly number[],
  receptorCount: number,
): CheckedNeuronInput {
  const expected = [batchSize, ...shape];
  const check = (param: string, t: tf.Tensor): void => {
    if (t === null || typeof t !== 'object' || !('shape' in t) || !('dtype' in t)) {
      throw new CinderArgumentError(param, t, `a float32 tensor of shape [${expected.join(', ')}]`);
    }
    if (t.isDisposed) throw new CinderArgumentError(param, 'a disposed tensor', `a live float32 tensor of shape [${expected.join(', ')}]`);
    checkTensorShape(param, t, expected);
    if (t.dtype !== 'float32') throw new CinderArgumentError(`${param} dtype`, t.dtype, '"float32"');
  };
  if (input === null || typeof input !== 'object' || Array.isArray(input) || ArrayBuffer.isView(input)) {
    throw new CinderArgumentError('input', input, `a float32 tensor of shape [${expected.join(', ')}] or {current?, conductances?} (plain arrays are not converted)`);
  }
  if ('dtype' in input && 'shape' in input) {
    check('input', input as tf.Tensor);
    return { current: input as tf.Tensor };
  }
  for (const key of Object.keys(input)) {
    if (key !== 'current' && key !== 'conductances') throw new CinderArgumentError('input key', key, 'one of "current", "conductances"');
  }
  const { current, conductances } = input as NeuronInput;
  if (current !== undefined) check('input.current', current);
  if (conductances !== undefined) {
    if (!Array.isArray(conductances) || conductances.length !== receptorCount) {
      throw new CinderArgumentError(
        'input.conductances',
        Array.isArray(conductances) ? `an array of length ${conductances.length}` : conductances,
        `an array with one entry per receptor (${receptorCount})`,
      );
    }
    conductances.forEach((g, i) => {
      if (g !== undefined) check(`input.conductances[${i}]`, g);
    });
  }
  return { current, conductances };
}
