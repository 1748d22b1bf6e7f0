/**
 * Fused kernel `CinderFusedSparseList` (wasm and cpu backends): the forward of a connection given as
 * a synapse list (`SparseLinear` without delays), event-driven — it visits only the non-zero inputs
 * and, for each, the synapses leaving it:
 *
 *     y[b, j] = Σ_{i: x[b,i] ≠ 0} Σ_{s: pre_s = i, post_s = j} x[b, i]·w_s
 *
 * Cost per sample: nnz(x) inputs times their out-degrees (spikes: a few synapses per spike), instead
 * of a gather and a scatter over all S synapses (the op path) or a matrix product over I·O entries.
 * The sums are accumulated in float64 per postsynaptic unit, in the order presynaptic unit, then
 * synapse id, and rounded once to float32 (the op path sums float32 in `scatterND`'s order: results
 * agree within float32 rounding of the sums). A skipped input is an exact zero, except where a weight
 * is non-finite (its product with 0 is NaN in the op path).
 *
 * With a filter (`prev`, d, c: {@link SparseListFilter}) the kernel also takes one exponential
 * filter step after the sums, `out[b, j] = f(f(prev[b, j]·d) + y[b, j])` (c omitted: a conductance)
 * or `f(f(prev[b, j]·d) + f(y[b, j]·c))` (a current), y[b, j] the float32 sum above and f rounding to
 * float32: bit-identical to this kernel's output followed by `tf.add(tf.mul(prev, d), y)` (resp.
 * `tf.mul(y, c)`) on wasm and cpu (each float32 product and sum rounded once; NaN, ±Infinity, −0
 * included), without the two or three kernels and the intermediate tensor (`postFiltered(SparseLinear)`).
 *
 * The lists are fixed with the connection ({@link SparseListIndex}, built once); the inputs and the
 * weight are read in place from the backend's memory (no synchronous read).
 *
 * `CinderFusedGatherUnits` ({@link fusedGatherUnits}) is the per-synapse gather of the connection's
 * receptive maps (what pair-trace trainers such as STDP read), for the same backends.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import { FusedMemory, registerFused } from './fused-memory.js';

/** Kernel name. */
export const FUSED_SPARSE_LIST = 'CinderFusedSparseList';

/** Kernel name of {@link fusedGatherUnits}. */
export const FUSED_GATHER_UNITS = 'CinderFusedGatherUnits';

/** The synapses grouped by presynaptic unit, for {@link fusedSparseList}. */
export interface SparseListIndex {
  /** Presynaptic units I. */
  readonly nPre: number;
  /** Postsynaptic units O. */
  readonly nPost: number;
  /** `start[i] … start[i+1]` delimit unit i's entries (length I + 1). */
  readonly start: Int32Array;
  /** Synapse id of each entry (ascending within a unit). */
  readonly syn: Int32Array;
  /** Postsynaptic unit of each entry. */
  readonly post: Int32Array;
}

/**
 * The index of a synapse list (`post[s]` of synapse s) for {@link fusedSparseList}, from its
 * grouping by presynaptic unit (`preStart`, `preSyn`: `sparseIndex` of the list, whose ids ascend
 * within a unit).
 */
export function sparseListIndex(list: { readonly nPre: number; readonly nPost: number; readonly post: Int32Array }, byPre: { readonly preStart: Int32Array; readonly preSyn: Int32Array }): SparseListIndex {
  const { preStart, preSyn } = byPre;
  const post = new Int32Array(preSyn.length);
  for (let q = 0; q < preSyn.length; q++) post[q] = list.post[preSyn[q]!]!;
  return { nPre: list.nPre, nPost: list.nPost, start: preStart, syn: preSyn, post };
}

/** One exponential filter step folded into {@link fusedSparseList}: `out = prev·d + c·y` (see the module notes). */
export interface SparseListFilter {
  /** The filtered value of the previous step, float32 with B·O elements (e.g. `[B, ...outShape]`). */
  readonly prev: tf.Tensor;
  /** Decay factor d (rounded to float32 here, as a float32 scalar tensor holds it). */
  readonly decay: number;
  /** Gain c on the sums (rounded to float32), or undefined for none (a conductance: the sums added as they are). */
  readonly gain?: number;
}

/** Per-postsynaptic float64 sums, reused across calls. */
let accBuf = new Float64Array(0);

function kernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo {
  const { index, d, c } = args.attrs as { index: SparseListIndex; d: number; c: number };
  const mem = new FusedMemory(args.backend);
  const xInfo = args.inputs.x!;
  const B = xInfo.shape[0]!;
  const { nPre: I, nPost: O, start, syn, post } = index;
  const outInfo = mem.output([B, O]);
  const x = mem.view(xInfo);
  const w = mem.view(args.inputs.w!);
  const y = mem.view(outInfo);
  const prev = args.inputs.prev ? mem.view(args.inputs.prev) : null;
  const f = Math.fround;
  if (accBuf.length < O) accBuf = new Float64Array(O);
  const acc = accBuf;
  for (let b = 0; b < B; b++) {
    acc.fill(0, 0, O);
    const xb = b * I;
    for (let i = 0; i < I; i++) {
      const v = x[xb + i]!;
      if (v === 0) continue;
      for (let q = start[i]!, e = start[i + 1]!; q < e; q++) acc[post[q]!] += v * w[syn[q]!]!;
    }
    const yb = b * O;
    if (prev === null) for (let j = 0; j < O; j++) y[yb + j] = acc[j]!;
    else if (Number.isNaN(c)) for (let j = 0; j < O; j++) y[yb + j] = f(prev[yb + j]! * d) + f(acc[j]!);
    else for (let j = 0; j < O; j++) y[yb + j] = f(prev[yb + j]! * d) + f(f(acc[j]!) * c);
  }
  return outInfo;
}

function gatherKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo {
  const mem = new FusedMemory(args.backend);
  const xInfo = args.inputs.x!;
  const unitsInfo = args.inputs.units;
  const [B, N] = xInfo.shape as [number, number];
  const S = unitsInfo ? unitsInfo.shape[0]! : (args.attrs as { units: Int32Array }).units.length;
  const outInfo = mem.output([B, S]);
  const units = unitsInfo ? mem.int32(unitsInfo) : (args.attrs as { units: Int32Array }).units;
  const x = mem.view(xInfo);
  const y = mem.view(outInfo);
  for (let b = 0; b < B; b++) {
    const xb = b * N;
    const yb = b * S;
    for (let s = 0; s < S; s++) y[yb + s] = x[xb + units[s]!]!;
  }
  return outInfo;
}

/**
 * `y[b, s] = x[b, units[s]]` for `x [B, N]` (float32): the value of each synapse's unit, the same
 * copy as `tf.gather(x, units, 1)` (which on wasm takes about 30 ns per element: 10 ms for 320k
 * synapses). `units`: a fixed list, or an int32 tensor `[S]` (indices computed on the backend, e.g.
 * from delays). Only where `fusedBackend()` names one (wasm, cpu); every unit must lie
 * in [0, N) (not checked: a scan of the list on every call).
 * @throws CinderArgumentError unless `x` is a float32 `[B, N]` and `units` an Int32Array or an int32 tensor `[S]`
 */
export function fusedGatherUnits(x: tf.Tensor, units: Int32Array | tf.Tensor): tf.Tensor {
  if (x.rank !== 2 || x.dtype !== 'float32') throw new CinderArgumentError('x', x, 'a float32 tensor [B, N]');
  if (units instanceof tf.Tensor ? units.rank !== 1 || units.dtype !== 'int32' : !(units instanceof Int32Array)) throw new CinderArgumentError('units', units, 'an Int32Array or an int32 tensor [S]');
  registerFused(FUSED_GATHER_UNITS, gatherKernel as unknown as tf.KernelFunc);
  if (units instanceof tf.Tensor) return tf.engine().runKernel(FUSED_GATHER_UNITS, { x, units } as unknown as tf.NamedTensorMap) as tf.Tensor;
  return tf.engine().runKernel(FUSED_GATHER_UNITS, { x } as unknown as tf.NamedTensorMap, { units } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * `y [B, O]` from inputs `x [B, I]` (float32) and per-synapse weights `w [S]` through `index` (see
 * the module notes); with `filter`, the filtered `prev·d + c·y` instead. Only where `fusedBackend()`
 * names one (wasm, cpu).
 * @throws CinderArgumentError unless `x` is float32 `[B, I]` with I = `index.nPre`, `w` float32
 *   with one weight per synapse of the index, and a filter's `prev` float32 with B·O elements, its
 *   decay a number and its gain a number (not NaN) or undefined
 */
export function fusedSparseList(x: tf.Tensor, w: tf.Tensor, index: SparseListIndex, filter?: SparseListFilter): tf.Tensor {
  if (x.rank !== 2 || x.dtype !== 'float32' || x.shape[1] !== index.nPre) throw new CinderArgumentError('x', x, `a float32 tensor [B, ${index.nPre}] (the list's presynaptic units)`);
  if (w.dtype !== 'float32' || w.size !== index.syn.length) throw new CinderArgumentError('w', w, `a float32 tensor of ${index.syn.length} weights (one per synapse)`);
  registerFused(FUSED_SPARSE_LIST, kernel as unknown as tf.KernelFunc);
  if (filter === undefined) return tf.engine().runKernel(FUSED_SPARSE_LIST, { x, w } as unknown as tf.NamedTensorMap, { index, d: NaN, c: NaN } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const { prev, decay, gain } = filter;
  const size = x.shape[0]! * index.nPost;
  if (!(prev instanceof tf.Tensor) || prev.dtype !== 'float32' || prev.size !== size) throw new CinderArgumentError('filter.prev', prev, `a float32 tensor of ${size} elements (B·O)`);
  if (typeof decay !== 'number') throw new CinderArgumentError('filter.decay', decay, 'a number');
  if (gain !== undefined && (typeof gain !== 'number' || Number.isNaN(gain))) throw new CinderArgumentError('filter.gain', gain, 'a number (not NaN) or undefined');
  const attrs = { index, d: Math.fround(decay), c: gain === undefined ? NaN : Math.fround(gain) };
  return tf.engine().runKernel(FUSED_SPARSE_LIST, { x, w, prev } as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
