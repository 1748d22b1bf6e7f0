/**
 * Interactive figures of `cinder lateral-line` (the original's diagnostics): summary, test phase,
 * learning curves (incl. PV vs training time), MON→TS weight profile and receptive fields, TS spikes
 * vs x, MON→TS feed-forward drive heatmap, multi-seed summary.
 * @module
 */
import { panelFigure, type Figure, type Trace } from '../../src/viz/index.js';
import { DEFAULT_MAX_POINTS, decimateLine, decimatedName, decimatedTitle } from '../../src/viz/decimate.js';

/**
 * Cap of the learning curves (the viz default): a curve of more than `maxPoints` points (one per
 * checkpoint: ⌈--n-training-trials / --checkpoint-trials⌉ + 1, the PV ones 1 in
 * --pv-eval-every-checkpoints of them) is drawn as its min/max envelope ({@link decimateLine}:
 * every extreme kept at its own training time), named so, and the title says how many were. A
 * setting so that tests can use a small cap.
 */
export const LATERAL_LINE_FIGURE_CAPS = { maxPoints: DEFAULT_MAX_POINTS };

/** Learning-curve series of one seed: checkpoint times (s), MON→TS weight mean/SD, TS rate per window, PV vs training time. */
export interface LearningSeries {
  ckptT: number[];
  wMean: number[];
  wStd: number[];
  tsRate: number[];
  pvT: number[];
  pvSigma: number[];
  pvDeltaTrial: number[];
}

/** What the figures of one seed need. */
export interface SeedFigureData extends LearningSeries {
  seed: number;
  nMon: number;
  nTs: number;
  /** MON→TS synapses (pre, post, weight before and after). */
  mtPre: Int32Array;
  mtPost: Int32Array;
  wBefore: Float32Array;
  wAfter: Float32Array;
  /** Test: spikes (step from test start, index) of TS and MON, x per step, dt (s). */
  tsStep: Int32Array;
  tsIndex: Int32Array;
  monStep: Int32Array;
  monIndex: Int32Array;
  testX: Float64Array;
  testRaw: Float32Array;
  nLl: number;
  dtS: number;
  /** PV: decoded and true angle per test bin, bias per position bin. */
  thetaHat: Float64Array;
  thetaTrue: Float64Array;
  bias: Float64Array;
  thetaBins: Float64Array;
  sigmaTheta: number;
  validFraction: number;
}

const scatter = (x: ArrayLike<number>, y: ArrayLike<number>, extra: Record<string, unknown> = {}): Trace => ({ type: 'scattergl', mode: 'markers', x: Array.from(x), y: Array.from(y), marker: { size: 2 }, ...extra });
const line = (x: ArrayLike<number>, y: ArrayLike<number>, name: string): Trace => ({ type: 'scatter', mode: 'lines', x: Array.from(x), y: Array.from(y), name });
const nanToNull = (a: ArrayLike<number>): (number | null)[] => Array.from(a, (v) => (Number.isFinite(v) ? v : null));

/** Test-phase spikes as x positions (cm) of the sphere at each spike. */
function spikeX(step: Int32Array, x: Float64Array): Float64Array {
  return Float64Array.from(step, (s) => x[Math.min(x.length - 1, s)]!);
}

/** Summary: MON→TS weights before/after by TS target, TS raster in the test, decoded vs true angle. */
export function summaryFigure(d: SeedFigureData): Figure {
  const tTest = Float64Array.from(d.tsStep, (s) => s * d.dtS);
  const tAxis = Float64Array.from(d.testX, (_, k) => k * d.dtS);
  return panelFigure(`Lateral line, seed ${d.seed}: σθ = ${d.sigmaTheta.toFixed(3)} rad, valid ${d.validFraction.toFixed(3)}`, [
    { title: 'MON→TS weights vs TS target', xTitle: 'TS index', yTitle: 'w', traces: [scatter(d.mtPost, d.wBefore, { name: 'before' }), scatter(d.mtPost, d.wAfter, { name: 'after' })] },
    { title: 'TS spikes (test)', xTitle: 'time in test (s)', yTitle: 'TS index', traces: [scatter(tTest, d.tsIndex, { name: 'TS' })] },
    { title: 'PV decode (test)', xTitle: 'time in test (s)', yTitle: 'angle (rad)', traces: [{ ...line(tAxis, nanToNull(d.thetaHat) as number[], 'θ̂'), mode: 'markers', marker: { size: 2 } }, line(tAxis, nanToNull(d.thetaTrue) as number[], 'θ true')] },
  ], { columns: 1, sharedX: false });
}

/** Test phase: LL rates (heatmap), MON and TS rasters against time. */
export function testPhaseFigure(d: SeedFigureData): Figure {
  const n = d.testX.length;
  const z: number[][] = [];
  for (let i = 0; i < d.nLl; i++) {
    const row: number[] = new Array(n);
    for (let k = 0; k < n; k++) row[k] = d.testRaw[k * d.nLl + i]!;
    z.push(row);
  }
  const t = Array.from({ length: n }, (_, k) => k * d.dtS);
  return panelFigure(`Test phase, seed ${d.seed}`, [
    { title: 'LL rates (Hz)', yTitle: 'LL index', traces: [{ type: 'heatmap', x: t, z, colorscale: 'Viridis', showscale: false }] },
    { title: 'MON spikes', yTitle: 'MON index', traces: [scatter(Float64Array.from(d.monStep, (s) => s * d.dtS), d.monIndex, { name: 'MON' })] },
    { title: 'TS spikes', yTitle: 'TS index', xTitle: 'time in test (s)', traces: [scatter(Float64Array.from(d.tsStep, (s) => s * d.dtS), d.tsIndex, { name: 'TS' })] },
  ], { columns: 1, sharedX: true });
}

/** Learning curves: MON→TS weight mean ± SD, TS rate, PV σθ and δ_trial vs training time (long runs: {@link LATERAL_LINE_FIGURE_CAPS}). */
export function learningCurvesFigure(d: SeedFigureData): Figure {
  const hi = d.wMean.map((m, k) => m + d.wStd[k]!);
  const lo = d.wMean.map((m, k) => m - d.wStd[k]!);
  const maxPoints = LATERAL_LINE_FIGURE_CAPS.maxPoints;
  let lines = 0;
  let decimated = 0;
  // (below the cap: line() of the arrays themselves)
  const capped = (x: ArrayLike<number>, y: ArrayLike<number>, name: string): Trace => {
    const c = decimateLine(x, y, maxPoints);
    lines++;
    if (c.buckets > 0) decimated++;
    return line(c.x, c.y, c.buckets > 0 ? decimatedName(name, c.buckets, y.length) : name);
  };
  const panels = [
    { title: 'MON→TS weight', yTitle: 'w', traces: [capped(d.ckptT, d.wMean, 'mean'), capped(d.ckptT, hi, 'mean + SD'), capped(d.ckptT, lo, 'mean − SD')] },
    { title: 'TS rate in each checkpoint window', yTitle: 'Hz', traces: [capped(d.ckptT.slice(1), d.tsRate, 'TS rate')] },
    { title: 'PV map quality on the recent training window', yTitle: 'rad', xTitle: 'training time (s)', traces: [{ ...capped(d.pvT, d.pvSigma, 'σθ'), mode: 'lines+markers' }, { ...capped(d.pvT, d.pvDeltaTrial, 'δ trial'), mode: 'lines+markers' }] },
  ];
  return panelFigure(decimatedTitle(`Learning curves, seed ${d.seed}`, decimated, lines, maxPoints), panels, { columns: 1, sharedX: true });
}

/** MON→TS weight profile: mean weight by topographic offset (TS target − MON position·(n_ts − 1)). */
export function weightProfileFigure(d: SeedFigureData): Figure {
  const half = Math.floor(d.nTs / 2);
  const sumB = new Float64Array(2 * half + 1);
  const sumA = new Float64Array(2 * half + 1);
  const cnt = new Float64Array(2 * half + 1);
  for (let s = 0; s < d.mtPre.length; s++) {
    const c = (d.nMon === 1 ? 0 : d.mtPre[s]! / (d.nMon - 1)) * (d.nTs - 1);
    const off = Math.round(d.mtPost[s]! - c);
    const k = Math.max(-half, Math.min(half, off)) + half;
    sumB[k] += d.wBefore[s]!;
    sumA[k] += d.wAfter[s]!;
    cnt[k]++;
  }
  const x = Array.from({ length: 2 * half + 1 }, (_, k) => k - half);
  const mean = (s: Float64Array) => Array.from(s, (v, k) => (cnt[k]! > 0 ? v / cnt[k]! : null));
  return panelFigure(`MON→TS weight profile, seed ${d.seed}`, [
    { xTitle: 'TS target − topographic centre (TS indices)', yTitle: 'mean w', traces: [{ ...line(x, mean(sumB) as number[], 'before') }, { ...line(x, mean(sumA) as number[], 'after') }] },
  ]);
}

/** Receptive fields: MON→TS weight matrix (TS × MON, binned MON) after training. */
export function receptiveFieldsFigure(d: SeedFigureData): Figure {
  const bins = Math.min(200, d.nMon);
  const z: number[][] = Array.from({ length: d.nTs }, () => new Array(bins).fill(0));
  for (let s = 0; s < d.mtPre.length; s++) {
    const b = Math.min(bins - 1, Math.floor((d.mtPre[s]! * bins) / d.nMon));
    z[d.mtPost[s]!]![b] += d.wAfter[s]!;
  }
  return panelFigure(`MON→TS receptive fields after training, seed ${d.seed}`, [
    { xTitle: `MON position (${bins} bins)`, yTitle: 'TS index', traces: [{ type: 'heatmap', z, colorscale: 'Viridis' }] },
  ]);
}

/** TS spikes against the sphere position x during the test, and the PV bias per position bin. */
export function tsSpikesVsXFigure(d: SeedFigureData): Figure {
  return panelFigure(`TS spikes vs sphere position (test), seed ${d.seed}`, [
    { xTitle: 'sphere x (cm)', yTitle: 'TS index', traces: [scatter(spikeX(d.tsStep, d.testX), d.tsIndex, { name: 'TS spikes' })] },
    { xTitle: 'θ true bin (rad)', yTitle: 'bias (rad)', traces: [{ ...line(d.thetaBins, nanToNull(d.bias) as number[], 'PV bias'), mode: 'markers' }] },
  ], { columns: 1, sharedX: false });
}

/**
 * MON→TS feed-forward drive during the test: for each TS cell and x bin, Σ over MON spikes in that
 * bin of w(MON→TS) (final weights), per second in the bin.
 */
export function driveHeatmapFigure(d: SeedFigureData): Figure {
  const bins = 50;
  const n = d.testX.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < n; k++) {
    lo = Math.min(lo, d.testX[k]!);
    hi = Math.max(hi, d.testX[k]!);
  }
  const binOf = (x: number) => Math.max(0, Math.min(bins - 1, Math.floor(((x - lo) / Math.max(hi - lo, 1e-12)) * bins)));
  const time = new Float64Array(bins);
  for (let k = 0; k < n; k++) time[binOf(d.testX[k]!)] += d.dtS;
  // outgoing synapses per MON cell
  const row = new Int32Array(d.nMon + 1);
  for (let s = 0; s < d.mtPre.length; s++) row[d.mtPre[s]! + 1]!++;
  for (let m = 0; m < d.nMon; m++) row[m + 1]! += row[m]!;
  const fill = row.slice(0, d.nMon);
  const syn = new Int32Array(d.mtPre.length);
  for (let s = 0; s < d.mtPre.length; s++) syn[fill[d.mtPre[s]!]!++] = s;
  const z: number[][] = Array.from({ length: d.nTs }, () => new Array(bins).fill(0));
  for (let k = 0; k < d.monStep.length; k++) {
    const b = binOf(d.testX[Math.min(n - 1, d.monStep[k]!)]!);
    const m = d.monIndex[k]!;
    for (let r = row[m]!; r < row[m + 1]!; r++) z[d.mtPost[syn[r]!]!]![b] += d.wAfter[syn[r]!]!;
  }
  for (const r of z) for (let b = 0; b < bins; b++) r[b] = time[b]! > 0 ? r[b]! / time[b]! : 0;
  const x = Array.from({ length: bins }, (_, b) => lo + ((b + 0.5) * (hi - lo)) / bins);
  return panelFigure(`MON→TS feed-forward drive (test), seed ${d.seed}`, [
    { xTitle: 'sphere x (cm)', yTitle: 'TS index', traces: [{ type: 'heatmap', x, z, colorscale: 'Viridis' }] },
  ]);
}

/** Multi-seed summary: σθ, δ_trial and valid fraction per seed, with the published baseline band. */
export function multiSeedFigure(runs: { seed: number; sigma: number; deltaTrial: number; valid: number }[]): Figure {
  const seeds = runs.map((r) => r.seed);
  const band = (y: number, sd: number, name: string): Trace[] => [
    { type: 'scatter', mode: 'lines', x: [Math.min(...seeds), Math.max(...seeds)], y: [y, y], name, line: { dash: 'dash' } },
    { type: 'scatter', mode: 'lines', x: [Math.min(...seeds), Math.max(...seeds)], y: [y - sd, y - sd], name: `${name} − SD`, line: { dash: 'dot' } },
    { type: 'scatter', mode: 'lines', x: [Math.min(...seeds), Math.max(...seeds)], y: [y + sd, y + sd], name: `${name} + SD`, line: { dash: 'dot' } },
  ];
  return panelFigure(`Multi-seed summary (${runs.length} seeds)`, [
    { title: 'σθ (rad)', yTitle: 'rad', traces: [{ type: 'scatter', mode: 'markers', x: seeds, y: runs.map((r) => r.sigma), name: 'σθ' }, ...band(0.354, 0.058, 'published baseline')] },
    { title: 'δ trial (rad)', yTitle: 'rad', traces: [{ type: 'scatter', mode: 'markers', x: seeds, y: runs.map((r) => r.deltaTrial), name: 'δ trial' }] },
    { title: 'valid fraction', yTitle: 'fraction', xTitle: 'seed', traces: [{ type: 'scatter', mode: 'markers', x: seeds, y: runs.map((r) => r.valid), name: 'valid' }, ...band(0.912, 0.028, 'published baseline')] },
  ], { columns: 1, sharedX: true });
}
