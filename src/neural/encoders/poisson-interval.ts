/**
 * @module
 */
import type { Rng } from '../../core/random.js';
import { CinderArgumentError, checkNonNegative, checkOptionKeys } from '../../core/errors.js';
import { ENCODER_OPTION_KEYS, Encoder, type EncoderOptions } from './encoder.js';
import { IntervalProcessSource, type SpikeSource } from './source.js';

/**
 * BindsNET-style Poisson encoder: integer inter-spike intervals (in steps) drawn from a Poisson
 * distribution with mean `m = 1000/(f·Δt)`, zero intervals raised to 1. Spike positions are the
 * cumulative sums of the intervals, counted from a virtual spike one step before the train
 * (position p → step p − 1). The mean interval is `m + e^{−m}` steps.
 *
 * Unlike Inferno's kernel, intervals running past the end are dropped instead of being clamped
 * onto the last step (which made every active train spike at step S − 1); with that exception the
 * distribution is that of Inferno's `poisson_interval` (and of its online form). Inferno also
 * accepts `frequency·Δt > 1000` (mean intervals under one step, whose rate falls short of f because
 * of the raise to 1); Cinder refuses it.
 */
export class PoissonIntervalEncoder extends Encoder {
  /** @param options see {@link EncoderOptions} */
  constructor(options: EncoderOptions) {
    if (new.target === PoissonIntervalEncoder) checkOptionKeys('options', options, ENCODER_OPTION_KEYS);
    super(options);
    if (this.frequency * this.dt > 1000) {
      throw new CinderArgumentError('frequency', this.frequency, `<= 1000/dt = ${1000 / this.dt} Hz (at most one spike per step: the mean interval 1000/(frequency·dt) steps must be >= 1)`);
    }
  }

  /**
   * Expected inter-spike interval (steps) of a train driven at `f` Hz (finite, >= 0; 0 gives
   * Infinity): `m + e^{−m}`, m = 1000/(f·Δt).
   */
  expectedInterval(f: number): number {
    checkNonNegative('f', f);
    const m = 1000 / (f * this.dt);
    return m + Math.exp(-m);
  }

  protected createSource(rates: Float64Array): SpikeSource {
    return new IntervalSource(rates, this.dt, this.steps, this.rng);
  }
}

/**
 * Natural log of the Chernoff bound on `P(Poisson(m) <= k)` for `k < m`: `−m + k + k·ln(m/k)`
 * (`−m` for k = 0); `0` (no bound) for `k >= m`.
 */
function logPoissonLowerTail(m: number, k: number): number {
  if (k >= m) return 0;
  return k > 0 ? -m + k + k * Math.log(m / k) : -m;
}

/**
 * Integer intervals max(Poisson(mean), 1) steps, mean = 1000/(f·dt). A train whose first interval
 * can reach the train only with probability below e^{−745} (the smallest float64,
 * `P(Poisson(m) <= steps)` by the Chernoff bound), or whose mean overflows, is silent without a
 * draw: drawing Poisson variates of huge means (very small intensities) could take unbounded time.
 */
class IntervalSource extends IntervalProcessSource {
  private readonly mean: Float64Array;

  constructor(rates: Float64Array, dt: number, steps: number, private readonly rng: Rng) {
    super(rates.length);
    this.mean = rates.map((f) => (f > 0 ? 1000 / (f * dt) : 0));
    for (let i = 0; i < this.size; i++) {
      const m = this.mean[i]!;
      const reachable = m > 0 && m < Infinity && logPoissonLowerTail(m, steps) > -745;
      this.next[i] = reachable ? this.interval(i) - 1 : Infinity;
    }
  }

  protected interval(i: number): number {
    return Math.max(this.rng.poisson(this.mean[i]!), 1);
  }
}
