/**
 * Figures of `cinder song2000`.
 * @module
 */
import { beforeAfterHistogram } from '../../src/viz/histogram.js';
import { panelFigure } from '../../src/viz/panels.js';
import { timeSeriesFigure } from '../../src/viz/traces.js';
import type { Figure } from '../../src/viz/figure.js';

/** Histogram of the weights (in units of gmax) before and after the run. */
export function weightHistogram(before: ArrayLike<number>, after: ArrayLike<number>, gmax: number): Figure {
  const scale = (a: ArrayLike<number>) => Float64Array.from(a, (w) => w / gmax);
  return beforeAfterHistogram('Weight distribution (w / gmax)', scale(before), scale(after), { bins: 40, range: [0, 1], xTitle: 'w / gmax' });
}

/**
 * Weights (w / gmax) by input index, before and after; with `binMeans` (the mean w/gmax of equal
 * bins of the index, e.g. of the correlation parameter with `--input correlated`) also those, each
 * drawn at the centre of its bin.
 */
export function weightsByIndex(before: ArrayLike<number>, after: ArrayLike<number>, gmax: number, binMeans?: readonly number[]): Figure {
  const idx = Array.from({ length: after.length }, (_, i) => i);
  const y = (a: ArrayLike<number>) => Array.from(a, (w) => w / gmax);
  const nb = binMeans?.length ?? 0;
  const centres = Array.from({ length: nb }, (_, j) => ((j + 0.5) * after.length) / nb);
  return panelFigure('Weights by input index', [
    {
      title: 'w / gmax',
      xTitle: 'input index',
      yTitle: 'w / gmax',
      traces: [
        { type: 'scattergl', mode: 'markers', name: 'before', x: idx, y: y(before), marker: { size: 3, opacity: 0.4 } },
        { type: 'scattergl', mode: 'markers', name: 'after', x: idx, y: y(after), marker: { size: 3 } },
        ...(binMeans ? [{ type: 'scatter' as const, mode: 'lines+markers' as const, name: `mean of ${nb} bins`, x: centres, y: [...binMeans] }] : []),
      ],
    },
  ]);
}

/**
 * Postsynaptic firing rate per time bin, each plotted at the end of its bin: `min((i + 1)·bin, total)`
 * (a run that is not a whole number of bins ends with a shorter bin, plotted at `totalSeconds`).
 * @param binSeconds bin length (s)
 * @param rates rate of each bin (Hz)
 * @param totalSeconds simulated time (s; default: a whole number of bins)
 * @param cv the CV of the post ISIs over the last 10 % of the bins, shown in the title (omitted when null/undefined)
 */
export function rateOverTime(binSeconds: number, rates: ArrayLike<number>, totalSeconds = Infinity, cv?: number | null): Figure {
  const t = Float64Array.from({ length: rates.length }, (_, i) => Math.min((i + 1) * binSeconds, totalSeconds));
  const title = cv === null || cv === undefined ? 'Postsynaptic rate' : `Postsynaptic rate (CV of the ISIs, last 10 % of the bins: ${cv.toFixed(3)})`;
  return timeSeriesFigure(title, t, [{ series: [{ name: 'rate (Hz)', values: rates }], yTitle: 'rate (Hz)' }], { xTitle: 'time (s)' });
}
