/**
 * Figures of `cinder quickstart`.
 * @module
 */
import { learningCurves } from '../../src/viz/curves.js';
import { heatmapFigure } from '../../src/viz/heatmap.js';
import { spikeEventsFromMatrix, spikeRaster } from '../../src/viz/raster.js';
import type { Figure } from '../../src/viz/figure.js';

/** Accuracy per block of training digits (online: each batch is classified before the classifier sees its labels) and the final test accuracy. */
export function accuracyCurve(digits: readonly number[], trainAccuracy: readonly number[], test: { digits: number; accuracy: number } | null): Figure {
  const curves = [{ name: 'training (online)', x: digits, y: trainAccuracy, mode: 'lines+markers' as const }];
  if (test) curves.push({ name: 'test', x: [test.digits], y: [test.accuracy], mode: 'lines+markers' as const });
  return learningCurves('Accuracy', [{ curves, yTitle: 'accuracy' }], { xTitle: 'digits trained' });
}

/**
 * The receptive fields of the 10×10 excitatory neurons as one heatmap: a 10×10 grid of 28×28
 * tiles, tile (r, c) holding the input weights of neuron 10·r + c.
 * @param w input weights `[100 · 784]` (row = neuron)
 */
export function receptiveFields(w: ArrayLike<number>, grid = 10, side = 28): Figure {
  const n = grid * side;
  const data = new Float64Array(n * n); // values rounded to 4 decimals keep the HTML small
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const k = r * grid + c;
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) data[(r * side + y) * n + c * side + x] = Math.round(w[k * side * side + y * side + x]! * 1e4) / 1e4;
      }
    }
  }
  const fig = heatmapFigure('Input weights of the excitatory neurons (10×10 grid of 28×28 receptive fields)', [{ name: 'weights', data, rows: n, cols: n }], {
    xTitle: 'pixel column (tile = neuron)', yTitle: 'pixel row', colorscale: 'Hot',
  });
  // Square pixels; the x axis shrinks its domain (not its range) so the grid fills the panel.
  fig.layout = {
    ...fig.layout,
    height: 860,
    xaxis: { ...((fig.layout.xaxis as object) ?? {}), constrain: 'domain' },
    yaxis: { ...((fig.layout.yaxis as object) ?? {}), autorange: 'reversed', scaleanchor: 'x', constrain: 'domain' },
  };
  return fig;
}

/** Spike raster of one digit's presentation: input, excitatory and inhibitory spikes. */
export function digitRaster(label: number, steps: number, input: Float32Array, exc: Float32Array, inh: Float32Array): Figure {
  return spikeRaster(`Spikes during one test digit (label ${label})`, [
    spikeEventsFromMatrix(input, steps, input.length / steps, { name: 'input (784)' }),
    spikeEventsFromMatrix(exc, steps, exc.length / steps, { name: 'excitatory (100)' }),
    spikeEventsFromMatrix(inh, steps, inh.length / steps, { name: 'inhibitory (100)' }),
  ]);
}
