// HomogeneousPoissonEncoder: how a train starts. The spike probability of every step and the
// distribution of the first spike's step are checked against closed forms of the renewal process
// with intervals r + Exp(s) (in steps), computed here in float64:
// - start 'event' (Inferno's homogeneous_poisson_exp_interval): events at T_j = j·r + Γ_j (Γ_j a sum
//   of j exponentials of mean s), spike at ⌊T_j⌋; P(spike at k) = Σ_j P(Γ_j ∈ [k − j·r, k + 1 − j·r))
//   (r >= 1: at most one event per step), P(first spike at k) = P(r + E ∈ [k, k + 1)).
// - start 'stationary': first event Y with density P(X > y)/μ (μ = r + s), P(spike at k) = 1/μ.
// Each check is per step over N independent trains: |fraction − p| < 4.5·sqrt(p(1 − p)/N), and
// exactly 0 where p = 0. Seeded, so deterministic.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/random.js';
import { HomogeneousPoissonEncoder, type PoissonStart } from '../../../src/neural/encoders/index.js';

const N = 100_000; // trains

/** P(Γ(j, s) <= x): Erlang CDF, 1 − e^{−x/s}·Σ_{n<j} (x/s)^n/n!. */
function erlangCdf(j: number, x: number, s: number): number {
  if (x <= 0) return 0;
  const y = x / s;
  let term = 1;
  let acc = 0;
  for (let n = 0; n < j; n++) {
    acc += term;
    term *= y / (n + 1);
  }
  return 1 - Math.exp(-y) * acc;
}

/** Closed-form spike probability of each step and first-spike-step distribution, in float64. */
function closedForm(start: PoissonStart, r: number, s: number, steps: number): { spike: number[]; first: number[] } {
  const mu = r + s;
  const spike: number[] = [];
  const first: number[] = [];
  if (start === 'event') {
    const F = (x: number) => (x > 0 ? 1 - Math.exp(-x / s) : 0); // P(E <= x)
    for (let k = 0; k < steps; k++) {
      let p = 0;
      for (let j = 1; j * r < k + 1; j++) p += erlangCdf(j, k + 1 - j * r, s) - erlangCdf(j, k - j * r, s);
      spike.push(p);
      first.push(F(k + 1 - r) - F(k - r));
    }
  } else {
    // equilibrium forward recurrence time: CDF y/μ on [0, r), r/μ + (s/μ)(1 − e^{−(y − r)/s}) after
    const H = (y: number) => (y < r ? y / mu : r / mu + (s / mu) * (1 - Math.exp(-(y - r) / s)));
    for (let k = 0; k < steps; k++) {
      spike.push(1 / mu);
      first.push(H(k + 1) - H(k));
    }
  }
  return { spike, first };
}

/** Spike fraction of every step and fraction of trains whose first spike is at each step. */
function observed(train: Float32Array, steps: number): { spike: number[]; first: number[]; both: number[] } {
  const spike = new Array<number>(steps).fill(0);
  const first = new Array<number>(steps).fill(0);
  const both = new Array<number>(steps).fill(0); // trains 2i and 2i + 1 spiking together
  const seen = new Uint8Array(N);
  for (let k = 0; k < steps; k++) {
    for (let i = 0; i < N; i++) {
      if (train[k * N + i] !== 1) continue;
      spike[k]! += 1 / N;
      if (!seen[i]) {
        seen[i] = 1;
        first[k]! += 1 / N;
      }
      if (i % 2 === 0 && train[k * N + i + 1] === 1) both[k]! += 2 / N;
    }
  }
  return { spike, first, both };
}

function expectClose(obs: number[], p: number[], n: number, what: string): void {
  for (let k = 0; k < p.length; k++) {
    if (p[k] === 0) {
      expect(obs[k], `${what} at step ${k}`).toBe(0);
      continue;
    }
    const se = Math.sqrt((p[k]! * (1 - p[k]!)) / n);
    expect(Math.abs(obs[k]! - p[k]!), `${what} at step ${k}: ${obs[k]} vs ${p[k]}`).toBeLessThan(4.5 * se);
  }
}

const cases = [
  // Inferno's quickstart encoder: 128 Hz, Δt = 1 ms, refrac = Δt, compensated: r = 1, s = 1000/128 − 1 steps
  { name: '128 Hz, dt 1, refrac = dt, compensated', steps: 30, dt: 1, frequency: 128, opts: {}, r: 1, s: 1000 / 128 - 1 },
  // refrac 1.25 ms at Δt = 0.5 ms (r = 2.5 steps), 80 Hz uncompensated: s = 1000/(80·0.5) = 25 steps
  { name: '80 Hz, dt 0.5, refrac 1.25 ms, uncompensated', steps: 60, dt: 0.5, frequency: 80, opts: { refrac: 1.25, compensate: false }, r: 2.5, s: 25 },
];

describe('HomogeneousPoissonEncoder start', () => {
  for (const start of ['event', 'stationary'] as const) {
    for (const c of cases) {
      it(`${start}: P(spike at step k), first-spike step and pairwise independence match the closed form (${c.name})`, () => {
        const enc = new HomogeneousPoissonEncoder({ steps: c.steps, dt: c.dt, frequency: c.frequency, rng: new Rng(17), start, ...c.opts });
        const train = enc.encodeArray(new Float32Array(N).fill(1));
        const obs = observed(train, c.steps);
        const ref = closedForm(start, c.r, c.s, c.steps);
        expectClose(obs.spike, ref.spike, N, 'spike fraction');
        expectClose(obs.first, ref.first, N, 'first-spike fraction');
        // trains are independent: P(two trains spike at step k) = p_k² (N/2 pairs)
        expectClose(obs.both, ref.spike.map((p) => p * p), N / 2, 'joint spike fraction');
        if (start === 'event') {
          // as Inferno (r >= 1): step 0 never spikes
          expect(obs.spike[0]).toBe(0);
        }
        expect(enc.start).toBe(start);
      });
    }
  }

  it("'event' counts the intervals from a virtual spike at 0: P(spike at step 1) = 1 − e^{−Δt/s} at 128 Hz", () => {
    // the closed form at the first steps, written out: 0, 1 − e^{−1/s}, then → 1/μ
    const s = 1000 / 128 - 1;
    const { spike } = closedForm('event', 1, s, 3);
    expect(spike[0]).toBe(0);
    expect(spike[1]).toBeCloseTo(1 - Math.exp(-1 / s), 15);
    // P(step 2) = P(1 + E ∈ [2, 3)) + P(2 + E1 + E2 < 3) = e^{−1/s} − e^{−2/s} + erlang(2, 1)
    expect(spike[2]).toBeCloseTo(Math.exp(-1 / s) - Math.exp(-2 / s) + 1 - Math.exp(-1 / s) * (1 + 1 / s), 15);
  });

  it('rejects an unknown start before anything else', () => {
    const rng = new Rng(1);
    const state = JSON.stringify(rng.getState());
    expect(() => new HomogeneousPoissonEncoder({ steps: 10, dt: 1, frequency: 100, rng, start: 'Event' as PoissonStart })).toThrow(
      /invalid start: got "Event", expected one of "stationary", "event"/,
    );
    expect(JSON.stringify(rng.getState())).toBe(state);
  });
});
