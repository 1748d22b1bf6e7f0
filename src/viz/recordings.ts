/**
 * Figures straight from recordings: a {@link Recording} is `[T, B, ...shape]` row-major data, as
 * returned by `Recorder.toArray()` (any object with `toArray()` works, and a Recorder's
 * `recordedSteps()` sets the time of each record).
 * @module
 */
import { CinderArgumentError, checkFinite, checkInteger, checkPositive, checkOptionKeys, optionKeys } from '../core/errors.js';
import type { Figure } from './figure.js';
import { RASTER_OPTION_KEYS, spikeRaster, type RasterOptions, type SpikeEvents } from './raster.js';
import { TIME_SERIES_OPTION_KEYS, timeSeriesFigure, type Series, type SeriesPanel, type TimeSeriesOptions } from './traces.js';

/** Recorded data: `shape` is `[T, B, ...neuronShape]`, `data` row-major. */
export interface Recording {
  /** Row-major values. */
  data: ArrayLike<number>;
  /** `[T, B, ...neuronShape]`. */
  shape: readonly number[];
  /** Step number (1-based; integers >= 0) of each record; default 1, 2, …, T. */
  steps?: readonly number[];
}

/** Row-major data with its shape, as `Recorder.toArray()` returns it. */
export interface RawRecording {
  /** Row-major values. */
  data: ArrayLike<number>;
  /** `[T, B, ...neuronShape]`. */
  shape: readonly number[];
}

/** Lines extracted from a recording. */
export interface RecordedSeries {
  /** Time of each record (ms). */
  time: Float64Array;
  /** One line per requested neuron. */
  series: Series[];
}

/** Anything that can produce a recording (e.g. a `Recorder`). */
export interface RecordingSource {
  /** All records as `{ data, shape }`. */
  toArray(): RawRecording;
  /** Step number of each record (optional). */
  recordedSteps?(): number[];
}

/** Reads a recording from a source, or returns a recording unchanged. */
export function asRecording(source: Recording | RecordingSource): Recording {
  if (typeof (source as RecordingSource).toArray === 'function') {
    const s = source as RecordingSource;
    const { data, shape } = s.toArray();
    return { data, shape, steps: s.recordedSteps?.() };
  }
  return source as Recording;
}

/** Options for turning a recording into figure data. */
export interface RecordingOptions {
  /** Time step in ms (default 1); record k made at step s has time `s·dt`. */
  dt?: number;
  /** Batch entry shown (default 0). */
  batch?: number;
}

/** The keys of {@link RecordingOptions}: other keys are refused ("invalid options key"). */
export const RECORDING_OPTION_KEYS = optionKeys<RecordingOptions>()(['dt', 'batch']);

/** The keys of {@link spikesFromRecording}'s options. */
export const SPIKES_FROM_RECORDING_OPTION_KEYS = optionKeys<RecordingOptions & { name?: string }>()([...RECORDING_OPTION_KEYS, 'name']);

/** The keys of {@link seriesFromRecording}'s options. */
export const SERIES_FROM_RECORDING_OPTION_KEYS = optionKeys<RecordingOptions & { prefix?: string }>()([...RECORDING_OPTION_KEYS, 'prefix']);

/** The keys of {@link rasterFromRecordings}'s options. */
export const RASTER_FROM_RECORDINGS_OPTION_KEYS = optionKeys<RecordingOptions & RasterOptions>()([...RECORDING_OPTION_KEYS, ...RASTER_OPTION_KEYS]);

/** The keys of {@link tracesFromRecordings}'s options. */
export const TRACES_FROM_RECORDINGS_OPTION_KEYS = optionKeys<RecordingOptions & TimeSeriesOptions>()([...RECORDING_OPTION_KEYS, ...TIME_SERIES_OPTION_KEYS]);

/** The entries of `o` whose keys `keys` lists (those the called builder takes). */
function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (k in o) out[k] = o[k];
  return out;
}

interface Layout {
  steps: number;
  batch: number;
  neurons: number;
  times: Float64Array;
}

function layoutOf(rec: Recording, options: RecordingOptions, param: string): Layout {
  const shape = rec.shape;
  if (!Array.isArray(shape) || shape.length < 2 || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new CinderArgumentError(`${param}.shape`, shape, '[T, B, ...neuronShape]: integers >= 0');
  }
  const [steps, batches] = shape as number[];
  const neurons = shape.slice(2).reduce((a, b) => a * b, 1);
  if (rec.data.length !== steps! * batches! * neurons) throw new CinderArgumentError(`${param}.data`, `${rec.data.length} values`, `${steps! * batches! * neurons} values for shape [${shape.join(', ')}]`);
  const batch = checkInteger('batch', options.batch ?? 0);
  if (batch >= batches!) throw new CinderArgumentError('batch', batch, `a batch index < ${batches}`);
  const dt = checkPositive('dt', options.dt ?? 1);
  const stepNo = rec.steps ?? Array.from({ length: steps! }, (_, k) => k + 1);
  if (stepNo.length !== steps) throw new CinderArgumentError(`${param}.steps`, `${stepNo.length} steps`, `one per record (${steps})`);
  if (stepNo.some((s) => !Number.isSafeInteger(s) || s < 0)) throw new CinderArgumentError(`${param}.steps`, stepNo, 'integers >= 0 (step numbers)');
  return { steps: steps!, batch, neurons, times: Float64Array.from(stepNo, (s) => s * dt) };
}

/** The spikes (non-zero entries) of one batch entry of a recording, neurons flattened. */
export function spikesFromRecording(source: Recording | RecordingSource, options: RecordingOptions & { name?: string } = {}): SpikeEvents {
  checkOptionKeys('options', options, SPIKES_FROM_RECORDING_OPTION_KEYS);
  const rec = asRecording(source);
  const l = layoutOf(rec, options, 'recording');
  const batches = rec.shape[1]!;
  const times: number[] = [];
  const idx: number[] = [];
  for (let k = 0; k < l.steps; k++) {
    const base = (k * batches + l.batch) * l.neurons;
    for (let n = 0; n < l.neurons; n++) {
      if (rec.data[base + n] !== 0) {
        times.push(l.times[k]!);
        idx.push(n);
      }
    }
  }
  return { times: Float64Array.from(times), neurons: Int32Array.from(idx), name: options.name };
}

/** The time course of the given (flattened) neurons of one batch entry. */
export function seriesFromRecording(source: Recording | RecordingSource, neurons: readonly number[], options: RecordingOptions & { prefix?: string } = {}): RecordedSeries {
  checkOptionKeys('options', options, SERIES_FROM_RECORDING_OPTION_KEYS);
  const rec = asRecording(source);
  const l = layoutOf(rec, options, 'recording');
  const batches = rec.shape[1]!;
  const series = neurons.map((n): Series => {
    checkInteger('neuron', n);
    if (n >= l.neurons) throw new CinderArgumentError('neuron', n, `an index < ${l.neurons}`);
    const v = new Float64Array(l.steps);
    for (let k = 0; k < l.steps; k++) v[k] = rec.data[(k * batches + l.batch) * l.neurons + n]!;
    return { name: `${options.prefix ?? 'neuron'} ${n}`, values: v };
  });
  return { time: l.times, series };
}

/**
 * A raster of several recorded spike populations (one panel each, shared time axis), drawn by
 * {@link spikeRaster} (with more than `maxSpikes` spikes, default 200 000: spike-count heatmaps).
 */
export function rasterFromRecordings(title: string, populations: readonly { name: string; spikes: Recording | RecordingSource }[], options: RecordingOptions & RasterOptions = {}): Figure {
  checkOptionKeys('options', options, RASTER_FROM_RECORDINGS_OPTION_KEYS);
  const at = { dt: options.dt, batch: options.batch };
  return spikeRaster(title, populations.map((p) => spikesFromRecording(p.spikes, { ...at, name: p.name })), pick(options, RASTER_OPTION_KEYS));
}

/** One panel of {@link tracesFromRecordings}. */
export interface RecordingPanel {
  /** The recording (or its source) to plot from. */
  recording: Recording | RecordingSource;
  /** Flat neuron indices: one line each. */
  neurons: readonly number[];
  /** Panel title. */
  title?: string;
  /** Y axis title. */
  yTitle?: string;
  /** Line name prefix (default `neuron`: lines are named `<prefix> <index>`). */
  prefix?: string;
  /** A dashed horizontal line at `value` (e.g. the threshold), named `name`. */
  reference?: {
    /** Legend name of the line. */
    name: string;
    /** Its y value (a finite number). */
    value: number;
  };
}

/** The keys of {@link RecordingPanel}: other keys make {@link tracesFromRecordings} throw. */
export const RECORDING_PANEL_KEYS = optionKeys<RecordingPanel>()(['recording', 'neurons', 'title', 'yTitle', 'prefix', 'reference']);

/**
 * Stacked line panels from recordings, e.g. voltages and synaptic currents of a few neurons.
 * All recordings must have the same record times. Drawn by {@link timeSeriesFigure}: a line of more
 * than `maxPoints` records (default 8000) is drawn as its min/max envelope and named so.
 * @throws CinderArgumentError for a panel (or its `reference`) with an unknown key, a reference value that is not finite, no panel, or recordings with other record times
 */
export function tracesFromRecordings(title: string, panels: readonly RecordingPanel[], options: RecordingOptions & TimeSeriesOptions = {}): Figure {
  checkOptionKeys('options', options, TRACES_FROM_RECORDINGS_OPTION_KEYS);
  if (!Array.isArray(panels) || panels.length === 0) throw new CinderArgumentError('panels', panels, 'at least one panel');
  panels.forEach((p, i) => {
    if (p === null || typeof p !== 'object') throw new CinderArgumentError(`panels[${i}]`, p, 'an object {recording, neurons, title?, yTitle?, prefix?, reference?}');
    checkOptionKeys(`panels[${i}]`, p, RECORDING_PANEL_KEYS);
    if (p.reference !== undefined) {
      checkOptionKeys(`panels[${i}].reference`, p.reference, ['name', 'value']);
      checkFinite(`panels[${i}].reference.value`, p.reference.value);
    }
  });
  let time: Float64Array | null = null;
  const out: SeriesPanel[] = panels.map((p, i) => {
    const r = seriesFromRecording(p.recording, p.neurons, { dt: options.dt, batch: options.batch, prefix: p.prefix });
    if (time && (time.length !== r.time.length || time.some((t, k) => t !== r.time[k]))) {
      throw new CinderArgumentError(`panels[${i}].recording`, `${r.time.length} records`, 'the same record times as the first panel');
    }
    time ??= r.time;
    const series = [...r.series];
    if (p.reference) series.push({ name: p.reference.name, values: new Float64Array(r.time.length).fill(p.reference.value), dashed: true });
    return { title: p.title, yTitle: p.yTitle, series };
  });
  return timeSeriesFigure(title, time!, out, pick(options, TIME_SERIES_OPTION_KEYS));
}
