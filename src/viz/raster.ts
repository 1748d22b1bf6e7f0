/**
 * Spike rasters: one dot per spike at (time, neuron). Large rasters are drawn with WebGL
 * (`scattergl`), small ones as SVG; above `maxSpikes` spikes, a heatmap of spike counts.
 * @module
 */
import { CinderArgumentError, checkFinite, checkInteger, checkNonNegative, checkPositive, checkOptionKeys, optionKeys } from '../core/errors.js';
import { checkMaxSpikes, checkNeuronRows, checkTimeBins, DEFAULT_MAX_SPIKES, DENSITY_ROWS, DENSITY_TIME_BINS, MAX_DENSITY_CELLS, densityRows, densityTimeBins, rowMiddle, spikeCounts, type NeuronRows, type TimeBins } from './density.js';
import type { Figure, Trace } from './figure.js';
import { panelFigure, plotlyText, type Panel } from './panels.js';

/** Spike events of one population: parallel arrays of times and neuron indices. */
export interface SpikeEvents {
  /** Spike times (e.g. in ms). */
  times: ArrayLike<number>;
  /** Neuron index of each spike. */
  neurons: ArrayLike<number>;
  /** Population name (legend entry). */
  name?: string;
}

/** Options of {@link spikeEventsFromMatrix}. */
export interface MatrixOptions {
  /** Time step between rows (default 1). */
  dt?: number;
  /** Time of row 0, a finite number (default `dt`: row k is the state after step k + 1). */
  t0?: number;
  /** Population name. */
  name?: string;
}

/** The keys of {@link MatrixOptions}: other keys are refused ("invalid options key"). */
export const MATRIX_OPTION_KEYS = optionKeys<MatrixOptions>()(['dt', 't0', 'name']);

/**
 * Converts a row-major `[steps, neurons]` 0/1 spike matrix into events. Any non-zero entry counts
 * as a spike; the time of row k is `t0 + k·dt`.
 * @throws CinderArgumentError when the data length is not `steps · neurons`, or for a `dt` that is not > 0 or a `t0` that is not finite
 */
export function spikeEventsFromMatrix(data: ArrayLike<number>, steps: number, neurons: number, options: MatrixOptions = {}): SpikeEvents {
  checkOptionKeys('options', options, MATRIX_OPTION_KEYS);
  checkInteger('steps', steps);
  checkInteger('neurons', neurons);
  if (data.length !== steps * neurons) throw new CinderArgumentError('data', `${data.length} values`, `steps · neurons = ${steps * neurons} values`);
  const dt = checkPositive('dt', options.dt ?? 1);
  const t0 = checkFinite('t0', options.t0 ?? dt);
  const times: number[] = [];
  const idx: number[] = [];
  for (let k = 0; k < steps; k++) {
    const row = k * neurons;
    for (let n = 0; n < neurons; n++) {
      if (data[row + n] !== 0) {
        times.push(t0 + k * dt);
        idx.push(n);
      }
    }
  }
  return { times: Float64Array.from(times), neurons: Int32Array.from(idx), name: options.name };
}

/** Options of {@link spikeRaster}. */
export interface RasterOptions {
  /** Label of the time axis (default `time (ms)`; the hover text names the axis so, `t` untitled). */
  xTitle?: string;
  /** Use WebGL when a panel has more points than this (default 2000). */
  webglThreshold?: number;
  /** Marker size in pixels (default 3; 4 for SVG). */
  markerSize?: number;
  /** Stack each population in its own panel (default true); false overlays them in one panel. */
  separatePanels?: boolean;
  /** Time range shown, `[t0, t1]` with t0 < t1 (default: the data). */
  timeRange?: [number, number];
  /**
   * Most spikes (all populations together) drawn one dot each (default {@link DEFAULT_MAX_SPIKES}
   * = 200 000); with more, the figure is a spike density instead (see {@link spikeRaster});
   * `Infinity` always draws dots. An integer >= 0, or Infinity.
   */
  maxSpikes?: number;
  /** Label of the neuron axis (default `neuron`; a density of rows of k neurons: `neuron (rows of k)`, with this label; also the hover text's name of the axis). */
  yTitle?: string;
  /**
   * Most time bins of the density view (default {@link DENSITY_TIME_BINS} = 1000): an integer from 1
   * to {@link MAX_DENSITY_CELLS_PER_AXIS}, with `maxTimeBins · maxRows` at most
   * {@link MAX_DENSITY_CELLS} (4·10^6 cells per panel). Checked also with dots, where it is unused.
   */
  maxTimeBins?: number;
  /**
   * Most neuron rows per population of the density view (default {@link DENSITY_ROWS} = 200; a
   * population spanning more neurons gets rows of ⌈span/maxRows⌉ neighbours): an integer from 1 to
   * {@link MAX_DENSITY_CELLS_PER_AXIS}, with `maxTimeBins · maxRows` at most {@link MAX_DENSITY_CELLS}.
   * Checked also with dots, where it is unused.
   */
  maxRows?: number;
}

/** The largest `maxTimeBins` and `maxRows` of a raster's density view: more cells than a figure has pixels. */
export const MAX_DENSITY_CELLS_PER_AXIS = 10_000;

/** The keys of {@link RasterOptions}: other keys are refused ("invalid options key"). */
export const RASTER_OPTION_KEYS = optionKeys<RasterOptions>()(['xTitle', 'webglThreshold', 'markerSize', 'separatePanels', 'timeRange', 'maxSpikes', 'yTitle', 'maxTimeBins', 'maxRows']);

/** The panels of a raster ({@link spikeRasterPanels}), to lay out alone ({@link spikeRaster}) or among other panels. */
export interface RasterPanels {
  /** One panel per population (overlaid in one with `separatePanels: false` and dots). */
  panels: Panel[];
  /** True when the panels are spike-count heatmaps (more than `maxSpikes` spikes). */
  density: boolean;
  /**
   * With heatmaps, what the figure's title should say:
   * `spike counts per time bin of W: N spikes, more than maxSpikes = M`; undefined with dots.
   */
  note?: string;
  /** Whether the figure should show a legend (dots of several populations overlaid in one panel). */
  showLegend: boolean;
}

/**
 * A spike raster of one or more populations, stacked on a shared time axis (one panel each) or
 * overlaid in one panel.
 *
 * With more than `maxSpikes` spikes in all (their count including any with a non-finite time or
 * neuron), no spike is dropped silently: each population becomes a heatmap of its spike counts per
 * (time bin, neuron row), in its own panel (also with `separatePanels: false`: heatmaps do not
 * overlay), and the title says so. The time bins are shared, at most `maxTimeBins` (default
 * {@link DENSITY_TIME_BINS}), a whole number of time steps wide ({@link densityTimeBins}); the rows
 * hold one neuron each, or `⌈span/maxRows⌉` neighbouring neurons when a population spans more than
 * `maxRows` (default {@link DENSITY_ROWS}; {@link densityRows}). Counted are the spikes with finite time and neuron, within `timeRange`
 * when given ({@link spikeCounts}); each panel's title gives its count. A heatmap cell's x and y are
 * its bin's middle time and the middle of the neurons its row holds; its colour runs from white (0 spikes) to black
 * (the panel's largest count, at least 1). With at most `maxSpikes` spikes the figure is
 * the same as with `maxSpikes: Infinity`.
The panels
 * are those of {@link spikeRasterPanels} (same options); with heatmaps the title gets their note in
 * parentheses and each colour bar sits beside its panel ({@link placeColorbars}).
 * @throws CinderArgumentError when times and neuron indices differ in length, or for a bad `timeRange`, `maxSpikes`,
 *   `maxTimeBins` or `maxRows` (each at most {@link MAX_DENSITY_CELLS_PER_AXIS}, their product at most {@link MAX_DENSITY_CELLS})
 */
export function spikeRaster(title: string, populations: SpikeEvents | readonly SpikeEvents[], options: RasterOptions = {}): Figure {
  const r = spikeRasterPanels(populations, options);
  const fig = panelFigure(r.note === undefined ? title : `${title} (${r.note})`, r.panels, { showLegend: r.showLegend });
  return r.density ? placeColorbars(fig) : fig;
}

/**
 * The panels of {@link spikeRaster} without the figure, so that a figure of several panels can hold
 * a raster that becomes spike-count heatmaps above `maxSpikes` (same options, same rules: dots, one
 * panel per population or overlaid; above `maxSpikes` one heatmap panel per population). Lay them
 * out with {@link panelFigure}, give the title {@link RasterPanels.note} and the legend
 * {@link RasterPanels.showLegend}, and with heatmaps call {@link placeColorbars} on the figure:
 * `panelFigure(title + (note ? ` (${note})` : ''), panels, { showLegend })` is spikeRaster's figure.
 * @throws CinderArgumentError as {@link spikeRaster}
 */
export function spikeRasterPanels(populations: SpikeEvents | readonly SpikeEvents[], options: RasterOptions = {}): RasterPanels {
  checkOptionKeys('options', options, RASTER_OPTION_KEYS);
  const pops = Array.isArray(populations) ? (populations as readonly SpikeEvents[]) : [populations as SpikeEvents];
  if (pops.length === 0) throw new CinderArgumentError('populations', pops, 'at least one population');
  const threshold = checkNonNegative('webglThreshold', options.webglThreshold ?? 2000);
  checkTimeRange(options.timeRange);
  const maxSpikes = checkMaxSpikes(options.maxSpikes ?? DEFAULT_MAX_SPIKES);
  if (options.yTitle !== undefined && typeof options.yTitle !== 'string') throw new CinderArgumentError('yTitle', options.yTitle, 'a string');
  for (const key of ['maxTimeBins', 'maxRows'] as const) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_DENSITY_CELLS_PER_AXIS)) {
      throw new CinderArgumentError(key, v, `an integer from 1 to ${MAX_DENSITY_CELLS_PER_AXIS}`);
    }
  }
  // each density panel holds up to maxTimeBins · maxRows cells, 2–4 bytes of HTML each (MAX_DENSITY_CELLS)
  const maxTimeBins = options.maxTimeBins ?? DENSITY_TIME_BINS;
  const maxRows = options.maxRows ?? DENSITY_ROWS;
  if (maxTimeBins * maxRows > MAX_DENSITY_CELLS) {
    throw new CinderArgumentError('maxTimeBins · maxRows', maxTimeBins * maxRows, `at most ${MAX_DENSITY_CELLS} cells per density panel (maxTimeBins ${maxTimeBins} · maxRows ${maxRows}; lower either)`);
  }
  const traces: Trace[] = pops.map((p, i) => {
    if (p === null || typeof p !== 'object' || !isNumbers(p.times) || !isNumbers(p.neurons)) {
      throw new CinderArgumentError(`populations[${i}]`, p, 'spike events {times, neurons} (arrays of numbers)');
    }
    if (p.times.length !== p.neurons.length) {
      throw new CinderArgumentError(`populations[${i}].neurons`, `${p.neurons.length} indices`, `one per spike time (${p.times.length})`);
    }
    return { name: p.name ?? `population ${i + 1}`, x: p.times, y: p.neurons } as Trace;
  });
  const total = pops.reduce((a, p) => a + p.times.length, 0);
  if (total > maxSpikes) return densityPanels(pops, total, maxSpikes, options);
  const separate = options.separatePanels ?? true;
  const groups: Trace[][] = separate ? traces.map((t) => [t]) : [traces];
  const panels: Panel[] = groups.map((g, i) => {
    const points = g.reduce((s, t) => s + (t.x as ArrayLike<number>).length, 0);
    const gl = points > threshold;
    return {
      title: separate && pops.length > 1 ? pops[i]!.name : undefined,
      traces: g.map((t) => ({
        ...t,
        type: gl ? 'scattergl' : 'scatter',
        mode: 'markers',
        marker: gl ? { size: options.markerSize ?? 3, symbol: 'square', line: { width: 0 } } : { size: options.markerSize ?? 4, symbol: 'line-ns-open', line: { width: 1 } },
        hovertemplate: `${hoverLabel(options.xTitle, 't')} %{x}<br>${hoverLabel(options.yTitle, 'neuron')} %{y}<extra>%{fullData.name}</extra>`,
      })),
      yTitle: options.yTitle ?? 'neuron',
      xTitle: options.xTitle ?? 'time (ms)',
      xaxis: options.timeRange ? { range: options.timeRange } : undefined,
    };
  });
  return { panels, density: false, showLegend: !separate && pops.length > 1 };
}

/**
 * The note a raster's title gets when it is drawn as spike counts ({@link RasterPanels.note}):
 * `spike counts per time bin of W: N spikes, more than maxSpikes = M`, W to 6 significant digits.
 * For figures that count spikes themselves (e.g. from pieces, with a {@link SpikeCountGrid}).
 */
export function densityNote(bins: TimeBins, total: number, maxSpikes: number): string {
  return `spike counts per time bin of ${Number(bins.width.toPrecision(6))}: ${total} spikes, more than maxSpikes = ${maxSpikes}`;
}

/** The density view of {@link spikeRasterPanels} (more than `maxSpikes` spikes). */
function densityPanels(pops: readonly SpikeEvents[], total: number, maxSpikes: number, options: RasterOptions): RasterPanels {
  const bins = densityTimeBins(pops, options.timeRange, options.maxTimeBins ?? DENSITY_TIME_BINS);
  const panels: Panel[] = pops.map((p, i) => {
    const rows = densityRows(p, options.maxRows ?? DENSITY_ROWS);
    return spikeCountPanel(spikeCounts(p, bins, rows), bins, rows, { name: p.name ?? `population ${i + 1}`, xTitle: options.xTitle, yTitle: options.yTitle, timeRange: options.timeRange });
  });
  const note = densityNote(bins, total, maxSpikes);
  return { panels, density: true, note, showLegend: false };
}

/**
 * The name of an axis in a raster's hover text (dots and heatmaps): its title (e.g. `sphere x (cm)`), or `fallback`
 * when none is given (`t`, `neuron`), escaped for plotly's text (`<`, `>`, `&`) and template (`%{`).
 */
function hoverLabel(title: string | undefined, fallback: string): string {
  return title === undefined ? fallback : plotlyText(title).replace(/%\{/g, '%\u200b{');
}

/** Options of {@link spikeCountPanel}. */
export interface SpikeCountPanelOptions {
  /** Population name (trace name and panel title; default `spikes`). */
  name?: string;
  /** Label of the time axis (default `time (ms)`). */
  xTitle?: string;
  /** Label of the neuron axis (default `neuron`; rows of k neurons: `neuron (rows of k)`). */
  yTitle?: string;
  /** Time range shown, `[t0, t1]` with t0 < t1 (default: the bins). */
  timeRange?: [number, number];
}

/** The keys of {@link SpikeCountPanelOptions}: other keys are refused ("invalid options key"). */
export const SPIKE_COUNT_PANEL_OPTION_KEYS = optionKeys<SpikeCountPanelOptions>()(['name', 'xTitle', 'yTitle', 'timeRange']);

/**
 * A heatmap panel of spike counts (finite integers >= 0) per (neuron row, time bin), row-major `[rows.count, bins.count]`
 * (from {@link spikeCounts}, or accumulated from pieces by a {@link SpikeCountGrid}): the panel
 * {@link spikeRaster} draws for a population above `maxSpikes`. Its title gives the name, the sum
 * of the counts and the neurons per row; a cell's x and y (also in its hover text) are its bin's
 * middle time `start + (k + ½)·width` and the middle of the neurons its row holds,
 * `(a + min(a + size − 1, last))/2` with `a = first + r·size` ({@link rowMiddle}: a last row only
 * partly filled is centred on its neurons, not past the last one; plotly draws cell edges halfway
 * between middles, so that row's edges are off by a quarter of the missing neurons); its colour
 * runs from white (0 spikes) to black (the largest count, at least 1). Place its colour bar with
 * {@link placeColorbars} once the figure is laid out.
 * @throws CinderArgumentError for bad bins, rows or `timeRange`, more than {@link MAX_DENSITY_CELLS}
 *   cells, counts of another length than rows.count · bins.count, or a count that is not a finite integer >= 0 (the error names its index)
 */
export function spikeCountPanel(counts: ArrayLike<number>, bins: TimeBins, rows: NeuronRows, options: SpikeCountPanelOptions = {}): Panel {
  checkOptionKeys('options', options, SPIKE_COUNT_PANEL_OPTION_KEYS);
  checkTimeBins(bins);
  checkNeuronRows(rows);
  checkTimeRange(options.timeRange);
  if (rows.count * bins.count > MAX_DENSITY_CELLS) {
    throw new CinderArgumentError('rows.count · bins.count', rows.count * bins.count, `at most ${MAX_DENSITY_CELLS} cells per panel (rows.count ${rows.count} · bins.count ${bins.count}; fewer rows or bins)`);
  }
  if (!isNumbers(counts) || counts.length !== rows.count * bins.count) {
    throw new CinderArgumentError('counts', isNumbers(counts) ? `${counts.length} values` : counts, `rows.count · bins.count = ${rows.count * bins.count} values`);
  }
  // spike counts: a NaN, negative or fractional entry would draw as a count and read "NaN spikes" in the title
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (!(Number.isInteger(c) && c >= 0)) {
      throw new CinderArgumentError(`counts[${i}]`, c, `a spike count: a finite integer >= 0 (row ${Math.floor(i / bins.count)}, time bin ${i % bins.count})`);
    }
  }
  const x = Float64Array.from({ length: bins.count }, (_, k) => bins.start + (k + 0.5) * bins.width);
  const z: number[][] = [];
  let counted = 0;
  let most = 1;
  for (let r = 0; r < rows.count; r++) {
    const row = Array.from({ length: bins.count }, (_, k) => counts[r * bins.count + k]!);
    for (const c of row) {
      counted += c;
      if (c > most) most = c;
    }
    z.push(row);
  }
  const name = options.name ?? 'spikes';
  const yTitle = options.yTitle ?? 'neuron';
  return {
    title: `${name}: ${counted} spikes, ${rows.size} neuron${rows.size === 1 ? '' : 's'} per row`,
    traces: [{
      type: 'heatmap', name, x, y: Float64Array.from({ length: rows.count }, (_, r) => rowMiddle(rows, r)), z,
      // both bounds given (plotly ignores a lone zmin): white is 0 spikes, so a cell of 1 is never white
      zmin: 0, zmax: most, colorscale: [[0, '#ffffff'], [1, '#000000']], colorbar: { title: { text: 'spikes' } },
      hovertemplate: `${hoverLabel(options.xTitle, 't')} %{x}<br>${hoverLabel(options.yTitle, 'neuron')} %{y}<br>%{z} spikes<extra>%{fullData.name}</extra>`,
    }],
    yTitle: rows.size === 1 ? yTitle : `${yTitle} (rows of ${rows.size})`,
    xTitle: options.xTitle ?? 'time (ms)',
    xaxis: options.timeRange ? { range: options.timeRange } : undefined,
  };
}

/**
 * Places the colour bar of every heatmap trace of `fig` that has one (`colorbar` set, `showscale`
 * not false) beside its own panel, in place: centred on the panel's y domain and as tall; when the
 * panel does not reach the figure's right edge (a grid of several columns), just right of it
 * (`x` = the x domain's end + 0.01, 12 px thick). Returns `fig`.
 */
export function placeColorbars(fig: Figure): Figure {
  for (const t of fig.data) {
    if (t.type !== 'heatmap' || t.colorbar === undefined || t.showscale === false) continue;
    const key = (axis: unknown, base: 'x' | 'y'): string => `${base}axis${typeof axis === 'string' ? axis.slice(1) : ''}`;
    const yDomain = (fig.layout[key(t.yaxis, 'y')] as { domain?: [number, number] } | undefined)?.domain;
    if (!yDomain) continue;
    const xDomain = (fig.layout[key(t.xaxis, 'x')] as { domain?: [number, number] } | undefined)?.domain;
    const beside = xDomain && xDomain[1] < 1 ? { x: xDomain[1] + 0.01, xanchor: 'left', thickness: 12 } : {};
    t.colorbar = { ...(t.colorbar as object), y: (yDomain[0] + yDomain[1]) / 2, len: yDomain[1] - yDomain[0], yanchor: 'middle', ...beside };
  }
  return fig;
}

/** Throws unless `range` is undefined or `[t0, t1]`, finite numbers with t0 < t1 (a shown time range). */
function checkTimeRange(range: unknown): void {
  if (range !== undefined && (!Array.isArray(range) || range.length !== 2 || !Number.isFinite(range[0]) || !Number.isFinite(range[1]) || !(range[0] < range[1]))) {
    throw new CinderArgumentError('timeRange', range, '[t0, t1]: finite numbers with t0 < t1');
  }
}

/** True for an array or typed array (of numbers). */
function isNumbers(a: unknown): boolean {
  return Array.isArray(a) || (ArrayBuffer.isView(a) && !(a instanceof DataView));
}
