/**
 * Spike rasters: one dot per spike at (time, neuron). Large rasters are drawn with WebGL
 * (`scattergl`), small ones as SVG.
 * @module
 */
import { CinderArgumentError, checkInteger, checkNonNegative, checkPositive, checkOptionKeys, optionKeys } from '../core/errors.js';
import type { Figure, Trace } from './figure.js';
import { panelFigure, type Panel } from './panels.js';

/** Spike events of one population: parallel arrays of times and neuron indices. */
export interface SpikeEvents {
  /** Spike times (e.g. in ms). */
  times: ArrayLike<number>;
  /** Neuron index of each spike. */
  neurons: ArrayLike<number>;
  /** Population name (legend entry). */
  name?: string;
}

/** Options of {@link spikeEventsFromMatrix}. */
export interface MatrixOptions {
  /** Time step between rows (default 1). */
  dt?: number;
  /** Time of row 0 (default `dt`: row k is the state after step k + 1). */
  t0?: number;
  /** Population name. */
  name?: string;
}

/** The keys of {@link MatrixOptions}: other keys are refused ("invalid options key"). */
export const MATRIX_OPTION_KEYS = optionKeys<MatrixOptions>()(['dt', 't0', 'name']);

/**
 * Converts a row-major `[steps, neurons]` 0/1 spike matrix into events. Any non-zero entry counts
 * as a spike; the time of row k is `t0 + k·dt`.
 * @throws CinderArgumentError when the data length is not `steps · neurons`
 */
export function spikeEventsFromMatrix(data: ArrayLike<number>, steps: number, neurons: number, options: MatrixOptions = {}): SpikeEvents {
  checkOptionKeys('options', options, MATRIX_OPTION_KEYS);
  checkInteger('steps', steps);
  checkInteger('neurons', neurons);
  if (data.length !== steps * neurons) throw new CinderArgumentError('data', `${data.length} values`, `steps · neurons = ${steps * neurons} values`);
  const dt = checkPositive('dt', options.dt ?? 1);
  const t0 = options.t0 ?? dt;
  const times: number[] = [];
  const idx: number[] = [];
  for (let k = 0; k < steps; k++) {
    const row = k * neurons;
    for (let n = 0; n < neurons; n++) {
      if (data[row + n] !== 0) {
        times.push(t0 + k * dt);
        idx.push(n);
      }
    }
  }
  return { times: Float64Array.from(times), neurons: Int32Array.from(idx), name: options.name };
}

/** Options of {@link spikeRaster}. */
export interface RasterOptions {
  /** Label of the time axis (default `time (ms)`). */
  xTitle?: string;
  /** Use WebGL when a panel has more points than this (default 2000). */
  webglThreshold?: number;
  /** Marker size in pixels (default 3; 4 for SVG). */
  markerSize?: number;
  /** Stack each population in its own panel (default true); false overlays them in one panel. */
  separatePanels?: boolean;
  /** Time range shown, `[t0, t1]` with t0 < t1 (default: the data). */
  timeRange?: [number, number];
}

/** The keys of {@link RasterOptions}: other keys are refused ("invalid options key"). */
export const RASTER_OPTION_KEYS = optionKeys<RasterOptions>()(['xTitle', 'webglThreshold', 'markerSize', 'separatePanels', 'timeRange']);

/**
 * A spike raster of one or more populations, stacked on a shared time axis (one panel each) or
 * overlaid in one panel.
 * @throws CinderArgumentError when times and neuron indices differ in length, or for a bad `timeRange`
 */
export function spikeRaster(title: string, populations: SpikeEvents | readonly SpikeEvents[], options: RasterOptions = {}): Figure {
  checkOptionKeys('options', options, RASTER_OPTION_KEYS);
  const pops = Array.isArray(populations) ? (populations as readonly SpikeEvents[]) : [populations as SpikeEvents];
  if (pops.length === 0) throw new CinderArgumentError('populations', pops, 'at least one population');
  const threshold = checkNonNegative('webglThreshold', options.webglThreshold ?? 2000);
  const range = options.timeRange;
  if (range !== undefined && (!Array.isArray(range) || range.length !== 2 || !Number.isFinite(range[0]) || !Number.isFinite(range[1]) || !(range[0] < range[1]))) {
    throw new CinderArgumentError('timeRange', range, '[t0, t1]: finite numbers with t0 < t1');
  }
  const traces: Trace[] = pops.map((p, i) => {
    if (p === null || typeof p !== 'object' || !isNumbers(p.times) || !isNumbers(p.neurons)) {
      throw new CinderArgumentError(`populations[${i}]`, p, 'spike events {times, neurons} (arrays of numbers)');
    }
    if (p.times.length !== p.neurons.length) {
      throw new CinderArgumentError(`populations[${i}].neurons`, `${p.neurons.length} indices`, `one per spike time (${p.times.length})`);
    }
    return { name: p.name ?? `population ${i + 1}`, x: p.times, y: p.neurons } as Trace;
  });
  const separate = options.separatePanels ?? true;
  const groups: Trace[][] = separate ? traces.map((t) => [t]) : [traces];
  const panels: Panel[] = groups.map((g, i) => {
    const points = g.reduce((s, t) => s + (t.x as ArrayLike<number>).length, 0);
    const gl = points > threshold;
    return {
      title: separate && pops.length > 1 ? pops[i]!.name : undefined,
      traces: g.map((t) => ({
        ...t,
        type: gl ? 'scattergl' : 'scatter',
        mode: 'markers',
        marker: gl ? { size: options.markerSize ?? 3, symbol: 'square', line: { width: 0 } } : { size: options.markerSize ?? 4, symbol: 'line-ns-open', line: { width: 1 } },
        hovertemplate: 't %{x}<br>neuron %{y}<extra>%{fullData.name}</extra>',
      })),
      yTitle: 'neuron',
      xTitle: options.xTitle ?? 'time (ms)',
      xaxis: options.timeRange ? { range: options.timeRange } : undefined,
    };
  });
  return panelFigure(title, panels, { showLegend: !separate && pops.length > 1 });
}

/** True for an array or typed array (of numbers). */
function isNumbers(a: unknown): boolean {
  return Array.isArray(a) || (ArrayBuffer.isView(a) && !(a instanceof DataView));
}
