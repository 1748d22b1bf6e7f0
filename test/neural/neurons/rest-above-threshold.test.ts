// LIF, ALIF and GLIF2 resting at or above threshold (a tonically driven cell, e.g. E_l = −49 mV over
// Θ = −50 mV in Brette et al.'s CUBA benchmark): accepted, and firing by itself with the period of
// the closed form (LIF) or of a float64 loop of the documented step (ALIF, GLIF2), on the op path and
// on the fused step kernel (wasm and cpu).
import { describe, expect, it } from 'vitest';
import { fusedBackends } from '../../kernels/backends.js';
import { tf } from '../../../src/core/tf.js';
import { setFusedKernels } from '../../../src/kernels/js/fused-memory.js';
import { ALIF, GLIF2, LIF } from '../../../src/neural/neurons/index.js';
import type { NeuronGroup } from '../../../src/neural/neurons/neuron-group.js';

const backends = fusedBackends();

/** Runs `steps` steps without input; returns the spike steps (1-based) of every neuron, the voltages and the last step's kernels. */
async function run(n: NeuronGroup, steps: number): Promise<{ spikes: number[][]; v: Float32Array[]; kernels: string[] }> {
  const spikes: number[][] = Array.from({ length: n.count }, () => []);
  const v: Float32Array[] = [];
  let kernels: string[] = [];
  for (let t = 1; t <= steps; t++) {
    let s!: tf.Tensor;
    if (t === steps) kernels = (await tf.profile(() => { s = n.forward({}); return s; })).kernels.map((k) => k.name);
    else s = n.forward({});
    const d = await s.data();
    s.dispose();
    d.forEach((x, j) => { if (x === 1) spikes[j]!.push(t); });
    v.push(((await n.voltage.data()) as Float32Array).slice());
  }
  return { spikes, v, kernels };
}

describe.each(backends)('rest at or above threshold on %s', (backend) => {
  // [rest, reset, Θ, refracT, τm, dt]: CUBA's neuron at dt 0.25 (k = 20, m = ⌈80·ln 11⌉ = 192),
  // a short period (k = 2, m = ⌈10·ln 5⌉ = 17), no refractory period (m = ⌈40·ln 2⌉ = 28)
  const lifCases: [number, number, number, number, number, number, number][] = [
    [-49, -60, -50, 5, 20, 0.25, 211],
    [-45, -70, -50, 2, 10, 1, 18],
    [-40, -60, -50, 0, 20, 0.5, 28],
  ];
  for (const fused of [false, true]) {
    it.each(lifCases)(`LIF rest %f, reset %f, Θ %f, refracT %f, τm %f, dt %f (${fused ? 'fused kernel' : 'op path'}): spikes at 1 + j·P, P = max(k,1) − 1 + ⌈(τm/dt)·ln((E_l − V_reset)/(E_l − Θ))⌉ = %i`, async (rest, reset, theta, refracT, tauM, dt, period) => {
      await tf.setBackend(backend);
      const was = setFusedKernels(fused);
      try {
        // the closed form: from V_reset, after m free steps V = E_l + (V_reset − E_l)·e^{−m·dt/τm} ≥ Θ
        const x = (tauM / dt) * Math.log((rest - reset) / (rest - theta));
        const m = Math.ceil(x);
        const k = Math.ceil(refracT / dt); // lock-out (NeuronGroup): fire at n, free again at n + k
        expect(Math.max(k, 1) - 1 + m).toBe(period);
        // margin of the discretised crossing from Θ (mV), far above the float32 rounding of V
        const vAt = (j: number) => rest + (reset - rest) * Math.exp((-j * dt) / tauM);
        expect(Math.min(theta - vAt(m - 1), vAt(m) - theta)).toBeGreaterThan(1e-3);
        for (const size of [8, 3]) {
          const n = new LIF([size], dt, { restV: rest, resetV: reset, threshV: theta, refracT, tauM });
          const steps = 3 * period + 5;
          const r = await run(n, steps);
          const expected: number[] = [];
          for (let s = 1; s <= steps; s += period) expected.push(s); // V_0 = E_l ≥ Θ: fires at step 1
          for (const sp of r.spikes) expect(sp).toEqual(expected);
          for (const s of expected) {
            expect(r.v[s - 1]![0]).toBe(reset);
            for (let j = 1; j < k && s + j <= steps; j++) expect(r.v[s - 1 + j]![0]).toBe(reset); // held while refractory
            if (s + k <= steps && k >= 1) expect(r.v[s - 1 + k]![0]).toBeCloseTo(vAt(1), 4); // first free step
          }
          expect(r.kernels.includes('CinderFusedNeuron')).toBe(fused); // the path under test ran
          n.dispose();
        }
      } finally {
        setFusedKernels(was);
      }
    });
  }

  // ALIF (one term) and GLIF2 against a float64 loop of their documented step: r ← max(r − dt, 0),
  // free when r_old ≤ dt; V' = E_l + (V − E_l)e^{−dt/τm} (held when not free); fire when free and
  // V' ≥ Θ∞ + θ; reset (ALIF: V_reset; GLIF2: E_l + m_v(V' − E_l) − b_v), r = refracT; then
  // θ ← θ·a unless r > 0 (refracLock), θ ← θ + d on a spike (B = 1: the reduction is the identity).
  function reference(o: { rest: number; theta: number; refracT: number; tauM: number; dt: number; a: number; d: number; reset: (v: number) => number }, steps: number) {
    const dm = Math.exp(-o.dt / o.tauM);
    let v = o.rest;
    let r = 0;
    let th = 0;
    let margin = Infinity;
    const spikes: number[] = [];
    const thetas: number[] = [];
    for (let t = 1; t <= steps; t++) {
      const free = r <= o.dt;
      let vn = free ? o.rest + (v - o.rest) * dm : v;
      if (free) margin = Math.min(margin, Math.abs(vn - (o.theta + th)));
      const fired = free && vn >= o.theta + th;
      if (fired) { spikes.push(t); vn = o.reset(vn); }
      r = fired ? o.refracT : Math.max(r - o.dt, 0);
      v = vn;
      th = (r > 0 ? th : th * o.a) + (fired ? o.d : 0);
      thetas.push(th);
    }
    return { spikes, thetas, margin };
  }

  const models: [string, () => NeuronGroup & { adaptation: tf.Tensor }, Parameters<typeof reference>[0]][] = [
    ['ALIF', () => new ALIF([4], 1, { restV: -45, resetV: -60, threshV: -50, refracT: 2, tauM: 10, tauAdapt: 100, adaptIncrement: 1 }),
      { rest: -45, theta: -50, refracT: 2, tauM: 10, dt: 1, a: Math.exp(-1 / 100), d: 1, reset: () => -60 }],
    ['GLIF2', () => new GLIF2([4], 1, { restV: -45, threshV: -50, resetVMul: 0.2, resetVAdd: 8, refracT: 2, tauM: 10, rateAdapt: 0.01, adaptIncrement: 1 }),
      { rest: -45, theta: -50, refracT: 2, tauM: 10, dt: 1, a: Math.exp(-0.01), d: 1, reset: (v) => -45 + 0.2 * (v + 45) - 8 }],
  ];
  for (const fused of [false, true]) {
    it.each(models)(`%s resting above Θ∞ (${fused ? 'fused kernel where the model has one' : 'op path'}): spike steps and θ as the float64 loop over 300 steps`, async (_name, make, o) => {
      await tf.setBackend(backend);
      const was = setFusedKernels(fused);
      try {
        const ref = reference(o, 300);
        expect(ref.margin).toBeGreaterThan(1e-3); // no near-tie at the threshold
        expect(ref.spikes.length).toBeGreaterThan(10);
        const n = make();
        n.train(true);
        const r = await run(n, 300);
        for (const sp of r.spikes) expect(sp).toEqual(ref.spikes);
        const th = (await n.adaptation.data()) as Float32Array;
        for (const x of th) expect(Math.abs(x - ref.thetas[299]!)).toBeLessThan(1e-4);
        expect(r.kernels.includes('CinderFusedNeuron')).toBe(fused && n instanceof ALIF); // GLIF2 has no fused step
        n.dispose();
      } finally {
        setFusedKernels(was);
      }
    });
  }
});
