/**
 * Fused kernel `CinderFusedOuterSimd` (wasm backend, SIMD): the two-part pair-rule weight update of
 * a dense `[P, Q]` parameter, both batch sums event-driven, in WebAssembly SIMD loops on the
 * backend's memory (see `fused-simd.ts`). For a part S (the bounded one: post spikes ⊗ pre trace)
 * and a part D (post trace ⊗ pre spikes), divisors d_S, d_D, sides σ_S, σ_D = ±1:
 *
 * - `S[o, :] = Σ_{b: postS[b,o] ≠ 0} f(postS[b, o]/d_S)·preS[b, :]`, only on the rows o with a
 *   non-zero factor (other rows of S are 0 and never touched); when every non-zero factor is the
 *   same value v (spikes), `S[o, :] = f(v/d_S)·Σ_b preS[b, :]` (one product per element);
 * - `D[:, i] = Σ_{b: preD[b,i] ≠ 0} f(preD[b, i]/d_D)·postD[b, :]`, four columns at a time into a
 *   small block (no `[P, Q]` matrix of D), turned into rows with lane shuffles; likewise summed
 *   first and scaled once when every non-zero factor is the same;
 * - `v = (w + σ_D·D) + m·S` with `m = lim − w` for a multiplicatively bounded S part (upper bound
 *   `lim = max` when it potentiates; lower bound `lim = min` when it depresses, where
 *   `−(w − min)·S = (min − w)·S`), else `m = σ_S`; `m·S` counts as 0 where S = 0;
 * - the clamping hook's rule: finite `v` clamped to [lo, hi], NaN and ±Infinity kept; the result
 *   is written twice, as the output and transposed into the buffer the SIMD product reads
 *   (`transposedWeight`), so the next forward does not transpose it again.
 *
 * Every operation is one float32 operation (`f` = rounding to float32); both sums run in sample
 * order from 0 (`0 + x₀ + x₁ + …`). The op path sums the batch first and divides once, in its matrix product's order;
 * here each factor is divided before the float32 sum: results agree with the op path within
 * float32 tolerance. As in the other event-driven kernels, terms with a zero factor are skipped,
 * so a non-finite factor or weight times 0 (NaN in the op path) does not reach the weight.
 *
 * Cost per step: B·(P·Q)/4·(density of S's postsynaptic factors + density of D's presynaptic
 * factors) vector multiply-adds, summed 32 floats at a time in registers, one pass over `[P, Q]`
 * (read w, write the output and its transpose) and two branch-free scans of the factors.
 * @module
 */
import { tf } from '../../core/tf.js';
import { FusedMemory, registerFused } from './fused-memory.js';
import { ScratchCache, simdLoops, transposedWeight, type SimdLoops } from './fused-simd.js';

/** Kernel name. */
export const FUSED_OUTER_SIMD = 'CinderFusedOuterSimd';

/** Attributes of one call (see the module comment). */
export interface OuterSimdAttrs {
  batch: number;
  rows: number;
  cols: number;
  divS: number;
  divD: number;
  signS: number;
  signD: number;
  bounded: boolean;
  lim: number;
  lo: number;
  hi: number;
}

/** Per-shape scratch in the backend's memory (byte offsets). */
interface Scratch {
  /** Rows of S `[P, Q]` (only rows with entries are written and read). */
  s: number;
  /** The D part of four columns, `[4, P]`. */
  dblk: number;
  idxS: number;
  valS: number;
  startS: number;
  idxD: number;
  valD: number;
  startD: number;
  /** The transpose of a factor for its column lists, `B·max(P, Q)` floats. */
  spare: number;
}
/** The scratch per shape, for the current binding of the loops. */
const scratch = new ScratchCache<Scratch>();

function scratchFor(L: SimdLoops, B: number, P: number, Q: number): Scratch {
  return scratch.get(L, `${B}|${P}|${Q}`, () => ({
    s: L.alloc(P * Q * 4), dblk: L.alloc(4 * P * 4),
    idxS: L.alloc(B * P * 4 + 16), valS: L.alloc(B * P * 4 + 16), startS: L.alloc((P + 1) * 4),
    idxD: L.alloc(B * Q * 4 + 16), valD: L.alloc(B * Q * 4 + 16), startD: L.alloc((Q + 1) * 4),
    spare: L.alloc(B * Math.max(P, Q) * 4),
  }));
}

function kernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo {
  const a = args.attrs as unknown as OuterSimdAttrs;
  const { batch: B, rows: P, cols: Q } = a;
  const L = simdLoops()!;
  const mem = new FusedMemory(args.backend);
  const outInfo = mem.output([P, Q]);
  const s = scratchFor(L, B, P, Q); // may grow the memory: before taking views
  const wt = transposedWeight(L, P, Q);
  const w = mem.view(args.inputs.w!);
  const postS = mem.view(args.inputs.postS!);
  const preS = mem.view(args.inputs.preS!);
  const postD = mem.view(args.inputs.postD!);
  const preD = mem.view(args.inputs.preD!);
  const out = mem.view(outInfo);
  const { i32 } = L.heap();
  // S's lists by postsynaptic unit (its rows), D's by presynaptic unit (its columns), each value
  // divided by its part's divisor (a float32 quotient)
  L.compactColumns(postS.byteOffset, B, P, s.idxS, s.valS, s.startS, s.spare);
  L.compactColumns(preD.byteOffset, B, Q, s.idxD, s.valD, s.startD, s.spare);
  const nS = i32[(s.startS >> 2) + P]!;
  const nD = i32[(s.startD >> 2) + Q]!;
  divideList(L, s.valS, nS, a.divS);
  divideList(L, s.valD, nD, a.divD);
  // the rows of S that have entries (the others are never read)
  // (spikes over a divisor: every value is the same, the rows are summed and scaled once)
  if (nS > 0) L.rowsAxpy(s.idxS, s.valS, s.startS, preS.byteOffset, s.s, P, Q, 1, L.sameValue(s.valS, nS));
  (a.hi === Infinity ? L.combineLower : L.combine)(w.byteOffset, s.s, s.startS, postD.byteOffset, out.byteOffset, Q, s.idxD, s.valD, s.startD, a.lim, a.lo, a.hi, a.signS, a.signD, a.bounded ? 1 : 0, wt.ptr, P, s.dblk, L.sameValue(s.valD, nD));
  // the output's transpose is in wt: the SIMD product of the next forward reads it as it is
  wt.of = outInfo.dataId;
  return outInfo;
}

/** `val[k] / d` in place for the first n entries (whole vectors: the slots after n are scratch). */
function divideList(L: SimdLoops, val: number, n: number, d: number): void {
  if (d !== 1 && n > 0) L.divide(val, (n + 3) & ~3, d);
}

/** True when the SIMD update applies: wasm backend with SIMD, float32, P and Q multiples of 4. */
export function outerSimdApplies(w: tf.Tensor, terms: readonly { post: tf.Tensor; pre: tf.Tensor }[]): boolean {
  const [P, Q] = w.shape as [number, number];
  if (w.shape.length !== 2 || P! % 4 !== 0 || Q! % 4 !== 0 || w.dtype !== 'float32') return false;
  for (const t of terms) if (t.post.dtype !== 'float32' || t.pre.dtype !== 'float32') return false;
  return simdLoops() !== null;
}

/**
 * The SIMD update (see the module comment): returns the new `w` (a new tensor). `postS`/`preS`,
 * `postD`/`preD`: the factors of the S and D parts, with `B·P` and `B·Q` elements.
 */
export function fusedOuterSimd(w: tf.Tensor, postS: tf.Tensor, preS: tf.Tensor, postD: tf.Tensor, preD: tf.Tensor, attrs: OuterSimdAttrs): tf.Tensor {
  registerFused(FUSED_OUTER_SIMD, kernel as unknown as tf.KernelFunc);
  const inputs = { w, postS, preS, postD, preD };
  return tf.engine().runKernel(FUSED_OUTER_SIMD, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
