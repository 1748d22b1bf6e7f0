// Every neuron model, synapse, connection type and STDP-family trainer on webgpu equals the cpu
// backend within float32 tolerance over 60 steps. Each case is a plain function run once per
// backend (fresh objects, deterministic inputs from a seeded JS generator) that returns its trace
// through one `await data()`, so no tensor crosses backends.
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { AdEx, ALIF, EIF, ExactNeuron, GLIF2, Izhikevich, LIF, QIF } from '../../src/neural/neurons/index.js';
import {
  DeltaCurrent, DeltaPlusCurrent, DoubleExponentialConductance, DoubleExponentialCurrent, ExponentialConductance, SingleExponentialCurrent,
} from '../../src/neural/synapses/index.js';
import { Conv2D, LinearDense, LinearDirect, LinearLateral, MaskedLinear, type Connection } from '../../src/neural/connections/index.js';
import {
  DelayAdjustedSTDP, DelayAdjustedMSTDP, KernelSTDP, LinearHomeostasis, MSTDP, MSTDPET, STDP, TripletSTDP, expStdpPostKernel, expStdpPreKernel,
} from '../../src/learn/trainers/index.js';
import type { Neuron, Synapse } from '../../src/neural/types.js';
import { ForcedNeurons, TestLayer } from '../learn/trainers/harness.js';
import { onBackend, webgpuForTests } from './gpu.js';

const gpu = await webgpuForTests();
const STEPS = 60;

/** Deterministic 0/1 trains [steps][n]. */
function trains(seed: number, steps: number, n: number, p: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: steps }, () => Array.from({ length: n }, () => (rng.uniform() < p ? 1 : 0)));
}

/** Deterministic weights from a seed (an Initializer). */
const init = (seed: number, lo = -0.5, hi = 1) => (shape: readonly number[]) => {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform()), [...shape]);
};

/** Stacks the kept per-step tensors and downloads them once. */
async function collect(kept: tf.Tensor[]): Promise<Float32Array> {
  const all = tf.stack(kept);
  try {
    return Float32Array.from(await all.data());
  } finally {
    all.dispose();
    tf.dispose(kept);
  }
}

function expectClose(got: Float32Array, want: Float32Array, rel = 1e-4) {
  expect(got.length).toBe(want.length);
  let scale = 1e-6;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (e > worst) [worst, at] = [e, i];
  }
  expect(worst / scale, `worst at ${at}: ${got[at]} vs ${want[at]}`).toBeLessThan(rel);
}

async function both(fn: () => Promise<Float32Array>, rel = 1e-4) {
  const cpu = await onBackend('cpu', fn);
  const wg = await onBackend('webgpu', fn);
  expectClose(wg, cpu, rel);
  return cpu;
}

// --- neurons: [2, 4] neurons, a ramp-and-wave current; voltages and spikes of every step.
const neurons: [string, () => Neuron, number?][] = [
  ['LIF', () => new LIF([4], 0.5, { restV: -65, resetV: -70, threshV: -50, refracT: 2, tauM: 20, batchSize: 2 })],
  ['ALIF', () => new ALIF([4], 0.5, { restV: -65, resetV: -70, threshV: -50, refracT: 1, tauM: 20, tauAdapt: [30, 200], adaptIncrement: [1, 0.5], batchSize: 2 })],
  ['GLIF2', () => new GLIF2([4], 0.5, { restV: -70, resetVMul: 0.4, resetVAdd: 3, threshV: -50, refracT: 1, tauM: 15, rateAdapt: [0.05, 0.01], adaptIncrement: [2, 0.5], batchSize: 2 }), 4],
  ['QIF', () => new QIF([4], 0.25, { restV: -60, critV: -45, affinity: 0.1, resetV: -62, threshV: -20, refracT: 1, tauM: 10, resistance: 2, batchSize: 2 })],
  ['EIF', () => new EIF([4], 0.125, { restV: -70, rheobaseV: -52, sharpness: 2, resetV: -60, threshV: -30, refracT: 2, tauM: 12, resistance: 0.5, batchSize: 2 }), 10],
  ['AdEx', () => new AdEx([4], 0.25, { restV: -70, rheobaseV: -50, sharpness: 2, resetV: -58, threshV: -30, refracT: 0.5, tauM: 10, resistance: 0.5, tauAdapt: [100, 30], voltageCoupling: [0.1, 0.05], adaptIncrement: [3, 1], batchSize: 2 }), 10],
  ['Izhikevich', () => new Izhikevich([4], 0.25, { restV: -60, critV: -40, affinity: 0.1, resetV: -55, threshV: 0, refracT: 0, tauM: 10, tauAdapt: 50, voltageCoupling: 0.2, adaptIncrement: 2, batchSize: 2 }), 3],
  ['ExactNeuron', () => new ExactNeuron([4], 1, { restV: -60, threshV: -50, batchSize: 2 })],
];

// --- synapses: [2, 3] units, spike trains in, currents (or conductances) out.
const spec = (dt: number, delaySteps = 0) => ({ shape: [3], dt, delaySteps, batchSize: 2 });
const synapses: [string, () => Synapse][] = [
  ['DeltaCurrent', () => new DeltaCurrent(spec(0.5), { charge: 3 })],
  ['DeltaPlusCurrent', () => new DeltaPlusCurrent(spec(1), { charge: 2 })],
  ['SingleExponentialCurrent (delayed)', () => new SingleExponentialCurrent(spec(1, 2), { tau: 3, charge: 1.5 })],
  ['DoubleExponentialCurrent', () => new DoubleExponentialCurrent(spec(0.2), { tauDecay: 10, tauRise: 2, charge: 0.8 })],
  ['ExponentialConductance', () => new ExponentialConductance(spec(0.5), { tau: 5, increment: 0.3 })],
  ['DoubleExponentialConductance', () => new DoubleExponentialConductance(spec(0.5), { tauDecay: 8, tauRise: 1, increment: 0.3 })],
];

// --- connections: batch 2; spikes in, synaptic output out.
const connections: [string, () => Connection][] = [
  ['LinearDense', () => new LinearDense([6], [4], 1, { batchSize: 2, weightInit: init(1), biasInit: init(2, 0, 0.1) })],
  ['LinearDense (delays)', () => new LinearDense([6], [4], 1, { batchSize: 2, maxDelay: 3, weightInit: init(3), delayInit: init(4, 0, 3) })],
  ['LinearDirect', () => new LinearDirect([5], 1, { batchSize: 2, weightInit: init(5) })],
  ['LinearLateral', () => new LinearLateral([5], 1, { batchSize: 2, weightInit: init(6) })],
  ['MaskedLinear', () => new MaskedLinear([6], [4], 1, { batchSize: 2, weightInit: init(7), mask: Array.from({ length: 4 }, (_, o) => Array.from({ length: 6 }, (_, i) => ((o + i) % 3 === 0 ? 1 : 0))) })],
  ['Conv2D', () => new Conv2D([5, 5, 1], 2, 3, 1, { batchSize: 2, weightInit: init(8) })],
];

// --- trainers on a dense [4 ← 6] connection, batch 2, forced pre/post trains; weights per step.
type Trainer = { register(c: unknown): unknown; step(...a: unknown[]): void; dispose(): void };
const trainers: [string, () => Trainer, (t: Trainer, step: number) => void][] = [
  ['STDP', () => new STDP({ lrPost: 0.1, lrPre: -0.05, tauPost: 20, tauPre: 10 }) as unknown as Trainer, (t) => t.step()],
  ['MSTDP', () => new MSTDP({ lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 7 }) as unknown as Trainer, (t, k) => t.step(k % 7 < 4 ? 1 : -0.5)],
  ['MSTDPET', () => new MSTDPET({ lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 7, tauEligibility: 25 }) as unknown as Trainer, (t, k) => t.step(k % 5 < 3 ? 1 : -1)],
  ['TripletSTDP', () => new TripletSTDP({ lrPostPair: 0.1, lrPostTriplet: 0.05, lrPrePair: -0.08, lrPreTriplet: 0.03, tauPostFast: 8, tauPostSlow: 30, tauPreFast: 10, tauPreSlow: 40 }) as unknown as Trainer, (t) => t.step()],
  ['KernelSTDP', () => new KernelSTDP({ kernelPost: expStdpPostKernel(0.1, 20), kernelPre: expStdpPreKernel(-0.05, 20) }) as unknown as Trainer, (t) => t.step()],
  ['DelayAdjustedSTDP', () => new DelayAdjustedSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 }) as unknown as Trainer, (t) => t.step()],
  ['DelayAdjustedMSTDP', () => new DelayAdjustedMSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 }) as unknown as Trainer, (t, k) => t.step(k % 4 < 2 ? 1 : -1)],
  ['LinearHomeostasis', () => new LinearHomeostasis({ plasticity: 0.1, target: 0.25 }) as unknown as Trainer, (t) => t.step()],
];

describe.skipIf(!gpu.ok)(`webgpu equals cpu over ${STEPS} steps (${gpu.detail})`, () => {
  for (const [name, make, gain = 1] of neurons) {
    it(`neuron ${name}`, async () => {
      const cpu = await both(async () => {
        const n = make();
        const kept: tf.Tensor[] = [];
        for (let k = 0; k < STEPS; k++) {
          const x = tf.tidy(() => tf.mul(tf.add(tf.reshape(tf.linspace(15, 40, 8), [2, 4]), Math.sin(k / 5) * 8), gain));
          const s = n.forward(x);
          kept.push(tf.concat([tf.reshape(s, [-1]), tf.reshape(n.voltage, [-1])]));
          s.dispose();
          x.dispose();
        }
        n.dispose();
        return collect(kept);
      });
      let spikes = 0;
      for (let k = 0; k < STEPS; k++) for (let i = 0; i < 8; i++) spikes += cpu[k * 16 + i]!;
      expect(spikes, 'the drive makes the neurons fire').toBeGreaterThan(0);
    });
  }

  for (const [name, make] of synapses) {
    it(`synapse ${name}`, async () => {
      const tr = trains(11, STEPS, 6, 0.2);
      await both(async () => {
        const syn = make();
        const kept: tf.Tensor[] = [];
        for (const row of tr) {
          const s = tf.tensor(row, [2, 3]);
          kept.push(tf.tidy(() => tf.reshape(syn.forward(s), [-1])));
          s.dispose();
        }
        syn.dispose();
        return collect(kept);
      });
    });
  }

  for (const [name, make] of connections) {
    it(`connection ${name}`, async () => {
      await both(async () => {
        const c = make();
        const n = c.inShape.reduce((a, b) => a * b, 1);
        const tr = trains(12, STEPS, 2 * n, 0.3);
        const kept: tf.Tensor[] = [];
        for (const row of tr) {
          kept.push(tf.tidy(() => tf.reshape(c.forward(tf.tensor(row, [2, ...c.inShape])), [-1])));
        }
        c.dispose();
        return collect(kept);
      });
    });
  }

  for (const [name, make, step] of trainers) {
    it(`trainer ${name}`, async () => {
      const pre = trains(13, STEPS, 12, 0.25);
      const post = trains(14, STEPS, 8, 0.2);
      const cpu = await both(async () => {
        const c = new LinearDense([6], [4], 1, { batchSize: 2, weightInit: init(9, 0, 1), ...(name.startsWith('DelayAdjusted') ? { maxDelay: 3, delayInit: init(10, 0, 3) } : {}) });
        const l = new TestLayer(c, new ForcedNeurons([4], 2));
        const rule = make();
        rule.register(l.cell);
        const kept: tf.Tensor[] = [];
        for (let k = 0; k < STEPS; k++) {
          l.step(pre[k]!, post[k]!);
          step(rule, k);
          c.update();
          kept.push(tf.reshape(tf.clone(c.weight), [-1]));
        }
        rule.dispose();
        l.dispose();
        return collect(kept);
      });
      expect(cpu.slice(-24).some((v, i) => Math.abs(v - cpu[i]!) > 1e-6), 'the weights changed').toBe(true);
    });
  }
});
