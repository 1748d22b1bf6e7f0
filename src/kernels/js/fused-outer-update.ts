/**
 * Fused kernel `CinderFusedOuterUpdate` (wasm and cpu backends): one two-phase weight update of a
 * dense `[P, Q]` parameter from pending outer-product parts, in one pass over the backend's memory
 * instead of two matrix products, the bounding algebra, the add and the clamping hooks (≈ 10 kernels
 * on `[P, Q]` per step).
 *
 * For parts t with factors `post_t [B, P]`, `pre_t [B, Q]`, divisor d_t and side ±:
 * `A_t = (Σ_b post_t[b]ᵀ ⊗ pre_t[b]) / d_t`, `Σpos = Σ_{t+} A_t`, `Σneg = Σ_{t−} A_t`;
 * `u = upper(P, Σpos) − lower(P, Σneg)` with the bounding (see `Bounding`; without one
 * `u = Σpos − Σneg`, a missing side counting as 0), `P ← clamp_k(…clamp_1(P + u))`.
 * Every operation is rounded to float32 (`Math.fround`) in the op path's order, except the batch
 * sums, which are accumulated in another order than the op path's matrix product (float32 in
 * sample order, float64 rows, or the backend's product): results agree within float32 tolerance.
 *
 * Paths, picked per call from the batch size and the factors' non-zeros (read from the backend's
 * memory, no synchronous read):
 * - B = 1, the common rule, a clean input: `rankOne`. Rows with a potentiation factor are updated
 *   whole, the others only at the non-zero depression inputs; the rest is a copy of P.
 * - B ≤ 2 ({@link TRACK_MAX_BATCH}): the event-driven sums visit only pairs where both factors are
 *   non-zero, so with one spike factor per part (the pair rules: post spikes ⊗ pre trace, post
 *   trace ⊗ pre spikes) the cost is (spikes × the other side's length), plus a copy of P. Elements
 *   no part touched keep `clamp(P + u(0))`; when P is this kernel's own previous output with the
 *   same clamps and a bounding whose factor is finite (none, hard, multiplicative,
 *   scaled-multiplicative) that is P itself for finite P, so they are copied; otherwise every
 *   element is recomputed. With a multiplicative factor, an output holding ±Inf (an overflow) is
 *   not marked for the copy: the op path turns such a weight into NaN ((max − ∞)·0) at the next
 *   update, so every element is recomputed then.
 * - The hybrid update (kernel `CinderFusedOuterRows`, see `hybridPlan`; one part per side, no
 *   bounding or a multiplicative one on one side, at most one clamp), at B > 2, and at any B in
 *   steps whose post spikes are dense: the part on the unbounded side (post trace ⊗ pre spikes,
 *   dense in rows) is one product + add + clipByValue on the backend's vectorised kernels; the
 *   other part (post spikes ⊗ pre trace) is accumulated row by row in float64, only on rows with a
 *   post spike, and combined with its bound factor there (or, when its post factor is dense this
 *   step, a second product and three element-wise ops). The clipByValue equals the Clamping hook's
 *   finite-only clamp when every value is finite, which the kernel proves from a magnitude bound
 *   carried from step to step and the factors' maxima; otherwise it clamps every element itself.
 * - On wasm with SIMD, where the hybrid update applies at B > 2 and both dimensions of the
 *   parameter are multiples of 4: the SIMD update (`fused-outer-simd.ts`), both parts event-driven
 *   in WebAssembly SIMD loops, the bound, add and clamp in the same pass.
 * - B > 2, other rules: `rowPass`, the event-driven sums row by row (float64 row accumulators in
 *   cache), or, when its previous call found the factors dense, one matrix product per part
 *   (`summed`) and one element-wise pass here.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import { FusedMemory, registerFused } from './fused-memory.js';
import { nonZeroFraction } from './fused-sparse-matmul.js';
import { ScalarCache } from '../../core/scalars.js';
import { fusedTranspose } from './fused-transpose.js';
import { fusedOuterSimd, outerSimdApplies } from './fused-outer-simd.js';

/** Kernel name. */
export const FUSED_OUTER_UPDATE = 'CinderFusedOuterUpdate';

/** One pending outer-product part. */
export interface OuterTerm {
  /** Postsynaptic factor, `B·P` elements (`[B, P]` or any shape with that size per sample). */
  post: tf.Tensor;
  /** Presynaptic factor, `B·Q` elements. */
  pre: tf.Tensor;
  /** The batch sum is divided by this (B for a batch mean, 1 for a sum). */
  divisor: number;
  /** Potentiation (`pos`) or depression (`neg`). */
  side: 'pos' | 'neg';
}

/** The weight dependence, as the kernel needs it (mirrors `Bounding`). */
export interface OuterBoundSpec {
  /** The bounding function's kind. */
  kind: 'hard' | 'multiplicative' | 'scaled-multiplicative' | 'power' | 'scaled-power';
  /** Whether potentiation is bounded by `max`. */
  boundsUpper: boolean;
  /** Whether depression is bounded by `min`. */
  boundsLower: boolean;
  /** Upper bound. */
  max?: number;
  /** Lower bound. */
  min?: number;
  /** Exponent of the upper factor (power kinds). */
  powerUpper: number;
  /** Exponent of the lower factor (power kinds). */
  powerLower: number;
}

/** One clamping (in order). */
export interface OuterClamp {
  /** Lower limit (none when undefined). */
  min?: number;
  /** Upper limit (none when undefined). */
  max?: number;
}

interface Attrs {
  batch: number;
  rows: number;
  cols: number;
  divisors: number[];
  sides: number[]; // +1 pos, −1 neg
  bound: OuterBoundSpec | null;
  clamps: OuterClamp[];
  key: string;
  /** Inputs `sum<t>` hold the batch sums (no factors). */
  summed: boolean;
}

/** Per-size scratch: one zeroed accumulator per part, the touched mask and list, index lists. */
interface Scratch {
  acc: Float32Array[];
  vals: Float64Array;
  mask: Uint8Array;
  list: Int32Array;
  idx: Int32Array;
}
const scratch = new Map<string, Scratch>();
function scratchFor(size: number, terms: number, cols: number): Scratch {
  const key = `${size}|${cols}`;
  let s = scratch.get(key);
  if (!s) {
    s = { acc: [], mask: new Uint8Array(size), list: new Int32Array(size), idx: new Int32Array(cols), vals: new Float64Array(cols) };
    scratch.set(key, s);
  }
  while (s.acc.length < terms) s.acc.push(new Float32Array(size));
  return s;
}

/** Outputs of this kernel, with the clamps/bounding key they satisfy (for the copy shortcut). */
const clean = new WeakMap<object, string>();

const f = Math.fround;

/** The constants of one attribute set, with the element update (long-lived: stays optimised). */
class Rule {
  readonly T: number;
  readonly divisors: Float64Array;
  readonly sides: Int8Array;
  readonly hasPos: boolean;
  readonly hasNeg: boolean;
  readonly bound: OuterBoundSpec | null;
  readonly kind: OuterBoundSpec['kind'] | '';
  readonly boundsUpper: boolean;
  readonly boundsLower: boolean;
  readonly maxV: number;
  readonly minV: number;
  readonly range: number;
  readonly muUp: number;
  readonly muLo: number;
  readonly clampMin: Float64Array;
  readonly clampMax: Float64Array;
  /** Elements no part touched may be copied from a clean input (see the module notes). */
  readonly copyUntouched: boolean;
  /** A multiplicative bound factor (max − w or w − min): ±Inf weights become NaN in the op path. */
  readonly factorBound: boolean;
  /** One part per side, no bounding or a multiplicative one, at most one clamp ({@link combineSimple}). */
  readonly simple: boolean;
  /** The part sums the next {@link element} calls read (per element or per row). */
  accs: (Float32Array | Float64Array)[] = [];

  constructor(a: Attrs) {
    this.T = a.divisors.length;
    this.divisors = Float64Array.from(a.divisors, (d) => f(d));
    this.sides = Int8Array.from(a.sides);
    this.hasPos = a.sides.some((x) => x > 0);
    this.hasNeg = a.sides.some((x) => x < 0);
    const b = a.bound;
    this.bound = b;
    this.kind = b ? b.kind : '';
    this.boundsUpper = b ? b.boundsUpper : false;
    this.boundsLower = b ? b.boundsLower : false;
    this.maxV = b?.max !== undefined ? f(b.max) : NaN;
    this.minV = b?.min !== undefined ? f(b.min) : NaN;
    this.range = b?.max !== undefined && b?.min !== undefined ? f(b.max - b.min) : NaN;
    this.muUp = b ? b.powerUpper : 1;
    this.muLo = b ? b.powerLower : 1;
    this.clampMin = Float64Array.from(a.clamps, (c) => (c.min === undefined ? -Infinity : f(c.min)));
    this.clampMax = Float64Array.from(a.clamps, (c) => (c.max === undefined ? Infinity : f(c.max)));
    this.copyUntouched = !b || b.kind === 'hard' || b.kind === 'multiplicative' || b.kind === 'scaled-multiplicative';
    this.factorBound = b !== null && (b.kind === 'multiplicative' || b.kind === 'scaled-multiplicative') && (b.boundsUpper || b.boundsLower);
    this.simple = this.T === 2 && this.hasPos && this.hasNeg && (!b || b.kind === 'multiplicative') && a.clamps.length <= 1;
  }

  private factor(dist: number, mu: number): number {
    switch (this.kind) {
      case 'hard':
        return dist >= 0 ? 1 : 0;
      case 'multiplicative':
        return dist;
      case 'scaled-multiplicative':
        return f(dist / this.range);
      case 'power':
        return f(Math.pow(dist, mu));
      case 'scaled-power':
        return f(Math.pow(f(dist / this.range), mu));
      default:
        return 1;
    }
  }

  /**
   * The updated value of a weight `wv` whose part sums sit at index `i` of {@link accs} (float32
   * rounding in the op path's order).
   */
  element(wv: number, i: number): number {
    let pos = 0;
    let neg = 0;
    let firstPos = true;
    let firstNeg = true;
    for (let t = 0; t < this.T; t++) {
      let v = f(this.accs[t]![i]!);
      const d = this.divisors[t]!;
      if (d !== 1) v = f(v / d);
      if (this.sides[t]! > 0) {
        pos = firstPos ? v : f(pos + v);
        firstPos = false;
      } else {
        neg = firstNeg ? v : f(neg + v);
        firstNeg = false;
      }
    }
    let u: number;
    if (this.bound) {
      const up = this.hasPos ? (this.boundsUpper ? f(this.factor(f(this.maxV - wv), this.muUp) * pos) : pos) : 0;
      const lo = this.hasNeg ? (this.boundsLower ? f(this.factor(f(wv - this.minV), this.muLo) * neg) : neg) : 0;
      u = this.hasPos && this.hasNeg ? f(up - lo) : this.hasPos ? up : -lo;
    } else {
      u = this.hasPos && this.hasNeg ? f(pos - neg) : this.hasPos ? pos : -neg;
    }
    let v = f(wv + u);
    for (let c = 0; c < this.clampMin.length; c++) {
      v = clampFinite(v, this.clampMin[c]!, this.clampMax[c]!);
    }
    return v;
  }
}
/**
 * The clamping hook's rule: a finite value is clamped to [lo, hi]; NaN and ±Inf are kept, so a
 * numerical fault is never laundered into a plausible weight (the finite checks then report it).
 */
function clampFinite(v: number, lo: number, hi: number): number {
  if (v > hi) return v === Infinity ? v : hi;
  if (v < lo) return v === -Infinity ? v : lo;
  return v;
}

const rules = new Map<string, Rule>();

/**
 * Adds `Σ_b post[b]ᵀ ⊗ pre[b]` into `acc` `[P, Q]`, visiting only pairs of non-zero factors. With
 * `track`, records first-touched elements in `s.mask`/`s.list` from position `n`; returns the new
 * count (`n` unchanged without tracking).
 */
function accumulate(acc: Float32Array, post: Float32Array, pre: Float32Array, B: number, P: number, Q: number, s: Scratch, n: number, track: boolean): number {
  const { idx, mask, list } = s;
  for (let b = 0; b < B; b++) {
    const pb = b * P;
    const qb = b * Q;
    let nPre = 0;
    for (let i = 0; i < Q; i++) if (pre[qb + i] !== 0) idx[nPre++] = i;
    if (nPre === 0) continue;
    for (let o = 0; o < P; o++) {
      const p = post[pb + o]!;
      if (p === 0) continue;
      const base = o * Q;
      for (let k = 0; k < nPre; k++) {
        const i = idx[k]!;
        const e = base + i;
        acc[e] = f(acc[e]! + f(p * pre[qb + i]!));
        if (track && mask[e] === 0) {
          mask[e] = 1;
          list[n++] = e;
        }
      }
    }
  }
  return n;
}

/** Σ_b nnz(post_b)·nnz(pre_b): the pairs a part's batch sum visits. */
function pairCount(post: Float32Array, pre: Float32Array, B: number, P: number, Q: number): number {
  let total = 0;
  for (let b = 0; b < B; b++) {
    let np = 0;
    let nq = 0;
    for (let o = b * P, end = o + P; o < end; o++) if (post[o] !== 0) np++;
    if (np === 0) continue;
    for (let i = b * Q, end = i + Q; i < end; i++) if (pre[i] !== 0) nq++;
    total += np * nq;
  }
  return total;
}

/** The constants of a {@link Rule.simple} rule: which part potentiates, divisors, bounds, clamp. */
function simpleConstants(rule: Rule) {
  const posT = rule.sides[0]! > 0 ? 0 : 1;
  return {
    posT,
    dP: rule.divisors[posT]!,
    dN: rule.divisors[1 - posT]!,
    up: rule.kind === 'multiplicative' && rule.boundsUpper,
    lo: rule.kind === 'multiplicative' && rule.boundsLower,
    maxV: rule.maxV,
    minV: rule.minV,
    cMin: rule.clampMin.length ? rule.clampMin[0]! : -Infinity,
    cMax: rule.clampMax.length ? rule.clampMax[0]! : Infinity,
  };
}

/**
 * The common case over every element (or the `size` elements listed in `list`), as one tight loop: one potentiation and one depression part,
 * no bounding or a multiplicative one, at most one clamp. Same float32 operations as {@link Rule.element}.
 */
function combineSimple(rule: Rule, out: Float32Array, w: Float32Array, size: number, list: Int32Array | null = null): void {
  const { posT, dP, dN, up, lo, maxV, minV, cMin, cMax } = simpleConstants(rule);
  const accP = rule.accs[posT]!;
  const accN = rule.accs[1 - posT]!;
  if (list === null && up && !lo) {
    // every element, upper-bounded potentiation (the quickstart's rule): the branch-free loop
    for (let e = 0; e < size; e++) {
      const wv = w[e]!;
      const pos = f(f(maxV - wv) * (dP !== 1 ? f(accP[e]! / dP) : accP[e]!));
      const neg = dN !== 1 ? f(accN[e]! / dN) : accN[e]!;
      const v = f(wv + f(pos - neg));
      out[e] = clampFinite(v, cMin, cMax);
    }
    return;
  }
  for (let k = 0; k < size; k++) {
    const e = list === null ? k : list[k]!;
    const wv = w[e]!;
    let pos = accP[e]!;
    if (dP !== 1) pos = f(pos / dP);
    let neg = accN[e]!;
    if (dN !== 1) neg = f(neg / dN);
    if (up) pos = f(f(maxV - wv) * pos);
    if (lo) neg = f(f(wv - minV) * neg);
    out[e] = clampFinite(f(wv + f(pos - neg)), cMin, cMax);
  }
}

/**
 * One sample, the common rule ({@link combineSimple}), a clean input: the parts are rank one, so
 * rows whose potentiation factor is non-zero are updated whole and the other rows only at the
 * non-zero depression inputs; `out` already holds a copy of `w`. Same values as the sum-then-combine
 * path (a single product needs no summing).
 */
function rankOne(rule: Rule, out: Float32Array, w: Float32Array, posts: Float32Array[], pres: Float32Array[], P: number, Q: number, idx: Int32Array, vals: Float64Array): void {
  const { posT, dP, dN, up, lo, maxV, minV, cMin, cMax } = simpleConstants(rule);
  const postP = posts[posT]!;
  const preP = pres[posT]!;
  const postN = posts[1 - posT]!;
  const preN = pres[1 - posT]!;
  // the non-zero depression inputs and their values, gathered once
  let nN = 0;
  for (let i = 0; i < Q; i++) {
    const x = preN[i]!;
    if (x !== 0) {
      idx[nN] = i;
      vals[nN++] = x;
    }
  }
  for (let o = 0; o < P; o++) {
    const pp = postP[o]!;
    const pn = postN[o]!;
    const base = o * Q;
    if (pp !== 0 && up && !lo && dP === 1 && dN === 1) {
      // the quickstart's rule at B = 1 (upper-bounded potentiation, batch mean over one sample)
      if (pn === 0) {
        for (let i = 0; i < Q; i++) {
          const e = base + i;
          const wv = w[e]!;
          const v = f(wv + f(f(maxV - wv) * f(pp * preP[i]!)));
          out[e] = v < cMin ? (v === -Infinity ? v : cMin) : v > cMax ? (v === Infinity ? v : cMax) : v;
        }
      } else {
        for (let i = 0; i < Q; i++) {
          const e = base + i;
          const wv = w[e]!;
          const v = f(wv + f(f(f(maxV - wv) * f(pp * preP[i]!)) - f(pn * preN[i]!)));
          out[e] = v < cMin ? (v === -Infinity ? v : cMin) : v > cMax ? (v === Infinity ? v : cMax) : v;
        }
      }
    } else if (pp !== 0) {
      for (let i = 0; i < Q; i++) {
        const e = base + i;
        const wv = w[e]!;
        let pos = f(pp * preP[i]!);
        if (dP !== 1) pos = f(pos / dP);
        let neg = pn !== 0 ? f(pn * preN[i]!) : 0;
        if (dN !== 1) neg = f(neg / dN);
        if (up) pos = f(f(maxV - wv) * pos);
        if (lo) neg = f(f(wv - minV) * neg);
        out[e] = clampFinite(f(wv + f(pos - neg)), cMin, cMax);
      }
    } else if (pn !== 0) {
      // no potentiation in this row: (max − w)·0 = ±0 for the finite w of a clean input, so
      // v = w + (±0 − neg) = f(w − neg)
      if (!lo && dN === 1) {
        for (let k = 0; k < nN; k++) {
          const e = base + idx[k]!;
          const v = f(w[e]! - f(pn * vals[k]!));
          out[e] = v < cMin ? (v === -Infinity ? v : cMin) : v > cMax ? (v === Infinity ? v : cMax) : v;
        }
        continue;
      }
      for (let k = 0; k < nN; k++) {
        const e = base + idx[k]!;
        const wv = w[e]!;
        let neg = f(pn * vals[k]!);
        if (dN !== 1) neg = f(neg / dN);
        if (lo) neg = f(f(wv - minV) * neg);
        out[e] = clampFinite(f(wv - neg), cMin, cMax);
      }
    }
  }
}

/** Per-size scratch of {@link rowPass}: one float64 row accumulator per part, per-sample index lists. */
interface RowScratch {
  rows: Float64Array[];
  idx: Int32Array;
  counts: Int32Array;
}
const rowScratch = new Map<string, RowScratch>();
function rowScratchFor(T: number, B: number, Q: number): RowScratch {
  const key = `${T}|${B}|${Q}`;
  let s = rowScratch.get(key);
  if (!s) {
    s = { rows: Array.from({ length: T }, () => new Float64Array(Q)), idx: new Int32Array(T * B * Q), counts: new Int32Array(T * B) };
    rowScratch.set(key, s);
  }
  return s;
}

/** A presynaptic factor row with more than this fraction of non-zeros is visited whole (no index list). */
const DENSE_ROW = 0.4;

/**
 * The event-driven single pass (any batch): row by row of `[P, Q]`, each part's batch sum of the
 * row is accumulated in float64 from the samples whose postsynaptic factor is non-zero there (each
 * adds its presynaptic row, visiting only its non-zero entries when sparse), then the row is
 * combined with the weights and written; the accumulators stay in cache and are zeroed as they are
 * read. With `copy`, rows no part touched are copied (see the module notes). Returns the work done
 * (pairs visited), which picks the next call's path.
 */
function rowPass(rule: Rule, out: Float32Array, w: Float32Array, posts: Float32Array[], pres: Float32Array[], B: number, P: number, Q: number, copy: boolean): number {
  const T = rule.T;
  const { rows, idx, counts } = rowScratchFor(T, B, Q);
  for (let t = 0; t < T; t++) {
    const pre = pres[t]!;
    for (let b = 0; b < B; b++) {
      const base = (t * B + b) * Q;
      const qb = b * Q;
      let n = 0;
      for (let i = 0; i < Q; i++) if (pre[qb + i] !== 0) idx[base + n++] = i;
      counts[t * B + b] = n > Q * DENSE_ROW ? -1 : n;
    }
  }
  const simple = rule.simple;
  rule.accs = rows;
  let work = 0;
  for (let o = 0; o < P; o++) {
    let touched = false;
    for (let t = 0; t < T; t++) {
      const post = posts[t]!;
      const pre = pres[t]!;
      const acc = rows[t]!;
      for (let b = 0; b < B; b++) {
        const p = post[b * P + o]!;
        if (p === 0) continue;
        touched = true;
        const n = counts[t * B + b]!;
        const qb = b * Q;
        if (n < 0) {
          for (let i = 0; i < Q; i++) acc[i] += p * pre[qb + i]!;
          work += Q;
        } else {
          const base = (t * B + b) * Q;
          for (let k = 0; k < n; k++) {
            const i = idx[base + k]!;
            acc[i] += p * pre[qb + i]!;
          }
          work += n;
        }
      }
    }
    const e0 = o * Q;
    if (!touched && copy) {
      out.set(w.subarray(e0, e0 + Q), e0);
      continue;
    }
    if (simple) combineRow(rule, out, w, e0, Q);
    else {
      for (let i = 0; i < Q; i++) out[e0 + i] = rule.element(w[e0 + i]!, i);
      for (let t = 0; t < T; t++) rows[t]!.fill(0);
    }
  }
  rule.accs = [];
  return work;
}

/** {@link combineSimple} on one row `[e0, e0 + Q)` from the float64 row sums (zeroed here). */
function combineRow(rule: Rule, out: Float32Array, w: Float32Array, e0: number, Q: number): void {
  const { posT, dP, dN, up, lo, maxV, minV, cMin, cMax } = simpleConstants(rule);
  const accP = rule.accs[posT] as Float64Array;
  const accN = rule.accs[1 - posT] as Float64Array;
  if (up && !lo) {
    // upper-bounded potentiation (the quickstart's rule)
    for (let i = 0; i < Q; i++) {
      const e = e0 + i;
      const wv = w[e]!;
      const pos = f(f(maxV - wv) * f(f(accP[i]!) / dP));
      const neg = f(f(accN[i]!) / dN);
      out[e] = clampFinite(f(wv + f(pos - neg)), cMin, cMax);
      accP[i] = 0;
      accN[i] = 0;
    }
    return;
  }
  for (let i = 0; i < Q; i++) {
    const e = e0 + i;
    const wv = w[e]!;
    let pos = f(f(accP[i]!) / dP);
    let neg = f(f(accN[i]!) / dN);
    if (up) pos = f(f(maxV - wv) * pos);
    if (lo) neg = f(f(wv - minV) * neg);
    out[e] = clampFinite(f(wv + f(pos - neg)), cMin, cMax);
    accP[i] = 0;
    accN[i] = 0;
  }
}

/** Event-driven work of a call over the pairs a matrix product would visit, above which the next call of the same rule and shapes uses matrix products. */
const DENSE_WORK = 1 / 6;
/** Per rule and shape: whether the last call found the factors dense (then the sums are matrix products). */
const denseLast = new Map<string, boolean>();

/** Σ over parts and samples of the pairs {@link rowPass} would visit. */
function rowWork(posts: Float32Array[], pres: Float32Array[], B: number, P: number, Q: number): number {
  let work = 0;
  for (let t = 0; t < posts.length; t++) {
    for (let b = 0; b < B; b++) {
      let np = 0;
      let nq = 0;
      for (let o = b * P, end = o + P; o < end; o++) if (posts[t]![o] !== 0) np++;
      if (np === 0) continue;
      for (let i = b * Q, end = i + Q; i < end; i++) if (pres[t]![i] !== 0) nq++;
      work += np * (nq > Q * DENSE_ROW ? Q : nq);
    }
  }
  return work;
}

function kernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo {
  const a = args.attrs as unknown as Attrs;
  const { batch: B, rows: P, cols: Q } = a;
  let rule = rules.get(a.key);
  if (!rule) {
    rule = new Rule(a);
    rules.set(a.key, rule);
  }
  const T = rule.T;
  const mem = new FusedMemory(args.backend);
  const wInfo = args.inputs.w!;
  const outInfo = mem.output([...wInfo.shape]);
  const w = mem.view(wInfo);
  const out = mem.view(outInfo);
  const posts: Float32Array[] = [];
  const pres: Float32Array[] = [];
  for (let t = 0; t < T; t++) {
    posts.push(mem.view(args.inputs[`post${t}`]!));
    pres.push(mem.view(args.inputs[`pre${t}`]!));
  }
  const clean0 = rule.copyUntouched && clean.get(wInfo.dataId) === a.key;
  const out0 = kernelPaths(a, rule, B, P, Q, w, out, posts, pres, args, mem, clean0, wInfo, outInfo);
  // a full scan for ±Inf every call cost most of a B = 1 quickstart step: a carried bound instead
  markClean(rule, a.key, clean0, wInfo.dataId, outInfo.dataId, out, posts, pres, B, P, Q);
  return out0;
}

/**
 * Outputs of these kernels known finite, with a bound on their magnitude (max |w|): set by
 * {@link rowsKernel} for clamped outputs and by {@link markClean}; read by both.
 */
const outBound = new WeakMap<object, number>();

/**
 * Marks the output of {@link kernel} clean (its untouched elements may be copied next time) unless,
 * under a multiplicative bound, it may hold ±Inf (see the module notes). Rather than a pass over
 * the weights every call, the magnitude bound of {@link outBound} is carried from `w`
 * ({@link grownBound}; plain multiplicative bounds); the weights are scanned (max |w|) only when
 * no bound is known or the carried one reaches 1e37.
 */
function markClean(rule: Rule, key: string, clean0: boolean, wId: object, outId: object, out: Float32Array, posts: Float32Array[], pres: Float32Array[], B: number, P: number, Q: number): void {
  if (!rule.factorBound) {
    clean.set(outId, key);
    return;
  }
  let m = outBound.get(outId); // carried already ({@link carryBound})
  const bw = clean0 && m === undefined && rule.kind === 'multiplicative' ? outBound.get(wId) : undefined;
  if (bw !== undefined) {
    const grown = grownBound(rule, bw, posts, pres, B, P, Q);
    if (grown < 1e37) m = grown;
  }
  m ??= maxAbs(out, P * Q);
  if (m < Infinity) {
    clean.set(outId, key);
    outBound.set(outId, m);
  }
}

/** Whether one of the first n elements is +Inf or −Inf. */
function hasInfinity(x: Float32Array, n: number): boolean {
  for (let k = 0; k < n; k++) if (x[k] === Infinity || x[k] === -Infinity) return true;
  return false;
}

/** The paths of {@link kernel} (see the module notes); returns `outInfo`. */
function kernelPaths(a: Attrs, rule: Rule, B: number, P: number, Q: number, w: Float32Array, out: Float32Array, posts: Float32Array[], pres: Float32Array[], args: { inputs: tf.NamedTensorInfoMap }, mem: FusedMemory, clean0: boolean, wInfo: tf.TensorInfo, outInfo: tf.TensorInfo): tf.TensorInfo {
  const T = rule.T;
  const size = P * Q;
  const shapeKey = `${a.key}|${B}|${P}|${Q}`;
  if (a.summed) {
    // batch sums already computed (matrix products): one pass over every element
    const accs: Float32Array[] = [];
    for (let t = 0; t < T; t++) accs.push(mem.view(args.inputs[`sum${t}`]!));
    rule.accs = accs;
    if (rule.simple) combineSimple(rule, out, w, size);
    else for (let e = 0; e < size; e++) out[e] = rule.element(w[e]!, e);
    rule.accs = [];
    // the factors are passed too: whether the event-driven pass would do now
    denseLast.set(shapeKey, rowWork(posts, pres, B, P, Q) > DENSE_WORK * T * B * size);
    return outInfo;
  }
  if (B === 1 && rule.simple && clean0) {
    out.set(w);
    const sc = scratchFor(size, T, Q);
    rankOne(rule, out, w, posts, pres, P, Q, sc.idx, sc.vals);
    carryBound(rule, wInfo.dataId, outInfo.dataId, posts, pres, B, P, Q);
    return outInfo;
  }
  if (B > TRACK_MAX_BATCH) {
    const work = rowPass(rule, out, w, posts, pres, B, P, Q, clean0);
    denseLast.set(shapeKey, work > DENSE_WORK * T * B * size);
    return outInfo;
  }
  const s = scratchFor(size, T, Q);
  let pairs = 0;
  for (let t = 0; t < T; t++) pairs += pairCount(posts[t]!, pres[t]!, B, P, Q);
  rule.accs = s.acc;
  if (pairs > size / 4) {
    // many pairs (over a quarter of the elements; measured on wasm): plain sums, then one pass over every element
    for (let t = 0; t < T; t++) accumulate(s.acc[t]!, posts[t]!, pres[t]!, B, P, Q, s, 0, false);
    if (rule.simple) combineSimple(rule, out, w, size);
    else for (let e = 0; e < size; e++) out[e] = rule.element(w[e]!, e);
    for (let t = 0; t < T; t++) s.acc[t]!.fill(0);
    rule.accs = [];
    return outInfo;
  }
  const { list, mask } = s;
  let n = 0;
  for (let t = 0; t < T; t++) n = accumulate(s.acc[t]!, posts[t]!, pres[t]!, B, P, Q, s, n, true);
  if (clean0) {
    out.set(w);
    if (rule.simple) combineSimple(rule, out, w, n, list);
    else
      for (let k = 0; k < n; k++) {
        const e = list[k]!;
        out[e] = rule.element(w[e]!, e);
      }
  } else if (rule.simple) {
    combineSimple(rule, out, w, size);
  } else {
    for (let e = 0; e < size; e++) out[e] = rule.element(w[e]!, e);
  }
  // leave the scratch zeroed for the next call
  for (let k = 0; k < n; k++) {
    const e = list[k]!;
    mask[e] = 0;
    for (let t = 0; t < T; t++) s.acc[t]![e] = 0;
  }
  rule.accs = [];
  return outInfo;
}

/** Kernel name of the sparse-row part of the hybrid update. */
export const FUSED_OUTER_ROWS = 'CinderFusedOuterRows';

interface RowsAttrs {
  batch: number;
  rows: number;
  cols: number;
  divisor: number;
  /** +1: the sparse part potentiates, −1: it depresses. */
  sign: number;
  /** Multiplicative factor of the sparse part's side: (max − w) for potentiation, (w − min) for depression. */
  bounded: boolean;
  max: number;
  min: number;
  clampMin: number;
  clampMax: number;
  clamped: boolean;
  /** The rows part is already in `d` (a matrix product): only the clamp's check and the bound remain. */
  summed: boolean;
  /** The rule's key (the event-driven kernel's copy shortcut), null when the output is not clamped as the rule's. */
  key: string | null;
  /** Signed divisor of the dense part. */
  divisorDense: number;
}

/**
 * The sparse part of the hybrid update: `out = base`, then on every row o where some sample's
 * postsynaptic factor of the sparse part is non-zero,
 * `out[o, i] = clamp(d[o, i] ± factor(w[o, i])·f(Σ_b post[b, o]·pre[b, i]) / divisor)` (batch sum in
 * float64, visiting only non-zero presynaptic entries when they are sparse).
 */
function rowsKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo {
  const a = args.attrs as unknown as RowsAttrs;
  const { batch: B, rows: P, cols: Q } = a;
  const mem = new FusedMemory(args.backend);
  const outInfo = mem.output([P, Q]);
  const wInfo = args.inputs.w!;
  const w = mem.view(wInfo);
  const base = mem.view(args.inputs.base!);
  const d = mem.view(args.inputs.d!);
  const post = mem.view(args.inputs.post!);
  const pre = mem.view(args.inputs.pre!);
  const postDense = mem.view(args.inputs.postDense!);
  const preDense = mem.view(args.inputs.preDense!);
  const out = mem.view(outInfo);
  const { rows, idx, counts } = rowScratchFor(1, B, Q);
  const acc = rows[0]!;
  // no non-zero postsynaptic factor in the rows part: nothing to accumulate (its pre side is not read)
  const maxPost = maxAbs(post, B * P);
  let maxPre = 0;
  if (a.summed && maxPost !== 0) maxPre = maxAbs(pre, B * Q); // no index lists needed
  for (let b = 0; b < (maxPost === 0 || a.summed ? 0 : B); b++) {
    const qb = b * Q;
    let n = 0;
    for (let i = 0; i < Q; i++) {
      const x = pre[qb + i]!;
      if (x !== 0) {
        idx[qb + n++] = i;
        const m = Math.abs(x);
        if (!(m <= maxPre)) maxPre = m; // NaN sticks
      }
    }
    counts[b] = n > Q * DENSE_ROW ? -1 : n;
  }
  // A bound on |out| when w is a finite output of this kernel with a known bound and every factor
  // is finite: then d is finite, and clipByValue (base) equals the hook's finite-only clamp.
  let bound = NaN;
  if (a.clamped) {
    const bw = outBound.get(wInfo.dataId);
    if (bw !== undefined) {
      const mD = maxAbs(postDense, B * P) * maxAbs(preDense, B * Q) * B;
      const mS = maxPost === 0 ? 0 : maxPost * maxPre * B;
      const factor = a.bounded ? Math.abs(a.sign > 0 ? a.max : a.min) + bw : 1;
      bound = bw + mD / Math.abs(a.divisorDense) + (mS / a.divisor) * factor;
    }
  }
  const fast = !a.clamped || bound < 1e37;
  if (fast) out.set(base);
  else for (let e = 0, size = P * Q; e < size; e++) out[e] = clampFinite(d[e]!, a.clampMin, a.clampMax);
  const div = f(a.divisor);
  const up = a.sign > 0;
  const bounded = a.bounded;
  const clamped = a.clamped;
  const lim = up ? f(a.max) : f(a.min);
  const cMin = a.clampMin;
  const cMax = a.clampMax;
  for (let o = 0; o < (a.summed || maxPost === 0 ? 0 : P); o++) {
    let touched = false;
    for (let b = 0; b < B; b++) {
      const p = post[b * P + o]!;
      if (p === 0) continue;
      touched = true;
      const n = counts[b]!;
      const qb = b * Q;
      if (n < 0) for (let i = 0; i < Q; i++) acc[i] += p * pre[qb + i]!;
      else
        for (let k = 0; k < n; k++) {
          const i = idx[qb + k]!;
          acc[i] += p * pre[qb + i]!;
        }
    }
    if (!touched) continue;
    const e0 = o * Q;
    applyRow(out, w, d, acc, e0, Q, div, up, bounded, lim, clamped, cMin, cMax);
  }
  if (a.clamped) {
    if (!fast) bound = maxAbs(out, P * Q);
    if (bound < 1e37) outBound.set(outInfo.dataId, bound);
  }
  // the output satisfies the clamps: the event-driven kernel may copy its untouched elements, unless
  // a multiplicative bound met ±Inf (see the module notes); with a finite bound on |out| there is
  // none, and the scan (most of a B = 1 quickstart step) is skipped
  if (a.key !== null && !(a.bounded && !(bound < 1e37) && hasInfinity(out, P * Q))) clean.set(outInfo.dataId, a.key);
  return outInfo;
}

/**
 * One row of the hybrid update: `out[e0 + i] = clamp(d ± factor(w)·f(f(sums[i]) / div))` (zeroes `sums`),
 * factor `lim − w` (potentiation) or `w − lim` (depression) when bounded, else 1.
 */
function applyRow(out: Float32Array, w: Float32Array, d: Float32Array, sums: Float64Array, e0: number, Q: number, div: number, up: boolean, bounded: boolean, lim: number, clamped: boolean, cMin: number, cMax: number): void {
  for (let i = 0; i < Q; i++) {
    const e = e0 + i;
    let x = f(f(sums[i]!) / div);
    sums[i] = 0;
    if (bounded) {
      const wv = w[e]!;
      x = f(f(up ? lim - wv : wv - lim) * x);
    }
    const v = up ? f(d[e]! + x) : f(d[e]! - x);
    out[e] = clamped ? clampFinite(v, cMin, cMax) : v;
  }
}

/**
 * Carries the magnitude bound of {@link outBound} from `w` to the output of the event-driven kernel
 * (a simple rule: no bounding or a multiplicative one), see {@link grownBound}.
 */
function carryBound(rule: Rule, wId: object, outId: object, posts: Float32Array[], pres: Float32Array[], B: number, P: number, Q: number): void {
  const bw = outBound.get(wId);
  if (bw === undefined || rule.clampMin.length !== 1) return;
  const bound = grownBound(rule, bw, posts, pres, B, P, Q);
  if (bound < 1e37) outBound.set(outId, bound);
}

/**
 * A bound on |out| from a bound `bw` on |w|, for no bounding or a multiplicative one (power 1):
 * |out| ≤ bw + Σ_t B·max|post_t|·max|pre_t|/|d_t|·(max(|max|, |min|) + bw), the factor being 1
 * without bounding. O(B·(P + Q)): no pass over the weights.
 */
function grownBound(rule: Rule, bw: number, posts: Float32Array[], pres: Float32Array[], B: number, P: number, Q: number): number {
  const factor = rule.kind === 'multiplicative' ? Math.max(Math.abs(rule.maxV || 0), Math.abs(rule.minV || 0)) + bw : 1;
  let bound = bw;
  for (let t = 0; t < rule.T; t++) bound += ((B * maxAbs(posts[t]!, B * P) * maxAbs(pres[t]!, B * Q)) / Math.abs(rule.divisors[t]!)) * factor;
  return bound;
}

/** max |x[k]| over the first n elements (NaN when one is NaN, Infinity when one is infinite). */
function maxAbs(x: Float32Array, n: number): number {
  let m = 0;
  for (let k = 0; k < n; k++) {
    const v = Math.abs(x[k]!);
    if (!(v <= m)) m = v;
    if (m !== m) return NaN;
  }
  return m;
}

/** The bounds as scalars (the hybrid update's dense-step factor). */
const limits = new ScalarCache(8);

/** A part's postsynaptic factors at most this dense (fraction non-zero) are accumulated row by row in the hybrid update; denser ones are summed by a matrix product. */
const SPARSE_ROWS = 0.1;

/** The parts' roles in the hybrid update (see {@link hybridPlan}). */
interface HybridPlan {
  /** The part applied row by row (the one on a bounded side, else the sparser one). */
  rows: number;
  /** The part added as one matrix product. */
  dense: number;
  /** The rows part is summed by a matrix product too (its postsynaptic factor is dense this step). */
  summed: boolean;
}

/**
 * The hybrid plan (with `simd`: the roles of the SIMD update, whose `summed` is unused) for batches above TRACK_MAX_BATCH (one part per side, no bounding or a
 * multiplicative one bounding at most one side, at most one clamp): the part on the bounded side
 * (else the one with the sparser postsynaptic factor in this step: the post-spike term) is applied
 * row by row in JavaScript on the rows where its postsynaptic factor is non-zero; the other part
 * (post trace ⊗ pre spikes, dense in rows) is one matrix product and an add on the backend's
 * vectorised kernels, with the clamp as one clipByValue. The factors' densities are read from the
 * backend's memory (no synchronous read).
 */
function hybridPlan(B: number, bound: OuterBoundSpec | null, clamps: readonly OuterClamp[], terms: readonly OuterTerm[], simd = false): HybridPlan | null {
  if (B > EVENT_MAX_BATCH || terms.length !== 2 || terms[0]!.side === terms[1]!.side || clamps.length > 1) return null;
  if (bound && bound.kind !== 'multiplicative') return null;
  const bounded = (t: OuterTerm) => bound !== null && (t.side === 'pos' ? bound.boundsUpper : bound.boundsLower);
  if (bounded(terms[0]!) && bounded(terms[1]!)) return null;
  // the SIMD update needs only the roles: a bounded part is the rows part without reading densities
  if (simd && (bounded(terms[0]!) || bounded(terms[1]!))) {
    const rows = bounded(terms[0]!) ? 0 : 1;
    return { rows, dense: 1 - rows, summed: false };
  }
  const d0 = nonZeroFraction(terms[0]!.post);
  const d1 = nonZeroFraction(terms[1]!.post);
  if (d0 === null || d1 === null) return null;
  const rows = bounded(terms[0]!) ? 0 : bounded(terms[1]!) ? 1 : d0 <= d1 ? 0 : 1;
  const summed = (rows === 0 ? d0 : d1) > SPARSE_ROWS;
  // small batches: only steps whose rows part is dense (the event-driven kernel is faster otherwise)
  if (B <= TRACK_MAX_BATCH && !summed) return null;
  return { rows, dense: 1 - rows, summed };
}

function hybridUpdate(w: tf.Tensor, terms: readonly OuterTerm[], bound: OuterBoundSpec | null, clamps: readonly OuterClamp[], plan: HybridPlan, key: string): tf.Tensor {
  const [P, Q] = w.shape as [number, number];
  const td = terms[plan.dense]!;
  const ts = terms[plan.rows]!;
  const B = td.post.size / P;
  return tf.tidy(() => {
    // the dense part: w ± (postᵀ/divisor)·pre, one vectorised product and an add
    const signed = td.side === 'pos' ? td.divisor : -td.divisor;
    const product = (post: tf.Tensor, pre: tf.Tensor, divisor: number) => {
      const post2 = post.shape.length === 2 ? post : tf.reshape(post, [B, P]);
      const pre2 = pre.shape.length === 2 ? pre : tf.reshape(pre, [B, Q]);
      const postT = fusedTranspose(post2, divisor);
      return tf.matMul(postT, pre2);
    };
    let d = tf.add(w, product(td.post, td.pre, signed));
    const sideBounded = bound !== null && (ts.side === 'pos' ? bound.boundsUpper : bound.boundsLower);
    if (plan.summed) {
      // the rows part is dense in this step too: one more product, its bound factor and an add
      const s = product(ts.post, ts.pre, ts.side === 'pos' ? ts.divisor : -ts.divisor);
      const factor = !sideBounded ? null : ts.side === 'pos' ? tf.sub(limits.get(bound!.max!), w) : tf.sub(w, limits.get(bound!.min!));
      d = tf.add(d, factor ? tf.mul(factor, s) : s);
    }
    const c = clamps[0];
    // the clamp as clipByValue: equal to the hook's finite-only clamp when d is finite, which the
    // rows kernel checks (it clamps every element itself otherwise)
    const base = c ? tf.clipByValue(d, c.min ?? -Infinity, c.max ?? Infinity) : d;
    const attrs: RowsAttrs = {
      batch: B, rows: P, cols: Q, divisor: ts.divisor, sign: ts.side === 'pos' ? 1 : -1, bounded: sideBounded,
      max: bound?.max ?? NaN, min: bound?.min ?? NaN,
      clampMin: c?.min === undefined ? -Infinity : f(c.min), clampMax: c?.max === undefined ? Infinity : f(c.max), clamped: c !== undefined,
      summed: plan.summed, divisorDense: signed, key,
    };
    const inputs: Record<string, tf.Tensor> = { w, base, d, post: ts.post, pre: ts.pre, postDense: td.post, preDense: td.pre };
    return tf.engine().runKernel(FUSED_OUTER_ROWS, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  });
}

/**
 * The hybrid plan's update on the wasm backend with SIMD (see `fused-outer-simd.ts`): both parts
 * event-driven, the rows part grouped by its postsynaptic non-zeros, the other by its presynaptic ones.
 */
function simdUpdate(w: tf.Tensor, terms: readonly OuterTerm[], bound: OuterBoundSpec | null, clamps: readonly OuterClamp[], plan: HybridPlan): tf.Tensor {
  const [P, Q] = w.shape as [number, number];
  const td = terms[plan.dense]!;
  const ts = terms[plan.rows]!;
  const bounded = bound !== null && (ts.side === 'pos' ? bound.boundsUpper : bound.boundsLower);
  const c = clamps[0];
  return fusedOuterSimd(w, ts.post, ts.pre, td.post, td.pre, {
    batch: td.post.size / P, rows: P, cols: Q, divS: ts.divisor, divD: td.divisor,
    signS: ts.side === 'pos' ? 1 : -1, signD: td.side === 'pos' ? 1 : -1, bounded,
    lim: !bounded ? 0 : ts.side === 'pos' ? bound!.max! : bound!.min!,
    lo: c?.min === undefined ? -Infinity : f(c.min), hi: c?.max === undefined ? Infinity : f(c.max),
  });
}

/**
 * The batch size of `terms` (1 without parts), after checking that `w` is a float32 `[P, Q]` and
 * every part's factors have B·P and B·Q elements with one whole B: the kernels index the factors
 * by these sizes (a mismatch would read other elements, or past the end, into the weights).
 */
function checkTerms(w: tf.Tensor, terms: readonly OuterTerm[]): number {
  if (w.rank !== 2 || w.dtype !== 'float32') throw new CinderArgumentError('w', w, 'a float32 tensor [P, Q]');
  const [P, Q] = w.shape as [number, number];
  if (terms.length === 0) return 1;
  const first = terms[0]!;
  const B = P > 0 ? first.post.size / P : Q > 0 ? first.pre.size / Q : (first.post.shape[0] ?? 0);
  terms.forEach((t, k) => {
    if (!(Number.isInteger(B) && t.post.size === B * P && t.pre.size === B * Q)) {
      throw new CinderArgumentError(`terms[${k}]`, `post [${t.post.shape.join(', ')}], pre [${t.pre.shape.join(', ')}]`, `factors of B·${P} and B·${Q} elements for one whole B (${Number.isInteger(B) ? `B = ${B} from terms[0]` : `terms[0].post has ${first.post.size}`})`);
    }
    if (!(t.divisor > 0)) throw new CinderArgumentError(`terms[${k}].divisor`, t.divisor, 'a number > 0');
  });
  return B;
}

/** Up to this batch the event-driven sums track the elements they touch (and copy the others). */
const TRACK_MAX_BATCH = 2;

/**
 * Largest batch whose sums the kernel computes itself, event-driven (unless the previous call of the
 * same rule and shapes found the factors dense); larger batches use matrix products.
 */
export const EVENT_MAX_BATCH = 256;

/**
 * Runs the fused update on the current backend (wasm or cpu; see `fusedBackend`): returns the new
 * value of `w` `[P, Q]` (a new tensor). Factors must be float32 with `B·P` and `B·Q` elements.
 * @throws CinderArgumentError unless `w` is a float32 `[P, Q]`, every part's factors have `B·P`
 *   and `B·Q` elements for one whole B (`pre` `[B, …]` when P = 0) and every divisor is > 0
 */
export function fusedOuterUpdate(w: tf.Tensor, terms: readonly OuterTerm[], bound: OuterBoundSpec | null, clamps: readonly OuterClamp[]): tf.Tensor {
  const [P, Q] = w.shape as [number, number];
  const B = checkTerms(w, terms);
  clamps.forEach((c, k) => {
    for (const side of ['min', 'max'] as const) if (Number.isNaN(c[side])) throw new CinderArgumentError(`clamps[${k}].${side}`, c[side], 'a number or undefined (not NaN)');
  });
  registerFused(FUSED_OUTER_UPDATE, kernel as unknown as tf.KernelFunc);
  registerFused(FUSED_OUTER_ROWS, rowsKernel as unknown as tf.KernelFunc);
  const inputs: Record<string, tf.Tensor> = { w };
  // Up to EVENT_MAX_BATCH samples the kernel sums event-driven over the spikes, unless its previous
  // call with this rule and these shapes found the factors dense; otherwise the batch sums are matrix
  // products (the backend's, vectorised).
  const divisors = terms.map((t) => t.divisor);
  const sides = terms.map((t) => (t.side === 'pos' ? 1 : -1));
  if (B > TRACK_MAX_BATCH && outerSimdApplies(w, terms)) {
    const simd = hybridPlan(B, bound, clamps, terms, true);
    if (simd) return simdUpdate(w, terms, bound, clamps, simd);
  }
  const plan = hybridPlan(B, bound, clamps, terms);
  // the key names the whole rule (cached per key) and marks outputs for the copy shortcut
  const key = JSON.stringify([bound, clamps, divisors, sides], keyNumber);
  const shapeKey = `${key}|${B}|${P}|${Q}`;
  if (plan) return hybridUpdate(w, terms, bound, clamps, plan, key);
  const summed = B > EVENT_MAX_BATCH || denseLast.get(shapeKey) === true;
  const temps: tf.Tensor[] = [];
  terms.forEach((t, k) => {
    if (summed) {
      const post = t.post.shape.length === 2 ? t.post : tf.reshape(t.post, [B, P]);
      const pre = t.pre.shape.length === 2 ? t.pre : tf.reshape(t.pre, [B, Q]);
      const postT = tf.transpose(post); // an explicit transpose: the wasm product with transposeA is slow
      const m = tf.matMul(postT, pre);
      for (const x of [post, pre, postT, m]) if (x !== t.post && x !== t.pre) temps.push(x);
      inputs[`sum${k}`] = m;
    }
    inputs[`post${k}`] = t.post;
    inputs[`pre${k}`] = t.pre;
  });
  const attrs = { batch: B, rows: P, cols: Q, divisors, sides, bound, clamps: [...clamps], key, summed };
  const out = tf.engine().runKernel(FUSED_OUTER_UPDATE, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  for (const x of temps) x.dispose();
  return out;
}

/** JSON replacer of rule keys: −0, NaN and ±Infinity written apart (JSON writes −0 as 0, the others as null). */
function keyNumber(_name: string, v: unknown): unknown {
  return typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? (Object.is(v, -0) ? '-0' : String(v)) : v;
}
