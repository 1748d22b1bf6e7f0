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
