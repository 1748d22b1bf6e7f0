// AdEx published parameter sets (Brette & Gerstner 2005; Naud et al. 2008 firing patterns) run
// through Cinder's AdEx against an independent float64 loop of the published equations
//     C V' = −g_L(V − E_L) + g_L Δ_T e^{(V − V_T)/Δ_T} − w + I,   τ_w w' = a(V − E_L) − w,
//     V ≥ V_peak → V ← V_r, w ← w + b
// in Cinder's update order (Euler V, threshold and reset, then Euler w with the reset V and the
// spike increment). Units mV, ms, pA, nS, pF; the mapping is τ_m = C/g_L, R = 1/g_L (mV/pA).
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { AdEx } from '../../../src/neural/neurons/index.js';

interface Set {
  C: number; gL: number; EL: number; VT: number; DT: number; a: number; tauW: number; b: number; Vr: number; Vpeak: number;
  currents: number[];
}

function published(p: Set, I: number, dt: number, steps: number): { spikes: number[]; w: number } {
  let v = p.EL;
  let w = 0;
  const spikes: number[] = [];
  for (let t = 1; t <= steps; t++) {
    v = v + (dt / p.C) * (-p.gL * (v - p.EL) + p.gL * p.DT * Math.exp((v - p.VT) / p.DT) - w + I);
    const fired = v >= p.Vpeak;
    if (fired) {
      v = p.Vr;
      spikes.push(t);
    }
    w = w + (dt / p.tauW) * (p.a * (v - p.EL) - w) + (fired ? p.b : 0);
  }
  return { spikes, w };
}

const sets: Record<string, Set> = {
  'Brette–Gerstner 2005': { C: 281, gL: 30, EL: -70.6, VT: -50.4, DT: 2, a: 4, tauW: 144, b: 80.5, Vr: -70.6, Vpeak: 20, currents: [800, 1000, 1500] },
  'Naud 2008 adaptation': { C: 200, gL: 12, EL: -70, VT: -50, DT: 2, a: 2, tauW: 300, b: 60, Vr: -58, Vpeak: 0, currents: [500, 700, 900] },
  'Naud 2008 initial burst': { C: 130, gL: 18, EL: -58, VT: -50, DT: 2, a: 4, tauW: 150, b: 120, Vr: -50, Vpeak: 0, currents: [300, 400, 500] },
  'Naud 2008 regular bursting': { C: 200, gL: 10, EL: -58, VT: -50, DT: 2, a: 2, tauW: 120, b: 100, Vr: -46, Vpeak: 0, currents: [210, 300, 400] },
};

describe('AdEx published parameter sets: spike steps and w match a float64 loop of the published equations', () => {
  const dt = 0.2;
  const steps = 2500; // 500 ms
  for (const [name, p] of Object.entries(sets)) {
    it(`${name}, I = ${p.currents.join(', ')} pA`, () => {
      const B = p.currents.length;
      const n = new AdEx(1, dt, {
        restV: p.EL, rheobaseV: p.VT, sharpness: p.DT, tauM: p.C / p.gL, resistance: 1 / p.gL,
        threshV: p.Vpeak, resetV: p.Vr, refracT: 0,
        tauAdapt: p.tauW, voltageCoupling: p.a, adaptIncrement: p.b,
        batchSize: B, batchReduction: 'none',
      });
      const x = tf.tensor2d(p.currents.map((I) => [I]), [B, 1]);
      const got: number[][] = p.currents.map(() => []);
      for (let t = 1; t <= steps; t++) {
        const s = n.forward(x, { adapt: true });
        s.dataSync().forEach((f, k) => {
          if (f === 1) got[k]!.push(t);
        });
        s.dispose();
      }
      const w = Array.from(n.adaptation.dataSync());
      p.currents.forEach((I, k) => {
        const ref = published(p, I, dt, steps);
        expect(ref.spikes.length).toBeGreaterThan(3);
        // float32 rounding may shift a late spike by a step: compare counts exactly, steps to ±1
        expect(got[k]!.length, `${name} I=${I}`).toBe(ref.spikes.length);
        got[k]!.forEach((s, j) => expect(Math.abs(s - ref.spikes[j]!), `${name} I=${I} spike ${j}`).toBeLessThanOrEqual(1));
        // w after 500 ms (measured on wasm: relative error <= 1.1e-5, spike steps identical)
        expect(Math.abs(w[k]! - ref.w)).toBeLessThanOrEqual(1e-4 * Math.abs(ref.w));
      });
      x.dispose();
      n.dispose();
    });
  }
});
