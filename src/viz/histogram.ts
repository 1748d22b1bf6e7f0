/**
 * Histograms, e.g. of weights before and after training, with identical bins for every data set.
 * @module
 */
import { CinderArgumentError, checkInteger, checkOptionKeys, optionKeys } from '../core/errors.js';
import type { Figure, Trace } from './figure.js';
import { panelFigure } from './panels.js';

/** One data set of a histogram. */
export interface HistogramSet {
  /** Legend entry. */
  name: string;
  /** Samples (non-finite values, and values outside `range` when given, are not counted). */
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
  /** Bin range [lo, hi], hi included in the last bin (default: the range of the finite samples). */
  range?: [number, number];
}

/** The keys of {@link HistogramOptions}: other keys are refused ("invalid options key"). */
export const HISTOGRAM_OPTION_KEYS = optionKeys<HistogramOptions>()(['bins', 'xTitle', 'yTitle', 'range']);

/**
 * Histogram bins: bin k is `[start + k·size, start + (k + 1)·size)` for k = 0 … n − 1, n = (end − start)/size,
 * and the last bin also includes `end` (as numpy's histogram).
 */
export interface Bins {
  /** Left edge of the first bin. */
  start: number;
  /** Right edge of the last bin (included in it). */
  end: number;
  /** Bin width. */
  size: number;
}

/** Largest number of histogram bins. */
export const MAX_BINS = 100_000;

/**
 * Common bins of several sample sets: `bins` bins of width `(hi − lo)/bins` (float64; `hi/bins −
 * lo/bins` when `hi − lo` overflows) from `lo` to `hi`, the range of the finite samples (or
 * `range`); a single value v gets `[v − 0.05|v|, v + 0.05|v|]` (±0.5 for 0; clipped to ±MAX_VALUE),
 * no finite sample `[0, 1]`.
 * @throws CinderArgumentError when `range` is not two finite numbers lo <= hi
 */
export function commonBins(sets: readonly ArrayLike<number>[], bins: number, range?: [number, number]): Bins {
  checkInteger('bins', bins, 1);
  if (bins > MAX_BINS) throw new CinderArgumentError('bins', bins, `at most ${MAX_BINS} (more bins than a figure has pixels)`);
  let lo = Infinity;
  let hi = -Infinity;
  if (range !== undefined) {
    if (!Array.isArray(range) || range.length !== 2 || !Number.isFinite(range[0]) || !Number.isFinite(range[1]) || range[1] < range[0]) {
      throw new CinderArgumentError('range', range, '[lo, hi]: finite numbers with lo <= hi');
    }
    [lo, hi] = range;
  } else {
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
  if (hi === lo) {
    const w = Math.abs(lo) > 0 ? Math.abs(lo) * 0.05 : 0.5;
    // clipped to the finite doubles (v ± 5 % overflows for |v| > MAX_VALUE / 1.05)
    lo = Math.max(lo - w, -Number.MAX_VALUE);
    hi = Math.min(hi + w, Number.MAX_VALUE);
  }
  return { start: lo, end: hi, size: binsBetween(lo, hi, bins) };
}

/**
 * `(b − a)/d` without overflow: when `b − a` exceeds the largest double (a range such as
 * [−1e308, 1e308]), `b/d − a/d` instead.
 */
function binsBetween(a: number, b: number, d: number): number {
  const q = (b - a) / d;
  return Number.isFinite(q) ? q : b / d - a / d;
}

/**
 * Samples per bin of {@link Bins}: sample v goes to bin ⌊(v − start)/size⌋ (float64; `v/size −
 * start/size` when `v − start` overflows), v = end to the
 * last bin; non-finite samples and samples outside [start, end] are not counted.
 */
export function binCounts(values: ArrayLike<number>, bins: Bins): number[] {
  const n = Math.max(1, Math.round(binsBetween(bins.start, bins.end, bins.size)));
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= bins.start && v <= bins.end)) continue; // NaN fails both
    counts[Math.min(n - 1, Math.floor(binsBetween(bins.start, v, bins.size)))]!++;
  }
  return counts;
}

/**
 * Overlaid histograms of several sets (same bins, semi-transparent), in one panel. The figure holds
 * the counts ({@link binCounts} of {@link commonBins}) as bars at the bin centres, not the samples.
 */
export function histogramFigure(title: string, sets: readonly HistogramSet[], options: HistogramOptions = {}): Figure {
  checkOptionKeys('options', options, HISTOGRAM_OPTION_KEYS);
  if (sets.length === 0) throw new CinderArgumentError('sets', sets, 'at least one data set');
  const bins = commonBins(sets.map((s) => s.values), options.bins ?? 40, options.range);
  const centres = binCounts([], bins).map((_, k) => bins.start + (k + 0.5) * bins.size);
  const traces: Trace[] = sets.map((s) => ({
    type: 'bar', name: s.name, x: centres, y: binCounts(s.values, bins), width: bins.size, opacity: sets.length > 1 ? 0.6 : 1,
  }));
  return panelFigure(title, [{ traces, xTitle: options.xTitle ?? 'value', yTitle: options.yTitle ?? 'count' }], {
    showLegend: true, layout: { barmode: 'overlay', bargap: 0 },
  });
}

/** Histograms of the same quantity before and after (e.g. training), with shared bins. */
export function beforeAfterHistogram(title: string, before: ArrayLike<number>, after: ArrayLike<number>, options: HistogramOptions = {}): Figure {
  return histogramFigure(title, [{ name: 'before', values: before }, { name: 'after', values: after }], options);
}
