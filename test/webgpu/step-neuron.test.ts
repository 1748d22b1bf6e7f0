// The fused WGSL neuron step (src/kernels/webgpu/step-neuron.ts) equals the cpu backend's op path
// (fused JS kernels off) within float32 tolerance over 50+ steps, for every neuron model with a
// FusedNeuronSpec (LIF, ALIF) in each variant the spec covers: refractory or not, refracLock on and
// off, no input, refractory periods that are not a multiple of dt, and each batch reduction of the
// adaptation; both routes: one dispatch for all the
// states (step-dispatch.ts), and one program per state. And it is what runs: dispatches counted.
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { ALIF, LIF, type NeuronGroup } from '../../src/neural/neurons/index.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';
import { countPrograms } from '../../src/kernels/webgpu/step-program.js';
import { SEQUENTIAL_MAX_BATCH, setSequentialMaxBatch } from '../../src/kernels/webgpu/step-neuron.js';
import { setMultiOutput } from '../../src/kernels/webgpu/step-dispatch.js';
import { onBackend, webgpuForTests } from './gpu.js';
import { download, worstRel } from './step-util.js';

const gpu = await webgpuForTests();
const STEPS = 50;
const B = 3;
const N = 4;

/** Runs `make()` for STEPS steps with a ramp-and-wave drive; returns [spikes, voltage, adaptation] per step. */
async function trace(make: () => NeuronGroup, opts: { refracLock?: boolean; noInputEvery?: number; gain?: number }): Promise<Float32Array> {
  const n = make();
  n.train();
  const kept: tf.Tensor[] = [];
  for (let k = 0; k < STEPS; k++) {
    const noInput = opts.noInputEvery !== undefined && k % opts.noInputEvery === 0;
    const x = noInput ? null : tf.tidy(() => tf.mul(tf.add(tf.reshape(tf.linspace(14, 40, B * N), [B, N]), Math.sin(k / 4) * 9), opts.gain ?? 1));
    const s = x ? n.forward(x, { refracLock: opts.refracLock ?? true }) : n.forward({}, { refracLock: opts.refracLock ?? true });
    const parts = [tf.reshape(s, [-1]), tf.reshape(n.voltage, [-1])];
    if (n instanceof ALIF) parts.push(tf.reshape(n.adaptation, [-1]));
    kept.push(tf.concat(parts));
    tf.dispose([s, ...parts]);
    x?.dispose();
  }
  n.dispose();
  return download(kept);
}

const lif = (refracT: number) => () => new LIF([N], 0.5, { restV: -65, resetV: -70, threshV: -50, refracT, tauM: 20, batchSize: B });
const alif = (reduction: 'mean' | 'sum' | 'max' | 'none', refracT = 1) => () =>
  new ALIF([N], 0.5, { restV: -65, resetV: -70, threshV: -50, refracT, tauM: 20, tauAdapt: [30, 200], adaptIncrement: [1, 0.5], batchReduction: reduction, batchSize: B });

const cases: [string, () => NeuronGroup, { refracLock?: boolean; noInputEvery?: number; gain?: number }][] = [
  ['LIF', lif(2), {}],
  ['LIF, no refractory period', lif(0), {}],
  ['LIF, refracLock off', lif(2), { refracLock: false }],
  ['LIF, some steps without input', lif(1.5), { noInputEvery: 3, gain: 1.6 }],
  ['ALIF mean', alif('mean'), {}],
  ['ALIF sum', alif('sum'), {}],
  ['ALIF max', alif('max'), {}],
  ['ALIF none (per sample)', alif('none'), {}],
  ['ALIF sum, refracLock off', alif('sum', 2), { refracLock: false }],
  ['ALIF mean, no refractory period', alif('mean', 0), {}],
  ['LIF, refractory period 1.3 ms (not a multiple of dt = 0.5)', lif(1.3), {}],
  ['ALIF max, refractory period 0.7 ms (not a multiple of dt), refracLock off', alif('max', 0.7), { refracLock: false }],
];

describe.skipIf(!gpu.ok)(`fused WGSL neuron step vs the cpu op path (${gpu.detail})`, () => {
  const was = setFusedKernels(true);
  afterAll(() => void setFusedKernels(was));

  for (const [name, make, opts] of cases) {
    it(name, async () => {
      setFusedKernels(false);
      const cpu = await onBackend('cpu', () => trace(make, opts));
      setFusedKernels(true);
      const wg = await onBackend('webgpu', () => trace(make, opts));
      expect(worstRel(wg, cpu)).toBeLessThan(1e-6); // measured ≤ 1.1e-7 (one float32 rounding of a voltage)
      let spikes = 0;
      for (let k = 0; k < STEPS; k++) for (let i = 0; i < B * N; i++) spikes += cpu[(k * cpu.length) / STEPS + i]!;
      expect(spikes, 'the drive makes the neurons fire').toBeGreaterThan(5);
    });
  }

  for (const red of ['mean', 'sum', 'max'] as const) {
    it(`ALIF ${red}, large-batch route (one workgroup per θ, tree reduction)`, async () => {
      setFusedKernels(false);
      const cpu = await onBackend('cpu', () => trace(alif(red), {}));
      setFusedKernels(true);
      const prev = setSequentialMaxBatch(1);
      try {
        const wg = await onBackend('webgpu', () => trace(alif(red), {}));
        expect(worstRel(wg, cpu)).toBeLessThan(1e-6);
      } finally {
        setSequentialMaxBatch(prev);
      }
    });
  }

  for (const [name, make, opts] of cases.filter(([n]) => ['LIF', 'LIF, no refractory period', 'ALIF mean', 'ALIF none (per sample)', 'ALIF sum, refracLock off'].includes(n))) {
    it(`${name}, one program per state (backends without the several-output dispatch)`, async () => {
      setFusedKernels(false);
      const cpu = await onBackend('cpu', () => trace(make, opts));
      setFusedKernels(true);
      const was = setMultiOutput(false);
      try {
        const wg = await onBackend('webgpu', () => trace(make, opts));
        expect(worstRel(wg, cpu)).toBeLessThan(1e-6);
      } finally {
        setMultiOutput(was);
      }
    });
  }

  // θ near float32's limit: an ALIF whose 'sum' reduction adds 2e38 per spiking sample
  // (θ ← θ·a + Σ_b s_b·c, rounded to float32 on both paths). No refractory hold: with one, θ's carried
  // part is the batch mean of the held values, which near float32's limit the cpu backend sums in
  // float64 and WGSL in float32 (one may overflow alone). (Parameters beyond float32's range, which once reached the programs as ±∞ WGSL
  // constants — 'value inf cannot be represented as f32', no step — are now refused by the neurons
  // before any program is built: checked below.)
  const huge: [string, () => NeuronGroup][] = [
    ['ALIF, adaptation increment 2e38 summed over the batch (θ near float32\'s limit)', () => new ALIF([N], 0.5, { restV: -65, resetV: -70, threshV: -50, refracT: 0, tauM: 20, tauAdapt: [30, 200], adaptIncrement: [2e38, 0.5], batchReduction: 'sum', batchSize: B })],
  ];
  it('parameters beyond float32 (threshold 1e39, reset −1e39, adaptation increment 1e39) are refused on webgpu before any program', async () => {
    await onBackend('webgpu', () => {
      expect(() => new LIF([N], 0.5, { restV: -65, resetV: -70, threshV: 1e39, refracT: 1, tauM: 20, batchSize: B })).toThrow(/invalid threshV: got 1e\+39/);
      expect(() => new LIF([N], 0.5, { restV: -65, resetV: -1e39, threshV: -50, refracT: 1, tauM: 20, batchSize: B })).toThrow(/invalid resetV: got -1e\+39/);
      expect(() => new ALIF([N], 0.5, { restV: -65, resetV: -70, threshV: -50, refracT: 1, tauM: 20, tauAdapt: [30, 200], adaptIncrement: [1e39, 0.5], batchReduction: 'sum', batchSize: B })).toThrow(/invalid adaptIncrement/);
    });
  });
  for (const [name, make] of huge) {
    for (const route of ['one dispatch', 'one program per state', 'large-batch route'] as const) {
      if (route === 'large-batch route' && !name.startsWith('ALIF')) continue;
      it(`${name}, ${route}: the op path's values`, async () => {
        setFusedKernels(false);
        const cpu = await onBackend('cpu', () => trace(make, {}));
        setFusedKernels(true);
        const multi = setMultiOutput(route !== 'one program per state');
        const seq = setSequentialMaxBatch(route === 'large-batch route' ? 1 : SEQUENTIAL_MAX_BATCH);
        try {
          const wg = await onBackend('webgpu', () => trace(make, {}));
          expect(worstRel(wg, cpu)).toBeLessThan(1e-6);
        } finally {
          setMultiOutput(multi);
          setSequentialMaxBatch(seq);
        }
        expect(Math.max(...cpu.filter(Number.isFinite)), 'θ reaches 1e38').toBeGreaterThan(1e38);
      });
    }
  }

  it('a step is one dispatch (one per state without the several-output dispatch), tensor count flat', async () => {
    await onBackend('webgpu', async () => {
      const count = async (n: NeuronGroup) => {
        const x = tf.fill([B, N], 30);
        n.forward(x).dispose(); // compile outside the count
        const before = tf.memory().numTensors;
        const p = await countPrograms(() => n.forward(x).dispose());
        const after = tf.memory().numTensors;
        x.dispose();
        n.dispose();
        return { kernels: p.programs, names: p.names.join(','), grew: after - before };
      };
      for (const make of [lif(2), lif(0), alif('mean'), alif('none')]) {
        const c = await count(make());
        expect(c.grew).toBe(0);
        expect(c.kernels, c.names).toBe(1);
      }
      const prev = setSequentialMaxBatch(1);
      const tree = await count(alif('sum')());
      setSequentialMaxBatch(prev);
      expect(tree.kernels, tree.names).toBe(2); // the states, then θ's tree reduction
      const was = setMultiOutput(false);
      try {
        expect((await count(lif(2)())).kernels).toBe(3); // v, r, s
        expect((await count(lif(0)())).kernels).toBe(2); // v, s (the unused refractory state is cloned, no dispatch)
        expect((await count(alif('mean')())).kernels).toBe(4); // v, r, s, θ
      } finally {
        setMultiOutput(was);
      }
    });
  });
});

// refracCount 'steps' (src/neural/neurons/neuron-group.ts): the WGSL step takes the group's r₀ =
// fl((k − ½)·fl(dt)) as its refractory constant, so a neuron driven hard enough to fire whenever it is
// free fires at exactly every k steps, Brian2's count ⌊refracT/dt + 10⁻³⌋ (refracT = 5, dt = 0.1: 50,
// the 'time' countdown holds 51; 2.35 at 0.1: 23; 2.5 at 1: 2), as on the op path and the wasm/cpu
// kernel (test/neural/neurons/refrac-count.test.ts, whose brian2Steps evaluates Brian2's rule).
describe.skipIf(!gpu.ok)(`refracCount 'steps' on the WGSL neuron step (${gpu.detail})`, () => {
  /** Spike times (from 0) of a LIF group whose neurons all fire together under a current of 1e6; checks one step runs as the neuron program. */
  async function times(refracT: number, dt: number, refracCount: 'time' | 'steps', steps: number): Promise<number[]> {
    const n = new LIF([N], dt, { restV: -65, resetV: -70, threshV: -55, refracT, tauM: 10, batchSize: B, refracCount });
    const x = tf.fill([B, N], 1e6);
    const p = await countPrograms(() => n.forward(x).dispose());
    expect(p.programs, p.names.join(',')).toBe(1);
    n.clear();
    const out: number[] = [];
    let kept: tf.Tensor[] = [];
    const flush = async (upTo: number) => {
      const all = await download(kept);
      const per = B * N;
      for (let k = 0; k < kept.length; k++) {
        const fired = all.subarray(k * per, (k + 1) * per).reduce((a, b) => a + b, 0);
        if (fired !== 0 && fired !== per) throw new Error(`step ${upTo - kept.length + k}: ${fired} of ${per} fired`);
        if (fired) out.push(upTo - kept.length + k);
      }
      kept = [];
    };
    for (let t = 0; t < steps; t++) {
      kept.push(n.forward(x));
      if (kept.length === 1000 || t === steps - 1) await flush(t + 1);
    }
    x.dispose();
    n.dispose();
    return out;
  }
  const every = (k: number, steps: number) => Array.from({ length: Math.ceil(steps / Math.max(k, 1)) }, (_, m) => m * Math.max(k, 1));

  it.each([
    [5, 0.1, 50, 50 * 201 + 1],
    [0.3, 0.1, 3, 600],
    [2.35, 0.1, 23, 23 * 200],
    [2.5, 1, 2, 400],
    [0, 0.1, 0, 200],
    [40, 0.01, 4000, 8001],
  ])('refracT = %s, dt = %s: every k = %i steps', async (refracT, dt, k, steps) => {
    setFusedKernels(true);
    const got = await onBackend('webgpu', () => times(refracT, dt, 'steps', steps));
    expect(got.length).toBeGreaterThanOrEqual(k > 100 ? 3 : 200);
    expect(got).toEqual(every(k, steps));
  });

  it("'time' keeps the float32 countdown: refracT = 5, dt = 0.1 every 51 steps", async () => {
    setFusedKernels(true);
    const steps = 51 * 201 + 1;
    expect(await onBackend('webgpu', () => times(5, 0.1, 'time', steps))).toEqual(every(51, steps));
  });
});
