/**
 * Population-vector (PV) map-quality metrics of the lateral-line model, computed exactly as the
 * original's `pv_map_quality_from_ts_spikes` (float64 throughout):
 *
 * 1. TS spikes binned in dt bins from `startS` (or by their step) as rates (1/dt per spike); bins outside the
 *    evaluation window [xMin, xMax] (when given) zeroed; each neuron's rate smoothed with a centred
 *    boxcar of round(0.02/dt) bins (Python's round, half to even) (numpy `convolve(..., mode="same")`).
 * 2. Neuron k decodes to φ_k = 2πk/n; z(t) = Σ r_k e^{iφ_k} / Σ r_k; θ̂ = arg z mod 2π, NaN where
 *    Σ r ≤ 1e-12.
 * 3. θ_true = 2π(x − min x)/(ptp x + 1e-12), or 2π(x − xMin)/(xMax − xMin) inside the window.
 * 4. δ = wrap(θ̂ − θ_true) into [−π, π).
 * 5. n_pos_bins equal bins of θ_true on [0, 2π) with numpy's linspace edges b·(2π/n_pos_bins): bias_b = circular mean of δ in the bin,
 *    σ_trial,b = Mardia circular std of wrap(δ − bias_b) (0 for one sample).
 * 6. sigma_theta = Mardia circular std √(−2 ln R̄) of the biases (fallback: of δ; π if nothing
 *    decodes); delta_trial = √(mean_b σ_trial,b²); valid_fraction = fraction of bins in the window
 *    with finite θ̂.
 *
 * After the test the same function also runs on the LL layer's spikes (n = n_ll, the original's
 * `pvq_ll`: `sigma_theta_ll_rad`, `delta_trial_ll_rad`).
 * @module
 */
import { CinderArgumentError } from '../../src/core/errors.js';
import { roundHalfEven } from '../../src/neural/connections/sparse-topology.js';

/** Inputs of {@link pvMapQuality}. */
export interface PvInput {
  /**
   * Spike times (s), binned as ⌊(t − startS)/dt⌋ (the original's formula on float times). Give this
   * or {@link PvInput.spikeStep}.
   */
  spikeT?: ArrayLike<number>;
  /**
   * Bin of each spike: its integer step counted from bin 0 (exact; spike times built as
   * start + k·dt put about half of the spikes into bin k − 1 through float rounding). When given,
   * `spikeT` and `startS` are not used; non-integer steps are dropped.
   */
  spikeStep?: ArrayLike<number>;
  /** Spike neuron indices. */
  spikeI: ArrayLike<number>;
  /** Number of decoding neurons. */
  n: number;
  /** Number of time bins (length of the evaluated stretch in dt). */
  nT: number;
  /** Stimulus position (cm) per bin. */
  xCm: ArrayLike<number>;
  /** Time (s) of bin 0 (for `spikeT`; default 0). */
  startS?: number;
  /** Bin width (s). */
  dtS: number;
  /** Number of position bins (default min(100, n)). */
  nPosBins?: number;
  /** Evaluation window (cm): both or neither (checked), finite, evalXMinCm < evalXMaxCm. */
  evalXMinCm?: number;
  /** Upper bound of the evaluation window (cm), see {@link PvInput.evalXMinCm}. */
  evalXMaxCm?: number;
}

/** Outputs of {@link pvMapQuality}. */
export interface PvResult {
  sigmaThetaRad: number;
  deltaTrialRad: number;
  validFraction: number;
  /** Per-position-bin bias (NaN where empty). */
  bias: Float64Array;
  /** Bin centres (rad). */
  thetaBins: Float64Array;
  /** Decoded angle per time bin (NaN where nothing decodes). */
  thetaHat: Float64Array;
  /** True angle per time bin. */
  thetaTrue: Float64Array;
}

const TWO_PI = 2 * Math.PI;

/** Wraps into [−π, π) as numpy's (x + π) % 2π − π (floor modulo). */
export function wrapToPi(x: number): number {
  const y = x + Math.PI;
  return y - TWO_PI * Math.floor(y / TWO_PI) - Math.PI;
}

/** Mean sine and cosine of `x` (the resultant vector divided by the count). */
function meanSinCos(x: ArrayLike<number>): { s: number; c: number } {
  let s = 0;
  let c = 0;
  for (let i = 0; i < x.length; i++) {
    s += Math.sin(x[i]!);
    c += Math.cos(x[i]!);
  }
  return { s: s / x.length, c: c / x.length };
}

/** Circular mean atan2(mean sin, mean cos); NaN for no samples. */
export function circMean(x: ArrayLike<number>): number {
  if (x.length === 0) return NaN;
  const { s, c } = meanSinCos(x);
  return Math.atan2(s, c);
}

/** Mardia circular std √(−2 ln R̄) with R̄ clipped to [1e-12, 1]; NaN for no samples. */
export function circStd(x: ArrayLike<number>): number {
  if (x.length === 0) return NaN;
  const { s, c } = meanSinCos(x);
  const r = Math.min(1, Math.max(1e-12, Math.sqrt(c * c + s * s)));
  return Math.sqrt(-2 * Math.log(r));
}

/**
 * The PV map-quality metrics (see the module description).
 * @throws CinderArgumentError (before anything is computed) for n < 1, a number of bins nT that is
 *   not xCm's length, a non-finite position, dtS <= 0, a bad nPosBins, or an evaluation window with
 *   one bound only or evalXMinCm >= evalXMaxCm (each would otherwise decode to NaN, i.e. σθ = π, or
 *   evaluate without the window, without a word)
 */
export function pvMapQuality(inp: PvInput): PvResult {
  const { n, nT, dtS } = inp;
  // inputs that would otherwise give NaN angles (and so σθ = π) or no window without a word
  if (!Number.isInteger(n) || n < 1) throw new CinderArgumentError('n', n, 'a positive integer (decoding neurons)');
  if (!Number.isInteger(nT) || nT < 0) throw new CinderArgumentError('nT', nT, 'an integer >= 0 (time bins)');
  if (inp.xCm?.length !== nT) throw new CinderArgumentError('xCm', `${inp.xCm?.length} positions`, `one per time bin (${nT})`);
  for (let t = 0; t < nT; t++) if (!Number.isFinite(inp.xCm[t]!)) throw new CinderArgumentError(`xCm[${t}]`, inp.xCm[t], 'a finite position (cm)');
  if (!(typeof dtS === 'number' && Number.isFinite(dtS) && dtS > 0)) throw new CinderArgumentError('dtS', dtS, 'a bin width > 0 (s)');
  if (inp.startS !== undefined && !Number.isFinite(inp.startS)) throw new CinderArgumentError('startS', inp.startS, 'a finite time (s)');
  if (inp.nPosBins !== undefined && (!Number.isInteger(inp.nPosBins) || inp.nPosBins < 1)) throw new CinderArgumentError('nPosBins', inp.nPosBins, 'a positive integer');
  if ((inp.evalXMinCm === undefined) !== (inp.evalXMaxCm === undefined)) throw new CinderArgumentError('evalXMinCm', `${inp.evalXMinCm} with evalXMaxCm ${inp.evalXMaxCm}`, 'both bounds of the evaluation window or neither');
  if (inp.evalXMinCm !== undefined && !(Number.isFinite(inp.evalXMinCm) && Number.isFinite(inp.evalXMaxCm!) && inp.evalXMinCm < inp.evalXMaxCm!)) {
    throw new CinderArgumentError('evalXMinCm', `${inp.evalXMinCm} with evalXMaxCm ${inp.evalXMaxCm}`, 'a finite window evalXMinCm < evalXMaxCm (cm)');
  }
  const nPos = inp.nPosBins ?? Math.min(100, n);
  const byStep = inp.spikeStep !== undefined;
  const times = byStep ? inp.spikeStep! : inp.spikeT;
  if (times === undefined) throw new CinderArgumentError('spikeT', undefined, 'spike times (s) or spikeStep (bins)');
  if (times.length !== inp.spikeI.length) throw new CinderArgumentError('spikeI', `${inp.spikeI.length} entries`, `one per spike (${times.length})`);
  const startS = inp.startS ?? 0;
  const rates = new Float64Array(nT * n);
  for (let k = 0; k < times.length; k++) {
    const b = byStep ? times[k]! : Math.floor((times[k]! - startS) / dtS);
    const i = inp.spikeI[k]!;
    if (Number.isInteger(b) && b >= 0 && b < nT && Number.isInteger(i) && i >= 0 && i < n) rates[b * n + i] += 1 / dtS;
  }
  const useWin = inp.evalXMinCm !== undefined && inp.evalXMaxCm !== undefined;
  const ok = new Uint8Array(nT).fill(1);
  if (useWin) {
    for (let t = 0; t < nT; t++) {
      const x = inp.xCm[t]!;
      if (!(x >= inp.evalXMinCm! && x <= inp.evalXMaxCm!)) {
        ok[t] = 0;
        for (let i = 0; i < n; i++) rates[t * n + i] = 0;
      }
    }
  }
  // Centred boxcar ("same" mode): output t sums inputs t + j − floor((W − 1)/2), j < W... numpy
  // keeps the centre of the full convolution: out[t] = Σ_{u} in[u]·k[t + c − u], c = floor((W−1)/2)
  // for odd and even W alike (full length nT + W − 1, offset (W − 1) // 2).
  // Python's round (half to even): 0.02/0.0016 = 12.5 → 12, 0.02/0.008 = 2.5 → 2
  const W = Math.max(1, roundHalfEven(0.02 / Math.max(dtS, 1e-9)));
  let sm = rates;
  if (W > 1) {
    sm = new Float64Array(nT * n);
    const c = Math.floor((W - 1) / 2);
    // full[m] = Σ_{u=m−W+1}^{m} in[u]/W; same[t] = full[t + c]; a running sum per neuron, O(nT)
    const pre = new Float64Array(nT + 1);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < nT; t++) pre[t + 1] = pre[t]! + rates[t * n + i]!;
      for (let t = 0; t < nT; t++) {
        const m = t + c;
        const lo = Math.max(0, m - W + 1);
        const hi = Math.min(nT - 1, m);
        sm[t * n + i] = hi >= lo ? (pre[hi + 1]! - pre[lo]!) / W : 0;
      }
    }
  }
  const cosPhi = new Float64Array(n);
  const sinPhi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    cosPhi[k] = Math.cos((TWO_PI * k) / n);
    sinPhi[k] = Math.sin((TWO_PI * k) / n);
  }
  const thetaHat = new Float64Array(nT);
  for (let t = 0; t < nT; t++) {
    let den = 0;
    let re = 0;
    let im = 0;
    for (let k = 0; k < n; k++) {
      const r = sm[t * n + k]!;
      den += r;
      re += r * cosPhi[k]!;
      im += r * sinPhi[k]!;
    }
    if (den > 1e-12) {
      const a = Math.atan2(im / den, re / den);
      thetaHat[t] = a - TWO_PI * Math.floor(a / TWO_PI);
    } else thetaHat[t] = NaN;
  }
  const thetaTrue = new Float64Array(nT).fill(NaN);
  if (useWin) {
    const span = Math.max(inp.evalXMaxCm! - inp.evalXMinCm!, 1e-12);
    for (let t = 0; t < nT; t++) if (ok[t]) thetaTrue[t] = (TWO_PI * (inp.xCm[t]! - inp.evalXMinCm!)) / span;
  } else {
    let lo = Infinity;
    let hi = -Infinity;
    for (let t = 0; t < nT; t++) {
      lo = Math.min(lo, inp.xCm[t]!);
      hi = Math.max(hi, inp.xCm[t]!);
    }
    const span = hi - lo + 1e-12;
    for (let t = 0; t < nT; t++) thetaTrue[t] = (TWO_PI * (inp.xCm[t]! - lo)) / span;
  }
  const delta = new Float64Array(nT).fill(NaN);
  for (let t = 0; t < nT; t++) if (Number.isFinite(thetaHat[t]!) && Number.isFinite(thetaTrue[t]!)) delta[t] = wrapToPi(thetaHat[t]! - thetaTrue[t]!);
  // edges = numpy linspace(0, 2π, nPos + 1): b·(2π/nPos), the last set to 2π (not 2π·b/nPos, which
  // differs by an ulp for about half of the b: θ_true on a bin edge would change bin)
  const edgeStep = TWO_PI / nPos;
  const edge = (b: number): number => (b >= nPos ? TWO_PI : b * edgeStep);
  const perBin: number[][] = Array.from({ length: nPos }, () => []);
  for (let t = 0; t < nT; t++) {
    if (!Number.isFinite(delta[t]!)) continue;
    const th = thetaTrue[t]!;
    // bin b holds edges[b] <= θ < edges[b+1]; θ ≥ 2π (the window's right end) is in none
    if (!(th >= 0 && th < TWO_PI)) continue;
    let b = Math.min(nPos - 1, Math.floor(th / edgeStep));
    while (b > 0 && th < edge(b)) b--;
    while (b < nPos - 1 && th >= edge(b + 1)) b++;
    if (th >= edge(b) && th < edge(b + 1)) perBin[b]!.push(delta[t]!);
  }
  const bias = new Float64Array(nPos).fill(NaN);
  const sigmaTrial = new Float64Array(nPos).fill(NaN);
  const thetaBins = new Float64Array(nPos);
  for (let b = 0; b < nPos; b++) {
    thetaBins[b] = 0.5 * (edge(b) + edge(b + 1));
    const e = perBin[b]!;
    if (e.length >= 1) {
      const mu = circMean(e);
      bias[b] = mu;
      sigmaTrial[b] = e.length >= 2 ? circStd(e.map((d) => wrapToPi(d - mu))) : 0;
    }
  }
  const vb = Array.from(bias).filter((x) => Number.isFinite(x));
  const vd: number[] = [];
  for (let t = 0; t < nT; t++) if (Number.isFinite(delta[t]!) && ok[t]) vd.push(delta[t]!);
  const sigmaTheta = vb.length > 0 ? circStd(vb) : vd.length > 0 ? circStd(vd) : Math.PI;
  const st = Array.from(sigmaTrial).filter((x) => Number.isFinite(x));
  const deltaTrial = st.length > 0 ? Math.sqrt(st.reduce((a, x) => a + x * x, 0) / st.length) : vd.length > 0 ? circStd(vd) : Math.PI;
  const validFraction = nT > 0 ? vd.length / nT : 0;
  return { sigmaThetaRad: sigmaTheta, deltaTrialRad: deltaTrial, validFraction, bias, thetaBins, thetaHat, thetaTrue };
}
