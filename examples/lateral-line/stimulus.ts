/**
 * The lateral-line stimulus: the flow of a sphere moving past a line of neuromasts (a potential-flow
 * dipole), turned into afferent rates r = clip(r0 + A·v + η, 0, r_max); the training stream of held
 * snapshots, generated lazily one chunk (trial) at a time; and the continuous test sweep with
 * spatially correlated Ornstein–Uhlenbeck noise. All in float64, stored as float32 rates.
 * @module
 */
import { LaneRng, mixSeed } from '../../src/kernels/js/event-network.js';
import { roundHalfEven } from '../../src/neural/connections/sparse-topology.js';

/** Stimulus constants (cm, cm/s, Hz, s). */
export interface StimulusConstants {
  /** Sphere radius R (cm). */
  sphereRadiusCm: number;
  /** Length of the lateral line (cm); neuromasts are equispaced on [0, length]. */
  lengthCm: number;
  /** Mean and SD of the training distance when drawn from a normal (cm). */
  muDistanceCm: number;
  sigmaDistanceCm: number;
  /** Baseline rate r0 (Hz). */
  r0Hz: number;
  /** Maximum rate (Hz). */
  rmaxHz: number;
  /** Gain A (Hz per cm/s). */
  aPerCm: number;
  /** Noise SD σ (Hz) and OU time constant τ (s). */
  sigmaNoiseHz: number;
  tauNoiseS: number;
  /** Spatial correlation length of the noise (cm). */
  lNoiseCm: number;
}

/** The original's stimulus constants. */
export const STIMULUS: StimulusConstants = {
  sphereRadiusCm: 0.5, lengthCm: 4, muDistanceCm: 1.5, sigmaDistanceCm: 0.6, r0Hz: 40, rmaxHz: 200, aPerCm: 300,
  sigmaNoiseHz: 10, tauNoiseS: 0.1, lNoiseCm: 1,
};

/**
 * Along-body flow velocity (cm/s) at neuromasts (xi, 0) from a sphere at (X, D) moving with velocity
 * U·(eX, eY): with dx = xi − X, dy = −D, r² = max(dx² + dy², 1e-9), c = −U·R³/(2r⁵),
 * v = c·((2dx² − dy²)·eX + 3dx·dy·eY) (the x component; the sensor axis is (1, 0)).
 * At dx = 0 this is U·R³/(2D³)·eX; it vanishes at |dx| = D/√2.
 */
export function dipoleVelocity(xi: ArrayLike<number>, X: number, D: number, U: number, R: number, eX: number, eY = 0, out = new Float64Array(xi.length)): Float64Array {
  const dy = -D;
  for (let i = 0; i < xi.length; i++) {
    const dx = xi[i]! - X;
    const r2 = Math.max(dx * dx + dy * dy, 1e-9);
    const c = (-0.5 * U * R * R * R) / Math.pow(r2, 2.5);
    out[i] = c * ((2 * dx * dx - dy * dy) * eX + 3 * dx * dy * eY);
  }
  return out;
}

/**
 * Neuromast positions: n equispaced on [0, length] (cm), as numpy's linspace(0, length, n):
 * i·(length/(n − 1)), the last exactly `length` (not length·i/(n − 1), which differs by an ulp for
 * about half of the i).
 */
export function neuromastPositions(n: number, lengthCm: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) return out;
  const step = lengthCm / (n - 1);
  for (let i = 0; i < n - 1; i++) out[i] = i * step;
  out[n - 1] = lengthCm;
  return out;
}

/** Lower Cholesky factor of exp(−Δx²/(2ℓ²)) + 1e-12·I (row-major n×n, float64). */
export function noiseCholesky(xi: ArrayLike<number>, l: number): Float64Array {
  const n = xi.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const d = (xi[i]! - xi[j]!) / l;
    a[i * n + j] = Math.exp(-0.5 * d * d) + (i === j ? 1e-12 : 0);
  }
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j]!;
    for (let k = 0; k < j; k++) s -= L[j * n + k]! * L[j * n + k]!;
    const d = Math.sqrt(Math.max(s, 1e-300));
    L[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j]!;
      for (let k = 0; k < j; k++) t -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = t / d;
    }
  }
  return L;
}

/** y = L·z for a lower-triangular row-major L. */
function lowerMatVec(L: Float64Array, z: Float64Array, out: Float64Array): void {
  const n = z.length;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k <= i; k++) s += L[i * n + k]! * z[k]!;
    out[i] = s;
  }
}

/** Afferent-rate preprocessing: r' = max((r − subtract)·gain, 0). */
export interface RatePreprocess {
  /** Total baseline subtracted (Hz): the extra baseline, plus r0 in 'modulation' mode. */
  subtractHz: number;
  /** Gain (≥ 0). */
  gain: number;
}

/** Settings of the training stream. */
export interface TrainingStreamOptions {
  nLl: number;
  dtS: number;
  holdS: number;
  speedCmS: number;
  noiseScaleEarly: number;
  noiseScaleLate: number;
  noiseSwitchFraction: number;
  totalSteps: number;
  orderedSweeps: boolean;
  fixedDistance: boolean;
  bidirectional: boolean;
  distanceMinCm: number;
  distanceMaxCm: number;
  preprocess: RatePreprocess;
  constants?: StimulusConstants;
}

/**
 * The training stream of one seed: snapshot k (held `holdS`) places the sphere at x_k, the k-th
 * entry of the sweep of the n_ll positions linspace(0, L, n_ll) forward then backward (or of
 * shuffled blocks), with distance fixed (μ), uniform in [min, max] (min < max) or N(μ, σ) clamped
 * to [min, max], direction +1 (alternating when bidirectional), and spatially correlated noise
 * scaled early/late. Every snapshot's random draws come from a stream keyed by (seed, k), so any
 * chunk can be generated on its own (resume = regenerate from the step reached).
 */
export class TrainingStream {
  readonly xi: Float64Array;
  private readonly chol: Float64Array;
  private readonly c: StimulusConstants;
  readonly holdSteps: number;
  private readonly v = new Float64Array(0);
  private readonly z: Float64Array;
  private readonly eta: Float64Array;

  constructor(readonly seed: number, readonly o: TrainingStreamOptions) {
    this.c = o.constants ?? STIMULUS;
    this.xi = neuromastPositions(o.nLl, this.c.lengthCm);
    this.chol = noiseCholesky(this.xi, this.c.lNoiseCm);
    this.holdSteps = Math.max(1, roundHalfEven(o.holdS / o.dtS)); // numpy's round: 2.5 → 2
    this.v = new Float64Array(o.nLl);
    this.z = new Float64Array(o.nLl);
    this.eta = new Float64Array(o.nLl);
  }

  /** Position (cm) of snapshot k. */
  position(k: number): number {
    const n = this.o.nLl;
    if (this.o.orderedSweeps) {
      const m = k % (2 * n);
      const idx = m < n ? m : 2 * n - 1 - m;
      return this.xi[idx]!;
    }
    // Shuffled blocks of the n positions: block b is a Fisher–Yates permutation keyed by (seed, b).
    const b = Math.floor(k / n);
    const rng = new LaneRng(mixSeed(this.seed, 0x5b10c, b));
    const perm = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    return this.xi[perm[k % n]!]!;
  }

  /** Rates (Hz, after preprocessing) of snapshot k, and its position and distance. */
  snapshot(k: number, out: Float64Array): { x: number; d: number } {
    const o = this.o;
    const c = this.c;
    const rng = new LaneRng(mixSeed(this.seed, 0x7a1, k));
    let d: number;
    if (o.fixedDistance) d = c.muDistanceCm;
    else if (o.distanceMinCm < o.distanceMaxCm) d = o.distanceMinCm + (o.distanceMaxCm - o.distanceMinCm) * rng.uniform();
    else d = Math.min(o.distanceMaxCm, Math.max(o.distanceMinCm, c.muDistanceCm + c.sigmaDistanceCm * rng.normal()));
    const dir = !o.bidirectional || k % 2 === 0 ? 1 : -1;
    const x = this.position(k);
    const frac = (k * this.holdSteps) / Math.max(1, o.totalSteps - 1);
    const scale = frac < o.noiseSwitchFraction ? o.noiseScaleEarly : o.noiseScaleLate;
    dipoleVelocity(this.xi, x, d, o.speedCmS, c.sphereRadiusCm, dir, 0, this.v);
    if (scale !== 0) {
      for (let i = 0; i < o.nLl; i++) this.z[i] = rng.normal();
      lowerMatVec(this.chol, this.z, this.eta);
    } else this.eta.fill(0);
    for (let i = 0; i < o.nLl; i++) {
      const r = Math.min(c.rmaxHz, Math.max(0, c.r0Hz + c.aPerCm * this.v[i]! + scale * c.sigmaNoiseHz * this.eta[i]!));
      out[i] = Math.max(0, (r - o.preprocess.subtractHz) * o.preprocess.gain);
    }
    return { x, d };
  }

  /**
   * Rates [steps·n_ll] (row = step) and sphere position per step for steps [start, start+steps)
   * of the stream.
   */
  chunk(start: number, steps: number): { rates: Float32Array; x: Float64Array } {
    const n = this.o.nLl;
    const rates = new Float32Array(steps * n);
    const x = new Float64Array(steps);
    const row = new Float64Array(n);
    let k = -1;
    let pos = 0;
    for (let s = 0; s < steps; s++) {
      const kk = Math.floor((start + s) / this.holdSteps);
      if (kk !== k) {
        k = kk;
        pos = this.snapshot(k, row).x;
      }
      for (let i = 0; i < n; i++) rates[s * n + i] = row[i]!;
      x[s] = pos;
    }
    return { rates, x };
  }
}

/** The test sweep of one seed. */
export interface TestSweep {
  /** Times (s) of the test steps from the start of the test: k·dt. */
  tS: Float64Array;
  /** Sphere position (cm) per step. */
  xCm: Float64Array;
  /** Rates (Hz, preprocessed) [steps·n_ll]. */
  rates: Float32Array;
  /** Raw rates before preprocessing (Hz) [steps·n_ll] (for figures). */
  rawRates: Float32Array;
}

/** Settings of the test sweep. */
export interface TestSweepOptions {
  nLl: number;
  dtS: number;
  speedCmS: number;
  pathCm: number;
  distanceCm: number;
  direction: number;
  testNoiseHz: number;
  preprocess: RatePreprocess;
  constants?: StimulusConstants;
}

/**
 * The continuous test sweep: X(t) = x0 + U·dir·t with x0 = −0.5 (dir ≥ 0) or L + 0.5, t = k·dt for
 * k < n = count of arange(0, path/speed, dt), U = max(0.1, speed) cm/s (the original clamps the
 * sphere's speed, flow and motion alike, but not the duration); rates clip(r0 + A·v + η, 0, r_max) with OU noise
 * η ← η − dt·η/τ + √(2σ²dt/τ)·L·z (Euler–Maruyama, spatially correlated through the Cholesky factor
 * L), started at 0 and stepped before use. Optional extra i.i.d. noise N(0, testNoiseHz), clipped
 * at 0. Seeded from seed + 999 (and seed + 8888 for the extra noise).
 */
export function testSweep(seed: number, o: TestSweepOptions): TestSweep {
  const c = o.constants ?? STIMULUS;
  const duration = o.pathCm / Math.max(o.speedCmS, 1e-9);
  const n = arangeCount(duration, o.dtS);
  const xi = neuromastPositions(o.nLl, c.lengthCm);
  const chol = noiseCholesky(xi, c.lNoiseCm);
  const dir = o.direction >= 0 ? 1 : -1;
  const x0 = dir > 0 ? -0.5 : c.lengthCm + 0.5;
  const U = Math.max(0.1, o.speedCmS);
  const rng = new LaneRng(mixSeed(seed + 999, 0x7e57));
  const rng2 = new LaneRng(mixSeed(seed + 8888, 0x7e57));
  const eta = new Float64Array(o.nLl);
  const z = new Float64Array(o.nLl);
  const inc = new Float64Array(o.nLl);
  const v = new Float64Array(o.nLl);
  const gain = Math.sqrt((2 * c.sigmaNoiseHz * c.sigmaNoiseHz * o.dtS) / c.tauNoiseS);
  const tS = new Float64Array(n);
  const xCm = new Float64Array(n);
  const rates = new Float32Array(n * o.nLl);
  const rawRates = new Float32Array(n * o.nLl);
  for (let k = 0; k < n; k++) {
    const t = k * o.dtS;
    tS[k] = t;
    const X = x0 + U * dir * t;
    xCm[k] = X;
    for (let i = 0; i < o.nLl; i++) z[i] = rng.normal();
    lowerMatVec(chol, z, inc);
    for (let i = 0; i < o.nLl; i++) eta[i] = eta[i]! + o.dtS * (-eta[i]! / c.tauNoiseS) + gain * inc[i]!;
    dipoleVelocity(xi, X, o.distanceCm, U, c.sphereRadiusCm, dir, 0, v);
    for (let i = 0; i < o.nLl; i++) {
      let r = Math.min(c.rmaxHz, Math.max(0, c.r0Hz + c.aPerCm * v[i]! + eta[i]!));
      if (o.testNoiseHz > 0) r = Math.max(0, r + o.testNoiseHz * rng2.normal());
      rawRates[k * o.nLl + i] = r;
      rates[k * o.nLl + i] = Math.max(0, (r - o.preprocess.subtractHz) * o.preprocess.gain);
    }
  }
  return { tS, xCm, rates, rawRates };
}

/**
 * Steps of a duration `stop` at `step`: ⌈stop/step⌉ as numpy's `arange(0, stop, step)` counts them,
 * except that a float64 quotient within 10⁻⁹ above a whole number counts as that number (1.1 s at
 * 1 ms: 1100 steps, what the original's Brian2 run simulates, where numpy's length is 1101 from the
 * quotient 1100.0000000000002).
 */
export function arangeCount(stop: number, step: number): number {
  return Math.max(0, Math.ceil(stop / step - 1e-9));
}
