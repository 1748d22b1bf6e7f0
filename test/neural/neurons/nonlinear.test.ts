import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { setWarningHandler } from '../../../src/core/errors.js';
import { AdEx, EIF, Izhikevich, QIF } from '../../../src/neural/neurons/index.js';
import { simulate, spikeSteps } from './helpers.js';

/**
 * Plain float64 reference of the documented step semantics: Euler membrane `dv(v, w)` (per ms),
 * a neuron firing at step s is locked (voltage held, no firing) for ⌈refracT/dt⌉ − 1 steps,
 * adaptive currents w_k ← w_k + dt/τ_k·(c_k(V − V_rest) − w_k) using the post-reset voltage,
 * held while refractory after the step (spike step included), + inc_k on a spike.
 */
function reference(p: {
  dt: number;
  steps: number;
  restV: number;
  resetV: number;
  threshV: number;
  refracT: number;
  dv: (v: number, iTotal: number) => number;
  current: number;
  tau?: number[];
  coupling?: number[];
  inc?: number[];
}): { spikes: number[]; v: number[]; w: number[] } {
  const k = Math.ceil(p.refracT / p.dt);
  const w = (p.tau ?? []).map(() => 0);
  let v = p.restV;
  let lockedUntil = 0;
  const spikes: number[] = [];
  const vs: number[] = [];
  for (let t = 1; t <= p.steps; t++) {
    const locked = t <= lockedUntil;
    const iTotal = p.current - w.reduce((a, b) => a + b, 0);
    if (!locked) v = v + p.dt * p.dv(v, iTotal);
    const fired = !locked && v >= p.threshV;
    if (fired) {
      v = p.resetV;
      spikes.push(t);
      lockedUntil = t + k - 1;
    }
    const hold = p.refracT > 0 && (fired || t <= lockedUntil);
    for (let j = 0; j < w.length; j++) {
      if (!hold) w[j] = w[j]! + (p.dt / p.tau![j]!) * (p.coupling![j]! * (v - p.restV) - w[j]!);
      if (fired) w[j] = w[j]! + p.inc![j]!;
    }
    vs.push(v);
  }
  return { spikes, v: vs, w };
}

describe('nonlinear neurons (Euler, as Inferno) against a float64 recursion', () => {
  it('QIF: V += Δt/τ·[a(V − V_rest)(V − V_crit) + R·I]', () => {
    const p = { restV: -60, critV: -45, affinity: 0.1, resetV: -62, threshV: -20, refracT: 1, tauM: 10, resistance: 2 };
    const dt = 0.25;
    const I = 3.5; // R·I = 7 > a·(15/2)² = 5.625, so no stable fixed point: periodic firing
    const n = new QIF(1, dt, p);
    const x = tf.fill([1, 1], I);
    const steps = 2000;
    const tr = simulate(n, steps, () => x);
    const ref = reference({
      dt,
      steps,
      ...p,
      current: I,
      dv: (v, i) => (p.affinity * (v - p.restV) * (v - p.critV) + p.resistance * i) / p.tauM,
    });
    expect(ref.spikes.length).toBeGreaterThan(5);
    expect(spikeSteps(tr)).toEqual(ref.spikes);
    expect(tr.v[steps - 1]![0]).toBeCloseTo(ref.v[steps - 1]!, 2);
    x.dispose();
    n.dispose();
  });

  it('QIF: below the saddle-node current the voltage settles at the stable root of a(V−V_rest)(V−V_crit) + RI = 0', () => {
    const p = { restV: -60, critV: -40, affinity: 0.1, resetV: -65, threshV: -20, refracT: 0, tauM: 10 };
    const I = 5; // a·(V+60)(V+40) = −5 → V = −50 ± √50
    const n = new QIF(1, 0.5, p);
    const x = tf.fill([1, 1], I);
    const tr = simulate(n, 400, () => x);
    expect(spikeSteps(tr)).toEqual([]);
    expect(tr.v[399]![0]).toBeCloseTo(-50 - Math.sqrt(50), 3);
    x.dispose();
    n.dispose();
  });

  it('EIF: V += Δt/τ·[−(V − V_rest) + Δ_T e^{(V − V_T)/Δ_T} + R·I]', () => {
    const p = { restV: -70, rheobaseV: -52, sharpness: 2, resetV: -60, threshV: -30, refracT: 2, tauM: 12, resistance: 0.5 };
    const dt = 0.125;
    const I = 44;
    const n = new EIF(1, dt, p);
    const x = tf.fill([1, 1], I);
    const steps = 3000;
    const tr = simulate(n, steps, () => x);
    const ref = reference({
      dt,
      steps,
      ...p,
      current: I,
      dv: (v, i) => (-(v - p.restV) + p.sharpness * Math.exp((v - p.rheobaseV) / p.sharpness) + p.resistance * i) / p.tauM,
    });
    expect(ref.spikes.length).toBeGreaterThan(5);
    expect(spikeSteps(tr)).toEqual(ref.spikes);
    x.dispose();
    n.dispose();
  });

  it('AdEx: EIF membrane with adaptive currents (coupling a_k, increment b_k): spike steps and w match', () => {
    const p = {
      restV: -70,
      rheobaseV: -50,
      sharpness: 2,
      resetV: -58,
      threshV: -30,
      refracT: 0.5,
      tauM: 10,
      resistance: 0.5,
      tauAdapt: [100, 30],
      voltageCoupling: [0.1, 0.05],
      adaptIncrement: [3, 1],
    };
    const dt = 0.25;
    const I = 60;
    const n = new AdEx(1, dt, p);
    const x = tf.fill([1, 1], I);
    const steps = 4000;
    const tr = simulate(n, steps, () => x);
    const ref = reference({
      dt,
      steps,
      ...p,
      current: I,
      tau: p.tauAdapt,
      coupling: p.voltageCoupling,
      inc: p.adaptIncrement,
      dv: (v, i) => (-(v - p.restV) + p.sharpness * Math.exp((v - p.rheobaseV) / p.sharpness) + p.resistance * i) / p.tauM,
    });
    const got = spikeSteps(tr);
    expect(ref.spikes.length).toBeGreaterThan(5);
    expect(got).toEqual(ref.spikes);
    // adaptation lengthens inter-spike intervals
    expect(got[got.length - 1]! - got[got.length - 2]!).toBeGreaterThan(got[1]! - got[0]!);
    const w = Array.from(n.adaptation.dataSync());
    expect(w[0]).toBeCloseTo(ref.w[0]!, 2);
    expect(w[1]).toBeCloseTo(ref.w[1]!, 2);
    x.dispose();
    n.dispose();
  });

  it('Izhikevich (Inferno form): QIF membrane driven by I − Σw, adaptive currents (coupling b_k, increment d_k)', () => {
    const p = {
      restV: -60,
      critV: -40,
      affinity: 0.1,
      resetV: -55,
      threshV: 0,
      refracT: 0,
      tauM: 10,
      tauAdapt: 50,
      voltageCoupling: 0.2,
      adaptIncrement: 2,
    };
    const dt = 0.25;
    const I = 14;
    const n = new Izhikevich(1, dt, p);
    const x = tf.fill([1, 1], I);
    const steps = 4000;
    const tr = simulate(n, steps, () => x);
    const ref = reference({
      dt,
      steps,
      ...p,
      current: I,
      tau: [p.tauAdapt],
      coupling: [p.voltageCoupling],
      inc: [p.adaptIncrement],
      dv: (v, i) => (p.affinity * (v - p.restV) * (v - p.critV) + i) / p.tauM,
    });
    const got = spikeSteps(tr);
    expect(ref.spikes.length).toBeGreaterThan(3);
    expect(got).toEqual(ref.spikes);
    expect(n.adaptation.dataSync()[0]).toBeCloseTo(ref.w[0]!, 2);
    x.dispose();
    n.dispose();
  });

  it('EIF with conductance input: Euler with I + g(E − V)', () => {
    const p = { restV: -70, rheobaseV: -52, sharpness: 2, resetV: -60, threshV: -30, refracT: 0, tauM: 12 };
    const dt = 0.25;
    const n = new EIF(1, dt, { ...p, receptors: [{ name: 'ampa', reversal: 0 }] });
    const g = tf.fill([1, 1], 0.4);
    const steps = 1500;
    const tr = simulate(n, steps, () => ({ conductances: [g] }));
    const ref = reference({
      dt,
      steps,
      ...p,
      current: 0,
      dv: (v) => (-(v - p.restV) + p.sharpness * Math.exp((v - p.rheobaseV) / p.sharpness) + 0.4 * (0 - v)) / p.tauM,
    });
    expect(ref.spikes.length).toBeGreaterThan(3);
    expect(spikeSteps(tr)).toEqual(ref.spikes);
    g.dispose();
    n.dispose();
  });

  it('conductance input: a voltage that overflowed to +Infinity while refractory (refracLock off) stays +Infinity and fires when free, as without conductances (was NaN for ever: Inf·g)', () => {
    // reset above V_crit: during the unlocked refractory period the Euler upstroke overflows float32
    const p = { restV: -60, critV: -40, affinity: 0.5, resetV: -30, threshV: -20, refracT: 6, tauM: 2 };
    const receptors = [{ name: 'e', reversal: 0 }];
    for (const model of ['QIF', 'EIF'] as const) {
      const make = (r?: typeof receptors) =>
        model === 'QIF'
          ? new QIF(1, 0.5, { ...p, batchSize: 2, receptors: r })
          : new EIF(1, 0.5, { restV: -60, rheobaseV: -40, sharpness: 1, resetV: -30, threshV: -20, refracT: 6, tauM: 2, batchSize: 2, receptors: r });
      const plain = make();
      const withG = make(receptors);
      const I = tf.fill([2, 1], 100);
      const g = tf.tensor2d([[0], [0.01]]);
      const want = simulate(plain, 30, () => I, { refracLock: false });
      const got = simulate(withG, 30, () => ({ current: I, conductances: [g] }), { refracLock: false });
      expect(want.v.flat().some((v) => v === Infinity)).toBe(true); // the overflow happens
      for (const b of [0, 1]) {
        expect(spikeSteps(got, b), `${model} sample ${b}`).toEqual(spikeSteps(want, b));
        expect(spikeSteps(got, b).length).toBeGreaterThanOrEqual(2);
      }
      expect(got.v.flat().some((v) => Number.isNaN(v))).toBe(false);
      [plain, withG, I, g].forEach((t) => t.dispose());
    }
  });

  it('QIF/Izhikevich: the Euler stability warning uses the relaxation time at rest τ_m/(a(V_crit − V_rest)), not τ_m', () => {
    // Near rest the quadratic membrane is δ' = −(a(V_crit − V_rest)/τ_m)·δ, so explicit Euler
    // overshoots rest when dt > τ_r = τ_m/(a(V_crit − V_rest)) and diverges when dt > 2τ_r.
    const warnings: string[] = [];
    const prev = setWarningHandler((m) => warnings.push(m));
    try {
      const base = { restV: -60, critV: -40, resetV: -65, threshV: -20, refracT: 0, tauM: 10 };
      /** V − V_rest after a one-step pulse (V = V_rest + dt·I/τ_m) and one step without input. */
      const afterPulse = (affinity: number, dt: number): number => {
        const n = new QIF(1, dt, { ...base, affinity });
        const pulse = tf.fill([1, 1], 0.5);
        const none = tf.zeros([1, 1]);
        n.forward(pulse).dispose();
        n.forward(none).dispose();
        const d = n.voltage.dataSync()[0]! - base.restV;
        [n, pulse, none].forEach((t) => t.dispose());
        return d;
      };
      const closedForm = (affinity: number, dt: number): number => {
        const d1 = (dt * 0.5) / base.tauM;
        return d1 + (dt / base.tauM) * affinity * d1 * (d1 - (base.critV - base.restV));
      };
      // a = 0.1: τ_r = 5 ms; dt = 6 ms < τ_m overshoots rest but was not warned about
      warnings.length = 0;
      expect(afterPulse(0.1, 6)).toBeCloseTo(closedForm(0.1, 6), 4);
      expect(closedForm(0.1, 6)).toBeLessThan(0);
      expect(warnings.join('\n')).toMatch(/QIF: dt = 6 ms exceeds tauM\/\(affinity·\(critV − restV\)\) = 5 ms; .*overshoots every step/);
      // a = 0.01: τ_r = 50 ms; dt = 15 ms > τ_m relaxes monotonically but was warned about
      warnings.length = 0;
      expect(afterPulse(0.01, 15)).toBeCloseTo(closedForm(0.01, 15), 4);
      expect(closedForm(0.01, 15)).toBeGreaterThan(0);
      expect(warnings).toEqual([]);
      // Izhikevich (2003) in Inferno form, dt = 1.3 ms: τ_r = 1/(0.04·40.31) = 0.62 ms, so Euler diverges
      warnings.length = 0;
      const disc = Math.sqrt(25 - 4 * 0.04 * 140);
      const z = new Izhikevich(1, 1.3, {
        restV: (-5 - disc) / 0.08, critV: (-5 + disc) / 0.08, affinity: 0.04, tauM: 1, threshV: 30, resetV: -65, refracT: 0,
        tauAdapt: 50, voltageCoupling: 0.2, adaptIncrement: 8,
      });
      z.dispose();
      expect(warnings.join('\n')).toMatch(/Izhikevich: dt = 1\.3 ms exceeds tauM\/\(affinity·\(critV − restV\)\) = 0\.62\d* ms; .*diverges/);
    } finally {
      setWarningHandler(prev);
    }
  });

  it('memory is flat over 1000 steps for AdEx and Izhikevich (batch 2, refracLock on and off)', () => {
    const a = new AdEx(3, 0.5, {
      restV: -70, rheobaseV: -50, sharpness: 2, resetV: -58, threshV: -30, refracT: 1, tauM: 10,
      tauAdapt: [100, 20], voltageCoupling: 0.1, adaptIncrement: 2, batchSize: 2,
    });
    const z = new Izhikevich(3, 0.5, {
      restV: -60, critV: -40, affinity: 0.1, resetV: -55, threshV: 0, refracT: 1, tauM: 10,
      tauAdapt: 50, voltageCoupling: 0.2, adaptIncrement: 2, batchSize: 2, batchReduction: 'none',
    });
    const x = tf.fill([2, 3], 40);
    for (const lock of [true, false]) {
      a.forward(x, { refracLock: lock }).dispose();
      z.forward(x, { refracLock: lock }).dispose();
    }
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) {
      a.forward(x, { refracLock: i % 2 === 0 }).dispose();
      z.forward(x, { refracLock: i % 2 === 1 }).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    a.dispose();
    z.dispose();
  });
});
