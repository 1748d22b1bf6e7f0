/**
 * Fused kernel `CinderFusedScaledTranspose` (wasm and cpu backends): `out[j, i] = f(x[i, j] / d)`
 * for a 2-D `x`, in one JavaScript pass over the backend's memory. On wasm this replaces a
 * transpose (and a scalar division) of small factors, whose dispatch costs more than the work; the
 * division is float32 (`Math.fround` of the exact quotient), as the op path's `div`.
 * @module
 */
import { tf } from '../../core/tf.js';
import { FusedMemory, registerFused } from './fused-memory.js';

/** Kernel name. */
export const FUSED_SCALED_TRANSPOSE = 'CinderFusedScaledTranspose';

const f = Math.fround;

function kernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo {
  const { divisor } = args.attrs as unknown as { divisor: number };
  const mem = new FusedMemory(args.backend);
  const xInfo = args.inputs.x!;
  const [R, C] = xInfo.shape as [number, number];
  const outInfo = mem.output([C, R]);
  const x = mem.view(xInfo);
  const out = mem.view(outInfo);
  const d = f(divisor);
  if (d === 1) {
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = x[r * C + c]!;
  } else {
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = f(x[r * C + c]! / d);
  }
  return outInfo;
}

/** `transpose(x) / divisor` for a float32 `x` `[R, C]` on wasm/cpu (see `fusedBackend`): `[C, R]`, a new tensor. */
export function fusedTranspose(x: tf.Tensor, divisor = 1): tf.Tensor {
  registerFused(FUSED_SCALED_TRANSPOSE, kernel as unknown as tf.KernelFunc);
  return tf.engine().runKernel(FUSED_SCALED_TRANSPOSE, { x }, { divisor } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
