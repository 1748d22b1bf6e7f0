import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { ALIF, GLIF2, type BatchReduction } from '../../../src/neural/neurons/index.js';
import { simulate, spikeSteps } from './helpers.js';

const base = { restV: -65, resetV: -70, threshV: -50, tauM: 20 };

describe('ALIF', () => {
  it('threshold after n spikes (one per step, refracT = 0) is Θ∞ + Σ_k d_k(1 − a_k^n)/(1 − a_k)', () => {
    const tau = [30, 200];
    const inc = [1.5, 0.25];
    const n = new ALIF(1, 1, { ...base, refracT: 0, tauAdapt: tau, adaptIncrement: inc });
    const big = tf.fill([1, 1], 1e4);
    const tr = simulate(n, 40, () => big);
    expect(spikeSteps(tr)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const a = tau.map((t) => Math.exp(-1 / t));
    const theta = Array.from(n.adaptation.dataSync());
    inc.forEach((d, k) => expect(theta[k]).toBeCloseTo((d * (1 - a[k]! ** 40)) / (1 - a[k]!), 4));
    expect(n.adaptation.shape).toEqual([1, 2]);
    big.dispose();
    n.dispose();
  });

  it('refractory hold: with refracT = 2 steps, θ does not decay while refractory (θ = n·d); without lock it does', () => {
    const d = 0.7;
    const a = Math.exp(-1 / 25);
    const locked = new ALIF(1, 1, { ...base, refracT: 2, tauAdapt: 25, adaptIncrement: d });
    const free = new ALIF(1, 1, { ...base, refracT: 2, tauAdapt: 25, adaptIncrement: d });
    const big = tf.fill([1, 1], 1e4);
    const trL = simulate(locked, 19, () => big);
    const trF = simulate(free, 19, () => big, { refracLock: false });
    const odd = Array.from({ length: 10 }, (_, i) => 2 * i + 1);
    expect(spikeSteps(trL)).toEqual(odd);
    expect(spikeSteps(trF)).toEqual(odd);
    expect(locked.adaptation.dataSync()[0]).toBeCloseTo(10 * d, 5);
    // unlocked: decays every step, spikes every other step: θ = d(1 − a^{2n})/(1 − a²)
    expect(free.adaptation.dataSync()[0]).toBeCloseTo((d * (1 - a ** 20)) / (1 - a * a), 5);
    big.dispose();
    locked.dispose();
    free.dispose();
  });

  it('the adaptive threshold delays spikes: first ISI from reset matches the analytic LIF time, later ones grow', () => {
    const d = 4;
    const n = new ALIF(1, 1, { ...base, refracT: 0, tauAdapt: 100, adaptIncrement: d });
    const x = tf.fill([1, 1], 25); // V∞ = −40
    const tr = simulate(n, 400, () => x);
    const sp = spikeSteps(tr);
    expect(sp[0]).toBe(Math.ceil(20 * Math.log(25 / 10))); // from rest, θ = Θ∞
    // second spike: threshold Θ(t) = Θ∞ + d·a^{t−s1} (decay applied each step after the spike)
    let v = base.resetV;
    let theta = d;
    let t = sp[0]!;
    for (;;) {
      t++;
      v = -40 + (v + 40) * Math.exp(-1 / 20);
      if (v >= base.threshV + theta) break;
      theta *= Math.exp(-1 / 100);
    }
    expect(sp[1]).toBe(t);
    const isi = sp.slice(1).map((s, i) => s - sp[i]!);
    expect(isi[isi.length - 1]!).toBeGreaterThan(isi[0]!);
    x.dispose();
    n.dispose();
  });

  it('batch reduction of the adaptation: mean (default), sum, max, none', () => {
    const d = 2;
    const a = Math.exp(-1 / 10);
    const x = tf.tensor2d([[1e4], [0]]); // sample 0 fires every step, sample 1 never
    const x3 = tf.tensor2d([[1e4], [1e4], [0]]);
    const results: Record<BatchReduction, number[]> = { mean: [], sum: [], max: [], none: [] };
    for (const mode of ['mean', 'sum', 'max', 'none'] as BatchReduction[]) {
      const n = new ALIF(1, 1, { ...base, refracT: 0, tauAdapt: 10, adaptIncrement: d, batchSize: 2, batchReduction: mode });
      simulate(n, 5, () => x);
      results[mode] = Array.from(n.adaptation.dataSync());
      if (mode === 'none') expect(n.adaptation.shape).toEqual([2, 1, 1]);
      else expect(n.adaptation.shape).toEqual([1, 1]);
      n.dispose();
    }
    const geo = (c: number) => (c * (1 - a ** 5)) / (1 - a);
    expect(results.mean[0]).toBeCloseTo(geo(d / 2), 5);
    // sum: the decay applies once to the shared state, the spike increments add up over samples
    expect(results.sum[0]).toBeCloseTo(geo(d), 5);
    expect(results.max[0]).toBeCloseTo(geo(d), 5);
    expect(results.none[0]).toBeCloseTo(geo(d), 5);
    expect(results.none[1]).toBe(0);
    // three samples, two firing: sum adds 2d per step, mean 2d/3
    for (const [mode, c] of [['sum', 2 * d], ['mean', (2 * d) / 3], ['max', d]] as const) {
      const n = new ALIF(1, 1, { ...base, refracT: 0, tauAdapt: 10, adaptIncrement: d, batchSize: 3, batchReduction: mode });
      simulate(n, 5, () => x3);
      expect(n.adaptation.dataSync()[0]).toBeCloseTo(geo(c), 4);
      n.dispose();
    }
    x.dispose();
    x3.dispose();
  });

  it('eval mode does not adapt unless adapt: true; clear keeps adaptations unless asked', () => {
    const n = new ALIF(1, 1, { ...base, refracT: 0, tauAdapt: 10, adaptIncrement: 1 });
    const big = tf.fill([1, 1], 1e4);
    n.eval();
    simulate(n, 3, () => big);
    expect(n.adaptation.dataSync()[0]).toBe(0);
    simulate(n, 1, () => big, { adapt: true });
    expect(n.adaptation.dataSync()[0]).toBeCloseTo(1, 6);
    n.clear();
    expect(n.adaptation.dataSync()[0]).toBeCloseTo(1, 6);
    expect(n.voltage.dataSync()[0]).toBe(-65);
    n.clear({ keepAdaptations: false });
    expect(n.adaptation.dataSync()[0]).toBe(0);
    big.dispose();
    n.dispose();
  });

  it('memory is flat over 1000 steps', () => {
    const n = new ALIF([5], 1, { ...base, refracT: 2, tauAdapt: [10, 50], adaptIncrement: [1, 2], batchSize: 3 });
    const x = tf.fill([3, 5], 30);
    n.forward(x).dispose();
    n.forward(x, { refracLock: false }).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) n.forward(x, { refracLock: i % 3 !== 0 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    n.dispose();
  });
});

describe('GLIF2', () => {
  it('matches a float64 recursion: exact leak, linear reset V ← V_rest + m(V − V_rest) − b, θ_k ← θ_k e^{−λ_k Δt} + d_k', () => {
    const p = { restV: -70, resetVMul: 0.4, resetVAdd: 3, threshV: -50, refracT: 1, tauM: 15, rateAdapt: [0.05, 0.01], adaptIncrement: [2, 0.5] };
    const dt = 0.5;
    const n = new GLIF2(1, dt, p);
    const I = 30; // V∞ = −40
    const x = tf.fill([1, 1], I);
    const steps = 600;
    const tr = simulate(n, steps, () => x);

    // independent reference (refractory: a neuron firing at step s is locked for ⌈refracT/dt⌉ − 1 steps)
    const k = Math.ceil(p.refracT / dt);
    const d = Math.exp(-dt / p.tauM);
    const decay = p.rateAdapt.map((l) => Math.exp(-l * dt));
    let v = p.restV;
    const th = [0, 0];
    let lockedUntil = 0;
    const expected: number[] = [];
    const resetVoltages: number[] = [];
    for (let t = 1; t <= steps; t++) {
      const locked = t <= lockedUntil;
      if (!locked) v = p.restV + (v - p.restV - I) * d + I;
      const fired = !locked && v >= p.threshV + th[0]! + th[1]!;
      if (fired) {
        v = p.restV + p.resetVMul * (v - p.restV) - p.resetVAdd;
        resetVoltages.push(v);
        expected.push(t);
        lockedUntil = t + k - 1;
      }
      // adaptation held while refractory after this step (includes the spike step)
      const hold = fired || t <= lockedUntil;
      for (let j = 0; j < 2; j++) {
        if (!hold) th[j]! *= decay[j]!;
        if (fired) th[j] = th[j]! + p.adaptIncrement[j]!;
      }
    }
    const got = spikeSteps(tr);
    expect(expected.length).toBeGreaterThan(5);
    expect(got).toEqual(expected);
    got.forEach((s, i) => expect(tr.v[s - 1]![0]).toBeCloseTo(resetVoltages[i]!, 3));
    const theta = Array.from(n.adaptation.dataSync());
    expect(theta[0]).toBeCloseTo(th[0]!, 4);
    expect(theta[1]).toBeCloseTo(th[1]!, 4);
    x.dispose();
    n.dispose();
  });
});
