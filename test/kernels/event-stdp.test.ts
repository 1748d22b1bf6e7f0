// Event-driven pair STDP (Brian2 semantics) and homeostatic scaling against float64 step-by-step
// recursions written here: traces decayed every step by e^{−Δt/τ}, on_pre before on_post.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random.js';
import { EventSTDP, spikeList, type EventSTDPOptions } from '../../src/kernels/js/event-stdp.js';
import { SparseHomeostasis } from '../../src/kernels/js/sparse-homeostasis.js';
import { pairStdpReference } from '../helpers/event-stdp-reference.js';
import { synapseList } from '../../src/neural/connections/sparse-topology.js';

/** A rule with every option the recursion reads (bounds [0, wMax]). */
type Rule = Required<Omit<EventSTDPOptions, 'wMin' | 'weight' | 'onChange'>>;

const reference = pairStdpReference;

/** Runs the kernel on given spike trains (unit lists per step), all instances alike or per instance. */
function runKernel(k: EventSTDP, pre: number[][][], post: number[][][]) {
  const ws: Float32Array[] = [];
  const inputs: Float64Array[] = [];
  const steps = pre[0]!.length;
  for (let t = 0; t < steps; t++) {
    const p: number[] = [];
    const q: number[] = [];
    for (let b = 0; b < k.batch; b++) {
      for (const i of pre[b]![t]!) p.push(b * k.nPre + i);
      for (const j of post[b]![t]!) q.push(b * k.nPost + j);
    }
    const input = new Float64Array(k.batch * k.nPost);
    k.step(Int32Array.from(p), p.length, Int32Array.from(q), q.length, input);
    ws.push(k.weight.slice());
    inputs.push(input);
  }
  return { ws, inputs };
}

// 3 presynaptic, 2 postsynaptic units; 6 synapses incl. a duplicate pair (2 → 0 twice).
const list = synapseList(3, 2, [[0, 0], [1, 0], [2, 0], [2, 0], [0, 1], [2, 1]]);
const w0 = [0.5, 0.05, 0.95, 0.3, 0.6, 0.02];
// Spike trains with simultaneous pre/post spikes (t = 3: 0 and post 0; t = 9: 2 and both posts),
// long gaps (beyond the decay table), and bursts that drive weights into both bounds.
function trains(steps: number, seed: number): { pre: number[][]; post: number[][] } {
  const rng = new Rng(seed);
  const pre: number[][] = [];
  const post: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const gap = t > 60 && t < 60 + 5000; // a silent stretch of 5000 steps
    pre.push(gap ? [] : [0, 1, 2].filter(() => rng.uniform() < 0.25));
    post.push(gap ? [] : [0, 1].filter(() => rng.uniform() < 0.2));
  }
  pre[3] = [0];
  post[3] = [0];
  pre[9] = [2];
  post[9] = [0, 1];
  return { pre, post };
}

const rules: Rule[] = [
  { dt: 1, tauPre: 20, tauPost: 20, aPre: 0.08, aPost: -0.09, wMax: 1, dependence: 'additive', order: 'brian2' },
  { dt: 1, tauPre: 20, tauPost: 15, aPre: 0.3, aPost: -0.35, wMax: 1, dependence: 'multiplicative', order: 'brian2' },
  { dt: 0.1, tauPre: 20, tauPost: 20, aPre: 0.08, aPost: -0.09, wMax: 1, dependence: 'additive', order: 'cinder' },
  { dt: 1, tauPre: 10, tauPost: 20, aPre: 0.3, aPost: -0.35, wMax: 1, dependence: 'multiplicative', order: 'cinder' },
];

describe('EventSTDP vs a float64 step-by-step recursion', () => {
  for (const r of rules) {
    it(`${r.dependence}, order ${r.order}: weights and delivered input after every step to 1e-6`, () => {
      const { pre, post } = trains(5200, 11);
      const ref = reference(list, w0, pre, post, r);
      const k = new EventSTDP(list, { ...r, weight: w0 });
      const got = runKernel(k, [pre], [post]);
      let maxErr = 0;
      let clippedLow = 0;
      let clippedHigh = 0;
      for (let t = 0; t < pre.length; t++) {
        for (let s = 0; s < w0.length; s++) {
          maxErr = Math.max(maxErr, Math.abs(got.ws[t]![s]! - ref.ws[t]![s]!));
          if (ref.ws[t]![s] === 0) clippedLow++;
          if (ref.ws[t]![s] === 1) clippedHigh++;
        }
        for (let j = 0; j < 2; j++) maxErr = Math.max(maxErr, Math.abs(got.inputs[t]![j]! - ref.inputs[t]![j]!));
      }
      expect(maxErr).toBeLessThan(1e-6);
      if (r.dependence === 'additive') expect(clippedLow).toBeGreaterThan(0); // the bounds were exercised
      expect(clippedHigh).toBeGreaterThan(0);
      // the traces read back match the recursion's closed form at the end: Σ a·e^{−(t_end − t_k)/τ}
      const tEnd = pre.length - 1;
      let want = 0;
      for (let t = 0; t <= tEnd; t++) if (pre[t]!.includes(1)) want += r.aPre * Math.exp((-(tEnd - t) * r.dt) / r.tauPre);
      expect(k.preTrace(1)).toBeCloseTo(want, 12);
    });
  }

  it('simultaneous pre and post: Brian2 potentiates by Apre incl. the pre spike and depresses by Apost before the post spike', () => {
    const one = synapseList(1, 1, [[0, 0]]);
    const k = new EventSTDP(one, { dt: 1, tauPre: 20, tauPost: 20, aPre: 0.1, aPost: -0.2, wMax: 1, weight: [0.5] });
    k.step([0], 1, [], 0); // Apre = 0.1; Apost = 0 → w stays 0.5
    k.step([0], 1, [0], 1); // on_pre: w += Apost (0) ; Apre = 0.1e^{−1/20} + 0.1; on_post: w += Apre
    const apre = 0.1 * Math.exp(-1 / 20) + 0.1;
    expect(k.weight[0]!).toBeCloseTo(0.5 + apre, 6);
    const c = new EventSTDP(one, { dt: 1, tauPre: 20, tauPost: 20, aPre: 0.1, aPost: -0.2, wMax: 1, weight: [0.5], order: 'cinder' });
    c.step([0], 1, [], 0);
    c.step([0], 1, [0], 1); // one update with both traces bumped: w + Apre − 0.2
    expect(c.weight[0]!).toBeCloseTo(0.5 + apre - 0.2, 6);
  });

  it('per-synapse delays: on_pre (delivery and learning) happens delay steps after the spike', () => {
    const d = synapseList(3, 2, [[0, 0], [1, 0], [2, 0], [2, 0], [0, 1], [2, 1]], undefined, [0, 3, 1, 7, 2, 0]);
    const r = rules[0]!;
    const { pre, post } = trains(400, 5);
    const ref = reference(d, w0, pre, post, r);
    const got = runKernel(new EventSTDP(d, { ...r, weight: w0 }), [pre], [post]);
    let maxErr = 0;
    for (let t = 0; t < pre.length; t++) {
      for (let s = 0; s < w0.length; s++) maxErr = Math.max(maxErr, Math.abs(got.ws[t]![s]! - ref.ws[t]![s]!));
      for (let j = 0; j < 2; j++) maxErr = Math.max(maxErr, Math.abs(got.inputs[t]![j]! - ref.inputs[t]![j]!));
    }
    expect(maxErr).toBeLessThan(1e-6);
  });

  it('batched: instances with a shared list or their own lists equal separate runs', () => {
    const r = rules[1]!;
    const other = synapseList(3, 2, [[1, 1], [0, 0], [2, 1]]);
    const wOther = [0.2, 0.7, 0.4];
    const a = trains(300, 1);
    const b = trains(300, 2);
    const c = trains(300, 3);
    // own lists: [list, other, list]
    const k = new EventSTDP([list, other, list], { ...r, weight: [...w0, ...wOther, ...w0] });
    const got = runKernel(k, [a.pre, b.pre, c.pre], [a.post, b.post, c.post]).ws.at(-1)!;
    const refs = [reference(list, w0, a.pre, a.post, r), reference(other, wOther, b.pre, b.post, r), reference(list, w0, c.pre, c.post, r)].map((x) => x.ws.at(-1)!);
    const want = [...refs[0]!, ...refs[1]!, ...refs[2]!];
    expect(Array.from(k.offset)).toEqual([0, 6, 9, 15]);
    for (let g = 0; g < want.length; g++) expect(Math.abs(got[g]! - want[g]!)).toBeLessThan(1e-6);
    // one shared list, batch 2, weights given for one instance
    const s = new EventSTDP(list, { ...r, weight: w0 }, 2);
    const gs = runKernel(s, [a.pre, c.pre], [a.post, c.post]).ws.at(-1)!;
    for (let g = 0; g < 12; g++) expect(Math.abs(gs[g]! - [...refs[0]!, ...refs[2]!][g]!)).toBeLessThan(1e-6);
    expect(k.instanceOf(0)).toBe(0);
    expect(k.instanceOf(8)).toBe(1);
    expect(k.instanceOf(9)).toBe(2);
  });

  // a unit spikes at most once per step (Brian2, NEST): a repeated id used to bump its trace twice
  // and update its synapses twice (for pre ids [0, 0] with Apost 0 the trace became 2·aPre, and
  // the next post spike of unit 0 moved w by 0.16·e^{−1/20} instead of 0.08·e^{−1/20})
  it('a unit listed twice in one step is refused before any change; the run then equals the recursion', () => {
    const delayed = synapseList(3, 2, [[0, 0], [1, 0], [2, 0], [2, 0], [0, 1], [2, 1]], undefined, [0, 3, 1, 7, 2, 0]);
    for (const [l, r] of [[list, rules[0]!], [list, rules[3]!], [delayed, rules[0]!], [delayed, { ...rules[2]!, dt: 1 }]] as const) {
      const { pre, post } = trains(40, 7);
      const ref = reference(l, w0, pre, post, r);
      const k = new EventSTDP(l, { ...r, weight: w0 }, 2);
      const traces = () => Array.from({ length: 12 }, (_, g) => [k.preTrace(g), k.postTrace(g)]).flat();
      for (let t = 0; t < pre.length; t++) {
        // instance 0 runs the trains, instance 1 is silent; the second instance's unit b·n + i is another unit
        const p = Int32Array.from(pre[t]!);
        const q = Int32Array.from(post[t]!);
        if (p.length > 0) {
          const w = k.weight.slice();
          const x = traces();
          const dupPre = Int32Array.from([...p, 3 + p[0]!, p[0]!]);
          expect(() => k.step(dupPre, dupPre.length, q, q.length)).toThrow(new RegExp(`^invalid preIds\\[${p.length + 1}\\]: got ${p[0]}, expected a presynaptic unit listed once per step \\(also at preIds\\[0\\]\\)$`));
          // a window that leaves the repeat out is accepted: only [preFrom, preFrom + preCount) counts
          if (q.length > 0) {
            const dupPost = Int32Array.from([q[0]!, 2 + q[0]!, q[0]!]);
            expect(() => k.step(p, p.length, dupPost, 3)).toThrow(new RegExp(`^invalid postIds\\[2\\]: got ${q[0]}, expected a postsynaptic unit listed once per step \\(also at postIds\\[0\\]\\)$`));
          }
          expect(Array.from(k.weight)).toEqual(Array.from(w));
          expect(traces()).toEqual(x);
          expect(k.t).toBe(t);
          const windowed = Int32Array.from([p[0]!, ...p]);
          k.step(windowed, p.length, q, q.length, null, 1, 1);
        } else {
          k.step(p, 0, q, q.length);
        }
        for (let s = 0; s < w0.length; s++) if (!(Math.abs(k.weight[s]! - ref.ws[t]![s]!) < 1e-6)) expect.fail(`${r.order}, step ${t}, synapse ${s}: ${k.weight[s]} vs ${ref.ws[t]![s]}`);
      }
    }
  });

  // counts and the window start were used as loop bounds unchecked: preCount 1.5 over [0, 1]
  // processed both spikes, a negative count none, and gain NaN put NaN in the input (silently)
  it('counts, window start and gain that are not what step expects are refused before any change', () => {
    const base = { dt: 1, tauPre: 20, tauPost: 20, aPre: 0.1, aPost: -0.1, wMax: 1, weight: w0 };
    const k = new EventSTDP(list, base);
    k.step([0, 1], 2, [0], 1);
    const before = k.weight.slice();
    const input = new Float64Array(2);
    expect(() => k.step([0, 1], 1.5, [], 0)).toThrow(/^invalid preCount: got 1\.5, expected an integer >= 0$/);
    expect(() => k.step([0, 1], -1, [], 0)).toThrow(/^invalid preCount: got -1, expected an integer >= 0$/);
    expect(() => k.step([0, 1], 1, [0], NaN)).toThrow(/^invalid postCount: got NaN, expected an integer >= 0$/);
    expect(() => k.step([0, 1], 1, [], 0, null, 1, -1)).toThrow(/^invalid preFrom: got -1, expected an integer >= 0$/);
    expect(() => k.step([0, 1], 1, [], 0, input, NaN)).toThrow(/^invalid gain: got NaN, expected a finite number$/);
    expect(() => k.step([0, 1], 1, [], 0, input, Infinity)).toThrow(/^invalid gain: got Infinity, expected a finite number$/);
    expect(Array.from(k.weight)).toEqual(Array.from(before));
    expect(Array.from(input)).toEqual([0, 0]);
    expect(k.t).toBe(1);
    // a valid call with the same lists: the input is Σ gain·w over the arriving synapses of unit 1
    k.step([0, 1], 1, [], 0, input, 2, 1);
    expect(input[0]).toBeCloseTo(2 * before[1]!, 6);
    expect(k.t).toBe(2);
  });

  it('work scales with spikes: a step without spikes touches no synapse', () => {
    const big = synapseList(1000, 1, Array.from({ length: 1000 }, (_, i) => [i, 0] as [number, number]));
    let changes = 0;
    const k = new EventSTDP(big, { dt: 1, tauPre: 20, tauPost: 20, aPre: 0.01, aPost: -0.01, wMax: 1, weight: new Float32Array(1000).fill(0.5), onChange: () => changes++ });
    k.step([3], 1, [], 0);
    expect(changes).toBe(0); // Apost was 0
    k.step([], 0, [0], 1);
    expect(changes).toBe(1); // only the synapse with a non-zero Apre changes
    expect(k.weight[3]!).toBeCloseTo(0.5 + 0.01 * Math.exp(-1 / 20), 7);
  });

  it('spikeList collects non-zero entries; bad options are rejected by name', () => {
    const out = new Int32Array(5);
    expect(spikeList([0, 1, 0, 1, 1], out)).toBe(3);
    expect(Array.from(out.subarray(0, 3))).toEqual([1, 3, 4]);
    const base = { dt: 1, tauPre: 20, tauPost: 20, aPre: 0.1, aPost: -0.1, wMax: 1 };
    expect(() => new EventSTDP(list, { ...base, tauPre: 0 })).toThrow(/invalid tauPre/);
    expect(() => new EventSTDP(list, { ...base, dependence: 'power' as never })).toThrow(/invalid dependence/);
    expect(() => new EventSTDP(list, { ...base, weight: [1, 2] })).toThrow(/invalid weight/);
    expect(() => new EventSTDP(list, { ...base, wMin: 2 })).toThrow(/invalid wMin/);
    expect(() => new EventSTDP([list, synapseList(4, 2, [[3, 0]])], base)).toThrow(/lists\[1\]/);
    // a bad step throws before changing anything
    const k = new EventSTDP(list, { ...base, weight: w0 });
    k.step([0, 1], 2, [0], 1);
    const before = k.weight.slice();
    expect(() => k.step([0, 3], 2, [], 0)).toThrow(/invalid preIds\[1\]/);
    expect(() => k.step([0], 1, [2], 1)).toThrow(/invalid postIds\[0\]/);
    expect(() => k.step([0], 1, [], 0, new Float64Array(3))).toThrow(/invalid input/);
    expect(Array.from(k.weight)).toEqual(Array.from(before));
    expect(k.t).toBe(1);
  });
});

describe('SparseHomeostasis vs a hand computation', () => {
  // post 0 ← synapses 0, 1 (w 0.2, 0.4); post 1 ← synapse 2 (w 0.1); post 2 ← synapses 3, 4 (0.3, 0.3)
  const l = synapseList(2, 3, [[0, 0], [1, 0], [0, 1], [1, 2], [0, 2]]);
  const w = [0.2, 0.4, 0.1, 0.3, 0.3];

  it('units with no incoming weight are left out of the mean and not scaled', () => {
    // post 1 has one synapse of weight 0: target = mean(0.6, 0.6) = 0.6, not 1.2/3
    const k = new EventSTDP(l, { dt: 1, tauPre: 20, tauPost: 20, aPre: 0, aPost: 0, wMax: 1, weight: [0.2, 0.4, 0, 0.3, 0.3] });
    const h = new SparseHomeostasis(k, { eta: 0.5, target: 'current', wMax: 1 });
    h.apply();
    expect(Array.from(k.weight)).toEqual(Array.from(Float32Array.from([0.2, 0.4, 0, 0.3, 0.3])));
    expect(h.initialTarget[0]!).toBeCloseTo(0.6, 7);
  });

  it("'current' target: scale = clip(1 + η(mean/incoming − 1), 0.9, 1.1), then clip to [0, wMax]", () => {
    const k = new EventSTDP(l, { dt: 1, tauPre: 20, tauPost: 20, aPre: 0, aPost: 0, wMax: 0.5, weight: w });
    const h = new SparseHomeostasis(k, { eta: 0.5, target: 'current', wMax: 0.5 });
    // sums 0.6, 0.1, 0.6 → target 1.3/3; scales: 1 + 0.5(0.4333/0.6 − 1) = 0.86111 → 0.9; 1 + 0.5(4.3333 − 1) → 1.1;
    // post 2: 0.86111 → 0.9
    h.apply();
    const want = [0.18, 0.36, 0.11, 0.27, 0.27];
    want.forEach((v, s) => expect(k.weight[s]!).toBeCloseTo(v, 7));
    // η small: inside the clip range
    const k2 = new EventSTDP(l, { dt: 1, tauPre: 20, tauPost: 20, aPre: 0, aPost: 0, wMax: 0.5, weight: w });
    new SparseHomeostasis(k2, { eta: 0.01, target: 'current', wMax: 0.5 }).apply();
    const t = 1.3 / 3;
    const sc = [1 + 0.01 * (t / 0.6 - 1), 1 + 0.01 * (t / 0.1 - 1), 1 + 0.01 * (t / 0.6 - 1)];
    const post = [0, 0, 1, 2, 2];
    w.forEach((v, s) => expect(k2.weight[s]!).toBeCloseTo(Math.min(v * sc[post[s]!]!, 0.5), 7));
  });

  it("'initial' target restores the initial mean; every K trials; clipping at wMax", () => {
    const k = new EventSTDP(l, { dt: 1, tauPre: 20, tauPost: 20, aPre: 0, aPost: 0, wMax: 0.42, weight: w });
    const h = new SparseHomeostasis(k, { eta: 0.05, target: 'initial', wMax: 0.42, every: 3 });
    expect(h.initialTarget[0]!).toBeCloseTo(1.3 / 3, 7); // float32 weights
    k.weight.set([0.1, 0.1, 0.1, 0.1, 0.1]); // sums now 0.2, 0.1, 0.2
    expect(h.trialEnded()).toBe(false);
    expect(h.trialEnded()).toBe(false);
    expect(h.trialEnded()).toBe(true);
    const t = 1.3 / 3;
    const sc = (inc: number) => Math.min(Math.max(1 + 0.05 * (t / inc - 1), 0.9), 1.1);
    expect(k.weight[0]!).toBeCloseTo(0.1 * sc(0.2), 7);
    expect(k.weight[2]!).toBeCloseTo(0.1 * sc(0.1), 7);
    // clipping at wMax: a weight at the bound stays there when scaled up
    k.weight.set([0.42, 0.0001, 0.1, 0.1, 0.1]);
    h.apply();
    expect(k.weight[0]!).toBeCloseTo(0.42, 7);
    expect(() => new SparseHomeostasis(k, { eta: -1, target: 'initial', wMax: 1 })).toThrow(/invalid eta/);
    expect(() => new SparseHomeostasis(k, { eta: 1, target: 'mean' as never, wMax: 1 })).toThrow(/invalid target/);
    expect(() => new SparseHomeostasis(k, { eta: 1, target: 'initial', wMax: -1 })).toThrow(/invalid wMax: got -1, expected an upper weight bound ≥ 0/);
    expect(() => new SparseHomeostasis(k, { eta: 1, target: 'initial', wMax: 1, scaleMin: -0.5 })).toThrow(/invalid scaleMin: got -0.5, expected a scale factor ≥ 0/);
  });
});
