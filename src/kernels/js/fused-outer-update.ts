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
 * sum, which is accumulated in float32 in sample order (a matrix product may sum in another order).
 *
 * Up to {@link SPARSE_MAX_BATCH} samples the batch sums are computed here, event-driven: the sum only visits pairs where both factors are non-zero, so with one spike
 * factor per part (the pair rules: post spikes ⊗ pre trace, post trace ⊗ pre spikes) the cost is
 * (spikes × the other side's length), plus a copy of P. Elements no part touched keep
 * `clamp(P + u(0))`; when P is this kernel's own previous output with the same clamps and a
 * bounding whose factor is finite (none, hard, multiplicative, scaled-multiplicative) that is P
 * itself for finite P, so they are copied; otherwise every element is recomputed. Larger batches
 * take the sums from one matrix product per part (the backend's vectorised kernel), and this
 * kernel does the element-wise rest in one pass.
 * @module
 */
import { tf } from '../../core/tf.js';
import { FusedMemory, registerFused } from './fused-memory.js';

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
  mask: Uint8Array;
  list: Int32Array;
  idx: Int32Array;
}
const scratch = new Map<string, Scratch>();
function scratchFor(size: number, terms: number, cols: number): Scratch {
  const key = `${size}|${cols}`;
  let s = scratch.get(key);
  if (!s) {
    s = { acc: [], mask: new Uint8Array(size), list: new Int32Array(size), idx: new Int32Array(cols) };
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
  /** One part per side, no bounding or a multiplicative one, at most one clamp ({@link combineSimple}). */
  readonly simple: boolean;
  accs: Float32Array[] = [];
  w: Float32Array = new Float32Array(0);

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

  /** The updated value of element e (float32 rounding in the op path's order). */
  element(e: number): number {
    const wv = this.w[e]!;
    let pos = 0;
    let neg = 0;
    let firstPos = true;
    let firstNeg = true;
    for (let t = 0; t < this.T; t++) {
      let v = this.accs[t]![e]!;
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
function rankOne(rule: Rule, out: Float32Array, w: Float32Array, posts: Float32Array[], pres: Float32Array[], P: number, Q: number, idx: Int32Array): void {
  const { posT, dP, dN, up, lo, maxV, minV, cMin, cMax } = simpleConstants(rule);
  const postP = posts[posT]!;
  const preP = pres[posT]!;
  const postN = posts[1 - posT]!;
  const preN = pres[1 - posT]!;
  let nN = 0;
  for (let i = 0; i < Q; i++) if (preN[i] !== 0) idx[nN++] = i;
  for (let o = 0; o < P; o++) {
    const pp = postP[o]!;
    const pn = postN[o]!;
    const base = o * Q;
    if (pp !== 0) {
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
      for (let k = 0; k < nN; k++) {
        const e = base + idx[k]!;
        const wv = w[e]!;
        let neg = f(pn * preN[idx[k]!]!);
        if (dN !== 1) neg = f(neg / dN);
        if (lo) neg = f(f(wv - minV) * neg);
        // pos = 0: the bounded potentiation is (max − w)·0 = 0
        const pos = up ? f(f(maxV - wv) * 0) : 0;
        out[e] = clampFinite(f(wv + f(pos - neg)), cMin, cMax);
      }
    }
  }
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
  const size = P * Q;
  const s = scratchFor(size, T, Q);
  if (a.summed) {
    // batch sums already computed (matrix products): one pass over every element
    const accs: Float32Array[] = [];
    for (let t = 0; t < T; t++) accs.push(mem.view(args.inputs[`sum${t}`]!));
    rule.accs = accs;
    rule.w = w;
    if (rule.simple) combineSimple(rule, out, w, size);
    else for (let e = 0; e < size; e++) out[e] = rule.element(e);
    rule.w = new Float32Array(0);
    rule.accs = [];
    clean.set(outInfo.dataId, a.key);
    return outInfo;
  }
  let n = 0;
  const posts: Float32Array[] = [];
  const pres: Float32Array[] = [];
  let pairs = 0;
  for (let t = 0; t < T; t++) {
    posts.push(mem.view(args.inputs[`post${t}`]!));
    pres.push(mem.view(args.inputs[`pre${t}`]!));
    pairs += pairCount(posts[t]!, pres[t]!, B, P, Q);
  }
  rule.accs = s.acc;
  rule.w = w;
  const { list, mask } = s;
  if (B === 1 && rule.simple && rule.copyUntouched && clean.get(wInfo.dataId) === a.key) {
    out.set(w);
    rankOne(rule, out, w, posts, pres, P, Q, s.idx);
    rule.w = new Float32Array(0);
    clean.set(outInfo.dataId, a.key);
    return outInfo;
  }
  if (pairs > size / 4) {
    // many pairs (over a quarter of the elements; measured on wasm): plain sums, then one pass over every element
    for (let t = 0; t < T; t++) accumulate(s.acc[t]!, posts[t]!, pres[t]!, B, P, Q, s, 0, false);
    if (rule.simple) combineSimple(rule, out, w, size);
    else for (let e = 0; e < size; e++) out[e] = rule.element(e);
    for (let t = 0; t < T; t++) s.acc[t]!.fill(0);
    rule.w = new Float32Array(0);
    clean.set(outInfo.dataId, a.key);
    return outInfo;
  }
  for (let t = 0; t < T; t++) n = accumulate(s.acc[t]!, posts[t]!, pres[t]!, B, P, Q, s, n, true);
  if (rule.copyUntouched && clean.get(wInfo.dataId) === a.key) {
    out.set(w);
    if (rule.simple) combineSimple(rule, out, w, n, list);
    else
      for (let k = 0; k < n; k++) {
        const e = list[k]!;
        out[e] = rule.element(e);
      }
  } else if (rule.simple) {
    combineSimple(rule, out, w, size);
  } else {
    for (let e = 0; e < size; e++) out[e] = rule.element(e);
  }
  // leave the scratch zeroed for the next call
  for (let k = 0; k < n; k++) {
    const e = list[k]!;
    mask[e] = 0;
    for (let t = 0; t < T; t++) s.acc[t]![e] = 0;
  }
  rule.w = new Float32Array(0);
  clean.set(outInfo.dataId, a.key);
  return outInfo;
}

let registered = false;

/** Largest batch whose sums the kernel computes itself (event-driven); larger ones use matrix products. */
export const SPARSE_MAX_BATCH = 2;

/**
 * Runs the fused update on the current backend (wasm or cpu; see `fusedBackend`): returns the new
 * value of `w` `[P, Q]` (a new tensor). Factors must be float32 with `B·P` and `B·Q` elements.
 */
export function fusedOuterUpdate(w: tf.Tensor, terms: readonly OuterTerm[], bound: OuterBoundSpec | null, clamps: readonly OuterClamp[]): tf.Tensor {
  if (!registered) {
    registerFused(FUSED_OUTER_UPDATE, kernel as unknown as tf.KernelFunc);
    registered = true;
  }
  const [P, Q] = w.shape as [number, number];
  const B = terms.length ? terms[0]!.post.size / P : 1;
  const inputs: Record<string, tf.Tensor> = { w };
  // Batches above SPARSE_MAX_BATCH: the batch sums are matrix products (the backend's, vectorised);
  // up to it, the kernel sums event-driven over the spikes.
  const summed = B > SPARSE_MAX_BATCH;
  const temps: tf.Tensor[] = [];
  terms.forEach((t, k) => {
    if (summed) {
      const post = t.post.shape.length === 2 ? t.post : tf.reshape(t.post, [B, P]);
      const pre = t.pre.shape.length === 2 ? t.pre : tf.reshape(t.pre, [B, Q]);
      const postT = tf.transpose(post); // an explicit transpose: the wasm product with transposeA is slow
      const m = tf.matMul(postT, pre);
      for (const x of [post, pre, postT, m]) if (x !== t.post && x !== t.pre) temps.push(x);
      inputs[`sum${k}`] = m;
    } else {
      inputs[`post${k}`] = t.post;
      inputs[`pre${k}`] = t.pre;
    }
  });
  const divisors = terms.map((t) => t.divisor);
  const sides = terms.map((t) => (t.side === 'pos' ? 1 : -1));
  // the key names the whole rule (cached per key) and marks outputs for the copy shortcut
  const key = JSON.stringify([bound, clamps, divisors, sides]);
  const attrs = { batch: B, rows: P, cols: Q, divisors, sides, bound, clamps: [...clamps], key, summed };
  const out = tf.engine().runKernel(FUSED_OUTER_UPDATE, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  for (const x of temps) x.dispose();
  return out;
}
