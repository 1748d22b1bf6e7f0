/**
 * Tuning widths (FWHM, cm) of a layer's cells over the test sweep, as the original's
 * `_tuning_fwhm_cm` defines them (float64 throughout):
 *
 * 1. Position bins: edges e_k = x_min + k·(x_max − x_min)/n_bins, k = 0 … n_bins (numpy `linspace`,
 *    e_{n_bins} = x_max exactly), over the min … max of the test trace x(t) — the whole sweep, not
 *    the PV evaluation window; Δ = e_1 − e_0. Step t belongs to bin b(t) = #{k : e_k ≤ x(t)} − 1
 *    clipped to [0, n_bins − 1] (numpy `digitize`; x = x_max joins the last bin).
 * 2. Occupancy T_b = dt·#{t : b(t) = b} (s).
 * 3. Tuning curve of cell i: r_i,b = c_i,b / max(T_b, 1e-9) (Hz), c_i,b = number of spikes of i in
 *    steps of bin b. No smoothing, no baseline subtraction.
 * 4. A cell is valid when its peak p_i = max_b r_i,b ≥ `minPeakHz` (1 Hz; a cell that never fires
 *    has p = 0 and is left out). Its width counts bins, not interpolated crossings:
 *    FWHM_i = Δ·#{b : r_i,b ≥ p_i/2} — every bin at or above half the peak, contiguous or not
 *    (the lobes of a multimodal curve add up).
 * 5. Aggregate over the valid cells: mean and sample SD (ddof = 1) of FWHM_i and their number;
 *    mean and SD are NaN when fewer than 2 cells are valid (or the trace has < 2 steps or
 *    x_max ≤ x_min; then n_valid = 0).
 *
 * The binning error of the count: for a curve whose half-maximum crossings lie inside bins, the
 * counted width differs from the continuous FWHM by less than one bin per crossing (|W − FWHM| < 2Δ
 * in general; < Δ for a symmetric single peak centred in a bin, where W is an odd number of bins).
 *
 * The original maps a spike at time t to step ⌊(t − t_test)/dt⌋ (dropped if negative, clipped to the
 * last step); Cinder passes that step index (`spikeStep`) directly, without the float rounding of a
 * time round trip.
 * @module
 */
import { CinderArgumentError } from '../../src/core/errors.js';

/** Inputs of {@link tuningFwhmCm}. */
export interface TuningInput {
  /** Test step of each spike, counted from the start of the test (⌊(t − t_test)/dt⌋). */
  spikeStep: ArrayLike<number>;
  /** Cell index of each spike (spikes outside [0, n) are ignored). */
  spikeI: ArrayLike<number>;
  /** Number of cells of the layer. */
  n: number;
  /** Stimulus position (cm) per test step (its length is the number of steps). */
  xCm: ArrayLike<number>;
  /** Step (s). */
  dtS: number;
  /** Number of position bins (the original's 50). */
  nBins?: number;
  /** Smallest peak rate (Hz) of a counted cell (the original's 1 Hz). */
  minPeakHz?: number;
}

/** Output of {@link tuningCurves}. */
export interface TuningCurves {
  /** Bin edges (cm), n_bins + 1. */
  edges: Float64Array;
  /** Bin width Δ = e_1 − e_0 (cm). */
  binWidthCm: number;
  /** Time spent in each bin (s). */
  occupancyS: Float64Array;
  /** Rates (Hz), row-major [n·n_bins]. */
  rates: Float64Array;
}

/** Output of {@link tuningFwhmCm}. */
export interface TuningWidths {
  /** Mean FWHM (cm) over the valid cells; NaN with fewer than 2. */
  meanCm: number;
  /** Sample SD (ddof 1) of FWHM (cm) over the valid cells; NaN with fewer than 2. */
  sdCm: number;
  /** Number of valid cells (peak ≥ minPeakHz). */
  nValid: number;
  /** FWHM (cm) per cell; NaN for cells that are not valid. */
  fwhmCm: Float64Array;
}

function check(inp: TuningInput): { nBins: number; minPeakHz: number } {
  const nBins = inp.nBins ?? 50;
  const minPeakHz = inp.minPeakHz ?? 1;
  if (!Number.isInteger(inp.n) || inp.n < 1) throw new CinderArgumentError('n', inp.n, 'a positive integer (cells of the layer)');
  if (!Number.isInteger(nBins) || nBins < 1) throw new CinderArgumentError('nBins', nBins, 'a positive integer');
  if (!(inp.dtS > 0)) throw new CinderArgumentError('dtS', inp.dtS, 'a step > 0 (s)');
  if (!(minPeakHz >= 0)) throw new CinderArgumentError('minPeakHz', minPeakHz, 'a rate ≥ 0 (Hz)');
  if (inp.spikeStep.length !== inp.spikeI.length) throw new CinderArgumentError('spikeI', `${inp.spikeI.length} entries`, `one per spike step (${inp.spikeStep.length})`);
  return { nBins, minPeakHz };
}

/**
 * Tuning curves r_i,b = c_i,b / max(T_b, 1e-9) (Hz) on n_bins equal position bins over min … max of
 * the trace (steps 1–3 of the module description); null when the trace has < 2 steps or no extent.
 */
export function tuningCurves(inp: TuningInput): TuningCurves | null {
  const { nBins } = check(inp);
  const nT = inp.xCm.length;
  if (nT < 2) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < nT; t++) {
    lo = Math.min(lo, inp.xCm[t]!);
    hi = Math.max(hi, inp.xCm[t]!);
  }
  if (!(hi > lo)) return null;
  // numpy linspace: start + k·step, the last edge set to stop
  const step = (hi - lo) / nBins;
  const edges = new Float64Array(nBins + 1);
  for (let k = 0; k < nBins; k++) edges[k] = lo + k * step;
  edges[nBins] = hi;
  const binWidthCm = edges[1]! - edges[0]!;
  // digitize (right = false): the number of edges ≤ x, minus 1, clipped
  const binOf = new Int32Array(nT);
  const occupancyS = new Float64Array(nBins);
  for (let t = 0; t < nT; t++) {
    const x = inp.xCm[t]!;
    let a = 0;
    let b = nBins + 1;
    while (a < b) {
      const m = (a + b) >> 1;
      if (edges[m]! <= x) a = m + 1;
      else b = m;
    }
    const bin = Math.min(nBins - 1, Math.max(0, a - 1));
    binOf[t] = bin;
    occupancyS[bin] += 1;
  }
  for (let b = 0; b < nBins; b++) occupancyS[b] = occupancyS[b]! * inp.dtS;
  const n = inp.n;
  const rates = new Float64Array(n * nBins);
  for (let k = 0; k < inp.spikeStep.length; k++) {
    const s = inp.spikeStep[k]!;
    const i = inp.spikeI[k]!;
    if (!(s >= 0) || !(i >= 0 && i < n)) continue;
    rates[i * nBins + binOf[Math.min(nT - 1, Math.floor(s))]!] += 1;
  }
  for (let i = 0; i < n; i++) for (let b = 0; b < nBins; b++) rates[i * nBins + b] = rates[i * nBins + b]! / Math.max(occupancyS[b]!, 1e-9);
  return { edges, binWidthCm, occupancyS, rates };
}

/**
 * FWHM tuning widths (cm) of a layer: per valid cell (peak ≥ minPeakHz) Δ·#{b : r_b ≥ peak/2}; mean,
 * sample SD (ddof 1) and count over the valid cells (module description, steps 4–5).
 */
export function tuningFwhmCm(inp: TuningInput): TuningWidths {
  const { nBins, minPeakHz } = check(inp);
  const fwhmCm = new Float64Array(inp.n).fill(NaN);
  const c = tuningCurves(inp);
  if (c === null) return { meanCm: NaN, sdCm: NaN, nValid: 0, fwhmCm };
  const widths: number[] = [];
  for (let i = 0; i < inp.n; i++) {
    let peak = 0;
    for (let b = 0; b < nBins; b++) peak = Math.max(peak, c.rates[i * nBins + b]!);
    if (peak < minPeakHz) continue;
    const half = peak / 2;
    let above = 0;
    for (let b = 0; b < nBins; b++) if (c.rates[i * nBins + b]! >= half) above++;
    fwhmCm[i] = above * c.binWidthCm;
    widths.push(fwhmCm[i]!);
  }
  if (widths.length < 2) return { meanCm: NaN, sdCm: NaN, nValid: widths.length, fwhmCm };
  const mean = widths.reduce((a, w) => a + w, 0) / widths.length;
  const sd = Math.sqrt(widths.reduce((a, w) => a + (w - mean) ** 2, 0) / (widths.length - 1));
  return { meanCm: mean, sdCm: sd, nValid: widths.length, fwhmCm };
}
