/**
 * Learning curves: metrics per iteration or epoch, one panel per metric family.
 * @module
 */
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../core/errors.js';
import { checkMaxPoints, decimateLine, decimatedName, decimatedTitle, DEFAULT_MAX_POINTS } from './decimate.js';
import type { Figure, Trace } from './figure.js';
import { panelFigure, type Panel } from './panels.js';

/** One curve. */
export interface Curve {
  /** Legend entry. */
  name: string;
  /** Values. */
  y: ArrayLike<number>;
  /** x positions (default 1, 2, …). */
  x?: ArrayLike<number>;
  /** `lines` (default) or `markers` (e.g. sparse validation points). */
  mode?: 'lines' | 'markers' | 'lines+markers';
}

/** One panel of curves. */
export interface CurvePanel {
  /** Curves in the panel. */
  curves: readonly Curve[];
  /** y-axis label. */
  yTitle?: string;
  /** Logarithmic y axis. */
  logY?: boolean;
}

/** Options of {@link learningCurves}. */
export interface LearningCurvesOptions {
  /** Title of the shared x axis (default "iteration"). */
  xTitle?: string;
  /**
   * Most points drawn per curve (default {@link DEFAULT_MAX_POINTS} = 8000): a longer curve is drawn
   * as its min/max envelope ({@link minMaxEnvelope}), named so in its legend entry and the title;
   * `Infinity` draws every point. An integer >= 7, or Infinity.
   */
  maxPoints?: number;
}

/** The keys of {@link LearningCurvesOptions}: other keys are refused ("invalid options key"). */
export const LEARNING_CURVES_OPTION_KEYS = optionKeys<LearningCurvesOptions>()(['xTitle', 'maxPoints']);

/**
 * Learning curves in stacked panels sharing the iteration axis. A curve of more than `maxPoints`
 * points is drawn as its min/max envelope (per bucket of consecutive points its lowest and highest
 * value, the first and last points, and a break where values are non-finite), whatever its `mode`;
 * its legend entry reads `name (min/max of B buckets of n points)` and the title says how many
 * curves were decimated. Curves of at most `maxPoints` points are drawn exactly as with `Infinity`.
 * @throws CinderArgumentError when a curve's `x` and `y` differ in length, or for a bad `maxPoints`
 */
export function learningCurves(title: string, panels: readonly CurvePanel[], options: LearningCurvesOptions = {}): Figure {
  checkOptionKeys('options', options, LEARNING_CURVES_OPTION_KEYS);
  const maxPoints = checkMaxPoints(options.maxPoints ?? DEFAULT_MAX_POINTS);
  if (!Array.isArray(panels as unknown) || panels.length === 0) throw new CinderArgumentError('panels', panels, 'a non-empty array of {curves, yTitle?, logY?}');
  panels.forEach((p, i) => {
    if (p === null || typeof p !== 'object' || !Array.isArray(p.curves as unknown)) throw new CinderArgumentError(`panels[${i}].curves`, p?.curves, 'an array of curves {name, y, x?}');
  });
  panels.forEach((p, pi) => p.curves.forEach((c, ci) => {
    if (c.x !== undefined && c.x.length !== c.y.length) throw new CinderArgumentError(`panels[${pi}].curves[${ci}].x`, `${c.x.length} values`, `one per y value (${c.y.length})`);
  }));
  let lines = 0;
  let decimated = 0;
  const out: Panel[] = panels.map((p) => ({
    yTitle: p.yTitle,
    xTitle: options.xTitle ?? 'iteration',
    yaxis: p.logY ? { type: 'log' } : undefined,
    traces: p.curves.map((c): Trace => {
      const x = c.x ?? Array.from({ length: c.y.length }, (_, i) => i + 1);
      const d = decimateLine(x, c.y, maxPoints);
      lines++;
      if (d.buckets > 0) decimated++;
      return { type: 'scatter', mode: c.mode ?? 'lines', name: d.buckets > 0 ? decimatedName(c.name, d.buckets, c.y.length) : c.name, x: d.x, y: d.y };
    }),
  }));
  return panelFigure(decimatedTitle(title, decimated, lines, maxPoints), out, { showLegend: true });
}
