// Izhikevich (2003) published parameter sets, run through Cinder's Inferno-form Izhikevich model,
// against an independent float64 loop of the published equations
//     v' = 0.04v² + 5v + 140 − u + I,   u' = a(bv − u),   v ≥ 30 → v ← c, u ← u + d
// with the same dt and update order (Euler v, threshold and reset, then Euler u with the reset v
// and the spike increment). The Inferno form is the same system written around the lower root
// V_rest of 0.04v² + 5v + 140: a = 0.04, τ_m = 1, R = 1, V_crit the upper root, τ_w = 1/a,
// coupling b, w = u − b·V_rest, so the injected current is I − b·V_rest (u' = a(b(v − V_rest) − w)).
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Izhikevich } from '../../../src/neural/neurons/index.js';

const disc = Math.sqrt(25 - 4 * 0.04 * 140);
const rootLo = (-5 - disc) / 0.08; // ≈ −82.656
const rootHi = (-5 + disc) / 0.08; // ≈ −42.344

/** Spike count and first spike step of the published equations in float64. */
function published(a: number, b: number, c: number, d: number, I: number, dt: number, steps: number): { count: number; first: number } {
  let v = rootLo;
  let u = b * rootLo;
  let count = 0;
  let first = -1;
  for (let t = 1; t <= steps; t++) {
    v = v + dt * (0.04 * v * v + 5 * v + 140 - u + I);
    const fired = v >= 30;
    if (fired) {
      v = c;
      count++;
      if (first < 0) first = t;
    }
    u = u + dt * a * (b * v - u) + (fired ? d : 0);
  }
  return { count, first };
}

const sets = {
  'regular spiking': { a: 0.02, b: 0.2, c: -65, d: 8 },
  'intrinsically bursting': { a: 0.02, b: 0.2, c: -55, d: 4 },
  chattering: { a: 0.02, b: 0.2, c: -50, d: 2 },
  'fast spiking': { a: 0.1, b: 0.2, c: -65, d: 2 },
  'low-threshold spiking': { a: 0.02, b: 0.25, c: -65, d: 2 },
} as const;

describe('Izhikevich published parameter sets: spike counts over 1 s match a float64 loop of the published equations', () => {
  const dt = 0.5;
  const steps = 2000; // 1 s
  const currents = [4, 10, 15]; // one per batch sample ('none': every sample keeps its own u)
  for (const [name, p] of Object.entries(sets)) {
    it(`${name} (a=${p.a}, b=${p.b}, c=${p.c}, d=${p.d}), I = ${currents.join(', ')}`, () => {
      const n = new Izhikevich(1, dt, {
        restV: rootLo,
        critV: rootHi,
        affinity: 0.04,
        tauM: 1,
        resistance: 1,
        threshV: 30,
        resetV: p.c,
        refracT: 0,
        tauAdapt: 1 / p.a,
        voltageCoupling: p.b,
        adaptIncrement: p.d,
        batchSize: currents.length,
        batchReduction: 'none',
      });
      const x = tf.tensor2d(currents.map((I) => [I - p.b * rootLo]), [currents.length, 1]);
      const counts = currents.map(() => 0);
      const first = currents.map(() => -1);
      for (let t = 1; t <= steps; t++) {
        const s = n.forward(x, { adapt: true });
        s.dataSync().forEach((f, k) => {
          if (f === 1) {
            counts[k]!++;
            if (first[k]! < 0) first[k] = t;
          }
        });
        s.dispose();
      }
      const want = currents.map((I) => published(p.a, p.b, p.c, p.d, I, dt, steps));
      expect(want.some((w) => w.count > 5)).toBe(true);
      expect(first).toEqual(want.map((w) => w.first));
      // float32 rounding may move one late spike across the 1 s boundary
      counts.forEach((cnt, k) => expect(Math.abs(cnt - want[k]!.count)).toBeLessThanOrEqual(1));
      x.dispose();
      n.dispose();
    });
  }
});
