// CultureEngine.exportState/importState: an engine run for T1 steps, exported, and imported into a
// fresh engine built from the same spec continues bit for bit as one engine run for T1 + T2 steps
// (spikes, weights, every state array); a mismatched state is refused before anything changes.
import { describe, expect, it } from 'vitest';
import { CultureEngine, NoiseStream, type CultureEngineState, type CultureSpec, type ReceptorKinetics } from '../../src/kernels/js/culture.js';
import { EXCITATORY_VOLTAGE_STDP, INHIBITORY_VOLTAGE_STDP } from '../../src/kernels/js/voltage-stdp.js';
import { mulberry32 } from '../helpers/random.js';

const RECEPTORS: ReceptorKinetics[] = [
  { name: 'AMPA', tauRise: 0.5, tauDecay: 3, reversal: 0, mgBlock: false, group: 0 },
  { name: 'NMDA', tauRise: 0.5, tauDecay: 80, reversal: 0, mgBlock: true, group: 0 },
  { name: 'GABA_A', tauRise: 0.3, tauDecay: 5, reversal: -75, mgBlock: false, group: 1 },
];

/** A random culture: 20 neurons (last 4 inhibitory), pairs connected with p = 0.4, delays 1 … 15 steps, strong noise so that it spikes. */
function spec(seed: number): CultureSpec {
  const r = mulberry32(seed);
  const n = 20, nInh = 4;
  const inh = (i: number) => i >= n - nInh;
  const pre: number[] = [], post: number[] = [], rec: number[] = [], w: number[] = [], d: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let q = 0; q < 3; q++) {
      for (let i = 0; i < n; i++) {
        if (i === j || inh(i) !== (q === 2) || r() >= 0.4) continue;
        pre.push(i); post.push(j); rec.push(q); w.push(q === 2 ? 3 * r() : q === 1 ? 0.5 * r() : 3 * r()); d.push(1 + Math.floor(r() * 15));
      }
    }
  }
  const pop = { capacitance: 200, gLeak: 10, eLeak: -65, vThreshold: -50, vReset: -60, refractory: 2, vPeak: 20, spikeWidth: 1 };
  return {
    dt: 0.1,
    populations: [pop, { ...pop, capacitance: 100, refractory: 1 }],
    population: Uint8Array.from({ length: n }, (_, i) => (inh(i) ? 1 : 0)),
    noise: { ge0: 4, gi0: 1.217, sigmaE: 2, sigmaI: 0.356, tauE: 33, tauI: 28.5, eE: 0, eI: -75 },
    receptors: RECEPTORS,
    groups: [EXCITATORY_VOLTAGE_STDP, INHIBITORY_VOLTAGE_STDP],
    edgePre: Int32Array.from(pre), edgePost: Int32Array.from(post), edgeReceptor: Uint8Array.from(rec),
    edgeWeight: Float32Array.from(w), edgeDelay: Int32Array.from(d), seed: 7 + seed,
  };
}

/** Runs `steps` steps recording (step, neuron) of every spike. */
function run(e: CultureEngine, steps: number, spikes: number[]): void {
  e.onSpike = (s, i) => spikes.push(s, i);
  e.run(steps);
}

function bits(a: ArrayLike<number>): number[] {
  // float32 bit patterns (NaN-safe, -0 distinct from 0)
  const f = Float32Array.from(a);
  return Array.from(new Int32Array(f.buffer));
}

function expectSameState(a: CultureEngineState, b: CultureEngineState): void {
  expect(b.stepCount).toBe(a.stepCount);
  for (const k of Object.keys(a) as (keyof CultureEngineState)[]) {
    if (k === 'stepCount') continue;
    const x = a[k] as ArrayLike<number>, y = b[k] as ArrayLike<number>;
    expect([k, y.constructor.name, y.length]).toEqual([k, x.constructor.name, x.length]);
    expect([k, k === 'params' ? Array.from(y) : bits(y)]).toEqual([k, k === 'params' ? Array.from(x) : bits(x)]);
  }
}

describe('CultureEngine.exportState / importState', () => {
  it('T1 steps, export, import into a fresh engine, T2 steps: spikes, weights and state bit-identical to T1 + T2 in one engine', () => {
    const s = spec(1);
    const T1 = 1237, T2 = 1500; // plasticity switched on at step 600 and off at 2000
    const a = new CultureEngine(s);
    const spikesA: number[] = [];
    run(a, 600, spikesA);
    for (const site of a.sites) site.enable();
    run(a, 1400, spikesA);
    for (const site of a.sites) site.disable();
    run(a, T1 + T2 - 2000, spikesA);

    const b = new CultureEngine(s);
    const spikesB: number[] = [];
    run(b, 600, spikesB);
    for (const site of b.sites) site.enable();
    run(b, T1 - 600, spikesB);
    const saved = b.exportState();
    // the cut is taken with spikes in flight and plasticity on, so every part of the state matters
    expect(saved.pendingEdges.length).toBeGreaterThan(0);
    expect(Array.from(saved.plasticityOn)).toEqual([1, 1]);
    const c = new CultureEngine(s);
    c.importState(saved);
    expectSameState(saved, c.exportState());
    const spikesC: number[] = [];
    run(c, 2000 - T1, spikesC);
    for (const site of c.sites) site.disable();
    run(c, T1 + T2 - 2000, spikesC);

    const before = spikesA.slice(0, spikesB.length);
    expect(spikesB).toEqual(before);
    expect(spikesC.length).toBeGreaterThan(40);
    expect(spikesB.concat(spikesC)).toEqual(spikesA);
    const wA = Float32Array.from({ length: a.edges }, (_, e) => a.plasticWeight(e));
    const wC = Float32Array.from({ length: c.edges }, (_, e) => c.plasticWeight(e));
    expect(bits(wC)).toEqual(bits(wA));
    expect(wA.some((x) => x !== 1)).toBe(true); // the rule changed weights
    expectSameState(a.exportState(), c.exportState());
    // a fresh engine without the import does not continue the same way (the test can tell)
    const d = new CultureEngine(s);
    const spikesD: number[] = [];
    d.stepCount = T1;
    run(d, T2, spikesD);
    expect(spikesD).not.toEqual(spikesA.slice(spikesB.length));
  });

  it('the export is a copy: running on does not change it, and importing it twice gives the same continuation', () => {
    const s = spec(2);
    const a = new CultureEngine(s);
    for (const site of a.sites) site.enable();
    a.run(500);
    const saved = a.exportState();
    const copy = structuredClone(saved);
    a.run(300);
    expectSameState(copy, saved);
    const b = new CultureEngine(s), c = new CultureEngine(s);
    b.importState(saved);
    c.run(77); // state of c is overwritten entirely
    c.importState(saved);
    b.run(300); c.run(300);
    expectSameState(a.exportState(), b.exportState());
    expectSameState(a.exportState(), c.exportState());
  });

  it('NoiseStream.getState/setState resumes the stream; all-zero or short states are refused', () => {
    const x = new NoiseStream(5);
    const z = new Float64Array(1000);
    x.fill(z);
    const st = x.getState();
    const next = new Float64Array(1000);
    x.fill(next);
    const y = new NoiseStream(99);
    y.setState(st);
    const again = new Float64Array(1000);
    y.fill(again);
    expect(Array.from(again)).toEqual(Array.from(next));
    expect(() => y.setState([0, 0, 0, 0])).toThrow(/invalid noise state: got \[0,0,0,0\], expected a state that is not all 0/);
    expect(() => y.setState([1, 2, 3])).toThrow(/invalid noise state: .* expected 4 xoshiro128\*\* state words/);
  });

  it('refuses a state of another shape or with bad entries ("invalid state.X: got Y, expected Z") and changes nothing', () => {
    const s = spec(3);
    const a = new CultureEngine(s);
    for (const site of a.sites) site.enable();
    a.run(400);
    const good = a.exportState();
    const target = new CultureEngine(s);
    target.run(123);
    const untouched = target.exportState();
    const n = a.n, m = a.edges;
    const cases: [Partial<Record<keyof CultureEngineState, unknown>>, RegExp][] = [
      [{ v: new Float32Array(n + 1) }, new RegExp(`invalid state\\.v\\.length: got ${n + 1}, expected ${n} \\(one per neuron\\)`)],
      [{ v: new Float64Array(n) }, /invalid state\.v: got .*, expected a Float32Array/],
      [{ rise: new Float32Array(n) }, new RegExp(`invalid state\\.rise\\.length: got ${n}, expected ${3 * n} \\(3 receptors × ${n} neurons\\)`)],
      [{ weight: new Float32Array(m - 1) }, new RegExp(`invalid state\\.weight\\.length: got ${m - 1}, expected ${m} \\(one per edge\\)`)],
      [{ stepCount: 1.5 }, /invalid state\.stepCount: got 1\.5, expected an integer >= 0/],
      [{ refLeft: Int32Array.from({ length: n }, (_, i) => (i === 3 ? -1 : 0)) }, /invalid state\.refLeft\[3\]: got -1, expected a step count >= 0/],
      [{ pendingCount: new Int32Array(3) }, /invalid state\.pendingCount\.length: got 3, expected 16 \(16 ring slots/],
      [{ pendingEdges: new Int32Array(good.pendingEdges.length + 1) }, /invalid state\.pendingEdges\.length: got \d+, expected \d+ \(the sum of pendingCount\)/],
      [{ pendingEdges: good.pendingEdges.map((e, k) => (k === 0 ? m : e)) }, new RegExp(`invalid state\\.pendingEdges\\[0\\]: got ${m}, expected an edge in \\[0, ${m}\\)`)],
      [{ plasticityOn: Uint8Array.of(1, 2) }, /invalid state\.plasticityOn\[1\]: got 2, expected 0 or 1/],
      [{ params: good.params.map((x, k) => (k === 0 ? NaN : x)) }, /invalid state\.params \(group 0\)\.\w+: got NaN/],
      [{ noise: new Int32Array(4) }, /invalid state\.noise: got \[0,0,0,0\]/],
    ];
    expect(good.pendingEdges.length).toBeGreaterThan(0);
    for (const [patch, re] of cases) {
      expect(() => target.importState({ ...good, ...patch } as CultureEngineState)).toThrow(re);
      expectSameState(untouched, target.exportState());
    }
    // swapped groups: the INH parameters in the EXC group
    const K = good.params.length / 2;
    const swapped = Float64Array.from([...good.params.subarray(K), ...good.params.subarray(0, K)]);
    expect(() => target.importState({ ...good, params: swapped })).toThrow(/invalid state\.params \(group 0\)\.inhibitory: got true, expected false/);
    expectSameState(untouched, target.exportState());
  });
});
