// postFiltered: the exponential filter after the weights (Brian2/NEST form, g ← g·e^{−Δt/τ} + Σ w·s)
// on every connection type, against float64 loops with weights that change between steps (where
// it differs from the Inferno form Σ w·g_a), delays (weight at delivery), save/load, clear() and
// batch-size changes.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { moduleFromArtifacts, moduleToArtifacts } from '../../../src/io/serialize.js';
import {
  Conv2D,
  LinearDense,
  LinearDirect,
  LinearLateral,
  MaskedLinear,
  PostsynapticFilter,
  SparseLinear,
  postFiltered,
  synapseList,
  type Connection,
  type PostFiltered,
} from '../../../src/neural/connections/index.js';
import { DeltaConductance, DeltaCurrent, ExponentialConductance, SingleExponentialCurrent } from '../../../src/neural/synapses/index.js';
import { LIF } from '../../../src/neural/neurons/index.js';
import { Biclique } from '../../../src/neural/layers/index.js';
import { bits, expectAllClose, uniform, vals } from './helpers.js';

type Filtered = Connection & PostFiltered;

/** A connection type under test: how to build it, its weight shape and a float64 y = Σ w·x. */
interface Case {
  name: string;
  I: number;
  O: number;
  weightShape: number[];
  /** Builds the post-filtered connection (DeltaConductance, τ) with batch B and weights w0. */
  make(tau: number, B: number, w0: number[]): Filtered;
  /** y[b, j] = Σ_i w_ji·x[b, i] in float64 (x, y flat, batch-major). */
  ref(w: number[], x: number[], B: number): number[];
}

const dt = 0.5;
const syn = DeltaConductance.factory();

function denseRef(w: number[], x: number[], B: number, I: number, O: number, keep: (j: number, i: number) => boolean = () => true): number[] {
  const y: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < O; j++) {
      let s = 0;
      for (let i = 0; i < I; i++) if (keep(j, i)) s += w[j * I + i]! * x[b * I + i]!;
      y.push(s);
    }
  }
  return y;
}

const maskBits = [1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1]; // [3, 6]
const pairs: [number, number][] = [[0, 0], [1, 0], [2, 1], [3, 1], [4, 2], [5, 2], [0, 2], [2, 1]]; // (2→1) twice
const sparse = synapseList(6, 3, pairs);

const cases: Case[] = [
  {
    name: 'LinearDense',
    I: 6,
    O: 3,
    weightShape: [3, 6],
    make: (tau, B, w0) => new (postFiltered(LinearDense))({ tau }, [6], [3], dt, { synapse: syn, batchSize: B, weightInit: (s) => tf.tensor(w0, [...s]) }),
    ref: (w, x, B) => denseRef(w, x, B, 6, 3),
  },
  {
    name: 'MaskedLinear',
    I: 6,
    O: 3,
    weightShape: [3, 6],
    make: (tau, B, w0) =>
      new (postFiltered(MaskedLinear))({ tau }, [6], [3], dt, { synapse: syn, batchSize: B, weightInit: (s) => tf.tensor(w0, [...s]), mask: [0, 1, 2].map((j) => maskBits.slice(6 * j, 6 * j + 6)) }),
    ref: (w, x, B) => denseRef(w, x, B, 6, 3, (j, i) => maskBits[j * 6 + i] === 1),
  },
  {
    name: 'LinearLateral',
    I: 4,
    O: 4,
    weightShape: [4, 4],
    make: (tau, B, w0) => new (postFiltered(LinearLateral))({ tau }, [4], dt, { synapse: syn, batchSize: B, weightInit: (s) => tf.tensor(w0, [...s]) }),
    ref: (w, x, B) => denseRef(w, x, B, 4, 4, (j, i) => j !== i),
  },
  {
    name: 'LinearDirect',
    I: 5,
    O: 5,
    weightShape: [5],
    make: (tau, B, w0) => new (postFiltered(LinearDirect))({ tau }, [5], dt, { synapse: syn, batchSize: B, weightInit: (s) => tf.tensor(w0, [...s]) }),
    ref: (w, x, B) => x.map((v, k) => v * w[k % 5]!),
  },
  {
    name: 'SparseLinear',
    I: 6,
    O: 3,
    weightShape: [pairs.length],
    make: (tau, B, w0) => new (postFiltered(SparseLinear))({ tau }, [6], [3], dt, { synapse: syn, batchSize: B, synapses: sparse, weightInit: (s) => tf.tensor(w0, [...s]) }),
    ref: (w, x, B) => {
      const y = new Array<number>(B * 3).fill(0);
      for (let b = 0; b < B; b++) pairs.forEach(([pre, post], s) => (y[b * 3 + post]! += w[s]! * x[b * 6 + pre]!));
      return y;
    },
  },
  {
    // [4, 4, 2] channels-last, 3 filters of 2×2, valid: out [3, 3, 3]; weight [F, kh, kw, C]
    name: 'Conv2D',
    I: 32,
    O: 27,
    weightShape: [3, 2, 2, 2],
    make: (tau, B, w0) => new (postFiltered(Conv2D))({ tau }, [4, 4, 2], 3, 2, dt, { synapse: syn, batchSize: B, weightInit: (s) => tf.tensor(w0, [...s]) }),
    ref: (w, x, B) => {
      const y: number[] = [];
      for (let b = 0; b < B; b++)
        for (let oy = 0; oy < 3; oy++)
          for (let ox = 0; ox < 3; ox++)
            for (let f = 0; f < 3; f++) {
              let s = 0;
              for (let a = 0; a < 2; a++) for (let c2 = 0; c2 < 2; c2++) for (let ch = 0; ch < 2; ch++) s += w[((f * 2 + a) * 2 + c2) * 2 + ch]! * x[b * 32 + ((oy + a) * 4 + (ox + c2)) * 2 + ch]!;
              y.push(s);
            }
      return y;
    },
  },
];

const numelOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Runs `c` for `steps` steps with fresh random weights before each step (set through the weight
 * setter) and Bernoulli spikes; returns the filtered outputs, the float64 Brian2/NEST reference
 * `g ← g·e^{−Δt/τ} + Σ w·s` and the float64 Inferno form `Σ w·g_a`, `g_a ← g_a·e^{−Δt/τ} + s_a`.
 */
function run(k: Case, c: Filtered, tau: number, B: number, steps: number, rng: Rng) {
  const d = Math.exp(-dt / tau);
  const nW = numelOf(k.weightShape);
  let g = new Array<number>(B * k.O).fill(0);
  let ga = new Array<number>(B * k.I).fill(0);
  const got: number[][] = [];
  const want: number[][] = [];
  const inferno: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const w = uniform(rng, nW, 0, 1).map(Math.fround);
    const wt = tf.tensor(w, k.weightShape);
    c.weight = wt;
    wt.dispose();
    const s = bits(rng, B * k.I, 0.3);
    const st = tf.tensor(s, [B, ...c.inShape]);
    const out = tf.tidy(() => vals(c.forward(st)));
    st.dispose();
    got.push(out);
    const y = k.ref(w, s, B);
    g = g.map((v, i) => v * d + y[i]!);
    want.push(g);
    ga = ga.map((v, i) => v * d + s[i]!);
    inferno.push(k.ref(w, ga, B));
  }
  return { got, want, inferno };
}

describe('postFiltered: g ← g·e^{−Δt/τ} + Σ_a w_a·s_a after the weights (Brian2/NEST form)', () => {
  for (const k of cases) {
    it(`${k.name}: float64 loop over 60 steps with the weights changing every step (not the Inferno form)`, () => {
      const tau = 3;
      const B = 2;
      const rng = new Rng(11);
      const c = k.make(tau, B, uniform(rng, numelOf(k.weightShape), 0, 1));
      expect(c.postFilter).toBeInstanceOf(PostsynapticFilter);
      expect(c.postFilter.kind).toBe('conductance');
      const { got, want, inferno } = run(k, c, tau, B, 60, rng);
      let scale = 0;
      let diffInferno = 0;
      for (let t = 0; t < want.length; t++) {
        for (let i = 0; i < want[t]!.length; i++) {
          scale = Math.max(scale, Math.abs(want[t]![i]!));
          diffInferno = Math.max(diffInferno, Math.abs(inferno[t]![i]! - want[t]![i]!));
        }
      }
      // float32: one product and one sum per step on a contracting filter, plus the weighted sum
      for (let t = 0; t < want.length; t++) expectAllClose(got[t]!, want[t]!, 1e-5, 1e-6 * scale);
      expect(diffInferno).toBeGreaterThan(0.05 * scale); // the two forms differ under weight changes
      expect(vals(c.filtered)).toEqual(got[got.length - 1]);
      c.dispose();
    });
  }

  it('kind current (DeltaCurrent, charge Q): I ← I·e^{−Δt/τ} + (Δt/τ)·Σ w·s·Q/Δt, jumps of w·Q/τ (NEST iaf_psc_exp with Q = τ)', () => {
    const tau = 4;
    const Q = 2;
    const d = Math.exp(-dt / tau);
    const rng = new Rng(5);
    const c = new (postFiltered(LinearDense))({ tau }, [6], [3], dt, { synapse: DeltaCurrent.factory({ charge: Q }) });
    expect(c.postFilter.kind).toBe('current');
    let I = [0, 0, 0];
    for (let t = 0; t < 60; t++) {
      const w = uniform(rng, 18, -1, 1).map(Math.fround);
      const wt = tf.tensor2d(w, [3, 6]);
      c.weight = wt;
      wt.dispose();
      const s = bits(rng, 6, 0.3);
      const st = tf.tensor2d(s, [1, 6]);
      const out = tf.tidy(() => vals(c.forward(st)));
      st.dispose();
      const y = denseRef(w, s, 1, 6, 3);
      I = I.map((v, j) => v * d + (y[j]! * Q) / tau);
      expectAllClose(out, I, 1e-5, 1e-5);
    }
    c.dispose();
  });

  it('with fixed weights it equals the Inferno form (LinearDense with ExponentialConductance / SingleExponentialCurrent)', () => {
    const tau = 2.5;
    const rng = new Rng(8);
    const w = uniform(rng, 12, 0, 1);
    const init = (s: readonly number[]) => tf.tensor(w, [...s]);
    const pairsOf: [Filtered, LinearDense][] = [
      [new (postFiltered(LinearDense))({ tau }, [4], [3], dt, { synapse: DeltaConductance.factory({ increment: 1.5 }), weightInit: init }), new LinearDense([4], [3], dt, { synapse: ExponentialConductance.factory({ tau, increment: 1.5 }), weightInit: init })],
      [new (postFiltered(LinearDense))({ tau }, [4], [3], dt, { synapse: DeltaCurrent.factory({ charge: 3 }), weightInit: init }), new LinearDense([4], [3], dt, { synapse: SingleExponentialCurrent.factory({ tau, charge: 3 }), weightInit: init })],
    ];
    for (const [post, pre] of pairsOf) {
      for (let t = 0; t < 50; t++) {
        const st = tf.tensor2d(bits(rng, 4, 0.4), [1, 4]);
        const [a, b] = tf.tidy(() => [vals(post.forward(st)), vals(pre.forward(st))]);
        st.dispose();
        expectAllClose(a!, b!, 1e-5, 1e-6);
      }
      post.dispose();
      pre.dispose();
    }
  });
});

describe('postFiltered with delays: the jump takes the weight at delivery (Brian2 on_pre with a delay)', () => {
  const D = 3;
  const delayCases: { name: string; make: (tau: number) => Filtered; I: number; O: number; nW: number; wShape: number[]; delays: number[]; edge: (w: number[], hist: number[][], delays: number[]) => number[] }[] = [
    {
      name: 'LinearDense',
      I: 5,
      O: 2,
      nW: 10,
      wShape: [2, 5],
      delays: [0, 1, 2, 3, 1, 3, 2, 0, 0, 2],
      make(tau) {
        return new (postFiltered(LinearDense))({ tau }, [5], [2], dt, { synapse: syn, maxDelay: D * dt, delayInit: (s) => tf.tensor(this.delays.map((k) => k * dt), [...s]) });
      },
      edge: (w, hist, delays) => [0, 1].map((j) => [0, 1, 2, 3, 4].reduce((acc, i) => acc + w[j * 5 + i]! * (hist[delays[j * 5 + i]!]?.[i] ?? 0), 0)),
    },
    {
      name: 'LinearDirect',
      I: 4,
      O: 4,
      nW: 4,
      wShape: [4],
      delays: [3, 0, 2, 1],
      make(tau) {
        return new (postFiltered(LinearDirect))({ tau }, [4], dt, { synapse: syn, maxDelay: D * dt, delayInit: (s) => tf.tensor(this.delays.map((k) => k * dt), [...s]) });
      },
      edge: (w, hist, delays) => [0, 1, 2, 3].map((i) => w[i]! * (hist[delays[i]!]?.[i] ?? 0)),
    },
    {
      name: 'SparseLinear',
      I: 6,
      O: 3,
      nW: pairs.length,
      wShape: [pairs.length],
      delays: [0, 3, 1, 2, 2, 0, 3, 1],
      make(tau) {
        return new (postFiltered(SparseLinear))({ tau }, [6], [3], dt, { synapse: syn, maxDelay: D * dt, synapses: synapseList(6, 3, pairs, undefined, this.delays) });
      },
      edge: (w, hist, delays) => {
        const y = [0, 0, 0];
        pairs.forEach(([pre, post], s) => (y[post]! += w[s]! * (hist[delays[s]!]?.[pre] ?? 0)));
        return y;
      },
    },
  ];
  for (const k of delayCases) {
    it(`${k.name}: float64 loop over 60 steps, weights changing every step`, () => {
      const tau = 2;
      const d = Math.exp(-dt / tau);
      const rng = new Rng(21);
      const c = k.make(tau);
      expect(c.hasDelays).toBe(true);
      const hist: number[][] = []; // hist[k] = spikes k steps ago
      let g = new Array<number>(k.O).fill(0);
      let maxErr = 0;
      for (let t = 0; t < 60; t++) {
        const w = uniform(rng, k.nW, 0, 1).map(Math.fround);
        const wt = tf.tensor(w, k.wShape);
        c.weight = wt;
        wt.dispose();
        const s = bits(rng, k.I, 0.4);
        hist.unshift(s);
        const st = tf.tensor2d(s, [1, k.I]);
        const out = tf.tidy(() => vals(c.forward(st)));
        st.dispose();
        const y = k.edge(w, hist, k.delays);
        g = g.map((v, j) => v * d + y[j]!);
        for (let j = 0; j < k.O; j++) maxErr = Math.max(maxErr, Math.abs(out[j]! - g[j]!) / Math.max(1, Math.abs(g[j]!)));
      }
      expect(maxErr).toBeLessThan(1e-5);
      c.dispose();
    });
  }
});

describe('postFiltered state: save/load, clear(), batch size', () => {
  const k = cases[0]!;
  const tau = 3;

  it('save/load restores the filtered conductance (postFilter.value) and the continuation is bit for bit', async () => {
    const rng = new Rng(2);
    const w0 = uniform(rng, 18, 0, 1);
    const a = k.make(tau, 2, w0);
    const spikes = Array.from({ length: 30 }, () => tf.tensor2d(bits(rng, 12, 0.3), [2, 6]));
    for (let t = 0; t < 15; t++) tf.tidy(() => void a.forward(spikes[t]!));
    const art = await moduleToArtifacts(a);
    expect(a.namedStates().map(([n]) => n)).toContain('postFilter.value');
    const before = vals(a.filtered);
    expect(before.some((v) => v !== 0)).toBe(true);
    const rest = spikes.slice(15).map((s) => tf.tidy(() => vals(a.forward(s))));
    const b = k.make(tau, 2, w0);
    moduleFromArtifacts(b, art);
    expect(vals(b.filtered)).toEqual(before);
    expect(spikes.slice(15).map((s) => tf.tidy(() => vals(b.forward(s))))).toEqual(rest);
    // a different τ is refused by the saved extras
    const other = k.make(4, 2, w0);
    expect(() => moduleFromArtifacts(other, art)).toThrow(/tau/);
    for (const x of [a, b, other, ...spikes]) x.dispose();
  });

  it('clear() zeroes the filter, after which a run equals a fresh one', () => {
    const rng = new Rng(3);
    const w0 = uniform(rng, 18, 0, 1);
    const a = k.make(tau, 1, w0);
    const spikes = Array.from({ length: 20 }, () => tf.tensor2d(bits(rng, 6, 0.4), [1, 6]));
    for (const s of spikes) tf.tidy(() => void a.forward(s));
    a.clear();
    expect(vals(a.filtered)).toEqual([0, 0, 0]);
    const fresh = k.make(tau, 1, w0);
    for (const s of spikes) expect(tf.tidy(() => vals(a.forward(s)))).toEqual(tf.tidy(() => vals(fresh.forward(s))));
    for (const x of [a, fresh, ...spikes]) x.dispose();
  });

  it('a batch-size change re-creates the filter as zeros [B, ...outShape]; a refused one changes nothing', () => {
    const rng = new Rng(4);
    const c = new (postFiltered(Conv2D))({ tau }, [4, 4, 2], 3, 2, dt, { synapse: syn });
    const s1 = tf.tensor(bits(rng, 32, 0.5), [1, 4, 4, 2]);
    tf.tidy(() => void c.forward(s1));
    const kept = vals(c.filtered);
    expect(() => (c.batchSize = 0)).toThrow(CinderArgumentError);
    expect(c.batchSize).toBe(1);
    expect(vals(c.filtered)).toEqual(kept);
    c.batchSize = 3;
    expect(c.filtered.shape).toEqual([3, 3, 3, 3]);
    expect(vals(c.filtered).every((v) => v === 0)).toBe(true);
    expect(c.synapse.batchSize).toBe(3);
    // each sample of the batch filters on its own: sample 1 alone equals a batch-1 run
    const single = new (postFiltered(Conv2D))({ tau }, [4, 4, 2], 3, 2, dt, { synapse: syn });
    single.weight = c.weight;
    for (let t = 0; t < 5; t++) {
      const x = bits(rng, 96, 0.3);
      const sb = tf.tensor(x, [3, 4, 4, 2]);
      const ss = tf.tensor(x.slice(32, 64), [1, 4, 4, 2]);
      const [yb, ys] = tf.tidy(() => [vals(c.forward(sb)), vals(single.forward(ss))]);
      expect(yb!.slice(27, 54)).toEqual(ys);
      sb.dispose();
      ss.dispose();
    }
    for (const x of [c, single, s1]) x.dispose();
  });

  it('in a layer: a conductance to a receptor, batch size set through the layer, tensors flat over a loop', () => {
    const c = new (postFiltered(LinearDense))({ tau }, [4], [2], dt, { synapse: syn, weightInit: (s) => tf.fill([...s], 0.5) });
    const n = new LIF([2], dt, { restV: -70, resetV: -60, threshV: -54, refracT: 0, tauM: 20, receptors: [{ name: 'exc', reversal: 0 }] });
    const layer = new Biclique({ connections: { c: { connection: c, receptor: 'exc' } }, neurons: { n } });
    layer.batchSize = 2;
    expect(c.filtered.shape).toEqual([2, 2]);
    const s = tf.ones([2, 4]);
    for (let t = 0; t < 5; t++) tf.tidy(() => void layer.forward({ c: s })); // caches built (matmul kernel)
    const n0 = tf.memory().numTensors;
    for (let t = 0; t < 20; t++) tf.tidy(() => void layer.forward({ c: s }));
    expect(tf.memory().numTensors).toBe(n0);
    // 25 steps of 4 spikes at w = 0.5: g = 2·Σ_{k<25} e^{−kΔt/τ}
    const d = Math.exp(-dt / tau);
    const want = (2 * (1 - d ** 25)) / (1 - d);
    expectAllClose(vals(c.filtered), [want, want, want, want], 1e-5, 0);
    s.dispose();
    layer.dispose();
  });
});

describe('postFiltered validation', () => {
  it('refuses a bad τ, a bias and a non-connection base, before building anything', () => {
    const n0 = tf.memory().numTensors;
    const F = postFiltered(LinearDense);
    expect(postFiltered(LinearDense)).toBe(F);
    expect(() => new F({ tau: 0 }, [2], [1], dt)).toThrow(/invalid tau: got 0/);
    expect(() => new F(undefined as never, [2], [1], dt)).toThrow(/invalid filter/);
    expect(() => new F({ tau: 1 }, [2], [1], dt, { bias: true })).toThrow(/invalid bias: got true, expected false/);
    expect(() => postFiltered(Object as never)).toThrow(/invalid Base/);
    expect(() => new PostsynapticFilter([2], dt, 'voltage' as never, { tau: 1 })).toThrow(/invalid kind/);
    expect(tf.memory().numTensors).toBe(n0);
    const c = new F({ tau: 1 }, [2], [1], dt, { synapse: syn });
    expect(() => tf.tidy(() => c.postFilter.step(tf.zeros([1, 2])))).toThrow(/invalid y/);
    expect(c.constructor.name).toBe('PostFilteredLinearDense');
    // webgpu's fused layer step takes only a connection with LinearDense's own forward (fused-step.ts):
    // a post-filtered one keeps the op path, which runs the filter
    expect(c.forward).not.toBe(LinearDense.prototype.forward);
    expect(c instanceof LinearDense).toBe(true);
    c.dispose();
    expect(() => DeltaConductance.factory({ increment: 0 })).toThrow(/invalid increment/);
  });
});
