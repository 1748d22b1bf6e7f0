/**
 * WebAssembly SIMD loops for the fused kernels on the `wasm` backend: a small module, assembled
 * here from its instructions at first use, that imports the backend's own `WebAssembly.Memory`, so
 * it reads and writes tensors in place (pointers are the byte offsets of the backend's views). Each
 * loop works on 4 float32 lanes (`f32x4`): every lane operation is one IEEE float32 operation, as
 * `Math.fround` of the exact result.
 *
 * Loops (all pointers are byte offsets into the backend's memory; every count is a multiple of 4
 * where stated):
 * - `transpose(src, dst, R, C)`: `dst[c·R + r] = src[r·C + c]` for `[R, C]`, R and C multiples of 4
 *   (4×4 blocks moved with lane shuffles).
 * - `rowsAxpy(idx, val, start, src, dst, N, O)`: for each n < N, `dst[n, :] = Σ_k val[k]·src[idx[k], :]`
 *   over the entries k ∈ [start[n], start[n+1]) (int32 `idx`, `start`; float32 `val`), each row O
 *   floats (O a multiple of 4), summed in entry order in float32 (`dst` zeroed first).
 * - `trace(...)`: one exponential trace step (see {@link traceFn}).
 * - `compactRows(...)`, `compactColumns(...)`: lists of the non-zero entries of a `[B, R]` factor,
 *   by row or by column, without branches (a spike pattern mispredicts every other branch).
 * - `divide(ptr, n, d)`: `x/d` in place, 4 lanes at a time.
 * - `scale(src, dst, n, s)`: `dst = src·s` over the first n − n mod 4 floats (4 lanes at a time).
 * - `neuron(...)`: the element-wise LIF/ALIF step (see {@link neuronFn}); `adaptMean(...)` its
 *   one-term batch-mean threshold adaptation (see {@link adaptMeanFn}).
 * - `combine4(...)`: four rows of a two-part weight update with a multiplicative bound and a
 *   clamp, the second part summed from column lists on the fly (see {@link combine4Fn});
 *   `combine8(...)` the same on eight rows; `combine4p`/`combine8p` for a bounded rule that
 *   depresses with the other part and has no upper clamp (fewer operations, the same results).
 *
 * Used only when the backend is `wasm`, the runtime validates the module (SIMD support), and the
 * backend's memory is not shared (the threaded build); {@link simdLoops} returns null otherwise and
 * callers keep their JavaScript or op path.
 * @module
 */
import { tf } from '../../core/tf.js';
import { envSwitch } from '../setting.js';

/** The exported loops (see the module comment for their meaning). */
export interface SimdLoops {
  transpose(src: number, dst: number, R: number, C: number): void;
  rowsAxpy(idx: number, val: number, start: number, src: number, dst: number, N: number, O: number): void;
  combine4(w: number, s: number, post: number, out: number, Q: number, cnt: number, idx: number, val: number, B: number, lim: number, lo: number, hi: number, signS: number, signD: number, bounded: number, wt: number, P: number): void;
  /** {@link combine4} for a bounded rows part, signD = −1 and no upper clamp (the Hebbian pair rule): fewer operations, the same results. */
  combine4p: SimdLoops['combine4'];
  /** {@link combine8} for a bounded rows part, signD = −1 and no upper clamp. */
  combine8p: SimdLoops['combine4'];
  /** {@link combine4} on eight rows (two vectors per column entry). */
  combine8(w: number, s: number, post: number, out: number, Q: number, cnt: number, idx: number, val: number, B: number, lim: number, lo: number, hi: number, signS: number, signD: number, bounded: number, wt: number, P: number): void;
  trace(prev: number, h: number, out: number, n: number, decay: number, amp: number, nearest: number): void;
  compactRows(x: number, B: number, R: number, idx: number, val: number, start: number): void;
  compactColumns(x: number, B: number, R: number, stride: number, cnt: number, idx: number, val: number): void;
  divide(ptr: number, n: number, d: number): void;
  scale(src: number, dst: number, n: number, s: number): void;
  adaptMean(theta: number, rOut: number, sOut: number, thOut: number, B: number, N: number, decay: number, inc: number, hold: number): void;
  neuron(v: number, r: number, cur: number, theta: number, vOut: number, rOut: number, sOut: number, B: number, N: number, decay: number, restTerm: number, gain: number, thresh: number, reset: number, dt: number, refracT: number, flags: number): void;
  /** Allocates `bytes` in the backend's memory (kept for the process; 16-byte aligned). */
  alloc(bytes: number): number;
  /** The backend's memory (its buffer changes when the memory grows). */
  memory: WebAssembly.Memory;
  /** Int32 and float32 views of the whole memory (renewed after the memory grows). */
  heap(): { i32: Int32Array; f32: Float32Array };
}

// ---- a minimal assembler for the few instructions these loops need ----

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function str(s: string): number[] {
  return [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

const I32 = 0x7f;
const F32 = 0x7d;
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
  veq: [0xfd, ...uleb(0x41)],
  bitselect: [0xfd, ...uleb(0x52)],
  i32splat: [0xfd, 0x11],
  andnot: [0xfd, ...uleb(0x4f)],
  vne: [0xfd, ...uleb(0x42)],
  i32store: [0x36, 2, 0],
  vle: [0xfd, ...uleb(0x45)],
  vge: [0xfd, ...uleb(0x46)],
  vor: [0xfd, ...uleb(0x50)],
  vand: [0xfd, ...uleb(0x4e)],
  vnot: [0xfd, ...uleb(0x4d)],
  remU: [0x70],
  f32store: [0x38, 2, 0],
  f32ne: [0x5c],
  f32const0: [0x43, 0, 0, 0, 0],
  and: [0x71],
  ltU: [0x49],
  shuffle: (lanes: number[]) => [0xfd, 0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])],
  f32mul: [0x94],
  /** `block { loop { <cond-exit>; body; br 0 } }`: exits when `exitIf` leaves a non-zero i32. */
  loop: (exitIf: number[], body: number[]) => [0x02, 0x40, 0x03, 0x40, ...exitIf, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b],
};

/** A function: parameter types (or a count of i32 parameters), extra locals by type, body. */
interface Fn {
  name: string;
  params: number | number[];
  locals: number[];
  body: number[];
}

function assemble(fns: Fn[]): Uint8Array<ArrayBuffer> {
  const types = fns.map((f) => {
    const ps = typeof f.params === 'number' ? new Array<number>(f.params).fill(I32) : f.params;
    return [0x60, ...uleb(ps.length), ...ps, 0];
  });
  const typeSec = section(1, [...uleb(fns.length), ...types.flat()]);
  const importSec = section(2, [1, ...str('env'), ...str('memory'), 0x02, 0x00, 1]);
  const funcSec = section(3, [...uleb(fns.length), ...fns.flatMap((_, i) => uleb(i))]);
  const exportSec = section(7, [...uleb(fns.length), ...fns.flatMap((f, i) => [...str(f.name), 0x00, ...uleb(i)])]);
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

/**
 * `rowsAxpy(idx, val, start, src, dst, N, O)` (locals: 7 n, 8 k, 9 kEnd, 10 d, 11 s, 12 end,
 * 13 v (v128), 14 rowBytes, 15 d0).
 */
function rowsAxpyFn(): Fn {
  const [idx, val, start, src, dst, N, O] = [0, 1, 2, 3, 4, 5, 6];
  const [n, k, kEnd, d, s, end, vv, rowBytes, d0] = [7, 8, 9, 10, 11, 12, 13, 14, 15];
  // one entry's pass over the row: dst = (first ? 0 : dst) + v·src (0 + x as a zeroed row would give)
  const pass = (first: boolean) => [
    // v = splat(val[k]), s = src + idx[k]·O·4
    ...op.get(val), ...op.get(k), ...op.i32(2), ...op.shl, ...op.add, ...op.f32load, ...op.splat, ...op.set(vv),
    ...op.get(src), ...op.get(idx), ...op.get(k), ...op.i32(2), ...op.shl, ...op.add, ...op.i32load, ...op.get(rowBytes), ...op.mul, ...op.add, ...op.set(s),
    ...op.get(d0), ...op.set(d),
    ...op.loop([...op.get(d), ...op.get(end), ...op.geS], [
      ...op.get(d), ...(first ? op.vzero : [...op.get(d), ...op.vload]), ...op.get(vv), ...op.get(s), ...op.vload, ...op.vmul, ...op.vadd, ...op.vstore,
      ...op.get(d), ...op.i32(16), ...op.add, ...op.set(d),
      ...op.get(s), ...op.i32(16), ...op.add, ...op.set(s),
    ]),
    ...op.get(k), ...op.i32(1), ...op.add, ...op.set(k),
  ];
  const body = [
    ...op.get(O), ...op.i32(2), ...op.shl, ...op.set(rowBytes),
    ...op.i32(0), ...op.set(n),
    ...op.loop([...op.get(n), ...op.get(N), ...op.geS], [
      // d0 = dst + n·O·4, end = d0 + O·4
      ...op.get(dst), ...op.get(n), ...op.get(rowBytes), ...op.mul, ...op.add, ...op.tee(d0), ...op.set(d),
      ...op.get(d0), ...op.get(rowBytes), ...op.add, ...op.set(end),
      // entries k ∈ [start[n], start[n+1])
      ...op.get(start), ...op.get(n), ...op.i32(2), ...op.shl, ...op.add, ...op.set(s),
      ...op.get(s), ...op.i32load, ...op.set(k),
      ...op.get(s), ...op.i32(4), ...op.add, ...op.i32load, ...op.set(kEnd),
      ...op.get(k), ...op.get(kEnd), ...op.ltS,
      0x04, 0x40, // if: the first entry writes the row, the others add to it
      ...pass(true),
      ...op.loop([...op.get(k), ...op.get(kEnd), ...op.geS], pass(false)),
      0x05, // else: no entry, a zero row
      ...op.loop([...op.get(d), ...op.get(end), ...op.geS], [
        ...op.get(d), ...op.vzero, ...op.vstore,
        ...op.get(d), ...op.i32(16), ...op.add, ...op.set(d),
      ]),
      0x0b,
      ...op.get(n), ...op.i32(1), ...op.add, ...op.set(n),
    ]),
  ];
  return { name: 'rowsAxpy', params: 7, locals: [I32, I32, I32, I32, I32, I32, V128, I32, I32], body };
}

/**
 * `combine4(w, s, post, out, Q, cnt, idx, val, B, lim, lo, hi, signS, signD, bounded)`: four rows
 * o..o+3 of a `[P, Q]` two-part update (pointers at row o of `w`, `s`, `out`, and at column o of
 * the `[B, P]` factor `post`; Q a multiple of 4). The second part's column i is summed here from
 * its list: `cnt[i]` entries at `i·B + k`, each a byte offset `idx` of a row of `post` and a value
 * `val`, `d[o..o+3, i] = Σ_k val·post[row, o..o+3]` in entry order (float32); four columns are
 * turned into row vectors with lane shuffles. Then `m = bounded ? (lim − w) : signS`,
 * `v = (w + signD·d) + m·s` (each operation rounded to float32; `m·s` counts as 0 where s = 0, also
 * for an infinite m), and the clamping hook's rule: finite `v` clamped to [lo, hi], NaN and
 * ±Infinity kept. The output is also written transposed into `wt` (pointer at column o of a
 * `[Q, P]` buffer), the layout the SIMD product reads (see {@link transposedWeight}).
 */
function combine4Fn(m: 1 | 2, pair = false): Fn {
  // parameters
  const [w, sp, post, out, Q, cnt, idx, val, B, lim, lo, hi, signS, signD, bounded, wt, P] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  // locals
  const [i, rowQ, p, e, eEnd, delta, bB, rowP] = [17, 18, 19, 20, 21, 22, 23, 24];
  const v0 = 25;
  const r = (k: number) => v0 + 10 + 8 * m + k; // the four output rows of one half, then their transpose
  const [vLim, vLo, vHi, vSS, vSD, vInf, mB, vw, v, vs] = [v0, v0 + 1, v0 + 2, v0 + 3, v0 + 4, v0 + 5, v0 + 6, v0 + 7, v0 + 8, v0 + 9];
  const a = (c: number, h: number) => v0 + 10 + 4 * h + c; // column i + c of the second part, rows 4h..4h+3
  const t = (k: number, h: number) => v0 + 10 + 4 * m + 4 * h + k; // pairs
  const col = [[0, [0, 1, 4, 5]], [0, [2, 3, 6, 7]], [1, [0, 1, 4, 5]], [1, [2, 3, 6, 7]]] as const; // d_k from (t_j, t_{j+2})
  const row = (k: number, h: number) => {
    const off = op.get(p);
    return [
      // p = (4h + k)·rowQ + i·4 (the element's byte offset in the row-major arrays)
      ...(k === 0 && h === 0 ? [...op.get(i), ...op.i32(2), ...op.shl] : [...op.get(p), ...op.get(rowQ), ...op.add]), ...op.set(p),
      ...op.get(w), ...off, ...op.add, ...op.vload, ...op.set(vw),
      // v = w + signD·d_k (pair: w − d_k, the same float32 result for signD = −1)
      ...op.get(vw), ...op.get(t(col[k]![0], h)), ...op.get(t(col[k]![0] + 2, h)), ...op.shuffle([...col[k]![1]]),
      ...(pair ? op.vsub : [...op.get(vSD), ...op.vmul, ...op.vadd]),
      // + m·s (pair: m = lim − w)
      ...op.get(vLim), ...op.get(vw), ...op.vsub, ...(pair ? [] : [...op.get(vSS), ...op.get(mB), ...op.bitselect]),
      ...op.get(sp), ...off, ...op.add, ...op.vload, ...op.tee(vs), ...op.vmul,
      // a zero s contributes nothing (also where m is infinite: the event-driven kernels' rule)
      ...op.get(vs), ...op.vzero, ...op.veq, ...op.andnot, ...op.vadd, ...op.set(v),
      ...op.get(out), ...off, ...op.add,
      // clamp finite values, keep NaN (pmin/pmax keep a NaN first operand) and ±Infinity
      // (pair: hi = +∞, where pmin(v, +∞) = v)
      ...op.get(v), ...op.get(v), ...(pair ? [] : [...op.get(vHi), ...op.vpmin]), ...op.get(vLo), ...op.vpmax,
      ...op.get(v), ...op.vabs, ...op.get(vInf), ...op.veq, ...op.bitselect,
      ...op.tee(r(k)), ...op.vstore,
    ];
  };
  // the half's four output rows, transposed, into wt rows i..i+3 at columns o + 4h..o + 4h + 3
  const storeT = (h: number) => [
    ...op.get(r(0)), ...op.get(r(1)), ...op.shuffle([0, 4, 1, 5]), ...op.set(r(4)),
    ...op.get(r(0)), ...op.get(r(1)), ...op.shuffle([2, 6, 3, 7]), ...op.set(r(5)),
    ...op.get(r(2)), ...op.get(r(3)), ...op.shuffle([0, 4, 1, 5]), ...op.set(r(6)),
    ...op.get(r(2)), ...op.get(r(3)), ...op.shuffle([2, 6, 3, 7]), ...op.set(r(7)),
    // e = wt + i·rowP + 16h
    ...op.get(wt), ...op.get(i), ...op.get(rowP), ...op.mul, ...op.add, ...(h ? [...op.i32(16 * h), ...op.add] : []), ...op.set(e),
    ...op.get(e), ...op.get(r(4)), ...op.get(r(6)), ...op.shuffle([0, 1, 4, 5]), ...op.vstore,
    ...op.get(e), ...op.get(rowP), ...op.add, ...op.tee(e), ...op.get(r(4)), ...op.get(r(6)), ...op.shuffle([2, 3, 6, 7]), ...op.vstore,
    ...op.get(e), ...op.get(rowP), ...op.add, ...op.tee(e), ...op.get(r(5)), ...op.get(r(7)), ...op.shuffle([0, 1, 4, 5]), ...op.vstore,
    ...op.get(e), ...op.get(rowP), ...op.add, ...op.get(r(5)), ...op.get(r(7)), ...op.shuffle([2, 3, 6, 7]), ...op.vstore,
  ];
  const halves = m === 1 ? [0] : [0, 1];
  const columns = [0, 1, 2, 3].flatMap((c) => [
    // e = idx + (i + c)·B·4, eEnd = e + cnt[i + c]·4
    ...op.get(idx), ...op.get(i), ...op.i32(c), ...op.add, ...op.get(bB), ...op.mul, ...op.add, ...op.tee(e),
    ...op.get(cnt), ...op.get(i), ...op.i32(c), ...op.add, ...op.i32(2), ...op.shl, ...op.add, ...op.i32load, ...op.i32(2), ...op.shl, ...op.add, ...op.set(eEnd),
    ...halves.flatMap((h) => [...op.vzero, ...op.set(a(c, h))]),
    ...op.loop([...op.get(e), ...op.get(eEnd), ...op.geS], [
      // vs = splat(val), p = post + idx (the entry's row at column o)
      ...op.get(e), ...op.get(delta), ...op.add, ...op.f32load, ...op.splat, ...op.set(vs),
      ...op.get(post), ...op.get(e), ...op.i32load, ...op.add, ...op.set(p),
      ...halves.flatMap((h) => [...op.get(a(c, h)), ...op.get(vs), ...op.get(p), ...(h ? [...op.i32(16 * h), ...op.add] : []), ...op.vload, ...op.vmul, ...op.vadd, ...op.set(a(c, h))]),
      ...op.get(e), ...op.i32(4), ...op.add, ...op.set(e),
    ]),
  ]);
  const transposes = halves.flatMap((h) => [
    ...op.get(a(0, h)), ...op.get(a(1, h)), ...op.shuffle([0, 4, 1, 5]), ...op.set(t(0, h)),
    ...op.get(a(0, h)), ...op.get(a(1, h)), ...op.shuffle([2, 6, 3, 7]), ...op.set(t(1, h)),
    ...op.get(a(2, h)), ...op.get(a(3, h)), ...op.shuffle([0, 4, 1, 5]), ...op.set(t(2, h)),
    ...op.get(a(2, h)), ...op.get(a(3, h)), ...op.shuffle([2, 6, 3, 7]), ...op.set(t(3, h)),
  ]);
  const body = [
    ...op.get(lim), ...op.splat, ...op.set(vLim),
    ...op.get(lo), ...op.splat, ...op.set(vLo),
    ...op.get(hi), ...op.splat, ...op.set(vHi),
    ...op.get(signS), ...op.splat, ...op.set(vSS),
    ...op.get(signD), ...op.splat, ...op.set(vSD),
    0x43, ...new Uint8Array(new Float32Array([Infinity]).buffer), ...op.splat, ...op.set(vInf),
    ...op.i32(0), ...op.get(bounded), ...op.sub, ...op.i32splat, ...op.set(mB),
    ...op.get(Q), ...op.i32(2), ...op.shl, ...op.set(rowQ),
    ...op.get(val), ...op.get(idx), ...op.sub, ...op.set(delta),
    ...op.get(B), ...op.i32(2), ...op.shl, ...op.set(bB),
    ...op.get(P), ...op.i32(2), ...op.shl, ...op.set(rowP),
    ...op.i32(0), ...op.set(i),
    ...op.loop([...op.get(i), ...op.get(Q), ...op.geS], [
      ...columns,
      ...transposes,
      ...halves.flatMap((h) => [...[0, 1, 2, 3].flatMap((k) => row(k, h)), ...storeT(h)]),
      ...op.get(i), ...op.i32(4), ...op.add, ...op.set(i),
    ]),
  ];
  const params = [I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, I32, I32, I32];
  const locals = [...new Array<number>(8).fill(I32), ...new Array<number>(18 + 8 * m).fill(V128)];
  return { name: (m === 1 ? 'combine4' : 'combine8') + (pair ? 'p' : ''), params, locals, body };
}

/**
 * `trace(prev, h, out, n, decay, amp, nearest)` over the first n − n mod 4 floats: cumulative
 * `out = f(f(decay·prev) + f(amp·h))`, nearest `out = h ≠ 0 ? amp : f(decay·prev)` (the same
 * float32 operations as the JavaScript kernel, lane by lane).
 */
function traceFn(): Fn {
  const [prev, h, out, n, decay, amp, nearest] = [0, 1, 2, 3, 4, 5, 6];
  const [e, vD, vA, mN, vh] = [7, 8, 9, 10, 11];
  const at = (base: number) => [...op.get(base), ...op.get(e), ...op.add];
  const body = [
    ...op.get(decay), ...op.splat, ...op.set(vD),
    ...op.get(amp), ...op.splat, ...op.set(vA),
    ...op.get(nearest), ...op.i32(1), ...op.sub, ...op.i32splat, ...op.set(mN), // all ones: cumulative
    ...op.get(n), ...op.i32(-4), ...op.and, ...op.i32(2), ...op.shl, ...op.set(n), // whole vectors, in bytes
    ...op.i32(0), ...op.set(e),
    ...op.loop([...op.get(e), ...op.get(n), ...op.geS], [
      ...at(out),
      ...op.get(vD), ...at(prev), ...op.vload, ...op.vmul,
      ...at(h), ...op.vload, ...op.tee(vh), ...op.get(vA), ...op.vmul, ...op.vadd, // cumulative
      ...op.get(vA), ...op.get(vD), ...at(prev), ...op.vload, ...op.vmul, ...op.get(vh), ...op.vzero, ...op.vne, ...op.bitselect, // nearest
      ...op.get(mN), ...op.bitselect,
      ...op.vstore,
      ...op.get(e), ...op.i32(16), ...op.add, ...op.set(e),
    ]),
  ];
  return { name: 'trace', params: [I32, I32, I32, I32, F32, F32, I32], locals: [I32, V128, V128, V128, V128], body };
}

/**
 * `compactRows(x, B, R, idx, val, start)`: the non-zero entries of `x` `[B, R]` row by row, without
 * branches: `start[b]` indexes row b's first entry, `idx` its column, `val` its value;
 * `start[B]` = the count. Every element is written at the current position, which advances past
 * non-zero ones only (`idx` and `val` hold B·R slots).
 */
function compactRowsFn(): Fn {
  const [x, B, R, idx, val, start] = [0, 1, 2, 3, 4, 5];
  const [b, r, n, v] = [6, 7, 8, 9];
  const body = [
    ...op.i32(0), ...op.set(n),
    ...op.i32(0), ...op.set(b),
    ...op.loop([...op.get(b), ...op.get(B), ...op.geS], [
      ...op.get(start), ...op.get(b), ...op.i32(2), ...op.shl, ...op.add, ...op.get(n), ...op.i32store,
      ...op.i32(0), ...op.set(r),
      ...op.loop([...op.get(r), ...op.get(R), ...op.geS], [
        ...op.get(x), ...op.f32load, ...op.set(v),
        ...op.get(val), ...op.get(n), ...op.i32(2), ...op.shl, ...op.add, ...op.get(v), ...op.f32store,
        ...op.get(idx), ...op.get(n), ...op.i32(2), ...op.shl, ...op.add, ...op.get(r), ...op.i32store,
        ...op.get(n), ...op.get(v), ...op.f32const0, ...op.f32ne, ...op.add, ...op.set(n),
        ...op.get(x), ...op.i32(4), ...op.add, ...op.set(x),
        ...op.get(r), ...op.i32(1), ...op.add, ...op.set(r),
      ]),
      ...op.get(b), ...op.i32(1), ...op.add, ...op.set(b),
    ]),
    ...op.get(start), ...op.get(B), ...op.i32(2), ...op.shl, ...op.add, ...op.get(n), ...op.i32store,
  ];
  return { name: 'compactRows', params: 6, locals: [I32, I32, I32, F32], body };
}

/**
 * `compactColumns(x, B, R, stride, cnt, idx, val)`: the non-zero entries of `x` `[B, R]` by column,
 * without branches, in sample order: column r has `cnt[r]` entries at `r·B + k`, each with
 * `idx` = b·stride (a byte offset) and `val` its value (columns outer, the count in a register).
 */
function compactColumnsFn(): Fn {
  const [x, B, R, stride, cnt, idx, val] = [0, 1, 2, 3, 4, 5, 6];
  const [b, r, n, v, off, p, q, rowBytes] = [7, 8, 9, 10, 11, 12, 13, 14];
  const body = [
    ...op.get(R), ...op.i32(2), ...op.shl, ...op.set(rowBytes),
    ...op.i32(0), ...op.set(r),
    ...op.loop([...op.get(r), ...op.get(R), ...op.geS], [
      // column r: q = the list's first slot (bytes), p = &x[0, r]; the count n stays in a register
      ...op.get(r), ...op.get(B), ...op.mul, ...op.i32(2), ...op.shl, ...op.set(q),
      ...op.get(x), ...op.get(r), ...op.i32(2), ...op.shl, ...op.add, ...op.set(p),
      ...op.i32(0), ...op.set(n),
      ...op.i32(0), ...op.set(off),
      ...op.i32(0), ...op.set(b),
      ...op.loop([...op.get(b), ...op.get(B), ...op.geS], [
        ...op.get(p), ...op.f32load, ...op.set(v),
        ...op.get(idx), ...op.get(q), ...op.add, ...op.get(n), ...op.add, ...op.get(off), ...op.i32store,
        ...op.get(val), ...op.get(q), ...op.add, ...op.get(n), ...op.add, ...op.get(v), ...op.f32store,
        ...op.get(n), ...op.get(v), ...op.f32const0, ...op.f32ne, ...op.i32(2), ...op.shl, ...op.add, ...op.set(n),
        ...op.get(p), ...op.get(rowBytes), ...op.add, ...op.set(p),
        ...op.get(off), ...op.get(stride), ...op.add, ...op.set(off),
        ...op.get(b), ...op.i32(1), ...op.add, ...op.set(b),
      ]),
      ...op.get(cnt), ...op.get(r), ...op.i32(2), ...op.shl, ...op.add, ...op.get(n), ...op.i32(2), ...op.shr, ...op.i32store,
      ...op.get(r), ...op.i32(1), ...op.add, ...op.set(r),
    ]),
  ];
  return { name: 'compactColumns', params: 7, locals: [I32, I32, I32, F32, I32, I32, I32, I32], body };
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

/** One transposed copy `[I, O]` of an `[O, I]` weight per shape, and whose data it holds. */
const transposed = new Map<string, { ptr: number; of: object | null }>();

/**
 * The per-shape buffer holding a transposed weight `[cols, rows]` of a `[rows, cols]` weight, and
 * the data id it was made from (null: none). A writer sets `of` to the data id it transposed; a
 * reader whose weight has another data id transposes it again (a single-entry cache per shape).
 */
export function transposedWeight(L: SimdLoops, rows: number, cols: number): { ptr: number; of: object | null } {
  const key = `${rows}|${cols}`;
  let t = transposed.get(key);
  if (!t) {
    t = { ptr: L.alloc(rows * cols * 4), of: null };
    transposed.set(key, t);
  }
  return t;
}

let loops: SimdLoops | null | undefined;

/** Switch for the SIMD loops (tests compare both paths): `CINDER_SIMD=0` turns them off at start. */
const simdEnabled = envSwitch('CINDER_SIMD');

/** Turns the SIMD loops on or off (the JavaScript/op paths are used when off); returns the previous setting. */
export function setSimdLoops(on: boolean): boolean {
  return simdEnabled.set(on);
}

/** The SIMD loops bound to the current wasm backend's memory, or null where they do not apply. */
export function simdLoops(): SimdLoops | null {
  if (!simdEnabled.get() || tf.getBackend() !== 'wasm') return null;
  if (loops !== undefined) return loops;
  loops = null;
  try {
    const wasm = (tf.backend() as unknown as { wasm?: { asm?: { memory?: unknown }; _malloc?: (n: number) => number } }).wasm;
    const memory = wasm?.asm?.memory;
    if (!(memory instanceof WebAssembly.Memory) || !(memory.buffer instanceof ArrayBuffer) || !wasm?._malloc) return null;
    const bytes = assemble([transposeFn(), rowsAxpyFn(), combine4Fn(1), combine4Fn(2), combine4Fn(1, true), combine4Fn(2, true), traceFn(), compactRowsFn(), compactColumnsFn(), divideFn(), scaleFn(), neuronFn(), adaptMeanFn()]);
    if (!WebAssembly.validate(bytes)) return null;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const e = inst.exports as unknown as Omit<SimdLoops, 'alloc' | 'memory'>;
    const malloc = wasm._malloc;
    let views = { i32: new Int32Array(memory.buffer), f32: new Float32Array(memory.buffer) };
    loops = {
      heap: () => {
        if (views.i32.buffer !== memory.buffer) views = { i32: new Int32Array(memory.buffer), f32: new Float32Array(memory.buffer) };
        return views;
      },
      transpose: e.transpose,
      rowsAxpy: e.rowsAxpy,
      combine4: e.combine4,
      combine8: e.combine8,
      combine4p: e.combine4p,
      combine8p: e.combine8p,
      trace: e.trace,
      compactRows: e.compactRows,
      compactColumns: e.compactColumns,
      divide: e.divide,
      scale: e.scale,
      neuron: e.neuron,
      adaptMean: e.adaptMean,
      memory,
      alloc: (n: number) => {
        const p = malloc(n + 16);
        return (p + 15) & ~15;
      },
    };
  } catch {
    loops = null;
  }
  return loops;
}

/** Test hook: forget the bound module (after a backend change). */
export function resetSimdLoops(): void {
  loops = undefined;
}
