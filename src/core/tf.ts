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

/** The parts of tfjs's engine {@link share} uses (internal to tfjs-core 4.x; checked before use). */
interface EngineInternals {
  state?: { tensorInfo?: Map<object, { backend?: { incRef?(dataId: object): void } }> };
  isTapeOn?(): boolean;
  makeTensorFromTensorInfo?(info: { dataId: object; shape: number[]; dtype: tf.DataType }, backend?: unknown): tf.Tensor;
}

/**
 * A new handle on `x`'s data without copying it, on every backend: tfjs tensors are immutable, so
 * two handles may share one buffer (the backend counts its references and frees it with the last).
 * Use it where a value must be handed over with its own handle (a reducer's history, an
 * accumulator that disposes what it is given). `tf.clone` runs the Identity kernel, which copies
 * the data on the wasm backend (≈ 5–30 µs for a `[20, 784]` tensor). This makes the handle as a
 * reshape kernel would (one more reference on the backend, a new tracked tensor in the current
 * scope) without dispatching a kernel; while gradients are being recorded, and where the engine
 * lacks those methods, it runs Reshape to the same shape, which every backend implements by sharing.
 */
export function share<T extends tf.Tensor>(x: T): T {
  const e = tf.engine() as unknown as EngineInternals;
  const backend = e.state?.tensorInfo?.get(x.dataId)?.backend;
  if (x.dtype !== 'string' && backend?.incRef && e.makeTensorFromTensorInfo && e.isTapeOn && !e.isTapeOn()) {
    backend.incRef(x.dataId);
    return e.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype }, backend) as T;
  }
  return tf.reshape(x, x.shape) as T;
}
