/**
 * The size of the largest buffer a program may bind on the webgpu backend's device, and the check
 * every Cinder program runs against it before it dispatches.
 *
 * Each tensor of tfjs's webgpu backend is one storage buffer. A buffer larger than the adapter's
 * `maxBufferSize` cannot be made and one larger than `maxStorageBufferBindingSize` cannot be bound
 * (tfjs asks for the adapter's own limits: 1 GiB on SwiftShader; WebGPU's guaranteed minimum is
 * 128 MiB), and WebGPU does not throw when that happens: the dispatch is skipped and its output reads
 * as zeros (reported later as a `DeviceError`, `src/core/device-errors.ts`). So the programs check
 * their buffers' sizes first and name the parameter that made them too large.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';

/**
 * Bytes one tensor may hold to be bound by a program on the current backend's device:
 * min(maxStorageBufferBindingSize, maxBufferSize); Infinity when the backend is not webgpu or
 * reports no limits.
 */
export function maxBindingBytes(): number {
  if (tf.getBackend() !== 'webgpu') return Infinity;
  const backend = tf.backend() as object;
  let limit = cached.get(backend);
  if (limit === undefined) {
    const limits = (backend as { device?: { limits?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number } } }).device?.limits;
    const known = [limits?.maxStorageBufferBindingSize, limits?.maxBufferSize].filter((x): x is number => typeof x === 'number' && x > 0);
    limit = known.length ? Math.min(...known) : Infinity;
    cached.set(backend, limit);
  }
  return limit;
}

const cached = new WeakMap<object, number>();

/**
 * Throws a CinderArgumentError (`invalid <param>: got <value>, expected …`) unless `floats` float32
 * entries fit one buffer of the device ({@link maxBindingBytes}).
 *
 * @param param the parameter that sets the size (e.g. `batch size`, or the program's output)
 * @param value its value
 * @param floats float32 entries of the buffer
 * @param what what the buffer holds, for the message
 */
export function checkBindingFits(param: string, value: unknown, floats: number, what: string): void {
  const bytes = 4 * floats;
  const limit = maxBindingBytes();
  if (bytes > limit) {
    throw new CinderArgumentError(param, value, `a value for which ${what} (${bytes} bytes) fits one buffer of this adapter: at most ${limit} bytes (min of maxStorageBufferBindingSize and maxBufferSize)`);
  }
}
