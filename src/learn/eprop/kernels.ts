/**
 * The e-prop kernel seam: which scan/gradient kernel runs on which backend, and the glue to the
 * fused WGSL kernels of `src/kernels/webgpu` (which know nothing of `learn`).
 *
 * - `js`: event-driven float64 JavaScript (default on wasm and cpu);
 * - `tf`: tfjs ops (default on the native TensorFlow backend, any backend);
 * - `webgpu`: one fused WGSL dispatch for the scan and one for the gradients (default on webgpu;
 *   asynchronous only: use the `*Async` methods of `EProp`).
 * @module
 */
import { tf } from '../../core/tf.js';
import { epropGradientsWebgpu, epropScanWebgpu } from '../../kernels/webgpu/eprop.js';
import type { RecurrentConstants } from './recurrent.js';
import type { ForwardRecord } from './record.js';
import type { EPropGradientTensors } from './gradients.js';

/** Scan kernels: `js`, `tf`, `webgpu` or `auto` (see the module text). */
export const EPROP_KERNELS = ['auto', 'js', 'tf', 'webgpu'] as const;
/** One of {@link EPROP_KERNELS}. */
export type EPropKernel = (typeof EPROP_KERNELS)[number];

/** The kernel `auto` picks on a backend. */
export function defaultEPropKernel(backend: string = tf.getBackend()): Exclude<EPropKernel, 'auto'> {
  if (backend === 'wasm' || backend === 'cpu') return 'js';
  if (backend === 'webgpu') return 'webgpu';
  return 'tf';
}

/** A fused scan kept on the device (for the gradient kernel) plus its downloaded record. */
export interface WebgpuScan {
  /** ψ and z downloaded (one `await data()`). */
  record: ForwardRecord;
  /** The scan output [B, T, n, 2] on the device; dispose it when done. */
  output: tf.Tensor;
}

/** Runs the fused WGSL scan and downloads ψ and z once. */
export async function forwardWebgpu(c: RecurrentConstants, wIn: tf.Tensor, wRec: tf.Tensor, inputs: tf.Tensor, beta: tf.Tensor): Promise<WebgpuScan> {
  const output = epropScanWebgpu(c, wIn, wRec, inputs, beta);
  let both: Float32Array;
  try {
    both = (await output.data()) as Float32Array;
  } catch (err) {
    output.dispose();
    throw err;
  }
  const size = both.length / 2;
  const psi = new Float32Array(size);
  const z = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    psi[i] = both[2 * i]!;
    z[i] = both[2 * i + 1]! > 0 ? 1 : 0;
  }
  const [B, T] = inputs.shape as [number, number];
  return { record: { batch: B, steps: T, n: c.n, psi, z }, output };
}

/** The fused WGSL gradients from the scan on the device and the backward factors D and eOut. */
export function gradientsWebgpu(inputs: tf.Tensor, scan: WebgpuScan, d: Float64Array, eOut: Float64Array, nOut: number): EPropGradientTensors {
  const [B, T] = inputs.shape as [number, number];
  const n = scan.record.n;
  const dt = tf.tensor3d(Float32Array.from(d), [B, T, n]);
  const et = tf.tensor3d(Float32Array.from(eOut), [B, T, nOut]);
  try {
    return epropGradientsWebgpu(inputs, scan.output, dt, et);
  } finally {
    tf.dispose([dt, et]);
  }
}
