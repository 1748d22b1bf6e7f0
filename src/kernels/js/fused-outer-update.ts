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
 * Event-driven: the sum only visits pairs where both factors are non-zero, so with one spike
 * factor per part (the pair rules: post spikes ⊗ pre trace, post trace ⊗ pre spikes) the cost is
 * (spikes × the other side's length), plus a copy of P. Elements no part touched keep
 * `clamp(P + u(0))`; when P is this kernel's own previous output with the same clamps and a
 * bounding whose factor is finite (none, hard, multiplicative, scaled-multiplicative) that is P
 * itself for finite P, so they are copied; otherwise every element is recomputed.
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
  kind: 'hard' | 'multiplicative' | 'scaled-multiplicative' | 'power' | 'scaled-power';
  boundsUpper: boolean;
  boundsLower: boolean;
  max?: number;
  min?: number;
  powerUpper: number;
  powerLower: number;
}

/** One clamping (in order). */
export interface OuterClamp {
  min?: number;
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
      v = Math.max(v, this.clampMin[c]!);
      v = Math.min(v, this.clampMax[c]!);
    }
    return v;
  }
}
const rules = new Map<string, Rule>();

/**
 * Adds `Σ_b post[b]ᵀ ⊗ pre[b]` into `acc` `[P, Q]`, visiting only pairs of non-zero factors, and
 * records first-touched elements in `mask`/`list` from position `n`; returns the new count.
 */
function accumulate(acc: Float32Array, post: Float32Array, pre: Float32Array, B: number, P: number, Q: number, s: Scratch, n: number): number {
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
        if (mask[e] === 0) {
          mask[e] = 1;
          list[n++] = e;
        }
      }
    }
  }
  return n;
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
  let n = 0;
  for (let t = 0; t < T; t++) n = accumulate(s.acc[t]!, mem.view(args.inputs[`post${t}`]!), mem.view(args.inputs[`pre${t}`]!), B, P, Q, s, n);
  rule.accs = s.acc;
  rule.w = w;
  const { list, mask } = s;
  if (rule.copyUntouched && clean.get(wInfo.dataId) === a.key) {
    out.set(w);
    for (let k = 0; k < n; k++) {
      const e = list[k]!;
      out[e] = rule.element(e);
    }
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
  terms.forEach((t, k) => {
    inputs[`post${k}`] = t.post;
    inputs[`pre${k}`] = t.pre;
  });
  const divisors = terms.map((t) => t.divisor);
  const sides = terms.map((t) => (t.side === 'pos' ? 1 : -1));
  // the key names the whole rule (cached per key) and marks outputs for the copy shortcut
  const key = JSON.stringify([bound, clamps, divisors, sides]);
  const attrs = { batch: B, rows: P, cols: Q, divisors, sides, bound, clamps: [...clamps], key };
  return tf.engine().runKernel(FUSED_OUTER_UPDATE, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
