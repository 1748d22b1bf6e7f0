/**
 * Backend memory access for Cinder's fused JavaScript kernels (`fused-*.ts`): the `wasm` and `cpu`
 * backends keep tensor data in JavaScript-visible memory (the wasm heap, plain typed arrays), so a
 * kernel registered with tfjs for those backends can read its inputs and write its outputs in place
 * of many small kernels, with no synchronous read (`readSync`) and no copy through JavaScript.
 *
 * Each fused kernel is selected by backend: {@link fusedBackend} names the current backend when it
 * is one of these, and callers keep the op path (the reference) for every other backend.
 * @module
 */
import { tf } from '../../core/tf.js';
import { envSwitch } from '../setting.js';

/** Backends whose tensor memory the fused kernels can address. */
export type FusedBackendName = 'wasm' | 'cpu';

/** Switch for the fused kernels (tests compare both paths): `CINDER_FUSED=0` turns them off at start. */
const enabled = envSwitch('CINDER_FUSED');

/** Turns the fused kernels on or off (the op path is used when off); returns the previous setting. */
export function setFusedKernels(on: boolean): boolean {
  return enabled.set(on);
}

/** The current backend when fused kernels are on and it is `wasm` or `cpu`, else null. */
export function fusedBackend(): FusedBackendName | null {
  if (!enabled.get()) return null;
  const name = tf.getBackend();
  return name === 'wasm' || name === 'cpu' ? name : null;
}

/** A backend as seen by a fused kernel (the subset of the wasm and cpu backends used). */
interface AnyBackend {
  typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array;
  makeOutput?: (shape: number[], dtype: tf.DataType) => tf.TensorInfo;
  data?: { get(dataId: object): { values?: unknown } };
  makeTensorInfo?: (shape: number[], dtype: tf.DataType, values?: Float32Array) => tf.TensorInfo;
}

/**
 * Typed-array access to tensors of one kernel call. Allocate every output first ({@link output}),
 * then take views ({@link view}): allocating on the wasm heap may grow it, which detaches earlier
 * views.
 */
export class FusedMemory {
  private readonly b: AnyBackend;
  private readonly wasm: boolean;

  /** @param backend the backend object handed to the kernel function */
  constructor(backend: unknown) {
    this.b = backend as AnyBackend;
    this.wasm = typeof this.b.typedArrayFromHeap === 'function';
  }

  /** A new float32 output of `shape` (contents undefined until written through {@link view}). */
  output(shape: number[]): tf.TensorInfo {
    if (this.wasm) return this.b.makeOutput!(shape, 'float32');
    const n = shape.reduce((a, d) => a * d, 1);
    return this.b.makeTensorInfo!(shape, 'float32', new Float32Array(n));
  }

  /**
   * The float32 data of `t`: a view on the backend's memory (write only to outputs), or on cpu, for
   * data kept in another typed array, a float copy.
   */
  view(t: tf.TensorInfo): Float32Array {
    if (this.wasm) return this.b.typedArrayFromHeap!(t);
    const v = this.b.data!.get(t.dataId).values;
    if (v instanceof Float32Array) return v;
    // the cpu backend may keep a float32 tensor cast from bool as bytes: read it as a float copy
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Float32Array.from(v as Uint8Array);
    throw new Error(`fused kernel: no typed data for a ${t.dtype} tensor`);
  }

  /** The int32 data of `t` in place (the wasm heap, or the cpu backend's array): index inputs, read only. */
  int32(t: tf.TensorInfo): Int32Array {
    if (t.dtype !== 'int32') throw new Error(`fused kernel: int32 data wanted, got a ${t.dtype} tensor`);
    const v = this.wasm ? (this.b.typedArrayFromHeap!(t) as unknown) : this.b.data!.get(t.dataId).values;
    if (v instanceof Int32Array) return v;
    throw new Error('fused kernel: no int32 data for an int32 tensor');
  }
}

/** Names registered by {@link registerFused}. */
const registeredNames = new Set<string>();

/**
 * Registers `kernelFunc` as kernel `name` for the wasm and cpu backends, once: later calls return at
 * once, so a kernel's entry function calls it every time (registering on first use).
 */
export function registerFused(name: string, kernelFunc: tf.KernelFunc): void {
  if (registeredNames.has(name)) return;
  registeredNames.add(name);
  for (const backendName of ['wasm', 'cpu'] as const) {
    if (!tf.getKernel(name, backendName)) tf.registerKernel({ kernelName: name, backendName, kernelFunc });
  }
}
