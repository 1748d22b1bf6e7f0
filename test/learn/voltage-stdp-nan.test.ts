// Non-finite voltages in voltage-gated STDP: one behaviour on every path. A NaN voltage gives a
// NaN drive (while plasticity is on), so L and I of its site become NaN and so does the weight of
// every synapse sampling it at its next presynaptic spike: the fault reaches the weights, where the
// finite checks see it, instead of reading as closed gates. +∞ (excitatory) opens both gates.
// Plasticity off: the voltage is not read (L decays, I integrates, weights stay).
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { LinearDense } from '../../src/neural/connections/linear-dense.js';
import { constantInit } from '../../src/neural/connections/initializers.js';
import { VoltageSTDP, type VoltageStdpCell } from '../../src/learn/trainers/voltage-stdp.js';
import { EXCITATORY_VOLTAGE_STDP, INHIBITORY_VOLTAGE_STDP, VoltageStdpSites, voltageStdpStep } from '../../src/kernels/js/voltage-stdp.js';
import { CultureEngine, type CultureSpec } from '../../src/kernels/js/culture.js';

const dt = 0.1;
const E = EXCITATORY_VOLTAGE_STDP;

/** One trainer step: voltages v [1, 2] of two post neurons, both presynaptic units spike; returns w [2, 2] (row j = post j). */
function trainerStep(v: number[], on = true): number[] {
  const conn = new LinearDense([2], [2], dt, { weightInit: constantInit(1) });
  const vt = tf.tensor2d([v]);
  const cell: VoltageStdpCell = {
    connection: conn,
    neuron: { voltage: vt, spike: vt, training: true },
    layer: { attach() {}, detach() {}, training: true },
  };
  const rule = new VoltageSTDP({});
  rule.register(cell);
  if (!on) rule.disable();
  tf.tidy(() => void conn.forward(tf.tensor2d([[1, 1]])));
  rule.step();
  conn.update();
  const w = [...conn.weight.dataSync()];
  rule.dispose();
  conn.dispose();
  vt.dispose();
  return w;
}

/** The same with the kernel's sites: synapse c = 2j + i on site j. */
function kernelStep(v: number[], on = true): number[] {
  const sites = new VoltageStdpSites(2, Int32Array.from([0, 0, 1, 1]), dt, E);
  if (on) sites.enable();
  sites.advance(v);
  return [0, 1, 2, 3].map((c) => sites.pre(c));
}

/** float64: D(+∞) of the excitatory rule (both gates open, both sigmoids 1). */
function driveAtPlusInfinity(): number {
  const x = (-E.aLtd + 2 * E.aLtp) / E.learningScale;
  return 2 / (1 + E.slope ** -x) - 1;
}

describe('NaN and infinite voltages in voltage-gated STDP', () => {
  it('a NaN voltage makes the weights of its site NaN on both paths (the other site learns as usual)', () => {
    for (const [name, w] of [['trainer', trainerStep([NaN, -20])], ['kernel', kernelStep([NaN, -20])]] as const) {
      expect(w.slice(0, 2).every(Number.isNaN), name).toBe(true);
      expect(w.slice(2).every(Number.isFinite), name).toBe(true);
    }
  });

  it('the sites hold NaN in L and I (kernel) after a NaN voltage', () => {
    const sites = new VoltageStdpSites(1, Int32Array.from([0]), dt, E);
    sites.enable();
    sites.advance([NaN]);
    expect(Number.isNaN(sites.signal[0]!)).toBe(true);
    expect(Number.isNaN(sites.integral[0]!)).toBe(true);
  });

  it('plasticity off: a NaN voltage is not read (weights and I stay)', () => {
    expect(trainerStep([NaN, -20], false)).toEqual([1, 1, 1, 1]);
    expect(kernelStep([NaN, -20], false)).toEqual([1, 1, 1, 1]);
    const sites = new VoltageStdpSites(1, Int32Array.from([0]), dt, E);
    sites.advance([NaN]);
    expect([sites.signal[0], sites.integral[0]]).toEqual([0, 0]);
  });

  it('+∞ (excitatory) drives with both gates open on both paths: I = D(+∞)·τ_L(dt − τ_L(1 − α))/125', () => {
    const c = voltageStdpStep(dt, E.tauSignal);
    const dI = driveAtPlusInfinity() * c.driveToIntegral;
    const sites = new VoltageStdpSites(1, Int32Array.from([0]), dt, E);
    sites.enable();
    sites.advance([Infinity]);
    expect(sites.integral[0]).toBeCloseTo(dI, 12);
    // one step: w = 1·(1 + I − 0)
    for (const [name, w] of [['trainer', trainerStep([Infinity, -80])], ['kernel', kernelStep([Infinity, -80])]] as const) {
      expect(w[0], name).toBeCloseTo(1 + dI, 6);
      expect(w[2], name).toBe(1);
    }
  });

  it('−∞ (inhibitory: gates open, sigmoids 0) gives no drive on the kernel path', () => {
    const sites = new VoltageStdpSites(1, Int32Array.from([0]), dt, INHIBITORY_VOLTAGE_STDP);
    sites.enable();
    sites.advance([-Infinity]);
    expect([sites.signal[0], sites.integral[0]]).toEqual([0, 0]);
  });

  it('culture: a NaN membrane voltage reaches the plastic weights of the synapses onto it', () => {
    // neuron 0 → neuron 1 (AMPA, delay 1 step); no noise; neuron 0 forced over threshold
    const spec: CultureSpec = {
      dt,
      populations: [{ capacitance: 200, gLeak: 10, eLeak: -65, vThreshold: -50, vReset: -60, refractory: 2, vPeak: 20, spikeWidth: 1 }],
      population: Uint8Array.from([0, 0]),
      noise: { ge0: 0, gi0: 0, sigmaE: 0, sigmaI: 0, tauE: 33, tauI: 28.5, eE: 0, eI: -75 },
      receptors: [{ name: 'AMPA', tauRise: 0.5, tauDecay: 3, reversal: 0, mgBlock: false, group: 0 }],
      groups: [E],
      edgePre: Int32Array.from([0]),
      edgePost: Int32Array.from([1]),
      edgeReceptor: Uint8Array.from([0]),
      edgeWeight: Float32Array.from([1]),
      edgeDelay: Int32Array.from([1]),
      seed: 1,
    };
    for (const nan of [false, true]) {
      const engine = new CultureEngine(spec);
      engine.sites[0]!.enable();
      engine.v[0] = 100;
      if (nan) engine.v[1] = NaN;
      engine.run(3);
      expect(Number.isNaN(engine.v[1]!)).toBe(nan);
      const w = engine.plasticWeight(0);
      if (nan) expect(Number.isNaN(w)).toBe(true);
      else expect(Number.isFinite(w)).toBe(true);
    }
  });
});
