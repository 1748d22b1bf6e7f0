/**
 * `CinderFusedGroupNorm`: p-norms of groups of a float32 tensor, and the whole `Normalization`
 * transform, in one pass on the wasm and cpu backends (tfjs's wasm reductions take ≈ 60 µs each on a
 * `[100, 784]` weight; the transform built from ops is 6–13 kernels, fused it is 2).
 *
 * Layout: `x` is viewed as `[A, R, C]` row-major, the R axis being the normalized axes (a contiguous
 * run of axes; A the axes before, C the axes after); a group is one `(a, c)`, G = A·C groups.
 *
 * Norm of a group, accumulated in float64, then rounded to float32 (`n`):
 * - p = 1: `Σ |x|`; p = ∞: `max |x|`; p = 2: `√(Σ x²)` (float32 values squared neither overflow nor
 *   underflow in float64);
 * - integer p from 3 to {@link FUSED_MAX_INTEGER_ORDER}: `m·(Σ (|x|/m)^p)^{1/p}` with `m = max |x|`
 *   (0 for an all-zero group), the power by repeated multiplication;
 * - a group holding NaN or ±Inf, or whose norm is beyond float32, gives NaN.
 * Other orders (non-integer, or large) are not fused: a float64 `Math.pow` per value costs ≈ 60 ns,
 * 15× tfjs's wasm `pow`.
 *
 * Factor mode: `f = s / max(n, ε)` per group (s and ε rounded to float32, f rounded), NaN for a group
 * whose `n` is NaN; `fusedNormalize` multiplies x by it (every value of a non-finite group becomes
 * NaN, as the ops' `+ (n − n)` marking).
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import { FusedMemory, registerFused } from './fused-memory.js';

/** Kernel name. */
export const FUSED_GROUP_NORM = 'CinderFusedGroupNorm';

/** The largest integer order p computed by the fused pass (see {@link fusedNormOrder}). */
export const FUSED_MAX_INTEGER_ORDER = 16;

/** Whether the fused pass computes order `p`: 1, 2, ∞ and the integers 3 … {@link FUSED_MAX_INTEGER_ORDER}. */
export function fusedNormOrder(p: number): boolean {
  return p === Infinity || (Number.isInteger(p) && p >= 1 && p <= FUSED_MAX_INTEGER_ORDER);
}

interface Attrs {
  /** A, R, C of the layout. */
  outer: number;
  reduce: number;
  inner: number;
  order: number;
  /** 'norm': the norms n; 'factor': the factors s / max(n, ε) (both of shape `outShape`). */
  mode: 'norm' | 'factor';
  outShape: number[];
  scale: number;
  epsilon: number;
}

/** `u^p` for an integer p ≥ 1 by repeated squaring. */
function ipow(u: number, p: number): number {
  let r = 1;
  let b = u;
  let e = p;
  while (e > 0) {
    if (e & 1) r *= b;
    b *= b;
    e >>= 1;
  }
  return r;
}

/** What one pass accumulates per group. */
const enum Pass {
  /** Σ |x| */
  Abs,
  /** Σ x² */
  Square,
  /** max |x| (`Math.max`: NaN once a value is NaN; +Inf for ±Inf, marked NaN with the norm) */
  Max,
  /** Σ (|x|/m_g)^p */
  ScaledPower,
}

/**
 * One pass over every value of every group into `acc` (see {@link Pass}; `m`, `p` for ScaledPower):
 * groups of `R` consecutive values when `C = 1` (a tight loop per group), else strided by `C` (the
 * inner loop over `c`). Plain loops per case: a callback per value is not inlined (several times slower).
 */
function accumulate(pass: Pass, x: Float32Array, A: number, R: number, C: number, acc: Float64Array, m: Float64Array | null, p: number): void {
  if (C === 1) {
    // group g holds x[g·R … g·R + R − 1]: a local accumulator per group
    for (let g = 0; g < A; g++) {
      const e = (g + 1) * R;
      let s = acc[g]!;
      switch (pass) {
        case Pass.Abs:
          for (let k = g * R; k < e; k++) s += Math.abs(x[k]!);
          break;
        case Pass.Square:
          for (let k = g * R; k < e; k++) s += x[k]! * x[k]!;
          break;
        case Pass.Max:
          for (let k = g * R; k < e; k++) s = Math.max(s, Math.abs(x[k]!));
          break;
        case Pass.ScaledPower: {
          const mg = m![g]!;
          if (mg > 0) for (let k = g * R; k < e; k++) s += ipow(Math.abs(x[k]!) / mg, p);
          break;
        }
      }
      acc[g] = s;
    }
    return;
  }
  // group a·C + c holds x[(a·R + r)·C + c], r = 0 … R − 1: the inner loop runs over c
  for (let a = 0; a < A; a++) {
    for (let r = 0; r < R; r++) {
      const o = (a * R + r) * C;
      const g0 = a * C;
      switch (pass) {
        case Pass.Abs:
          for (let c = 0; c < C; c++) acc[g0 + c] += Math.abs(x[o + c]!);
          break;
        case Pass.Square:
          for (let c = 0; c < C; c++) acc[g0 + c] += x[o + c]! * x[o + c]!;
          break;
        case Pass.Max:
          for (let c = 0; c < C; c++) acc[g0 + c] = Math.max(acc[g0 + c]!, Math.abs(x[o + c]!));
          break;
        case Pass.ScaledPower:
          for (let c = 0; c < C; c++) if (m![g0 + c]! > 0) acc[g0 + c] += ipow(Math.abs(x[o + c]!) / m![g0 + c]!, p);
          break;
      }
    }
  }
}

/** The float32-rounded norms of the G = A·C groups of `x` (length A·R·C). */
function groupNorms(x: Float32Array, A: number, R: number, C: number, p: number): Float32Array {
  const G = A * C;
  const acc = new Float64Array(G);
  const out = new Float32Array(G);
  if (p === 1 || p === 2) {
    accumulate(p === 1 ? Pass.Abs : Pass.Square, x, A, R, C, acc, null, p);
    // a non-finite float64 sum means a NaN or ±Inf value (finite float32 values cannot overflow it)
    for (let g = 0; g < G; g++) out[g] = acc[g]! <= Number.MAX_VALUE ? (p === 2 ? Math.sqrt(acc[g]!) : acc[g]!) : NaN;
  } else {
    // m = max |x| per group (p = ∞: the norm itself): NaN for a group holding NaN, +Inf for one holding
    // ±Inf (then (|x|/m)^p sums to NaN for the Inf itself: ∞/∞)
    accumulate(Pass.Max, x, A, R, C, acc, null, p);
    if (p === Infinity) out.set(acc);
    else {
      const m = acc.slice();
      acc.fill(0);
      accumulate(Pass.ScaledPower, x, A, R, C, acc, m, p);
      // an all-zero group (m = 0) has norm 0; a NaN m stays NaN
      for (let g = 0; g < G; g++) out[g] = m[g]! > 0 ? m[g]! * Math.pow(acc[g]!, 1 / p) : m[g]! === 0 ? 0 : NaN;
    }
  }
  // a norm beyond float32 is +Inf after rounding: NaN, as the ops' marking of a non-finite norm
  for (let g = 0; g < G; g++) if (out[g] === Infinity) out[g] = NaN;
  return out;
}

function kernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo {
  const at = args.attrs as unknown as Attrs;
  const A = at.outer;
  const R = at.reduce;
  const C = at.inner;
  const mem = new FusedMemory(args.backend);
  const xInfo = args.inputs.x!;
  const outInfo = mem.output(at.outShape);
  const x = mem.view(xInfo);
  const y = mem.view(outInfo);
  const n = groupNorms(x, A, R, C, at.order);
  if (at.mode === 'norm') {
    y.set(n);
    return outInfo;
  }
  // factor mode: f = s / max(n, ε) in float32, NaN for a group whose n is NaN (y rounds)
  const sc = Math.fround(at.scale);
  const eps = Math.fround(at.epsilon);
  for (let g = 0; g < n.length; g++) y[g] = n[g]! > eps ? sc / n[g]! : n[g] === n[g] ? sc / eps : NaN;
  return outInfo;
}

/** A contiguous run of normalized axes `[first, last]` of `shape` as the `[A, R, C]` layout. */
function layout(x: tf.Tensor, first: number, last: number): { outer: number; reduce: number; inner: number; outShape: number[] } {
  if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last < first || last > Math.max(0, x.rank - 1)) {
    throw new CinderArgumentError('axes', [first, last], `a run of axes [first, last] of the rank-${x.rank} tensor`);
  }
  const prod = (ds: number[]) => ds.reduce((a, d) => a * d, 1);
  const s = x.shape;
  return {
    outer: prod(s.slice(0, first)),
    reduce: prod(s.slice(first, last + 1)),
    inner: prod(s.slice(last + 1)),
    outShape: s.map((d, i) => (i >= first && i <= last ? 1 : d)),
  };
}

function check(x: tf.Tensor, order: number): void {
  if (!(x instanceof tf.Tensor) || x.dtype !== 'float32') throw new CinderArgumentError('x', x, 'a float32 tensor');
  if (!fusedNormOrder(order)) throw new CinderArgumentError('order', order, `1, 2, Infinity or an integer up to ${FUSED_MAX_INTEGER_ORDER}`);
}

/**
 * The p-norm of each group of `x` (float32) over the contiguous axes `first … last` (rank 0: the
 * one value), kept as size-1 axes (the shape of `tf.sum(x, axes, true)`). Only where
 * `fusedBackend()` names one (wasm, cpu).
 * @throws CinderArgumentError unless `x` is float32, `[first, last]` a run of its axes and
 * `fusedNormOrder(order)`
 */
export function fusedGroupNorm(x: tf.Tensor, first: number, last: number, order: number): tf.Tensor {
  check(x, order);
  const l = layout(x, first, last);
  registerFused(FUSED_GROUP_NORM, kernel as unknown as tf.KernelFunc);
  return tf.engine().runKernel(FUSED_GROUP_NORM, { x } as unknown as tf.NamedTensorMap, { ...l, order, mode: 'norm', scale: 1, epsilon: 1 } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * `s · x / max(‖x‖_p, ε)` per group over the contiguous axes `first … last` as two kernels: the fused
 * pass gives each group's factor `f = s / max(n, ε)` (float32; NaN when the norm is not finite, see
 * the module notes), then `x · f` (tfjs's multiply, SIMD on wasm — faster than a JS loop over x).
 * `x · (s / max(n, ε))` and the ops' `s · (x / max(n, ε))` differ by at most one rounding (≤ 1 ulp
 * each). Only where `fusedBackend()` names one. Call inside `tf.tidy` (the factors are freed with it).
 * @throws CinderArgumentError as {@link fusedGroupNorm}
 */
export function fusedNormalize(x: tf.Tensor, first: number, last: number, order: number, scale: number, epsilon: number): tf.Tensor {
  check(x, order);
  const l = layout(x, first, last);
  registerFused(FUSED_GROUP_NORM, kernel as unknown as tf.KernelFunc);
  const f = tf.engine().runKernel(FUSED_GROUP_NORM, { x } as unknown as tf.NamedTensorMap, { ...l, order, mode: 'factor', scale, epsilon } as unknown as tf.NamedAttrMap) as tf.Tensor;
  return tf.mul(x, f);
}
