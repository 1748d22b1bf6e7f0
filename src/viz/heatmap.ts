/**
 * Heatmaps of weight matrices (rows = postsynaptic, columns = presynaptic), tiled in a grid.
 * @module
 */
import { CinderArgumentError, checkInteger, checkOptionKeys, optionKeys } from '../core/errors.js';
import type { Figure, Trace } from './figure.js';
import { panelFigure, type Panel } from './panels.js';

/** A row-major matrix. */
export interface Matrix {
  /** Panel title. */
  name: string;
  /** Row-major values, `rows · cols` of them. */
  data: ArrayLike<number>;
  /** Number of rows. */
  rows: number;
  /** Number of columns. */
  cols: number;
}

/** Options of {@link heatmapFigure}. */
export interface HeatmapOptions {
  /** Grid columns (default: up to 3 side by side). */
  columns?: number;
  /** Colour scale (default `RdBu`, centred at 0 with positive values red, when values have both signs; else `Viridis`). */
  colorscale?: string;
  /** Same colour range for every panel (default true). */
  sharedRange?: boolean;
  /** Axis labels (default `presynaptic` / `postsynaptic`). */
  xTitle?: string;
  /** y-axis label. */
  yTitle?: string;
}

/** The keys of {@link HeatmapOptions}: other keys are refused ("invalid options key"). */
export const HEATMAP_OPTION_KEYS = optionKeys<HeatmapOptions>()(['columns', 'colorscale', 'sharedRange', 'xTitle', 'yTitle']);

/** Splits row-major data into an array of rows (the form plotly's heatmap `z` takes). */
export function toRows(m: Matrix): number[][] {
  checkInteger(`${m.name}.rows`, m.rows, 1);
  checkInteger(`${m.name}.cols`, m.cols, 1);
  if (m.data.length !== m.rows * m.cols) throw new CinderArgumentError(`${m.name}.data`, `${m.data.length} values`, `rows · cols = ${m.rows * m.cols} values`);
  const z: number[][] = [];
  for (let r = 0; r < m.rows; r++) {
    const row = new Array<number>(m.cols);
    for (let c = 0; c < m.cols; c++) row[c] = m.data[r * m.cols + c]!;
    z.push(row);
  }
  return z;
}

/** One heatmap panel per matrix, tiled; colour ranges shared unless `sharedRange` is false. */
export function heatmapFigure(title: string, matrices: readonly Matrix[], options: HeatmapOptions = {}): Figure {
  checkOptionKeys('options', options, HEATMAP_OPTION_KEYS);
  if (!Array.isArray(matrices as unknown) || matrices.length === 0) throw new CinderArgumentError('matrices', matrices, 'a non-empty array of matrices {name, data, rows, cols}');
  let lo = Infinity;
  let hi = -Infinity;
  const zs = matrices.map((m) => {
    const z = toRows(m);
    for (const row of z) for (const v of row) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return z;
  });
  const diverging = lo < 0 && hi > 0;
  const colorscale = options.colorscale ?? (diverging ? 'RdBu' : 'Viridis');
  const shared = options.sharedRange ?? true;
  const bound = Math.max(Math.abs(lo), Math.abs(hi));
  const columns = options.columns ?? Math.min(3, matrices.length);
  const panels: Panel[] = matrices.map((m, i): Panel => {
    const trace: Trace = {
      type: 'heatmap', name: m.name, z: zs[i], colorscale,
      showscale: i === matrices.length - 1 || !shared, hovertemplate: 'post %{y}<br>pre %{x}<br>w %{z}<extra></extra>',
    };
    if (shared && Number.isFinite(lo)) Object.assign(trace, diverging ? { zmin: -bound, zmax: bound } : { zmin: lo, zmax: hi });
    if (!shared && diverging) trace.zmid = 0;
    return {
      title: m.name, traces: [trace], xTitle: options.xTitle ?? 'presynaptic', yTitle: options.yTitle ?? 'postsynaptic',
      yaxis: { autorange: 'reversed' },
    };
  });
  return panelFigure(title, panels, { columns, sharedX: false, height: Math.max(420, 360 * Math.ceil(matrices.length / columns) + 100), showLegend: false });
}
