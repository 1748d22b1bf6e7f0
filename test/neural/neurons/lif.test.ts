import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { LIF } from '../../../src/neural/neurons/index.js';
import { simulate, spikeSteps } from './helpers.js';
import { setFusedKernels } from '../../../src/kernels/js/fused-memory.js';

describe('LIF', () => {
  it('sub-threshold: matches V(t) = V∞ + (V0 − V∞)e^{−t/τ} to 1e-5 at each of 500 steps', () => {
    // normalized units (rest 0, threshold 1) so float32 resolution is far below the tolerance
    const tau = 20;
    const dt = 0.5;
    const R = 2;
    const I = 0.4; // V∞ = 0.8 < threshold 1
    const lif = new LIF([2], dt, { restV: 0, resetV: -0.2, threshV: 1, refracT: 2, tauM: tau, resistance: R });
    const x = tf.fill([1, 2], I);
    const tr = simulate(lif, 500, () => x);
    const vInf = R * I;
    let maxErr = 0;
    tr.v.forEach((row, k) => {
      const expected = vInf + (0 - vInf) * Math.exp(-((k + 1) * dt) / tau);
      for (const v of row) maxErr = Math.max(maxErr, Math.abs(v - expected));
    });
    expect(maxErr).toBeLessThan(1e-5);
    expect(tr.s.flat().every((s) => s === 0)).toBe(true);
    x.dispose();
    lif.dispose();
  });

  it('sub-threshold in mV: relative error below 1e-5 over 500 steps', () => {
    const lif = new LIF(1, 1, { restV: -65, resetV: -70, threshV: -50, refracT: 0, tauM: 10 });
    const x = tf.fill([1, 1], 12); // V∞ = −53
    const tr = simulate(lif, 500, () => x);
    tr.v.forEach((row, k) => {
      const expected = -53 + (-65 + 53) * Math.exp(-(k + 1) / 10);
      expect(Math.abs(row[0]! - expected) / Math.abs(expected)).toBeLessThan(1e-5);
    });
    x.dispose();
    lif.dispose();
  });

  it('suprathreshold: spike steps, reset and refractory steps follow the analytic solution', () => {
    const tau = 20;
    const dt = 1;
    const [rest, reset, theta, refracT] = [-65, -70, -50, 3];
    const vInf = rest + 20; // R·I = 20
    const lif = new LIF(1, dt, { restV: rest, resetV: reset, threshV: theta, refracT, tauM: tau });
    const x = tf.fill([1, 1], 20);
    const steps = 300;
    const tr = simulate(lif, steps, () => x);

    // analytic: time to threshold from rest, then from reset after the lock-out
    const k = Math.ceil(refracT / dt); // a neuron firing at step s may fire again at s + k at the earliest
    const first = Math.ceil((tau * Math.log((vInf - rest) / (vInf - theta))) / dt);
    const fromReset = Math.ceil((tau * Math.log((vInf - reset) / (vInf - theta))) / dt);
    const expected: number[] = [];
    for (let s = first; s <= steps; s += k - 1 + fromReset) expected.push(s);
    expect(first).toBe(28);
    expect(fromReset).toBe(33);
    expect(spikeSteps(tr)).toEqual(expected);

    for (const s of expected) {
      // reset on the spike step, voltage held at reset while refractory, refractory countdown exact
      expect(tr.v[s - 1]![0]).toBe(reset);
      expect(tr.r[s - 1]![0]).toBe(3);
      if (s + 2 <= steps) {
        expect(tr.v[s]![0]).toBe(reset);
        expect(tr.v[s + 1]![0]).toBe(reset);
        expect([tr.r[s]![0], tr.r[s + 1]![0]]).toEqual([2, 1]);
      }
      if (s + 3 <= steps) {
        // first free step integrates one step from reset
        const v1 = vInf + (reset - vInf) * Math.exp(-dt / tau);
        expect(tr.v[s + 2]![0]).toBeCloseTo(v1, 4);
        expect(tr.r[s + 2]![0]).toBe(0);
      }
    }
    x.dispose();
    lif.dispose();
  });

  it('refractory boundary as Inferno (float32 count-down): refracT = 2, dt = 1 locks out exactly one step; 0.3/0.1 fires every 4th step', () => {
    // Patterns produced by Inferno's LIF itself (PyTorch float32, rest = reset = 0, θ = 1, τ = 10,
    // I = 1000 so every free step fires): r ← max(r − dt, 0) in float32, free when r = 0. With
    // dt = 0.1 the float32 sum 0.3 − 0.1 − 0.1 − 0.1 stays above 0, so one more step is locked.
    const inferno: [number, number, string][] = [
      [1, 2, '101010101010'],
      [0.1, 0.3, '100010001000'],
      [0.5, 1.2, '100100100100'],
      [0.3, 1, '100010001000'],
    ];
    for (const [dt, refracT, pattern] of inferno) {
      const n = new LIF(1, dt, { restV: 0, resetV: 0, threshV: 1, refracT, tauM: 10 });
      const x = tf.fill([1, 1], 1000);
      const tr = simulate(n, pattern.length, () => x);
      expect(tr.s.map((r) => r[0]).join(''), `dt ${dt}, refracT ${refracT}`).toBe(pattern);
      // in exact arithmetic the spacing would be ⌈refracT/dt⌉ steps (2, 3, 3, 4)
      x.dispose();
      n.dispose();
    }
  });

  it('refracT = 0: may fire on consecutive steps, and spike state is 0 whenever forward returned 0', () => {
    const lif = new LIF(2, 1, { restV: 0, resetV: 0, threshV: 1, refracT: 0, tauM: 10 });
    // neuron 0: strong drive (fires every step), neuron 1: none
    const d = 1 / (1 - Math.exp(-0.1)); // one step from 0 with R·I = d reaches exactly 1 → use 1.5·d
    const x = tf.tensor2d([[1.5 * d, 0]]);
    const tr = simulate(lif, 5, () => x);
    expect(tr.s).toEqual(Array.from({ length: 5 }, () => [1, 0]));
    expect(Array.from(lif.spike.dataSync())).toEqual([1, 0]);
    expect(Array.from(lif.refrac.dataSync())).toEqual([0, 0]);
    x.dispose();
    lif.dispose();
  });

  it('refracLock = false: refractory neurons relax toward rest with their input masked, but cannot fire', () => {
    const tau = 10;
    const lif = new LIF(1, 1, { restV: 0, resetV: -1, threshV: 1, refracT: 3, tauM: tau });
    const big = tf.fill([1, 1], 100);
    lif.forward(big, { refracLock: false }).dispose(); // fires: V = reset
    expect(Array.from(lif.voltage.dataSync())).toEqual([-1]);
    const s2 = lif.forward(big, { refracLock: false });
    const expected = -1 * Math.exp(-1 / tau); // masked input: pure decay toward rest 0
    expect(s2.dataSync()[0]).toBe(0);
    expect(lif.voltage.dataSync()[0]).toBeCloseTo(expected, 6);
    s2.dispose();
    big.dispose();
    lif.dispose();
  });

  it('batch > 1: each sample integrates its own input', () => {
    const tau = 15;
    const lif = new LIF([2], 1, { restV: 0, resetV: 0, threshV: 100, refracT: 1, tauM: tau, batchSize: 3 });
    const inputs = [
      [1, 2],
      [3, 4],
      [-5, 6],
    ];
    const x = tf.tensor2d(inputs);
    const tr = simulate(lif, 40, () => x);
    tr.v.forEach((row, k) => {
      const decay = Math.exp(-(k + 1) / tau);
      inputs.flat().forEach((I, j) => expect(row[j]).toBeCloseTo(I * (1 - decay), 4));
    });
    x.dispose();
    lif.dispose();
  });

  it('conductance input matches the exact solution for constant g: V∞ + (V0 − V∞)e^{−t(1+RΣg)/τ}', () => {
    // Song–Miller–Abbott style: τ dv/dt = (El − v) + ge(Ee − v) + gi(Ei − v), R = 1
    const [El, Ee, Ei, tau] = [-74, 0, -70, 20];
    const lif = new LIF(2, 0.5, {
      restV: El,
      resetV: -60,
      threshV: -54,
      refracT: 0,
      tauM: tau,
      receptors: [
        { name: 'exc', reversal: Ee },
        { name: 'inh', reversal: Ei },
      ],
    });
    const ge = tf.tensor2d([[0.05, 0.1]]);
    const gi = tf.tensor2d([[0.2, 0.0]]);
    const I = tf.tensor2d([[0.5, -1]]);
    const tr = simulate(lif, 200, () => ({ current: I, conductances: [ge, gi] }));
    const cases = [
      { g: [0.05, 0.2], i: 0.5 },
      { g: [0.1, 0.0], i: -1 },
    ];
    cases.forEach(({ g, i }, j) => {
      const G = 1 + g[0]! + g[1]!;
      const vInf = (El + i + g[0]! * Ee + g[1]! * Ei) / G;
      tr.v.forEach((row, k) => {
        const t = (k + 1) * 0.5;
        const expected = vInf + (El - vInf) * Math.exp((-t * G) / tau);
        expect(Math.abs(row[j]! - expected)).toBeLessThan(2e-4);
      });
    });
    // conductances given for one receptor only
    lif.clear();
    const tr2 = simulate(lif, 10, () => ({ conductances: [ge, undefined] }));
    const G = 1.05;
    const vInf = El / G;
    expect(tr2.v[9]![0]).toBeCloseTo(vInf + (El - vInf) * Math.exp((-5 * G) / tau), 3);
    [ge, gi, I].forEach((t) => t.dispose());
    lif.dispose();
  });

  it('Song–Miller–Abbott neuron: excitatory conductance drives it to fire at the analytic time', () => {
    // constant ge = 0.5: v∞ = (El + ge·Ee)/(1 + ge) = −49.33 mV > θ = −54
    const [El, Ee, tau, ge0, theta] = [-74, 0, 20, 0.5, -54];
    const lif = new LIF(1, 0.25, { restV: El, resetV: -60, threshV: theta, refracT: 0, tauM: tau, receptors: [{ name: 'e', reversal: Ee }] });
    const g = tf.fill([1, 1], ge0);
    const tr = simulate(lif, 200, () => ({ conductances: [g] }));
    const G = 1 + ge0;
    const vInf = (El + ge0 * Ee) / G;
    const tFirst = (tau / G) * Math.log((vInf - El) / (vInf - theta));
    expect(spikeSteps(tr)[0]).toBe(Math.ceil(tFirst / 0.25));
    g.dispose();
    lif.dispose();
  });

  it('memory: tensor count is flat over 1000 steps (with and without refractory period and conductances)', () => {
    const a = new LIF([4, 3], 1, { restV: -65, resetV: -70, threshV: -50, refracT: 2, tauM: 20, batchSize: 2 });
    const b = new LIF([4, 3], 1, { restV: -65, resetV: -70, threshV: -50, refracT: 0, tauM: 20, batchSize: 2, receptors: [{ name: 'e', reversal: 0 }] });
    const x = tf.fill([2, 4, 3], 30);
    const g = tf.fill([2, 4, 3], 0.3);
    a.forward(x).dispose();
    b.forward({ current: x, conductances: [g] }).dispose();
    a.forward(x, { refracLock: false }).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) {
      tf.tidy(() => {
        a.forward(x, { refracLock: i % 2 === 0 });
        b.forward({ current: x, conductances: [g] });
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    [x, g].forEach((t) => t.dispose());
    a.dispose();
    b.dispose();
  });

  it('batchSize setter re-creates state at rest with the new batch size', () => {
    const lif = new LIF(3, 1, { restV: -65, resetV: -70, threshV: -50, refracT: 2, tauM: 20 });
    const x = tf.fill([1, 3], 5);
    lif.forward(x).dispose();
    lif.batchSize = 4;
    expect(lif.voltage.shape).toEqual([4, 3]);
    expect(Array.from(lif.voltage.dataSync()).every((v) => v === -65)).toBe(true);
    expect(lif.spike.shape).toEqual([4, 3]);
    const y = tf.fill([4, 3], 5);
    lif.forward(y).dispose();
    expect(lif.voltage.dataSync()[11]).toBeCloseTo(-65 + 5 * (1 - Math.exp(-1 / 20)), 4);
    x.dispose();
    y.dispose();
    lif.dispose();
  });

  it('conductance step with R = 1: two kernels fewer than with R ≠ 1 on the op path (no products with 1), 1 fused (wasm/cpu); voltage equal to (R·I)/R at R = 2 on both routes', async () => {
    // R = 2 with I and g halved/doubled gives the same V∞ and G: 1 + 2·(g/2) = 1 + g,
    // (E_l + 2·(I/2 + (g/2)·E))/(1 + g); float32: halving/doubling by 2 is exact, so the voltages agree bit for bit
    const make = (R: number) => new LIF([8], 0.1, { restV: -60, resetV: -60, threshV: -50, refracT: 5, tauM: 20, resistance: R, receptors: [{ name: 'e', reversal: 0 }, { name: 'i', reversal: -80 }] });
    const ge = tf.tensor2d([[0, 0.3, 1, 2, 4, 7, 0.01, 3]]);
    const gi = tf.tensor2d([[0, 1, 5, 20, 0.5, 3, 0, 12]]);
    const I = tf.tensor2d([[1, -2, 0, 5, 3, 0.5, 11, 2]]);
    const half = (t: tf.Tensor) => tf.mul(t, 0.5);
    const [ge2, gi2, I2] = [half(ge), half(gi), half(I)];
    const fusedRoute = ['wasm', 'cpu'].includes(tf.getBackend());
    const was = setFusedKernels(false);
    try {
      for (const fused of fusedRoute ? [false, true] : [false]) {
        setFusedKernels(fused);
        const a = make(1);
        const b = make(2);
        let kernelsA = 0;
        let kernelsB = 0;
        for (let t = 0; t < 50; t++) {
          // (tf.profile returns the same profile object each call: read it before the next one)
          const pa = await tf.profile(() => a.forward({ current: I, conductances: [ge, gi] }));
          kernelsA = pa.kernels.length;
          (pa.result as tf.Tensor).dispose();
          const pb = await tf.profile(() => b.forward({ current: I2, conductances: [ge2, gi2] }));
          kernelsB = pb.kernels.length;
          (pb.result as tf.Tensor).dispose();
          expect(Array.from(a.voltage.dataSync())).toEqual(Array.from(b.voltage.dataSync()));
        }
        if (fused) {
          expect(kernelsA).toBe(1);
          expect(kernelsB).toBe(1);
        } else expect(kernelsA).toBe(kernelsB - 2);
        a.dispose();
        b.dispose();
      }
    } finally {
      setFusedKernels(was);
    }
    [ge, gi, I, ge2, gi2, I2].forEach((t) => t.dispose());
  });

  it('a step of a refractory LIF costs at most 13 kernels on the op path (7 without refractory period), 1 with the fused kernel', async () => {
    const a = new LIF(8, 1, { restV: -65, resetV: -70, threshV: -50, refracT: 2, tauM: 20 });
    const b = new LIF(8, 1, { restV: -65, resetV: -70, threshV: -50, refracT: 0, tauM: 20 });
    const x = tf.fill([1, 8], 30);
    // tf.profile returns the same profile object every call: read each count before the next call
    const kernels = async (n: LIF) => (await tf.profile(() => n.forward(x))).kernels.length;
    const was = setFusedKernels(false);
    try {
      a.forward(x).dispose();
      b.forward(x).dispose();
      expect(await kernels(a)).toBeLessThanOrEqual(13);
      expect(await kernels(b)).toBeLessThanOrEqual(7);
      if (['wasm', 'cpu'].includes(tf.getBackend())) {
        setFusedKernels(true);
        expect(await kernels(a)).toBe(1);
        expect(await kernels(b)).toBe(1);
      }
    } finally {
      setFusedKernels(was);
    }
    x.dispose();
    a.dispose();
    b.dispose();
  });
});
