/**
 * Learning curves: metrics per iteration or epoch, one panel per metric family.
 * @module
 */
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../core/errors.js';
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
}

/** The keys of {@link LearningCurvesOptions}: other keys are refused ("invalid options key"). */
export const LEARNING_CURVES_OPTION_KEYS = optionKeys<LearningCurvesOptions>()(['xTitle']);

/**
 * Learning curves in stacked panels sharing the iteration axis.
 * @throws CinderArgumentError when a curve's `x` and `y` differ in length
 */
export function learningCurves(title: string, panels: readonly CurvePanel[], options: LearningCurvesOptions = {}): Figure {
  checkOptionKeys('options', options, LEARNING_CURVES_OPTION_KEYS);
  if (!Array.isArray(panels as unknown) || panels.length === 0) throw new CinderArgumentError('panels', panels, 'a non-empty array of {curves, yTitle?, logY?}');
  panels.forEach((p, i) => {
    if (p === null || typeof p !== 'object' || !Array.isArray(p.curves as unknown)) throw new CinderArgumentError(`panels[${i}].curves`, p?.curves, 'an array of curves {name, y, x?}');
  });
  const out: Panel[] = panels.map((p, pi) => ({
    yTitle: p.yTitle,
    xTitle: options.xTitle ?? 'iteration',
    yaxis: p.logY ? { type: 'log' } : undefined,
    traces: p.curves.map((c, ci): Trace => {
      const x = c.x ?? Array.from({ length: c.y.length }, (_, i) => i + 1);
      if (x.length !== c.y.length) throw new CinderArgumentError(`panels[${pi}].curves[${ci}].x`, `${x.length} values`, `one per y value (${c.y.length})`);
      return { type: 'scatter', mode: c.mode ?? 'lines', name: c.name, x, y: c.y };
    }),
  }));
  return panelFigure(title, out, { showLegend: true });
}
