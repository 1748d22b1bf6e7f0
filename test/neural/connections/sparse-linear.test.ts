// SparseLinear: forward against a dense equivalent (duplicates summed), delays, and the pair-trace
// STDP through the receptive contract against STDP on the dense connection at the listed edges.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { MaskedLinear, SparseLinear, blockDiagonal, randomSynapses, synapseList, topographicSynapses, type SynapseList } from '../../../src/neural/connections/index.js';
import { FUSED_GATHER_UNITS, FUSED_SPARSE_LIST } from '../../../src/kernels/js/fused-sparse-list.js';
import { setFusedKernels } from '../../../src/kernels/js/fused-memory.js';
import { LIF } from '../../../src/neural/neurons/index.js';
import { Serial } from '../../../src/neural/layers/index.js';
import { DelayAdjustedSTDP, MSTDP, MSTDPET, STDP, TripletSTDP } from '../../../src/learn/trainers/index.js';
import { makeCell, stepCell } from '../../learn/trainers/kernel-harness.js';
import { bits, denseRef, expectAllClose, uniform, vals } from './helpers.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModule, saveModule } from '../../../src/io/serialize.js';

/** Dense W [O, I] of a list, duplicates summed (float64). */
function denseOf(l: SynapseList, w: ArrayLike<number>): number[] {
  const W = new Array<number>(l.nPost * l.nPre).fill(0);
  for (let s = 0; s < l.pre.length; s++) W[l.post[s]! * l.nPre + l.pre[s]!]! += w[s]!;
  return W;
}

describe('SparseLinear forward', () => {
  const rng = new Rng(3);
  const l = topographicSynapses(40, 12, { fixed: 'in', degree: 6, topo: 0.5, sigma: 4 }, rng); // duplicates likely
  const w = uniform(rng, l.pre.length, -1, 1);

  const paths = [
    { denseLimit: undefined, fused: true, name: 'dense kernel' },
    { denseLimit: 0, fused: false, name: 'gather/scatter' },
    { denseLimit: 0, fused: true, name: 'event-driven (CinderFusedSparseList)' },
  ];
  for (const { denseLimit, fused, name } of paths) it(`equals y = x·Wᵀ + b of the dense equivalent (${name} path)`, async () => {
    const was = setFusedKernels(fused);
    try {
      const B = 3;
      const c = new SparseLinear([40], [3, 4], 1, { synapses: l, weightInit: () => tf.tensor1d(w), bias: true, biasInit: () => tf.tensor1d(uniform(new Rng(1), 12)), batchSize: B, denseLimit });
      expect(c.dense).toBe(denseLimit === undefined);
      expect(c.eventIndex !== null).toBe(denseLimit === 0); // 72 synapses in 480 entries: a matmul is as cheap
      const ran = await tf.profile(() => tf.tidy(() => c.forward(tf.zeros([B, 40]))));
      expect(ran.kernelNames.includes(FUSED_SPARSE_LIST)).toBe(fused && denseLimit === 0);
      const x = bits(new Rng(4), B * 40, 0.4);
      const y = tf.tidy(() => c.forward(tf.tensor2d(x, [B, 40])));
      expect(y.shape).toEqual([B, 3, 4]);
      expectAllClose(vals(y), denseRef(x, denseOf(l, w), vals(c.bias!), B, 40, 12), 1e-5, 1e-5);
      y.dispose();
      // a weight change (through the updater) rebuilds the kernel
      c.updater.add('weight', tf.onesLike(c.weight), null);
      c.update();
      const y2 = tf.tidy(() => c.forward(tf.tensor2d(x, [B, 40])));
      expectAllClose(vals(y2), denseRef(x, denseOf(l, w.map((v) => v + 1)), vals(c.bias!), B, 40, 12), 1e-5, 1e-5);
      y2.dispose();
      // inputs that are not spikes (a current trace): every input counts, with its value
      const xr = uniform(new Rng(5), B * 40, -2, 2);
      const y3 = tf.tidy(() => c.forward(tf.tensor2d(xr, [B, 40])));
      expectAllClose(vals(y3), denseRef(xr, denseOf(l, w.map((v) => v + 1)), vals(c.bias!), B, 40, 12), 1e-5, 1e-5);
      y3.dispose();
      c.dispose();
    } finally {
      setFusedKernels(was);
    }
  });

  it('event-driven forward: each non-zero input adds w·x to its synapses\' targets (hand-computed, duplicates, B = 2)', () => {
    // 0→1 (w 0.5), 0→1 again (w 0.25), 1→0 (w −1), 2→1 (w 2): pre 2 fires only in sample 1
    const d = synapseList(3, 2, [[0, 1], [0, 1], [1, 0], [2, 1]], [0.5, 0.25, -1, 2]);
    const c = new SparseLinear([3], [2], 1, { synapses: d, denseLimit: 0, batchSize: 2 });
    expect(c.eventIndex).not.toBeNull();
    const y = vals(tf.tidy(() => c.forward(tf.tensor2d([[1, 1, 0], [0, 3, 1]], [2, 3]))));
    expect(y).toEqual([-1, 0.75, -3, 2]);
    c.dispose();
  });

  it('the event-driven forward is what runs for a large sparse recurrent network, and its numbers are the op path\'s', async () => {
    const N = 3000;
    const big = randomSynapses(N, N, 0.01, new Rng(8)); // 9 M entries: above denseLimit
    const wb = uniform(new Rng(9), big.pre.length, 0, 1);
    const x = bits(new Rng(10), 2 * N, 0.02);
    const run = async (fused: boolean) => {
      const was = setFusedKernels(fused);
      const c = new SparseLinear([N], [N], 1, { synapses: big, weightInit: () => tf.tensor1d(wb), batchSize: 2 });
      try {
        expect(c.dense).toBe(false);
        const input = tf.tensor2d(x, [2, N]);
        const prof = await tf.profile(() => tf.tidy(() => c.forward(input)));
        const y = tf.tidy(() => c.forward(input));
        input.dispose();
        return { y: vals(y), kernels: prof.kernelNames, dispose: () => y.dispose() };
      } finally {
        c.dispose();
        setFusedKernels(was);
      }
    };
    const ev = await run(true);
    const op = await run(false);
    // the synapse's scaling, then one kernel for the whole connection (no per-synapse gather/scatter)
    expect(ev.kernels.filter((k) => k !== 'CinderFusedScale')).toEqual([FUSED_SPARSE_LIST]);
    expect(op.kernels).toEqual(expect.arrayContaining(['GatherV2', 'ScatterNd']));
    expect(op.kernels).not.toContain(FUSED_SPARSE_LIST);
    expectAllClose(ev.y, op.y, 1e-5, 1e-6);
    expect(ev.y.some((v) => v > 0)).toBe(true);
    ev.dispose();
    op.dispose();
  });

  it('receptive maps: each synapse\'s pre and post value, the same numbers with the fused gather (wasm/cpu) as with tf.gather', async () => {
    const B = 2;
    const x = uniform(new Rng(6), B * 40, -1, 1);
    const y = uniform(new Rng(7), B * 12, -1, 1);
    const maps = async (fused: boolean) => {
      const was = setFusedKernels(fused);
      const c = new SparseLinear([40], [12], 1, { synapses: l, weightInit: () => tf.tensor1d(w), batchSize: B });
      try {
        const xt = tf.tensor2d(x, [B, 40]);
        const yt = tf.tensor2d(y, [B, 12]);
        const prof = await tf.profile(() => tf.tidy(() => [c.presynReceptive(xt), c.postsynReceptive(yt)]));
        const [pre, post] = tf.tidy(() => [c.presynReceptive(xt), c.postsynReceptive(yt)]);
        expect(pre!.shape).toEqual([B, l.pre.length, 1]);
        const out = { pre: vals(pre!), post: vals(post!), kernels: prof.kernels.map((k) => k.name) };
        tf.dispose([xt, yt, pre!, post!]);
        return out;
      } finally {
        c.dispose();
        setFusedKernels(was);
      }
    };
    const fusedMaps = await maps(true);
    const ops = await maps(false);
    expect(fusedMaps.kernels.filter((k) => k === FUSED_GATHER_UNITS)).toHaveLength(2);
    expect(ops.kernels).not.toContain(FUSED_GATHER_UNITS);
    expect(fusedMaps.pre).toEqual(ops.pre);
    expect(fusedMaps.post).toEqual(ops.post);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < l.pre.length; s++) {
        expect(fusedMaps.pre[b * l.pre.length + s]).toBe(Math.fround(x[b * 40 + l.pre[s]!]!));
        expect(fusedMaps.post[b * l.pre.length + s]).toBe(Math.fround(y[b * 12 + l.post[s]!]!));
      }
    }
  });

  it('per-synapse delays: synapse s delivers x(t − d_s)', () => {
    const d = synapseList(3, 2, [[0, 0], [1, 0], [2, 1], [0, 1]], [1, 2, 3, 4], [0, 2, 1, 3]);
    const c = new SparseLinear([3], [2], 1, { synapses: d }); // DeltaCurrent: current = spike/dt = spike
    expect(c.maxDelay).toBe(3);
    const xs = [[1, 0, 0], [0, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 1], [0, 0, 0]];
    xs.forEach((x, t) => {
      const y = vals(tf.tidy(() => c.forward(tf.tensor2d([x], [1, 3]))));
      const at = (k: number, i: number) => (t - k >= 0 ? xs[t - k]![i]! : 0);
      expect(y[0]).toBeCloseTo(1 * at(0, 0) + 2 * at(2, 1), 6);
      expect(y[1]).toBeCloseTo(3 * at(1, 2) + 4 * at(3, 0), 6);
    });
    expect(() => new SparseLinear([3], [2], 1, { synapses: d, maxDelay: 2 })).toThrow(/invalid maxDelay/);
    c.dispose();
  });

  it('with delays, the per-synapse gather from the history is the fused copy on wasm/cpu (indices from the delay parameter)', async () => {
    const d = synapseList(3, 2, [[0, 0], [1, 0], [2, 1], [0, 1]], [1, 2, 3, 4], [0, 2, 1, 3]);
    const c = new SparseLinear([3], [2], 1, { synapses: d });
    const prof = await tf.profile(() => tf.tidy(() => c.forward(tf.tensor2d([[1, 0, 1]], [1, 3]))));
    expect(prof.kernelNames).toContain(FUSED_GATHER_UNITS);
    expect(prof.kernelNames).not.toContain('GatherV2');
    c.dispose();
  });

  it('blockDiagonal runs independent instances side by side', () => {
    const a = synapseList(2, 2, [[0, 1], [1, 0]], [1, 2]);
    const b = synapseList(2, 2, [[0, 0]], [5]);
    const u = blockDiagonal([a, b]);
    expect([u.nPre, u.nPost]).toEqual([4, 4]);
    expect(Array.from(u.pre)).toEqual([0, 1, 2]);
    expect(Array.from(u.post)).toEqual([1, 0, 2]);
    const c = new SparseLinear([4], [4], 1, { synapses: u });
    expect(vals(tf.tidy(() => c.forward(tf.tensor2d([[1, 1, 1, 1]]))))).toEqual([2, 1, 5, 0]);
    c.dispose();
  });

  it('blockDiagonal refuses initial weights in some lists only (they were dropped for weightInit)', () => {
    const a = synapseList(2, 2, [[0, 1], [1, 0]], [1, 2]);
    const b = synapseList(2, 2, [[0, 0]]);
    expect(() => blockDiagonal([a, b])).toThrow(/invalid lists\[1\]\.weight: got "none", expected weights, as lists\[0\]/);
    expect(() => blockDiagonal([b, a])).toThrow(/invalid lists\[1\]\.weight: got "weights", expected none, as lists\[0\]/);
    // none in every list: the connection's weightInit gives them
    expect(blockDiagonal([b, b]).weight).toBeUndefined();
  });

  it('saves and loads; a connection with other synapses refuses the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-sparse-'));
    const a = new SparseLinear([40], [12], 1, { synapses: l, weightInit: () => tf.tensor1d(w) });
    await saveModule(a, dir);
    const b = new SparseLinear([40], [12], 1, { synapses: l });
    await loadModule(b, dir);
    expectAllClose(vals(b.weight), w, 0, 1e-7);
    const other = topographicSynapses(40, 12, { fixed: 'in', degree: 6, topo: 0.5, sigma: 4 }, new Rng(99));
    const c = new SparseLinear([40], [12], 1, { synapses: other });
    await expect(loadModule(c, dir)).rejects.toThrow(/topology/);
    for (const m of [a, b, c]) m.dispose();
  });

  it('rejects bad input by name', () => {
    expect(() => new SparseLinear([5], [2], 1, { synapses: synapseList(3, 2, [[0, 0]]) })).toThrow(/invalid inShape/);
    expect(() => new SparseLinear([3], [2], 1, { synapses: undefined as never })).toThrow(/invalid synapses/);
    expect(() => new SparseLinear([3], [2], 1, { synapses: synapseList(3, 2, []) })).toThrow(/invalid synapses/);
  });
});

/** A trainer on one cell, stepped with a step-dependent reward where it takes one. */
interface RuleCase {
  name: string;
  make: () => { register: (cell: never) => void; step: (t: number) => void; dispose: () => void };
}
const ruleCases: RuleCase[] = [
  { name: 'STDP', make: () => { const r = new STDP({ lrPost: 0.05, lrPre: -0.04, tauPost: 10, tauPre: 12 }); return { register: (c) => r.register(c), step: () => r.step(), dispose: () => r.dispose() }; } },
  { name: 'MSTDP', make: () => { const r = new MSTDP({ lrPost: 0.05, lrPre: -0.04, tauPost: 10, tauPre: 12 }); return { register: (c) => r.register(c), step: (t) => r.step(Math.sin(t)), dispose: () => r.dispose() }; } },
  { name: 'MSTDPET', make: () => { const r = new MSTDPET({ lrPost: 0.05, lrPre: -0.04, tauPost: 10, tauPre: 12, tauEligibility: 25 }); return { register: (c) => r.register(c), step: (t) => r.step(Math.cos(t)), dispose: () => r.dispose() }; } },
  { name: 'TripletSTDP', make: () => { const r = new TripletSTDP({ lrPostPair: 0.04, lrPostTriplet: 0.02, lrPrePair: -0.03, lrPreTriplet: 0.01, tauPostFast: 10, tauPostSlow: 40, tauPreFast: 12, tauPreSlow: 50 }); return { register: (c) => r.register(c), step: () => r.step(), dispose: () => r.dispose() }; } },
];

/**
 * Runs `rule` for 40 steps on a SparseLinear over `pairs` (inShape [I]) and on the masked dense
 * connection with the same weights and delays, fed the same spikes, and compares the weights.
 */
function compareWithDense(rule: RuleCase, I: number, pairs: [number, number][], dl: number[] | undefined): void {
  const O = 4;
  const B = 2;
  const l = synapseList(I, O, pairs, uniform(new Rng(2), pairs.length, 0.2, 0.8), dl);
  const W = denseOf(l, l.weight!);
  const maxDelay = dl ? Math.max(...dl) : 0;
  const sparse = new SparseLinear([I], [O], 1, { synapses: l, batchSize: B, maxDelay });
  // the masked dense connection keeps absent edges at 0 after every update
  const dense = new MaskedLinear([I], [O], 1, {
    mask: { edges: pairs.map(([i, j]) => [j, i] as [number, number]) }, batchSize: B, maxDelay, weightInit: () => tf.tensor2d(W, [O, I]),
    ...(dl ? { delayInit: () => { const D = new Array<number>(O * I).fill(0); pairs.forEach(([i, j], s) => (D[j * I + i] = dl[s]!)); return tf.tensor2d(D, [O, I]); } } : {}),
  });
  const mk = (c: SparseLinear | MaskedLinear) => {
    const layer = new Serial(c, new LIF([O], 1, { restV: 0, resetV: 0, threshV: 0.3, refracT: 0, tauM: 5, batchSize: B }));
    const stdp = rule.make();
    stdp.register(layer.cell(c, layer.neuron) as never);
    return { layer, stdp };
  };
  const a = mk(sparse);
  const b = mk(dense);
  const rng = new Rng(7);
  for (let t = 0; t < 40; t++) {
    const x = bits(rng, B * I, 0.35);
    tf.tidy(() => {
      const ya = a.layer.forward(tf.tensor2d(x, [B, I]));
      const yb = b.layer.forward(tf.tensor2d(x, [B, I]));
      expectAllClose(vals(ya), vals(yb), 0, 0); // same spikes
    });
    a.stdp.step(t);
    b.stdp.step(t);
    sparse.update();
    dense.update();
  }
  const ws = vals(sparse.weight);
  const wd = vals(dense.weight);
  let moved = 0;
  pairs.forEach(([i, j], s) => {
    expect(ws[s]!).toBeCloseTo(wd[j * I + i]!, 6);
    if (Math.abs(ws[s]! - l.weight![s]!) > 1e-4) moved++;
  });
  expect(moved).toBeGreaterThan(3);
  a.stdp.dispose();
  b.stdp.dispose();
  a.layer.dispose();
  b.layer.dispose();
}

describe('pair-trace rules on SparseLinear (receptive contract)', () => {
  const pairs: [number, number][] = [[0, 0], [2, 0], [5, 1], [1, 2], [3, 2], [4, 3], [0, 3]];
  for (const [rule, delays] of [...ruleCases.map((r) => [r, false] as const), [ruleCases[0]!, true] as const]) it(`${rule.name} updates the listed synapses exactly as on the masked dense connection${delays ? ' (with delays)' : ''}`, () => {
    compareWithDense(rule, 6, pairs, delays ? [0, 1, 2, 0, 3, 1, 2] : undefined);
  });

  // As many presynaptic units as synapses (inShape [S]), synapse s not reading unit s, with delays:
  // the per-synapse traces [B, S] share the shape of presynaptic values [B, S] and are read as per-synapse.
  const square: [number, number][] = [[3, 0], [0, 0], [6, 1], [1, 2], [5, 2], [2, 3], [4, 3]];
  const squareDelays = [2, 0, 1, 3, 0, 1, 2];
  const delayedStdp: RuleCase = { name: 'STDP (delayed: true)', make: () => { const r = new STDP({ lrPost: 0.05, lrPre: -0.04, tauPost: 10, tauPre: 12, delayed: true }); return { register: (c) => r.register(c), step: () => r.step(), dispose: () => r.dispose() }; } };
  for (const rule of [...ruleCases, delayedStdp]) it(`${rule.name} on inShape [S] with a non-identity pre map and delays equals the masked dense connection`, () => {
    compareWithDense(rule, square.length, square, squareDelays);
  });
});

describe('SparseLinear with delays and as many presynaptic units as synapses', () => {
  // 3 presynaptic units, 3 synapses s: pre [2, 0, 1] → post 0, delays [1, 2, 0] steps. A
  // presynaptic quantity [B, 3] and a per-synapse one [B, 3] would have the same shape.
  const list = () => synapseList(3, 1, [[2, 0], [0, 0], [1, 0]], [0.5, 0.5, 0.5], [1, 2, 0]);

  it('inShape [S] with a non-identity pre map is accepted; presynReceptive reads [B, S] by its form (per-synapse unless told "presynaptic")', () => {
    const a = new SparseLinear([3], [1], 1, { synapses: list() });
    const b = new SparseLinear([3, 1], [1], 1, { synapses: list() });
    const c = new SparseLinear([3], [1], 1, { synapses: synapseList(3, 1, [[2, 0], [0, 0], [1, 0]]) }); // no delays: synspike is presynaptic
    const x = tf.tensor3d([[[10], [20], [30]]]);
    const e = tf.tensor2d([[10, 20, 30]]);
    const read = (m: SparseLinear, t: tf.Tensor, form?: 'synaptic' | 'presynaptic') => vals(tf.tidy(() => m.presynReceptive(t, form)));
    // [S]: one shape, two readings, chosen by form; omitted = synspike's form (per-synapse)
    expect(read(a, e)).toEqual([10, 20, 30]);
    expect(read(a, e, 'synaptic')).toEqual([10, 20, 30]);
    expect(read(a, e, 'presynaptic')).toEqual([30, 10, 20]);
    // [S, 1]: the shapes differ; an explicit form must match the shape
    expect(read(b, x)).toEqual([30, 10, 20]);
    expect(read(b, x, 'presynaptic')).toEqual([30, 10, 20]);
    expect(read(b, e)).toEqual([10, 20, 30]);
    expect(() => b.presynReceptive(x, 'synaptic')).toThrow(/invalid x: .*per-synapse \[B, 3\]/);
    // without delays both forms are presynaptic
    expect(read(c, e)).toEqual([30, 10, 20]);
    expect(read(c, e, 'synaptic')).toEqual([30, 10, 20]);
    expect(read(c, e, 'presynaptic')).toEqual([30, 10, 20]);
    expect(() => a.presynReceptive(e, 'per-unit' as never)).toThrow(/invalid form: got "per-unit"/);
    tf.dispose([x, e]);
    for (const m of [a, b, c]) m.dispose();
  });

  for (const inShape of [[3], [3, 1]]) it(`DelayAdjustedSTDP (presynaptic spike times, read per unit) updates each synapse by its own unit: t_Δ = t_post − t_pre(pre_s) − d_s (inShape [${inShape.join(', ')}])`, () => {
    const conn = new SparseLinear(inShape, [1], 1, { synapses: list() });
    const cell = makeCell(conn, [1, 1]);
    const rule = new DelayAdjustedSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 });
    rule.register(cell as never);
    // unit 2 spikes at t = 1, the others never; the post neuron at t = 4
    stepCell(cell, [0, 0, 1], [0]);
    stepCell(cell, [0, 0, 0], [0]);
    stepCell(cell, [0, 0, 0], [0]);
    stepCell(cell, [0, 0, 0], [1]);
    rule.step();
    conn.update();
    // synapse 0 (pre 2, d 1): t_Δ = 4 − 1 − 1 = 2 → +0.2·e^{−2/5}; synapses 1 and 2 (units 0, 1 never fired): unchanged
    const w = vals(conn.weight);
    expect(w[0]).toBeCloseTo(0.5 + 0.2 * Math.exp(-2 / 5), 6);
    expect(w[1]).toBe(0.5);
    expect(w[2]).toBe(0.5);
    rule.dispose();
    conn.dispose();
    cell.neuron.dispose();
  });
});


describe('SparseLinear keeps its own copy of the synapse list', () => {
  // The gathers read the list on wasm/cpu and an index tensor built at construction elsewhere:
  // mutating the caller's list afterwards must change neither (both stay at the list as given).
  const pairs: [number, number][] = [[2, 0], [0, 1], [1, 1], [2, 2]];
  const x = [1, 10, 100, 0.5, 5, 50]; // [B = 2, I = 3]
  const y = [3, 7, 11, -1, -2, -4]; // [B = 2, O = 3]
  /** per-sample [B][S] of the given side in float64: value of the unit of each synapse. */
  const gather = (v: number[], n: number, side: 0 | 1) => [0, 1].flatMap((b) => pairs.map((p) => v[b * n + p[side]]!));

  it('presynReceptive, postsynReceptive, forward, extras ignore later changes to the given list', () => {
    for (const withSettings of [{ denseLimit: 0 }, {}]) {
      const list = synapseList(3, 3, pairs, [0.5, -1, 2, 0.25]);
      const conn = new SparseLinear([3], [3], 1, { synapses: list, batchSize: 2, ...withSettings });
      const topology = conn.extras().topology;
      // rewire and reweight the caller's arrays (still valid indices)
      list.pre.set([0, 1, 2, 0]);
      list.post.set([2, 2, 0, 0]);
      list.weight!.set([9, 9, 9, 9]);
      const [pr, po, out] = tf.tidy(() => [
        [...conn.presynReceptive(tf.tensor2d(x, [2, 3])).dataSync()],
        [...conn.postsynReceptive(tf.tensor2d(y, [2, 3])).dataSync()],
        [...conn.forward(tf.tensor2d(x, [2, 3])).dataSync()],
      ]);
      expect(pr).toEqual(gather(x, 3, 0).map(Math.fround));
      expect(po).toEqual(gather(y, 3, 1).map(Math.fround));
      // y_j = Σ_{s: post_s = j} w_s·x_{pre_s} with the list as given
      const w = [0.5, -1, 2, 0.25];
      const ref = [0, 1].flatMap((b) => [0, 1, 2].map((j) => pairs.reduce((a, p, s) => a + (p[1] === j ? w[s]! * x[b * 3 + p[0]]! : 0), 0)));
      out!.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 5));
      expect(conn.extras().topology).toBe(topology);
      expect([...conn.synapses.pre]).toEqual(pairs.map((p) => p[0]));
      conn.dispose();
    }
  });
});
