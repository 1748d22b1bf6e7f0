/**
 * Figures: a small typed layer over plotly.js that builds {@link Figure} data (rasters, stacked
 * time series, histograms, heatmaps, per-synapse bars, learning curves) and writes standalone HTML
 * that opens offline.
 * @module
 */
export * from './figure.js';
export * from './panels.js';
export * from './raster.js';
export * from './traces.js';
export * from './histogram.js';
export * from './heatmap.js';
export * from './bars.js';
export * from './curves.js';
export * from './recordings.js';
export * from './decimate.js';
export * from './density.js';
