/**
 * How a layer merges several connection outputs that target the same neuron group.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';

/** Built-in elementwise combinations. */
export const COMBINE_MODES = ['sum', 'mean', 'max', 'min', 'product'] as const;

/** Name of a built-in combination. */
export type CombineMode = (typeof COMBINE_MODES)[number];

/** A custom combination: receives the outputs (at least one, same shape) and returns a new tensor. */
export type CombineFn = (outputs: readonly tf.Tensor[]) => tf.Tensor;

/**
 * Returns the combination function of `mode`. The constant 1/n of `'mean'` is uploaded once per
 * n and kept in `constants` (the caller disposes them).
 */
export function combiner(mode: CombineMode | CombineFn, constants: Map<number, tf.Tensor>): CombineFn {
  if (typeof mode === 'function') {
    return (ts) => {
      const out = mode(ts);
      if (!(out instanceof tf.Tensor) || out.shape.length !== ts[0]!.shape.length || out.shape.some((d, i) => d !== ts[0]!.shape[i])) {
        throw new CinderArgumentError('combine', out, `a tensor of shape [${ts[0]!.shape.join(', ')}] from the combine function`);
      }
      return out;
    };
  }
  if (!(COMBINE_MODES as readonly string[]).includes(mode)) {
    throw new CinderArgumentError('combine', mode, `one of ${COMBINE_MODES.map((m) => JSON.stringify(m)).join(', ')} or a function`);
  }
  const fold = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (ts: readonly tf.Tensor[]) => ts.slice(1).reduce(f, ts[0]!);
  switch (mode) {
    case 'sum':
      return (ts) => (ts.length === 1 ? ts[0]! : tf.addN(ts as tf.Tensor[]));
    case 'mean':
      return (ts) => {
        if (ts.length === 1) return ts[0]!;
        let k = constants.get(ts.length);
        if (!k) {
          k = tf.keep(tf.scalar(1 / ts.length, 'float32'));
          constants.set(ts.length, k);
        }
        return tf.mul(tf.addN(ts as tf.Tensor[]), k);
      };
    case 'max':
      return fold(tf.maximum);
    case 'min':
      return fold(tf.minimum);
    case 'product':
      return fold(tf.mul);
  }
}
