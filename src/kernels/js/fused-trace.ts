/**
 * Fused kernel `CinderFusedTrace` (wasm and cpu backends): one step of an exponential spike trace
 * in one pass instead of two or three element-wise kernels. With decay α and amplitude A (both
 * float32) and spikes h:
 * - cumulative: `x ← f(f(α·x) + f(A·h))` (the op path's `add(mul(α, x), mul(A, h))`);
 * - nearest: `x ← h ≠ 0 ? A : f(α·x)` (the op path's `where(h ≠ 0, A, mul(α, x))`).
 * On wasm with SIMD the pass runs 4 lanes at a time in `fused-simd.ts` (bit-identical results).
 * @module
 */
import { tf } from '../../core/tf.js';
import { FusedMemory, registerFused } from './fused-memory.js';
import { simdLoops } from './fused-simd.js';

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
  if (a.nearest) for (let k = k0; k < n; k++) out[k] = h[k] !== 0 ? amp : f(alpha * prev[k]!);
  else for (let k = k0; k < n; k++) out[k] = f(f(alpha * prev[k]!) + f(amp * h[k]!));
  return outInfo;
}

let registered = false;

/**
 * One trace step on wasm/cpu (see `fusedBackend`): `prev` and the spikes `h` are float32 tensors of
 * one shape; returns the new trace (a new tensor).
 */
export function fusedTrace(prev: tf.Tensor, h: tf.Tensor, decay: number, amplitude: number, nearest: boolean): tf.Tensor {
  if (!registered) {
    registerFused(FUSED_TRACE, kernel as unknown as tf.KernelFunc);
    registered = true;
  }
  return tf.engine().runKernel(FUSED_TRACE, { prev, h } as unknown as tf.NamedTensorMap, { decay, amplitude, nearest } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
