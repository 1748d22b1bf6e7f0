/**
 * Element-wise selection without broadcasting overhead.
 * @module
 */
import { tf } from '../../core/tf.js';


/**
 * `cond ? a : b` element-wise. When all three shapes are equal the `Select` kernel runs directly
 * (`tf.where` adds three broadcast kernels per call even then); otherwise falls back to `tf.where`.
 */
export function select(cond: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (tf.util.arraysEqual(cond.shape, a.shape) && tf.util.arraysEqual(a.shape, b.shape)) {
    return tf.engine().runKernel('Select', { condition: cond, t: a, e: b }) as tf.Tensor;
  }
  return tf.where(cond, a, b);
}
