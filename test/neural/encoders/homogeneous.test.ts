import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { HomogeneousPoissonEncoder, PoissonApproxEncoder, PoissonIntervalEncoder } from '../../../src/neural/encoders/index.js';
import { bernoulliSE, intervals, rows, spikeFraction } from './helpers.js';

const S = 1000; // steps
const N = 100; // trains  -> 1e5 (step, train) samples

function constantInputs(x: number): tf.Tensor {
  return tf.fill([1, N], x);
}

/**
 * Standard error of the spike fraction of N stationary renewal trains over S steps whose intervals
 * are r + Exp(s) steps: count variance per train ≈ S·s²/μ³ (μ = r + s).
 */
function renewalSE(r: number, s: number): number {
  const mu = r + s;
  return Math.sqrt((N * S * s * s) / mu ** 3) / (N * S);
}

describe('HomogeneousPoissonEncoder', () => {
  const frequency = 500;
  for (const f of [20, 100, 250]) {
    it(`fires at ${f} Hz (default refrac = dt, compensated) within 3 standard errors`, () => {
      const enc = new HomogeneousPoissonEncoder({ steps: S, dt: 1, frequency, rng: new Rng(11) });
      const x = constantInputs(f / frequency);
      const train = enc.encode(x);
      expect(train.shape).toEqual([S, 1, N]);
      expect(train.dtype).toBe('float32');
      const p = (f * 1) / 1000; // spikes per step
      const mu = 1000 / f; // mean interval, steps
      const se = renewalSE(1, mu - 1);
      expect(Math.abs(spikeFraction(train) - p)).toBeLessThan(3 * se);
      expect(enc.expectedRate(f)).toBe(f);
      tf.dispose([x, train]);
    });
  }

  it('honours a user refractory period: no interval shorter than refrac, rate compensated', () => {
    const dt = 0.5;
    const refrac = 3; // ms = 6 steps
    const f = 120;
    const enc = new HomogeneousPoissonEncoder({ steps: 2 * S, dt, frequency: 200, refrac, rng: new Rng(3) });
    const x = constantInputs(f / 200);
    const train = enc.encode(x);
    const isi = intervals(train);
    expect(Math.min(...isi)).toBe(refrac / dt);
    const mu = 1000 / (f * dt); // steps
    const se = Math.sqrt((N * 2 * S * (mu - 6) ** 2) / mu ** 3) / (N * 2 * S);
    expect(Math.abs(spikeFraction(train) - 1 / mu)).toBeLessThan(3 * se);
    // mean ISI matches the compensated mean interval 1000/f ms (SE of a mean of exponentials)
    const meanIsi = isi.reduce((a, b) => a + b, 0) / isi.length;
    expect(Math.abs(meanIsi - mu)).toBeLessThan(3 * (mu - 6) / Math.sqrt(isi.length) + 0.5);
    tf.dispose([x, train]);
  });

  it('without compensation the rate is f/(1 + f·refrac/1000)', () => {
    const f = 200;
    const refrac = 2;
    const enc = new HomogeneousPoissonEncoder({ steps: S, dt: 1, frequency: f, refrac, compensate: false, rng: new Rng(5) });
    const x = constantInputs(1);
    const train = enc.encode(x);
    const expected = f / (1 + (f * refrac) / 1000); // Hz
    expect(enc.expectedRate(f)).toBeCloseTo(expected, 12);
    const s = 1000 / f; // steps, exponential part
    expect(Math.abs(spikeFraction(train) - expected / 1000)).toBeLessThan(3 * renewalSE(refrac, s));
    tf.dispose([x, train]);
  });

  it('with refrac = 0 is a Poisson process: P(spike in a step) = 1 − exp(−f·dt/1000)', () => {
    const f = 400;
    const enc = new HomogeneousPoissonEncoder({ steps: S, dt: 1, frequency: f, refrac: 0, rng: new Rng(9) });
    const x = constantInputs(1);
    const train = enc.encode(x);
    const p = 1 - Math.exp(-f / 1000);
    expect(Math.abs(spikeFraction(train) - p)).toBeLessThan(3 * bernoulliSE(p, S * N));
    tf.dispose([x, train]);
  });

  it('gives zero input no spikes and mixes rates per element', () => {
    const enc = new HomogeneousPoissonEncoder({ steps: 2000, dt: 1, frequency: 100, rng: new Rng(1) });
    const x = tf.tensor2d([[0, 1]]);
    const { S: s, data } = rows(enc.encode(x));
    let c0 = 0, c1 = 0;
    for (let k = 0; k < s; k++) { c0 += data[2 * k]!; c1 += data[2 * k + 1]!; }
    expect(c0).toBe(0);
    // one train of 2000 steps at p = 0.1: renewal SE of the count sqrt(S·s²/μ³) with μ = 10, s = 9
    expect(Math.abs(c1 - 200)).toBeLessThan(3 * Math.sqrt((2000 * 81) / 1000));
    x.dispose();
  });
});

describe('PoissonApproxEncoder', () => {
  for (const [f, dt] of [[10, 1], [150, 1], [300, 0.5]] as const) {
    it(`spikes with p = f·dt/1000 (f = ${f} Hz, dt = ${dt} ms)`, () => {
      const enc = new PoissonApproxEncoder({ steps: S, dt, frequency: 400, rng: new Rng(21) });
      const x = constantInputs(f / 400);
      const train = enc.encode(x);
      const p = (f * dt) / 1000;
      expect(Math.abs(spikeFraction(train) - p)).toBeLessThan(3 * bernoulliSE(p, S * N));
      tf.dispose([x, train]);
    });
  }
});

describe('PoissonIntervalEncoder', () => {
  for (const f of [100, 250]) {
    it(`has mean ISI m + e^−m and P(ISI = 1) = e^−m(1 + m) (f = ${f} Hz, m = ${1000 / f})`, () => {
      const enc = new PoissonIntervalEncoder({ steps: 2 * S, dt: 1, frequency: 250, rng: new Rng(4) });
      const x = constantInputs(f / 250);
      const train = enc.encode(x);
      const isi = intervals(train);
      const m = 1000 / f;
      const mean = m + Math.exp(-m);
      const variance = m + m * m + Math.exp(-m) - mean * mean; // X = max(Poisson(m), 1)
      const meanIsi = isi.reduce((a, b) => a + b, 0) / isi.length;
      expect(enc.expectedInterval(f)).toBeCloseTo(mean, 12);
      expect(Math.abs(meanIsi - mean)).toBeLessThan(3 * Math.sqrt(variance / isi.length));
      const p1 = Math.exp(-m) * (1 + m);
      const frac1 = isi.filter((d) => d === 1).length / isi.length;
      expect(Math.abs(frac1 - p1)).toBeLessThan(3 * bernoulliSE(p1, isi.length));
      expect(Math.min(...isi)).toBeGreaterThanOrEqual(1);
      tf.dispose([x, train]);
    });
  }

  it('does not pile spikes onto the last step', () => {
    const enc = new PoissonIntervalEncoder({ steps: 50, dt: 1, frequency: 20, rng: new Rng(8) }); // m = 50 steps
    const x = constantInputs(1);
    const { S: s, data } = rows(enc.encode(x));
    let last = 0;
    for (let i = 0; i < N; i++) last += data[(s - 1) * N + i]!;
    // P(spike at the last step) is small (≈ P(first interval = 50) ≈ 0.056); Inferno's clamp made it 1
    expect(last).toBeLessThan(20);
    x.dispose();
  });
});
