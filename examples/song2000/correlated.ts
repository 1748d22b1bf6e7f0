/**
 * Correlated excitatory inputs of Song, Miller & Abbott (2000), Methods p. 925 (Fig. 5a, b): the
 * presynaptic rates have the correlation function
 * `⟨r_a(t) r_b(t′)⟩ = r̄² + r̄²·(σ²·δ_ab + (1 − δ_ab)·c_a·c_b)·exp(−|t − t′|/τc)`, made by holding
 * `r_a = r̄·(1 + x_a + c_a·y)` over intervals of exponentially distributed length (mean τc), with
 * y ~ N(0, 1) shared by all inputs and x_a ~ N(0, σ_a²), `σ_a² = σ² − c_a²`, drawn afresh for every
 * interval; the correlation parameters are `c_a = c_max·(a − 1)/(N − 1)` (Fig. 5 caption,
 * c_max = 0.2), r̄ = 10 Hz and σ = 0.5 in the paper.
 *
 * Discretisation (not given by the paper): a new interval starts at each step with probability
 * `q = 1 − e^{−Δt/τc}` (geometric intervals, mean Δt/q ≈ τc, so that rates k steps apart are in the
 * same interval with probability exactly `e^{−kΔt/τc}`); the new rates apply from that step on.
 * Spikes are Bernoulli per step with `p_a = min(1, max(0, r_a)·Δt)`: the paper does not say what a
 * negative rate (probability Φ(−1/σ) ≈ 2.3 % per interval at σ = 0.5) means, here it is no spikes,
 * which raises the mean rate to `r̄·(Φ(1/σ) + σ·φ(1/σ))` (1.0042·r̄ at σ = 0.5) and lowers the
 * variances and covariances by the same rectification.
 * Drawn as geometric gaps between spikes within each interval (one uniform draw per spike and one
 * per input and interval), so the work is proportional to the spikes plus N per interval.
 * @module
 */
import { CinderArgumentError, checkInteger } from '../../src/core/errors.js';
import type { Rng } from '../../src/core/random.js';
import type { SpikeChunk } from './event.js';

/** The rate process of {@link CorrelatedInput} (the paper's Fig. 5a/b values in brackets). */
export interface CorrelatedParams {
  /** Mean rate r̄ (Hz) [10]. */
  readonly rate: number;
  /** Standard deviation σ of every rate in units of r̄ [0.5]. */
  readonly sigma: number;
  /** Largest correlation parameter c_max; c_a = c_max·(a − 1)/(N − 1) [0.2]; at most σ. */
  readonly cMax: number;
  /** Correlation time τc (ms) [20 in Fig. 5a, 200 in Fig. 5b]. */
  readonly tauC: number;
}

/** The correlation parameters `c_a = c_max·(a − 1)/(N − 1)`, a = 1 … N (all 0 when N = 1). */
export function correlationParameters(n: number, cMax: number): Float64Array {
  checkInteger('n', n, 1);
  return Float64Array.from({ length: n }, (_, i) => (n === 1 ? 0 : (cMax * i) / (n - 1)));
}

/** N inputs with the paper's correlated, piecewise-constant rates (see the module documentation). */
export class CorrelatedInput {
  /** Correlation parameters c_a. */
  readonly c: Float64Array;
  /** Standard deviations σ_a = √(σ² − c_a²) of the private parts x_a. */
  readonly sd: Float64Array;
  /** The current rates r_a (Hz; may be negative, which gives no spikes). */
  readonly rates: Float64Array;
  /** Probability per step that a new interval starts, 1 − e^{−Δt/τc}. */
  readonly q: number;

  /**
   * @param n number of inputs N
   * @param params the rate process
   * @param dt step (ms)
   * @param rng draws the rates of the first interval
   */
  constructor(readonly n: number, readonly params: CorrelatedParams, readonly dt: number, rng: Rng) {
    checkInteger('n', n, 1);
    const { rate, sigma, cMax, tauC } = params;
    if (!(Number.isFinite(rate) && rate >= 0)) throw new CinderArgumentError('rate', rate, 'a finite rate >= 0 Hz');
    if (!(Number.isFinite(sigma) && sigma >= 0)) throw new CinderArgumentError('sigma', sigma, 'a finite number >= 0');
    if (!(Number.isFinite(cMax) && cMax >= 0 && cMax <= sigma)) throw new CinderArgumentError('cMax', cMax, `a number in [0, sigma = ${sigma}] (σ_a² = σ² − c_a² >= 0)`);
    if (!(Number.isFinite(tauC) && tauC > 0)) throw new CinderArgumentError('tauC', tauC, 'a finite time > 0 ms');
    if (!(Number.isFinite(dt) && dt > 0)) throw new CinderArgumentError('dt', dt, 'a finite step > 0 ms');
    this.c = correlationParameters(n, cMax);
    this.sd = Float64Array.from(this.c, (c) => Math.sqrt(Math.max(0, sigma * sigma - c * c)));
    this.rates = new Float64Array(n);
    this.q = -Math.expm1(-dt / tauC);
    this.redraw(rng);
  }

  /** Starts a new interval: y, then x_a for a = 1 … N in order; `r_a = r̄·(1 + x_a + c_a·y)`. */
  redraw(rng: Rng): void {
    const y = rng.normal();
    const r = this.params.rate;
    for (let a = 0; a < this.n; a++) this.rates[a] = r * (1 + this.sd[a]! * rng.normal() + this.c[a]! * y);
  }

  /**
   * Draws the spikes of the next `steps` steps (ids 0 … N − 1) from the current rates on. Draw order:
   * the step of the next new interval (a geometric gap), then the spikes of every input in the
   * interval so far, then the new rates; so a chunk depends only on `rng`'s position and
   * {@link rates} at its start. `onInterval(k)` is called after the rates change at chunk step k.
   */
  chunk(steps: number, rng: Rng, onInterval?: (k: number) => void): SpikeChunk {
    checkInteger('steps', steps, 1);
    const counts = new Int32Array(steps + 1);
    const times: number[] = [];
    const units: number[] = [];
    const logNoBoundary = Math.log1p(-this.q);
    const gap = (logq: number, p: number): number => (p === 0 ? Infinity : p === 1 ? 1 : 1 + Math.floor(Math.log(1 - rng.uniform()) / logq));
    const scale = this.dt / 1000;
    let from = 0;
    let last = -1; // the last step at which a new interval started (−1: none in this chunk)
    for (;;) {
      const next = last + gap(logNoBoundary, this.q); // the next interval's first step (q < 1)
      const to = Math.min(next, steps);
      for (let a = 0; a < this.n; a++) {
        const p = Math.min(1, Math.max(0, this.rates[a]!) * scale);
        const logq = Math.log1p(-p);
        for (let t = from - 1; ;) {
          t += gap(logq, p);
          if (t >= to) break;
          times.push(t);
          units.push(a);
          counts[t + 1]!++;
        }
      }
      if (next >= steps) break;
      this.redraw(rng);
      onInterval?.(next);
      from = next;
      last = next;
    }
    for (let k = 0; k < steps; k++) counts[k + 1]! += counts[k]!;
    const fill = counts.slice(0, steps);
    const ids = new Int32Array(times.length);
    for (let e = 0; e < times.length; e++) ids[fill[times[e]!]!++] = units[e]!;
    return { steps, start: counts, ids };
  }
}
