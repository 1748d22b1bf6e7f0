// The fused neuron step (src/kernels/js/fused-neuron.ts) against the op path of NeuronGroup.forward
// over 60 steps, for LIF and ALIF in every option that changes the step, on the wasm and cpu backends.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';
import { fusedNeuronStep } from '../../src/kernels/js/fused-neuron.js';
import { ALIF, LIF } from '../../src/neural/neurons/index.js';
import type { NeuronGroup } from '../../src/neural/neurons/neuron-group.js';

const backends = fusedBackends();

type Make = (B: number) => NeuronGroup & { adaptation?: tf.Tensor };
interface Case {
  make: Make;
  refracLock?: boolean;
  adapt?: boolean;
  noInput?: boolean;
}

const lif = (refracT: number): Make => (B) => new LIF([3, 4], 1, { restV: -65, resetV: -70, threshV: -55, refracT, tauM: 12, resistance: 1.5, batchSize: B });
const alif = (reduction: 'mean' | 'sum' | 'max' | 'none', refracT = 3): Make => (B) =>
  new ALIF([12], 0.5, { restV: -65, resetV: -62, threshV: -55, refracT, tauM: 20, tauAdapt: [40, 200], adaptIncrement: [0.8, 0.3], resistance: 1, batchReduction: reduction, batchSize: B });

// one adaptation term, 12 neurons (a multiple of 4): on wasm the element loop runs in SIMD lanes
const alif1 = (reduction: 'mean' | 'sum' | 'max' | 'none', refracT = 3): Make => (B) =>
  new ALIF([12], 0.5, { restV: -65, resetV: -62, threshV: -55, refracT, tauM: 20, tauAdapt: 40, adaptIncrement: 0.8, resistance: 1, batchReduction: reduction, batchSize: B });

const cases: [string, Case][] = [
  ['ALIF one term, batch mean', { make: alif1('mean') }],
  ['ALIF one term, refracLock false, sum', { make: alif1('sum'), refracLock: false }],
  ['ALIF one term, no refractory period, mean', { make: alif1('mean', 0) }],
  ['ALIF one term, not adapting', { make: alif1('mean'), adapt: false }],
  ['LIF, refractory 2 ms', { make: lif(2) }],
  ['LIF, no refractory period', { make: lif(0) }],
  ['LIF, refracLock false', { make: lif(3), refracLock: false }],
  ['LIF, no input', { make: lif(2), noInput: true }],
  ['ALIF, batch mean', { make: alif('mean') }],
  ['ALIF, batch sum', { make: alif('sum') }],
  ['ALIF, batch max', { make: alif('max') }],
  ['ALIF, per sample (none)', { make: alif('none') }],
  ['ALIF, refracLock false, sum', { make: alif('sum'), refracLock: false }],
  ['ALIF, no refractory period, mean', { make: alif('mean', 0) }],
  ['ALIF, not adapting', { make: alif('mean'), adapt: false }],
];

/** States after 60 steps with random currents (same seeds), and the kernels of the last step. */
async function run(c: Case, fused: boolean, B: number): Promise<{ v: Float32Array; r: Float32Array; spikes: number; theta: Float32Array | null; kernels: number }> {
  setFusedKernels(fused);
  const n = c.make(B);
  n.train(true);
  const rng = new Rng(4);
  let spikes = 0;
  let kernels = 0;
  for (let t = 0; t < 60; t++) {
    const x = new Float32Array(B * n.count);
    for (let k = 0; k < x.length; k++) x[k] = rng.uniform() * 30;
    const step = () =>
      tf.tidy(() => {
        const input = c.noInput ? {} : tf.tensor(x, n.batchedShape);
        return n.forward(input, { refracLock: c.refracLock, adapt: c.adapt });
      });
    if (t === 59) kernels = (await tf.profile(() => void step().dispose())).kernels.length;
    else {
      const s = step();
      spikes += (await tf.sum(s).data())[0]!;
      s.dispose();
    }
  }
  const out = {
    v: ((await n.voltage.data()) as Float32Array).slice(),
    r: ((await n.refrac.data()) as Float32Array).slice(),
    spikes,
    theta: n.adaptation ? ((await n.adaptation.data()) as Float32Array).slice() : null,
    kernels,
  };
  n.dispose();
  return out;
}

function close(a: Float32Array, b: Float32Array, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!)));
}

describe.each(backends)('fused neuron step on %s', (backend) => {
  it.each(cases.flatMap(([name, c]): [string, number, Case][] => [[name, 3, c], ...(name.startsWith('ALIF, per') || name.includes('max') ? [] : [[name, 20, c] as [string, number, Case]])]))('%s: equals the op path over 60 steps (B = %i)', async (_name, B, c) => {
    await tf.setBackend(backend);
    const op = await run(c, false, B);
    const fused = await run(c, true, B);
    expect(fused.spikes).toBe(op.spikes);
    if (!c.noInput) expect(op.spikes).toBeGreaterThan(5); // the comparison covers spikes and resets
    close(fused.v, op.v);
    close(fused.r, op.r);
    if (op.theta) close(fused.theta!, op.theta);
    expect(fused.kernels).toBeLessThan(op.kernels);
  });
});

describe.each(backends)('fused neuron step on %s: edge inputs', (backend) => {
  // 5 neurons (the element loop) and 8 (SIMD lanes on wasm), B = 1 and 3; currents NaN, ±Inf, −0
  // and huge values, so voltages, refractory times and (ALIF) thresholds turn non-finite over the steps
  const special = [NaN, Infinity, -Infinity, -0, 3e38, -3e38, 0, 40];
  // (the batch-mean threshold only within 1e-6 when finite: the module text's summation order)
  it.each([[5, 1], [8, 1], [5, 3], [8, 3]])('%i neurons, B = %i: LIF and ALIF equal the op path (Object.is; finite adaptive thresholds within 1e-6) over 12 steps', async (N, B) => {
    await tf.setBackend(backend);
    const makes: Make[] = [
      (b) => new LIF([N], 1, { restV: -65, resetV: -70, threshV: -55, refracT: 2, tauM: 12, resistance: 1.5, batchSize: b }),
      (b) => new ALIF([N], 0.5, { restV: -65, resetV: -62, threshV: -55, refracT: 1, tauM: 20, tauAdapt: 40, adaptIncrement: 0.8, resistance: 1, batchReduction: 'mean', batchSize: b }),
    ];
    for (const make of makes) {
      const states: Float32Array[][] = [];
      for (const fused of [false, true]) {
        setFusedKernels(fused);
        const n = make(B);
        n.train(true);
        const seen: Float32Array[] = [];
        for (let t = 0; t < 12; t++) {
          const x = Float32Array.from({ length: B * N }, (_, k) => special[(k * 3 + t * 5) % special.length]!);
          const s = tf.tidy(() => n.forward(tf.tensor(x, n.batchedShape)));
          seen.push((await s.data()) as Float32Array, (await n.voltage.data()) as Float32Array, (await n.refrac.data()) as Float32Array);
          if (n.adaptation) seen.push(Float32Array.of(NaN), (await n.adaptation.data()) as Float32Array); // marker, then θ
          s.dispose();
        }
        states.push(seen);
        n.dispose();
      }
      const [op, fu] = states as [Float32Array[], Float32Array[]];
      let nonFinite = 0;
      for (let k = 0; k < op.length; k++) {
        const theta = k > 0 && op[k - 1]!.length === 1;
        for (let i = 0; i < op[k]!.length; i++) {
          const a = fu[k]![i]!;
          const b = op[k]![i]!;
          const ok = Object.is(a, b) || (theta && B > 1 && Number.isFinite(b) && Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)));
          if (!ok) expect.fail(`array ${k} element ${i}: fused ${a}, op path ${b}`);
          if (!Number.isFinite(b)) nonFinite++;
        }
      }
      expect(nonFinite).toBeGreaterThan(10);
    }
  });

  it('an empty batch is refused (CinderArgumentError), nothing allocated', async () => {
    await tf.setBackend(backend);
    setFusedKernels(true);
    const v = tf.zeros([0, 4]);
    const theta = tf.fill([4, 1], 7);
    const before = tf.memory().numTensors;
    expect(() => fusedNeuronStep({ decay: 0.9, restTerm: -6.5, gain: 0.1, thresh: -55, reset: -70, dt: 1, refracT: 0, adaptation: { decay: [0.9], increment: [1], reduction: 'mean', theta } }, { voltage: v, refrac: v, current: v }, { refracLock: true, adapt: true })).toThrow(
      'invalid batch: got 0, expected at least one sample (voltage [B, ...shape] with B >= 1)',
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([v, theta]);
  });

  // 8 neurons, one term shared by the batch: on wasm the SIMD loops, whose batch-mean update wrote
  // N = 8 floats into the output made for a 4-element θ (past it, into the backend's heap: the next
  // allocation failed with "memory access out of bounds")
  it('a θ, refractory state or current that does not fit the voltage is refused (CinderArgumentError) before anything runs', async () => {
    await tf.setBackend(backend);
    setFusedKernels(true);
    const spec = { decay: 0.9, restTerm: -6.5, gain: 0.1, thresh: -55, reset: -70, dt: 1, refracT: 0 };
    const v = tf.fill([2, 8], -60);
    const r = tf.zeros([2, 8]);
    const i = tf.fill([2, 8], 100);
    const adapt = (theta: tf.Tensor, reduction: 'mean' | 'none' = 'mean', increment = [1]) => ({ ...spec, adaptation: { decay: [0.9], increment, reduction, theta } });
    const bad: [string, () => unknown, RegExp][] = [];
    const small = tf.fill([4, 1], 1);
    const int = tf.zeros([8, 1], 'int32');
    const short = tf.fill([2, 5], 100);
    const wide = tf.zeros([2, 9]);
    const theta = tf.zeros([8, 1]);
    bad.push(['θ of 4 elements for 8 neurons', () => fusedNeuronStep(adapt(small), { voltage: v, refrac: r, current: i }, { refracLock: true, adapt: true }), /^invalid adaptation\.theta: got tensor of shape \[4, 1\] \(float32\), expected a float32 tensor of N·K = 8 elements$/]);
    bad.push(['int32 θ', () => fusedNeuronStep(adapt(int), { voltage: v, refrac: r, current: i }, { refracLock: true, adapt: true }), /^invalid adaptation\.theta: got tensor of shape \[8, 1\] \(int32\)/]);
    bad.push(['θ of 4 elements, per sample', () => fusedNeuronStep(adapt(small, 'none'), { voltage: v, refrac: r, current: i }, { refracLock: true, adapt: true }), /expected a float32 tensor of N·K = 8 elements or B·N·K = 16$/]);
    bad.push(['two increments for one decay', () => fusedNeuronStep(adapt(theta, 'mean', [1, 2]), { voltage: v, refrac: r, current: i }, { refracLock: true, adapt: true }), /^invalid adaptation\.increment: got "2 increments for 1 decay factors"/]);
    bad.push(['a current of 10 elements', () => fusedNeuronStep(spec, { voltage: v, refrac: r, current: short }, { refracLock: true, adapt: false }), /^invalid current: got tensor of shape \[2, 5\] \(float32\), expected a float32 tensor of 16 elements \(the voltage's shape \[2, 8\]\)$/]);
    bad.push(['a refractory state of 18 elements', () => fusedNeuronStep(spec, { voltage: v, refrac: wide, current: i }, { refracLock: true, adapt: false }), /^invalid refrac: got tensor of shape \[2, 9\]/]);
    const before = tf.memory().numTensors;
    for (const [, call, message] of bad) expect(call).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
    // the backend's heap is intact: new tensors are made and read as usual, and a fitting θ works
    const ok = fusedNeuronStep(adapt(theta), { voltage: v, refrac: r, current: i }, { refracLock: true, adapt: true });
    const z = tf.fill([64], 3);
    expect(Array.from((await z.data()) as Float32Array)).toEqual(new Array(64).fill(3));
    expect(Array.from((await ok.theta!.data()) as Float32Array)).toEqual(new Array(8).fill(1)); // every neuron fired in both samples: 0·0.9 + 1
    tf.dispose([v, r, i, small, int, short, wide, theta, z, ok.voltage, ok.refrac, ok.spike, ok.theta!]);
  });
});
