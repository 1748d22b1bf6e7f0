// refracCount: 'steps' locks a neuron out for exactly the k steps Brian2 counts (its `timestep` rule,
// k = ⌊refracT/dt + 10⁻³⌋), robust to the float32 countdown's drift (refracT = 5 ms at dt = 0.1 ms:
// 50 steps, where the countdown of 'time' holds 51), on the op path and the fused wasm/cpu kernel, for
// every NeuronGroup model; 'time' keeps Inferno's float32 countdown unchanged. References: Brian2's
// refractoriness test written here as Brian2 evaluates it (brian2Steps), a table of counts measured
// with Brian2 2.5.1, a float32 replay of the documented countdown (Math.fround), and the closed forms
// k·m for the spike times of a neuron driven hard enough to fire whenever it is free.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from '../../kernels/backends.js';
import { tf } from '../../../src/core/tf.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { setFusedKernels } from '../../../src/kernels/js/fused-memory.js';
import { FUSED_NEURON } from '../../../src/kernels/js/fused-neuron.js';
import { AdEx, ALIF, EIF, GLIF2, Izhikevich, LIF, QIF, MAX_REFRAC_STEPS, refracStepCount, type NeuronGroup, type RefracCount } from '../../../src/neural/neurons/index.js';
import { moduleFromArtifacts, moduleToArtifacts } from '../../../src/io/serialize.js';

const backends = fusedBackends();
const f = Math.fround;
/** A current that takes any of the models below from reset past threshold in one step. */
const HARD = 1e6;

/** Steps from a spike to the next possible one under 'time': r = fl(refracT), r ← fl(max(r − d, 0)) in float32, free when r ≤ d. */
function timeCountdown(refracT: number, dt: number): number {
  const d = f(dt);
  let r = f(refracT);
  for (let k = 1; ; k++) {
    if (r <= d) return k;
    r = f(Math.max(f(r - d), 0));
  }
}

// 3 neurons: the fused kernel's element loop; 4: its SIMD lanes on wasm
const lif = (refracT: number, dt: number, refracCount?: RefracCount, batchSize = 2, n = 3) =>
  new LIF([n], dt, { restV: -65, resetV: -70, threshV: -55, refracT, tauM: 10, batchSize, ...(refracCount ? { refracCount } : {}) });

/** Runs `steps` steps of input HARD; returns the steps (from 0) at which every neuron fired (all fire together), and optionally the refractory state after each step (neuron 0). */
async function run(n: NeuronGroup, steps: number, keepRefrac = false): Promise<{ times: number[]; refrac: number[] }> {
  const x = tf.fill(n.batchedShape, HARD);
  const times: number[] = [];
  const refrac: number[] = [];
  for (let t = 0; t < steps; t++) {
    const s = n.forward(x);
    const d = (await s.data()) as Float32Array;
    s.dispose();
    const fired = d.reduce((a, b) => a + b, 0);
    if (fired !== 0 && fired !== d.length) throw new Error(`step ${t}: ${fired} of ${d.length} neurons fired (expected all or none)`);
    if (fired) times.push(t);
    if (keepRefrac) refrac.push(((await n.refrac.data()) as Float32Array)[0]!);
  }
  x.dispose();
  return { times, refrac };
}

/** Brian2's `timestep(t, dt)` (brian2/core/functions.py): int64((t + 10⁻³·dt)/dt), in float64. */
const timestep = (t: number, dt: number): number => Math.trunc((t + 1e-3 * dt) / dt);

/**
 * The steps Brian2 2.5 holds a neuron after a spike, written as Brian2 decides it: with the period and
 * the step in seconds (`refracT*ms`, `dt*ms`, ms = 0.001), a neuron that fired at clock step n
 * (lastspike = n·dt, the clock's t = i·dt) is free at step n + j once
 * `timestep(t − lastspike, dt) >= timestep(refractory, dt)`; returns the first such j ≥ 1, or 0 for
 * refracT = 0 (Cinder keeps no refractory state then; Brian2's 1 is no lock-out either).
 */
function brian2Steps(refracT: number, dt: number, n = 1234): number {
  if (refracT === 0) return 0;
  const h = dt * 0.001;
  const held = timestep(refracT * 0.001, h);
  for (let j = 1; ; j++) if (timestep((n + j) * h - n * h, h) >= held) return j;
}

/**
 * k measured with Brian2 2.5.1 (numpy target): one neuron with `threshold='True'`, the gap in steps
 * between its spikes, the same with `refractory=refracT*ms` and with `refractory='refv'` (a parameter);
 * [refracT (ms), dt (ms), k].
 */
const BRIAN2_MEASURED: readonly (readonly [number, number, number])[] = [
  [2.5, 1, 2], [0.25, 0.1, 2], [5, 0.1, 50], [0.3, 0.1, 3], [0.7, 0.1, 7], [1.1, 0.1, 11], [2, 0.1, 20],
  [0.5, 1, 1], [1, 1, 1], [1.5, 0.5, 3], [1.3, 0.5, 2], [0.999, 1, 1], [1.999, 1, 2], [2.0005, 1, 2], [2.0015, 1, 2],
  [2.9995, 1, 3], [0.35, 0.1, 3], [0.05, 0.1, 1], [3, 1, 3], [1.2, 0.1, 12], [4.8, 0.1, 48], [7.8125, 0.1, 78],
  [0.0999, 0.1, 1], [0.0995, 0.1, 1], [0.2999, 0.1, 3], [0.1999, 0.1, 2], [2.7, 0.3, 9], [0.9, 0.3, 3], [1, 0.3, 3],
  [0.6, 0.2, 3], [0.9, 0.1, 9], [40, 0.1, 400], [400, 0.1, 4000], [500, 0.1, 5000], [2.5, 0.25, 10], [1.7, 0.25, 6],
  [0.15, 0.05, 3], [3.1416, 0.1, 31], [0.4, 0.1, 4], [0.8, 0.1, 8], [1.3, 0.1, 13], [1.4, 0.1, 14], [2.3, 0.1, 23],
  [2.9, 0.1, 29], [5.7, 0.1, 57], [8.2, 0.1, 82], [9.1, 0.1, 91], [6.3, 0.7, 9], [0.6, 0.1, 6],
];

/** Spike times m·max(k, 1) for m = 0, 1, … up to `steps` − 1. */
function every(k: number, steps: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < steps; t += Math.max(k, 1)) out.push(t);
  return out;
}

describe("refracStepCount: Brian2's count k = ⌊refracT/dt + 10⁻³⌋ (its timestep rule)", () => {
  it('the counts measured with Brian2, and its rule written out (brian2Steps) agrees with them', () => {
    for (const [refracT, dt, k] of BRIAN2_MEASURED) {
      expect(brian2Steps(refracT, dt), `brian2Steps(${refracT}, ${dt})`).toBe(k);
      expect(refracStepCount(refracT, dt), `refracStepCount(${refracT}, ${dt})`).toBe(k);
    }
  });

  it('equals brian2Steps on a grid of periods (every 0.0001 ms up to 3 ms) and steps, float32-rounded ones included', () => {
    for (const dt of [0.1, 0.05, 0.3, 1, 0.025, 0.7, f(0.1), f(0.3)]) {
      for (let m = 0; m <= 30000; m++) {
        const refracT = m / 10000;
        for (const t of [refracT, f(refracT)]) {
          const k = refracStepCount(t, dt);
          if (k !== brian2Steps(t, dt)) expect.fail(`refracT ${t}, dt ${dt}: ${k}, Brian2 ${brian2Steps(t, dt)}`);
        }
      }
    }
  });

  it('closed forms and refusals', () => {
    expect(refracStepCount(5, f(0.1))).toBe(50); // 5/fl(0.1) = 49.99999925…
    expect(refracStepCount(f(1.1), 0.1)).toBe(11); // fl(1.1)/0.1 = 11.0000002…
    expect(refracStepCount(2, 0.1)).toBe(20); // 2/0.1 = 19.999999999999996 in float64
    expect(refracStepCount(2.35, 0.1)).toBe(23); // not a multiple: rounds down, as Brian2
    expect(refracStepCount(0, 0.1)).toBe(0);
    expect(refracStepCount(1e-9, 0.1)).toBe(1);
    expect(() => refracStepCount(-1, 0.1)).toThrow(CinderArgumentError);
    expect(() => refracStepCount(1, 0)).toThrow(CinderArgumentError);
  });
});

describe("refracCount 'steps': the float32 countdown from r₀ = fl((k − ½)·fl(dt)) holds exactly k − 1 steps for every k ≤ MAX_REFRAC_STEPS", () => {
  it.each([0.1, 0.01, 0.3, 0.7])('dt = %s, k = 1 … 4000 (float32 replay)', (dt) => {
    const d = f(dt);
    for (let k = 1; k <= MAX_REFRAC_STEPS; k++) {
      let r = f((k - 0.5) * d);
      let locked = 0;
      while (!(r <= d) && locked <= k) {
        locked++;
        r = f(Math.max(f(r - d), 0));
      }
      if (locked !== k - 1 || !(r > 0)) expect.fail(`dt ${dt}, k ${k}: ${locked} locked steps, r = ${r}`);
    }
  });

  it('the group sets that r₀ (refracStart), refracT for "time"; refracT over 4000 steps, or a bad refracCount, throws before anything is made', () => {
    for (const [refracT, dt] of [[5, 0.1], [2.35, 0.1], [0.05, 0.1], [400, 0.1], [1.3, 0.5]] as const) {
      const k = brian2Steps(refracT, dt);
      const n = lif(refracT, dt, 'steps');
      expect(n.refracStart).toBe(f((k - 0.5) * f(dt)));
      expect(n.refracCount).toBe('steps');
      n.dispose();
      const m = lif(refracT, dt);
      expect(m.refracStart).toBe(refracT);
      expect(m.refracCount).toBe('time');
      m.dispose();
    }
    const z = lif(0, 0.1, 'steps');
    expect(z.refracStart).toBe(0);
    z.dispose();
    const before = tf.memory().numTensors;
    expect(() => lif(400.1, 0.1, 'steps')).toThrow(/^invalid refracT: got 400\.1, expected at most 4000 steps of dt = 0\.1 ms with refracCount "steps" \(k = ⌊refracT\/dt \+ 10⁻³⌋ = 4001\)/);
    expect(() => lif(2, 0.1, 'step' as RefracCount)).toThrow('invalid refracCount: got "step", expected "time" or "steps"');
    expect(tf.memory().numTensors).toBe(before);
    expect(() => lif(400.1, 0.1)).not.toThrow(); // 'time' has no limit
  });
});

describe.each(backends)('refracCount on %s', (backend) => {
  describe.each([['op path', false], ['fused kernel', true]] as const)('%s', (_path, fused) => {
    const setup = async () => {
      await tf.setBackend(backend);
      setFusedKernels(fused);
    };

    it("'steps', refracT = 5, dt = 0.1: fires every 50 steps, 202 spikes ('time' fires every 51, as its float32 countdown)", async () => {
      await setup();
      const steps = 50 * 201 + 1;
      const n = lif(5, 0.1, 'steps', 2, 4);
      // the path under test is what runs
      const x = tf.fill(n.batchedShape, 0);
      const names = (await tf.profile(() => void n.forward(x).dispose())).kernelNames;
      expect(names.includes(FUSED_NEURON)).toBe(fused);
      n.clear();
      x.dispose();
      const { times, refrac } = await run(n, steps, true);
      n.dispose();
      expect(times.length).toBe(202);
      expect(times).toEqual(every(50, steps));
      // refrac after each step: r₀ = fl(49.5·d) on a spike, then the float32 countdown (replayed here)
      const d = f(0.1);
      let r = 0;
      for (let t = 0; t < steps; t++) {
        r = t % 50 === 0 ? f(49.5 * d) : f(Math.max(f(r - d), 0));
        if (refrac[t] !== r) expect.fail(`step ${t}: refrac ${refrac[t]}, expected ${r}`);
      }
      // 'time' unchanged: the countdown of 5, 4.9, … ends after 51 steps
      expect(timeCountdown(5, 0.1)).toBe(51);
      const m = lif(5, 0.1, 'time', 2, 4);
      const old = await run(m, 51 * 201 + 1, true);
      m.dispose();
      expect(old.times).toEqual(every(51, 51 * 201 + 1));
      r = 0;
      for (let t = 0; t < old.refrac.length; t++) {
        r = t % 51 === 0 ? f(5) : f(Math.max(f(r - d), 0));
        if (old.refrac[t] !== r) expect.fail(`'time' step ${t}: refrac ${old.refrac[t]}, expected ${r}`);
      }
    });

    it.each([
      [2.35, 0.1],
      [0.25, 0.1],
      [2.5, 1],
      [0.3, 0.1],
      [1.3, 0.5],
      [0.1999, 0.1],
      [0.05, 0.1],
      [0, 0.1],
    ])("'steps', refracT = %s, dt = %s: Brian2's k, 200 spikes at multiples of max(k, 1); 'time' at multiples of its countdown", async (refracT, dt) => {
      await setup();
      const k = brian2Steps(refracT, dt);
      const steps = 200 * Math.max(k, 1);
      const n = lif(refracT, dt, 'steps');
      expect((await run(n, steps)).times).toEqual(every(k, steps));
      n.dispose();
      const kt = refracT > 0 ? timeCountdown(refracT, dt) : 1;
      const m = lif(refracT, dt);
      expect((await run(m, 200 * kt)).times).toEqual(every(kt, 200 * kt));
      m.dispose();
    });

    it("'steps', k = 4000 (the largest): refracT = 40, dt = 0.01 fires at 0, 4000, 8000 ('time': every 4001)", async () => {
      await setup();
      expect(timeCountdown(40, 0.01)).toBe(4001);
      const n = lif(40, 0.01, 'steps', 1);
      expect((await run(n, 8001)).times).toEqual([0, 4000, 8000]);
      n.dispose();
    });

    it("'steps' with an adaptive threshold (ALIF): every 50 steps, θ = 0.5 per spike (held from each spike through its lock-out)", async () => {
      await setup();
      const dt = 0.1;
      const tau = 30;
      const inc = 0.5;
      const n = new ALIF([4], dt, { restV: -65, resetV: -70, threshV: -55, refracT: 5, tauM: 10, tauAdapt: tau, adaptIncrement: inc, batchSize: 2, refracCount: 'steps' });
      n.train(true);
      const steps = 50 * 30 + 1;
      const { times } = await run(n, steps);
      expect(times).toEqual(every(50, steps));
      // θ ← θ·e^{−dt/τ} only on steps that end free (r = 0): with a spike every 50 steps every step is
      // a spike step or locked (r > 0 through the last locked step), so θ = inc per spike, never decayed
      const theta = inc * times.length;
      void tau;
      const got = (await n.adaptation.data()) as Float32Array;
      for (const g of got) expect(Math.abs(g - theta)).toBeLessThanOrEqual(1e-5 * theta);
      n.dispose();
    });
  });
});

describe("refracCount 'steps' on the other models (op path): refracT = 5, dt = 0.1 fires every 50 steps", () => {
  const common = { refracT: 5, batchSize: 1, refracCount: 'steps' as const };
  const makes: [string, () => NeuronGroup][] = [
    ['QIF', () => new QIF([2], 0.1, { ...common, restV: -60, critV: -45, affinity: 0.1, resetV: -62, threshV: -20, tauM: 10 })],
    ['EIF', () => new EIF([2], 0.1, { ...common, restV: -70, rheobaseV: -52, sharpness: 2, resetV: -60, threshV: -30, tauM: 12 })],
    ['AdEx', () => new AdEx([2], 0.1, { ...common, restV: -70, rheobaseV: -50, sharpness: 2, resetV: -58, threshV: -30, tauM: 10, tauAdapt: 100, voltageCoupling: 0.1, adaptIncrement: 3 })],
    ['Izhikevich', () => new Izhikevich([2], 0.1, { ...common, restV: -60, critV: -40, affinity: 0.1, resetV: -55, threshV: 0, tauM: 10, tauAdapt: 50, voltageCoupling: 0.2, adaptIncrement: 2 })],
    ['GLIF2', () => new GLIF2([2], 0.1, { ...common, restV: -70, resetVMul: 0.4, resetVAdd: 3, threshV: -50, tauM: 15, rateAdapt: 0.05, adaptIncrement: 2 })],
  ];
  it.each(makes)('%s', async (_name, make) => {
    await tf.setBackend(backends[0] ?? tf.getBackend());
    setFusedKernels(true);
    const n = make();
    const steps = 50 * 40 + 1;
    expect((await run(n, steps)).times).toEqual(every(50, steps));
    n.dispose();
  });
});

describe('refracCount in save/load', () => {
  it("'steps' is recorded in the extras (a file loads only into a group that counts the same way); 'time' files are unchanged", async () => {
    await tf.setBackend(backends[0] ?? tf.getBackend());
    const a = lif(5, 0.1, 'steps');
    expect(a.extras().refracCount).toBe('steps');
    expect('refracCount' in lif(5, 0.1).extras()).toBe(false);
    expect(Object.keys(lif(5, 0.1).extras())).toEqual(['model', 'shape', 'dt', 'batchSize', 'restV', 'resetV', 'refracT', 'receptors', 'threshV', 'tauM', 'resistance']);
    await run(a, 20);
    const saved = await moduleToArtifacts(a);
    const b = lif(5, 0.1, 'steps');
    moduleFromArtifacts(b, saved);
    expect(Array.from((await b.refrac.data()) as Float32Array)).toEqual(Array.from((await a.refrac.data()) as Float32Array));
    // the restored group continues the lock-out: spikes (from step 20 of the run) at 50, 100
    const rest = await run(b, 81);
    expect(rest.times.map((t) => t + 20)).toEqual([50, 100]);
    const c = lif(5, 0.1, 'time');
    expect(() => moduleFromArtifacts(c, saved)).toThrow(/extras\.refracCount of the module in the file: got "steps", expected undefined/);
    for (const m of [a, b, c]) m.dispose();
  });
});
