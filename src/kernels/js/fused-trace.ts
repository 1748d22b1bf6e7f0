/**
 * Fused kernel `CinderFusedTrace` (wasm and cpu backends): one step of an exponential spike trace
 * in one pass instead of two or three element-wise kernels. With decay α and amplitude A (both
 * float32) and spikes h, every non-zero h (NaN included, ±0 not) counting as one spike:
 * - cumulative: `x ← f(f(α·x) + f(A·[h ≠ 0]))` (the op path's `add(mul(α, x), mul(A, cast(h ≠ 0)))`;
 *   for 0/1 spikes `f(A·h)` exactly; a spike value of 2 adds A, not 2A, as the nearest trace sets A);
 * - nearest: `x ← h ≠ 0 ? A : f(α·x)` (the op path's `where(h ≠ 0, A, mul(α, x))`);
 * - then flush to zero: a result under the smallest normal float32 (2⁻¹²⁶ ≈ 1.18e-38) in magnitude
 *   becomes +0. In float32's subnormal range the decay stalls: `f(α·x)` rounds back to x for
 *   x ≤ 15·2⁻¹⁴⁹ at α = e^{−1/30}, so a silent unit's trace would stay at a constant subnormal for
 *   ever instead of reaching 0, and every later product with it is a subnormal operand, which x86
 *   handles slowly (measured: the quickstart network at B = 20 went from 0.20 to 0.26 ms per step
 *   after step ≈ 2,500, when half the postsynaptic traces had stalled). Flushed values differ from
 *   the op path's by under 2⁻¹²⁶, and a weight change made from them (a product with a learning
 *   rate or a factor ≤ 1) underflows to 0 in float32 either way.
 * On wasm with SIMD the pass runs 4 lanes at a time in `fused-simd.ts` (bit-identical results).
 * @module
 */
import { tf } from '../../core/tf.js';
import { FusedMemory, registerFused } from './fused-memory.js';
import { MIN_NORMAL, simdLoops } from './fused-simd.js';

/** Kernel name. */
export const FUSED_TRACE = 'CinderFusedTrace';

const f = Math.fround;

interface TraceAttrs {
  decay: number;
  amplitude: number;
  nearest: boolean;
}

function kernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo {
  const a = args.attrs as unknown as TraceAttrs;
  const mem = new FusedMemory(args.backend);
  const prevInfo = args.inputs.prev!;
  const outInfo = mem.output([...prevInfo.shape]);
  const prev = mem.view(prevInfo);
  const h = mem.view(args.inputs.h!);
  const out = mem.view(outInfo);
  const alpha = f(a.decay);
  const amp = f(a.amplitude);
  const n = out.length;
  // wasm with SIMD: whole vectors in the SIMD loop (the same float32 operations), the tail here
  const L = simdLoops();
  let k0 = 0;
  if (L) {
    L.trace(prev.byteOffset, h.byteOffset, out.byteOffset, n, alpha, amp, a.nearest ? 1 : 0);
    k0 = n - (n % 4);
  }
  for (let k = k0; k < n; k++) {
    const x = a.nearest ? (h[k] !== 0 ? amp : f(alpha * prev[k]!)) : f(f(alpha * prev[k]!) + f(amp * (h[k] !== 0 ? 1 : 0)));
    out[k] = Math.abs(x) < MIN_NORMAL ? 0 : x;
  }
  return outInfo;
}

/**
 * One trace step on wasm/cpu (see `fusedBackend`): `prev` and the spikes `h` are float32 tensors of
 * one shape; returns the new trace (a new tensor).
 */
export function fusedTrace(prev: tf.Tensor, h: tf.Tensor, decay: number, amplitude: number, nearest: boolean): tf.Tensor {
  registerFused(FUSED_TRACE, kernel as unknown as tf.KernelFunc);
  return tf.engine().runKernel(FUSED_TRACE, { prev, h } as unknown as tf.NamedTensorMap, { decay, amplitude, nearest } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
