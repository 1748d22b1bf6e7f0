/**
 * The 4-panel figure of `cinder livn-stdp`: weight traces with phase lines, weight histograms
 * before/after, spike raster coloured by phase, and the sorted per-synapse Δw.
 * @module
 */
import type { Figure, Trace } from '../../src/viz/figure.js';
import { panelFigure } from '../../src/viz/panels.js';
import { commonBins } from '../../src/viz/histogram.js';
import { DEFAULT_MAX_POINTS, decimateLine, decimatedName, decimatedTitle } from '../../src/viz/decimate.js';

/** Phase names and colours. */
export const PHASES = ['baseline', 'training', 'evaluation'] as const;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c'];

/** Inputs of {@link livnStdpFigure}. */
export interface LivnStdpFigureData {
  /** Times of the weight rows (ms). */
  tMs: ArrayLike<number>;
  /** Weight rows [T, columns]. */
  wRec: Float32Array;
  /** Columns per row. */
  columns: number;
  /** Phase boundaries (ms): end of baseline, end of training, end of evaluation. */
  phaseEnds: readonly [number, number, number];
  /** Weights before training and at the end. */
  before: Float32Array;
  /** Weights after training. */
  after: Float32Array;
  /** Spikes: times (ms), gids, phase codes (all spikes, or the sample {@link LivnStdpFigureData.spikeCount} says). */
  spikeT: ArrayLike<number>;
  /** Spiking gids. */
  spikeGid: ArrayLike<number>;
  /** Phase of each spike. */
  spikePhase: ArrayLike<number>;
  /**
   * The run's number of spikes n when `spikeT`, `spikeGid`, `spikePhase` hold only the spikes the
   * raster draws — spikes 0, s, 2s, … with s = {@link rasterStride}(n) — so that a caller reading
   * them from a file need not hold them all; absent: they hold every spike (and the figure takes
   * that sample itself). The figure is the same either way.
   */
  spikeCount?: number;
}

/** Most spikes the raster panel draws (`rasterPoints`, 20 000): a setting so that tests can sample small runs. */
export const LIVN_RASTER = { rasterPoints: 20000 };

/**
 * The raster panel's sampling stride for n spikes: max(1, ⌈n / {@link LIVN_RASTER}`.rasterPoints`⌉)
 * — it draws spikes 0, s, 2s, … (at most that many).
 */
export function rasterStride(n: number): number {
  return Math.max(1, Math.ceil(n / LIVN_RASTER.rasterPoints));
}

/**
 * Cap of the weight traces (the viz default): a trace of more than `maxPoints` rows (one per
 * `--record-every-ms` of the run) is drawn as its min/max envelope ({@link decimateLine}: every
 * extreme kept at its own time), named so, and the figure's title says how many traces were. A
 * setting so that tests can use a small cap.
 */
export const LIVN_FIGURE_CAPS = { maxPoints: DEFAULT_MAX_POINTS };

/**
 * Builds the figure; at most 20 traces of at most {@link LIVN_FIGURE_CAPS}`.maxPoints` points,
 * 20,000 raster points ({@link LIVN_RASTER}; a raster of more spikes is a sample, and its panel
 * title says so) and 2,000 bars are drawn.
 */
export function livnStdpFigure(title: string, d: LivnStdpFigureData): Figure {
  const T = d.tMs.length;
  const shown = Math.min(20, d.columns);
  const traces: Trace[] = [];
  const maxPoints = LIVN_FIGURE_CAPS.maxPoints;
  let decimated = 0;
  let lo = Infinity, hi = -Infinity;
  for (let c = 0; c < shown; c++) {
    const y = new Array<number>(T);
    for (let t = 0; t < T; t++) {
      y[t] = d.wRec[t * d.columns + c]!;
      lo = Math.min(lo, y[t]!);
      hi = Math.max(hi, y[t]!);
    }
    const line = decimateLine(d.tMs, y, maxPoints); // (below the cap: the arrays themselves)
    const name = line.buckets > 0 ? decimatedName(`synapse ${c}`, line.buckets, T) : `synapse ${c}`;
    if (line.buckets > 0) decimated++;
    traces.push({ type: 'scatter', mode: 'lines', x: Array.from(line.x), y: line.buckets > 0 ? Array.from(line.y) : y, name, showlegend: false, line: { width: 1 } });
  }
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  for (const [i, t] of [d.phaseEnds[0], d.phaseEnds[1]].entries()) {
    traces.push({ type: 'scatter', mode: 'lines', x: [t, t], y: [lo, hi], name: i === 0 ? 'plasticity on' : 'plasticity off', line: { dash: 'dash', color: '#555' }, showlegend: false });
  }
  // binned here (60 common bins) so the page holds counts, not every weight
  const bins = commonBins([d.before, d.after], 60);
  const nb = Math.max(1, Math.round((bins.end - bins.start) / bins.size));
  const centres = Array.from({ length: nb }, (_, k) => bins.start + (k + 0.5) * bins.size);
  const count = (w: Float32Array) => {
    const c = new Array<number>(nb).fill(0);
    for (const x of w) c[Math.min(nb - 1, Math.max(0, Math.floor((x - bins.start) / bins.size)))]!++;
    return c;
  };
  const hist: Trace[] = [
    { type: 'bar', x: centres, y: count(d.before), width: bins.size, name: 'before training', opacity: 0.6, marker: { color: COLOURS[0] } },
    { type: 'bar', x: centres, y: count(d.after), width: bins.size, name: 'after training', opacity: 0.6, marker: { color: COLOURS[1] } },
  ];
  const spikes = d.spikeCount ?? d.spikeT.length;
  const stride = rasterStride(spikes);
  const raster: Trace[] = PHASES.map((name, p) => {
    const x: number[] = [], y: number[] = [];
    const step = d.spikeCount === undefined ? stride : 1; // (given sampled: every one given)
    for (let k = 0; k < d.spikeT.length; k += step) if (d.spikePhase[k] === p) { x.push(d.spikeT[k]!); y.push(d.spikeGid[k]!); }
    return { type: spikes > 2000 ? 'scattergl' : 'scatter', mode: 'markers', x, y, name, marker: { size: 3, color: COLOURS[p] } };
  });
  const dw = Array.from(d.after, (a, k) => a - d.before[k]!).sort((a, b) => a - b);
  const barStride = Math.max(1, Math.ceil(dw.length / 2000));
  const bx: number[] = [], by: number[] = [];
  for (let k = 0; k < dw.length; k += barStride) { bx.push(k); by.push(dw[k]!); }
  const bars: Trace[] = [{ type: 'bar', x: bx, y: by, name: 'Δw (sorted)', marker: { color: by.map((v) => (v >= 0 ? COLOURS[1] : COLOURS[0])) }, showlegend: false }];
  return panelFigure(decimatedTitle(title, decimated, shown, maxPoints), [
    { title: `first ${shown} weight traces (dashed: plasticity on / off)`, traces, xTitle: 'time (ms)', yTitle: 'w' },
    { title: 'weights before / after training', traces: hist, xTitle: 'w', yTitle: 'synapses' },
    { title: `spikes by phase${stride > 1 ? ` (a sample: 1 spike in ${stride} of ${spikes})` : ''}`, traces: raster, xTitle: 'time (ms)', yTitle: 'gid' },
    { title: 'Δw per synapse (training), sorted', traces: bars, xTitle: `synapse rank${barStride > 1 ? ` (every ${barStride}th)` : ''}`, yTitle: 'Δw' },
  ], { columns: 2, sharedX: false, height: 820, layout: { barmode: 'overlay' } });
}
