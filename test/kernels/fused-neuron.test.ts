// The fused neuron step (src/kernels/js/fused-neuron.ts) against the op path of NeuronGroup.forward
// over 60 steps, for LIF and ALIF in every option that changes the step, on the wasm and cpu backends.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';
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
