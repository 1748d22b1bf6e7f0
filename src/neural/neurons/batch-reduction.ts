/**
 * Batch reduction of adaptation state (adaptive thresholds and adaptive currents).
 *
 * As in Inferno, adaptation variables are shared by all samples of a batch: after each step the
 * per-sample updates `[B, ...shape, K]` are reduced over the batch axis to `[...shape, K]`
 * (default: mean). With `'none'` every sample keeps its own adaptation state `[B, ...shape, K]`.
 * `'sum'` sums the spike increments over the batch and averages the passive decay (see
 * `NeuronGroup.updateAdaptation`).
 * @module
 */
import { tf } from '../../core/tf.js';

/** The batch reductions accepted by the adaptive neuron models. */
export const BATCH_REDUCTIONS = ['mean', 'sum', 'max', 'none'] as const;

/** How per-sample adaptation updates are combined over the batch (see {@link BATCH_REDUCTIONS}). */
export type BatchReduction = (typeof BATCH_REDUCTIONS)[number];

/** Reduces `x` (`[B, ...]`) over axis 0 according to `mode` (`'none'` returns `x`). */
export function reduceBatch(x: tf.Tensor, mode: BatchReduction): tf.Tensor {
  switch (mode) {
    case 'mean':
      return tf.mean(x, 0);
    case 'sum':
      return tf.sum(x, 0);
    case 'max':
      return tf.max(x, 0);
    case 'none':
      return x;
  }
}
