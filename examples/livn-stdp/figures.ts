/**
 * The 4-panel figure of `cinder livn-stdp`: weight traces with phase lines, weight histograms
 * before/after, spike raster coloured by phase, and the sorted per-synapse Δw.
 * @module
 */
import type { Figure, Trace } from '../../src/viz/figure.js';
import { panelFigure, type Panel } from '../../src/viz/panels.js';
import { commonBins } from '../../src/viz/histogram.js';
import { DEFAULT_MAX_POINTS, decimateLine, decimatedName, decimatedTitle } from '../../src/viz/decimate.js';
import { densityRows, densityTimeBins, lastNeuron, SpikeCountGrid } from '../../src/viz/density.js';
import { placeColorbars, spikeCountPanel } from '../../src/viz/raster.js';

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
  /** Spikes: times (ms), gids, phase codes (every spike; empty when {@link LivnStdpFigureData.spikeDensity} is given). */
  spikeT: ArrayLike<number>;
  /** Spiking gids. */
  spikeGid: ArrayLike<number>;
  /** Phase of each spike. */
  spikePhase: ArrayLike<number>;
  /**
   * The spike counts per (gid row, time bin) of a run of more than {@link LIVN_RASTER}`.rasterPoints`
   * spikes, accumulated while reading its spike files in pieces (so that no one holds every spike):
   * the raster panel is then their heatmap. Absent: the raster is drawn from `spikeT` etc., dots by
   * phase, or, above `rasterPoints` spikes, the heatmap of their counts (bins from the spikes,
   * {@link densityTimeBins}, {@link densityRows}).
   */
  spikeDensity?: SpikeCountGrid;
}

/** Most spikes the raster panel draws as dots (`rasterPoints`, 20 000; above: spike counts): a setting so that tests can use small runs. */
export const LIVN_RASTER = { rasterPoints: 20000 };

/**
 * Cap of the weight traces (the viz default): a trace of more than `maxPoints` rows (one per
 * `--record-every-ms` of the run) is drawn as its min/max envelope ({@link decimateLine}: every
 * extreme kept at its own time), named so, and the figure's title says how many traces were. A
 * setting so that tests can use a small cap.
 */
export const LIVN_FIGURE_CAPS = { maxPoints: DEFAULT_MAX_POINTS };

/**
 * Builds the figure; at most 20 traces of at most {@link LIVN_FIGURE_CAPS}`.maxPoints` points,
 * 20,000 raster points ({@link LIVN_RASTER}; a raster of more spikes is a heatmap of the spike
 * counts of all phases per (gid row, time bin), titled so, with the phase boundaries dashed) and
 * 2,000 bars are drawn.
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
  let grid = d.spikeDensity;
  if (grid === undefined && d.spikeT.length > LIVN_RASTER.rasterPoints) {
    const all = { times: d.spikeT, neurons: d.spikeGid };
    grid = new SpikeCountGrid(densityTimeBins([all]), densityRows(all));
    grid.add(d.spikeT, d.spikeGid);
  }
  let rasterPanel: Panel;
  if (grid === undefined) {
    const spikes = d.spikeT.length;
    const raster: Trace[] = PHASES.map((name, p) => {
      const x: number[] = [], y: number[] = [];
      for (let k = 0; k < d.spikeT.length; k++) if (d.spikePhase[k] === p) { x.push(d.spikeT[k]!); y.push(d.spikeGid[k]!); }
      return { type: spikes > 2000 ? 'scattergl' : 'scatter', mode: 'markers', x, y, name, marker: { size: 3, color: COLOURS[p] } };
    });
    rasterPanel = { title: 'spikes by phase', traces: raster, xTitle: 'time (ms)', yTitle: 'gid' };
  } else {
    const p = spikeCountPanel(grid.counts, grid.bins, grid.rows, { name: 'spikes', xTitle: 'time (ms)', yTitle: 'gid' });
    // the dashed lines span the gids the rows hold, first − ½ … last + ½ (a last row only partly filled ends at its last gid)
    const top = lastNeuron(grid.rows) + 0.5;
    const bounds: Trace[] = [d.phaseEnds[0], d.phaseEnds[1]].map((t) => ({ type: 'scatter', mode: 'lines', x: [t, t], y: [grid.rows.first - 0.5, top], line: { dash: 'dash', color: '#d62728' }, showlegend: false, hoverinfo: 'skip' }));
    rasterPanel = {
      ...p,
      traces: [...p.traces, ...bounds],
      title: `spike counts, all phases (${grid.counted} of ${grid.seen} spikes, more than ${LIVN_RASTER.rasterPoints}; bins of ${Number(grid.bins.width.toPrecision(6))} ms, ${grid.rows.size} gid${grid.rows.size === 1 ? '' : 's'} per row; dashed: plasticity on / off)`,
    };
  }
  const dw = Array.from(d.after, (a, k) => a - d.before[k]!).sort((a, b) => a - b);
  const barStride = Math.max(1, Math.ceil(dw.length / 2000));
  const bx: number[] = [], by: number[] = [];
  for (let k = 0; k < dw.length; k += barStride) { bx.push(k); by.push(dw[k]!); }
  const bars: Trace[] = [{ type: 'bar', x: bx, y: by, name: 'Δw (sorted)', marker: { color: by.map((v) => (v >= 0 ? COLOURS[1] : COLOURS[0])) }, showlegend: false }];
  const fig = panelFigure(decimatedTitle(title, decimated, shown, maxPoints), [
    { title: `first ${shown} weight traces (dashed: plasticity on / off)`, traces, xTitle: 'time (ms)', yTitle: 'w' },
    { title: 'weights before / after training', traces: hist, xTitle: 'w', yTitle: 'synapses' },
    rasterPanel,
    { title: 'Δw per synapse (training), sorted', traces: bars, xTitle: `synapse rank${barStride > 1 ? ` (every ${barStride}th)` : ''}`, yTitle: 'Δw' },
  ], { columns: 2, sharedX: false, height: 820, layout: { barmode: 'overlay' } });
  return grid === undefined ? fig : placeColorbars(fig);
}
