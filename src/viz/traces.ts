/**
 * Line traces over a shared time axis, stacked in panels (voltages, currents, traces, weights).
 * @module
 */
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../core/errors.js';
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
  /** Use WebGL lines when a panel has more points than this (default 20 000). */
  webglThreshold?: number;
}

/** The keys of {@link TimeSeriesOptions}: other keys are refused ("invalid options key"). */
export const TIME_SERIES_OPTION_KEYS = optionKeys<TimeSeriesOptions>()(['xTitle', 'webglThreshold']);

/**
 * Stacked panels of lines over one shared time axis.
 * @throws CinderArgumentError when a series' length differs from the time axis
 */
export function timeSeriesFigure(title: string, time: ArrayLike<number>, panels: readonly SeriesPanel[], options: TimeSeriesOptions = {}): Figure {
  checkOptionKeys('options', options, TIME_SERIES_OPTION_KEYS);
  const threshold = options.webglThreshold ?? 20_000;
  const named = new Set<string>();
  const out: Panel[] = panels.map((p, pi) => {
    const points = p.series.length * time.length;
    const type = points > threshold ? 'scattergl' : 'scatter';
    return {
      title: p.title,
      yTitle: p.yTitle,
      xTitle: options.xTitle ?? 'time (ms)',
      traces: p.series.map((s, si): Trace => {
        if (s.values.length !== time.length) {
          throw new CinderArgumentError(`panels[${pi}].series[${si}].values`, `${s.values.length} values`, `one per time point (${time.length})`);
        }
        // A name repeated in later panels (e.g. a threshold) gets one legend entry for all of them.
        const repeated = named.has(s.name);
        named.add(s.name);
        return {
          type, mode: 'lines', name: s.name, x: time, y: s.values, line: s.dashed ? { dash: 'dash', width: 1, color: '#7f7f7f' } : { width: 1.5 },
          legendgroup: s.name, showlegend: !repeated,
        };
      }),
    };
  });
  return panelFigure(title, out);
}

/** Time points `t0 + k·dt` for k = 0 … n − 1 (default t0 = dt). */
export function timeAxis(n: number, dt = 1, t0 = dt): Float64Array {
  const t = new Float64Array(n);
  for (let k = 0; k < n; k++) t[k] = t0 + k * dt;
  return t;
}
