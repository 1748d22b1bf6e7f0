/**
 * Spike density: spike counts per (time bin, neuron row), the bounded-size stand-in for a raster
 * of too many spikes to draw one by one.
 * @module
 */
import { CinderArgumentError } from '../core/errors.js';
import type { SpikeEvents } from './raster.js';

/** Default `maxSpikes` of {@link spikeRaster}: more spikes than this are drawn as a density. */
export const DEFAULT_MAX_SPIKES = 200_000;

/** Most time bins of a density ({@link densityTimeBins}). */
export const DENSITY_TIME_BINS = 1000;

/** Most neuron rows per population of a density ({@link densityRows}). */
export const DENSITY_ROWS = 200;

/**
 * Throws unless `value` is a valid `maxSpikes`: an integer >= 0, or `Infinity` (always one dot per
 * spike). Returns `value`.
 */
export function checkMaxSpikes(value: number, param = 'maxSpikes'): number {
  if (value === Infinity) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new CinderArgumentError(param, value, 'an integer >= 0, or Infinity (one dot per spike)');
  }
  return value;
}

/** Equal-width time bins: bin k is `[start + k·width, start + (k+1)·width)`, k = 0 … count − 1. */
export interface TimeBins {
  /** Left edge of bin 0. */
  start: number;
  /** Bin width (> 0). */
  width: number;
  /** Number of bins (>= 1). */
  count: number;
  /** Spikes at times in `[lo, hi]` are counted, others are not. */
  lo: number;
  /** See `lo`. */
  hi: number;
}

/** Neuron rows: row r holds neurons `first + r·size` … `first + (r+1)·size − 1`. */
export interface NeuronRows {
  /** First neuron of row 0. */
  first: number;
  /** Neurons per row (>= 1). */
  size: number;
  /** Number of rows (>= 1). */
  count: number;
}

/** True when a spike (t, n) is drawable: both finite. */
function drawable(t: number, n: number): boolean {
  return Number.isFinite(t) && Number.isFinite(n);
}

/**
 * Time bins shared by the populations' densities, at most `maxBins` of them.
 *
 * Counted are the drawable spikes (finite time and neuron) with time in `[lo, hi]`: `timeRange`
 * when given, else the smallest and largest drawable time. Spike times usually lie on a step grid
 * `t0 + k·dt`; bins that are not a whole number of steps wide would hold alternately ⌊w/dt⌋ and
 * ⌈w/dt⌉ steps and draw false stripes. So, with `a` and `b` the first and last counted times and `q`
 * the smallest difference between distinct counted times larger than `(b − a)·1e-9` (dt for a
 * grid), the bins run from `a − q/2` (grid times sit in bin middles, safe from rounding), are
 * `q·⌈S/maxBins⌉` wide for the `S = (b − a + q)/q` steps spanned (a whole number of steps), and
 * `⌈S/⌈S/maxBins⌉⌉` of them reach past `b` (both ceilings forgive 1e-6 relative of rounding; a
 * spike beyond the last bin is counted in it). Without such a `q` (at most one distinct time) the
 * bins are `maxBins` equal parts of `[lo, hi]`, or one bin of width 1 around a single time.
 */
export function densityTimeBins(populations: readonly SpikeEvents[], timeRange?: readonly [number, number], maxBins = DENSITY_TIME_BINS): TimeBins {
  const counted = (t: number, n: number): boolean => drawable(t, n) && (!timeRange || (t >= timeRange[0] && t <= timeRange[1]));
  let n = 0;
  for (const p of populations) for (let i = 0; i < p.times.length; i++) if (counted(p.times[i]!, p.neurons[i]!)) n++;
  const sorted = new Float64Array(n);
  let k = 0;
  for (const p of populations) for (let i = 0; i < p.times.length; i++) if (counted(p.times[i]!, p.neurons[i]!)) sorted[k++] = p.times[i]!;
  sorted.sort();
  const [lo, hi] = timeRange ?? (n > 0 ? [sorted[0]!, sorted[n - 1]!] : [0, 0]);
  const a = n > 0 ? sorted[0]! : lo;
  const b = n > 0 ? sorted[n - 1]! : hi;
  const tol = (b - a) * 1e-9;
  let q = Infinity;
  for (let i = 1; i < n; i++) {
    const d = sorted[i]! - sorted[i - 1]!;
    if (d > tol && d < q) q = d;
  }
  if (q === Infinity) {
    if (hi > lo) return { start: lo, width: (hi - lo) / maxBins, count: maxBins, lo, hi };
    return { start: lo - 0.5, width: 1, count: 1, lo, hi };
  }
  // q, the smallest gap, can fall short of dt by rounding (t's ulp: about 1e-11 relative at t = 1e4·dt),
  // which would make S a little more than a whole number: the ceilings forgive 1e-6 relative
  const steps = (b - a + q) / q;
  const perBin = Math.max(1, Math.ceil((steps / maxBins) * (1 - 1e-6)));
  const count = Math.max(1, Math.min(maxBins, Math.ceil((steps / perBin) * (1 - 1e-6))));
  return { start: a - q / 2, width: q * perBin, count, lo, hi };
}

/**
 * Neuron rows of one population, at most `maxRows` of them: from ⌊smallest⌋ to ⌊largest⌋ neuron
 * index of its drawable spikes, `⌈span/maxRows⌉` neurons per row (one neuron per row when they fit).
 */
export function densityRows(events: SpikeEvents, maxRows = DENSITY_ROWS): NeuronRows {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < events.neurons.length; i++) {
    const v = events.neurons[i]!;
    if (!drawable(events.times[i]!, v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return { first: 0, size: 1, count: 1 };
  const first = Math.floor(lo);
  const span = Math.floor(hi) - first + 1;
  const size = Math.ceil(span / maxRows);
  return { first, size, count: Math.ceil(span / size) };
}

/**
 * Spike counts of one population per (neuron row, time bin), row-major `[rows.count, bins.count]`:
 * a spike at time t of neuron n is counted in bin `⌊(t − start)/width⌋` (clamped to the last bin
 * against rounding) and row `⌊(⌊n⌋ − first)/size⌋` when t lies in `[bins.lo, bins.hi]` and both are
 * finite; other spikes are not counted.
 */
export function spikeCounts(events: SpikeEvents, bins: TimeBins, rows: NeuronRows): Float64Array {
  const counts = new Float64Array(rows.count * bins.count);
  for (let i = 0; i < events.times.length; i++) {
    const t = events.times[i]!;
    const n = events.neurons[i]!;
    if (!drawable(t, n) || !(t >= bins.lo && t <= bins.hi)) continue;
    const r = Math.floor((Math.floor(n) - rows.first) / rows.size);
    if (r < 0 || r >= rows.count) continue;
    const k = Math.min(bins.count - 1, Math.max(0, Math.floor((t - bins.start) / bins.width)));
    const c = r * bins.count + k;
    counts[c] = counts[c]! + 1;
  }
  return counts;
}
