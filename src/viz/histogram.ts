/**
 * Histograms, e.g. of weights before and after training, with identical bins for every data set.
 * @module
 */
import { CinderArgumentError, checkInteger } from '../core/errors.js';
import type { Figure, Trace } from './figure.js';
import { panelFigure } from './panels.js';

/** One data set of a histogram. */
export interface HistogramSet {
  /** Legend entry. */
  name: string;
  /** Samples (non-finite values are ignored). */
  values: ArrayLike<number>;
}

/** Options of {@link histogramFigure}. */
export interface HistogramOptions {
  /** Number of bins (default 40). */
  bins?: number;
  /** x-axis label (default `value`). */
  xTitle?: string;
  /** y-axis label (default `count`). */
  yTitle?: string;
  /** Bin range (default: the range of all samples). */
  range?: [number, number];
}

/** Histogram bins in plotly's `xbins` form. */
export interface Bins {
  /** Left edge of the first bin. */
  start: number;
  /** Right end (a half bin past the last sample). */
  end: number;
  /** Bin width. */
  size: number;
}

/** Largest number of histogram bins. */
export const MAX_BINS = 100_000;

/** Common bins of several sample sets: `{ start, end, size }` for plotly's `xbins`. */
export function commonBins(sets: readonly ArrayLike<number>[], bins: number, range?: [number, number]): Bins {
  checkInteger('bins', bins, 1);
  if (bins > MAX_BINS) throw new CinderArgumentError('bins', bins, `at most ${MAX_BINS} (more bins than a figure has pixels)`);
  let lo = Infinity;
  let hi = -Infinity;
  if (range) [lo, hi] = range;
  else {
    for (const s of sets) {
      for (let i = 0; i < s.length; i++) {
        const v = s[i]!;
        if (Number.isFinite(v)) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { start: 0, end: 1, size: 1 / bins };
  if (hi < lo) throw new CinderArgumentError('range', range, '[lo, hi] with lo <= hi');
  if (hi === lo) {
    const w = Math.abs(lo) > 0 ? Math.abs(lo) * 0.05 : 0.5;
    lo -= w;
    hi += w;
  }
  const size = (hi - lo) / bins;
  // A half-bin margin at the top so the maximum falls inside the last bin.
  return { start: lo, end: hi + size / 2, size };
}

/** Overlaid histograms of several sets (same bins, semi-transparent), in one panel. */
export function histogramFigure(title: string, sets: readonly HistogramSet[], options: HistogramOptions = {}): Figure {
  if (sets.length === 0) throw new CinderArgumentError('sets', sets, 'at least one data set');
  const bins = commonBins(sets.map((s) => s.values), options.bins ?? 40, options.range);
  const traces: Trace[] = sets.map((s) => ({
    type: 'histogram', name: s.name, x: Array.from(s.values).filter(Number.isFinite), xbins: bins, autobinx: false, opacity: sets.length > 1 ? 0.6 : 1,
  }));
  return panelFigure(title, [{ traces, xTitle: options.xTitle ?? 'value', yTitle: options.yTitle ?? 'count' }], {
    showLegend: true, layout: { barmode: 'overlay' },
  });
}

/** Histograms of the same quantity before and after (e.g. training), with shared bins. */
export function beforeAfterHistogram(title: string, before: ArrayLike<number>, after: ArrayLike<number>, options: HistogramOptions = {}): Figure {
  return histogramFigure(title, [{ name: 'before', values: before }, { name: 'after', values: after }], options);
}
