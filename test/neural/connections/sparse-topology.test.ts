// Synapse-list generators: fixed degrees, the clipped rounded Gaussian of the topographic
// fraction, the random fallback, ring inhibition and the CSR/CSC index lists.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/random.js';
import { LaneRng } from '../../../src/kernels/js/event-network.js';
import {
  randomSynapses, ringInhibition, roundHalfEven, sparseIndex, synapseList, synapseListBatch, topographicSynapses,
} from '../../../src/neural/connections/sparse-topology.js';

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - (((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t) * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

describe('topographicSynapses', () => {
  it('fixed in-degree and out-degree are exact; round(k·topo) draws per unit are topographic', () => {
    const rng = new Rng(1);
    const a = topographicSynapses(100, 320, { fixed: 'in', degree: 10, topo: 0.2, sigma: 15 }, rng);
    expect(a.pre.length).toBe(3200);
    const inDeg = new Int32Array(320);
    for (const j of a.post) inDeg[j]!++;
    expect(Array.from(new Set(inDeg))).toEqual([10]);
    const b = topographicSynapses(320, 30, { fixed: 'out', degree: 16, topo: 0.2, sigma: 10 }, rng);
    const outDeg = new Int32Array(320);
    for (const i of b.pre) outDeg[i]!++;
    expect(Array.from(new Set(outDeg))).toEqual([16]);
    for (let s = 0; s < b.pre.length; s++) expect(b.post[s]!).toBeGreaterThanOrEqual(0), expect(b.post[s]!).toBeLessThan(30);
    // round(10·0.2) = 2 topographic sources per MON cell: the first two of each cell are close to its position
    let far = 0;
    for (let m = 0; m < 320; m++) {
      const centre = (m / 319) * 99;
      for (let k = 0; k < 2; k++) if (Math.abs(a.pre[m * 10 + k]! - centre) > 5 * 15) far++;
    }
    expect(far).toBe(0);
    // the uniform rest has the uniform mean (n − 1)/2 within 3 SE
    let sum = 0;
    let n = 0;
    for (let m = 0; m < 320; m++) for (let k = 2; k < 10; k++, n++) sum += a.pre[m * 10 + k]!;
    const se = Math.sqrt((100 * 100 - 1) / 12 / n);
    expect(Math.abs(sum / n - 49.5)).toBeLessThan(3 * se);
  });

  it('the topographic offsets follow round(N(centre, σ)) within 3 SE over 10^5 draws', () => {
    // 3 postsynaptic units: the middle one sits at p = 0.5, centre 0.5·(1001 − 1) = 500 (no clipping reached)
    const N = 100_000;
    const sigma = 15;
    const l = topographicSynapses(1001, 3, { fixed: 'in', degree: N, topo: 1, sigma }, new Rng(7));
    const off = new Float64Array(N);
    for (let k = 0; k < N; k++) off[k] = l.pre[N + k]! - 500;
    const mean = off.reduce((s, x) => s + x, 0) / N;
    const v = off.reduce((s, x) => s + (x - mean) ** 2, 0) / (N - 1);
    const vRounded = sigma * sigma + 1 / 12; // variance of a rounded normal (Sheppard)
    expect(Math.abs(mean)).toBeLessThan(3 * Math.sqrt(vRounded / N));
    expect(Math.abs(v - vRounded)).toBeLessThan(3 * vRounded * Math.sqrt(2 / (N - 1)));
    // probability mass of bands |o| ≤ c: Φ((c + ½)/σ) − Φ(−(c + ½)/σ)
    for (const c of [0, 5, 15, 30]) {
      const p = phi((c + 0.5) / sigma) - phi(-(c + 0.5) / sigma);
      const f = off.reduce((s, x) => s + (Math.abs(x) <= c ? 1 : 0), 0) / N;
      expect(Math.abs(f - p)).toBeLessThan(3 * Math.sqrt((p * (1 - p)) / N));
    }
  });

  it('clips (does not wrap) at the ends: the mass beyond the edge piles up on the edge unit', () => {
    const N = 100_000;
    const sigma = 15;
    const n = 200;
    const l = topographicSynapses(n, 2, { fixed: 'in', degree: N, topo: 1, sigma }, new Rng(3));
    // unit 0 is centred on 0, unit 1 on n − 1
    let atZero = 0;
    let atEnd = 0;
    let bad = 0;
    for (let k = 0; k < N; k++) {
      const lo = l.pre[k]!;
      const hi = l.pre[N + k]!;
      // out of range, or wrapped (a wrapped draw of unit 0 would land near n − 1)
      if (lo < 0 || hi > n - 1 || lo >= n / 2 || hi <= n / 2) bad++;
      if (lo === 0) atZero++;
      if (hi === n - 1) atEnd++;
    }
    expect(bad).toBe(0);
    const p = phi(0.5 / sigma); // P(round(σZ) ≤ 0)
    const se = Math.sqrt((p * (1 - p)) / N);
    expect(Math.abs(atZero / N - p)).toBeLessThan(3 * se);
    expect(Math.abs(atEnd / N - p)).toBeLessThan(3 * se);
  });

  it('round(k·topo) rounds half to even (Python); σ ≥ the other side draws uniformly', () => {
    const topoCount = (degree: number, topo: number) => {
      // σ tiny and a single far-away centre: topographic draws all land on the centre unit
      const l = topographicSynapses(1001, 1, { fixed: 'in', degree, topo, sigma: 1e-9 }, new Rng(1));
      return Array.from(l.pre).filter((i) => i === 0).length;
    };
    expect(topoCount(10, 0.05)).toBeLessThanOrEqual(1); // round(0.5) = 0 (a uniform draw may hit 0 by chance)
    expect([2, 3]).toContain(topoCount(10, 0.25)); // round(2.5) = 2
    expect([4, 5]).toContain(topoCount(10, 0.35)); // round(3.5) = 4
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(-0.5)).toBe(-0);
    expect(roundHalfEven(1.2)).toBe(1);
    // σ = 120 ≥ 80 targets: uniform, so no pile-up at the ends (clipping would put ≈ 37 % on each end)
    const N = 20_000;
    const w = topographicSynapses(1, 80, { fixed: 'out', degree: N, topo: 1, sigma: 120 }, new Rng(2));
    const ends = Array.from(w.post).filter((j) => j === 0 || j === 79).length / N;
    expect(Math.abs(ends - 2 / 80)).toBeLessThan(3 * Math.sqrt((2 / 80) * (1 - 2 / 80) / N));
  });

  it('topo ≤ 0 falls back to random connection with probability fallbackP', () => {
    const l = topographicSynapses(100, 3200, { fixed: 'in', degree: 10, topo: 0, sigma: 15, fallbackP: 0.03 }, new Rng(5));
    const n = 100 * 3200;
    const se = Math.sqrt(n * 0.03 * 0.97);
    expect(Math.abs(l.pre.length - 0.03 * n)).toBeLessThan(3 * se);
    const r = randomSynapses(50, 50, 0.5, new Rng(2), { self: false });
    for (let s = 0; s < r.pre.length; s++) expect(r.pre[s]).not.toBe(r.post[s]);
  });

  it("fallback 'uniform' keeps the degree and draws every partner with int(n); σ = 0 puts the topographic ones on the centre", () => {
    // topo ≤ 0 with fallback 'uniform': exactly the twin generator's int(nPost) draws, unit by unit
    const u = topographicSynapses(7, 13, { fixed: 'out', degree: 5, topo: -0.5, sigma: 2, fallback: 'uniform' }, new LaneRng(11));
    const twin = new LaneRng(11);
    expect(Array.from(u.pre)).toEqual(Array.from({ length: 35 }, (_, s) => Math.floor(s / 5)));
    expect(Array.from(u.post)).toEqual(Array.from({ length: 35 }, () => twin.int(13)));
    // σ = 0: round(centre) half to even, centre = m/(nPost − 1)·(nPre − 1) = 0, 0.75, 1.5, 2.25, 3
    const z = topographicSynapses(4, 5, { fixed: 'in', degree: 2, topo: 1, sigma: 0 }, new Rng(3));
    expect(Array.from(z.pre)).toEqual([0, 0, 1, 1, 2, 2, 2, 2, 3, 3]);
    expect(ringInhibition(12, 3, 0).pre.length).toBe(0);
  });

  it('the same seed gives the same graph; synapseListBatch draws one per instance', () => {
    const opts = { fixed: 'out' as const, degree: 4, topo: 0.5, sigma: 3 };
    const a = topographicSynapses(20, 10, opts, new Rng(9));
    const b = topographicSynapses(20, 10, opts, new Rng(9));
    expect(Array.from(a.post)).toEqual(Array.from(b.post));
    const batch = synapseListBatch(3, new Rng(4), (rng) => topographicSynapses(20, 10, opts, rng));
    expect(batch.length).toBe(3);
    expect(Array.from(batch[0]!.post)).not.toEqual(Array.from(batch[1]!.post));
    const again = synapseListBatch(3, new Rng(4), (rng) => topographicSynapses(20, 10, opts, rng));
    expect(Array.from(again[2]!.post)).toEqual(Array.from(batch[2]!.post));
  });

  it("randomSynapses method 'jumps': each pair independently with probability p (gap law, marginals, counts), sorted, self pairs skipped", () => {
    // gaps between consecutive candidates of a row are geometric: P(G = k) = (1 − p)^k·p
    const p = 0.05;
    const nPre = 400;
    const nPost = 1000;
    const l = randomSynapses(nPre, nPost, p, new Rng(21), { method: 'jumps' });
    const n = l.pre.length;
    const pairs = nPre * nPost;
    // total count ~ Binomial(nPre·nPost, p)
    expect(Math.abs(n - p * pairs)).toBeLessThan(4 * Math.sqrt(pairs * p * (1 - p)));
    // sorted by pre then post, no duplicates
    for (let s = 1; s < n; s++) expect(l.pre[s - 1]! < l.pre[s]! || (l.pre[s - 1] === l.pre[s] && l.post[s - 1]! < l.post[s]!)).toBe(true);
    // gap histogram (within rows, including the first post of a row: gap = post) against the geometric law
    const counts = new Float64Array(6);
    let gaps = 0;
    for (let s = 0; s < n; s++) {
      const g = s > 0 && l.pre[s - 1] === l.pre[s] ? l.post[s]! - l.post[s - 1]! - 1 : l.post[s]!;
      if (g < counts.length) counts[g]!++;
      gaps++;
    }
    for (let k = 0; k < counts.length; k++) {
      const q = (1 - p) ** k * p;
      expect(Math.abs(counts[k]! / gaps - q)).toBeLessThan(4 * Math.sqrt((q * (1 - q)) / gaps));
    }
    // marginal per post column: each column connected in ≈ p·nPre rows (no edge effect at the row ends)
    const col = new Float64Array(nPost);
    for (let s = 0; s < n; s++) col[l.post[s]!]!++;
    const firstTenth = col.slice(0, 100).reduce((a, b) => a + b, 0) / (100 * nPre);
    const lastTenth = col.slice(900).reduce((a, b) => a + b, 0) / (100 * nPre);
    const se = Math.sqrt((p * (1 - p)) / (100 * nPre));
    expect(Math.abs(firstTenth - p)).toBeLessThan(4 * se);
    expect(Math.abs(lastTenth - p)).toBeLessThan(4 * se);
    // self: false skips i = j and still reaches the last post; p = 1 connects every allowed pair; p = 0 none
    const noSelf = randomSynapses(30, 30, 1, new Rng(1), { method: 'jumps', self: false });
    expect(noSelf.pre.length).toBe(30 * 29);
    for (let s = 0; s < noSelf.pre.length; s++) expect(noSelf.pre[s]).not.toBe(noSelf.post[s]);
    expect(Array.from(noSelf.post.slice(0, 29))).toEqual(Array.from({ length: 29 }, (_, k) => k + 1));
    const half = randomSynapses(200, 200, 0.5, new Rng(3), { method: 'jumps', self: false });
    for (let s = 0; s < half.pre.length; s++) expect(half.pre[s]).not.toBe(half.post[s]);
    expect(Math.abs(half.pre.length - 0.5 * 200 * 199)).toBeLessThan(4 * Math.sqrt(200 * 199 * 0.25));
    expect(randomSynapses(5, 5, 0, new Rng(1), { method: 'jumps' }).pre.length).toBe(0);
    // deterministic per seed; one draw per synapse plus one per row (the draw that ends it)
    const again = randomSynapses(nPre, nPost, p, new Rng(21), { method: 'jumps' });
    expect(Array.from(again.post)).toEqual(Array.from(l.post));
    let draws = 0;
    const counting = new Rng(21);
    const spy = { uniform: () => (draws++, counting.uniform()), normal: () => counting.normal(), int: (m: number) => counting.int(m) };
    randomSynapses(nPre, nPost, p, spy, { method: 'jumps' });
    expect(draws).toBe(n + nPre);
    expect(() => randomSynapses(3, 3, 0.5, new Rng(0), { method: 'skip' as never })).toThrow(/invalid method: got "skip", expected 'pairs' or 'jumps'/);
  });

  it("randomSynapses method 'jumps' grows its lists past the binomial estimate: a source whose every gap is 0 connects every pair", () => {
    // uniform() = 0 gives ln(1) = 0: gap 0, so every candidate is connected, far above mean + 6 sd of p = 0.01
    const zero = { uniform: () => 0, normal: () => 0, int: () => 0 };
    for (const self of [true, false]) {
      const l = randomSynapses(60, 70, 0.01, zero, { method: 'jumps', self });
      const want: [number, number][] = [];
      for (let i = 0; i < 60; i++) for (let j = 0; j < 70; j++) if (self || i !== j) want.push([i, j]);
      expect(l.pre.length).toBe(want.length);
      expect(Array.from(l.pre)).toEqual(want.map((q) => q[0]));
      expect(Array.from(l.post)).toEqual(want.map((q) => q[1]));
    }
  });

  it('randomSynapses allocates about 4 bytes per list entry (sized for the binomial count, handed out as views; was doubling plus a copy)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (const method of ['pairs', 'jumps'] as const) {
      for (let k = 0; k < 3; k++) gc(); // earlier garbage swept: what grows now is this call's
      const before = process.memoryUsage().arrayBuffers;
      const l = randomSynapses(2000, 2000, 0.5, new Rng(4), { method });
      const grown = process.memoryUsage().arrayBuffers - before;
      const S = l.pre.length;
      expect(Math.abs(S - 2e6)).toBeLessThan(6 * Math.sqrt(1e6));
      // two int32 lists of capacity mean + 6 sd + 64: 8·S + 8·(S − mean + 6 sd + 64) bytes at most
      expect(grown).toBeGreaterThanOrEqual(8 * S);
      expect(grown).toBeLessThan(8 * (2e6 + 12 * Math.sqrt(1e6) + 64));
    }
  });

  it('rejects bad arguments, naming them', () => {
    const rng = new Rng(0);
    expect(() => topographicSynapses(0, 3, { fixed: 'in', degree: 1, topo: 0.5, sigma: 1 }, rng)).toThrow(/invalid nPre/);
    expect(() => topographicSynapses(3, 3, { fixed: 'up' as never, degree: 1, topo: 0.5, sigma: 1 }, rng)).toThrow(/invalid fixed/);
    expect(() => topographicSynapses(3, 3, { fixed: 'in', degree: 1.5, topo: 0.5, sigma: 1 }, rng)).toThrow(/invalid degree/);
    expect(() => topographicSynapses(3, 3, { fixed: 'in', degree: 1, topo: 0.5, sigma: -1 }, rng)).toThrow(/invalid sigma/);
    expect(() => topographicSynapses(3, 3, { fixed: 'in', degree: 1, topo: 0, sigma: 1, fallback: 'none' as never }, rng)).toThrow(/invalid fallback/);
    expect(() => topographicSynapses(3, 3, { fixed: 'in', degree: 1, topo: 0.5, sigma: 1 }, {} as never)).toThrow(/invalid rng/);
    expect(() => randomSynapses(3, 3, 0.5, Math.random as never)).toThrow(/invalid rng/);
    expect(() => topographicSynapses(3, 3, { fixed: 'in', degree: 1, topo: 1.5, sigma: 1 }, rng)).toThrow(/invalid topo/);
    expect(() => synapseList(2, 2, [[0, 2]])).toThrow(/invalid pairs.post\[0\]/);
    expect(() => synapseList(2, 2, [[0, 1]], [NaN])).toThrow(/weight\[0\]/);
  });

  it('synapseList refuses delays that are not whole steps (Int32Array.from truncated 1.5 to 1, NaN and -0.5 to 0)', () => {
    for (const d of [1.5, NaN, -0.5, -1, Infinity, 2 ** 31]) {
      expect(() => synapseList(2, 2, [[0, 1], [1, 0]], undefined, [0, d]), String(d)).toThrow(/invalid pairs\.delay\[1\]: got .*, expected a whole number of steps/);
    }
    expect(() => synapseList(2, 2, [[0, 1]], undefined, null as never)).toThrow(/invalid delay: got null/);
    expect(Array.from(synapseList(2, 2, [[0, 1], [1, 0]], undefined, [0, 3]).delay!)).toEqual([0, 3]);
  });

  it('synapseList refuses weights that are not an array by name (null was a TypeError from Float32Array.from)', () => {
    for (const w of [null, 3, 'ab']) {
      expect(() => synapseList(2, 2, [[0, 1], [1, 0]], w as never), String(w)).toThrow(/^invalid weight: got .*, expected an array of weights \(one per pair\), or undefined$/);
    }
    expect(Array.from(synapseList(2, 2, [[0, 1], [1, 0]], [0.5, 2]).weight!)).toEqual([0.5, 2]);
  });
});

describe('ringInhibition and sparseIndex', () => {
  it('connects i ≠ j within ring distance R with weight peak·(1 − d/R), leaving out the weight-0 pairs at d = R', () => {
    const n = 12;
    const R = 3;
    const l = ringInhibition(n, R, 1.5);
    const want = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const d = Math.min(Math.abs(i - j), n - Math.abs(i - j));
        if (i !== j && d <= R && 1 - d / R > 0) want.set(`${i},${j}`, 1.5 * (1 - d / R));
      }
    }
    expect(l.pre.length).toBe(want.size);
    expect(want.size).toBe(n * 2 * (R - 1));
    for (let s = 0; s < l.pre.length; s++) expect(l.weight![s]!).toBeCloseTo(want.get(`${l.pre[s]},${l.post[s]}`)!, 6);
    // wrap-around: 0 and 11 are neighbours (d = 1)
    const s01 = Array.from(l.pre).findIndex((i, s) => i === 0 && l.post[s] === 11);
    expect(l.weight![s01]!).toBeCloseTo(1.0, 6);
    // a ring smaller than the radius: every other unit, once
    expect(ringInhibition(4, 10, 1).pre.length).toBe(12);
  });

  it('groups synapses by pre (CSR) and by post (CSC), keeping id order', () => {
    const l = synapseList(3, 2, [[2, 0], [0, 1], [2, 1], [0, 0], [2, 0]]);
    const x = sparseIndex(l);
    expect(Array.from(x.preStart)).toEqual([0, 2, 2, 5]);
    expect(Array.from(x.preSyn)).toEqual([1, 3, 0, 2, 4]);
    expect(Array.from(x.postStart)).toEqual([0, 3, 5]);
    expect(Array.from(x.postSyn)).toEqual([0, 3, 4, 1, 2]);
  });
});
