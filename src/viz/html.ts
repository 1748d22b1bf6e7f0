/**
 * Standalone HTML for a {@link Figure}. plotly.js comes from the installed `plotly.js-dist-min`
 * package, either inlined into the page or as a `plotly.min.js` next to it, so figures open
 * offline. The page exposes `window.cinderFigure` (`{ title, panels, traces, rendered, error }`)
 * for automated checks.
 * @module
 */
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../core/errors.js';
import type { Figure } from './figure.js';

/** File name of the plotly bundle written next to figures that reference it. */
export const PLOTLY_FILE = 'plotly.min.js';

let plotlyCache: string | null = null;

/** Absolute path of the installed `plotly.js-dist-min/plotly.min.js`. */
export function plotlyPath(): string {
  return createRequire(import.meta.url).resolve('plotly.js-dist-min/plotly.min.js');
}

/** The plotly.js bundle (read once, then cached). */
export function plotlySource(): string {
  plotlyCache ??= readFileSync(plotlyPath(), 'utf8');
  return plotlyCache;
}

/** How a page gets plotly.js. */
export type PlotlyMode = 'inline' | 'relative';

/** Options of {@link figureHtml}. */
export interface FigureHtmlOptions {
  /**
   * `inline` (default): the bundle is embedded (about 4.8 MB per page, the file is fully
   * standalone); `relative`: the page loads `plotly.min.js` from its own folder.
   */
  plotly?: PlotlyMode;
  /**
   * With `relative`: the URL the page loads plotly.js from (default `plotly.min.js`, next to the
   * page, copied there by {@link writeFigureHtml}); given, the caller provides the copy (e.g. one
   * shared copy for all the run folders of a parent folder).
   */
  plotlyUrl?: string;
}

/** The keys of {@link FigureHtmlOptions}: other keys are refused ("invalid options key"). */
export const FIGURE_HTML_OPTION_KEYS = optionKeys<FigureHtmlOptions>()(['plotly', 'plotlyUrl']);

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Makes script text safe inside an HTML `<script>` element without changing its meaning. */
function scriptSafe(js: string): string {
  return js.replace(/<\/script/gi, '\\x3C/script').replace(/<!--/g, '\\x3C!--');
}

/** Checks that a figure is well formed (title, data array, layout object, panels >= 1). */
export function checkFigure(figure: Figure, param = 'figure'): void {
  if (typeof figure !== 'object' || figure === null) throw new CinderArgumentError(param, figure, 'a Figure object');
  if (typeof figure.title !== 'string') throw new CinderArgumentError(`${param}.title`, figure.title, 'a string');
  if (!Array.isArray(figure.data)) throw new CinderArgumentError(`${param}.data`, figure.data, 'an array of traces');
  if (typeof figure.layout !== 'object' || figure.layout === null) throw new CinderArgumentError(`${param}.layout`, figure.layout, 'an object');
  if (!Number.isInteger(figure.panels) || figure.panels < 1) throw new CinderArgumentError(`${param}.panels`, figure.panels, 'an integer >= 1');
}

/** Smallest height (px) per row of panels, when the layout does not give a larger height. */
export const MIN_PANEL_HEIGHT = 150;

/**
 * The figure's drawing height in pixels: the layout's `height` when given, but never less than
 * {@link MIN_PANEL_HEIGHT} per row of stacked panels plus room for the title and the x axis.
 */
export function figureHeight(figure: Figure): number {
  const rows = panelRows(figure);
  const fromPanels = Math.max(420, MIN_PANEL_HEIGHT * rows + 130);
  const h = figure.layout.height;
  return typeof h === 'number' && Number.isFinite(h) ? Math.max(Math.round(h), fromPanels) : fromPanels;
}

/** Number of distinct rows of panels (y domains) in the layout; the panel count when unknown. */
function panelRows(figure: Figure): number {
  const starts = new Set<number>();
  for (const [k, v] of Object.entries(figure.layout)) {
    const d = /^yaxis\d*$/.test(k) ? (v as { domain?: unknown } | null)?.domain : undefined;
    if (Array.isArray(d) && typeof d[0] === 'number') starts.add(Math.round(d[0] * 1000));
  }
  return starts.size > 0 ? starts.size : figure.panels;
}

/**
 * The HTML page of a figure. Typed arrays in traces are written as plain arrays; non-finite numbers
 * become `null` (a gap in plotly).
 */
export function figureHtml(figure: Figure, options: FigureHtmlOptions = {}): string {
  checkOptionKeys('options', options, FIGURE_HTML_OPTION_KEYS);
  checkFigure(figure);
  const height = figureHeight(figure);
  const spec = {
    title: figure.title,
    panels: figure.panels,
    data: figure.data,
    // The page's height comes from the layout (i.e. from the panel count), never from the window:
    // plotly's `responsive` mode then only follows the window's width, and a tall multi-panel figure
    // scrolls instead of being squashed into the viewport.
    layout: { ...figure.layout, height, autosize: true },
    config: { responsive: true, displaylogo: false },
  };
  const json = JSON.stringify(spec, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
    return v;
  }).replace(/</g, '\\u003c');
  const plotly = (options.plotly ?? 'inline') === 'inline' ? `<script>${scriptSafe(plotlySource())}</script>` : `<script src="${escapeHtml(options.plotlyUrl ?? PLOTLY_FILE)}"></script>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(figure.title)}</title>
<style>html, body { margin: 0; font-family: sans-serif; } #figure { width: 100%; height: ${height}px; }</style>
${plotly}
</head>
<body>
<div id="figure"></div>
<script type="application/json" id="figure-spec">${json}</script>
<script>
(function () {
  var spec = JSON.parse(document.getElementById('figure-spec').textContent);
  var info = { title: spec.title, panels: spec.panels, traces: spec.data.length, rendered: false, error: null };
  window.cinderFigure = info;
  if (typeof Plotly === 'undefined') {
    info.error = 'plotly.js did not load';
    document.getElementById('figure').textContent = 'plotly.js did not load (${PLOTLY_FILE} missing?)';
    return;
  }
  Plotly.newPlot('figure', spec.data, spec.layout, spec.config).then(function () {
    info.rendered = true;
    document.body.setAttribute('data-rendered', 'true');
  }, function (err) {
    info.error = String(err && err.message || err);
  });
})();
</script>
</body>
</html>
`;
}

/**
 * Writes a figure as an HTML file (atomically). With `plotly: 'relative'` the bundle is copied to
 * `plotly.min.js` in the same folder unless a file of the same size is already there.
 */
export async function writeFigureHtml(path: string, figure: Figure, options: FigureHtmlOptions = {}): Promise<void> {
  const html = figureHtml(figure, options);
  if (options.plotly === 'relative' && options.plotlyUrl === undefined) await ensurePlotlyCopy(dirname(path));
  await writeFileAtomic(path, html);
}

/** Copies the plotly bundle into `dir` (as `plotly.min.js`, atomically) unless already there. */
export async function ensurePlotlyCopy(dir: string): Promise<string> {
  const target = join(dir, PLOTLY_FILE);
  const src = plotlyPath();
  try {
    const [a, b] = await Promise.all([stat(src), stat(target)]);
    if (a.size === b.size) return target;
  } catch {
    // not there yet
  }
  await writeFileAtomic(target, await readFile(src));
  return target;
}
