/**
 * Panel layout: stacks or tiles several panels (each an x/y axis pair) into one {@link Figure}.
 * Stacked panels can share one time axis (zooming one zooms all).
 * @module
 */
import { CinderArgumentError, checkInteger, checkOptionKeys, optionKeys } from '../core/errors.js';
import type { Figure, Trace } from './figure.js';

/** One panel: traces drawn on their own pair of axes. */
export interface Panel {
  /** Traces of the panel (their `xaxis`/`yaxis` are set by {@link panelFigure}). */
  traces: Trace[];
  /** Title shown above the panel. */
  title?: string;
  /** Label of the panel's x axis (for shared axes only the bottom row's label is shown). */
  xTitle?: string;
  /** Label of the panel's y axis. */
  yTitle?: string;
  /** Extra plotly settings for the x axis (e.g. `{ type: 'log' }`). */
  xaxis?: Record<string, unknown>;
  /** Extra plotly settings for the y axis (e.g. `{ autorange: 'reversed' }`). */
  yaxis?: Record<string, unknown>;
}

/** Options of {@link panelFigure}. */
export interface PanelFigureOptions {
  /** Number of columns of the grid (default 1: panels stacked top to bottom). */
  columns?: number;
  /** Share one x axis among all panels of a column (default true when `columns` is 1). */
  sharedX?: boolean;
  /** Height in pixels (default 160 per row + 120, at least 420). */
  height?: number;
  /**
   * Gap between panels as a fraction of the figure (default about 45 px, at most 0.06, vertically;
   * 0.08 horizontally); given, in [0, 1/(n − 1)) for n rows or columns, so every panel keeps room.
   */
  gap?: number;
  /** Show the legend (default: when some trace has a name). */
  showLegend?: boolean;
  /** Extra layout settings merged last. */
  layout?: Record<string, unknown>;
}

/** The keys of {@link PanelFigureOptions}: other keys are refused ("invalid options key"). */
export const PANEL_FIGURE_OPTION_KEYS = optionKeys<PanelFigureOptions>()(['columns', 'sharedX', 'height', 'gap', 'showLegend', 'layout']);

/** Axis ids of one panel. */
export interface AxisIds {
  /** Trace reference of the x axis (`x`, `x2`, …). */
  x: string;
  /** Trace reference of the y axis (`y`, `y2`, …). */
  y: string;
  /** Layout key of the x axis (`xaxis`, `xaxis2`, …). */
  xKey: string;
  /** Layout key of the y axis (`yaxis`, `yaxis2`, …). */
  yKey: string;
}

/**
 * A label as plotly text: plotly reads titles and trace names as pseudo-HTML (`<b>`, `<sub>`, …,
 * unknown tags dropped), so `&`, `<` and `>` are written as `&amp;`, `&lt;`, `&gt;`, which it
 * shows as the characters: a label `E<I>` reads `E<I>`, not `E`.
 */
export function plotlyText(label: string): string {
  return label.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Plotly axis ids of the panel with index `i` (`x`/`y`, `x2`/`y2`, …). */
export function axisIds(i: number): AxisIds {
  const s = i === 0 ? '' : String(i + 1);
  return { x: `x${s}`, y: `y${s}`, xKey: `xaxis${s}`, yKey: `yaxis${s}` };
}

/**
 * Builds a figure from panels laid out in a grid (row-major, top to bottom). With `sharedX` every
 * column uses the x axis of its bottom panel, so zoom and pan act on the whole column. The title,
 * panel and axis titles and trace names are plain text (see {@link plotlyText}).
 * @throws CinderArgumentError for no panels, a bad column count or a gap that leaves no room
 */
export function panelFigure(title: string, panels: readonly Panel[], options: PanelFigureOptions = {}): Figure {
  checkOptionKeys('options', options, PANEL_FIGURE_OPTION_KEYS);
  if (!Array.isArray(panels) || panels.length === 0) throw new CinderArgumentError('panels', panels, 'at least one panel');
  const columns = checkInteger('columns', options.columns ?? 1, 1);
  const cols = Math.min(columns, panels.length);
  const rows = Math.ceil(panels.length / cols);
  const sharedX = options.sharedX ?? cols === 1;
  if (options.gap !== undefined) {
    // rows·h + (rows − 1)·gap = 1 (likewise for columns): the gap must leave h > 0
    const most = 1 / Math.max(1, rows - 1, cols - 1);
    if (typeof options.gap !== 'number' || !(options.gap >= 0 && options.gap < most)) {
      throw new CinderArgumentError('gap', options.gap, `a number in [0, ${most}) (${rows} row${rows > 1 ? 's' : ''}, ${cols} column${cols > 1 ? 's' : ''})`);
    }
  }
  const height = options.height ?? Math.max(420, 160 * rows + 120);
  // Default vertical gap: about 45 px (room for a panel title), at most 6 % of the plot area.
  const vGap = rows > 1 ? (options.gap ?? Math.min(0.06, 45 / Math.max(1, height - 130))) : 0;
  const hGap = cols > 1 ? (options.gap ?? 0.08) : 0;
  const rowH = (1 - vGap * (rows - 1)) / rows;
  const colW = (1 - hGap * (cols - 1)) / cols;
  const data: Trace[] = [];
  const layout: Record<string, unknown> = {
    title: { text: plotlyText(title) },
    height,
    margin: { t: 70, l: 70, r: 30, b: 60 },
    showlegend: options.showLegend ?? panels.some((p: Panel) => p.traces.some((t: Trace) => typeof t.name === 'string' && t.name !== '')),
    hovermode: 'closest',
  };
  const annotations: Record<string, unknown>[] = [];
  // Bottom panel index of every column (the owner of a shared x axis).
  const bottomOf = (c: number): number => {
    let i = c;
    while (i + cols < panels.length) i += cols;
    return i;
  };
  panels.forEach((p, i) => {
    const r = Math.floor(i / cols);
    const c = i % cols;
    const own = axisIds(i);
    const xOwner = sharedX ? axisIds(bottomOf(c)) : own;
    const y0 = 1 - (r + 1) * rowH - r * vGap;
    const y1 = y0 + rowH;
    const x0 = c * (colW + hGap);
    const x1 = x0 + colW;
    for (const t of p.traces) data.push({ ...t, ...(typeof t.name === 'string' ? { name: plotlyText(t.name) } : {}), xaxis: xOwner.x, yaxis: own.y });
    layout[own.yKey] = { domain: [round(y0), round(y1)], anchor: xOwner.x, title: p.yTitle ? { text: plotlyText(p.yTitle) } : undefined, ...p.yaxis };
    if (!sharedX || bottomOf(c) === i) {
      layout[own.xKey] = { domain: [round(x0), round(x1)], anchor: own.y, title: p.xTitle ? { text: plotlyText(p.xTitle) } : undefined, ...p.xaxis };
    }
    if (p.title) {
      annotations.push({
        text: `<b>${plotlyText(p.title)}</b>`, showarrow: false, xref: 'paper', yref: 'paper', x: (x0 + x1) / 2, y: y1, xanchor: 'center', yanchor: 'bottom',
      });
    }
  });
  if (annotations.length) layout.annotations = annotations;
  Object.assign(layout, options.layout);
  return { title, data, layout, panels: panels.length };
}

function round(x: number): number {
  return Math.min(1, Math.max(0, Math.round(x * 1e6) / 1e6));
}
