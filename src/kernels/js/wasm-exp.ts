/**
 * fdlibm's exp (the algorithm of e_exp.c, which V8's and SpiderMonkey's `Math.exp` implement) on
 * WebAssembly `f64x2`, for the runtime-assembled SIMD modules (`event-simd.ts`: the event engine's
 * exact conductance step; `fused-simd.ts`: the fused neuron kernel's conductance step). The code
 * {@link expPair} emits computes e^x of two float64 lanes with the bits of `Math.exp`
 * (test/kernels/event-simd-exp.test.ts: equal, `Object.is`, on 1.2·10⁶ arguments over the whole
 * range and at every threshold). Per lane, for EXP_TINY ≤ |x| ≤ EXP_MAX and x ≠ 1:
 * - k = trunc(x·(1/ln2) + ±½) (the sign of x) where |x| ≥ EXP_REDUCE, else 0 (a lane mask).
 *   fdlibm's own case ½ln2 < |x| < 1.5ln2 (k = ±1, hi = x ∓ LN2_HI, lo = ±LN2_LO) is the same as
 *   the general one there;
 * - hi = x − k·LN2_HI, lo = k·LN2_LO, r = hi − lo, t = r²,
 *   c = r − t·(P1 + t·(P2 + t·(P3 + t·(P4 + t·P5))));
 * - e^x = (1 − ((lo − r·c/(2 − c)) − hi))·2^k. With k = 0 (hi = x, lo = +0) this is fdlibm's
 *   1 − (x·c/(c − 2) − x): x·c/(c − 2) = −(x·c/(2 − c)) exactly, and 0 − q differs from −q only
 *   in the sign of a zero, which the subtraction of x ≠ 0 removes. 2^k: the float64 k + 2⁵² + 1023
 *   (exact) holds k + 1023 ∈ [2, 2044] in its low bits, shifted left by 52 (`i64x2.shl`) they are
 *   the bits of 2^k; the product by 2^k is the same IEEE product as fdlibm's for k ≥ −1021.
 * Every step is one IEEE float64 operation in fdlibm's order (wasm neither fuses nor reassociates).
 * A pair with a lane outside EXP_TINY ≤ |x| ≤ EXP_MAX (|x| < 2⁻²⁸ and ±0, overflow, results near or
 * below the float64 normal range, ±∞, NaN) or equal to 1 (V8's port returns `Math.E` there) takes
 * both lanes from the module's imported `Math.exp`.
 *
 * The constants are read from a table of f64x2 splats ({@link expTableBytes}, {@link EXP_TABLE_BYTES}
 * bytes, 16-byte aligned) that the module keeps in its memory: V8 (Node 20) rebuilds a `v128.const`
 * from immediates at every use (three instructions), a load is one. A module checks its exp against
 * the engine's `Math.exp` on {@link expProbeValues} ({@link expMatchesMathExp}) before it uses it,
 * and keeps `Math.exp` where they differ (an engine whose `Math.exp` is not fdlibm's).
 * @module
 */
import { uleb } from './wasm-encoding.js';

const simd = (code: number) => [0xfd, ...uleb(code)];
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const V = {
  and: simd(0x4e), or: simd(0x50),
  add: simd(0xf0), sub: simd(0xf1), mul: simd(0xf2), div: simd(0xf3),
  abs: simd(0xec), trunc: simd(0x7a), ge: simd(0x4c), le: simd(0x4b), ne: simd(0x48),
  i64shl: simd(0xcb), i64allTrue: simd(0xc3),
  extract: (lane: number) => [...simd(0x21), lane], replace: (lane: number) => [...simd(0x22), lane],
};

/** The float64 whose bits are `hi`·2³² + `lo` (uint32 words). */
function fromWords(hi: number, lo: number): number {
  const d = new DataView(new ArrayBuffer(8));
  d.setUint32(0, hi);
  d.setUint32(4, lo);
  return d.getFloat64(0);
}

// fdlibm's exp (e_exp.c): ln2 = LN2_HI + LN2_LO (LN2_HI has 32 trailing zero bits, so k·LN2_HI is
// exact for |k| < 2²⁰), 1/ln2, and the coefficients P1 … P5 of its approximation on [−½ln2, ½ln2]
const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700;
const EXP_P = [1.66666666666666019037e-1, -2.77777777770155933842e-3, 6.61375632143793436117e-5, -1.65339022054652515390e-6, 4.13813679705723846039e-8];
/** |x| ≥ this ⇔ fdlibm's high word of |x| > 0x3fd62e42 (|x| > ½ln2 to that word's precision): k ≠ 0. */
export const EXP_REDUCE = fromWords(0x3fd62e43, 0);
/** |x| < this ⇔ the high word < 0x3e300000: fdlibm returns 1 + x. */
export const EXP_TINY = 2 ** -28;
/** |x| ≤ this: |k| ≤ 1021, away from fdlibm's overflow/underflow branch and its scaling for k < −1021. */
export const EXP_MAX = 708;
/** 2⁵² + 1023: k + EXP_BIAS (exact) has k + 1023 in its low 11 bits. */
const EXP_BIAS = 2 ** 52 + 1023;

/** The constants of {@link expPair}, in table order (each an f64x2 splat of 16 bytes). */
const TABLE = [EXP_TINY, EXP_MAX, INV_LN2, -0, 0.5, EXP_REDUCE, LN2_HI, LN2_LO, ...EXP_P, 1, 2, EXP_BIAS];

/** Bytes of the constant table (a multiple of 16). */
export const EXP_TABLE_BYTES = 16 * TABLE.length;

/** The constant table's bytes (f64x2 splats, little-endian), to place 16-byte aligned in the module's memory. */
export function expTableBytes(): Uint8Array {
  return new Uint8Array(new Float64Array(TABLE.flatMap((v) => [v, v])).buffer);
}

/** The v128 locals {@link expPair} uses (indices in the calling function; `x` holds the argument). */
export interface ExpLocals {
  x: number;
  ax: number;
  k: number;
  hi: number;
  lo: number;
  r: number;
  t: number;
  c: number;
}

/**
 * Instructions that push e^x (f64x2) for the f64x2 in local `l.x` (see the module notes); `base`
 * pushes the i32 address of the constant table, `expImport` is the function index of the module's
 * imported `Math.exp` ((f64) → f64). The other locals are scratch.
 */
export function expPair(l: ExpLocals, base: number[], expImport: number): number[] {
  const table = (value: number): number[] => {
    const i = TABLE.findIndex((t) => Object.is(t, value));
    if (i < 0) throw new Error(`wasm-exp: ${value} is not in the constant table`);
    return [...base, ...simd(0x00), 4, ...uleb(16 * i)];
  };
  const { x, ax, k, hi, lo, r, t, c } = l;
  const call = (lane: number) => [...get(x), ...V.extract(lane), 0x10, ...uleb(expImport), ...V.replace(lane)];
  return [
    // both lanes with EXP_TINY ≤ |x| ≤ EXP_MAX (false for NaN) and x ≠ 1 (V8: e^1 = Math.E) …
    ...get(x), ...V.abs, ...set(ax),
    ...get(ax), ...table(EXP_TINY), ...V.ge, ...get(ax), ...table(EXP_MAX), ...V.le, ...V.and, ...get(x), ...table(1), ...V.ne, ...V.and, ...V.i64allTrue,
    0x04, 0x7b /* if (result v128) */,
    // k = trunc(x·(1/ln2) + (x's sign bit | ½)) where |x| ≥ EXP_REDUCE, else +0 (the mask's zero bits)
    ...get(x), ...table(INV_LN2), ...V.mul, ...get(x), ...table(-0), ...V.and, ...table(0.5), ...V.or, ...V.add, ...V.trunc,
    ...get(ax), ...table(EXP_REDUCE), ...V.ge, ...V.and, ...set(k),
    ...get(x), ...get(k), ...table(LN2_HI), ...V.mul, ...V.sub, ...set(hi),
    ...get(k), ...table(LN2_LO), ...V.mul, ...set(lo),
    ...get(hi), ...get(lo), ...V.sub, ...set(r),
    ...get(r), ...get(r), ...V.mul, ...set(t),
    // c = r − t·(P1 + t·(P2 + t·(P3 + t·(P4 + t·P5))))
    ...get(r), ...get(t), ...table(EXP_P[0]!), ...get(t), ...table(EXP_P[1]!), ...get(t), ...table(EXP_P[2]!), ...get(t), ...table(EXP_P[3]!), ...get(t), ...table(EXP_P[4]!),
    ...V.mul, ...V.add, ...V.mul, ...V.add, ...V.mul, ...V.add, ...V.mul, ...V.add, ...V.mul, ...V.sub, ...set(c),
    // (1 − ((lo − r·c/(2 − c)) − hi))·2^k
    ...table(1), ...get(lo), ...get(r), ...get(c), ...V.mul, ...table(2), ...get(c), ...V.sub, ...V.div, ...V.sub, ...get(hi), ...V.sub, ...V.sub,
    ...get(k), ...table(EXP_BIAS), ...V.add, 0x41, 52 /* i32.const 52 */, ...V.i64shl, ...V.mul,
    // … else Math.exp for both lanes
    0x05, ...get(x), ...call(0), ...call(1), 0x0b,
  ];
}

/** Number of probe values of {@link expMatchesMathExp}. */
const PROBE_COUNT = 4096;

/** Bytes of memory {@link expMatchesMathExp} writes its probe values to (float64s). */
export const EXP_PROBE_BYTES = 8 * PROBE_COUNT;

/**
 * A module's check of its exp: whether `exp(at, n)`, run in place on the float64 probe values
 * ({@link expProbeValues}) written at byte `at` of `memory` ({@link EXP_PROBE_BYTES} bytes), gives
 * this engine's `Math.exp` on every one (`Object.is`). It follows fdlibm, which V8 (Node, Chromium)
 * and SpiderMonkey use; a module whose exp differs must keep `Math.exp`.
 */
export function expMatchesMathExp(memory: WebAssembly.Memory, at: number, exp: (x: number, n2: number) => void): boolean {
  const xs = expProbeValues();
  new Float64Array(memory.buffer, at, xs.length).set(xs);
  exp(at, xs.length);
  const got = new Float64Array(memory.buffer, at, xs.length);
  return xs.every((x, i) => Object.is(got[i], Math.exp(x)));
}

/**
 * The probe values of a module's check: 4096 arguments over [−746, 711] (the whole range, every
 * branch), [−1, 0] (the conductance steps') and each side of fdlibm's thresholds.
 */
function expProbeValues(): Float64Array {
  const out = new Float64Array(PROBE_COUNT);
  const edges = [EXP_TINY, EXP_REDUCE, 0.5 * Math.LN2, 1.5 * Math.LN2, EXP_MAX, 1021.5 * Math.LN2, 1023.5 * Math.LN2];
  for (let i = 0; i < 1024; i++) {
    out[i] = -746 + (1457 * (i + 0.5)) / 1024;
    out[1024 + i] = -(i + 0.5) / 1024;
    out[2048 + i] = ((i % 2 ? 1 : -1) * (i + 0.25)) / 1536;
    const e = edges[i % edges.length]!;
    out[3072 + i] = (i & 128 ? -1 : 1) * e * (1 + (((i >> 3) % 16) - 8) * 2 ** -52);
  }
  return out;
}
