/**
 * Line traces over a shared time axis, stacked in panels (voltages, currents, traces, weights).
 * @module
 */
import { CinderArgumentError, checkNonNegative, checkOptionKeys, optionKeys } from '../core/errors.js';
import { checkMaxPoints, decimateLine, decimatedName, decimatedTitle, DEFAULT_MAX_POINTS } from './decimate.js';
import type { Figure, Trace } from './figure.js';
import { panelFigure, type Panel } from './panels.js';

/** One named line. */
export interface Series {
  /** Legend entry. */
  name: string;
  /** Values, one per time point. */
  values: ArrayLike<number>;
  /** Dashed line (e.g. for a threshold or a reference). */
  dashed?: boolean;
}

/** One panel of lines. */
export interface SeriesPanel {
  /** Lines drawn in the panel. */
  series: readonly Series[];
  /** Panel title. */
  title?: string;
  /** y-axis label. */
  yTitle?: string;
}

/** Options of {@link timeSeriesFigure}. */
export interface TimeSeriesOptions {
  /** Label of the time axis (default `time (ms)`). */
  xTitle?: string;
  /** Use WebGL lines when a panel draws more points than this (default 20 000; counted after decimation). */
  webglThreshold?: number;
  /**
   * Most points drawn per line (default {@link DEFAULT_MAX_POINTS} = 8000): a longer line is drawn as
   * its min/max envelope ({@link minMaxEnvelope}), named so in its legend entry and the title;
   * `Infinity` draws every point. An integer >= 7, or Infinity.
   */
  maxPoints?: number;
}

/** The keys of {@link TimeSeriesOptions}: other keys are refused ("invalid options key"). */
export const TIME_SERIES_OPTION_KEYS = optionKeys<TimeSeriesOptions>()(['xTitle', 'webglThreshold', 'maxPoints']);

/**
 * Stacked panels of lines over one shared time axis. A line of more than `maxPoints` points is drawn
 * as its min/max envelope ({@link minMaxEnvelope}: per bucket of consecutive points its lowest and
 * highest value, the first and last points, and a break where values are non-finite); its legend
 * entry reads `name (min/max of B buckets of n points)` and the title says how many lines were
 * decimated. Lines of at most `maxPoints` points are drawn whole, exactly as with `maxPoints: Infinity`.
 * @throws CinderArgumentError when a series' length differs from the time axis, or for a bad `maxPoints` or `webglThreshold` (a finite number >= 0)
 */
export function timeSeriesFigure(title: string, time: ArrayLike<number>, panels: readonly SeriesPanel[], options: TimeSeriesOptions = {}): Figure {
  checkOptionKeys('options', options, TIME_SERIES_OPTION_KEYS);
  const threshold = checkNonNegative('webglThreshold', options.webglThreshold ?? 20_000);
  const maxPoints = checkMaxPoints(options.maxPoints ?? DEFAULT_MAX_POINTS);
  panels.forEach((p, pi) => p.series.forEach((s, si) => {
    if (s.values.length !== time.length) {
      throw new CinderArgumentError(`panels[${pi}].series[${si}].values`, `${s.values.length} values`, `one per time point (${time.length})`);
    }
  }));
  const named = new Set<string>();
  let lines = 0;
  let decimated = 0;
  const out: Panel[] = panels.map((p) => {
    const drawn = p.series.map((s) => decimateLine(time, s.values, maxPoints));
    const points = drawn.reduce((a, d) => a + d.y.length, 0);
    const type = points > threshold ? 'scattergl' : 'scatter';
    return {
      title: p.title,
      yTitle: p.yTitle,
      xTitle: options.xTitle ?? 'time (ms)',
      traces: p.series.map((s, si): Trace => {
        const d = drawn[si]!;
        lines++;
        if (d.buckets > 0) decimated++;
        // A name repeated in later panels (e.g. a threshold) gets one legend entry for all of them.
        const repeated = named.has(s.name);
        named.add(s.name);
        return {
          type, mode: 'lines', name: d.buckets > 0 ? decimatedName(s.name, d.buckets, s.values.length) : s.name, x: d.x, y: d.y,
          line: s.dashed ? { dash: 'dash', width: 1, color: '#7f7f7f' } : { width: 1.5 },
          legendgroup: s.name, showlegend: !repeated,
        };
      }),
    };
  });
  return panelFigure(decimatedTitle(title, decimated, lines, maxPoints), out);
}

/** Time points `t0 + k·dt` for k = 0 … n − 1 (default t0 = dt). */
export function timeAxis(n: number, dt = 1, t0 = dt): Float64Array {
  const t = new Float64Array(n);
  for (let k = 0; k < n; k++) t[k] = t0 + k * dt;
  return t;
}
