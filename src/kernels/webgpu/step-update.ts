/**
 * The updater's two-phase weight update of a dense `[P, Q]` parameter from pending outer-product
 * parts, as WGSL on tfjs's webgpu backend: the batch sums, the bounding, the add and the clamping
 * hooks in one program (one invocation per weight), instead of a matrix product per part, the
 * bounding algebra, the add and the clamps as separate kernels (≈ 10 dispatches per step). The same
 * arithmetic as the wasm/cpu kernel (`../js/fused-outer-update.ts`), per weight w:
 *
 * `A_t = (Σ_b post_t[b, p]·pre_t[b, q]) / d_t`, `Σpos = Σ_{t+} A_t`, `Σneg = Σ_{t−} A_t` (a missing
 * side counts as 0); with a bounding `u = f_up(max − w)·Σpos − f_lo(w − min)·Σneg` (each factor
 * only on a bounded side; hard: `[dist ≥ 0]`, multiplicative: `dist`, scaled: `dist/(max − min)`,
 * power kinds: `dist^μ`, with IEEE `pow`'s value for a negative `dist` as the op path: see
 * `powCode`), else `u = Σpos − Σneg`; `w ← clamp_k(…clamp_1(w + u))` where each clamp leaves ±∞
 * and NaN as they are (the `Clamping` hook's rule).
 *
 * Where `./step-route.ts` says so (up to 32 samples on a software adapter, up to 2²⁷ multiply-adds
 * B·P·Q per part on a GPU) the batch sums run inside the program (B multiply-adds per part and weight,
 * float32 in sample order): one dispatch. Larger products take one tfjs matrix product per part
 * (tiled, far fewer loads per multiply-add) and the program reads the sums: parts + 1 dispatches. The sums are accumulated in another order than the op path's product, so results
 * equal it within float32 rounding.
 *
 * The program binds its output, w and per part post and pre (in-program sums) or the product:
 * 2 + 2·parts or 2 + parts storage buffers, at most the device's maxStorageBuffersPerShaderStage
 * (8 on tfjs's device; more would make an invalid pipeline whose output reads as zeros). Parts
 * pile up when an update follows several steps (a pair rule adds two per step), so the products
 * are taken from 4 parts on, and {@link outerUpdateFits} says when not even they fit (the caller
 * keeps the op path).
 * @module
 */
import { tf } from '../../core/tf.js';
import { KernelSetting } from '../setting.js';
import type { OuterBoundSpec, OuterClamp, OuterTerm } from '../js/fused-outer-update.js';
import { keyNum, lit, programKey, runElementwise } from './step-program.js';
import { storageBufferLimit } from './step-dispatch.js';
import { ownProductRoute } from './step-route.js';

const directMax = new KernelSetting<number | null>(null);

/**
 * Sets the largest batch summed inside the update program (tests take the matrix-product route at
 * small B; null: by `./step-route.ts`, the default); returns the previous setting.
 */
export function setOuterDirectMaxBatch(n: number | null): number | null {
  return directMax.set(n);
}

const MAX_F32 = lit(3.4028234663852886e38);

/**
 * WGSL for `x^μ` (μ > 0 rounded to float32, as the op path's exponent) with IEEE `pow`'s values for
 * every base, as the op path's `tf.pow`: WGSL's `pow(x, μ)` is undefined for x < 0 (SwiftShader
 * gives |x|^μ), so the power is taken of |x| and, for a negative base, an odd integer μ copies x's
 * sign onto it (−0 and −∞ included), an even one keeps it, and a non-integer μ gives NaN for a
 * finite x < 0 (+∞ for −∞, +0 for −0). μ = 1 is x itself and μ = 2 is x·x, bit for bit the op
 * path's (a float32 square rounds once either way). `x` (a side-effect-free expression) appears several times.
 */
function powCode(x: string, mu: number): string {
  const m = Math.fround(mu);
  if (m === 1) return x;
  if (m === 2) return `(${x} * ${x})`;
  const mag = `pow(abs(${x}), ${lit(m)})`;
  if (Number.isInteger(m)) return m % 2 === 1 ? `bitcast<f32>(bitcast<u32>(${mag}) | (bitcast<u32>(${x}) & 0x80000000u))` : mag;
  // a NaN made at run time (a NaN constant is a WGSL shader-creation error)
  return `select(${mag}, bitcast<f32>(bitcast<u32>(${x}) | 0x7fc00000u), ${x} < 0.0 && ${x} >= -${MAX_F32})`;
}

function factorCode(kind: OuterBoundSpec['kind'], dist: string, mu: number, range: string): string {
  switch (kind) {
    case 'hard':
      return `select(0.0, 1.0, ${dist} >= 0.0)`;
    case 'multiplicative':
      return dist;
    case 'scaled-multiplicative':
      return `(${dist} / ${range})`;
    case 'power':
      return powCode(dist, mu);
    case 'scaled-power':
      return powCode(`(${dist} / ${range})`, mu);
  }
}

/** Whether {@link outerUpdateWebgpu} can bind `parts` pending parts on this device (2 + parts storage buffers). */
export function outerUpdateFits(parts: number): boolean {
  return 2 + parts <= storageBufferLimit();
}

/**
 * One fused update on webgpu: returns the new parameter (a new tensor); check
 * {@link outerUpdateFits} first. `terms` hold float32
 * factors with `B·P` and `B·Q` elements; clamps in hook order.
 */
export function outerUpdateWebgpu(w: tf.Tensor, terms: readonly OuterTerm[], bound: OuterBoundSpec | null, clamps: readonly OuterClamp[]): tf.Tensor {
  const [P, Q] = w.shape as [number, number];
  const B = terms.length ? terms[0]!.post.size / P : 1;
  const summed = !ownProductRoute(B, B * P * Q, directMax.get()) || 2 + 2 * terms.length > storageBufferLimit();
  const names = ['w'];
  const inputs: tf.Tensor[] = [w];
  const temps: tf.Tensor[] = [];
  terms.forEach((t, k) => {
    if (summed) {
      const m = tf.tidy(() => tf.matMul(tf.reshape(t.post, [B, P]), tf.reshape(t.pre, [B, Q]), true, false));
      temps.push(m);
      names.push(`sum${k}`);
      inputs.push(m);
    } else {
      names.push(`post${k}`, `pre${k}`);
      inputs.push(t.post, t.pre);
    }
  });
  const key = programKey('cinder-update', P, Q, B, summed, bound, clamps, terms.map((t) => `${t.side}${keyNum(t.divisor)}`).join(','));
  const code = () => {
    const lines = [`let p = index / ${Q}; let q = index - p * ${Q};`, `let wv = f32(w[index]);`];
    let firstPos = true;
    let firstNeg = true;
    lines.push(`var pos = 0.0; var neg = 0.0;`);
    terms.forEach((t, k) => {
      if (summed) {
        lines.push(`var a${k} = f32(sum${k}[index]);`);
      } else {
        lines.push(`var a${k} = 0.0;`);
        lines.push(`for (var b = 0; b < ${B}; b++) { a${k} = a${k} + f32(post${k}[b * ${P} + p]) * f32(pre${k}[b * ${Q} + q]); }`);
      }
      if (t.divisor !== 1) lines.push(`a${k} = a${k} / ${lit(t.divisor)};`);
      if (t.side === 'pos') {
        lines.push(firstPos ? `pos = a${k};` : `pos = pos + a${k};`);
        firstPos = false;
      } else {
        lines.push(firstNeg ? `neg = a${k};` : `neg = neg + a${k};`);
        firstNeg = false;
      }
    });
    const hasPos = !firstPos;
    const hasNeg = !firstNeg;
    let up = 'pos';
    let lo = 'neg';
    if (bound) {
      const range = bound.max !== undefined && bound.min !== undefined ? lit(bound.max - bound.min) : '1.0';
      if (bound.boundsUpper) up = `${factorCode(bound.kind, `(${lit(bound.max!)} - wv)`, bound.powerUpper, range)} * pos`;
      if (bound.boundsLower) lo = `${factorCode(bound.kind, `(wv - ${lit(bound.min!)})`, bound.powerLower, range)} * neg`;
    }
    lines.push(`let u = ${hasPos && hasNeg ? `${up} - ${lo}` : hasPos ? up : `-(${lo})`};`);
    lines.push(`var v = wv + u;`);
    for (const c of clamps) {
      // finite values only: ±∞ and NaN pass (a NaN fails both comparisons)
      if (c.max !== undefined) lines.push(`if (v > ${lit(c.max)} && v <= ${MAX_F32}) { v = ${lit(c.max)}; }`);
      if (c.min !== undefined) lines.push(`if (v < ${lit(c.min)} && v >= -${MAX_F32}) { v = ${lit(c.min)}; }`);
    }
    lines.push(`result[index] = v;`);
    return { decls: '', body: lines.join('\n') };
  };
  const out = runElementwise(key, [P, Q], P * Q, names, inputs, code);
  for (const t of temps) t.dispose();
  return out;
}
