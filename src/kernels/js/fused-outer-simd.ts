/**
 * Fused kernel `CinderFusedOuterSimd` (wasm backend, SIMD): the two-part pair-rule weight update of
 * a dense `[P, Q]` parameter, both batch sums event-driven, in WebAssembly SIMD loops on the
 * backend's memory (see `fused-simd.ts`). For a part S (the bounded one: post spikes ⊗ pre trace)
 * and a part D (post trace ⊗ pre spikes), divisors d_S, d_D, sides σ_S, σ_D = ±1:
 *
 * - `S[o, :] = Σ_{b: postS[b,o] ≠ 0} f(postS[b, o]/d_S)·preS[b, :]`, computed four rows at a time
 *   (rows with no non-zero factor are 0);
 * - `D[o..o+3, i] = Σ_{b: preD[b,i] ≠ 0} f(preD[b, i]/d_D)·postD[b, o..o+3]`, summed inside the
 *   combine from per-column lists of the non-zero presynaptic factors (no `[P, Q]` matrix of D),
 *   four columns at a time turned into rows with lane shuffles;
 * - `v = (w + σ_D·D) + m·S` with `m = lim − w` for a multiplicatively bounded S part (upper bound
 *   `lim = max` when it potentiates; lower bound `lim = min` when it depresses, where
 *   `−(w − min)·S = (min − w)·S`), else `m = σ_S`; `m·S` counts as 0 where S = 0;
 * - the clamping hook's rule: finite `v` clamped to [lo, hi], NaN and ±Infinity kept; the result
 *   is written twice, as the output and transposed into the buffer the SIMD product reads
 *   (`transposedWeight`), so the next forward does not transpose it again.
 *
 * Every operation is one float32 operation (`f` = rounding to float32). The op path sums the batch
 * first and divides once, in its matrix product's order; here each factor is divided before the
 * float32 sum in sample order: results agree with the op path within float32 tolerance. As in the
 * other event-driven kernels, terms with a zero factor are skipped, so a non-finite factor or
 * weight times 0 (NaN in the op path) does not reach the weight.
 *
 * Cost per step: B·P·Q/4·(density of S's postsynaptic factors + density of D's presynaptic factors)
 * vector multiply-adds, one pass over `[P, Q]` (read w, write the output) and the scans of the
 * factors for their non-zeros in JavaScript.
 * @module
 */
import { tf } from '../../core/tf.js';
import { FusedMemory, registerFused } from './fused-memory.js';
import { simdLoops, transposedWeight, type SimdLoops } from './fused-simd.js';

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
  /** Eight rows of S `[8, Q]`. */
  s4: number;
  idxS: number;
  valS: number;
  startS: number;
  cnt: number;
  idxD: number;
  valD: number;
}
const scratch = new Map<string, Scratch>();

function scratchFor(L: SimdLoops, B: number, P: number, Q: number): Scratch {
  const key = `${B}|${P}|${Q}`;
  let s = scratch.get(key);
  if (!s) {
    s = {
      s4: L.alloc(8 * Q * 4),
      idxS: L.alloc(B * P * 4), valS: L.alloc(B * P * 4), startS: L.alloc((P + 1) * 4),
      cnt: L.alloc(Q * 4), idxD: L.alloc(B * Q * 4), valD: L.alloc(B * Q * 4),
    };
    scratch.set(key, s);
  }
  return s;
}

/**
 * Entry lists of the non-zero `x[b, r]/div` (`x` `[B, R]`), grouped by r: `start[r]..start[r+1]`
 * index the entries, `idx` holds b, `val` the quotient (float32).
 */
function groupByColumn(x: Float32Array, B: number, R: number, div: number, i32: Int32Array, f32: Float32Array, idx: number, val: number, start: number): void {
  const st = start >> 2;
  const ix = idx >> 2;
  const vl = val >> 2;
  let n = 0;
  for (let r = 0; r < R; r++) {
    i32[st + r] = n;
    for (let b = 0, e = r; b < B; b++, e += R) {
      const v = x[e]!;
      if (v !== 0) {
        i32[ix + n] = b;
        f32[vl + n] = v / div;
        n++;
      }
    }
  }
  i32[st + R] = n;
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
  const { i32, f32 } = L.heap();
  groupByColumn(postS, B, P, a.divS, i32, f32, s.idxS, s.valS, s.startS);
  // D's column lists (branch-free in the SIMD module), then the values divided by d_D
  L.compactColumns(preD.byteOffset, B, Q, P * 4, s.cnt, s.idxD, s.valD);
  if (a.divD !== 1) L.divide(s.valD, Q * B, a.divD);
  const bounded = a.bounded ? 1 : 0;
  // the Hebbian pair rule (bounded rows part, the other part depresses, no upper clamp): the
  // specialised combine with fewer operations
  const pair = a.bounded && a.signD === -1 && a.hi === Infinity;
  const c4 = pair ? L.combine4p : L.combine4;
  const c8 = pair ? L.combine8p : L.combine8;
  for (let o = 0; o < P; ) {
    // eight rows at a time (each column list read once for both), the last four alone
    const rows = o + 8 <= P ? 8 : 4;
    L.rowsAxpy(s.idxS, s.valS, s.startS + o * 4, preS.byteOffset, s.s4, rows, Q);
    (rows === 8 ? c8 : c4)(w.byteOffset + o * Q * 4, s.s4, postD.byteOffset + o * 4, out.byteOffset + o * Q * 4, Q, s.cnt, s.idxD, s.valD, B, a.lim, a.lo, a.hi, a.signS, a.signD, bounded, wt.ptr + o * 4, P);
    o += rows;
  }
  // the output's transpose is in wt: the SIMD product of the next forward reads it as it is
  wt.of = outInfo.dataId;
  return outInfo;
}

let registered = false;

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
  if (!registered) {
    registerFused(FUSED_OUTER_SIMD, kernel as unknown as tf.KernelFunc);
    registered = true;
  }
  const inputs = { w, postS, preS, postD, preD };
  return tf.engine().runKernel(FUSED_OUTER_SIMD, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
