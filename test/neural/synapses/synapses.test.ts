// Synapse kernels against their closed forms, history ring, batch handling.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import {
  DeltaCurrent,
  DeltaPlusCurrent,
  DoubleExponentialConductance,
  DoubleExponentialCurrent,
  ExponentialConductance,
  SingleExponentialCurrent,
  doubleExponentialPeakFactor,
} from '../../../src/neural/synapses/index.js';
import type { Synapse } from '../../../src/neural/types.js';

const vals = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** Drives `syn` with the spike trains `trains[k]` (per step, flat [B·N]) and returns the currents per step. */
function drive(syn: Synapse, trains: number[][]): number[][] {
  const out: number[][] = [];
  for (const s of trains) {
    out.push(tf.tidy(() => vals(syn.forward(tf.tensor(s, [syn.batchSize, ...syn.shape])))));
  }
  return out;
}

/** Random 0/1 trains [steps][n] with spike probability p. */
function randomTrains(rng: Rng, steps: number, n: number, p: number): number[][] {
  return Array.from({ length: steps }, () => Array.from({ length: n }, () => (rng.uniform() < p ? 1 : 0)));
}

/** Σ_f kernel(k − f) over the spikes f ≤ k of unit i (float64 reference). */
function convolve(trains: number[][], kernel: (k: number) => number): number[][] {
  return trains.map((_, k) => trains[0]!.map((__, i) => {
    let s = 0;
    for (let f = 0; f <= k; f++) if (trains[f]![i]) s += kernel(k - f);
    return s;
  }));
}

function expectClose(got: number[][], want: number[][], rel = 2e-5, abs = 1e-6): void {
  expect(got.length).toBe(want.length);
  for (let k = 0; k < want.length; k++) {
    for (let i = 0; i < want[k]!.length; i++) {
      const g = got[k]![i]!;
      const w = want[k]![i]!;
      if (Math.abs(g - w) > abs + rel * Math.abs(w)) throw new Error(`step ${k} unit ${i}: got ${g}, want ${w}`);
    }
  }
}

const spec = (shape: number[], dt: number, delaySteps = 0, batchSize = 1) => ({ shape, dt, delaySteps, batchSize });

describe('synapse kernels vs closed forms', () => {
  it('DeltaCurrent: I = s·Q/dt at every step', () => {
    const syn = new DeltaCurrent(spec([5], 0.5), { charge: 3 });
    const trains = randomTrains(new Rng(1), 50, 5, 0.3);
    expectClose(drive(syn, trains), trains.map((r) => r.map((s) => (s * 3) / 0.5)), 0, 0);
    expect(syn.kind).toBe('current');
    syn.dispose();
  });

  it('DeltaPlusCurrent adds the injected current', () => {
    const syn = new DeltaPlusCurrent(spec([3], 1), { charge: 2 });
    const out = tf.tidy(() => vals(syn.forward(tf.tensor([[1, 0, 1]]), tf.tensor([[0.5, -1, 0.25]]))));
    expect(out).toEqual([2.5, -1, 2.25]);
    const out2 = tf.tidy(() => vals(syn.forward(tf.tensor([[0, 1, 0]]))));
    expect(out2).toEqual([0, 2, 0]);
    syn.dispose();
  });

  it('SingleExponentialCurrent: impulse response (Q/τ)·e^{−k·dt/τ} and superposition over 300 steps', () => {
    const [tau, Q, dt] = [7.5, 1.7, 0.25];
    const syn = new SingleExponentialCurrent(spec([1], dt), { tau, charge: Q });
    const impulse = [[1], ...Array.from({ length: 299 }, () => [0])];
    expectClose(drive(syn, impulse), impulse.map((_, k) => [(Q / tau) * Math.exp((-k * dt) / tau)]));
    const syn2 = new SingleExponentialCurrent(spec([4], dt), { tau, charge: Q });
    const trains = randomTrains(new Rng(2), 300, 4, 0.1);
    expectClose(drive(syn2, trains), convolve(trains, (k) => (Q / tau) * Math.exp((-k * dt) / tau)));
    syn.dispose();
    syn2.dispose();
  });

  it('DoubleExponentialCurrent: Q/(τd−τr)·(e^{−k·dt/τd} − e^{−k·dt/τr}) over 400 steps', () => {
    const [td, tr, Q, dt] = [10, 2, 0.8, 0.2];
    const syn = new DoubleExponentialCurrent(spec([3], dt), { tauDecay: td, tauRise: tr, charge: Q });
    const trains = randomTrains(new Rng(3), 400, 3, 0.05);
    const kernel = (k: number) => (Q / (td - tr)) * (Math.exp((-k * dt) / td) - Math.exp((-k * dt) / tr));
    const got = drive(syn, trains);
    expectClose(got, convolve(trains, kernel), 2e-5, 2e-6);
    // components: I = I_d − I_r
    const [d, r, c] = [vals(syn.decayComponent), vals(syn.riseComponent), vals(syn.current)];
    for (let i = 0; i < 3; i++) expect(d[i]! - r[i]!).toBeCloseTo(c[i]!, 6);
    syn.dispose();
  });

  it('ExponentialConductance: Δg·e^{−k·dt/τ}', () => {
    const [tau, dg, dt] = [5, 0.3, 1];
    const syn = new ExponentialConductance(spec([2], dt), { tau, increment: dg });
    expect(syn.kind).toBe('conductance');
    const trains = randomTrains(new Rng(4), 120, 2, 0.15);
    expectClose(drive(syn, trains), convolve(trains, (k) => dg * Math.exp((-k * dt) / tau)));
    syn.dispose();
  });

  it('DoubleExponentialConductance: normalised difference of exponentials whose peak is Δg', () => {
    const [td, tr, dg] = [6, 1.5, 0.4];
    const eta = doubleExponentialPeakFactor(td, tr);
    // peak of e^{−t/τd} − e^{−t/τr} at t_p = τdτr/(τd−τr)·ln(τd/τr) equals 1/η
    const tp = ((td * tr) / (td - tr)) * Math.log(td / tr);
    expect(Math.exp(-tp / td) - Math.exp(-tp / tr)).toBeCloseTo(1 / eta, 12);
    const dt = 0.05;
    const syn = new DoubleExponentialConductance(spec([1], dt), { tauDecay: td, tauRise: tr, increment: dg });
    const impulse = [[1], ...Array.from({ length: 599 }, () => [0])];
    const got = drive(syn, impulse);
    expectClose(got, impulse.map((_, k) => [dg * eta * (Math.exp((-k * dt) / td) - Math.exp((-k * dt) / tr))]), 3e-5, 1e-6);
    const peak = Math.max(...got.map((r) => r[0]!));
    expect(peak).toBeLessThanOrEqual(dg * (1 + 1e-5));
    expect(peak).toBeGreaterThan(dg * 0.999); // sampled every 0.05 ms near the continuous maximum
    syn.dispose();
  });
});

describe('synapse history ring', () => {
  it('currentAgo/spikeAgo return the values k steps ago (zeros before the start)', () => {
    const D = 4;
    const syn = new SingleExponentialCurrent(spec([3], 1, D, 2), { tau: 3 });
    const trains = randomTrains(new Rng(5), 23, 6, 0.4);
    const currents = drive(syn, trains);
    for (let k = 0; k <= D; k++) {
      expect(vals(syn.spikeAgo(k))).toEqual(trains[22 - k]);
      expectClose([vals(syn.currentAgo(k))], [currents[22 - k]!], 0, 0);
    }
    expect(vals(syn.current)).toEqual(vals(syn.currentAgo(0)));
    expect(vals(syn.spike)).toEqual(trains[22]);
    expect(() => syn.currentAgo(D + 1)).toThrow(/k/);
    expect(() => syn.spikeAgo(-1)).toThrow(/k/);
    syn.clear();
    for (let k = 0; k <= D; k++) expect(vals(syn.currentAgo(k))).toEqual([0, 0, 0, 0, 0, 0]);
    // after clear, history restarts: one step, older entries still zero
    drive(syn, [[1, 0, 0, 0, 0, 1]]);
    expect(vals(syn.spikeAgo(0))).toEqual([1, 0, 0, 0, 0, 1]);
    expect(vals(syn.spikeAgo(1))).toEqual([0, 0, 0, 0, 0, 0]);
    syn.dispose();
  });

  it('keeps the tensor count flat over 2000 steps with history, and dispose frees everything', () => {
    const before = tf.memory().numTensors;
    const syn = new DoubleExponentialCurrent(spec([8], 1, 6, 2), { tauDecay: 4, tauRise: 1 });
    const s = tf.keep(tf.tensor(new Float32Array(16).map((_, i) => i % 3 === 0 ? 1 : 0), [2, 8]));
    tf.tidy(() => { syn.forward(s); });
    const n0 = tf.memory().numTensors;
    for (let k = 0; k < 2000; k++) tf.tidy(() => { syn.forward(s); });
    expect(tf.memory().numTensors).toBe(n0);
    s.dispose();
    syn.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('batch-size change re-creates the state with the new batch', () => {
    const syn = new DeltaCurrent(spec([2], 1, 2, 1));
    drive(syn, [[1, 1]]);
    syn.batchSize = 3;
    expect(syn.current.shape).toEqual([3, 2]);
    expect(syn.spikeAgo(2).shape).toEqual([3, 2]);
    expect(vals(syn.spike)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => tf.tidy(() => syn.forward(tf.ones([1, 2])))).toThrow(/spikes.*batch 3/);
    syn.dispose();
  });

  it('factories pass the connection spec through', () => {
    const f = SingleExponentialCurrent.factory({ tau: 2, charge: 4 });
    const syn = f({ shape: [2, 3], dt: 0.5, delaySteps: 3, batchSize: 2 });
    expect([syn.shape, syn.dt, syn.delaySteps, syn.batchSize, syn.tau, syn.charge]).toEqual([[2, 3], 0.5, 3, 2, 2, 4]);
    syn.dispose();
  });
});
