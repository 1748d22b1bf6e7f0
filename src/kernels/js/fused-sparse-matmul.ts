/**
 * Fused kernel `CinderFusedSparseMatmul` (wasm and cpu backends): the dense connection's product
 * `y = x·Wᵀ` (`x [B, I]`, `W [O, I]`, `y [B, O]`) visiting only the non-zero inputs, for spike
 * inputs: cost B·nnz(x)·O instead of B·I·O, and no repacking of a weight that changes every step
 * (the wasm matrix product packs each new weight before multiplying).
 *
 * `y[b, o] = Σ_{i: x[b,i] ≠ 0} x[b, i]·W[o, i]`, accumulated in float64 (two partial sums over
 * alternate non-zero inputs, then rounded once to float32; a matrix product sums float32 in
 * another order; the skipped terms are exact zeros, except where W holds a non-finite value, whose
 * product with 0 is NaN in the op path).
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import { FusedMemory, fusedBackend, registerFused } from './fused-memory.js';
import { ScratchCache, simdLoops, transposedWeight } from './fused-simd.js';

/** Kernel name. */
export const FUSED_SPARSE_MATMUL = 'CinderFusedSparseMatmul';

/** Index scratch, reused across calls. */
let idxBuf = new Int32Array(0);
/** Values of the non-zero inputs, reused across calls. */
let valBuf = new Float64Array(0);

/** The product's inputs `x` `[B, I]`, `w` `[O, I]`, its sizes and its new output `[B, O]`. */
function productArgs(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }) {
  const mem = new FusedMemory(args.backend);
  const xInfo = args.inputs.x!;
  const wInfo = args.inputs.w!;
  const [B, I] = xInfo.shape as [number, number];
  const O = wInfo.shape[0]!;
  return { mem, xInfo, wInfo, B, I, O, outInfo: mem.output([B, O]) };
}

function kernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const { mem, xInfo, wInfo, B, I, O, outInfo } = productArgs(args);
  const x = mem.view(xInfo);
  const w = mem.view(wInfo);
  const y = mem.view(outInfo);
  if (idxBuf.length < I) {
    idxBuf = new Int32Array(I);
    valBuf = new Float64Array(I);
  }
  const idx = idxBuf;
  const vals = valBuf;
  for (let b = 0; b < B; b++) {
    const xb = b * I;
    let n = 0;
    for (let i = 0; i < I; i++) {
      const v = x[xb + i]!;
      if (v !== 0) {
        vals[n] = v;
        idx[n++] = i;
      }
    }
    const yb = b * O;
    for (let o = 0; o < O; o++) {
      const base = o * I;
      // two float64 partial sums (each product of two float32 values is exact in float64): fewer
      // roundings than the float32 sum and no serial rounding chain
      let a0 = 0;
      let a1 = 0;
      let k = 0;
      for (; k + 1 < n; k += 2) {
        a0 += vals[k]! * w[base + idx[k]!]!;
        a1 += vals[k + 1]! * w[base + idx[k + 1]!]!;
      }
      if (k < n) a0 += vals[k]! * w[base + idx[k]!]!;
      y[yb + o] = a0 + a1;
    }
  }
  return outInfo;
}

/** Kernel name of the SIMD form. */
export const FUSED_SPARSE_MATMUL_SIMD = 'CinderFusedSparseMatmulSimd';

/** Per-shape scratch of the SIMD form: the entry lists (byte offsets; for the current binding of the loops). */
const simdScratch = new ScratchCache<{ idx: number; val: number; start: number }>();

/**
 * The SIMD form (wasm): `Wᵀ` `[I, O]` by a 4×4-block transpose (once per weight value: kept while
 * the weight's data is unchanged; the SIMD weight update writes it along with its output), then
 * `y[b, :] = Σ_{i: x[b,i] ≠ 0} x[b, i]·Wᵀ[i, :]`, 4 outputs per vector operation, summed in float32
 * in input order (the lists of non-zero inputs built branch-free in the SIMD module).
 */
function simdKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const L = simdLoops()!;
  const { mem, xInfo, wInfo, B, I, O, outInfo } = productArgs(args);
  // allocations may grow the memory: before taking views
  const s = simdScratch.get(L, `${B}|${I}|${O}`, () => ({ idx: L.alloc(B * I * 4 + 16), val: L.alloc(B * I * 4 + 16), start: L.alloc((B + 1) * 4) }));
  // the transposed weight: the caller's (a static weight's cached Wᵀ), else the per-shape copy
  const given = args.inputs.wt;
  const wT = given ? null : transposedWeight(L, O, I);
  const x = mem.view(xInfo);
  const y = mem.view(outInfo);
  if (wT && wT.of !== wInfo.dataId) {
    L.transpose(mem.view(wInfo).byteOffset, wT.ptr, O, I);
    wT.of = wInfo.dataId;
  }
  const wTptr = given ? mem.view(given).byteOffset : wT!.ptr;
  // the non-zero inputs row by row (branch-free in the SIMD module)
  L.compactRows(x.byteOffset, B, I, s.idx, s.val, s.start);
  const n = L.heap().i32[(s.start >> 2) + B]!;
  lastDensity = n / (B * I);
  // spikes times a charge: every value the same, the rows of Wᵀ summed and scaled once
  L.rowsAxpy(s.idx, s.val, s.start, wTptr, y.byteOffset, B, O, 0, L.sameValue(s.val, n));
  return outInfo;
}

let lastDensity = 0;

/** The fraction of non-zero inputs in the last call of {@link fusedSparseMatmulSimd}. */
export function lastSparseSimdDensity(): number {
  return lastDensity;
}

/**
 * True when the SIMD form of the event-driven product applies to `x` `[B, I]` and `w` `[O, I]`:
 * wasm with SIMD, float32, I and O multiples of 4.
 */
export function sparseMatmulSimdApplies(x: tf.Tensor, w: tf.Tensor): boolean {
  return x.rank === 2 && w.rank === 2 && x.dtype === 'float32' && w.dtype === 'float32' && x.shape[1]! % 4 === 0 && w.shape[0]! % 4 === 0 && simdLoops() !== null;
}

/**
 * `x·Wᵀ` over the non-zero entries of `x` `[B, I]` with `w` `[O, I]`: `[B, O]`, in SIMD loops where
 * they apply (see {@link sparseMatmulSimdApplies}); elsewhere (sizes not multiples of 4, no SIMD
 * loops) by {@link fusedSparseMatmul}, the JavaScript event-driven product (float64 partial sums,
 * `wT` unused). `wT`: the caller's own `Wᵀ` `[I, O]` of the same data (a static weight's cached
 * transpose); without it the kernel keeps one transposed copy per shape.
 * @throws CinderArgumentError unless `x` is `[B, I]`, `w` `[O, I]` and `wT` `[I, O]`, all float32
 */
export function fusedSparseMatmulSimd(x: tf.Tensor, w: tf.Tensor, wT?: tf.Tensor): tf.Tensor {
  checkProduct(x, w, wT);
  // the 4-lane loops read and write whole vectors of every row: other sizes take the JavaScript form
  if (!sparseMatmulSimdApplies(x, w)) return fusedSparseMatmul(x, w);
  registerFused(FUSED_SPARSE_MATMUL_SIMD, simdKernel as unknown as tf.KernelFunc);
  const inputs = wT ? { x, w, wt: wT } : { x, w };
  return tf.engine().runKernel(FUSED_SPARSE_MATMUL_SIMD, inputs as unknown as tf.NamedTensorMap) as tf.Tensor;
}

/**
 * The fraction of non-zero entries of `x`, read from the backend's memory on wasm/cpu (no sync
 * read; null on other backends). Stops counting once it exceeds `limit` (returns a value > limit).
 */
export function nonZeroFraction(x: tf.Tensor, limit = 1): number | null {
  const name = fusedBackend();
  if (!name || x.dtype !== 'float32') return null;
  const b = tf.backend() as unknown as { typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array; data?: { get(id: object): { values?: unknown } } };
  const v = b.typedArrayFromHeap ? b.typedArrayFromHeap(x) : (b.data?.get(x.dataId).values as ArrayLike<number> | undefined);
  if (!v) return null;
  const cap = limit * v.length;
  let n = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== 0 && ++n > cap) return n / v.length;
  return v.length ? n / v.length : 0;
}

/**
 * Throws unless `x` is `[B, I]` and `w` `[O, I]` (and `wT`, when given, `[I, O]`), all float32: the
 * kernels index them by these sizes (a mismatch would read other elements or past the end).
 */
function checkProduct(x: tf.Tensor, w: tf.Tensor, wT?: tf.Tensor): void {
  if (x.rank !== 2 || x.dtype !== 'float32') throw new CinderArgumentError('x', x, 'a float32 tensor [B, I]');
  const I = x.shape[1]!;
  if (w.rank !== 2 || w.dtype !== 'float32' || w.shape[1] !== I) throw new CinderArgumentError('w', w, `a float32 tensor [O, ${I}] (x is [${x.shape.join(', ')}])`);
  if (wT && (wT.rank !== 2 || wT.dtype !== 'float32' || wT.shape[0] !== I || wT.shape[1] !== w.shape[0])) {
    throw new CinderArgumentError('wT', wT, `a float32 tensor [${I}, ${w.shape[0]}] (the transpose of w)`);
  }
}

/**
 * `x·Wᵀ` over the non-zero entries of `x` `[B, I]` with `w` `[O, I]`: `[B, O]` (wasm/cpu).
 * @throws CinderArgumentError unless `x` is `[B, I]` and `w` `[O, I]`, both float32
 */
export function fusedSparseMatmul(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  checkProduct(x, w);
  registerFused(FUSED_SPARSE_MATMUL, kernel as unknown as tf.KernelFunc);
  return tf.engine().runKernel(FUSED_SPARSE_MATMUL, { x, w } as unknown as tf.NamedTensorMap) as tf.Tensor;
}
