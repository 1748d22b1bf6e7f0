// Long lines are drawn as min/max envelopes (at most maxPoints points per line). The envelope is
// checked against a reference written here (per bucket: Math.min/Math.max of the finite values, then
// the first index holding that value) and against properties any envelope must have (every bucket's
// extremes survive, no two kept finite points are joined across a gap, first and last points
// kept, at most maxPoints points).
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_POINTS, EnvelopeStream, decimateLine, figureHtml, learningCurves, minMaxEnvelope, timeSeriesFigure, tracesFromRecordings, type Figure,
} from '../../src/node.js';
import { mulberry32 as rng } from '../helpers/random.js';
import { envelopeIndices as reference } from '../helpers/envelope.js';

/** Values from a small set (many ties, ±0) with NaN and ±Infinity sprinkled in at rate `gapRate`. */
function randomLine(n: number, seed: number, gapRate: number): Float64Array {
  const r = rng(seed);
  const specials = [NaN, Infinity, -Infinity];
  return Float64Array.from({ length: n }, () => (r() < gapRate ? specials[Math.floor(3 * r())]! : [-2, -1, -0, 0, 1, 2.5][Math.floor(6 * r())]!));
}

/**
 * Properties every envelope must have, whatever its tie rule: at most maxPoints points, the ends,
 * each of the `buckets` buckets' extremes, and no two kept finite points joined across a gap.
 */
function expectEnvelope(y: Float64Array, maxPoints: number, idx: Uint32Array, buckets: number): void {
  const n = y.length;
  expect(idx.length).toBeLessThanOrEqual(maxPoints);
  expect(idx[0]).toBe(0);
  expect(idx[idx.length - 1]).toBe(n - 1);
  for (let k = 1; k < idx.length; k++) expect(idx[k]!).toBeGreaterThan(idx[k - 1]!);
  if (n <= maxPoints) return;
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets);
    const kept = Array.from(idx).filter((i) => i >= lo && i < hi).map((i) => y[i]!);
    const finite = Array.from(y.subarray(lo, hi)).filter(Number.isFinite);
    if (finite.length) {
      // === on purpose: −0 and 0 are equal values
      expect(Math.min(...kept.filter(Number.isFinite)) === Math.min(...finite)).toBe(true);
      expect(Math.max(...kept.filter(Number.isFinite)) === Math.max(...finite)).toBe(true);
    }
  }
  for (let k = 1; k < idx.length; k++) {
    const [i, j] = [idx[k - 1]!, idx[k]!];
    if (Number.isFinite(y[i]!) && Number.isFinite(y[j]!)) expect(Array.from(y.subarray(i + 1, j)).every(Number.isFinite)).toBe(true);
  }
}

/** The page of a figure (plotly loaded from a relative file). */
const html = (f: Figure): string => figureHtml(f, { plotly: 'relative' });

describe('minMaxEnvelope', () => {
  it('matches the reference on random lines with ties, ±0, NaN and ±Infinity, around the cap', () => {
    let seed = 1;
    const coarse = new Set<string>();
    for (const maxPoints of [7, 8, 9, 10, 100, 1001]) {
      for (const n of [1, 2, maxPoints - 1, maxPoints, maxPoints + 1, maxPoints + 2, 3 * maxPoints + 7, 20 * maxPoints + 3]) {
        for (const gapRate of [0, 0.02, 0.3, 0.5]) {
          const y = randomLine(n, seed++, gapRate);
          const e = minMaxEnvelope(y, maxPoints);
          const ref = reference(y, maxPoints);
          expect([Array.from(e.indices), e.buckets], `n ${n}, maxPoints ${maxPoints}, gaps ${gapRate}`).toEqual([ref.indices, ref.buckets]);
          expectEnvelope(y, maxPoints, e.indices, e.buckets);
          if (n > maxPoints && gapRate > 0) coarse.add(e.buckets === Math.floor((maxPoints - 2) / 3) ? 'fine' : 'coarse');
        }
      }
    }
    expect([...coarse].sort()).toEqual(['coarse', 'fine']); // both budgets for lines with gaps were tried
  });

  it('never joins two kept finite points across a gap: a non-finite value between them in the line is kept between them', () => {
    // 20 points, maxPoints 8: bucket 0 = indices 0 … 9 holds its minimum −5 (index 2) and maximum 5
    // (index 4) on either side of a NaN (index 3), after another NaN (index 1); plotly joins −5 and 5
    // with a line unless a null lies between them
    const y = Float64Array.from([0, NaN, -5, NaN, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const idx = Array.from(minMaxEnvelope(y, 8).indices);
    expect(idx.length).toBeLessThanOrEqual(8);
    expect(idx).toEqual(expect.arrayContaining([2, 3, 4]));
    // random lines full of gaps: the same for every pair of consecutive kept points
    let seed = 100;
    for (const maxPoints of [7, 8, 50, 1001]) {
      for (const n of [maxPoints + 1, 3 * maxPoints + 7, 20 * maxPoints + 3]) {
        for (const gapRate of [0.02, 0.3, 0.5, 0.9]) {
          const line = randomLine(n, seed++, gapRate);
          const kept = Array.from(minMaxEnvelope(line, maxPoints).indices);
          expect(kept.length).toBeLessThanOrEqual(maxPoints);
          for (let k = 1; k < kept.length; k++) {
            const [i, j] = [kept[k - 1]!, kept[k]!];
            if (!Number.isFinite(line[i]!) || !Number.isFinite(line[j]!)) continue;
            const between = Array.from(line.subarray(i + 1, j));
            expect(between.every(Number.isFinite), `n ${n}, maxPoints ${maxPoints}, gaps ${gapRate}: ${i} and ${j} joined across a gap`).toBe(true);
          }
        }
      }
    }
  });

  it('a constant line keeps one point per bucket plus the last; an all-NaN line its ends', () => {
    const c = minMaxEnvelope(new Float64Array(10_000).fill(-65), 8000);
    // 3999 buckets of 2 or 3 points: the first index of each, then n − 1
    expect(c.buckets).toBe(3999);
    expect(Array.from(c.indices)).toEqual([...Array.from({ length: 3999 }, (_, b) => Math.floor((b * 10_000) / 3999)), 9999]);
    const g = minMaxEnvelope(new Float64Array(100).fill(NaN), 11);
    expect(g.buckets).toBe(3);
    expect(Array.from(g.indices)).toEqual([0, 99]);
    // a line with one gap: the gap right after the last finite point before it, ⌊(8000 − 2)/3⌋ buckets
    const one = Float64Array.from({ length: 10_000 }, (_, i) => (i === 5000 ? NaN : Math.sin(i)));
    const e = minMaxEnvelope(one, 8000);
    expect(e.buckets).toBe(2666);
    const at = Array.from(e.indices).indexOf(5000);
    expect(at).toBeGreaterThan(0);
    expect(e.indices[at - 1]).toBeLessThan(5000);
  });

  it('a line of at most maxPoints points (fewer points than buckets, too) is kept whole, as the same arrays', () => {
    const x = [1, 2, 3];
    const y = Float32Array.from([0.1, NaN, 3]);
    const d = decimateLine(x, y, 8000);
    expect(d.x).toBe(x);
    expect(d.y).toBe(y);
    expect(d.buckets).toBe(0);
    expect(Array.from(minMaxEnvelope(y).indices)).toEqual([0, 1, 2]);
    expect(DEFAULT_MAX_POINTS).toBe(8000);
  });

  it('every spike of a long voltage trace survives, with its exact value and time; uneven x is carried along', () => {
    const n = 1_000_000;
    const r = rng(7);
    const v = Float32Array.from({ length: n }, () => -65 + r());
    // spikes in different buckets (of 250 points) all survive; of two in one bucket, the higher one
    const spikes = [0, 12_345, 500_000, 999_999];
    for (const k of spikes) v[k] = 30 + k / n;
    v[500_001] = 29;
    v[777_777] = -80.5;
    const x = Float64Array.from({ length: n }, (_, i) => i * i * 1e-6); // uneven
    const d = decimateLine(x, v, 8000);
    expect(d.y.length).toBeLessThanOrEqual(8000);
    const kept = new Map<number, number>();
    for (let k = 0; k < d.x.length; k++) kept.set(d.x[k]!, d.y[k]!);
    for (const k of [...spikes, 777_777]) expect(kept.get(k * k * 1e-6)).toBe(v[k]);
    expect(kept.has(500_001 * 500_001 * 1e-6)).toBe(false);
  });
});

describe('EnvelopeStream', () => {
  it('pushed point by point, keeps what decimateLine keeps of the whole finite line (x and y), whatever n and cap', () => {
    for (const [n, cap, seed] of [[0, 7, 1], [1, 7, 2], [7, 7, 3], [8, 7, 4], [9, 7, 5], [1000, 7, 6], [1000, 50, 7], [12_345, 100, 8], [8000, 8000, 9], [8001, 8000, 10]] as const) {
      const y = randomLine(n, seed, 0);
      const x = Float64Array.from({ length: n }, (_, i) => 0.5 * i + 3);
      const s = new EnvelopeStream(n, cap);
      for (let i = 0; i < n; i++) s.push(x[i]!, y[i]!);
      const got = s.finish();
      const want = reference(y, cap);
      expect([n, cap, got.buckets]).toEqual([n, cap, want.buckets]);
      expect(Array.from(got.x)).toEqual(want.indices.map((i) => x[i]!));
      expect(Array.from(got.y)).toEqual(want.indices.map((i) => y[i]!));
      expect(s.buckets).toBe(want.buckets);
    }
  });

  it('refuses a non-finite value, a point past n and an early finish, naming them; a refused push changes nothing', () => {
    const s = new EnvelopeStream(3, 7);
    s.push(0, 1);
    expect(() => s.push(1, NaN)).toThrow('invalid y[1]: got NaN, expected a finite value (EnvelopeStream draws lines without gaps)');
    expect(() => s.finish()).toThrow('invalid points pushed: got 1, expected n = 3');
    s.push(1, 2);
    s.push(2, 4);
    expect(() => s.push(3, 5)).toThrow('invalid point: got 3, expected at most n = 3 points');
    expect(Array.from(s.finish().y)).toEqual([1, 2, 4]);
    expect(() => new EnvelopeStream(-1)).toThrow(/invalid n: got -1/);
    expect(() => new EnvelopeStream(10, 6)).toThrow(/invalid maxPoints: got 6/);
  });
});

describe('line figures decimate long lines', () => {
  const n = 1_000_000;
  const time = Float64Array.from({ length: n }, (_, i) => (i + 1) * 0.1);
  const v = Float32Array.from({ length: n }, (_, i) => -65 + 10 * Math.sin(i / 5000) + (i % 100_003 === 0 ? 80 : 0));
  const panels = [{ title: 'v', yTitle: 'mV', series: [{ name: 'v', values: v }, { name: 'θ', values: new Float64Array(n).fill(-50), dashed: true }] }];

  it('timeSeriesFigure: at most maxPoints per line, named and titled as min/max, the HTML bounded', () => {
    const f = timeSeriesFigure('voltage', time, panels);
    expect(f.title).toBe('voltage (2 of 2 lines decimated to ≤ 8000 points: min/max per bucket)');
    expect(f.data.map((d) => d.name)).toEqual(['v (min/max of 3999 buckets of 1000000 points)', 'θ (min/max of 3999 buckets of 1000000 points)']);
    expect(f.data.map((d) => d.legendgroup)).toEqual(['v', 'θ']);
    const env = minMaxEnvelope(v, 8000).indices;
    expect(Array.from(f.data[0]!.y as ArrayLike<number>)).toEqual(Array.from(env, (i) => v[i]!));
    expect(Array.from(f.data[0]!.x as ArrayLike<number>)).toEqual(Array.from(env, (i) => time[i]!));
    // 2 · 8000 points drawn: below the 20 000 WebGL threshold, so SVG
    expect(f.data.map((d) => d.type)).toEqual(['scatter', 'scatter']);
    // the page of 2 × 10^6 points: under 600 kB (every point: tens of MB)
    expect(html(f).length).toBeLessThan(600_000);
    // a smaller cap per call
    const g = timeSeriesFigure('voltage', time, panels, { maxPoints: 101 });
    expect(g.data.every((d) => (d.y as ArrayLike<number>).length <= 101)).toBe(true);
    expect(g.data[0]!.name).toBe('v (min/max of 49 buckets of 1000000 points)');
  });

  it('learningCurves and tracesFromRecordings take maxPoints too', () => {
    const loss = Array.from({ length: 20_000 }, (_, i) => 1 / (1 + i) + (i === 15_000 ? 5 : 0));
    const f = learningCurves('c', [{ curves: [{ name: 'loss', y: loss }, { name: 'val', y: [1, 0.5], x: [1, 20_000], mode: 'markers' }] }], { maxPoints: 1000 });
    expect(f.title).toBe('c (1 of 2 lines decimated to ≤ 1000 points: min/max per bucket)');
    const env = minMaxEnvelope(loss, 1000).indices;
    expect(f.data[0]!.y).toEqual(Float64Array.from(env, (i) => loss[i]!));
    expect(f.data[0]!.x).toEqual(Float64Array.from(env, (i) => i + 1));
    expect(Array.from(f.data[0]!.y as ArrayLike<number>)).toContain(loss[15_000]);
    expect(f.data[1]!.name).toBe('val');
    const rec = { data: Float32Array.from({ length: 30_000 * 2 }, (_, k) => (k % 2) * k), shape: [30_000, 1, 2] };
    const t = tracesFromRecordings('v', [{ recording: rec, neurons: [0, 1] }], { maxPoints: 500 });
    expect(t.data.map((d) => (d.y as ArrayLike<number>).length)).toEqual([minMaxEnvelope(new Float64Array(30_000), 500).indices.length, minMaxEnvelope(Float64Array.from({ length: 30_000 }, (_, k) => 2 * k + 1), 500).indices.length]);
    expect(t.data[1]!.name).toBe('neuron 1 (min/max of 249 buckets of 30000 points)');
  });

  it('figures at or below the cap are byte-identical to the ones drawn with maxPoints: Infinity', () => {
    const m = 8000;
    const t = time.subarray(0, m);
    const small = [{ series: [{ name: 'v', values: v.subarray(0, m) }, { name: 'w', values: v.subarray(1, m + 1) }] }];
    expect(html(timeSeriesFigure('a', t, small))).toBe(html(timeSeriesFigure('a', t, small, { maxPoints: Infinity })));
    const c = [{ curves: [{ name: 'l', y: Array.from(v.subarray(0, m)) }] }];
    expect(html(learningCurves('c', c))).toBe(html(learningCurves('c', c, { maxPoints: Infinity })));
    const rec = { data: v.subarray(0, m), shape: [m, 1, 1] };
    expect(html(tracesFromRecordings('r', [{ recording: rec, neurons: [0] }]))).toBe(html(tracesFromRecordings('r', [{ recording: rec, neurons: [0] }], { maxPoints: Infinity })));
    // and the whole line is there: nothing dropped
    expect(timeSeriesFigure('a', t, small).data[0]!.y).toBe(small[0]!.series[0]!.values);
  });

  it('refuses a maxPoints that is not an integer >= 7 or Infinity, naming it', () => {
    const expected = 'expected an integer >= 7, or Infinity (keep every point)';
    for (const bad of [-1, 0, 4, 6, 6.5, NaN, -Infinity, '8000' as unknown as number]) {
      const got = typeof bad === 'string' ? `"${bad}"` : String(bad);
      const msg = `invalid maxPoints: got ${got}, ${expected}`;
      expect(() => timeSeriesFigure('t', [1, 2], [{ series: [{ name: 'a', values: [1, 2] }] }], { maxPoints: bad })).toThrow(msg);
      expect(() => learningCurves('c', [{ curves: [{ name: 'l', y: [1] }] }], { maxPoints: bad })).toThrow(msg);
      expect(() => tracesFromRecordings('r', [{ recording: { data: [1], shape: [1, 1, 1] }, neurons: [0] }], { maxPoints: bad })).toThrow(msg);
      expect(() => minMaxEnvelope([1, 2], bad)).toThrow(msg);
    }
    expect(() => decimateLine([1], [1, 2], 10)).toThrow('invalid x: got "1 values", expected one per y value (2)');
  });
});

