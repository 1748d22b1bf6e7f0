/**
 * Fused kernel `CinderFusedFilter` (wasm and cpu backends): one step of an exponential filter,
 * element-wise over tensors of one shape, in one kernel instead of two or three tfjs ops (on wasm
 * each op costs ≈ 10–35 µs at a few thousand elements):
 *
 *     out[k] = f(f(x[k]·d) + y[k])            (no gain: a conductance)
 *     out[k] = f(f(x[k]·d) + f(y[k]·c))       (gain c: a current)
 *
 * `f` is rounding to float32, `d` and `c` float32 constants. A product of two float32 values is
 * exact in float64 and a sum of two float32 values rounded once from float64 to float32 equals the
 * float32 sum (float64 carries more than 2·24 + 2 bits), so each step equals the float32 op it
 * replaces and the result is bit-identical to `tf.add(tf.mul(x, d), y)` (resp. with `tf.mul(y, c)`)
 * on wasm and cpu, NaN, ±Infinity, −0 and subnormals included.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import { FusedMemory, registerFused } from './fused-memory.js';

/** Kernel name. */
export const FUSED_FILTER = 'CinderFusedFilter';

interface FilterAttrs {
  /** Decay factor (float32). */
  d: number;
  /** Gain on the input (float32), or NaN for none. */
  c: number;
}

function kernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo {
  const mem = new FusedMemory(args.backend);
  const xInfo = args.inputs.x!;
  const outInfo = mem.output([...xInfo.shape]);
  const x = mem.view(xInfo);
  const y = mem.view(args.inputs.y!);
  const out = mem.view(outInfo);
  const { d, c } = args.attrs as unknown as FilterAttrs;
  const f = Math.fround;
  const n = out.length;
  if (Number.isNaN(c)) {
    for (let k = 0; k < n; k++) out[k] = f(x[k]! * d) + y[k]!;
  } else {
    for (let k = 0; k < n; k++) out[k] = f(x[k]! * d) + f(y[k]! * c);
  }
  return outInfo;
}

/**
 * `x·d + c·y` for float32 tensors `x` and `y` of one shape: a new float32 tensor, bit-identical to
 * `tf.add(tf.mul(x, tf.scalar(d)), tf.mul(y, tf.scalar(c)))`, or to `tf.add(tf.mul(x, tf.scalar(d)), y)`
 * when `c` is omitted (see the module notes). `d` and `c` are rounded to float32 first, as a float32
 * scalar tensor holds them. Only where `fusedBackend()` names one (wasm, cpu).
 * @throws CinderArgumentError unless `x` and `y` are float32 tensors of one shape and `d` (and `c`, if given) a number
 */
export function fusedFilter(x: tf.Tensor, y: tf.Tensor, d: number, c?: number): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.dtype !== 'float32') throw new CinderArgumentError('x', x, 'a float32 tensor');
  if (!(y instanceof tf.Tensor) || y.dtype !== 'float32' || y.rank !== x.rank || y.shape.some((n, i) => n !== x.shape[i])) {
    throw new CinderArgumentError('y', y, `a float32 tensor of shape [${x.shape.join(', ')}]`);
  }
  if (typeof d !== 'number') throw new CinderArgumentError('d', d, 'a number');
  if (c !== undefined && (typeof c !== 'number' || Number.isNaN(c))) throw new CinderArgumentError('c', c, 'a number (not NaN) or undefined');
  registerFused(FUSED_FILTER, kernel as unknown as tf.KernelFunc);
  const attrs: FilterAttrs = { d: Math.fround(d), c: c === undefined ? NaN : Math.fround(c) };
  return tf.engine().runKernel(FUSED_FILTER, { x, y } as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
