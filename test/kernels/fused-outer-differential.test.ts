// Randomized differential test of the fused outer-product weight update
// (src/kernels/js/fused-outer-update.ts and the SIMD form in fused-outer-simd.ts) against the op
// path it replaces (Accumulator: one matrix product per part over its divisor, Bounding.bind, add,
// then the Clamping hook's finite-only clamp per clamp), over chains of updates that feed each
// output back (the copy shortcut and the carried magnitude bound), on wasm and cpu: batches 1, 2,
// 3, 7, 20; shapes with and without multiples of 4; 1 to 3 parts; every bounding kind on either or
// both sides; no clamp, one or two; spike factors with none, one, all or some active.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { fusedOuterUpdate, type OuterBoundSpec, type OuterClamp, type OuterTerm } from '../../src/kernels/js/fused-outer-update.js';
import { Bounding } from '../../src/neural/bounding.js';

const backends = fusedBackends();

type Activity = 'none' | 'one' | 'all' | 'some';

function spikeFactor(rng: Rng, n: number, act: Activity, value = 1): Float32Array {
  const s = new Float32Array(n);
  if (act === 'all') s.fill(value);
  else if (act === 'one' && n > 0) s[rng.int(n)] = value;
  else if (act === 'some') for (let k = 0; k < n; k++) s[k] = rng.uniform() < 0.25 ? value : 0;
  return s;
}

function traceFactor(rng: Rng, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.uniform() < 0.2 ? 0 : scale * rng.uniform()));
}

interface Rule {
  name: string;
  bounding: { kind: 'hard' | 'multiplicative' | 'scaled-multiplicative' | 'power' | 'scaled-power'; max?: number; min?: number; side?: 'upper' | 'lower' | 'full'; power?: number } | null;
  clamps: OuterClamp[];
  /** Sides of the parts (each a spike ⊗ trace pair). */
  sides: ('pos' | 'neg')[];
  reduction: 'mean' | 'sum';
}

const RULES: Rule[] = [
  { name: 'pair rule, no bounding, no clamp', bounding: null, clamps: [], sides: ['pos', 'neg'], reduction: 'mean' },
  { name: 'pair rule, multiplicative upper, clamp ≥ 0', bounding: { kind: 'multiplicative', max: 1 }, clamps: [{ min: 0 }], sides: ['pos', 'neg'], reduction: 'mean' },
  { name: 'pair rule, multiplicative lower, clamp ≤ 0.9, sum', bounding: { kind: 'multiplicative', min: 0 }, clamps: [{ max: 0.9 }], sides: ['pos', 'neg'], reduction: 'sum' },
  { name: 'pair rule, multiplicative full, clamp [0.05, 0.95]', bounding: { kind: 'multiplicative', max: 1, min: 0 }, clamps: [{ min: 0.05, max: 0.95 }], sides: ['pos', 'neg'], reduction: 'mean' },
  { name: 'pair rule, no bounding, clamp [0, 1]', bounding: null, clamps: [{ min: 0, max: 1 }], sides: ['neg', 'pos'], reduction: 'mean' },
  { name: 'pair rule, hard bounds, two clamps', bounding: { kind: 'hard', max: 0.8, min: 0.1 }, clamps: [{ min: 0 }, { max: 0.85 }], sides: ['pos', 'neg'], reduction: 'mean' },
  { name: 'pair rule, scaled-multiplicative full', bounding: { kind: 'scaled-multiplicative', max: 1, min: 0 }, clamps: [], sides: ['pos', 'neg'], reduction: 'sum' },
  { name: 'pair rule, power μ = 2 upper', bounding: { kind: 'power', max: 1, power: 2 }, clamps: [{ min: 0 }], sides: ['pos', 'neg'], reduction: 'mean' },
  { name: 'pair rule, scaled-power full μ = 1.5', bounding: { kind: 'scaled-power', max: 1, min: 0, power: 1.5 }, clamps: [], sides: ['pos', 'neg'], reduction: 'mean' },
  { name: 'potentiation only, multiplicative upper', bounding: { kind: 'multiplicative', max: 1 }, clamps: [{ min: 0 }], sides: ['pos'], reduction: 'mean' },
  { name: 'depression only, no bounding, clamp ≥ 0', bounding: null, clamps: [{ min: 0 }], sides: ['neg'], reduction: 'sum' },
  { name: 'three parts, multiplicative upper', bounding: { kind: 'multiplicative', max: 1 }, clamps: [{ min: 0 }], sides: ['pos', 'neg', 'pos'], reduction: 'mean' },
  { name: 'two potentiating parts', bounding: null, clamps: [], sides: ['pos', 'pos'], reduction: 'mean' },
];

/** The op path: Σ per side of matMul(postᵀ, pre)/d, Bounding.bind (or pos − neg), add, finite-only clamps. */
function opUpdate(w: tf.Tensor, terms: OuterTerm[], bound: Bounding | null, clamps: OuterClamp[]): tf.Tensor {
  return tf.tidy(() => {
    const part = (t: OuterTerm) => {
      const m = tf.matMul(t.post, t.pre, true, false);
      return t.divisor === 1 ? m : tf.div(m, tf.scalar(t.divisor));
    };
    const sum = (side: 'pos' | 'neg') => {
      const ps = terms.filter((t) => t.side === side).map(part);
      return ps.length === 0 ? null : ps.reduce((a, b) => tf.add(a, b));
    };
    const pos = sum('pos');
    const neg = sum('neg');
    const u = bound ? bound.bind(w, pos, neg) : pos && neg ? tf.sub(pos, neg) : pos ? pos : tf.neg(neg!);
    let v = tf.add(w, u);
    for (const c of clamps) v = tf.where(tf.isFinite(v), tf.clipByValue(v, c.min ?? -Infinity, c.max ?? Infinity), v);
    return v;
  });
}

describe.each(backends)('fused outer-product update on %s: randomized against the op path', (backend) => {
  it.each(RULES.map((r) => [r.name, r] as [string, Rule]))('%s', async (_name, rule) => {
    await tf.setBackend(backend);
    const rng = new Rng(41 + RULES.indexOf(rule));
    // (the hybrid update keeps its bounds as cached scalars: counted from the second shape on)
    let before = -1;
    const bound = rule.bounding ? new Bounding(rule.bounding.kind, (({ kind: _kind, ...o }) => o)(rule.bounding)) : null;
    const spec: OuterBoundSpec | null = bound ? { kind: bound.kind, boundsUpper: bound.boundsUpper, boundsLower: bound.boundsLower, max: bound.max, min: bound.min, powerUpper: bound.powerUpper, powerLower: bound.powerLower } : null;
    for (const B of [1, 2, 3, 7, 20]) {
      for (const [P, Q] of [[1, 1], [3, 5], [4, 8], [7, 13], [12, 32], [13, 4]] as [number, number][]) {
        const w0 = Float32Array.from({ length: P * Q }, () => 0.1 + 0.8 * rng.uniform());
        let fu: tf.Tensor = tf.tensor2d(w0, [P, Q]);
        let op: tf.Tensor = tf.tensor2d(w0, [P, Q]);
        // a chain of updates, each output fed back: the copy shortcut and the carried bounds
        for (let step = 0; step < 6; step++) {
          const acts: Activity[] = ['some', 'none', 'one', 'all', 'some', 'some'];
          const parts = rule.sides.map((side, k) => {
            // alternate which factor spikes (post spikes ⊗ pre trace, post trace ⊗ pre spikes)
            const postSpikes = k % 2 === 0;
            const act = acts[(step + k) % acts.length]!;
            const post = postSpikes ? spikeFactor(rng, B * P, act) : traceFactor(rng, B * P, 0.3);
            const pre = postSpikes ? traceFactor(rng, B * Q, 0.05) : spikeFactor(rng, B * Q, act, k === 2 ? 0.5 : 1);
            return { post, pre, side };
          });
          const terms = (): OuterTerm[] => parts.map((p) => ({ post: tf.tensor2d(p.post, [B, P]), pre: tf.tensor2d(p.pre, [B, Q]), divisor: rule.reduction === 'mean' ? B : 1, side: p.side }));
          const tf1 = terms();
          const nf = fusedOuterUpdate(fu, tf1, spec, rule.clamps);
          const t2 = terms();
          const no = opUpdate(op, t2, bound, rule.clamps);
          for (const t of [...tf1, ...t2]) tf.dispose([t.post, t.pre]);
          const a = (await nf.data()) as Float32Array;
          const b = (await no.data()) as Float32Array;
          // tolerance: float32 rounding of the batch sums in another order, carried over the chain
          for (let e = 0; e < P * Q; e++) {
            if (!(Math.abs(a[e]! - b[e]!) <= 2e-6 * (step + 1) * Math.max(1, Math.abs(b[e]!)))) {
              expect.fail(`B=${B} [${P}, ${Q}] step ${step}: element ${e}: fused ${a[e]}, op path ${b[e]}`);
            }
          }
          fu.dispose();
          op.dispose();
          fu = nf;
          // the op path continues from the fused weights: errors do not pile up over the chain
          op = no;
        }
        tf.dispose([fu, op]);
        if (before < 0) before = tf.memory().numTensors;
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    bound?.dispose();
  });
});
