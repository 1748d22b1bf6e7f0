/**
 * Interactive figures of `cinder lateral-line` (the original's diagnostics): summary, test phase,
 * learning curves (incl. PV vs training time), MON→TS weight profile and receptive fields, TS spikes
 * vs x, MON→TS feed-forward drive heatmap, multi-seed summary.
 * @module
 */
import { panelFigure, placeColorbars, spikeRasterPanels, type Figure, type Panel, type Trace } from '../../src/viz/index.js';
import { DEFAULT_MAX_POINTS, decimateLine, decimatedName, decimatedTitle } from '../../src/viz/decimate.js';
import { DEFAULT_MAX_SPIKES, DENSITY_TIME_BINS } from '../../src/viz/density.js';

/**
 * Cap of the learning curves (the viz default): a curve of more than `maxPoints` points (one per
 * checkpoint: ⌈--n-training-trials / --checkpoint-trials⌉ + 1, the PV ones 1 in
 * --pv-eval-every-checkpoints of them) is drawn as its min/max envelope ({@link decimateLine}:
 * every extreme kept at its own training time), named so, and the title says how many were. A
 * setting so that tests can use a small cap.
 */
export const LATERAL_LINE_FIGURE_CAPS = {
  maxPoints: DEFAULT_MAX_POINTS,
  /**
   * Most test spikes a raster panel (MON, TS) draws as dots (the viz default): above it the panel
   * is a spike-count heatmap ({@link spikeRasterPanels}), titled so.
   */
  maxSpikes: DEFAULT_MAX_SPIKES,
  /**
   * Most time columns of the test-phase LL-rate heatmap (one per test step below it): above it
   * ⌈steps / maxColumns⌉ consecutive test steps per column, their rates averaged, titled so.
   */
  maxColumns: DENSITY_TIME_BINS,
};

/**
 * A test-phase raster panel: dots of `x` (time or position) and `index` below
 * {@link LATERAL_LINE_FIGURE_CAPS}`.maxSpikes` spikes (the panel `dots`), above it the spike-count
 * heatmap of {@link spikeRasterPanels}, its title `dots.title` plus the heatmap's count and note.
 */
function rasterPanel(dots: Panel, x: ArrayLike<number>, index: ArrayLike<number>, name: string): { panel: Panel; density: boolean } {
  const r = spikeRasterPanels({ times: x, neurons: index, name }, { maxSpikes: LATERAL_LINE_FIGURE_CAPS.maxSpikes, xTitle: dots.xTitle, yTitle: dots.yTitle });
  if (!r.density) return { panel: dots, density: false };
  const p = r.panels[0]!;
  return { panel: { ...p, title: `${dots.title ?? name}: ${p.title!.slice(name.length + 2)} (${r.note})`, xTitle: dots.xTitle }, density: true };
}

/** Lays out the panels; with a heatmap raster among them, its colour bar beside it. */
function figureOf(title: string, panels: Panel[], density: boolean, options: { columns: number; sharedX: boolean }): Figure {
  const fig = panelFigure(title, panels, options);
  return density ? placeColorbars(fig) : fig;
}


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

/**
 * Summary: MON→TS weights before/after by TS target, TS raster in the test, decoded vs true angle.
 * Long tests ({@link LATERAL_LINE_FIGURE_CAPS}): a TS raster of more than `maxSpikes` spikes is a
 * spike-count heatmap; the decode lines (one point per test step) of more than `maxPoints` points
 * are min/max envelopes ({@link decimateLine}), named so, the title counting them.
 */
export function summaryFigure(d: SeedFigureData): Figure {
  const tTest = Float64Array.from(d.tsStep, (s) => s * d.dtS);
  const tAxis = Float64Array.from(d.testX, (_, k) => k * d.dtS);
  const maxPoints = LATERAL_LINE_FIGURE_CAPS.maxPoints;
  const hat = decimateLine(tAxis, d.thetaHat, maxPoints);
  const truth = decimateLine(tAxis, d.thetaTrue, maxPoints);
  const named = (name: string, c: { buckets: number }, n: number) => (c.buckets > 0 ? decimatedName(name, c.buckets, n) : name);
  const decimated = (hat.buckets > 0 ? 1 : 0) + (truth.buckets > 0 ? 1 : 0);
  const ts = rasterPanel({ title: 'TS spikes (test)', xTitle: 'time in test (s)', yTitle: 'TS index', traces: [scatter(tTest, d.tsIndex, { name: 'TS' })] }, tTest, d.tsIndex, 'TS');
  return figureOf(decimatedTitle(`Lateral line, seed ${d.seed}: σθ = ${d.sigmaTheta.toFixed(3)} rad, valid ${d.validFraction.toFixed(3)}`, decimated, 2, maxPoints), [
    { title: 'MON→TS weights vs TS target', xTitle: 'TS index', yTitle: 'w', traces: [scatter(d.mtPost, d.wBefore, { name: 'before' }), scatter(d.mtPost, d.wAfter, { name: 'after' })] },
    ts.panel,
    { title: 'PV decode (test)', xTitle: 'time in test (s)', yTitle: 'angle (rad)', traces: [{ ...line(hat.x, nanToNull(hat.y) as number[], named('θ̂', hat, d.thetaHat.length)), mode: 'markers', marker: { size: 2 } }, line(truth.x, nanToNull(truth.y) as number[], named('θ true', truth, d.thetaTrue.length))] },
  ], ts.density, { columns: 1, sharedX: false });
}

/**
 * The LL-rate heatmap's columns: one per test step (`perColumn` = 1) up to
 * {@link LATERAL_LINE_FIGURE_CAPS}`.maxColumns`, else `perColumn = ⌈n / maxColumns⌉` consecutive
 * steps per column (the last may hold fewer), each cell the mean of its steps' rates (float64 sum
 * / steps), its x the mean time of its steps.
 */
export function llRateColumns(testRaw: ArrayLike<number>, nLl: number, n: number, dtS: number): { x: number[]; z: number[][]; perColumn: number } {
  const perColumn = Math.max(1, Math.ceil(n / LATERAL_LINE_FIGURE_CAPS.maxColumns));
  const cols = Math.ceil(n / perColumn);
  const z: number[][] = [];
  for (let i = 0; i < nLl; i++) {
    const row: number[] = new Array(cols);
    if (perColumn === 1) {
      for (let k = 0; k < n; k++) row[k] = testRaw[k * nLl + i]!;
    } else {
      for (let c = 0; c < cols; c++) {
        const k1 = Math.min(n, (c + 1) * perColumn);
        let sum = 0;
        for (let k = c * perColumn; k < k1; k++) sum += testRaw[k * nLl + i]!;
        row[c] = sum / (k1 - c * perColumn);
      }
    }
    z.push(row);
  }
  const x = perColumn === 1
    ? Array.from({ length: n }, (_, k) => k * dtS)
    : Array.from({ length: cols }, (_, c) => ((c * perColumn + Math.min(n, (c + 1) * perColumn) - 1) / 2) * dtS);
  return { x, z, perColumn };
}

/**
 * Test phase: LL rates (heatmap), MON and TS rasters against time. Long tests
 * ({@link LATERAL_LINE_FIGURE_CAPS}): the LL rates in at most `maxColumns` columns of averaged
 * steps ({@link llRateColumns}), rasters of more than `maxSpikes` spikes as spike-count heatmaps,
 * each titled so.
 */
export function testPhaseFigure(d: SeedFigureData): Figure {
  const n = d.testX.length;
  const ll = llRateColumns(d.testRaw, d.nLl, n, d.dtS);
  const tMon = Float64Array.from(d.monStep, (s) => s * d.dtS);
  const tTs = Float64Array.from(d.tsStep, (s) => s * d.dtS);
  const mon = rasterPanel({ title: 'MON spikes', yTitle: 'MON index', traces: [scatter(tMon, d.monIndex, { name: 'MON' })] }, tMon, d.monIndex, 'MON');
  const ts = rasterPanel({ title: 'TS spikes', yTitle: 'TS index', xTitle: 'time in test (s)', traces: [scatter(tTs, d.tsIndex, { name: 'TS' })] }, tTs, d.tsIndex, 'TS');
  const llTitle = ll.perColumn === 1 ? 'LL rates (Hz)' : `LL rates (Hz; mean of ${ll.perColumn} test steps per column, of ${n})`;
  return figureOf(`Test phase, seed ${d.seed}`, [
    { title: llTitle, yTitle: 'LL index', traces: [{ type: 'heatmap', x: ll.x, z: ll.z, colorscale: 'Viridis', showscale: false }] },
    mon.panel,
    ts.panel,
  ], mon.density || ts.density, { columns: 1, sharedX: true });
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

/**
 * TS spikes against the sphere position x during the test, and the PV bias per position bin; a TS
 * raster of more than {@link LATERAL_LINE_FIGURE_CAPS}`.maxSpikes` spikes as a heatmap of spike
 * counts per (x bin, TS cell), titled so.
 */
export function tsSpikesVsXFigure(d: SeedFigureData): Figure {
  const x = spikeX(d.tsStep, d.testX);
  const ts = rasterPanel({ xTitle: 'sphere x (cm)', yTitle: 'TS index', traces: [scatter(x, d.tsIndex, { name: 'TS spikes' })] }, x, d.tsIndex, 'TS spikes');
  return figureOf(`TS spikes vs sphere position (test), seed ${d.seed}`, [
    ts.panel,
    { xTitle: 'θ true bin (rad)', yTitle: 'bias (rad)', traces: [{ ...line(d.thetaBins, nanToNull(d.bias) as number[], 'PV bias'), mode: 'markers' }] },
  ], ts.density, { columns: 1, sharedX: false });
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
