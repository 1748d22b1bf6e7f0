/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import type { TrainerBatchReduction } from '../toolkit/contraction.js';

/**
 * Reduces per-sample updates `[B, ...W]` over the batch with a {@link TrainerBatchReduction}: `[...W]`
 * (a new tensor; call inside `tf.tidy`). A custom function must return the shape `[...W]`.
 */
export function reduceOverBatch(perSample: tf.Tensor, reduction: TrainerBatchReduction): tf.Tensor {
  if ((reduction === 'sum' || reduction === 'mean') && perSample.shape[0] === 1) return tf.reshape(perSample, perSample.shape.slice(1));
  if (reduction === 'sum') return tf.sum(perSample, 0);
  if (reduction === 'mean') return tf.mean(perSample, 0);
  const r = reduction(perSample);
  const want = perSample.shape.slice(1);
  if (!(r instanceof tf.Tensor) || r.rank !== want.length || want.some((d, i) => r.shape[i] !== d)) {
    throw new CinderArgumentError('batchReduction', r, `a tensor of shape [${want.join(', ')}] (dimension 0 reduced)`);
  }
  return r;
}
