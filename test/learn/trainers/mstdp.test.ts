import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Bounding } from '../../../src/neural/bounding.js';
import { MSTDP } from '../../../src/learn/trainers/index.js';
import { LayerPool, PairReference, TestLayer, reduceBatch, values } from './harness.js';

const pool = new LayerPool();
const direct = (w: number) => pool.direct(1, w);
const dense = (i: number, o: number, batch: number) => pool.dense(i, o, batch);
afterEach(() => pool.disposeAll());
const w0 = (l: TestLayer) => values(l.connection.weight)[0]!;

function spikes(seed: number, n: number, p: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 < p ? 1 : 0;
  });
}

describe('MSTDP on one synapse (closed forms)', () => {
  const tau = 10;
  const e = Math.exp(-2 / tau);
  function pairing(reward: number, scale = 1, bounding?: Bounding): number {
    const l = direct(0.5);
    if (bounding) l.connection.updater.bound('weight', bounding);
    const m = new MSTDP({ lrPost: 0.1, lrPre: -0.05, tauPost: tau, tauPre: tau });
    m.register(l.cell);
    const pre = [1, 0, 0];
    const post = [0, 0, 1];
    for (let t = 0; t < 3; t++) {
      l.step([pre[t]!], [post[t]!]);
      m.step(reward, { scale });
      l.connection.update();
    }
    m.dispose();
    return w0(l);
  }

  it('Δw = |γ|·M·lrPost·exp(−Δt/τ) for a pre→post pairing', () => {
    expect(pairing(1)).toBeCloseTo(0.5 + 0.1 * e, 6);
    expect(pairing(2.5)).toBeCloseTo(0.5 + 2.5 * 0.1 * e, 6);
    expect(pairing(-1)).toBeCloseTo(0.5 - 0.1 * e, 6);
    expect(pairing(0)).toBeCloseTo(0.5, 7);
    expect(pairing(1, 0.5)).toBeCloseTo(0.5 + 0.05 * e, 6);
    expect(pairing(1, -0.5)).toBeCloseTo(0.5 + 0.05 * e, 6); // only |γ| matters
  });

  it('a negative reward routes the post term to depression (the lower bound scales it)', () => {
    // multiplicative full bound on [0, 2]: potentiation × (2 − w), depression × (w − 0); w = 0.5 at the pairing
    const b = new Bounding('multiplicative', { max: 2, min: 0 });
    expect(pairing(1, 1, b)).toBeCloseTo(0.5 + (2 - 0.5) * 0.1 * e, 6);
    expect(pairing(-1, 1, b)).toBeCloseTo(0.5 - (0.5 - 0) * 0.1 * e, 6);
    b.dispose();
  });
});

describe('MSTDP over a batch', () => {
  function run(reward: (t: number) => number | number[], reduction: 'sum' | 'mean' | undefined, lrPost: number, lrPre: number) {
    const B = 3;
    const l = dense(2, 2, B);
    const m = new MSTDP({ lrPost, lrPre, tauPost: 10, tauPre: 7, ...(reduction ? { batchReduction: reduction } : {}) });
    m.register(l.cell);
    const ref = new PairReference(B, 2, 2, 7, 10, Math.abs(lrPost), Math.abs(lrPre));
    const w = [[0, 0], [0, 0]];
    for (let t = 0; t < 30; t++) {
      const pre = spikes(t * 5 + 3, 2 * B, 0.4);
      const post = spikes(t * 17 + 1, 2 * B, 0.4);
      l.step(pre, post);
      const r = reward(t);
      const rt = Array.isArray(r) ? tf.tensor1d(r) : null;
      m.step(rt ?? (r as number));
      rt?.dispose();
      l.connection.update();
      const split = (a: number[]) => [a.slice(0, 2), a.slice(2, 4), a.slice(4, 6)];
      const { dpost, dpre } = ref.step(split(pre), split(post));
      if (!Array.isArray(r)) {
        const sp = Math.sign(lrPost);
        const sq = Math.sign(lrPre);
        const up = reduceBatch(dpost, reduction ?? 'sum');
        const dn = reduceBatch(dpre, reduction ?? 'sum');
        for (let j = 0; j < 2; j++) for (let i = 0; i < 2; i++) w[j]![i] += r * (sp * up[j]![i]! + sq * dn[j]![i]!);
      } else {
        // per-sample split: pos/neg collect the samples' terms; each side is reduced over its rows
        for (let j = 0; j < 2; j++) {
          for (let i = 0; i < 2; i++) {
            let pos = 0, neg = 0, nPos = 0, nNeg = 0;
            for (let b = 0; b < B; b++) {
              // a term potentiates when the sign of its rate agrees with the sign of the sample's reward
              const s = Math.abs(r[b]!);
              const postAgrees = (r[b]! >= 0) === (lrPost >= 0);
              const preAgrees = (r[b]! >= 0) === (lrPre >= 0);
              if (postAgrees) pos += s * dpost[b]![j]![i]!; else neg += s * dpost[b]![j]![i]!;
              if (preAgrees) pos += s * dpre[b]![j]![i]!; else neg += s * dpre[b]![j]![i]!;
              // Inferno concatenates the routed terms (torch.cat) and takes the mean over their rows
              nPos += Number(postAgrees) + Number(preAgrees);
              nNeg += Number(!postAgrees) + Number(!preAgrees);
            }
            if (reduction === 'mean') w[j]![i] += (nPos ? pos / nPos : 0) - (nNeg ? neg / nNeg : 0);
            else w[j]![i] += pos - neg;
          }
        }
      }
    }
    const got = values(l.connection.weight);
    m.dispose();
    return { got, want: w.flat() };
  }

  it('scalar reward, default batch sum', () => {
    const { got, want } = run((t) => (t < 15 ? 1 : -0.5), undefined, 0.05, -0.03);
    for (let k = 0; k < 4; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThan(1e-6);
    expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(0.01);
  });

  it('scalar reward, batch mean', () => {
    const { got, want } = run((t) => (t % 3 === 0 ? -1 : 2), 'mean', 0.05, -0.03);
    for (let k = 0; k < 4; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThan(1e-6);
  });

  it.each([
    ['hebbian', 'sum', 0.05, -0.03],
    ['hebbian', 'mean', 0.05, -0.03],
    ['potentiative', 'sum', 0.05, 0.03],
    ['potentiative', 'mean', 0.05, 0.03],
    ['depressive', 'mean', -0.05, -0.03],
  ] as const)('per-sample rewards with mixed signs (%s, %s)', (_n, how, lrPost, lrPre) => {
    const { got, want } = run((t) => [1, -0.5, t % 2 ? 2 : -1], how, lrPost, lrPre);
    for (let k = 0; k < 4; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThan(1e-6);
    expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(0.005);
  });

  it('per-sample rewards with sum equal Σ_b M_b·(dpost_b − dpre_b) (Hebbian net form)', () => {
    const l = dense(1, 1, 2);
    const m = new MSTDP({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10 });
    m.register(l.cell);
    l.step([1, 1], [0, 0]);
    m.step(0);
    l.step([0, 0], [1, 1]); // both samples: dpost = e^{-0.1}
    const r = tf.tensor1d([2, -0.5]);
    m.step(r);
    l.connection.update();
    expect(w0(l)).toBeCloseTo((2 - 0.5) * Math.exp(-0.1), 6);
    r.dispose();
    m.dispose();
  });

  it('rejects bad rewards', () => {
    const l = dense(1, 1, 2);
    const m = new MSTDP({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10 });
    m.register(l.cell);
    l.step([1, 1], [1, 0]);
    expect(() => m.step(NaN)).toThrow(/reward/);
    const bad = tf.tensor1d([1, 2, 3]);
    expect(() => m.step(bad)).toThrow(/reward/);
    bad.dispose();
    expect(() => m.step(1, { scale: Infinity })).toThrow(/scale/);
    const m2 = new MSTDP({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10, batchReduction: (x) => tf.max(x, 0) });
    m2.register(l.cell);
    l.step([1, 1], [1, 0]);
    const r = tf.tensor1d([1, -1]);
    expect(() => m2.step(r)).toThrow(/batchReduction/);
    r.dispose();
    m.dispose();
    m2.dispose();
  });
});
