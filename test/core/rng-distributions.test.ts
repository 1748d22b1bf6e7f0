// Rng draws beyond the first moments of core-basics: the float32 arrays stay below hi, int(n) is
// uniform over [0, n), forks are reproducible and uncorrelated, and a NaN Poisson mean is rejected
// (it looped for ever) without moving the stream.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random.js';
import { LaneRng } from '../../src/kernels/js/event-network.js';
import { CinderArgumentError } from '../../src/core/errors.js';

const f = Math.fround;

describe('Rng.uniformArray', () => {
  it('stays below hi when f(lo + (hi − lo)·u) rounds up to hi (seed 41690, draw 957: u > 1 − 2⁻²⁵)', () => {
    const u = new Rng(41690);
    const raw = Array.from({ length: 958 }, () => u.uniform());
    expect(raw[957]).toBeGreaterThan(1 - 2 ** -25);
    expect(f(raw[957]!)).toBe(1);
    const a = new Rng(41690).uniformArray(958);
    // every other value is the plain float32 of the draw; the one that rounded to 1 is 1 − 2⁻²⁴
    for (let i = 0; i < 957; i++) expect(a[i]).toBe(f(raw[i]!));
    expect(a[957]).toBe(1 - 2 ** -24);
    // the same draw scaled into [−3, 5): f(−3 + 8·u) = 5 becomes the float32 below 5
    const b = new Rng(41690).uniformArray(958, -3, 5);
    expect(b[957]).toBe(5 - 2 ** -21);
    expect(Math.max(...b)).toBeLessThan(5);
    const t = new Rng(41690).uniformTensor([958]);
    expect(Math.max(...(t.dataSync() as Float32Array))).toBe(1 - 2 ** -24);
    t.dispose();
  });

  it('has mean (lo + hi)/2 and variance (hi − lo)²/12 within 4 standard errors over 2·10⁵ values', () => {
    const n = 200_000;
    const a = new Rng(5).uniformArray(n, 2, 6);
    let s = 0;
    let s2 = 0;
    for (const x of a) {
      s += x;
      s2 += x * x;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    // Var(x) = 16/12; the sample variance's standard error is sqrt((μ4 − σ⁴)/n), μ4 = 16²/80
    expect(Math.abs(mean - 4)).toBeLessThan(4 * Math.sqrt(16 / 12 / n));
    expect(Math.abs(variance - 16 / 12)).toBeLessThan(4 * Math.sqrt((256 / 80 - (16 / 12) ** 2) / n));
  });
});

describe('Rng.int and Bernoulli draws', () => {
  it('int(n) covers [0, n) evenly: χ² over 7 bins below its 0.999 quantile, min 0, max n − 1', () => {
    const r = new Rng(11);
    const n = 7;
    const N = 70_000;
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < N; i++) {
      const k = r.int(n);
      expect(Number.isInteger(k) && k >= 0 && k < n).toBe(true);
      counts[k]!++;
    }
    const e = N / n;
    const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(22.46); // χ²(6) 0.999 quantile
    expect(Math.min(...counts)).toBeGreaterThan(0);
  });

  it('int(n) refuses an n outside the integers 1 … 2³² (int(0) gave 0, int(2.5) gave 2), drawing nothing', () => {
    for (const make of [() => new Rng(5), () => new LaneRng(5)]) {
      const r = make();
      for (const bad of [0, -3, 2.5, NaN, Infinity, 2 ** 32 + 1]) {
        expect(() => r.int(bad)).toThrow(new RegExp(`invalid n: got ${String(bad)}, expected an integer in \\[1, 2\\^32\\]`));
      }
      const fresh = make();
      expect([r.int(10), r.int(10), r.uniform()]).toEqual([fresh.int(10), fresh.int(10), fresh.uniform()]);
    }
  });

  it('uniform() < p is Bernoulli(p): mean p, variance p(1 − p) within 4 standard errors', () => {
    const r = new Rng(12);
    const N = 100_000;
    const p = 0.137;
    let k = 0;
    for (let i = 0; i < N; i++) if (r.uniform() < p) k++;
    expect(Math.abs(k / N - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / N));
  });
});

describe('Rng.fork', () => {
  it('is reproducible from the parent seed and position; parent and child streams are uncorrelated', () => {
    const a = new Rng(9);
    const b = new Rng(9);
    const ca = a.fork();
    const cb = b.fork();
    expect(ca.seed).toBe(cb.seed);
    expect(Array.from(ca.uniformArray(50))).toEqual(Array.from(cb.uniformArray(50)));
    // a second fork differs from the first
    const c2 = a.fork();
    expect(c2.seed).not.toBe(ca.seed);
    // correlation of paired draws (parent vs child, child vs second child) within 4/sqrt(n)
    const n = 50_000;
    const corr = (x: Rng, y: Rng) => {
      let sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0;
      for (let i = 0; i < n; i++) {
        const u = x.uniform();
        const v = y.uniform();
        sx += u; sy += v; sxy += u * v; sxx += u * u; syy += v * v;
      }
      const cov = sxy / n - (sx / n) * (sy / n);
      return cov / Math.sqrt((sxx / n - (sx / n) ** 2) * (syy / n - (sy / n) ** 2));
    };
    expect(Math.abs(corr(a, ca))).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(corr(ca, c2))).toBeLessThan(4 / Math.sqrt(n));
  });
});

describe('Rng.poisson', () => {
  it('rejects a NaN mean with CinderArgumentError before drawing (the stream continues unchanged); ≤ 0 gives 0', () => {
    const r = new Rng(4);
    r.uniform();
    const before = r.getState();
    expect(() => r.poisson(NaN)).toThrow(CinderArgumentError);
    expect(() => r.poisson(NaN)).toThrow(/invalid lambda: got NaN, expected a number/);
    expect(r.getState()).toEqual(before);
    expect(r.poisson(0)).toBe(0);
    expect(r.poisson(-2)).toBe(0);
    expect(r.getState()).toEqual(before);
  });

  it('+Infinity gives +Infinity, as documented, without drawing (it gave NaN for about half the draws)', () => {
    const r = new Rng(5);
    const before = r.getState();
    for (let i = 0; i < 20; i++) expect(r.poisson(Infinity)).toBe(Infinity);
    expect(r.getState()).toEqual(before);
  });

  it('large means (the rejection branch, ln k! in constant time): integer draws whose mean and variance are λ within 4 standard errors, λ = 30 … 1e12', () => {
    const r = new Rng(6);
    const n = 4000;
    for (const lambda of [30, 47.5, 1e3, 1e6, 1e9, 1e12]) {
      let s = 0;
      let ss = 0;
      for (let i = 0; i < n; i++) {
        const k = r.poisson(lambda);
        expect(Number.isInteger(k) && k >= 0).toBe(true);
        const d = k - lambda;
        s += d;
        ss += d * d;
      }
      const mean = s / n; // E = 0, sd sqrt(λ/n)
      const variance = ss / n - mean * mean; // E ≈ λ, sd ≈ λ·sqrt(2/n) (the excess kurtosis 1/λ is small)
      expect(Math.abs(mean), `mean at λ = ${lambda}`).toBeLessThan(4 * Math.sqrt(lambda / n));
      expect(Math.abs(variance / lambda - 1), `variance at λ = ${lambda}`).toBeLessThan(4 * Math.sqrt(2 / n));
    }
  });
});
