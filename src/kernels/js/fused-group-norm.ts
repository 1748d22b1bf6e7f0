/**
 * `CinderFusedGroupNorm`: the p-norms of contiguous groups of a float32 tensor in one pass on the
 * wasm and cpu backends, for `Normalization` (tfjs's wasm reductions take ≈ 60 µs each on a
 * `[100, 784]` weight, and an overflow-safe p-norm built from ops needs two of them).
 *
 * For G groups of L consecutive values (`x` row-major `[G·L]`), in float64:
 * - p = 2: `n_g = √(Σ x²)` — float32 values squared neither overflow nor underflow in float64;
 * - other p: `n_g = m·(Σ (|x|/m)^p)^{1/p}` with `m = max |x|` (0 for an all-zero group);
 * then rounded to float32. A group holding NaN or ±Inf gives NaN (as the ops' scaled form
 * `Inf/Inf`), so the caller's non-finite marking applies.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import { FusedMemory, registerFused } from './fused-memory.js';

/** Kernel name. */
export const FUSED_GROUP_NORM = 'CinderFusedGroupNorm';

function kernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo {
  const { groups: G, order: p, outShape } = args.attrs as { groups: number; order: number; outShape: number[] };
  const mem = new FusedMemory(args.backend);
  const xInfo = args.inputs.x!;
  const outInfo = mem.output(outShape);
  const x = mem.view(xInfo);
  const y = mem.view(outInfo);
  const L = G === 0 ? 0 : x.length / G;
  if (p === 2) {
    // one pass: float32 values squared neither overflow nor underflow in float64, so a non-finite sum
    // means a NaN or ±Inf value
    for (let g = 0; g < G; g++) {
      let s = 0;
      for (let k = g * L, e = k + L; k < e; k++) s += x[k]! * x[k]!;
      y[g] = s <= Number.MAX_VALUE ? Math.sqrt(s) : NaN;
    }
    return outInfo;
  }
  for (let g = 0; g < G; g++) {
    const o = g * L;
    let m = 0;
    let finite = true;
    for (let k = 0; k < L; k++) {
      const a = Math.abs(x[o + k]!);
      if (!(a <= 3.4028234663852886e38)) finite = false; // NaN or ±Inf
      else if (a > m) m = a;
    }
    if (!finite) {
      y[g] = NaN;
      continue;
    }
    let s = 0;
    if (m > 0) {
      for (let k = 0; k < L; k++) s += Math.pow(Math.abs(x[o + k]!) / m, p);
      y[g] = m * Math.pow(s, 1 / p);
    } else y[g] = 0;
  }
  return outInfo;
}

/**
 * The p-norm (finite p > 0) of each group of `x` (float32) over its trailing axes from `firstAxis`
 * on (0: one group, the whole tensor), kept as size-1 axes (shape of `tf.sum(x, axes, true)`).
 * Only where `fusedBackend()` names one (wasm, cpu).
 * @throws CinderArgumentError unless `x` is float32, `firstAxis` an axis index (or 0) and `order` finite > 0
 */
export function fusedGroupNorm(x: tf.Tensor, firstAxis: number, order: number): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.dtype !== 'float32') throw new CinderArgumentError('x', x, 'a float32 tensor');
  if (!Number.isInteger(firstAxis) || firstAxis < 0 || firstAxis > Math.max(0, x.rank - 1)) throw new CinderArgumentError('firstAxis', firstAxis, `an axis of the rank-${x.rank} tensor`);
  if (!(Number.isFinite(order) && order > 0)) throw new CinderArgumentError('order', order, 'a finite number > 0');
  const outShape = x.shape.map((d, i) => (i >= firstAxis ? 1 : d));
  const groups = outShape.reduce((a, d) => a * d, 1);
  registerFused(FUSED_GROUP_NORM, kernel as unknown as tf.KernelFunc);
  return tf.engine().runKernel(FUSED_GROUP_NORM, { x } as unknown as tf.NamedTensorMap, { groups, order, outShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
