// Initialisers: seeded statistics (tolerances from the sample size) and values that float32 can hold.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { constantInit, normalInit, uniformInit } from '../../../src/neural/connections/index.js';
import { vals } from './helpers.js';

const N = 20000;

describe('initialisers: distributions (seeded, N = 20000)', () => {
  it('uniformInit(lo, hi): every value in [lo, hi); Kolmogorov–Smirnov distance below 1.95/√N (α = 0.001); mean within 4σ/√N', () => {
    const [lo, hi] = [-0.3, 0.7];
    const t = uniformInit(new Rng(11), lo, hi)([100, N / 100]);
    const v = vals(t).sort((a, b) => a - b);
    expect(v[0]!).toBeGreaterThanOrEqual(lo);
    expect(v[N - 1]!).toBeLessThan(hi);
    let ks = 0;
    for (let i = 0; i < N; i++) {
      const F = (v[i]! - lo) / (hi - lo);
      ks = Math.max(ks, Math.abs(F - i / N), Math.abs(F - (i + 1) / N));
    }
    expect(ks).toBeLessThan(1.95 / Math.sqrt(N));
    const mean = v.reduce((a, b) => a + b, 0) / N;
    expect(Math.abs(mean - (lo + hi) / 2)).toBeLessThan((4 * (hi - lo)) / Math.sqrt(12) / Math.sqrt(N));
    t.dispose();
  });

  it('normalInit(mean, std): sample mean within 4σ/√N, sample variance within 4·σ²·√(2/N), 3σ tail fraction within 4 binomial SDs of 0.0027', () => {
    const [mu, sd] = [1.5, 0.4];
    const t = normalInit(new Rng(12), mu, sd)([N]);
    const v = vals(t);
    const mean = v.reduce((a, b) => a + b, 0) / N;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (N - 1);
    expect(Math.abs(mean - mu)).toBeLessThan((4 * sd) / Math.sqrt(N));
    expect(Math.abs(variance - sd * sd)).toBeLessThan(4 * sd * sd * Math.sqrt(2 / N));
    const p = 0.0026998;
    const tail = v.filter((x) => Math.abs(x - mu) > 3 * sd).length / N;
    expect(Math.abs(tail - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / N));
    t.dispose();
  });

  it('the same seed gives the same values; constantInit fills exactly', () => {
    const a = uniformInit(new Rng(3))([5]);
    const b = uniformInit(new Rng(3))([5]);
    expect(vals(a)).toEqual(vals(b));
    const c = constantInit(-0.25)([2, 2]);
    expect(vals(c)).toEqual([-0.25, -0.25, -0.25, -0.25]);
    tf.dispose([a, b, c]);
  });
});

describe('initialisers: values beyond float32 range are refused (they would be stored as ±Infinity)', () => {
  it.each([
    ['constantInit(1e39)', () => constantInit(1e39), /invalid value: got 1e\+39/],
    ['uniformInit lo = -1e39', () => uniformInit(new Rng(0), -1e39, 0), /invalid lo: got -1e\+39/],
    ['uniformInit hi = 1e39', () => uniformInit(new Rng(0), 0, 1e39), /invalid hi: got 1e\+39/],
    ['normalInit mean = -1e39', () => normalInit(new Rng(0), -1e39, 1), /invalid mean: got -1e\+39/],
    ['normalInit std = 1e39', () => normalInit(new Rng(0), 0, 1e39), /invalid std: got 1e\+39/],
  ])('%s', (_name, make, msg) => {
    expect(make).toThrow(CinderArgumentError);
    expect(make).toThrow(msg);
  });

  it('the largest float32 itself is accepted', () => {
    const t = constantInit(-3.4028234663852886e38)([1]);
    expect(vals(t)[0]).toBe(-3.4028234663852886e38);
    t.dispose();
  });
});
