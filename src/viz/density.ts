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
 * Most cells (neuron rows · time bins) of one spike-count panel: `spikeCountPanel` refuses more,
 * and `spikeRaster` refuses `maxTimeBins · maxRows` above it. The page writes each cell as its
 * count and a comma: measured with `figureHtml`, a panel of 4·10^6 cells (400 × 10 000 or
 * 2000 × 2000) is 8.1 MB of HTML with counts below 10, 11.7 MB below 100 and 15.7 MB below 1000
 * (plus 4.8 MB of plotly.js when inlined), for each population; 10^8 cells (both axes at their
 * limit of 10 000) would be 200–400 MB, past V8's longest string.
 */
export const MAX_DENSITY_CELLS = 4_000_000;

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

/**
 * Neuron rows: row r holds neurons `first + r·size` … `min(first + (r+1)·size − 1, last)`: every row
 * `size` neurons but the last, which may hold fewer (neurons up to `last`).
 */
export interface NeuronRows {
  /** First neuron of row 0. */
  first: number;
  /** Neurons per row (>= 1). */
  size: number;
  /** Number of rows (>= 1). */
  count: number;
  /**
   * Last neuron of the last row, an integer in `[first + (count−1)·size, first + count·size − 1]`
   * (set by {@link neuronRows}: ⌊hi⌋); when absent the last row is full (`first + count·size − 1`).
   */
  last?: number;
}

/** The last neuron of `rows` (its `last`, else the end of a full last row). */
export function lastNeuron(rows: NeuronRows): number {
  return rows.last ?? rows.first + rows.count * rows.size - 1;
}

/**
 * The middle neuron of row r of `rows`: `(a + b)/2` for the neurons `a = first + r·size` …
 * `b = min(a + size − 1, last)` it holds (exact in float64: integers below 2^53 and one halving).
 */
export function rowMiddle(rows: NeuronRows, r: number): number {
  const a = rows.first + r * rows.size;
  return (a + Math.min(a + rows.size - 1, lastNeuron(rows))) / 2;
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
 * the smallest difference between distinct counted times larger than `(b − a)·1e-9`, the step `dt`
 * is q refined along the sorted times (for each time t: `j = round((t − a)/dt)`, and `dt = (t − a)/j`
 * when j >= 1; for a grid, dt = (b − a)/N for its N steps from a to b, also where the rounding of
 * the times puts q off dt: float32 times, 6e-4 of a step at t = 10^4·dt), the bins run from `a − dt/2` (grid times sit
 * in bin middles, safe from rounding), are `dt·⌈S/maxBins⌉` wide for the `S = (b − a + dt)/dt`
 * steps spanned (a whole number of steps), and
 * `⌈S/⌈S/maxBins⌉⌉` of them reach past `b` (S taken as the nearest whole number when within a
 * quarter step of it: rounding; a spike beyond the last bin is counted in it). Without such a `q` (at most one distinct time) the
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
  // q, the smallest gap, is off dt by the rounding of the times (ulp(t): 1e-11 relative at t = 1e4·dt
  // in float64, but 6e-4 at t = 1000, dt = 0.1 in float32, i.e. 6 steps over 10^4: bins of 11 steps
  // that drift across the grid). Refined along the times, each time t is j = round((t − a)/dt) steps
  // from a and dt becomes (t − a)/j: j stays exact while dt's error times the steps stays under half a
  // step, and ends as (b − a)/N for the N steps from a to b
  let dt = q;
  for (let i = 1; i < n; i++) {
    const d = sorted[i]! - a;
    const j = Math.round(d / dt);
    if (j >= 1) dt = d / j;
  }
  return { ...gridTimeBins(a, b, dt, maxBins), lo, hi };
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
  if (lo === Infinity) return { first: 0, size: 1, count: 1, last: 0 };
  return neuronRows(lo, hi, maxRows);
}

/**
 * Neuron rows for the neuron indices `lo` … `hi` (known up front, e.g. 0 … n − 1 for n neurons),
 * at most `maxRows` of them: from ⌊lo⌋ to ⌊hi⌋ (`last`), `⌈span/maxRows⌉` neurons per row with
 * `span = ⌊hi⌋ − ⌊lo⌋ + 1` (one neuron per row when they fit), `⌈span/size⌉` rows; the last one
 * holds `span − (count − 1)·size` neurons.
 * @throws CinderArgumentError unless lo and hi are finite with lo <= hi, and maxRows an integer >= 1
 */
export function neuronRows(lo: number, hi: number, maxRows = DENSITY_ROWS): NeuronRows {
  if (!Number.isFinite(lo)) throw new CinderArgumentError('lo', lo, 'a finite neuron index');
  if (!Number.isFinite(hi) || !(hi >= lo)) throw new CinderArgumentError('hi', hi, `a finite neuron index >= lo = ${lo}`);
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new CinderArgumentError('maxRows', maxRows, 'an integer >= 1');
  const first = Math.floor(lo);
  const span = Math.floor(hi) - first + 1;
  const size = Math.ceil(span / maxRows);
  return { first, size, count: Math.ceil(span / size), last: Math.floor(hi) };
}

/**
 * How far (in steps) the step count `S = (last − first + dt)/dt` of {@link gridTimeBins} may lie
 * from a whole number and still be taken as that number: rounding of `last − first` moves it by
 * about ulp(last)/dt (`S·2^-52` in float64; float32 times, as {@link densityTimeBins} may measure dt
 * from, `S·2^-24`: 0.06 steps at 10^6 steps); a quarter step leaves the last time a quarter step
 * inside the last bin.
 */
const STEP_SNAP = 0.25;

/**
 * Time bins, known up front, for spike times on the step grid `first + k·dt` from `first` to
 * `last` (e.g. a run's steps, when its spikes are read in pieces and {@link densityTimeBins} cannot
 * see them all): the bins {@link densityTimeBins} makes when the first and last counted times are
 * `first` and `last` and the smallest gap is `dt` — they start at `first − dt/2`, are
 * `dt·⌈S/maxBins⌉` wide for the `S = (last − first + dt)/dt` steps (S taken as the nearest whole
 * number when within a quarter step of it: rounding), and `⌈S/⌈S/maxBins⌉⌉` of them reach past `last`. Counted are times in
 * `[first − dt/2, start + count·width]` (grid times off by rounding included; a time beyond the
 * last bin's edge by rounding is counted in it).
 * @throws CinderArgumentError unless first, last are finite with first <= last, dt > 0 finite, maxBins an integer >= 1
 */
export function gridTimeBins(first: number, last: number, dt: number, maxBins = DENSITY_TIME_BINS): TimeBins {
  if (!Number.isFinite(first)) throw new CinderArgumentError('first', first, 'a finite time');
  if (!Number.isFinite(last) || !(last >= first)) throw new CinderArgumentError('last', last, `a finite time >= first = ${first}`);
  if (!Number.isFinite(dt) || !(dt > 0)) throw new CinderArgumentError('dt', dt, 'a finite number > 0');
  if (!Number.isInteger(maxBins) || maxBins < 1) throw new CinderArgumentError('maxBins', maxBins, 'an integer >= 1');
  const raw = (last - first + dt) / dt;
  // S off a whole number by rounding only (far less than STEP_SNAP steps) is that whole number; the
  // ceilings are then exact, so count·perBin >= S and the last time lies inside the bins
  const whole = Math.round(raw);
  const steps = Math.abs(raw - whole) <= STEP_SNAP ? whole : raw;
  const perBin = Math.max(1, Math.ceil(steps / maxBins));
  const count = Math.max(1, Math.min(maxBins, Math.ceil(steps / perBin)));
  const start = first - dt / 2;
  return { start, width: dt * perBin, count, lo: start, hi: start + count * dt * perBin };
}

/**
 * Spike counts of one population per (neuron row, time bin), row-major `[rows.count, bins.count]`:
 * a spike at time t of neuron n is counted in bin `⌊(t − start)/width⌋` (clamped to the last bin
 * against rounding) and row `⌊(⌊n⌋ − first)/size⌋` when t lies in `[bins.lo, bins.hi]`, ⌊n⌋ in
 * `[first, last]` ({@link NeuronRows.last}) and both are finite; other spikes are not counted.
 */
export function spikeCounts(events: SpikeEvents, bins: TimeBins, rows: NeuronRows): Float64Array {
  const counts = new Float64Array(rows.count * bins.count);
  addSpikeCounts(counts, events, bins, rows);
  return counts;
}

/** Adds the counts of {@link spikeCounts} to `counts`; returns the number of spikes counted. */
function addSpikeCounts(counts: Float64Array, events: SpikeEvents, bins: TimeBins, rows: NeuronRows): number {
  let counted = 0;
  const top = lastNeuron(rows);
  for (let i = 0; i < events.times.length; i++) {
    const t = events.times[i]!;
    const n = events.neurons[i]!;
    if (!drawable(t, n) || !(t >= bins.lo && t <= bins.hi)) continue;
    const r = Math.floor((Math.floor(n) - rows.first) / rows.size);
    if (r < 0 || r >= rows.count || Math.floor(n) > top) continue;
    const k = Math.min(bins.count - 1, Math.max(0, Math.floor((t - bins.start) / bins.width)));
    const c = r * bins.count + k;
    counts[c] = counts[c]! + 1;
    counted++;
  }
  return counted;
}

/**
 * Spike counts of one population accumulated from pieces of its spikes (e.g. read from a file a
 * piece at a time), with bins and rows fixed up front ({@link gridTimeBins}, {@link neuronRows}):
 * after adding every piece, {@link SpikeCountGrid.counts} equals {@link spikeCounts} of all spikes
 * at once, and memory holds one count per cell, never the spikes.
 */
export class SpikeCountGrid {
  /** Counts per (neuron row, time bin), row-major `[rows.count, bins.count]`. */
  readonly counts: Float64Array;
  /** Spikes given to {@link SpikeCountGrid.add}, counted or not. */
  seen = 0;
  /** Spikes counted (finite, in the bins' time range and within the rows). */
  counted = 0;

  /**
   * @param bins - the time bins (see {@link TimeBins})
   * @param rows - the neuron rows (see {@link NeuronRows})
   * @throws CinderArgumentError for bins or rows that are not well formed, or more than
   *   {@link MAX_DENSITY_CELLS} cells `rows.count · bins.count` (the most `spikeCountPanel` draws;
   *   refused before anything is allocated)
   */
  constructor(readonly bins: TimeBins, readonly rows: NeuronRows) {
    checkTimeBins(bins);
    checkNeuronRows(rows);
    const cells = rows.count * bins.count;
    if (cells > MAX_DENSITY_CELLS) {
      throw new CinderArgumentError('rows.count · bins.count', cells, `at most ${MAX_DENSITY_CELLS} cells per grid, the most a spike-count panel draws (rows.count ${rows.count} · bins.count ${bins.count}; fewer rows or bins)`);
    }
    this.counts = new Float64Array(cells);
  }

  /**
   * Counts one piece of spikes (times and neuron indices, parallel arrays), as {@link spikeCounts}.
   * @throws CinderArgumentError when times and neurons differ in length (nothing counted)
   */
  add(times: ArrayLike<number>, neurons: ArrayLike<number>): void {
    if (times.length !== neurons.length) throw new CinderArgumentError('neurons', `${neurons.length} indices`, `one per spike time (${times.length})`);
    this.counted += addSpikeCounts(this.counts, { times, neurons }, this.bins, this.rows);
    this.seen += times.length;
  }
}

/** Throws unless `bins` is a {@link TimeBins} with finite start, width > 0, an integer count >= 1 and lo <= hi. */
export function checkTimeBins(bins: TimeBins, param = 'bins'): TimeBins {
  const ok = bins !== null && typeof bins === 'object' && Number.isFinite(bins.start) && Number.isFinite(bins.width) && bins.width > 0
    && Number.isInteger(bins.count) && bins.count >= 1 && typeof bins.lo === 'number' && typeof bins.hi === 'number' && bins.lo <= bins.hi;
  if (!ok) throw new CinderArgumentError(param, bins, '{start, width, count, lo, hi}: finite start, width > 0, integer count >= 1, lo <= hi');
  return bins;
}

/**
 * Throws unless `rows` is a {@link NeuronRows} with an integer first, size >= 1 and count >= 1, and
 * `last`, when given, an integer in the last row (`[first + (count−1)·size, first + count·size − 1]`).
 */
export function checkNeuronRows(rows: NeuronRows, param = 'rows'): NeuronRows {
  const ok = rows !== null && typeof rows === 'object' && Number.isInteger(rows.first) && Number.isInteger(rows.size) && rows.size >= 1 && Number.isInteger(rows.count) && rows.count >= 1;
  if (!ok) throw new CinderArgumentError(param, rows, '{first, size, count, last?}: integers, size >= 1, count >= 1');
  if (rows.last !== undefined) {
    const lo = rows.first + (rows.count - 1) * rows.size;
    const hi = rows.first + rows.count * rows.size - 1;
    if (!Number.isInteger(rows.last) || rows.last < lo || rows.last > hi) throw new CinderArgumentError(`${param}.last`, rows.last, `an integer in [${lo}, ${hi}] (a neuron of the last row)`);
  }
  return rows;
}
