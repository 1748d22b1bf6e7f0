// STDP on webgpu with the fused WGSL programs (src/kernels/webgpu/step-trace.ts: both traces' steps
// in one dispatch, or one program each; step-update.ts: batch sums + bounding + add + clamps in one
// program) equals the cpu backend's op path (fused JS kernels off) within float32 tolerance over 60 steps, for every
// bounding kind, with and without clamping, both trace modes, mean and sum batch reductions, and
// the matrix-product route of large batches, and updates that follow several steps (4–8 pending
// parts, past the device's storage-buffer limit). And the programs are what runs: counted dispatches.
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { LinearDense } from '../../src/neural/connections/index.js';
import { Bounding, type BoundingKind, type BoundingOptions } from '../../src/neural/bounding.js';
import { Clamping } from '../../src/neural/hooks/index.js';
import { STDP, type STDPOptions } from '../../src/learn/trainers/index.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';
import { countPrograms } from '../../src/kernels/webgpu/step-program.js';
import { setOuterDirectMaxBatch } from '../../src/kernels/webgpu/step-update.js';
import { setMultiOutput, setStorageBufferCap, storageBufferLimit } from '../../src/kernels/webgpu/step-dispatch.js';
import { ForcedNeurons, TestLayer } from '../learn/trainers/harness.js';
import { onBackend, webgpuForTests } from './gpu.js';
import { download, worstRel } from './step-util.js';

const gpu = await webgpuForTests();
const STEPS = 60;
const B = 3;
const IN = 6;
const OUT = 4;

function trains(seed: number, n: number, p: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: STEPS }, () => Array.from({ length: n }, () => (rng.uniform() < p ? 1 : 0)));
}

interface Case {
  /** Fold the monitors in reverse order (x_post before x_pre). */
  reverse?: boolean;
  bound?: [BoundingKind, BoundingOptions];
  clamp?: { min?: number; max?: number };
  stdp?: Partial<STDPOptions>;
  /** Apply the pending parts every this many steps (default 1: two parts per update). */
  updateEvery?: number;
  /** Range of the initial weights (default [0.2, 0.8]). */
  w0?: [number, number];
}

/** Weights after every step of STDP on a dense [OUT ← IN] connection driven by forced trains. */
async function run(c: Case): Promise<Float32Array> {
  const rng = new Rng(9);
  const [lo, hi] = c.w0 ?? [0.2, 0.8];
  const w0 = Float32Array.from({ length: OUT * IN }, () => lo + (hi - lo) * rng.uniform());
  const conn = new LinearDense([IN], [OUT], 1, { batchSize: B, weightInit: (shape) => tf.tensor(w0, [...shape]) });
  const layer = new TestLayer(conn, new ForcedNeurons([OUT], B));
  const rule = new STDP({ lrPost: 0.05, lrPre: -0.04, tauPost: 20, tauPre: 10, ...c.stdp });
  rule.register(layer.cell);
  if (c.reverse) {
    const obs = [...layer.observers].reverse();
    layer.observers.clear();
    for (const o of obs) layer.observers.add(o);
  }
  const bound = c.bound ? new Bounding(c.bound[0], c.bound[1]) : null;
  if (bound) conn.updater.bound('weight', bound);
  const detach = c.clamp ? new Clamping(conn.weightParameter, c.clamp).attachToUpdate(conn.updater) : () => {};
  const pre = trains(13, B * IN, 0.3);
  const post = trains(14, B * OUT, 0.25);
  const kept: tf.Tensor[] = [];
  for (let k = 0; k < STEPS; k++) {
    layer.step(pre[k]!, post[k]!);
    rule.step();
    if ((k + 1) % (c.updateEvery ?? 1) === 0) conn.update();
    kept.push(tf.reshape(tf.clone(conn.weight), [-1]));
  }
  detach();
  bound?.dispose();
  rule.dispose();
  layer.dispose();
  return download(kept);
}

const cases: [string, Case][] = [
  ['no bounding', {}],
  ['no bounding, clamp [0, 1]', { clamp: { min: 0, max: 1 } }],
  ['hard [0, 1]', { bound: ['hard', { min: 0, max: 1 }] }],
  ['hard upper, clamp at 0', { bound: ['hard', { max: 1 }], clamp: { min: 0 } }],
  ['multiplicative upper, clamp at 0 (the quickstart rule)', { bound: ['multiplicative', { max: 1 }], clamp: { min: 0 } }],
  ['multiplicative [0, 1]', { bound: ['multiplicative', { min: 0, max: 1 }] }],
  ['scaled-multiplicative [0, 1.5]', { bound: ['scaled-multiplicative', { min: 0, max: 1.5 }] }],
  ['power μ 0.5/2, clamp [0, 1]', { bound: ['power', { min: 0, max: 1, powerUpper: 0.5, powerLower: 2 }], clamp: { min: 0, max: 1 } }],
  ['scaled-power μ 1.5, clamp [0, 1.2]', { bound: ['scaled-power', { min: 0, max: 1.2, power: 1.5 }], clamp: { min: 0, max: 1.2 } }],
  ['multiplicative, nearest traces, batch sum', { bound: ['multiplicative', { min: 0, max: 1 }], stdp: { traceMode: 'nearest', batchReduction: 'sum' } }],
  ['anti-Hebbian signs, two clamps', { stdp: { lrPost: -0.03, lrPre: 0.05 }, clamp: { min: 0.1, max: 0.9 } }],
  ['monitors folding in reverse order (x_post first)', { reverse: true, bound: ['multiplicative', { max: 1 }], clamp: { min: 0 } }],
];

describe.skipIf(!gpu.ok)(`STDP with fused WGSL trace and update programs vs the cpu op path (${gpu.detail})`, () => {
  const was = setFusedKernels(true);
  afterAll(() => void setFusedKernels(was));

  const compare = async (c: Case) => {
    setFusedKernels(false);
    const cpu = await onBackend('cpu', () => run(c));
    setFusedKernels(true);
    const wg = await onBackend('webgpu', () => run(c));
    expect(worstRel(wg, cpu)).toBeLessThan(2e-6); // measured ≤ 2.5e-7 (a few float32 roundings)
    expect(cpu.slice(-OUT * IN).some((v, i) => Math.abs(v - cpu[i]!) > 1e-3), 'the weights changed').toBe(true);
    return cpu;
  };

  for (const [name, c] of cases) it(name, () => compare(c));

  it('the clamps bind (clamp [0.1, 0.9] reached)', async () => {
    const cpu = await compare({ stdp: { lrPost: 0.3, lrPre: -0.2 }, clamp: { min: 0.1, max: 0.9 } });
    expect(cpu.some((v) => v === Math.fround(0.9)) || cpu.some((v) => v === Math.fround(0.1))).toBe(true);
  });

  // Weights drawn outside the bounds [0.35, 0.65]: the power families' base is negative there, where
  // WGSL's pow is undefined (SwiftShader gave |x|^μ: a positive factor for μ = 3 and 1.5 instead of
  // the op path's negative one and NaN; an even μ came out right by chance).
  for (const [name, bound] of [
    ['power μ 3 (odd: the sign of the base kept)', ['power', { min: 0.35, max: 0.65, power: 3 }]],
    ['power μ 2 upper, 4 lower (even: positive)', ['power', { min: 0.35, max: 0.65, powerUpper: 2, powerLower: 4 }]],
    ['power μ 1.5 (non-integer: NaN)', ['power', { min: 0.35, max: 0.65, power: 1.5 }]],
    ['scaled-power μ 5 upper, 0.5 lower', ['scaled-power', { min: 0.35, max: 0.65, powerUpper: 5, powerLower: 0.5 }]],
  ] as [string, [BoundingKind, BoundingOptions]][]) {
    it(`weights outside the bounds, ${name}: IEEE pow of a negative base, as the op path`, async () => {
      const cpu = await compare({ bound, w0: [0, 1] });
      const nonInteger = [bound[1].power, bound[1].powerUpper, bound[1].powerLower].some((m) => m !== undefined && !Number.isInteger(m));
      expect(cpu.some(Number.isNaN), 'NaN weights exactly for a non-integer exponent').toBe(nonInteger);
    });
  }

  // ±1e39 is ±∞ in float32: as WGSL constants these made the update program invalid (DeviceError)
  it('bounds and clamps beyond float32\'s range (±∞ as float32 constants), as the op path', async () => {
    await compare({ bound: ['hard', { max: 1e39 }], clamp: { min: -1e39, max: 1e39 } });
    await compare({ bound: ['hard', { min: -1e39, max: 1e39 }], clamp: { max: 1e39 } });
  });

  it('one program per trace (backends without the several-output dispatch)', async () => {
    const was = setMultiOutput(false);
    try {
      await compare({ bound: ['multiplicative', { max: 1 }], clamp: { min: 0 } });
    } finally {
      setMultiOutput(was);
    }
  });

  it('large batches: matrix products first, then the update program', async () => {
    const prev = setOuterDirectMaxBatch(1);
    try {
      await compare({ bound: ['multiplicative', { max: 1 }], clamp: { min: 0 } });
    } finally {
      setOuterDirectMaxBatch(prev);
    }
  });

  // A pair rule adds two parts per step: 4, 6 and 8 parts per update need 10, 14 and 18 storage
  // buffers with the sums in the program: the products are taken first (2 + parts buffers), and an
  // update whose parts don't fit that either takes the op path. At WebGPU's default limit (8, cap 8
  // here) one update program per update up to 6 parts, the op path for 8; at the device's own limit
  // (initBackend asks for the adapter's: SwiftShader 12) one program up to 10 parts.
  for (const cap of [8, Infinity]) {
    for (const every of cap === 8 ? [2, 3, 4] : [4, 5, 6]) {
      it(`an update every ${every} steps (${2 * every} pending parts), ${cap === 8 ? '8 buffers' : "the device's buffer limit"}: the op path's weights, one update program where 2 + parts buffers fit`, async () => {
        const was = setStorageBufferCap(cap);
        try {
          await compare({ updateEvery: every, bound: ['multiplicative', { max: 1 }], clamp: { min: 0 } });
          const counted = await onBackend('webgpu', async () => {
            const conn = new LinearDense([IN], [OUT], 1, { batchSize: B });
            const layer = new TestLayer(conn, new ForcedNeurons([OUT], B));
            const rule = new STDP({ lrPost: 0.05, lrPre: -0.04, tauPost: 20, tauPre: 10 });
            rule.register(layer.cell);
            const pre = trains(3, B * IN, 0.3);
            const post = trains(4, B * OUT, 0.3);
            for (let k = 0; k < every; k++) {
              layer.step(pre[k]!, post[k]!);
              rule.step();
            }
            const c = await countPrograms(() => conn.update());
            rule.dispose();
            layer.dispose();
            return { programs: c.names.filter((n) => n === 'cinder-update').length, limit: storageBufferLimit() };
          });
          if (cap === 8) expect(counted.limit).toBe(8);
          else expect(counted.limit).toBeGreaterThanOrEqual(10); // SwiftShader: 12
          expect(counted.programs).toBe(2 + 2 * every <= counted.limit ? 1 : 0);
          if (cap === 8) expect(counted.programs).toBe(every < 4 ? 1 : 0);
        } finally {
          setStorageBufferCap(was);
        }
      });
    }
  }

  it('both traces are one dispatch (two programs without the several-output dispatch), the update one', async () => {
    await onBackend('webgpu', async () => {
      const conn = new LinearDense([IN], [OUT], 1, { batchSize: B });
      const layer = new TestLayer(conn, new ForcedNeurons([OUT], B));
      const rule = new STDP({ lrPost: 0.05, lrPre: -0.04, tauPost: 20, tauPre: 10 });
      rule.register(layer.cell);
      const bound = new Bounding('multiplicative', { max: 1 });
      conn.updater.bound('weight', bound);
      const detach = new Clamping(conn.weightParameter, { min: 0 }).attachToUpdate(conn.updater);
      const pre = trains(3, B * IN, 0.3);
      const post = trains(4, B * OUT, 0.3);
      for (let k = 0; k < 3; k++) {
        layer.step(pre[k]!, post[k]!);
        rule.step();
        conn.update();
      }
      const before = tf.memory().numTensors;
      layer.step(pre[3]!, post[3]!);
      const learn = await countPrograms(() => {
        rule.step();
        conn.update();
      });
      expect(tf.memory().numTensors, 'tensors after one whole step').toBe(before);
      const names = learn.names.join(',');
      expect(learn.names.filter((n) => n === 'cinder-update').length, names).toBe(1);
      expect(learn.programs, names).toBe(1); // the outer products, bound, add and clamp: one dispatch
      const obs = await countPrograms(() => layer.step(pre[4]!, post[4]!));
      expect(obs.names.filter((n) => n === 'cinder-trace').length, obs.names.join(',')).toBe(1); // x_pre and x_post in one dispatch
      const was = setMultiOutput(false);
      const apart = await countPrograms(() => layer.step(pre[5]!, post[5]!));
      setMultiOutput(was);
      expect(apart.names.filter((n) => n === 'cinder-trace').length, apart.names.join(',')).toBe(2); // one program per trace
      detach();
      bound.dispose();
      rule.dispose();
      layer.dispose();
    });
  });
});
