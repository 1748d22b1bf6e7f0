/**
 * WebAssembly SIMD loops for the fused kernels on the `wasm` backend: a small module, assembled
 * here from its instructions at first use on each backend memory (see {@link simdLoops}: a wasm
 * backend registered again has another memory), that imports the backend's own `WebAssembly.Memory`, so
 * it reads and writes tensors in place (pointers are the byte offsets of the backend's views). Each
 * loop works on 4 float32 lanes (`f32x4`): every lane operation is one IEEE float32 operation, as
 * `Math.fround` of the exact result.
 *
 * Loops (all pointers are byte offsets into the backend's memory; every count is a multiple of 4
 * where stated):
 * - `transpose(src, dst, R, C)`: `dst[c·R + r] = src[r·C + c]` for `[R, C]`, R and C multiples of 4
 *   (4×4 blocks moved with lane shuffles).
 * - `rowsAxpy(idx, val, start, src, dst, N, O, skip, unit)`: for each n < N, `dst[n, :] = Σ_k val[k]·src[idx[k], :]`
 *   over the entries k ∈ [start[n], start[n+1]) (int32 `idx`, `start`; float32 `val`), each row O
 *   floats (O a multiple of 4), summed in entry order from 0 in float32; rows without entries are
 *   zeros (or left alone with `skip`). 32 floats at a time are summed in registers. With `unit` v
 *   (not NaN: every value is v, e.g. spikes over a divisor) the rows are summed and the sum
 *   multiplied by v once, `f(v·(0 + s₀ + s₁ + …))`.
 * - `sameValue(val, n)`: the common value of a list when it is finite, or NaN (the `unit` of
 *   `rowsAxpy`: the sum-then-scale form equals the per-entry products only for a finite factor —
 *   `∞·(0 + s₀ + s₁)` is ±∞ where `∞·s₀ + ∞·s₁` is NaN for an `s` of 0, as in a matrix product).
 * - `trace(...)`: one exponential trace step (see {@link traceFn}).
 * - `compactRows(...)`, `compactColumns(...)`: lists of the non-zero entries of a `[B, R]` factor,
 *   by row or by column, without branches (a spike pattern mispredicts every other branch): four
 *   at a time packed with a lane swizzle (by column: of the transpose, when B is a multiple of 4).
 * - `divide(ptr, n, d)`: `x/d` in place, 4 lanes at a time.
 * - `scale(src, dst, n, s)`: `dst = src·s` over the first n − n mod 4 floats (4 lanes at a time).
 * - `neuron(...)`: the element-wise LIF/ALIF step (see {@link neuronFn}); `adaptMean(...)` its
 *   one-term batch-mean threshold adaptation (see {@link adaptMeanFn}).
 * - `combine(...)`: a two-part weight update with a bound and a clamp, four columns at a time: the
 *   second part's columns summed with `rowsAxpy` into a small block, the first part's rows read
 *   only where they have entries, the result written row-major and transposed (see {@link combineFn});
 *   `combineLower(...)` the same without an upper clamp (fewer operations, the same results).
 *
 * Used only when the backend is `wasm`, the runtime validates the module (SIMD support), and the
 * backend's memory is not shared (the threaded build); {@link simdLoops} returns null otherwise and
 * callers keep their JavaScript or op path.
 * @module
 */
import { tf } from '../../core/tf.js';
import { section, sleb, uleb, wasmName } from './wasm-encoding.js';
import { EXP_PROBE_BYTES, EXP_TABLE_BYTES, expMatchesMathExp, expPair, expTableBytes, type ExpLocals } from './wasm-exp.js';
import { envSwitch } from '../setting.js';

/** The exported loops (see the module comment for their meaning). */
export interface SimdLoops {
  transpose(src: number, dst: number, R: number, C: number): void;
  rowsAxpy(idx: number, val: number, start: number, src: number, dst: number, N: number, O: number, skip: number, unit: number): void;
  combine(w: number, s: number, startS: number, post: number, out: number, Q: number, idxD: number, valD: number, startD: number, lim: number, lo: number, hi: number, signS: number, signD: number, bounded: number, wt: number, P: number, dblk: number, unitD: number): void;
  /** {@link combine} for hi = +∞ (a lower clamp or none): the same results with fewer operations. */
  combineLower: SimdLoops['combine'];
  /** The common value of `val[0..n)` when all are equal and finite, else NaN. */
  sameValue(val: number, n: number): number;
  trace(prev: number, h: number, out: number, n: number, decay: number, amp: number, nearest: number): void;
  /** R a multiple of 4; `idx` and `val` need B·R slots and 16 bytes more (buffers from `alloc`). */
  compactRows(x: number, B: number, R: number, idx: number, val: number, start: number): void;
  /**
   * `spare`: a caller's scratch of B·R floats (the transpose, when B and R are multiples of 4);
   * allocated by the caller before it takes views, since an allocation may grow the memory.
   */
  compactColumns(x: number, B: number, R: number, idx: number, val: number, start: number, spare: number): void;
  divide(ptr: number, n: number, d: number): void;
  scale(src: number, dst: number, n: number, s: number): void;
  adaptMean(theta: number, rOut: number, sOut: number, thOut: number, B: number, N: number, decay: number, inc: number, hold: number): void;
  neuron(v: number, r: number, cur: number, theta: number, vOut: number, rOut: number, sOut: number, B: number, N: number, decay: number, restTerm: number, gain: number, thresh: number, reset: number, dt: number, refracT: number, flags: number): void;
  /**
   * The conductance step's loop (`neuronConductance`, see {@link neuronConductanceFn}; `table` is
   * filled in), or null where it does not apply: the module did not validate, or its exponential
   * differs from this engine's Math.exp on the probe values (then the caller keeps its JavaScript
   * loop, so both routes give the same bits). The first call allocates its constant table and checks
   * the exponential (may grow the memory): call it before taking views.
   */
  conductance(): ConductanceLoop | null;
  /**
   * Allocates `bytes` in the backend's memory (kept while the backend lives; 16-byte aligned); the
   * first call also places the 256-byte swizzle table of `compactRows`. May grow the memory: call
   * before taking views.
   */
  alloc(bytes: number): number;
  /** The backend's memory (its buffer changes when the memory grows). */
  memory: WebAssembly.Memory;
  /** Int32 and float32 views of the whole memory (renewed after the memory grows). */
  heap(): { i32: Int32Array; f32: Float32Array };
  /** The number of this binding (each binding of the loops to a memory gets the next one). */
  binding: number;
}

/** {@link SimdLoops.conductance}'s loop: `flags` 1 refractory, 2 refracLock, 4 a current, 8 θ, 16 two receptors, 32 R ≠ 1. */
export type ConductanceLoop = (v: number, r: number, cur: number, theta: number, g0: number, g1: number, vOut: number, rOut: number, sOut: number, B: number, N: number, flags: number, e0: number, e1: number, rest: number, R: number, rate: number, thresh: number, reset: number, dt: number, refracT: number) => void;

// ---- a minimal assembler for the few instructions these loops need ----

const I32 = 0x7f;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;

/** Instruction helpers (each returns its bytes). */
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  shl: [0x74],
  shr: [0x75],
  ltS: [0x48],
  geS: [0x4e],
  eqz: [0x45],
  i32load: [0x28, 2, 0],
  f32load: [0x2a, 2, 0],
  vload: [0xfd, 0x00, 2, 0],
  vstore: [0xfd, 0x0b, 2, 0],
  /** `v128.load` at a constant byte offset from the address. */
  vloadAt: (off: number) => [0xfd, 0x00, 2, ...uleb(off)],
  /** `v128.store` at a constant byte offset from the address. */
  vstoreAt: (off: number) => [0xfd, 0x0b, 2, ...uleb(off)],
  /** Calls function `index` of this module (its position in the assembled list). */
  call: (index: number) => [0x10, ...uleb(index)],
  splat: [0xfd, 0x13],
  vadd: [0xfd, ...uleb(0xe4)],
  vmul: [0xfd, ...uleb(0xe6)],
  vzero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  vsub: [0xfd, ...uleb(0xe5)],
  vdiv: [0xfd, ...uleb(0xe7)],
  /** `pmin(a, b) = b < a ? b : a` (keeps a NaN `a`; one x86 instruction, unlike `f32x4.min`). */
  vpmin: [0xfd, ...uleb(0xea)],
  /** `pmax(a, b) = a < b ? b : a` (keeps a NaN `a`). */
  vpmax: [0xfd, ...uleb(0xeb)],
  vabs: [0xfd, ...uleb(0xe0)],
  vneg: [0xfd, ...uleb(0xe1)],
  veq: [0xfd, ...uleb(0x41)],
  bitselect: [0xfd, ...uleb(0x52)],
  i32splat: [0xfd, 0x11],
  andnot: [0xfd, ...uleb(0x4f)],
  vne: [0xfd, ...uleb(0x42)],
  i32store: [0x36, 2, 0],
  vle: [0xfd, ...uleb(0x45)],
  vlt: [0xfd, ...uleb(0x43)],
  vge: [0xfd, ...uleb(0x46)],
  vor: [0xfd, ...uleb(0x50)],
  vand: [0xfd, ...uleb(0x4e)],
  vnot: [0xfd, ...uleb(0x4d)],
  remU: [0x70],
  f32store: [0x38, 2, 0],
  f32ne: [0x5c],
  f32const0: [0x43, 0, 0, 0, 0],
  f32nan: [0x43, 0x00, 0x00, 0xc0, 0x7f],
  f32eq: [0x5b],
  vones: [0xfd, 0x0c, ...new Array<number>(16).fill(0xff)],
  allTrue: [0xfd, ...uleb(0xa3)],
  bitmask: [0xfd, ...uleb(0xa4)],
  swizzle: [0xfd, 0x0e],
  popcnt: [0x69],
  i32x4add: [0xfd, ...uleb(0xae)],
  and: [0x71],
  ltU: [0x49],
  shuffle: (lanes: number[]) => [0xfd, 0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])],
  f32mul: [0x94],
  /** `f64x2.promote_low_f32x4`: float32 lanes 0 and 1, widened (exactly). */
  promote: [0xfd, ...uleb(0x5f)],
  /** `f32x4.demote_f64x2_zero`: both float64 lanes rounded to float32 (to nearest, even: `Math.fround`), lanes 2 and 3 zero. */
  demote: [0xfd, ...uleb(0x5e)],
  /** `block { loop { <cond-exit>; body; br 0 } }`: exits when `exitIf` leaves a non-zero i32. */
  loop: (exitIf: number[], body: number[]) => [0x02, 0x40, 0x03, 0x40, ...exitIf, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b],
};

/** A function: parameter types (or a count of i32 parameters), extra locals by type, body. */
interface Fn {
  name: string;
  params: number | number[];
  /** Result types (none when absent). */
  results?: number[];
  locals: number[];
  body: number[];
}

/**
 * The module of `fns` (exported by name), importing the backend's `env.memory`; with `importExp`
 * also `env.exp` ((f64) → f64, Math.exp) as function 0, the module's own functions following it.
 */
function assemble(fns: Fn[], importExp = false): Uint8Array<ArrayBuffer> {
  const first = importExp ? 1 : 0;
  const types = fns.map((f) => {
    const ps = typeof f.params === 'number' ? new Array<number>(f.params).fill(I32) : f.params;
    const rs = f.results ?? [];
    return [0x60, ...uleb(ps.length), ...ps, ...uleb(rs.length), ...rs];
  });
  if (importExp) types.unshift([0x60, 1, F64, 1, F64]);
  const typeSec = section(1, [...uleb(types.length), ...types.flat()]);
  const memory = [...wasmName('env'), ...wasmName('memory'), 0x02, 0x00, 1];
  const importSec = section(2, importExp ? [2, ...wasmName('env'), ...wasmName('exp'), 0x00, 0, ...memory] : [1, ...memory]);
  const funcSec = section(3, [...uleb(fns.length), ...fns.flatMap((_, i) => uleb(first + i))]);
  const exportSec = section(7, [...uleb(fns.length), ...fns.flatMap((f, i) => [...wasmName(f.name), 0x00, ...uleb(first + i)])]);
  const bodies = fns.map((f) => {
    const locals = f.locals.flatMap((t) => [1, t]);
    const code = [...uleb(f.locals.length), ...locals, ...f.body, 0x0b];
    return [...uleb(code.length), ...code];
  });
  const codeSec = section(10, [...uleb(fns.length), ...bodies.flat()]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...typeSec, ...importSec, ...funcSec, ...exportSec, ...codeSec]);
}

/** `transpose(src, dst, R, C)` (locals: 4 r, 5 c, 6 p, 7 q, 8–11 rows, 12–15 pairs). */
function transposeFn(): Fn {
  const [src, dst, R, C, r, c, p, q] = [0, 1, 2, 3, 4, 5, 6, 7];
  const v = (k: number) => 8 + k; // a, b, c, d
  const t = (k: number) => 12 + k;
  const rowStride = [...op.get(C), ...op.i32(2), ...op.shl]; // C·4 bytes
  const colStride = [...op.get(R), ...op.i32(2), ...op.shl]; // R·4 bytes
  const inner = [
    // p = src + (r·C + c)·4
    ...op.get(src), ...op.get(r), ...op.get(C), ...op.mul, ...op.get(c), ...op.add, ...op.i32(2), ...op.shl, ...op.add, ...op.set(p),
    ...op.get(p), ...op.vload, ...op.set(v(0)),
    ...op.get(p), ...rowStride, ...op.add, ...op.tee(p), ...op.vload, ...op.set(v(1)),
    ...op.get(p), ...rowStride, ...op.add, ...op.tee(p), ...op.vload, ...op.set(v(2)),
    ...op.get(p), ...rowStride, ...op.add, ...op.vload, ...op.set(v(3)),
    ...op.get(v(0)), ...op.get(v(1)), ...op.shuffle([0, 4, 1, 5]), ...op.set(t(0)),
    ...op.get(v(0)), ...op.get(v(1)), ...op.shuffle([2, 6, 3, 7]), ...op.set(t(1)),
    ...op.get(v(2)), ...op.get(v(3)), ...op.shuffle([0, 4, 1, 5]), ...op.set(t(2)),
    ...op.get(v(2)), ...op.get(v(3)), ...op.shuffle([2, 6, 3, 7]), ...op.set(t(3)),
    // q = dst + (c·R + r)·4
    ...op.get(dst), ...op.get(c), ...op.get(R), ...op.mul, ...op.get(r), ...op.add, ...op.i32(2), ...op.shl, ...op.add, ...op.set(q),
    ...op.get(q), ...op.get(t(0)), ...op.get(t(2)), ...op.shuffle([0, 1, 4, 5]), ...op.vstore,
    ...op.get(q), ...colStride, ...op.add, ...op.tee(q), ...op.get(t(0)), ...op.get(t(2)), ...op.shuffle([2, 3, 6, 7]), ...op.vstore,
    ...op.get(q), ...colStride, ...op.add, ...op.tee(q), ...op.get(t(1)), ...op.get(t(3)), ...op.shuffle([0, 1, 4, 5]), ...op.vstore,
    ...op.get(q), ...colStride, ...op.add, ...op.get(t(1)), ...op.get(t(3)), ...op.shuffle([2, 3, 6, 7]), ...op.vstore,
    ...op.get(c), ...op.i32(4), ...op.add, ...op.set(c),
  ];
  const body = [
    ...op.i32(0), ...op.set(r),
    ...op.loop([...op.get(r), ...op.get(R), ...op.geS], [
      ...op.i32(0), ...op.set(c),
      ...op.loop([...op.get(c), ...op.get(C), ...op.geS], inner),
      ...op.get(r), ...op.i32(4), ...op.add, ...op.set(r),
    ]),
  ];
  return { name: 'transpose', params: 4, locals: [I32, I32, I32, I32, V128, V128, V128, V128, V128, V128, V128, V128], body };
}

/** The smallest normal float32, 2⁻¹²⁶: traces under it are flushed to zero. */
export const MIN_NORMAL = 1.1754943508222875e-38;

/** Index of {@link rowsAxpyFn} in the assembled module (called by {@link combineFn}). */
const FN_ROWS_AXPY = 1;

/**
 * `rowsAxpy(idx, val, start, src, dst, N, O, skip, unit)`: for each n < N,
 * `dst[n, :] = Σ_k val[k]·src[idx[k], :]` over the entries k ∈ [start[n], start[n+1]), summed in entry
 * order from 0 in float32 (`0 + v₀·s₀ + v₁·s₁ + …`, each operation rounded). Rows of O floats
 * (O a multiple of 4); a row without entries is written as zeros, or left as it is when `skip` ≠ 0.
 * Register-blocked: 32 floats of the row (8 vectors) are summed over all entries in registers before
 * they are stored, then the rest one vector at a time. With `unit` v not NaN (every value is v) the
 * rows are summed and the sums multiplied by v once: `f(v·(0 + s₀ + s₁ + …))`.
 */
function rowsAxpyFn(): Fn {
  const [idx, val, start, src, dst, N, O, skip, unit] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [n, k, kEnd, j, p, rowBytes, d0, kStart, jEnd] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  const [vs, vUnit] = [18, 19];
  const a = (t: number) => 20 + t;
  // one pass over the entries for `m` vectors at byte j of the row; `unit`: every value is the
  // same v, the rows are summed and the sums multiplied by v once
  const chunk = (m: number, unitPath: boolean) => [
    ...Array.from({ length: m }, (_, t) => [...op.vzero, ...op.set(a(t))]).flat(),
    ...op.get(kStart), ...op.set(k),
    ...op.loop([...op.get(k), ...op.get(kEnd), ...op.geS], [
      ...(unitPath ? [] : [...op.get(val), ...op.get(k), ...op.i32(2), ...op.shl, ...op.add, ...op.f32load, ...op.splat, ...op.set(vs)]),
      ...op.get(src), ...op.get(idx), ...op.get(k), ...op.i32(2), ...op.shl, ...op.add, ...op.i32load, ...op.get(rowBytes), ...op.mul, ...op.add, ...op.get(j), ...op.add, ...op.set(p),
      ...Array.from({ length: m }, (_, t) => unitPath
        ? [...op.get(a(t)), ...op.get(p), ...op.vloadAt(16 * t), ...op.vadd, ...op.set(a(t))]
        : [...op.get(a(t)), ...op.get(vs), ...op.get(p), ...op.vloadAt(16 * t), ...op.vmul, ...op.vadd, ...op.set(a(t))]).flat(),
      ...op.get(k), ...op.i32(1), ...op.add, ...op.set(k),
    ]),
    ...Array.from({ length: m }, (_, t) => [...op.get(d0), ...op.get(j), ...op.add, ...op.get(a(t)), ...(unitPath ? [...op.get(vUnit), ...op.vmul] : []), ...op.vstoreAt(16 * t)]).flat(),
    ...op.get(j), ...op.i32(16 * m), ...op.add, ...op.set(j),
  ];
  const rowLoops = (unitPath: boolean) => [
    ...op.loop([...op.get(j), ...op.get(jEnd), ...op.geS], chunk(8, unitPath)),
    ...op.loop([...op.get(j), ...op.get(rowBytes), ...op.geS], chunk(1, unitPath)),
  ];
  const body = [
    ...op.get(unit), ...op.splat, ...op.set(vUnit),
    ...op.get(O), ...op.i32(2), ...op.shl, ...op.set(rowBytes),
    ...op.get(rowBytes), ...op.i32(-128), ...op.and, ...op.set(jEnd), // whole 8-vector chunks, in bytes
    ...op.i32(0), ...op.set(n),
    ...op.loop([...op.get(n), ...op.get(N), ...op.geS], [
      ...op.get(dst), ...op.get(n), ...op.get(rowBytes), ...op.mul, ...op.add, ...op.set(d0),
      ...op.get(start), ...op.get(n), ...op.i32(2), ...op.shl, ...op.add, ...op.tee(p), ...op.i32load, ...op.set(kStart),
      ...op.get(p), ...op.i32(4), ...op.add, ...op.i32load, ...op.set(kEnd),
      ...op.i32(0), ...op.set(j),
      ...op.get(kStart), ...op.get(kEnd), ...op.ltS,
      0x04, 0x40, // if: entries, summed in registers
      ...op.get(unit), ...op.get(unit), ...op.f32ne, // NaN: the general path
      0x04, 0x40,
      ...rowLoops(false),
      0x05,
      ...rowLoops(true),
      0x0b,
      0x05, // else: a zero row unless skipped
      ...op.get(skip), ...op.eqz,
      0x04, 0x40,
      ...op.loop([...op.get(j), ...op.get(rowBytes), ...op.geS], [
        ...op.get(d0), ...op.get(j), ...op.add, ...op.vzero, ...op.vstore,
        ...op.get(j), ...op.i32(16), ...op.add, ...op.set(j),
      ]),
      0x0b,
      0x0b,
      ...op.get(n), ...op.i32(1), ...op.add, ...op.set(n),
    ]),
  ];
  const params = [I32, I32, I32, I32, I32, I32, I32, I32, F32];
  return { name: 'rowsAxpy', params, locals: [...new Array<number>(9).fill(I32), ...new Array<number>(10).fill(V128)], body };
}

/**
 * `sameValue(val, n)`: the common value of `val[0..n)` when all n > 0 values are equal (float32
 * equality: a NaN makes them unequal), else NaN — the `unit` argument of {@link rowsAxpyFn} (the
 * exported wrapper also returns NaN for a common ±Infinity).
 */
function sameValueFn(): Fn {
  const [val, n] = [0, 1];
  const [p, end, v0, ok] = [2, 3, 4, 5];
  const [vref, vacc] = [6, 7];
  const body = [
    ...op.f32nan, ...op.set(v0),
    ...op.get(n), ...op.i32(0), 0x4a /* i32.gt_s */,
    0x04, 0x40,
    ...op.get(val), ...op.f32load, ...op.tee(v0), ...op.splat, ...op.set(vref),
    ...op.vones, ...op.set(vacc),
    ...op.get(val), ...op.set(p),
    ...op.get(val), ...op.get(n), ...op.i32(-4), ...op.and, ...op.i32(2), ...op.shl, ...op.add, ...op.set(end),
    ...op.loop([...op.get(p), ...op.get(end), ...op.geS], [
      ...op.get(vacc), ...op.get(p), ...op.vload, ...op.get(vref), ...op.veq, ...op.vand, ...op.set(vacc),
      ...op.get(p), ...op.i32(16), ...op.add, ...op.set(p),
    ]),
    ...op.get(vacc), ...op.allTrue, ...op.set(ok),
    // the last n mod 4 values
    ...op.get(val), ...op.get(n), ...op.i32(2), ...op.shl, ...op.add, ...op.set(end),
    ...op.loop([...op.get(p), ...op.get(end), ...op.geS], [
      ...op.get(ok), ...op.get(p), ...op.f32load, ...op.get(v0), ...op.f32eq, ...op.and, ...op.set(ok),
      ...op.get(p), ...op.i32(4), ...op.add, ...op.set(p),
    ]),
    ...op.get(ok), ...op.eqz,
    0x04, 0x40,
    ...op.f32nan, ...op.set(v0),
    0x0b,
    0x0b,
    ...op.get(v0),
  ];
  return { name: 'sameValue', params: 2, results: [F32], locals: [I32, I32, F32, I32, V128, V128], body };
}

/**
 * `combine(w, s, startS, post, out, Q, idxD, valD, startD, lim, lo, hi, signS, signD, bounded, wt, P, dblk, unitD)`:
 * the two-part update of a `[P, Q]` weight (P, Q multiples of 4), four columns i..i+3 at a time:
 * 1. the second part's four columns into `dblk` `[4, P]` with {@link rowsAxpyFn} (its column lists:
 *    entries k ∈ [startD[i], startD[i+1]) of row index `idxD` into `post` `[B, P]`, values `valD`,
 *    or all equal to `unitD` when it is not NaN);
 * 2. for each four rows o..o+3: the `dblk` tile turned into row vectors with lane shuffles,
 *    `v = (w + signD·d) + m·s` with `m = bounded ? (lim − w) : signS` and `m·s` counting as 0 where
 *    s = 0 (also for an infinite m); `s` (rows of the first part, `[P, Q]`) is read only on rows
 *    with entries (`startS[o] < startS[o+1]`), other rows add nothing;
 * 3. the clamping hook's rule: finite `v` clamped to [lo, hi], NaN and ±Infinity kept;
 * 4. the result written to `out` and, transposed, to `wt` `[Q, P]` (the layout the SIMD product reads).
 * Every operation is rounded to float32, in this order.
 */
function combineFn(lowerOnly = false): Fn {
  const [w, sp, startS, post, out, Q, idxD, valD, startD, lim, lo, hi, signS, signD, bounded, wt, P, dblk, unitD] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  const [i, o, off, rowQ, rowP, e] = [19, 20, 21, 22, 23, 24];
  const v0 = 25;
  const [vLim, vLo, vHi, vSS, vSD, vInf, mB, wv, v, sv] = Array.from({ length: 10 }, (_, k) => v0 + k);
  const d = (k: number) => v0 + 10 + k; // the tile's rows
  const t = (k: number) => v0 + 14 + k; // shuffle temporaries
  const r = (k: number) => v0 + 18 + k; // results
  const vNegInf = v0 + 22;
  // 4×4 transpose of locals src(0..3) into dst(0..3) through t(0..3)
  const transpose4 = (src: (k: number) => number, dst: (k: number) => number) => [
    ...op.get(src(0)), ...op.get(src(1)), ...op.shuffle([0, 4, 1, 5]), ...op.set(t(0)),
    ...op.get(src(0)), ...op.get(src(1)), ...op.shuffle([2, 6, 3, 7]), ...op.set(t(1)),
    ...op.get(src(2)), ...op.get(src(3)), ...op.shuffle([0, 4, 1, 5]), ...op.set(t(2)),
    ...op.get(src(2)), ...op.get(src(3)), ...op.shuffle([2, 6, 3, 7]), ...op.set(t(3)),
    ...op.get(t(0)), ...op.get(t(2)), ...op.shuffle([0, 1, 4, 5]), ...op.set(dst(0)),
    ...op.get(t(0)), ...op.get(t(2)), ...op.shuffle([2, 3, 6, 7]), ...op.set(dst(1)),
    ...op.get(t(1)), ...op.get(t(3)), ...op.shuffle([0, 1, 4, 5]), ...op.set(dst(2)),
    ...op.get(t(1)), ...op.get(t(3)), ...op.shuffle([2, 3, 6, 7]), ...op.set(dst(3)),
  ];
  const row = (k: number) => [
    // off = (o + k)·rowQ + i·4
    ...(k === 0 ? [...op.get(o), ...op.get(rowQ), ...op.mul, ...op.get(i), ...op.i32(2), ...op.shl, ...op.add] : [...op.get(off), ...op.get(rowQ), ...op.add]), ...op.set(off),
    ...op.get(w), ...op.get(off), ...op.add, ...op.vload, ...op.tee(wv),
    ...op.get(vSD), ...op.get(d(k)), ...op.vmul, ...op.vadd, ...op.set(v),
    // rows with entries of the first part: + m·s
    ...op.get(startS), ...op.get(o), ...op.i32(k), ...op.add, ...op.i32(2), ...op.shl, ...op.add, ...op.tee(e), ...op.i32load,
    ...op.get(e), ...op.i32(4), ...op.add, ...op.i32load, ...op.ltS,
    0x04, 0x40,
    ...op.get(v),
    ...op.get(vLim), ...op.get(wv), ...op.vsub, ...op.get(vSS), ...op.get(mB), ...op.bitselect,
    ...op.get(sp), ...op.get(off), ...op.add, ...op.vload, ...op.tee(sv), ...op.vmul,
    ...op.get(sv), ...op.vzero, ...op.veq, ...op.andnot, ...op.vadd, ...op.set(v),
    0x0b,
    // clamp finite values, keep NaN (pmin/pmax keep a NaN first operand) and ±Infinity
    ...op.get(out), ...op.get(off), ...op.add,
    // (lowerOnly, hi = +∞: pmin(v, +∞) = v and +∞ stays +∞ under pmax, so only −∞ is restored)
    ...(lowerOnly
      ? [...op.get(v), ...op.get(v), ...op.get(vLo), ...op.vpmax, ...op.get(v), ...op.get(vNegInf), ...op.veq, ...op.bitselect]
      : [...op.get(v), ...op.get(v), ...op.get(vHi), ...op.vpmin, ...op.get(vLo), ...op.vpmax, ...op.get(v), ...op.vabs, ...op.get(vInf), ...op.veq, ...op.bitselect]),
    ...op.tee(r(k)), ...op.vstore,
  ];
  const body = [
    ...op.get(lim), ...op.splat, ...op.set(vLim),
    ...op.get(lo), ...op.splat, ...op.set(vLo),
    ...op.get(hi), ...op.splat, ...op.set(vHi),
    ...op.get(signS), ...op.splat, ...op.set(vSS),
    ...op.get(signD), ...op.splat, ...op.set(vSD),
    0x43, ...new Uint8Array(new Float32Array([Infinity]).buffer), ...op.splat, ...op.set(vInf),
    ...op.get(vInf), ...op.vneg, ...op.set(vNegInf),
    ...op.i32(0), ...op.get(bounded), ...op.sub, ...op.i32splat, ...op.set(mB),
    ...op.get(Q), ...op.i32(2), ...op.shl, ...op.set(rowQ),
    ...op.get(P), ...op.i32(2), ...op.shl, ...op.set(rowP),
    ...op.i32(0), ...op.set(i),
    ...op.loop([...op.get(i), ...op.get(Q), ...op.geS], [
      // 1. the second part's columns i..i+3 into dblk [4, P]
      ...op.get(idxD), ...op.get(valD), ...op.get(startD), ...op.get(i), ...op.i32(2), ...op.shl, ...op.add, ...op.get(post), ...op.get(dblk), ...op.i32(4), ...op.get(P), ...op.i32(0), ...op.get(unitD), ...op.call(FN_ROWS_AXPY),
      ...op.i32(0), ...op.set(o),
      ...op.loop([...op.get(o), ...op.get(P), ...op.geS], [
        // 2. the tile dblk[0..3][o..o+3] as rows o..o+3 (columns i..i+3)
        ...op.get(dblk), ...op.get(o), ...op.i32(2), ...op.shl, ...op.add, ...op.tee(e), ...op.vload, ...op.set(r(0)),
        ...op.get(e), ...op.get(rowP), ...op.add, ...op.tee(e), ...op.vload, ...op.set(r(1)),
        ...op.get(e), ...op.get(rowP), ...op.add, ...op.tee(e), ...op.vload, ...op.set(r(2)),
        ...op.get(e), ...op.get(rowP), ...op.add, ...op.vload, ...op.set(r(3)),
        ...transpose4(r, d),
        ...[0, 1, 2, 3].flatMap((k) => row(k)),
        // 4. the four result rows, transposed, into wt rows i..i+3 at columns o..o+3
        ...transpose4(r, d),
        ...op.get(wt), ...op.get(i), ...op.get(rowP), ...op.mul, ...op.add, ...op.get(o), ...op.i32(2), ...op.shl, ...op.add, ...op.tee(e), ...op.get(d(0)), ...op.vstore,
        ...op.get(e), ...op.get(rowP), ...op.add, ...op.tee(e), ...op.get(d(1)), ...op.vstore,
        ...op.get(e), ...op.get(rowP), ...op.add, ...op.tee(e), ...op.get(d(2)), ...op.vstore,
        ...op.get(e), ...op.get(rowP), ...op.add, ...op.get(d(3)), ...op.vstore,
        ...op.get(o), ...op.i32(4), ...op.add, ...op.set(o),
      ]),
      ...op.get(i), ...op.i32(4), ...op.add, ...op.set(i),
    ]),
  ];
  const params = [I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, I32, I32, I32, I32, F32];
  return { name: lowerOnly ? 'combineLower' : 'combine', params, locals: [...new Array<number>(6).fill(I32), ...new Array<number>(23).fill(V128)], body };
}

/**
 * `trace(prev, h, out, n, decay, amp, nearest)` over the first n − n mod 4 floats: cumulative
 * `out = f(f(decay·prev) + f(amp·[h ≠ 0]))`, nearest `out = h ≠ 0 ? amp : f(decay·prev)` ([h ≠ 0]
 * is 1 for NaN, 0 for ±0), then values
 * under the smallest normal float32 in magnitude set to +0 (the same float32 operations as the
 * JavaScript kernel, lane by lane; see `fused-trace.ts` for why subnormals are flushed).
 */
function traceFn(): Fn {
  const [prev, h, out, n, decay, amp, nearest] = [0, 1, 2, 3, 4, 5, 6];
  const [e, vD, vA, mN, vh, vMin, vOne] = [7, 8, 9, 10, 11, 12, 13];
  const at = (base: number) => [...op.get(base), ...op.get(e), ...op.add];
  const body = [
    0x43, ...new Uint8Array(new Float32Array([MIN_NORMAL]).buffer), ...op.splat, ...op.set(vMin),
    0x43, ...new Uint8Array(new Float32Array([1]).buffer), ...op.splat, ...op.set(vOne),
    ...op.get(decay), ...op.splat, ...op.set(vD),
    ...op.get(amp), ...op.splat, ...op.set(vA),
    ...op.get(nearest), ...op.i32(1), ...op.sub, ...op.i32splat, ...op.set(mN), // all ones: cumulative
    ...op.get(n), ...op.i32(-4), ...op.and, ...op.i32(2), ...op.shl, ...op.set(n), // whole vectors, in bytes
    ...op.i32(0), ...op.set(e),
    ...op.loop([...op.get(e), ...op.get(n), ...op.geS], [
      ...at(out),
      ...op.get(vD), ...at(prev), ...op.vload, ...op.vmul,
      ...at(h), ...op.vload, ...op.vzero, ...op.vne, ...op.tee(vh), ...op.get(vOne), ...op.vand, ...op.get(vA), ...op.vmul, ...op.vadd, // cumulative: + A·[h ≠ 0]
      ...op.get(vA), ...op.get(vD), ...at(prev), ...op.vload, ...op.vmul, ...op.get(vh), ...op.bitselect, // nearest
      ...op.get(mN), ...op.bitselect,
      // flush to zero: |x| < 2⁻¹²⁶ → +0 (NaN compares false and is kept)
      ...op.tee(vh), ...op.get(vh), ...op.vabs, ...op.get(vMin), ...op.vlt, ...op.andnot,
      ...op.vstore,
      ...op.get(e), ...op.i32(16), ...op.add, ...op.set(e),
    ]),
  ];
  return { name: 'trace', params: [I32, I32, I32, I32, F32, F32, I32], locals: [I32, V128, V128, V128, V128, V128, V128], body };
}

/**
 * `compactRows(x, B, R, idx, val, start, table)`: the non-zero entries of `x` `[B, R]` (R a
 * multiple of 4) row by row, without branches, four at a time: `start[b]` indexes row b's first
 * entry, `idx` its column, `val` its value; `start[B]` = the count. Each group of four is packed
 * with a lane swizzle chosen by its non-zero mask (`table`: 16 patterns of 16 bytes, see
 * {@link packTable}) and stored whole at the current position, which advances by the mask's
 * popcount (`idx` and `val` need B·R slots and 16 bytes more).
 */
function compactRowsFn(): Fn {
  const [x, B, R, idx, val, start, table] = [0, 1, 2, 3, 4, 5, 6];
  const [b, r, n, m] = [7, 8, 9, 10];
  const [v, sh, vr, vIota, vFour] = [11, 12, 13, 14, 15];
  const body = [
    0xfd, 0x0c, ...new Uint8Array(new Int32Array([0, 1, 2, 3]).buffer), ...op.set(vIota),
    ...op.i32(4), ...op.i32splat, ...op.set(vFour),
    ...op.i32(0), ...op.set(n),
    ...op.i32(0), ...op.set(b),
    ...op.loop([...op.get(b), ...op.get(B), ...op.geS], [
      ...op.get(start), ...op.get(b), ...op.i32(2), ...op.shl, ...op.add, ...op.get(n), ...op.i32store,
      ...op.get(vIota), ...op.set(vr),
      ...op.i32(0), ...op.set(r),
      ...op.loop([...op.get(r), ...op.get(R), ...op.geS], [
        ...op.get(x), ...op.vload, ...op.tee(v), ...op.vzero, ...op.vne, ...op.bitmask, ...op.set(m),
        ...op.get(table), ...op.get(m), ...op.i32(4), ...op.shl, ...op.add, ...op.vload, ...op.set(sh),
        ...op.get(val), ...op.get(n), ...op.i32(2), ...op.shl, ...op.add, ...op.get(v), ...op.get(sh), ...op.swizzle, ...op.vstore,
        ...op.get(idx), ...op.get(n), ...op.i32(2), ...op.shl, ...op.add, ...op.get(vr), ...op.get(sh), ...op.swizzle, ...op.vstore,
        ...op.get(n), ...op.get(m), ...op.popcnt, ...op.add, ...op.set(n),
        ...op.get(vr), ...op.get(vFour), ...op.i32x4add, ...op.set(vr),
        ...op.get(x), ...op.i32(16), ...op.add, ...op.set(x),
        ...op.get(r), ...op.i32(4), ...op.add, ...op.set(r),
      ]),
      ...op.get(b), ...op.i32(1), ...op.add, ...op.set(b),
    ]),
    ...op.get(start), ...op.get(B), ...op.i32(2), ...op.shl, ...op.add, ...op.get(n), ...op.i32store,
  ];
  return { name: 'compactRows', params: 7, locals: [I32, I32, I32, I32, V128, V128, V128, V128, V128], body };
}

/**
 * The 16 swizzle patterns of {@link compactRowsFn}: for a 4-bit mask, the bytes of the lanes whose
 * bit is set, in lane order, then zeros (index 0x80).
 */
function packTable(): Uint8Array {
  const t = new Uint8Array(256).fill(0x80);
  for (let m = 0; m < 16; m++) {
    let q = 0;
    for (let l = 0; l < 4; l++) {
      if (!(m & (1 << l))) continue;
      for (let k = 0; k < 4; k++) t[m * 16 + q * 4 + k] = 4 * l + k;
      q++;
    }
  }
  return t;
}

/**
 * `compactColumns(x, B, R, idx, val, start)`: the non-zero entries of `x` `[B, R]` column by column
 * (in sample order within a column), without branches: `start[r]` indexes column r's first entry,
 * `idx` its row b, `val` its value; `start[R]` = the count. Every element is written at the current
 * position, which advances past non-zero ones only (`idx` and `val` hold B·R slots).
 */
function compactColumnsFn(): Fn {
  const [x, B, R, idx, val, start] = [0, 1, 2, 3, 4, 5];
  const [b, r, n, v, p, rowBytes] = [6, 7, 8, 9, 10, 11];
  const body = [
    ...op.get(R), ...op.i32(2), ...op.shl, ...op.set(rowBytes),
    ...op.i32(0), ...op.set(n),
    ...op.i32(0), ...op.set(r),
    ...op.loop([...op.get(r), ...op.get(R), ...op.geS], [
      ...op.get(start), ...op.get(r), ...op.i32(2), ...op.shl, ...op.add, ...op.get(n), ...op.i32store,
      ...op.get(x), ...op.get(r), ...op.i32(2), ...op.shl, ...op.add, ...op.set(p),
      ...op.i32(0), ...op.set(b),
      ...op.loop([...op.get(b), ...op.get(B), ...op.geS], [
        ...op.get(p), ...op.f32load, ...op.set(v),
        ...op.get(idx), ...op.get(n), ...op.i32(2), ...op.shl, ...op.add, ...op.get(b), ...op.i32store,
        ...op.get(val), ...op.get(n), ...op.i32(2), ...op.shl, ...op.add, ...op.get(v), ...op.f32store,
        ...op.get(n), ...op.get(v), ...op.f32const0, ...op.f32ne, ...op.add, ...op.set(n),
        ...op.get(p), ...op.get(rowBytes), ...op.add, ...op.set(p),
        ...op.get(b), ...op.i32(1), ...op.add, ...op.set(b),
      ]),
      ...op.get(r), ...op.i32(1), ...op.add, ...op.set(r),
    ]),
    ...op.get(start), ...op.get(R), ...op.i32(2), ...op.shl, ...op.add, ...op.get(n), ...op.i32store,
  ];
  return { name: 'compactColumns', params: 6, locals: [I32, I32, I32, F32, I32, I32], body };
}

/** `divide(ptr, n, d)`: `x[k] = x[k]/d` for k < n (n a multiple of 4), float32 division. */
function divideFn(): Fn {
  const [ptr, n, d] = [0, 1, 2];
  const [end, vd] = [3, 4];
  const body = [
    ...op.get(d), ...op.splat, ...op.set(vd),
    ...op.get(ptr), ...op.get(n), ...op.i32(2), ...op.shl, ...op.add, ...op.set(end),
    ...op.loop([...op.get(ptr), ...op.get(end), ...op.geS], [
      ...op.get(ptr), ...op.get(ptr), ...op.vload, ...op.get(vd), ...op.vdiv, ...op.vstore,
      ...op.get(ptr), ...op.i32(16), ...op.add, ...op.set(ptr),
    ]),
  ];
  return { name: 'divide', params: [I32, I32, F32], locals: [I32, V128], body };
}

/** `scale(src, dst, n, s)`: `dst[k] = src[k]·s` for k < n − n mod 4, float32 products. */
function scaleFn(): Fn {
  const [src, dst, n, sc] = [0, 1, 2, 3];
  const [end, vs] = [4, 5];
  const body = [
    ...op.get(sc), ...op.splat, ...op.set(vs),
    ...op.get(src), ...op.get(n), ...op.i32(-4), ...op.and, ...op.i32(2), ...op.shl, ...op.add, ...op.set(end),
    ...op.loop([...op.get(src), ...op.get(end), ...op.geS], [
      ...op.get(dst), ...op.get(src), ...op.vload, ...op.get(vs), ...op.vmul, ...op.vstore,
      ...op.get(src), ...op.i32(16), ...op.add, ...op.set(src),
      ...op.get(dst), ...op.i32(16), ...op.add, ...op.set(dst),
    ]),
  ];
  return { name: 'scale', params: [I32, I32, I32, F32], locals: [I32, V128], body };
}

/**
 * `neuron(v, r, cur, theta, vOut, rOut, sOut, B, N, decay, restTerm, gain, thresh, reset, dt,
 * refracT, flags)`: the element-wise part of the fused LIF/ALIF step (`fused-neuron.ts`) on
 * `[B, N]` (N a multiple of 4), lane by lane with the JavaScript kernel's float32 operations and no
 * branches. Flags: 1 refractory period, 2 refractory lock (voltage held), 4 input current, 8 a
 * threshold offset θ `[N]` (one adaptation term).
 */
function neuronFn(): Fn {
  const [v, r, cur, theta, vOut, rOut, sOut, B, N, decay, restTerm, gain, thresh, reset, dt, refracT, flags] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const [e, end, rowBytes] = [17, 18, 19];
  const [vDecay, vRest, vGain, vThresh, vReset, vDt, vRefT, vOne, mRefr, nRefr, mLock, mLockRefr, mInput, mTheta, vv, rr, F, ii, vn, th, fired, leak] = Array.from({ length: 22 }, (_, k) => 20 + k);
  const flag = (bit: number) => [...op.i32(0), ...op.get(flags), ...op.i32(bit), ...op.and, ...op.i32(0), 0x47 /* i32.ne */, ...op.sub, ...op.i32splat];
  const at = (base: number) => [...op.get(base), ...op.get(e), ...op.add];
  const body = [
    ...op.get(decay), ...op.splat, ...op.set(vDecay),
    ...op.get(restTerm), ...op.splat, ...op.set(vRest),
    ...op.get(gain), ...op.splat, ...op.set(vGain),
    ...op.get(thresh), ...op.splat, ...op.set(vThresh),
    ...op.get(reset), ...op.splat, ...op.set(vReset),
    ...op.get(dt), ...op.splat, ...op.set(vDt),
    ...op.get(refracT), ...op.splat, ...op.set(vRefT),
    0x43, ...new Uint8Array(new Float32Array([1]).buffer), ...op.splat, ...op.set(vOne),
    ...flag(1), ...op.tee(mRefr), ...op.vnot, ...op.set(nRefr),
    ...flag(2), ...op.set(mLock),
    ...op.get(mRefr), ...op.get(mLock), ...op.vand, ...op.set(mLockRefr),
    ...flag(4), ...op.set(mInput),
    ...flag(8), ...op.set(mTheta),
    ...op.get(N), ...op.i32(2), ...op.shl, ...op.set(rowBytes),
    ...op.get(B), ...op.get(rowBytes), ...op.mul, ...op.set(end),
    ...op.i32(0), ...op.set(e),
    ...op.loop([...op.get(e), ...op.get(end), ...op.geS], [
      ...at(v), ...op.vload, ...op.set(vv),
      ...at(r), ...op.vload, ...op.set(rr),
      // free = !refractory || r <= dt
      ...op.get(rr), ...op.get(vDt), ...op.vle, ...op.get(nRefr), ...op.vor, ...op.set(F),
      // input current (0 while refractory without the lock)
      ...at(cur), ...op.vload, ...op.get(mInput), ...op.vand, ...op.get(F), ...op.get(mLock), ...op.vor, ...op.vand, ...op.set(ii),
      ...op.get(vv), ...op.get(vDecay), ...op.vmul, ...op.get(vRest), ...op.vadd, ...op.set(leak),
      ...op.get(leak), ...op.get(ii), ...op.get(vGain), ...op.vmul, ...op.vadd, ...op.get(leak), ...op.get(mInput), ...op.bitselect, ...op.set(vn),
      // the lock holds the voltage while refractory
      ...op.get(vv), ...op.get(vn), ...op.get(mLockRefr), ...op.get(F), ...op.andnot, ...op.bitselect, ...op.set(vn),
      // threshold: thresh + θ[n]
      ...op.get(theta), ...op.get(e), ...op.get(rowBytes), ...op.remU, ...op.add, ...op.vload, ...op.get(vThresh), ...op.vadd, ...op.get(vThresh), ...op.get(mTheta), ...op.bitselect, ...op.set(th),
      ...op.get(vn), ...op.get(th), ...op.vge, ...op.get(F), ...op.vand, ...op.set(fired),
      ...at(vOut), ...op.get(vReset), ...op.get(vn), ...op.get(fired), ...op.bitselect, ...op.vstore,
      ...at(sOut), ...op.get(fired), ...op.get(vOne), ...op.vand, ...op.vstore,
      ...at(rOut),
      ...op.get(vRefT), ...op.get(rr), ...op.get(vDt), ...op.vsub, ...op.vzero, ...op.vpmax, ...op.get(fired), ...op.bitselect,
      ...op.get(rr), ...op.get(mRefr), ...op.bitselect, ...op.vstore,
      ...op.get(e), ...op.i32(16), ...op.add, ...op.set(e),
    ]),
  ];
  const params = [I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, I32];
  return { name: 'neuron', params, locals: [I32, I32, I32, ...new Array<number>(22).fill(V128)], body };
}

/** Function index of the conductance module's imported `env.exp` (Math.exp); its own functions follow. */
const COND_EXP_IMPORT = 0;

/**
 * `exp(x, n2)` of the conductance module: x[i] ← e^{x[i]} in place for the float64 x[0 … n2) (n2
 * even), two at a time ({@link expPair}); the module's check of its exponential against Math.exp.
 */
function condExpFn(): Fn {
  const [x, n2, table, i, at] = [0, 1, 2, 3, 4];
  const L: ExpLocals = { x: 5, ax: 6, k: 7, hi: 8, lo: 9, r: 10, t: 11, c: 12 };
  const body = op.loop([...op.get(i), ...op.get(n2), ...op.geS], [
    ...op.get(x), ...op.get(i), ...op.i32(3), ...op.shl, ...op.add, ...op.set(at),
    ...op.get(at), ...op.vload, ...op.set(L.x),
    ...op.get(at), ...expPair(L, op.get(table), COND_EXP_IMPORT), ...op.vstore,
    ...op.get(i), ...op.i32(2), ...op.add, ...op.set(i),
  ]);
  return { name: 'exp', params: [I32, I32, I32], locals: [I32, I32, ...new Array<number>(8).fill(V128)], body };
}

/**
 * `neuronConductance(v, r, cur, theta, g0, g1, vOut, rOut, sOut, B, N, flags, table, e0, e1, rest,
 * R, rate, thresh, reset, dt, refracT)`: the element-wise LIF/ALIF step with one or two receptors'
 * conductances (flags: 1 refractory, 2 refracLock, 4 a current, 8 θ shared by the batch, 16 two
 * receptors, 32 R ≠ 1), four neurons at a time, the JavaScript kernel's float32 operations in its
 * order (see `fused-neuron.ts`): the input masked where neither free nor locked, Σg = g0 (+ g1),
 * ΣgE = g0·E0 (+ g1·E1), G = 1 + R·Σg, V∞ = (v_rest + R·(i + ΣgE))/G, then e^{G·rate} with the bits
 * of `fround(Math.exp(G·rate))` — the float32 argument widened exactly to two f64x2 halves, fdlibm's
 * exp on each ({@link expPair}, constants from `table`), rounded back to float32 — and
 * v' = V∞ + (v − V∞)·e; held while refractory with the lock; the threshold, reset, spike and
 * refractory countdown as {@link neuronFn} (`max(r − Δt, 0)` of a −0 keeps −0, as there).
 */
function neuronConductanceFn(): Fn {
  const [v, r, cur, theta, g0, g1, vOut, rOut, sOut, B, N, flags, table] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const [e0, e1, rest, R, rate, thresh, reset, dt, refracT] = [13, 14, 15, 16, 17, 18, 19, 20, 21];
  const [e, end, rowBytes] = [22, 23, 24];
  const names = ['vE0', 'vE1', 'vRest', 'vR', 'vRate', 'vThresh', 'vReset', 'vDt', 'vRefT', 'vOne', 'mRefr', 'nRefr', 'mLock', 'mLockRefr', 'mInput', 'mTheta', 'mTwo', 'mR',
    'vv', 'rr', 'F', 'keep', 'ii', 'ga', 'gb', 'gSum', 'gE', 'G', 'drv', 'vInf', 'arg', 'dLo', 'vn', 'th', 'fired',
    'x', 'ax', 'k', 'hi', 'lo', 'rq', 't', 'c'] as const;
  const V: Record<(typeof names)[number], number> = {} as never;
  names.forEach((n, i) => (V[n] = 25 + i));
  const L: ExpLocals = { x: V.x, ax: V.ax, k: V.k, hi: V.hi, lo: V.lo, r: V.rq, t: V.t, c: V.c };
  const flag = (bit: number) => [...op.i32(0), ...op.get(flags), ...op.i32(bit), ...op.and, ...op.i32(0), 0x47 /* i32.ne */, ...op.sub, ...op.i32splat];
  const at = (base: number) => [...op.get(base), ...op.get(e), ...op.add];
  const splat = (from: number, to: number) => [...op.get(from), ...op.splat, ...op.set(to)];
  /** `sel(a, b, m)`: a where the mask m is set, else b. */
  const sel = (a: number[], b: number[], m: number) => [...a, ...b, ...op.get(m), ...op.bitselect];
  const exp = [...expPair(L, op.get(table), COND_EXP_IMPORT), ...op.demote];
  const body = [
    ...splat(e0, V.vE0), ...splat(e1, V.vE1), ...splat(rest, V.vRest), ...splat(R, V.vR), ...splat(rate, V.vRate),
    ...splat(thresh, V.vThresh), ...splat(reset, V.vReset), ...splat(dt, V.vDt), ...splat(refracT, V.vRefT),
    0x43, ...new Uint8Array(new Float32Array([1]).buffer), ...op.splat, ...op.set(V.vOne),
    ...flag(1), ...op.tee(V.mRefr), ...op.vnot, ...op.set(V.nRefr),
    ...flag(2), ...op.set(V.mLock),
    ...op.get(V.mRefr), ...op.get(V.mLock), ...op.vand, ...op.set(V.mLockRefr),
    ...flag(4), ...op.set(V.mInput),
    ...flag(8), ...op.set(V.mTheta),
    ...flag(16), ...op.set(V.mTwo),
    ...flag(32), ...op.set(V.mR),
    ...op.get(N), ...op.i32(2), ...op.shl, ...op.set(rowBytes),
    ...op.get(B), ...op.get(rowBytes), ...op.mul, ...op.set(end),
    ...op.i32(0), ...op.set(e),
    ...op.loop([...op.get(e), ...op.get(end), ...op.geS], [
      ...at(v), ...op.vload, ...op.set(V.vv),
      ...at(r), ...op.vload, ...op.set(V.rr),
      // free = !refractory || r <= dt; the inputs count where free or locked (else 0)
      ...op.get(V.rr), ...op.get(V.vDt), ...op.vle, ...op.get(V.nRefr), ...op.vor, ...op.tee(V.F), ...op.get(V.mLock), ...op.vor, ...op.set(V.keep),
      ...at(cur), ...op.vload, ...op.get(V.mInput), ...op.vand, ...op.get(V.keep), ...op.vand, ...op.set(V.ii),
      ...at(g0), ...op.vload, ...op.get(V.keep), ...op.vand, ...op.set(V.ga),
      ...at(g1), ...op.vload, ...op.get(V.keep), ...op.vand, ...op.set(V.gb),
      // Σg = g0 (+ g1), ΣgE = g0·E0 (+ g1·E1)
      ...sel([...op.get(V.ga), ...op.get(V.gb), ...op.vadd], op.get(V.ga), V.mTwo), ...op.set(V.gSum),
      ...op.get(V.ga), ...op.get(V.vE0), ...op.vmul, ...op.set(V.gE),
      ...sel([...op.get(V.gE), ...op.get(V.gb), ...op.get(V.vE1), ...op.vmul, ...op.vadd], op.get(V.gE), V.mTwo), ...op.set(V.gE),
      // G = 1 + R·Σg; V∞ = (v_rest + R·(i + ΣgE))/G
      ...op.get(V.vOne), ...sel([...op.get(V.gSum), ...op.get(V.vR), ...op.vmul], op.get(V.gSum), V.mR), ...op.vadd, ...op.set(V.G),
      ...sel([...op.get(V.ii), ...op.get(V.gE), ...op.vadd], op.get(V.gE), V.mInput), ...op.set(V.drv),
      ...op.get(V.vRest), ...sel([...op.get(V.drv), ...op.get(V.vR), ...op.vmul], op.get(V.drv), V.mR), ...op.vadd, ...op.get(V.G), ...op.vdiv, ...op.set(V.vInf),
      // e^{G·rate}: lanes 0, 1 and lanes 2, 3 widened, exponentiated and rounded back
      ...op.get(V.G), ...op.get(V.vRate), ...op.vmul, ...op.set(V.arg),
      ...op.get(V.arg), ...op.promote, ...op.set(V.x), ...exp, ...op.set(V.dLo),
      ...op.get(V.arg), ...op.get(V.arg), ...op.shuffle([2, 3, 2, 3]), ...op.promote, ...op.set(V.x), ...exp,
      ...op.set(V.x), ...op.get(V.dLo), ...op.get(V.x), ...op.shuffle([0, 1, 4, 5]),
      // v' = V∞ + (v − V∞)·e, held while refractory with the lock
      ...op.get(V.vv), ...op.get(V.vInf), ...op.vsub, ...op.vmul, ...op.get(V.vInf), ...op.vadd, ...op.set(V.vn),
      ...op.get(V.vv), ...op.get(V.vn), ...op.get(V.mLockRefr), ...op.get(V.F), ...op.andnot, ...op.bitselect, ...op.set(V.vn),
      // threshold: thresh + θ[n]
      ...op.get(theta), ...op.get(e), ...op.get(rowBytes), ...op.remU, ...op.add, ...op.vload, ...op.get(V.vThresh), ...op.vadd, ...op.get(V.vThresh), ...op.get(V.mTheta), ...op.bitselect, ...op.set(V.th),
      ...op.get(V.vn), ...op.get(V.th), ...op.vge, ...op.get(V.F), ...op.vand, ...op.set(V.fired),
      ...at(vOut), ...op.get(V.vReset), ...op.get(V.vn), ...op.get(V.fired), ...op.bitselect, ...op.vstore,
      ...at(sOut), ...op.get(V.fired), ...op.get(V.vOne), ...op.vand, ...op.vstore,
      ...at(rOut),
      ...op.get(V.vRefT), ...op.get(V.rr), ...op.get(V.vDt), ...op.vsub, ...op.vzero, ...op.vpmax, ...op.get(V.fired), ...op.bitselect,
      ...op.get(V.rr), ...op.get(V.mRefr), ...op.bitselect, ...op.vstore,
      ...op.get(e), ...op.i32(16), ...op.add, ...op.set(e),
    ]),
  ];
  const params = [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32, F32];
  return { name: 'neuronConductance', params, locals: [I32, I32, I32, ...new Array<number>(names.length).fill(V128)], body };
}

/**
 * `adaptMean(theta, rOut, sOut, thOut, B, N, decay, inc, hold)`: one adaptation term's batch-mean
 * update of θ `[N]` (N a multiple of 4) after a neuron step, as the JavaScript kernel:
 * `p_b = (hold ∧ r_b > 0) ? θ : f(θ·decay)`, `x_b = f(p_b + f(s_b·inc))`, summed over b in order
 * (float32), then `f(Σ/B)`.
 */
function adaptMeanFn(): Fn {
  const [theta, rOut, sOut, thOut, B, N, decay, inc, hold] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [nb, rowBytes, b, e] = [9, 10, 11, 12];
  const [vDecay, vInc, mHold, t0, next, acc, x, vB] = [13, 14, 15, 16, 17, 18, 19, 20];
  const body = [
    ...op.get(decay), ...op.splat, ...op.set(vDecay),
    ...op.get(inc), ...op.splat, ...op.set(vInc),
    ...op.i32(0), ...op.get(hold), ...op.sub, ...op.i32splat, ...op.set(mHold),
    ...op.get(B), 0xb2 /* f32.convert_i32_s */, ...op.splat, ...op.set(vB),
    ...op.get(N), ...op.i32(2), ...op.shl, ...op.set(rowBytes),
    ...op.i32(0), ...op.set(nb),
    ...op.loop([...op.get(nb), ...op.get(rowBytes), ...op.geS], [
      ...op.get(theta), ...op.get(nb), ...op.add, ...op.vload, ...op.tee(t0), ...op.get(vDecay), ...op.vmul, ...op.set(next),
      ...op.i32(0), ...op.set(b),
      ...op.get(nb), ...op.set(e),
      ...op.loop([...op.get(b), ...op.get(B), ...op.geS], [
        // x = (hold ∧ r > 0 ? θ : next) + s·inc
        ...op.get(t0), ...op.get(next), ...op.get(rOut), ...op.get(e), ...op.add, ...op.vload, ...op.vzero, 0xfd, ...uleb(0x44) /* f32x4.gt */, ...op.get(mHold), ...op.vand, ...op.bitselect,
        ...op.get(sOut), ...op.get(e), ...op.add, ...op.vload, ...op.get(vInc), ...op.vmul, ...op.vadd, ...op.set(x),
        // acc = b = 0 ? x : acc + x (the first term without adding to 0: keeps −0 as the JS kernel)
        ...op.get(x), ...op.get(acc), ...op.get(x), ...op.vadd, ...op.i32(0), ...op.get(b), ...op.eqz, ...op.sub, ...op.i32splat, ...op.bitselect, ...op.set(acc),
        ...op.get(e), ...op.get(rowBytes), ...op.add, ...op.set(e),
        ...op.get(b), ...op.i32(1), ...op.add, ...op.set(b),
      ]),
      ...op.get(thOut), ...op.get(nb), ...op.add, ...op.get(acc), ...op.get(vB), ...op.vdiv, ...op.vstore,
      ...op.get(nb), ...op.i32(16), ...op.add, ...op.set(nb),
    ]),
  ];
  return { name: 'adaptMean', params: [I32, I32, I32, I32, I32, I32, F32, F32, I32], locals: [I32, I32, I32, I32, ...new Array<number>(8).fill(V128)], body };
}

/**
 * Per-shape scratch in the backend's memory (byte offsets from {@link SimdLoops.alloc}), kept for
 * one binding of the loops: emptied when {@link simdLoops} binds them to another memory (after the
 * wasm backend was removed and registered again, or replaced by another instance), where those
 * offsets point into memory that is no longer the backend's. Each lookup costs one comparison and
 * one map read; nothing is allocated after a shape's first call.
 */
export class ScratchCache<T> {
  /** The binding the entries belong to (a number: no reference that would keep an old memory alive). */
  private owner = 0;
  private readonly entries = new Map<string, T>();

  /** The entry of `key` for the loops `L`, made by `make` on first use (after a rebinding: again). */
  get(L: SimdLoops, key: string, make: () => T): T {
    if (L.binding !== this.owner) {
      this.entries.clear();
      this.owner = L.binding;
    }
    let e = this.entries.get(key);
    if (e === undefined) {
      e = make();
      this.entries.set(key, e);
    }
    return e;
  }
}

/** One transposed copy `[I, O]` of an `[O, I]` weight per shape, and whose data it holds. */
const transposed = new ScratchCache<{ ptr: number; of: object | null }>();

/**
 * The per-shape buffer holding a transposed weight `[cols, rows]` of a `[rows, cols]` weight, and
 * the data id it was made from (null: none). A writer sets `of` to the data id it transposed; a
 * reader whose weight has another data id transposes it again (a single-entry cache per shape and
 * binding of the loops: a new binding starts with none).
 */
export function transposedWeight(L: SimdLoops, rows: number, cols: number): { ptr: number; of: object | null } {
  return transposed.get(L, `${rows}|${cols}`, () => ({ ptr: L.alloc(rows * cols * 4), of: null }));
}

/**
 * The current binding: the backend object it was checked for, that backend's memory, and the loops
 * over it (null: they do not apply to that backend).
 */
let bound: { backend: object; memory: unknown; loops: SimdLoops | null } | null = null;

/** Bindings made so far (the last one's {@link SimdLoops.binding}). */
let bindings = 0;

/** Switch for the SIMD loops (tests compare both paths): `CINDER_SIMD=0` turns them off at start. */
const simdEnabled = envSwitch('CINDER_SIMD');

/** Turns the SIMD loops on or off (the JavaScript/op paths are used when off); returns the previous setting. */
export function setSimdLoops(on: boolean): boolean {
  return simdEnabled.set(on);
}

/** The parts of the wasm backend the loops use. */
interface WasmModule {
  asm?: { memory?: unknown };
  _malloc?: (n: number) => number;
}

/**
 * The SIMD loops bound to the current wasm backend's memory, or null where they do not apply.
 *
 * The binding follows the backend: when the backend object is not the one last checked (the wasm
 * backend was removed and registered again, or another instance set under the name `wasm`) and
 * its memory is another `WebAssembly.Memory`, the loops are assembled again over the new memory and
 * every {@link ScratchCache} starts empty (their offsets were allocations in the old memory). The
 * check is one comparison per call. Growth of the memory keeps the same `Memory` object (its buffer
 * is replaced): the loops address it by offsets and {@link SimdLoops.heap} renews its views.
 * Binding allocates nothing in the backend's memory (the swizzle table of `compactRows` comes with
 * the first {@link SimdLoops.alloc}), so a kernel may call this after taking its views.
 */
export function simdLoops(): SimdLoops | null {
  if (!simdEnabled.get() || tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as { wasm?: WasmModule };
  if (bound !== null && bound.backend === backend) return bound.loops;
  const wasm = backend.wasm;
  const memory = wasm?.asm?.memory;
  if (bound !== null && memory !== undefined && bound.memory === memory) {
    // another backend object over the same module and memory: the loops and scratch stay valid
    bound.backend = backend;
    return bound.loops;
  }
  bound = { backend, memory, loops: bind(wasm, memory) };
  return bound.loops;
}

/** The loops assembled over `memory` (the backend module `wasm`'s), or null where they do not apply. */
function bind(wasm: WasmModule | undefined, memory: unknown): SimdLoops | null {
  try {
    if (!(memory instanceof WebAssembly.Memory) || !(memory.buffer instanceof ArrayBuffer) || !wasm?._malloc) return null;
    const bytes = assemble([transposeFn(), rowsAxpyFn(), combineFn(), combineFn(true), traceFn(), compactRowsFn(), compactColumnsFn(), divideFn(), scaleFn(), neuronFn(), adaptMeanFn(), sameValueFn()]);
    if (!WebAssembly.validate(bytes)) return null;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const e = inst.exports as unknown as Omit<SimdLoops, 'alloc' | 'memory' | 'compactRows' | 'compactColumns'> & {
      compactRows(x: number, B: number, R: number, idx: number, val: number, start: number, table: number): void;
      compactColumns(x: number, B: number, R: number, idx: number, val: number, start: number): void;
    };
    const malloc = wasm._malloc;
    const raw = (n: number) => (malloc(n + 16) + 15) & ~15;
    // the swizzle patterns of compactRows, placed by the first alloc: binding allocates nothing, so
    // a kernel that binds after taking its views cannot see them detached by a growth here; every
    // compactRows call reads lists the caller allocated before, so the table is there by then
    let table = 0;
    const alloc = (n: number) => {
      if (table === 0) {
        table = raw(256);
        new Uint8Array(memory.buffer, table, 256).set(packTable());
      }
      return raw(n);
    };
    const needTable = () => {
      if (table === 0) throw new Error('SIMD loops: compactRows/compactColumns before any alloc (their lists come from alloc)');
      return table;
    };
    let views = { i32: new Int32Array(memory.buffer), f32: new Float32Array(memory.buffer) };
    // the conductance module, made at its first use (its table and probe are allocations)
    let conductance: ConductanceLoop | null | undefined;
    const makeConductance = (): ConductanceLoop | null => {
      try {
        const cBytes = assemble([condExpFn(), neuronConductanceFn()], true); // env.exp is function 0 (COND_EXP_IMPORT)
        if (!WebAssembly.validate(cBytes)) return null;
        const c = new WebAssembly.Instance(new WebAssembly.Module(cBytes), { env: { memory, exp: Math.exp } }).exports as unknown as {
          exp(x: number, n2: number, table: number): void;
          neuronConductance(v: number, r: number, cur: number, theta: number, g0: number, g1: number, vOut: number, rOut: number, sOut: number, B: number, N: number, flags: number, table: number, e0: number, e1: number, rest: number, R: number, rate: number, thresh: number, reset: number, dt: number, refracT: number): void;
        };
        const tablePtr = raw(EXP_TABLE_BYTES);
        new Uint8Array(memory.buffer, tablePtr, EXP_TABLE_BYTES).set(expTableBytes());
        // the exponential must give this engine's Math.exp bits (fdlibm's, as V8's and SpiderMonkey's)
        if (!expMatchesMathExp(memory, raw(EXP_PROBE_BYTES), (x, n2) => c.exp(x, n2, tablePtr))) return null;
        return (v, r, cur, theta, g0, g1, vOut, rOut, sOut, B, N, flags, e0, e1, rest, R, rate, thresh, reset, dt, refracT) =>
          c.neuronConductance(v, r, cur, theta, g0, g1, vOut, rOut, sOut, B, N, flags, tablePtr, e0, e1, rest, R, rate, thresh, reset, dt, refracT);
      } catch {
        return null;
      }
    };
    return {
      heap: () => {
        if (views.i32.buffer !== memory.buffer) views = { i32: new Int32Array(memory.buffer), f32: new Float32Array(memory.buffer) };
        return views;
      },
      transpose: e.transpose,
      rowsAxpy: e.rowsAxpy,
      combine: e.combine,
      combineLower: e.combineLower,
      // a non-finite common value takes the general path (see the module notes)
      sameValue: (val, n) => {
        const v = e.sameValue(val, n);
        return v - v === 0 ? v : NaN;
      },
      trace: e.trace,
      compactRows: (x, B, R, idx, val, start) => e.compactRows(x, B, R, idx, val, start, needTable()),
      compactColumns: (x, B, R, idx, val, start, spare) => {
        if (B % 4 !== 0 || R % 4 !== 0) return e.compactColumns(x, B, R, idx, val, start);
        // B a multiple of 4: the columns as rows of the transpose, packed four at a time
        e.transpose(x, spare, B, R);
        e.compactRows(spare, R, B, idx, val, start, needTable());
      },
      divide: e.divide,
      scale: e.scale,
      neuron: e.neuron,
      conductance: () => (conductance === undefined ? (conductance = makeConductance()) : conductance),
      adaptMean: e.adaptMean,
      memory,
      alloc,
      binding: ++bindings,
    };
  } catch {
    return null;
  }
}

/** Test hook: forget the bound module (after a backend change). */
export function resetSimdLoops(): void {
  bound = null;
}
