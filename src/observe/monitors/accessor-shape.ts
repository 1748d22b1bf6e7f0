/**
 * Shared by the recorders: the shape an accessor returns now.
 * @module
 */
import { tf } from '../../core/tf.js';

/** The shape of the tensor `accessor` returns now (read once, inside a tidy; no record), or null when it throws. */
export function accessorShape(accessor: () => tf.Tensor): number[] | null {
  let now: number[] | null = null;
  try {
    tf.tidy(() => void (now = [...accessor().shape]));
  } catch {
    return null;
  }
  return now;
}
