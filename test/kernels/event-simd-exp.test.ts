// The f64x2 exp of the event engine's WebAssembly module (src/kernels/js/event-simd.ts, `exp`)
// against this engine's Math.exp, bit for bit (Object.is: every bit, and NaN for NaN), on more than
// 10⁶ arguments: the whole range −746 … 711, dense in the exact conductance step's range [−1, 0],
// a few ulps on each side of every threshold of fdlibm's exp (e_exp.c) and of the module's own
// (2⁻²⁸, the high-word test 0x3fd62e42, ½ln2, 1.5ln2, 708, each k boundary (j + ½)·ln2 including
// k = −1021/−1022 and 1023/1024, the overflow and underflow thresholds), subnormal and zero results,
// ±0, ±∞, NaN, the float64 extremes, and 1 (V8's port of fdlibm returns Math.E there).
import { describe, expect, it } from 'vitest';
import { lifArena } from '../../src/kernels/js/event-simd.js';

const BOX = new Float64Array(1);
const BITS = new BigInt64Array(BOX.buffer);

/** x moved by `m` ulps away from zero (m < 0: towards zero). */
function ulps(x: number, m: number): number {
  BOX[0] = x;
  BITS[0] = BITS[0]! + BigInt(m);
  return BOX[0]!;
}

/** The float64 whose bits are `hi`·2³² + `lo`. */
function words(hi: number, lo: number): number {
  BITS[0] = (BigInt(hi) << 32n) | BigInt(lo);
  return BOX[0]!;
}

/** A deterministic uniform stream in [0, 1) (an LCG, independent of the code under test). */
function uniform(seed: number): () => number {
  let s = BigInt(seed);
  return () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(s >> 11n) / 2 ** 53;
  };
}

/** The test arguments (about 1.2·10⁶). */
function argumentsToTest(): number[] {
  const u = uniform(12345);
  const xs: number[] = [];
  for (let i = 0; i < 300_000; i++) xs.push(-746 + 1457 * u()); // the whole range
  for (let i = 0; i < 400_000; i++) xs.push(-u()); // the exact conductance step, G·(−dt/τm)
  for (let i = 0; i < 100_000; i++) xs.push(-(2 ** (-40 * u()))); // −1 … −2⁻⁴⁰ by exponent
  for (let i = 0; i < 100_000; i++) xs.push((u() - 0.5) * 3); // both signs around the reductions
  for (let i = 0; i < 50_000; i++) xs.push(-745.2 + 37 * u()); // subnormal results, k < −1021
  for (let i = 0; i < 50_000; i++) xs.push(700 + 10 * u()); // near overflow, k = 1023, 1024
  const ln2 = Math.LN2;
  const edges = [
    2 ** -28, // tiny: 1 + x below
    words(0x3fd62e42, 0), words(0x3fd62e42, 0xffffffff), words(0x3fd62e43, 0), // the high-word test of |x| > ½ln2
    0.5 * ln2, 1.5 * ln2, words(0x3ff0a2b2, 0), // fdlibm's k = ±1 special case
    708, 709, // the module's fast range
    words(0x40862e42, 0), 7.09782712893383973096e2, 7.45133219101941108420e2, // fdlibm's overflow / underflow
    2 ** -1022, 1e-300, 5e-324, Number.MIN_VALUE, Number.MAX_VALUE, 1, 2, 0.5,
  ];
  for (const e of edges) for (let m = -64; m <= 64; m++) for (const s of [1, -1]) xs.push(s * ulps(e, m));
  // every k boundary (j + ½)·ln2, −1076 ≤ j ≤ 1024 (k = −1021/−1022: j = −1022; 1023/1024: j = 1023)
  for (let j = -1076; j <= 1024; j++) for (let m = -6; m <= 6; m++) xs.push(ulps((j + 0.5) * ln2, m));
  xs.push(0, -0, Infinity, -Infinity, NaN, -NaN, 1e-320, -1e-320, 1e308, -1e308);
  // odd count of specials next to ordinary values (a pair mixes a fast and a slow lane)
  xs.push(NaN, -0.5, -0.25, Infinity, 0, -0.125);
  return xs;
}

describe('event-simd exp: f64x2 fdlibm exp, bit-identical to Math.exp', () => {
  it('equals Math.exp (Object.is) on 1.2·10⁶ arguments over the whole range and at every threshold', () => {
    const xs = argumentsToTest();
    if (xs.length % 2) xs.push(-1);
    expect(xs.length).toBeGreaterThan(1_000_000);
    const n = 1 << 16;
    const A = lifArena(1, n)!;
    expect(A).not.toBeNull();
    expect(A.expExact).toBe(true); // the module's own probe agrees
    let bad = 0;
    const first: string[] = [];
    for (let at = 0; at < xs.length; at += n) {
      const m = Math.min(n, xs.length - at);
      for (let i = 0; i < m; i++) A.x[i] = xs[at + i]!;
      A.loops.exp(A.xPtr, m);
      for (let i = 0; i < m; i++) {
        const want = Math.exp(xs[at + i]!);
        if (!Object.is(A.x[i], want)) {
          bad++;
          if (first.length < 5) first.push(`exp(${xs[at + i]}) = ${A.x[i]}, Math.exp ${want}`);
        }
      }
    }
    expect(first).toEqual([]);
    expect(bad).toBe(0);
  });

  it("only the first n2 values are written (n2 even), in place", () => {
    const A = lifArena(1, 8)!;
    const x = [-0.3, -1, 2, -700, 5, 6, 7, 8];
    A.x.set(x);
    A.loops.exp(A.xPtr, 4);
    expect(Array.from(A.x)).toEqual([...x.slice(0, 4).map(Math.exp), ...x.slice(4)]);
  });

  it('fdlibm special case ½ln2 < |x| < 1.5ln2 gives the general reduction’s k, hi and lo', () => {
    // fdlibm: high word of |x| in (0x3fd62e42, 0x3ff0a2b2): k = ±1, hi = x ∓ ln2HI, lo = ±ln2LO;
    // the general branch: k = trunc(x/ln2 ± ½), hi = x − k·ln2HI, lo = k·ln2LO (the module uses it)
    const ln2HI = 6.93147180369123816490e-1;
    const ln2LO = 1.90821492927058770002e-10;
    const invln2 = 1.44269504088896338700;
    const lo = words(0x3fd62e43, 0); // smallest |x| with high word > 0x3fd62e42
    const hi = ulps(words(0x3ff0a2b2, 0), -1); // largest |x| with high word < 0x3ff0a2b2
    const u = uniform(7);
    const xs: number[] = [];
    for (let i = 0; i < 200_000; i++) xs.push(lo + (hi - lo) * u());
    for (let m = 0; m < 1000; m++) xs.push(ulps(lo, m), ulps(hi, -m));
    const bad: number[] = [];
    for (const a of xs) {
      for (const x of [a, -a]) {
        const s = x < 0 ? 1 : 0;
        const k = Math.trunc(invln2 * x + (s ? -0.5 : 0.5));
        const same = k === (s ? -1 : 1) && Object.is(x - k * ln2HI, s ? x + ln2HI : x - ln2HI) && Object.is(k * ln2LO, s ? -ln2LO : ln2LO);
        if (!same) bad.push(x);
      }
    }
    expect(bad).toEqual([]);
    expect(xs.length).toBeGreaterThan(200_000);
  });
});
