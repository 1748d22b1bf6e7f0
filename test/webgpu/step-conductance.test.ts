// Conductance input in the fused WGSL neuron step (src/kernels/webgpu/step-neuron.ts): LIF and ALIF
// with receptors (exc E = 0 mV, inh E = −80 mV, as the COBA network) on webgpu, the step program
// against the op path on the same backend (step programs off: LinearMembrane's tfjs ops, whose Exp
// and RealDiv are WGSL `exp` and `/` as in the program) over 50+ steps of random conductances and
// currents, batch 3, receptors absent on some steps, refracLock on and off, R ≠ 1, and NaN / ±∞ /
// huge conductances; both routes of the program (one dispatch, one program per state) and the
// ALIF routes that WebGPU's default binding limit (8) splits. And the dispatch count of a conductance step.
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { ALIF, LIF, type NeuronGroup } from '../../src/neural/neurons/index.js';
import { countPrograms, setStepPrograms } from '../../src/kernels/webgpu/step-program.js';
import { setMultiOutput, setStorageBufferCap, storageBufferLimit } from '../../src/kernels/webgpu/step-dispatch.js';
import { DeltaConductance } from '../../src/neural/synapses/index.js';
import { LinearDense, uniformInit } from '../../src/neural/connections/index.js';
import { Biclique } from '../../src/neural/layers/index.js';
import { onBackend, webgpuForTests } from './gpu.js';
import { download, worstRel } from './step-util.js';

const gpu = await webgpuForTests();
const STEPS = 50;
const B = 3;
const N = 4;
const receptors = [
  { name: 'exc', reversal: 0 },
  { name: 'inh', reversal: -80 },
];

interface Drive {
  /** Steps where a receptor (by index) is absent: `absent(k)` gives the receptors left out at step k. */
  absent?: (k: number) => number[];
  /** Steps without current. */
  noCurrent?: (k: number) => boolean;
  refracLock?: boolean;
  /** Overwrites some conductance entries (edge values). */
  edge?: (k: number, r: number, g: Float32Array) => void;
}

/** The step inputs as plain arrays (the same on both routes): per step, current and per-receptor g. */
function draws(seed: number, d: Drive): { current: Float32Array | null; g: (Float32Array | null)[] }[] {
  const rng = new Rng(seed);
  return Array.from({ length: STEPS }, (_, k) => {
    const current = d.noCurrent?.(k) ? null : Float32Array.from({ length: B * N }, () => 30 * rng.uniform());
    const gone = d.absent?.(k) ?? [];
    const g = receptors.map((_, r) => {
      if (gone.includes(r)) return null;
      const x = Float32Array.from({ length: B * N }, () => (r === 0 ? 1.5 : 0.3) * rng.uniform());
      d.edge?.(k, r, x);
      return x;
    });
    return { current, g };
  });
}

/** Runs `make()` over the drawn inputs; returns [spikes, voltage, refractory time, adaptation] per step. */
async function trace(make: () => NeuronGroup, d: Drive, seed = 7): Promise<Float32Array> {
  const n = make();
  n.train();
  const kept: tf.Tensor[] = [];
  for (const step of draws(seed, d)) {
    const current = step.current ? tf.tensor2d(step.current, [B, N]) : undefined;
    const conductances = step.g.map((g) => (g ? tf.tensor2d(g, [B, N]) : undefined));
    const s = n.forward({ ...(current ? { current } : {}), conductances }, { refracLock: d.refracLock ?? true });
    const parts = [tf.reshape(s, [-1]), tf.reshape(n.voltage, [-1]), tf.reshape(n.namedStates().find(([k]) => k === 'refrac')![1].value, [-1])];
    if (n instanceof ALIF) parts.push(tf.reshape(n.adaptation, [-1]));
    kept.push(tf.concat(parts));
    tf.dispose([s, ...parts, ...conductances.filter((g) => g !== undefined)]);
    current?.dispose();
  }
  n.dispose();
  return download(kept);
}

const lif = (o: { refracT?: number; resistance?: number } = {}) => () =>
  new LIF([N], 0.5, { restV: -60, resetV: -60, threshV: -50, refracT: o.refracT ?? 2, tauM: 20, resistance: o.resistance ?? 1, receptors, batchSize: B });
const alif = (reduction: 'mean' | 'none', refracT = 1) => () =>
  new ALIF([N], 0.5, { restV: -60, resetV: -60, threshV: -50, refracT, tauM: 20, tauAdapt: [30, 200], adaptIncrement: [1, 0.5], batchReduction: reduction, receptors, batchSize: B });

// the receptors present cycle through both, exc only, inh only, none; every 5th step has no current
const mixed: Drive = { absent: (k) => [[], [1], [0], [0, 1]][k % 4]!, noCurrent: (k) => k % 5 === 2 };

// ALIF cases at cap 8 take the routes of a device with WebGPU's default binding limit (8 storage
// buffers per program, what tfjs asks for); initBackend asks for the adapter's (SwiftShader 12), where
// the same steps are one dispatch
const cases: [string, () => NeuronGroup, Drive, number?][] = [
  ['LIF, both receptors and a current every step', lif(), {}],
  ['LIF, receptors absent on some steps, some steps without current', lif(), mixed],
  ['LIF, refracLock off (conductances masked while refractory)', lif(), { ...mixed, refracLock: false }],
  ['LIF, no refractory period, R = 2.5', lif({ refracT: 0, resistance: 2.5 }), mixed],
  ['LIF, conductances only (no current)', lif(), { noCurrent: () => true }],
  ['ALIF mean, conductances only, 8 buffers (one dispatch, θ its own program: 9 buffers)', alif('mean'), { noCurrent: () => true }, 8],
  ['ALIF mean with current, 8 buffers (one program per state: 10 buffers)', alif('mean'), mixed, 8],
  ['ALIF none, no refractory period, refracLock off, 8 buffers', alif('none', 0), { ...mixed, refracLock: false }, 8],
  ['ALIF mean, conductances only, the device\'s limit (one dispatch)', alif('mean'), { noCurrent: () => true }],
  ['ALIF mean with current, the device\'s limit (one dispatch where 10 buffers fit)', alif('mean'), mixed],
];

/** Fused step program vs op path, both on webgpu. */
async function compare(make: () => NeuronGroup, d: Drive): Promise<{ fused: Float32Array; ops: Float32Array }> {
  return onBackend('webgpu', async () => {
    const was = setStepPrograms(false);
    try {
      const ops = await trace(make, d);
      setStepPrograms(true);
      const fused = await trace(make, d);
      return { fused, ops };
    } finally {
      setStepPrograms(was);
    }
  });
}

const spikes = (t: Float32Array) => {
  const per = t.length / STEPS;
  let n = 0;
  for (let k = 0; k < STEPS; k++) for (let i = 0; i < B * N; i++) n += t[k * per + i]!;
  return n;
};

describe.skipIf(!gpu.ok)(`conductance input in the fused WGSL neuron step vs the webgpu op path (${gpu.detail})`, () => {
  const was = setStepPrograms(true);
  afterAll(() => void setStepPrograms(was));

  for (const [name, make, d, cap] of cases) {
    it(name, async () => {
      const was = setStorageBufferCap(cap ?? Infinity);
      const { fused, ops } = await compare(make, d).finally(() => setStorageBufferCap(was));
      // measured on SwiftShader: LIF bit-identical, ALIF mean ≤ 2.8e-8 (tfjs's Mean sums the batch in
      // another order); the bound leaves room for a device that contracts a·b + c into one FMA
      expect(worstRel(fused, ops)).toBeLessThan(1e-6);
      expect(spikes(ops), 'the drive makes the neurons fire').toBeGreaterThan(5);
    });
  }

  it('LIF, one program per state (backends without the several-output dispatch)', async () => {
    const multi = setMultiOutput(false);
    try {
      const { fused, ops } = await compare(lif(), mixed);
      expect(worstRel(fused, ops)).toBeLessThan(1e-6);
    } finally {
      setMultiOutput(multi);
    }
  });

  // On SwiftShader the program once gave v = 0 and a spike where the op path gives NaN: g = +∞ on the
  // exc receptor (E = 0), whose product g·E the shader compiler folded to 0 (IEEE: ∞·0 = NaN).
  for (const split of [false, true]) {
    it(`NaN, ±∞ and huge conductances (1e30: e^{G·(−Δt/τ)} underflows to 0) give the op path's values${split ? ', one program per state' : ''}`, async () => {
      const edge = (k: number, r: number, g: Float32Array) => {
        // steps k ≡ 0 mod 4 have both receptors, k ≡ 1 exc only, k ≡ 2 inh only; one neuron each
        if (k === 4 && r === 0) g[0] = NaN;
        if (k === 8 && r === 1) g[1] = Infinity;
        if (k === 12 && r === 0) g[2] = Infinity;
        if (k === 16 && r === 1) g[3] = -Infinity;
        if (k % 6 === 1 && r === 0) g[4] = 1e30;
        if (k % 4 === 2 && r === 1) g[5] = 1e30;
        if (k === 20 && r === 0) g[6] = 3e38;
      };
      const multi = setMultiOutput(!split);
      try {
        const { fused, ops } = await compare(lif(), { ...mixed, edge });
        expect(worstRel(fused, ops)).toBeLessThan(1e-6); // NaN where NaN, measured bit-identical elsewhere
        expect(ops.some(Number.isNaN), 'NaN reaches the voltage').toBe(true);
        expect(spikes(ops)).toBeGreaterThan(5);
      } finally {
        setMultiOutput(multi);
      }
    });
  }

  it('groups that differ only in reversal potentials (0 vs −0, −80 vs −70), V_rest or τ_m get programs of their own', async () => {
    const variants: [string, { restV: number; tauM: number; rev: [number, number] }][] = [
      ['COBA', { restV: -60, tauM: 20, rev: [0, -80] }],
      ['E_exc = −0', { restV: -60, tauM: 20, rev: [-0, -80] }],
      ['E_inh = −70', { restV: -60, tauM: 20, rev: [0, -70] }],
      ['V_rest = −58', { restV: -58, tauM: 20, rev: [0, -80] }],
      ['τ_m = 10', { restV: -60, tauM: 10, rev: [0, -80] }],
    ];
    const results: Float32Array[] = [];
    for (const [, v] of variants) {
      const make = () => new LIF([N], 0.5, { restV: v.restV, resetV: -60, threshV: -50, refracT: 2, tauM: v.tauM, receptors: [{ name: 'exc', reversal: v.rev[0] }, { name: 'inh', reversal: v.rev[1] }], batchSize: B });
      const { fused, ops } = await compare(make, mixed);
      expect(worstRel(fused, ops)).toBeLessThan(1e-6);
      results.push(fused);
    }
    // the variants' traces differ (each ran its own constants, not a program compiled for another)
    for (const k of [2, 3, 4]) expect(worstRel(results[k]!, results[0]!)).toBeGreaterThan(1e-4);
  });

  it('a COBA-wired layer (LinearDense × DeltaConductance → exc, inh) steps its LIF in one program: the op path\'s count less the membrane\'s ops', async () => {
    await onBackend('webgpu', async () => {
      const rng = new Rng(3);
      const I = 6;
      const build = () => {
        const conn = (w: number) => new LinearDense([I], [N], 0.5, { synapse: DeltaConductance.factory(), weightInit: uniformInit(rng, 0, w), batchSize: B });
        const neuron = lif()();
        const layer = new Biclique({ connections: { exc: { connection: conn(0.5), input: 'spikes', receptor: 'exc' }, inh: { connection: conn(0.2), input: 'spikes', receptor: 'inh' } }, neurons: { n: neuron } });
        return { layer, neuron };
      };
      const x = tf.tensor2d(Float32Array.from({ length: B * I }, () => (rng.uniform() < 0.5 ? 1 : 0)), [B, I]);
      const g = [tf.fill([B, N], 0.2), tf.fill([B, N], 0.1)];
      const count = async (programs: boolean, what: 'layer' | 'neuron') => {
        const prev = setStepPrograms(programs);
        const { layer, neuron } = build();
        const step = () => tf.tidy(() => void (what === 'layer' ? layer.forward({ spikes: x }) : neuron.forward({ conductances: g }))); // a layer step runs inside tidy
        try {
          step(); // compile outside the count
          const before = tf.memory().numTensors;
          const p = await countPrograms(step);
          return { programs: p.programs, names: p.names, grew: tf.memory().numTensors - before };
        } finally {
          setStepPrograms(prev);
          layer.dispose();
        }
      };
      const fused = await count(true, 'layer');
      const ops = await count(false, 'layer');
      const membrane = await count(false, 'neuron');
      console.log(JSON.stringify({ layer: 'COBA-wired LinearDense', fused: fused.programs, ops: ops.programs, neuronOps: membrane.programs }));
      expect(fused.names.filter((n) => n === 'cinder-neuron')).toHaveLength(1);
      expect(fused.programs).toBe(ops.programs - membrane.programs + 1);
      expect(fused.grew).toBe(0);
      tf.dispose([x, ...g]);
    });
  });

  it('a conductance LIF step is one program (the op path: ≥ 15), tensors flat; ALIF 2 or 4 at 8 buffers, 1 where the device binds 10', async () => {
    await onBackend('webgpu', async () => {
      const count = async (make: () => NeuronGroup, withCurrent: boolean, programs: boolean) => {
        const prev = setStepPrograms(programs);
        const n = make();
        const x = tf.fill([B, N], 10);
        const g = [tf.fill([B, N], 0.2), tf.fill([B, N], 0.1)];
        const input = { ...(withCurrent ? { current: x } : {}), conductances: g };
        try {
          n.forward(input).dispose(); // compile outside the count
          const before = tf.memory().numTensors;
          const p = await countPrograms(() => n.forward(input).dispose());
          return { programs: p.programs, names: p.names.join(','), grew: tf.memory().numTensors - before };
        } finally {
          setStepPrograms(prev);
          tf.dispose([x, ...g]);
          n.dispose();
        }
      };
      for (const withCurrent of [false, true]) {
        const fused = await count(lif(), withCurrent, true);
        const ops = await count(lif(), withCurrent, false);
        console.log(JSON.stringify({ model: 'LIF', withCurrent, fused: fused.programs, ops: ops.programs }));
        expect(fused.programs, fused.names).toBe(1);
        expect(fused.names).toBe('cinder-neuron');
        expect(fused.grew).toBe(0);
        expect(ops.programs).toBeGreaterThanOrEqual(15);
      }
      // ALIF at WebGPU's default limit 8: v, r, s in one dispatch and θ on its own (9 buffers with θ
      // folded in); with a current too, one program per state (v, r, s, θ)
      const was = setStorageBufferCap(8);
      try {
        expect((await count(alif('mean'), false, true)).programs).toBe(2);
        expect((await count(alif('mean'), true, true)).programs).toBe(4);
        expect((await count(alif('mean', 0), true, true)).programs).toBe(1); // no refractory state: 8 buffers
      } finally {
        setStorageBufferCap(was);
      }
      // the device initBackend made binds the adapter's limit: every variant is one dispatch where its
      // 10 buffers (6 inputs, 4 outputs) fit
      const limit = storageBufferLimit();
      console.log(JSON.stringify({ storageBufferLimit: limit }));
      expect(limit).toBeGreaterThan(8); // SwiftShader's adapter allows 12: initBackend asked for them
      const one = limit >= 10 ? 1 : 4;
      expect((await count(alif('mean'), false, true)).programs).toBe(limit >= 9 ? 1 : 2);
      expect((await count(alif('mean'), true, true)).programs).toBe(one);
      expect((await count(alif('mean', 0), true, true)).programs).toBe(1);
    });
  });
});
