/**
 * @module
 */
import type { Rng } from '../../core/random.js';
import { CinderArgumentError } from '../../core/errors.js';
import { Encoder, type EncoderOptions } from './encoder.js';
import { IntervalProcessSource, type SpikeSource } from './source.js';

/**
 * BindsNET-style Poisson encoder: integer inter-spike intervals (in steps) drawn from a Poisson
 * distribution with mean `m = 1000/(f·Δt)`, zero intervals raised to 1. Spike positions are the
 * cumulative sums of the intervals, counted from a virtual spike one step before the train
 * (position p → step p − 1). The mean interval is `m + e^{−m}` steps.
 *
 * Unlike Inferno's kernel, intervals running past the end are dropped instead of being clamped
 * onto the last step (which made every active train spike at step S − 1).
 */
export class PoissonIntervalEncoder extends Encoder {
  /** @param options see {@link EncoderOptions} */
  constructor(options: EncoderOptions) {
    super(options);
    if (this.frequency * this.dt > 1000) {
      throw new CinderArgumentError('frequency', this.frequency, `<= 1000/dt = ${1000 / this.dt} Hz (at most one spike per step: the mean interval 1000/(frequency·dt) steps must be >= 1)`);
    }
  }

  /** Expected inter-spike interval (steps) of a train driven at `f` Hz: `m + e^{−m}`, m = 1000/(f·Δt). */
  expectedInterval(f: number): number {
    const m = 1000 / (f * this.dt);
    return m + Math.exp(-m);
  }

  protected createSource(rates: Float64Array): SpikeSource {
    return new IntervalSource(rates, this.dt, this.rng);
  }
}

/** Integer intervals max(Poisson(mean), 1) steps, mean = 1000/(f·dt). */
class IntervalSource extends IntervalProcessSource {
  private readonly mean: Float64Array;

  constructor(rates: Float64Array, dt: number, private readonly rng: Rng) {
    super(rates.length);
    this.mean = rates.map((f) => (f > 0 ? 1000 / (f * dt) : 0));
    for (let i = 0; i < this.size; i++) this.next[i] = this.mean[i]! > 0 ? this.interval(i) - 1 : Infinity;
  }

  protected interval(i: number): number {
    return Math.max(this.rng.poisson(this.mean[i]!), 1);
  }
}
