/**
 * An exponential spike trace's step as one WGSL program on tfjs's webgpu backend (instead of two
 * or three element-wise kernels), the same float32 operations as the wasm/cpu kernel
 * (`../js/fused-trace.ts`) and the op path, with decay α and amplitude A baked in as float32:
 * - cumulative: `x ← α·x + A·h`;
 * - nearest: `x ← h ≠ 0 ? A : α·x`.
 *
 * A pair rule keeps two traces (presynaptic `x_pre` of `connection.synspike`, postsynaptic
 * `x_post` of `neuron.spike`) in two monitors that fold at different moments of the step (each
 * when its layer observes), so each trace is its own dispatch: two per learning cell and step.
 *
 * Inputs are read through `f32(…)`: tfjs's webgpu backend keeps a float32 tensor cast from bool or
 * int32 in its int32 buffer.
 * @module
 */
import type { tf } from '../../core/tf.js';
import { lit, runElementwise } from './step-program.js';

/** One trace step on webgpu: `prev` and the spikes `h` are float32 tensors of one shape; returns the new trace (a new tensor). */
export function traceStepWebgpu(prev: tf.Tensor, h: tf.Tensor, decay: number, amplitude: number, nearest: boolean): tf.Tensor {
  const a = lit(decay);
  const amp = lit(amplitude);
  const key = ['cinder-trace', prev.size, decay, amplitude, nearest].join(':');
  const body = nearest ? `let s = f32(h[index]); result[index] = select(${a} * f32(prev[index]), ${amp}, s != 0.0);` : `result[index] = ${a} * f32(prev[index]) + ${amp} * f32(h[index]);`;
  return runElementwise(key, [...prev.shape], prev.size, ['prev', 'h'], [prev, h], () => ({ decls: '', body }));
}
