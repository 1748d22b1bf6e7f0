/**
 * The single import point of TensorFlow.js for the whole package.
 *
 * Cinder depends on `@tensorflow/tfjs-core` only; backends register themselves into it
 * (see {@link initBackend}). Everything in Cinder is float32: tfjs has no float64.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;
export type Rank = tf.Rank;
