/**
 * The single import point of TensorFlow.js for the whole package.
 *
 * Cinder depends on `@tensorflow/tfjs-core` only; backends register themselves into it
 * (see {@link initBackend}). Everything in Cinder is float32: tfjs has no float64.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

export { tf };
/** A tfjs tensor. */
export type Tensor = tf.Tensor;
/** A tfjs variable (mutable tensor). */
export type Variable = tf.Variable;
/** A tfjs tensor rank. */
export type Rank = tf.Rank;

/**
 * A new handle on `x`'s data without copying it, on every backend: tfjs tensors are immutable, so
 * two handles may share one buffer (the backend counts its references and frees it with the last).
 * Use it where a value must be handed over with its own handle (a reducer's history, an
 * accumulator that disposes what it is given). `tf.clone` runs the Identity kernel, which copies
 * the data on the wasm backend (≈ 5–30 µs for a `[20, 784]` tensor); this runs Reshape to the same
 * shape, which every backend implements by sharing the buffer.
 */
export function share<T extends tf.Tensor>(x: T): T {
  return tf.reshape(x, x.shape) as T;
}
