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

function factor(kind: OuterBoundSpec['kind'], dist: number, range: number, mu: number): number {
  switch (kind) {
    case 'hard':
      return dist >= 0 ? 1 : 0;
    case 'multiplicative':
      return dist;
    case 'scaled-multiplicative':
      return f(dist / range);
    case 'power':
      return f(Math.pow(dist, mu));
    case 'scaled-power':
      return f(Math.pow(f(dist / range), mu));
  }
}

function kernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo {
  const a = args.attrs as unknown as Attrs;
  const { batch: B, rows: P, cols: Q } = a;
  const T = a.divisors.length;
  const mem = new FusedMemory(args.backend);
  const wInfo = args.inputs.w!;
  const outInfo = mem.output([...wInfo.shape]);
  const w = mem.view(wInfo);
  const out = mem.view(outInfo);
  const size = P * Q;
  const s = scratchFor(size, T, Q);
  const { mask, list, idx } = s;
  let n = 0;
  // batch sums, event-driven: only (post ≠ 0, pre ≠ 0) pairs
  for (let t = 0; t < T; t++) {
    const post = mem.view(args.inputs[`post${t}`]!);
    const pre = mem.view(args.inputs[`pre${t}`]!);
    const acc = s.acc[t]!;
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
  }
  const bound = a.bound;
  const maxV = bound?.max !== undefined ? f(bound.max) : NaN;
  const minV = bound?.min !== undefined ? f(bound.min) : NaN;
  const range = bound?.max !== undefined && bound?.min !== undefined ? f(bound.max - bound.min) : NaN;
  const clampMin = a.clamps.map((c) => (c.min === undefined ? -Infinity : f(c.min)));
  const clampMax = a.clamps.map((c) => (c.max === undefined ? Infinity : f(c.max)));
  const C = a.clamps.length;
  const divisors = a.divisors.map((d) => f(d));
  const sides = a.sides;
  let hasPos = false;
  let hasNeg = false;
  for (const sd of sides) {
    if (sd > 0) hasPos = true;
    else hasNeg = true;
  }
  const accs = s.acc;
  const one = (e: number): number => {
    const wv = w[e]!;
    let pos = 0;
    let neg = 0;
    let firstPos = true;
    let firstNeg = true;
    for (let t = 0; t < T; t++) {
      let v = accs[t]![e]!;
      if (divisors[t] !== 1) v = f(v / divisors[t]!);
      if (sides[t]! > 0) {
        pos = firstPos ? v : f(pos + v);
        firstPos = false;
      } else {
        neg = firstNeg ? v : f(neg + v);
        firstNeg = false;
      }
    }
    let u: number;
    if (bound) {
      const up = hasPos ? (bound.boundsUpper ? f(factor(bound.kind, f(maxV - wv), range, bound.powerUpper) * pos) : pos) : 0;
      const lo = hasNeg ? (bound.boundsLower ? f(factor(bound.kind, f(wv - minV), range, bound.powerLower) * neg) : neg) : 0;
      u = hasPos && hasNeg ? f(up - lo) : hasPos ? up : -lo;
    } else {
      u = hasPos && hasNeg ? f(pos - neg) : hasPos ? pos : -neg;
    }
    let v = f(wv + u);
    for (let c = 0; c < C; c++) {
      v = Math.max(v, clampMin[c]!);
      v = Math.min(v, clampMax[c]!);
    }
    return v;
  };
  const copyOk = (!bound || bound.kind === 'hard' || bound.kind === 'multiplicative' || bound.kind === 'scaled-multiplicative') && clean.get(wInfo.dataId) === a.key;
  if (copyOk) {
    out.set(w);
    for (let k = 0; k < n; k++) {
      const e = list[k]!;
      out[e] = one(e);
    }
  } else {
    for (let e = 0; e < size; e++) out[e] = one(e);
  }
  // leave the scratch zeroed for the next call
  for (let k = 0; k < n; k++) {
    const e = list[k]!;
    mask[e] = 0;
    for (let t = 0; t < T; t++) accs[t]![e] = 0;
  }
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
  const key = JSON.stringify([bound, clamps]);
  const attrs = { batch: B, rows: P, cols: Q, divisors: terms.map((t) => t.divisor), sides: terms.map((t) => (t.side === 'pos' ? 1 : -1)), bound, clamps: [...clamps], key };
  return tf.engine().runKernel(FUSED_OUTER_UPDATE, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
