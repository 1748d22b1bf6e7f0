// The lateral-line example's LL-layer PV metrics and FWHM tuning widths (examples/lateral-line/
// tuning.ts, pv.ts) against closed forms, and against an independent numpy re-implementation of the
// original's definitions (lateral-line-metrics-numpy.py; skipped where python3 with numpy is absent).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tuningCurves, tuningFwhmCm } from '../../examples/lateral-line/tuning.js';
import { pvMapQuality } from '../../examples/lateral-line/pv.js';
import { mulberry32 } from '../helpers/random.js';

const FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.LN2); // 2.35482…

/**
 * A slow sweep x_k = k/1000 cm, k = 0 … 5000 (0 … 5 cm, 50 bins of Δ = 0.1 cm, ≈100 steps each) at
 * dt = 0.02 s (≈2 s per bin, so a single spike in a bin is 0.5 Hz), and spike lists in which cell i
 * fires round(count_i(x)) spikes at each step (several spikes per step are allowed, as np.add.at).
 */
function slowSweep(profiles: ((x: number) => number)[]): { spikeStep: Int32Array; spikeI: Int32Array; xCm: Float64Array; n: number; dtS: number } {
  const nT = 5001;
  const xCm = Float64Array.from({ length: nT }, (_, k) => k / 1000);
  const st: number[] = [];
  const si: number[] = [];
  profiles.forEach((f, i) => {
    for (let k = 0; k < nT; k++) {
      const c = Math.round(f(xCm[k]!));
      for (let r = 0; r < c; r++) {
        st.push(k);
        si.push(i);
      }
    }
  });
  return { spikeStep: Int32Array.from(st), spikeI: Int32Array.from(si), xCm, n: profiles.length, dtS: 0.02 };
}

const DELTA = 0.1;
const gauss = (c: number, s: number, a: number) => (x: number) => a * Math.exp(-((x - c) ** 2) / (2 * s * s));
const box = (lo: number, hi: number, a: number) => (x: number) => (x >= lo && x < hi ? a : 0);
const tri = (c: number, w: number, a: number) => (x: number) => a * Math.max(0, 1 - Math.abs(x - c) / w);

describe('FWHM tuning widths (the original\'s _tuning_fwhm_cm)', () => {
  it('bins: 50 edges over min … max of the trace (Δ = 0.1 cm), occupancy = steps·dt, rates = counts/occupancy', () => {
    const s = slowSweep([box(1, 1.5, 3)]);
    const c = tuningCurves(s)!;
    expect(c.edges.length).toBe(51);
    expect(c.edges[0]).toBe(0);
    expect(c.edges[50]).toBe(5);
    expect(c.binWidthCm).toBe(DELTA);
    let occ = 0;
    for (const o of c.occupancyS) occ += o;
    expect(occ).toBeCloseTo(5001 * 0.02, 9); // every step in exactly one bin (x = 5 joins the last)
    expect(c.rates[12]).toBeCloseTo(3 / 0.02, 9); // 3 spikes every step: 150 Hz
    expect(c.rates[30]).toBe(0);
    // numpy digitize: a position on an edge belongs to the bin above it; x_max joins the last bin
    const e = tuningCurves({ spikeStep: [], spikeI: [], n: 1, xCm: [0, 1, 2, 3, 4], dtS: 0.5, nBins: 4 })!;
    expect(Array.from(e.occupancyS)).toEqual([0.5, 0.5, 0.5, 1]);
  });

  it('a Gaussian of σ: width within one bin of 2√(2 ln 2)·σ, an odd number of bins (centre in a bin)', () => {
    // centre 2.45 cm = centre of bin 24; half-max crossings at ±1.1774σ: the bins whose centres lie
    // inside are counted, so W = (2·⌊1.1774σ/Δ⌋ + 1)·Δ: σ 0.3 → 7 bins, 0.45 → 11, 0.8 → 19
    const sig = [0.3, 0.45, 0.8];
    const r = tuningFwhmCm(slowSweep(sig.map((s) => gauss(2.45, s, 200))));
    expect(r.nValid).toBe(3);
    expect(Array.from(r.fwhmCm).map((w) => Math.round(w / DELTA))).toEqual([7, 11, 19]);
    sig.forEach((s, i) => expect(Math.abs(r.fwhmCm[i]! - FWHM_PER_SIGMA * s)).toBeLessThan(DELTA));
    expect(r.fwhmCm[1]).toBeCloseTo(1.1, 12);
    expect(r.meanCm).toBeCloseTo((0.7 + 1.1 + 1.9) / 3, 12);
  });

  it('a boxcar has its exact width; a triangle of half-base w has FWHM w (0.9 → 9 bins; 1.0 → 11: its crossing sits on a bin centre)', () => {
    const r = tuningFwhmCm(slowSweep([box(1, 1.8, 2), box(2, 2.3, 5), tri(2.45, 0.9, 200), tri(2.45, 1.0, 200)]));
    expect(r.fwhmCm[0]).toBeCloseTo(0.8, 12);
    expect(r.fwhmCm[1]).toBeCloseTo(0.3, 12);
    expect(r.fwhmCm[2]).toBeCloseTo(0.9, 12);
    expect(r.fwhmCm[3]).toBeCloseTo(1.1, 12);
  });

  it('counts every bin at or above half the peak: the lobes of a bimodal curve add up; a lobe below half does not count', () => {
    const two = (x: number) => box(1, 1.4, 4)(x) + box(3, 3.6, 4)(x);
    const low = (x: number) => box(1, 1.4, 10)(x) + box(3, 3.6, 4)(x);
    const tie = (x: number) => box(1, 1.4, 4)(x) + box(3, 3.6, 2)(x); // the second lobe at exactly half the peak
    const r = tuningFwhmCm(slowSweep([two, low, tie]));
    expect(r.fwhmCm[0]).toBeCloseTo(1.0, 12);
    expect(r.fwhmCm[1]).toBeCloseTo(0.4, 12);
    expect(r.fwhmCm[2]).toBeCloseTo(1.0, 12);
  });

  it('no baseline subtraction: a cell at 60 % of its peak everywhere spans the whole sweep (5 cm)', () => {
    const r = tuningFwhmCm(slowSweep([(x) => 3 + box(2, 2.5, 2)(x), box(1, 1.2, 1)]));
    expect(r.fwhmCm[0]).toBeCloseTo(5, 12);
  });

  it('silent cells and cells with a peak below 1 Hz are left out; mean and sample SD (ddof 1) over the rest', () => {
    // cell 2 never fires; cell 3 fires once (0.5 Hz in its bin); cell 4 three times in one bin (1.5 Hz)
    const once = (x: number) => (x === 3.05 ? 1 : 0);
    const thrice = (x: number) => (x === 4.05 ? 3 : 0);
    const r = tuningFwhmCm(slowSweep([box(1, 1.4, 1), box(2, 3.2, 1), () => 0, once, thrice]));
    expect(r.nValid).toBe(3);
    expect(Number.isNaN(r.fwhmCm[2]!)).toBe(true);
    expect(Number.isNaN(r.fwhmCm[3]!)).toBe(true);
    expect(r.fwhmCm[4]).toBeCloseTo(0.1, 12);
    const w = [0.4, 1.2, 0.1];
    const m = (0.4 + 1.2 + 0.1) / 3;
    expect(r.meanCm).toBeCloseTo(m, 12);
    expect(r.sdCm).toBeCloseTo(Math.sqrt(w.reduce((a, x) => a + (x - m) ** 2, 0) / 2), 12); // 0.568624…
    expect(r.sdCm).toBeCloseTo(0.5686240703, 9);
  });

  it('fewer than 2 valid cells: mean and SD NaN with the count; a trace without extent or under 2 steps: NaN, 0', () => {
    const one = tuningFwhmCm(slowSweep([box(1, 1.4, 1), () => 0]));
    expect([one.meanCm, one.sdCm, one.nValid]).toEqual([NaN, NaN, 1]);
    const flat = tuningFwhmCm({ spikeStep: [0, 1], spikeI: [0, 1], n: 2, xCm: [1, 1, 1], dtS: 0.001 });
    expect([flat.meanCm, flat.sdCm, flat.nValid]).toEqual([NaN, NaN, 0]);
    const short = tuningFwhmCm({ spikeStep: [0], spikeI: [0], n: 1, xCm: [1], dtS: 0.001 });
    expect(short.nValid).toBe(0);
  });

  it('spikes before the test are dropped, after it clipped to the last step; cells outside [0, n) ignored', () => {
    const xCm = Float64Array.from({ length: 100 }, (_, k) => k / 20); // 0 … 4.95 cm
    const r = tuningCurves({ spikeStep: [-1, 150, 0, 5], spikeI: [0, 0, 7, 1], n: 2, xCm, dtS: 0.1, nBins: 5 })!;
    expect(Array.from(r.rates.subarray(0, 5)).map((v) => v > 0)).toEqual([false, false, false, false, true]);
    expect(r.rates[5]).toBeCloseTo(1 / (20 * 0.1), 12);
  });

  it('bad arguments: "invalid X: got Y, expected Z"', () => {
    const xCm = [0, 1];
    expect(() => tuningFwhmCm({ spikeStep: [], spikeI: [], n: 0, xCm, dtS: 0.001 })).toThrow(/invalid n: got 0, expected a positive integer/);
    expect(() => tuningFwhmCm({ spikeStep: [], spikeI: [], n: 1, xCm, dtS: 0 })).toThrow(/invalid dtS: got 0, expected a step > 0/);
    expect(() => tuningFwhmCm({ spikeStep: [], spikeI: [], n: 1, xCm, dtS: 0.001, nBins: 2.5 })).toThrow(/invalid nBins: got 2.5/);
    expect(() => tuningFwhmCm({ spikeStep: [1], spikeI: [], n: 1, xCm, dtS: 0.001 })).toThrow(/invalid spikeI/);
  });
});

const rng = mulberry32;

describe('LL-layer PV (pv_ll_*: the PV function on the LL spikes, φ_k = 2πk/n_ll)', () => {
  // the test sweep: x = −0.5 + 5t/1 s over 1000 steps of 1 ms, n_ll = 100, spikes at t0 + (k + ½)·dt
  const nT = 1000;
  const dt = 0.001;
  const n = 100;
  const t0 = 2.4;
  const xCm = Float64Array.from({ length: nT }, (_, k) => -0.5 + 5 * k * dt);
  const run = (cellAt: (k: number) => number) => {
    const t = Float64Array.from({ length: nT }, (_, k) => t0 + (k + 0.5) * dt);
    const i = Int32Array.from({ length: nT }, (_, k) => cellAt(k));
    return pvMapQuality({ spikeT: t, spikeI: i, n, nT, xCm, startS: t0, dtS: dt });
  };
  const perfect = (k: number) => Math.round(((xCm[k]! + 0.5) / 5) * n) % n;

  it('a population tuned to the sweep (cell k fires where θ_true = 2πk/n): σθ ≈ 0, valid 1', () => {
    const q = run(perfect);
    expect(q.sigmaThetaRad).toBeLessThan(0.02);
    expect(q.validFraction).toBe(1);
  });

  it('the same cells shuffled: σθ at chance (2.096 here; √(ln 100) ≈ 2.15 expected for 100 random bin biases)', () => {
    const u = rng(7);
    const perm = Int32Array.from({ length: n }, (_, k) => k);
    for (let k = n - 1; k > 0; k--) {
      const j = Math.floor(u() * (k + 1));
      [perm[k], perm[j]] = [perm[j]!, perm[k]!];
    }
    const q = run((k) => perm[perfect(k)]!);
    expect(q.sigmaThetaRad).toBeGreaterThan(1.5);
    expect(q.validFraction).toBe(1);
  });

  it('a silent LL layer: the documented fallback σθ = δ_trial = π, valid 0', () => {
    const q = pvMapQuality({ spikeT: [], spikeI: [], n, nT, xCm, startS: t0, dtS: dt });
    expect([q.sigmaThetaRad, q.deltaTrialRad, q.validFraction]).toEqual([Math.PI, Math.PI, 0]);
  });
});

// the numpy cross-check (an independent re-implementation of the original's definitions)
const script = join(import.meta.dirname, 'lateral-line-metrics-numpy.py');
const python = ['/usr/bin/python3', 'python3'].find((p) => (p.startsWith('/') ? existsSync(p) : true) && spawnSync(p, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0);
if (!python) console.warn('# lateral-line-metrics: numpy cross-check skipped (no python3 with numpy)');

describe.skipIf(!python)('FWHM widths and PV vs a numpy re-implementation of the original', () => {
  it('Poisson layers with Gaussian, bimodal, silent and sparse cells: the same widths, counts and PV metrics', () => {
    const nT = 1000;
    const dt = 0.001;
    const t0 = 2.4;
    const xCm = Array.from({ length: nT }, (_, k) => -0.5 + 5 * k * dt);
    const tS = Array.from({ length: nT }, (_, k) => k * dt);
    const u = rng(123);
    const layer = (n: number, rateAt: (i: number, x: number) => number) => {
      const st: number[] = [];
      const si: number[] = [];
      for (let k = 0; k < nT; k++) for (let i = 0; i < n; i++) if (u() < rateAt(i, xCm[k]!) * dt) {
        st.push(k);
        si.push(i);
      }
      return { n, st, si };
    };
    const layers = [
      // LL-like: 40 cells, Gaussian tuning (σ 0.3 cm, 300 Hz) + 5 Hz, cell 0 silent, cell 1 bimodal
      layer(40, (i, x) => (i === 0 ? 0 : i === 1 ? 200 * (Math.exp(-((x - 0.5) ** 2) / 0.08) + Math.exp(-((x - 3.5) ** 2) / 0.08)) : 5 + 300 * Math.exp(-((x - (4 * i) / 39) ** 2) / 0.18))),
      // sparse: 12 cells, 4 of them at 0.3 Hz (none or one spike), the rest ≤ 15 Hz
      layer(12, (i, x) => (i < 4 ? 0.3 : 15 * Math.exp(-((x - i / 3) ** 2) / 0.5))),
    ];
    const payload = {
      t_s: tS, x_cm: xCm, t0, dt,
      layers: layers.map((l) => ({ n: l.n, i: l.si, t: l.st.map((k) => t0 + (k + 0.5) * dt) })),
    };
    const res = spawnSync(python!, [script], { input: JSON.stringify(payload), encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(res.status, res.stderr).toBe(0);
    const py = JSON.parse(res.stdout) as { layers: { mean: number | null; sd: number | null; n_valid: number; sigma_theta: number; delta_trial: number; valid_fraction: number }[] };
    layers.forEach((l, j) => {
      const w = tuningFwhmCm({ spikeStep: l.st, spikeI: l.si, n: l.n, xCm, dtS: dt });
      const q = pvMapQuality({ spikeT: payload.layers[j]!.t, spikeI: l.si, n: l.n, nT, xCm, startS: t0, dtS: dt });
      const p = py.layers[j]!;
      expect(w.nValid).toBe(p.n_valid);
      expect(w.nValid).toBeGreaterThan(1);
      expect(w.meanCm).toBeCloseTo(p.mean!, 12);
      expect(w.sdCm).toBeCloseTo(p.sd!, 12);
      expect(q.sigmaThetaRad).toBeCloseTo(p.sigma_theta, 9);
      expect(q.deltaTrialRad).toBeCloseTo(p.delta_trial, 9);
      expect(q.validFraction).toBe(p.valid_fraction);
    });
    // the LL-like layer: 38 firing Gaussian cells + the bimodal one are valid, the silent one not
    expect(py.layers[0]!.n_valid).toBe(39);
  });

  /** A Poisson layer tuned to the sweep, its PV (Cinder) and the numpy re-implementation's, per bin. */
  const pvVsNumpy = (dt: number, nT: number, window: [number, number] | null, seed: number) => {
    const t0 = 1.2;
    const xCm = Array.from({ length: nT }, (_, k) => -0.5 + 5 * k * dt);
    const u = rng(seed);
    const n = 100;
    const st: number[] = [];
    const si: number[] = [];
    for (let k = 0; k < nT; k++) for (let i = 0; i < n; i++) if (u() < (2 + 400 * Math.exp(-((xCm[k]! - (4 * i) / 99) ** 2) / 0.05)) * dt) {
      st.push(t0 + (k + 0.5) * dt);
      si.push(i);
    }
    const payload = { t_s: xCm.map((_, k) => k * dt), x_cm: xCm, t0, dt, window, layers: [{ n, i: si, t: st }] };
    const res = spawnSync(python!, [script], { input: JSON.stringify(payload), encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(res.status, res.stderr).toBe(0);
    const p = (JSON.parse(res.stdout) as { layers: { sigma_theta: number; delta_trial: number; valid_fraction: number; bias: (number | null)[]; centres: number[] }[] }).layers[0]!;
    const q = pvMapQuality({ spikeT: st, spikeI: si, n, nT, xCm, startS: t0, dtS: dt, ...(window ? { evalXMinCm: window[0], evalXMaxCm: window[1] } : {}) });
    return { p, q };
  };

  it('an evaluation window: every position bin holds the samples numpy\'s linspace edges give it (same bias per bin, same centres)', () => {
    // θ_true = 2π(x − x_min)/span on the 1 ms sweep lands exactly on bin edges; numpy's edges are
    // b·(2π/100), not 2π·b/100 (they differ by an ulp for half of the b), so 10–30 samples change bin
    for (const window of [[0, 4], [0.5, 3.5], [-0.5, 4.5]] as [number, number][]) {
      const { p, q } = pvVsNumpy(0.001, 1000, window, 5);
      // the same bins filled, and each bias equal up to summation order (a sample in another bin
      // moves a bias by ~1e-3)
      expect(Array.from(q.bias, (b) => Number.isNaN(b))).toEqual(p.bias.map((b) => b === null));
      q.bias.forEach((b, k) => { if (p.bias[k] !== null) expect(Math.abs(b - p.bias[k]!)).toBeLessThan(1e-12); });
      expect(q.sigmaThetaRad).toBeCloseTo(p.sigma_theta, 12);
      expect(q.deltaTrialRad).toBeCloseTo(p.delta_trial, 12);
      expect(q.validFraction).toBe(p.valid_fraction);
      expect(Array.from(q.thetaBins)).toEqual(p.centres);
    }
  });

  it('the 20 ms boxcar has round-half-even(0.02/dt) bins, as Python\'s round: dt 1.6 ms → 12 (not 13), 8 ms → 2 (not 3)', () => {
    for (const dt of [0.0016, 0.008]) {
      const { p, q } = pvVsNumpy(dt, Math.round(1 / dt), null, 9);
      expect(q.sigmaThetaRad).toBeCloseTo(p.sigma_theta, 12);
      expect(q.deltaTrialRad).toBeCloseTo(p.delta_trial, 12);
      expect(q.validFraction).toBe(p.valid_fraction);
    }
  });
});
