// The fused layer step on webgpu (src/neural/layers/fused-step.ts, src/kernels/webgpu/step-drive.ts):
// connections (LinearDense, LinearLateral, LinearDirect) with DeltaCurrent synapses folded into the
// LIF / ALIF step programs, with and without STDP, through each route (drive inside the neuron
// program, a drive program of its own, tfjs's matrix product on the synapse currents) equals the cpu
// backend's op path (fused JS kernels off) within float32 tolerance over 50 steps: spikes, voltages,
// the synapses' recorded currents, the trained weights. A layer the fused step does not cover takes
// the op path (tfjs programs are dispatched) and still matches. The dispatches are counted, the
// tensor count stays flat and nothing is read back synchronously.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { ALIF, LIF, NeuronGroup } from '../../src/neural/neurons/index.js';
import { DeltaCurrent, SingleExponentialCurrent } from '../../src/neural/synapses/index.js';
import { LinearDense, LinearDirect, LinearLateral, constantInit, uniformInit, type Connection } from '../../src/neural/connections/index.js';
import { Biclique, Serial, type Layer } from '../../src/neural/layers/index.js';
import { STDP } from '../../src/learn/trainers/index.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';
import { countPrograms } from '../../src/kernels/webgpu/step-program.js';
import { driveShareMinInputs, SHARE_MIN_INPUTS, SHARE_MIN_INPUTS_GPU, setDenseProgramMaxBatch, setDriveShareMinInputs } from '../../src/kernels/webgpu/step-drive.js';
import { backendInfo } from '../../src/core/backend.js';
import { setMultiOutput } from '../../src/kernels/webgpu/step-dispatch.js';
import { onBackend, webgpuForTests } from './gpu.js';
import { worstRel } from './step-util.js';

const gpu = await webgpuForTests();
const STEPS = 50;
const IN = 24; // presynaptic units of the dense connection (`inputs` overrides)
const N = 10;

type Kind = 'dense' | 'lateral' | 'direct';

interface Case {
  neuron: 'lif' | 'lif-norefrac' | 'alif' | 'alif-none';
  conns: Kind[];
  B: number;
  stdp?: boolean;
  /** Something the fused step does not cover: the op path must run. */
  fallback?: 'bias' | 'exponential' | 'transform' | 'one program per state';
  /** The matrix-product route (tfjs's matMul on the synapse currents) at this small batch. */
  matmul?: boolean;
  /** The drive program's workgroup-shared products at this small size. */
  shared?: boolean;
  /** Presynaptic units of the dense connection (default IN; weights scaled by IN / inputs). */
  inputs?: number;
  /** Spikes given as bool tensors (the synapse casts them to float32). */
  bool?: boolean;
}

function trains(seed: number, n: number, p: number): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: STEPS }, () => Float32Array.from({ length: n }, () => (rng.uniform() < p ? 1 : 0)));
}

function neuronOf(c: Case) {
  const common = { restV: -60, resetV: -65, threshV: -50, tauM: 20, resistance: 1, batchSize: c.B };
  switch (c.neuron) {
    case 'lif':
      return new LIF([N], 1, { ...common, refracT: 2 });
    case 'lif-norefrac':
      return new LIF([N], 1, { ...common, refracT: 0 });
    case 'alif':
      return new ALIF([N], 1, { ...common, refracT: 2, tauAdapt: 50, adaptIncrement: 1.5 });
    case 'alif-none':
      return new ALIF([N], 1, { ...common, refracT: 1, tauAdapt: [30, 80], adaptIncrement: [1, 0.5], batchReduction: 'none' });
  }
}

/** Spikes and voltages of every step, then the synapse currents and weights: one flat array. */
async function run(c: Case, count?: (names: string[], drift: number) => void): Promise<Float32Array> {
  const neuron = neuronOf(c);
  const B = c.B;
  const I = c.inputs ?? IN;
  const conns: Record<string, Connection> = {};
  const synapse = (charge: number) => (c.fallback === 'exponential' ? SingleExponentialCurrent.factory({ charge, tau: 5 }) : DeltaCurrent.factory({ charge }));
  for (const k of c.conns) {
    const rng = new Rng(k.length);
    if (k === 'dense') conns.dense = new LinearDense([I], [N], 1, { synapse: synapse(15), weightInit: uniformInit(rng, 0, IN / I), batchSize: B, bias: c.fallback === 'bias' });
    if (k === 'lateral') conns.lateral = new LinearLateral([N], 1, { synapse: synapse(10), weightInit: constantInit(-2), batchSize: B });
    if (k === 'direct') conns.direct = new LinearDirect([N], 1, { synapse: synapse(40), weightInit: uniformInit(rng, 0.5, 1.5), batchSize: B });
  }
  const transform = c.fallback === 'transform' ? (y: tf.Tensor) => tf.mul(y, tf.scalar(1)) : undefined;
  const only = Object.values(conns).length === 1 ? Object.values(conns)[0]! : null;
  const layer: Layer = only ? new Serial(only, neuron, { transform }) : new Biclique({ connections: conns, neurons: { n: neuron } });
  const stdp = c.stdp ? new STDP({ lrPost: 0.02, lrPre: -0.015, tauPost: 20, tauPre: 15 }) : null;
  if (stdp) stdp.register(layer.cell(conns.dense!, neuron));
  layer.train(true);
  const xs = trains(3, B * I, 0.2);
  const ds = trains(4, B * N, 0.3);
  const kept: tf.Tensor[] = [];
  const step = (t: number) =>
    tf.tidy(() => {
      const inputs: Record<string, tf.Tensor> = {};
      const spikesOf = (v: Float32Array, n: number) => (c.bool ? tf.tensor2d(Array.from(v, (x) => x !== 0), [B, n], 'bool') : tf.tensor2d(v, [B, n]));
      if (conns.dense) inputs.dense = spikesOf(xs[t]!, I);
      if (conns.lateral) inputs.lateral = neuron.spike;
      if (conns.direct) inputs.direct = spikesOf(ds[t]!, N);
      const s = only ? (layer as Serial).forward(Object.values(inputs)[0]!) : (layer as Biclique).forward(inputs).n!;
      if (stdp) {
        stdp.step();
        conns.dense!.update();
      }
      return [s, tf.clone(neuron.voltage)];
    });
  const flat = (pair: tf.Tensor[]) => tf.tidy(() => tf.concat(pair.map((t) => tf.reshape(t, [-1])))); // outside the counted step
  const disposeAfter = (pair: tf.Tensor[]) => {
    const f = flat(pair);
    tf.dispose(pair);
    return f;
  };
  let n0 = 0;
  for (let t = 0; t < STEPS; t++) {
    if (t === 20) n0 = tf.memory().numTensors - kept.length;
    if (t === 21 && count) {
      let out: tf.Tensor[] = [];
      const c1 = await countPrograms(() => void (out = step(t)));
      kept.push(disposeAfter(out));
      count(c1.names, 0);
      continue;
    }
    kept.push(disposeAfter(step(t)));
    if (t === 40 && count) count([], tf.memory().numTensors - kept.length - n0);
  }
  for (const conn of Object.values(conns)) kept.push(tf.reshape(tf.clone(conn.syncurrent), [-1]), tf.reshape(tf.clone(conn.weight), [-1]));
  stdp?.dispose();
  layer.dispose();
  const all = tf.concat(kept.map((k) => tf.reshape(k, [-1])));
  try {
    return Float32Array.from(await all.data());
  } finally {
    tf.dispose([all, ...kept]);
  }
}

const cases: [string, Case][] = [
  ['LinearDense × DeltaCurrent → LIF (drive inside the LIF program)', { neuron: 'lif', conns: ['dense'], B: 3 }],
  ['LinearDense × DeltaCurrent → ALIF (a drive program, then the ALIF program)', { neuron: 'alif', conns: ['dense'], B: 3 }],
  ['LinearLateral × DeltaCurrent → LIF', { neuron: 'lif', conns: ['dense', 'lateral'], B: 2 }],
  ['LinearLateral × DeltaCurrent → ALIF', { neuron: 'alif', conns: ['lateral', 'direct'], B: 3 }],
  ['LinearDirect × DeltaCurrent → LIF, B = 1', { neuron: 'lif', conns: ['direct'], B: 1 }],
  ['LinearDirect × DeltaCurrent → ALIF (per-sample θ, two terms)', { neuron: 'alif-none', conns: ['direct'], B: 3 }],
  ['dense + direct → LIF without a refractory period', { neuron: 'lif-norefrac', conns: ['dense', 'direct'], B: 4 }],
  ['the quickstart layer: dense + lateral → ALIF with STDP, B = 1', { neuron: 'alif', conns: ['dense', 'lateral'], B: 1, stdp: true }],
  ['dense → LIF with STDP, B = 4', { neuron: 'lif', conns: ['dense'], B: 4, stdp: true }],
  ['dense + lateral → ALIF with STDP, products shared among a workgroup', { neuron: 'alif', conns: ['dense', 'lateral'], B: 3, stdp: true, shared: true, inputs: 150 }],
  ['dense + direct → ALIF, spikes given as bool tensors', { neuron: 'alif', conns: ['dense', 'direct'], B: 2, bool: true }],
  ['dense + direct → LIF without a refractory period, products shared among a workgroup', { neuron: 'lif-norefrac', conns: ['dense', 'direct'], B: 2, shared: true, inputs: 200 }],
  ['dense + lateral → ALIF with STDP through tfjs\'s matrix product', { neuron: 'alif', conns: ['dense', 'lateral'], B: 3, stdp: true, matmul: true }],
  ['dense + direct → LIF through tfjs\'s matrix product', { neuron: 'lif', conns: ['dense', 'direct'], B: 2, matmul: true }],
];

const fallbacks: [string, Case][] = [
  ['a bias', { neuron: 'alif', conns: ['dense', 'lateral'], B: 2, fallback: 'bias' }],
  ['a SingleExponentialCurrent synapse', { neuron: 'lif', conns: ['dense'], B: 2, fallback: 'exponential', stdp: true }],
  ['a transform on the connection output (a hook on an intermediate tensor)', { neuron: 'lif', conns: ['direct'], B: 2, fallback: 'transform' }],
  ['no several-output dispatch (one program per neuron state)', { neuron: 'alif', conns: ['dense', 'lateral'], B: 2, stdp: true, fallback: 'one program per state' }],
];

describe.skipIf(!gpu.ok)(`fused connections and synapses in the WGSL step programs vs the cpu op path (${gpu.detail})`, () => {
  const was = setFusedKernels(true);
  afterAll(() => void setFusedKernels(was));

  const compare = async (c: Case, fused: boolean) => {
    setFusedKernels(false);
    const cpu = await onBackend('cpu', () => run(c));
    setFusedKernels(true);
    const prev = setDenseProgramMaxBatch(c.matmul ? 0 : 32);
    const prevShare = setDriveShareMinInputs(c.shared ? 0 : 1e9);
    const prevMulti = setMultiOutput(c.fallback !== 'one program per state');
    let names: string[] = [];
    let drift = NaN;
    const wg = await onBackend('webgpu', async () => {
      const spy = vi.spyOn(tf.backend(), 'readSync');
      const route = vi.spyOn(NeuronGroup.prototype, 'forwardDrive');
      try {
        return await run(c, (n, d) => (n.length ? (names = n) : (drift = d)));
      } finally {
        expect(spy, 'no synchronous read').not.toHaveBeenCalled();
        expect(route.mock.calls.length, 'steps through the fused layer step').toBe(fused ? STEPS : 0);
        spy.mockRestore();
        route.mockRestore();
        setDenseProgramMaxBatch(prev);
        setDriveShareMinInputs(prevShare);
      }
    }).finally(() => {
      setDenseProgramMaxBatch(prev);
      setDriveShareMinInputs(prevShare);
      setMultiOutput(prevMulti);
    });
    expect(worstRel(wg, cpu)).toBeLessThan(1e-5); // a few float32 roundings of sums in another order
    expect(drift, 'tensors flat').toBe(0);
    const spikes = cpu.slice(0, STEPS * 2 * c.B * N).filter((_, i) => i % (2 * c.B * N) < c.B * N);
    const count = spikes.reduce((a, b) => a + b, 0);
    expect(count, 'the group spikes, not always').toBeGreaterThan(0);
    expect(count).toBeLessThan(spikes.length);
    const tfjs = names.filter((n) => !n.startsWith('cinder-'));
    if (fused) {
      expect(names.some((n) => n === 'cinder-drive' || n === 'cinder-synapse' || n === 'cinder-neuron'), names.join(',')).toBe(true);
      if (!c.matmul) expect(tfjs, `no tfjs program: ${names.join(',')}`).toEqual([]);
      else expect(tfjs.every((n) => n.startsWith('MatMul')), names.join(',')).toBe(true);
    } else {
      expect(names.includes('cinder-drive') || names.includes('cinder-synapse'), names.join(',')).toBe(false);
    }
  };

  it('the drive program shares its sums among a workgroup on a GPU, not on a software adapter', async () => {
    await onBackend('webgpu', () => {
      const software = backendInfo()!.adapter!.software;
      expect(driveShareMinInputs()).toBe(software ? SHARE_MIN_INPUTS : SHARE_MIN_INPUTS_GPU);
      const prev = setDriveShareMinInputs(7);
      expect(driveShareMinInputs()).toBe(7);
      setDriveShareMinInputs(prev);
    });
  });

  for (const [name, c] of cases) it(name, () => compare(c, true));
  for (const [name, c] of fallbacks) it(`falls back to the op path with ${name}`, () => compare(c, false));
});
