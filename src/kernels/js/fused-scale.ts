/**
 * Fused kernel `CinderFusedScale` (wasm and cpu backends): an element-wise product with a constant
 * factor or with a per-element factor repeated over the batch, in one pass without tfjs's
 * broadcasting machinery (on wasm a `[20, 784]` × scalar `tf.mul` costs ≈ 30–40 µs, this ≈ 2 µs).
 *
 * - scalar: `y[k] = f(x[k]·s)`;
 * - rows: `y[b·N + n] = f(x[b·N + n]·w[n])` for `x` `[B, ...S]` and `w` with N = |S| elements.
 *
 * `f` is rounding to float32: the product of two float32 values is exact in float64 and rounded
 * once on the store, so the result is bit-identical to `tf.mul` (also for NaN, ±Infinity and −0).
 * On wasm with SIMD the scalar form runs 4 lanes at a time (`fused-simd.ts`).
 * @module
 */
import { tf } from '../../core/tf.js';
import { FusedMemory, registerFused } from './fused-memory.js';
import { simdLoops } from './fused-simd.js';

/** Kernel name. */
export const FUSED_SCALE = 'CinderFusedScale';

interface ScaleAttrs {
  /** The constant factor (float32), or NaN with an input `w`. */
  s: number;
}

function kernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo {
  const mem = new FusedMemory(args.backend);
  const xInfo = args.inputs.x!;
  const outInfo = mem.output([...xInfo.shape]);
  const x = mem.view(xInfo);
  const y = mem.view(outInfo);
  const n = y.length;
  const wInfo = args.inputs.w;
  if (wInfo) {
    const w = mem.view(wInfo);
    const N = w.length;
    for (let b = 0; b < n; b += N) for (let k = 0; k < N; k++) y[b + k] = x[b + k]! * w[k]!;
    return outInfo;
  }
  const s = (args.attrs as unknown as ScaleAttrs).s;
  const L = simdLoops();
  let k0 = 0;
  if (L) {
    L.scale(x.byteOffset, y.byteOffset, n, s);
    k0 = n - (n % 4);
  }
  for (let k = k0; k < n; k++) y[k] = x[k]! * s;
  return outInfo;
}

/**
 * `x·s` for a constant `s` (rounded to float32 first, as a float32 scalar tensor holds it): a new
 * float32 tensor, bit-identical to `tf.mul(x, tf.scalar(s))`. wasm/cpu backends only (see
 * `fusedBackend`); `x` float32.
 */
export function fusedScale(x: tf.Tensor, s: number): tf.Tensor {
  registerFused(FUSED_SCALE, kernel as unknown as tf.KernelFunc);
  return tf.engine().runKernel(FUSED_SCALE, { x } as unknown as tf.NamedTensorMap, { s: Math.fround(s) } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * `x·w` with `x` `[B, ...S]` and `w` of the shape S (or any shape of |S| elements): the factor
 * repeated over the batch; bit-identical to `tf.mul(x, w)`. wasm/cpu backends only; both float32.
 */
export function fusedScaleRows(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  registerFused(FUSED_SCALE, kernel as unknown as tf.KernelFunc);
  return tf.engine().runKernel(FUSED_SCALE, { x, w } as unknown as tf.NamedTensorMap, { s: NaN } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
