/**
 * @module
 */
import { CinderArgumentError, checkNonNegative } from '../../core/errors.js';
import type { Rng } from '../../core/random.js';
import { Encoder, type EncoderOptions } from './encoder.js';
import { IntervalProcessSource, type SpikeSource } from './source.js';

/** Options of {@link HomogeneousPoissonEncoder}. */
export interface HomogeneousPoissonOptions extends EncoderOptions {
  /**
   * Absolute refractory period (ms): minimum time between two spikes of a train (default Δt, which
   * allows at most one spike per step). 0 gives a pure Poisson process (several events in one step
   * then count as one spike).
   */
  refrac?: number;
  /**
   * Compensate the rate for the refractory period (default true): the exponential part of each
   * interval gets mean `1000/f − refrac` so that the mean interval stays `1000/f` and the rate stays f.
   * Requires `refrac < 1000/frequency`.
   */
  compensate?: boolean;
}

/**
 * Poisson spike trains from exponential inter-spike intervals with an absolute refractory period:
 * each interval is `refrac + E`, E exponential with mean `1000/f − refrac` (compensated) or `1000/f`.
 * The rate is f (compensated) or `f/(1 + f·refrac/1000)`. Event times are continuous; an event at
 * time `t` (ms) is a spike at step `⌊t/Δt⌋`.
 *
 * Trains start in the stationary state (the first event time is drawn from the equilibrium
 * forward-recurrence distribution), so the expected spike count in any window of n steps is exactly
 * `n·Δt·rate/1000` (for `refrac >= Δt`, where no two events share a step).
 *
 * Unlike Inferno (whose kernel ignores a user refractory period), `refrac` is honoured.
 */
export class HomogeneousPoissonEncoder extends Encoder {
  /** Absolute refractory period (ms). */
  readonly refrac: number;
  /** Whether the rate is compensated for the refractory period. */
  readonly compensate: boolean;

  /** @param options see {@link HomogeneousPoissonOptions} */
  constructor(options: HomogeneousPoissonOptions) {
    super(options);
    this.refrac = checkNonNegative('refrac', options.refrac ?? options.dt);
    this.compensate = options.compensate ?? true;
    const meanInterval = 1000 / this.frequency;
    if (this.compensate && this.refrac >= meanInterval) {
      throw new CinderArgumentError('refrac', this.refrac, `< 1000/frequency = ${meanInterval} ms (the mean interval at the maximum rate) when compensate is true`);
    }
  }

  /** Expected rate (Hz) of a train driven at `f` Hz, taking the refractory period into account. */
  expectedRate(f: number): number {
    if (f <= 0) return 0;
    return this.compensate ? f : f / (1 + (f * this.refrac) / 1000);
  }

  protected createSource(rates: Float64Array): SpikeSource {
    return new RenewalSource(rates, this.dt, this.refrac, this.compensate, this.rng);
  }
}

/** Stationary renewal process with intervals `r + Exp(s)`, in units of steps. */
class RenewalSource extends IntervalProcessSource {
  private readonly r: number;
  private readonly scale: Float64Array;

  constructor(rates: Float64Array, dt: number, refrac: number, compensate: boolean, private readonly rng: Rng) {
    super(rates.length);
    this.r = refrac / dt;
    this.scale = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) {
      if (rates[i]! <= 0) {
        this.next[i] = Infinity;
        continue;
      }
      const mean = 1000 / (rates[i]! * dt); // mean interval of the uncompensated process, in steps
      const s = compensate ? mean - this.r : mean;
      this.scale[i] = s;
      // equilibrium forward recurrence time: density P(X > y)/E[X] with X = r + Exp(s)
      const u = rng.uniform();
      this.next[i] = u * (this.r + s) < this.r ? rng.uniform() * this.r : this.r + rng.exponential(s);
    }
  }

  protected interval(i: number): number {
    return this.r + this.rng.exponential(this.scale[i]!);
  }
}
