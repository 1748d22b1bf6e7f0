/**
 * @module
 */
import { CinderArgumentError, checkNonNegative, checkOneOf, checkOptionKeys, optionKeys } from '../../core/errors.js';
import type { Rng } from '../../core/random.js';
import { ENCODER_OPTION_KEYS, Encoder, type EncoderOptions } from './encoder.js';
import { IntervalProcessSource, type SpikeSource } from './source.js';

/** Options of {@link HomogeneousPoissonEncoder}. */
export interface HomogeneousPoissonOptions extends EncoderOptions {
  /**
   * Absolute refractory period (ms): minimum time between two spikes of a train (default Δt, which
   * allows at most one spike per step). 0 gives a pure Poisson process (several events in one step
   * then count as one spike). Below Δt every event is drawn, several per step at high rates: an
   * encoding needing more than {@link MAX_RENEWAL_DRAWS} interval draws is refused.
   */
  refrac?: number;
  /**
   * Compensate the rate for the refractory period (default true): the exponential part of each
   * interval gets mean `1000/f − refrac` so that the mean interval stays `1000/f` and the rate stays f.
   * Requires `refrac < 1000/frequency`.
   */
  compensate?: boolean;
  /**
   * How each train starts (default `'stationary'`):
   * - `'stationary'`: in the renewal process's equilibrium. The time to the first event has density
   *   `P(X > y)/E[X]` (X = one interval): uniform on `[0, refrac)` with probability `refrac/E[X]`,
   *   else `refrac + Exp(s)`. Every step then has the same expected spike count, step 0 included,
   *   and trains encoded chunk after chunk join without a seam.
   * - `'event'`: as Inferno — the intervals are counted from a virtual (not emitted) event at time 0,
   *   so the first event is at `refrac + Exp(s)`. With `refrac >= Δt` step 0 never spikes, and the
   *   expected count per step differs from the stationary value over the first few intervals (see
   *   {@link HomogeneousPoissonEncoder}); a long train has `r(2μ − r)/(2μ²)` fewer spikes than a
   *   stationary one on average (for refrac >= Δt; r = refrac/Δt, μ = mean interval in steps; 0.12
   *   at 128 Hz, Δt = 1 ms).
   */
  start?: PoissonStart;
}

/** The keys of {@link HomogeneousPoissonOptions}: other keys make {@link HomogeneousPoissonEncoder}'s constructor throw. */
export const HOMOGENEOUS_POISSON_OPTION_KEYS = optionKeys<HomogeneousPoissonOptions>()([...ENCODER_OPTION_KEYS, 'refrac', 'compensate', 'start']);

/** How the trains of a {@link HomogeneousPoissonEncoder} start: see {@link HomogeneousPoissonOptions.start}. */
export type PoissonStart = 'stationary' | 'event';

/**
 * Poisson spike trains from exponential inter-spike intervals with an absolute refractory period:
 * each interval is `refrac + E`, E exponential with mean `s = 1000/f − refrac` (compensated) or
 * `s = 1000/f` (ms). The rate is f (compensated) or `f/(1 + f·refrac/1000)`. Event times are
 * continuous (float64); an event at time `t` (ms) is a spike at step `⌊t/Δt⌋`; several events in one
 * step (possible only when `refrac < Δt`) give one spike. Each train (pixel and sample) is
 * independent; an input of 0 never spikes.
 *
 * Start of a train ({@link HomogeneousPoissonOptions.start}): by default trains start in the
 * stationary state (the first event time is drawn from the equilibrium forward-recurrence
 * distribution), so the expected spike count in any window of n steps is exactly `n·Δt·rate/1000`
 * (for `refrac >= Δt`, where no two events share a step). **This differs from Inferno**, whose
 * `homogeneous_poisson_exp_interval` sums the intervals from time 0 as if a spike had just
 * occurred there: its first event is at `refrac + E`, so (with refrac = Δt) step 0 never spikes and
 * the probability of a spike at step k is the renewal sum `Σ_j P(j·r + Γ_j ∈ [k, k + 1))` (r =
 * refrac/Δt, Γ_j a sum of j exponentials of mean s/Δt), 0 at k = 0 and `1 − e^{−Δt/s}` at k = 1
 * before it settles at `Δt·rate/1000`. `start: 'event'` reproduces that distribution. (Inferno's
 * `online` variant differs again: its first spike comes one step earlier and each interval is
 * rounded down to whole steps, which raises the rate; Cinder follows the offline kernel, and
 * {@link Encoder.stream} gives the same distribution as {@link Encoder.encode}.)
 *
 * Also unlike Inferno (whose kernel ignores a user refractory period and always uses Δt), `refrac`
 * is honoured.
 */
export class HomogeneousPoissonEncoder extends Encoder {
  /** Absolute refractory period (ms). */
  readonly refrac: number;
  /** Whether the rate is compensated for the refractory period. */
  readonly compensate: boolean;
  /** How each train starts (see {@link HomogeneousPoissonOptions.start}). */
  readonly start: PoissonStart;

  /** @param options see {@link HomogeneousPoissonOptions} */
  constructor(options: HomogeneousPoissonOptions) {
    if (new.target === HomogeneousPoissonEncoder) checkOptionKeys('options', options, HOMOGENEOUS_POISSON_OPTION_KEYS);
    super(options);
    this.refrac = checkNonNegative('refrac', options.refrac ?? options.dt);
    if (options.compensate !== undefined && typeof options.compensate !== 'boolean') throw new CinderArgumentError('compensate', options.compensate, 'a boolean');
    this.compensate = options.compensate ?? true;
    this.start = checkOneOf('start', options.start ?? 'stationary', ['stationary', 'event'] as const);
    const meanInterval = 1000 / this.frequency;
    if (this.compensate && this.refrac >= meanInterval) {
      throw new CinderArgumentError('refrac', this.refrac, `< 1000/frequency = ${meanInterval} ms (the mean interval at the maximum rate) when compensate is true`);
    }
  }

  /**
   * Expected rate (Hz) of a train driven at `f` Hz (finite, >= 0), taking the refractory period into
   * account: f (compensated) or `f/(1 + f·refrac/1000)`.
   */
  expectedRate(f: number): number {
    checkNonNegative('f', f);
    if (f === 0) return 0;
    return this.compensate ? f : f / (1 + (f * this.refrac) / 1000);
  }

  /**
   * The source of one encoding. With `refrac < Δt` a step may hold several events, each one interval
   * draw: the expected number of draws, `Σ_i S/(r + s_i)` (S steps, r + s_i the mean interval of
   * train i in steps), is refused above {@link MAX_RENEWAL_DRAWS} before anything is drawn (with
   * `refrac >= Δt` there is at most one draw per step and train).
   */
  protected createSource(rates: Float64Array): SpikeSource {
    const r = this.refrac / this.dt;
    if (r < 1) {
      let draws = 0;
      for (const f of rates) {
        if (f <= 0) continue;
        const mean = 1000 / (f * this.dt);
        draws += this.steps / (this.compensate ? mean : mean + r);
      }
      if (!(draws <= MAX_RENEWAL_DRAWS)) {
        throw new CinderArgumentError('frequency', this.frequency, `a frequency whose trains need at most ${MAX_RENEWAL_DRAWS.toExponential()} interval draws in all (here ${draws.toExponential(2)}: with refrac = ${this.refrac} ms < dt each event of a step is drawn)`);
      }
    }
    return new RenewalSource(rates, this.dt, this.refrac, this.compensate, this.start, this.rng);
  }
}

/**
 * Largest expected number of interval draws of one {@link HomogeneousPoissonEncoder} encoding (or
 * stream) with `refrac < Δt`, where every event, several per step, is drawn.
 */
export const MAX_RENEWAL_DRAWS = 1e8;

/** Renewal process with intervals `r + Exp(s)`, in units of steps, started stationary or at an event. */
class RenewalSource extends IntervalProcessSource {
  private readonly r: number;
  private readonly scale: Float64Array;

  constructor(rates: Float64Array, dt: number, refrac: number, compensate: boolean, start: PoissonStart, private readonly rng: Rng) {
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
      if (start === 'event') {
        // Inferno: intervals counted from a virtual event at time 0
        this.next[i] = this.interval(i);
        continue;
      }
      // equilibrium forward recurrence time: density P(X > y)/E[X] with X = r + Exp(s)
      const u = rng.uniform();
      this.next[i] = u * (this.r + s) < this.r ? rng.uniform() * this.r : this.r + rng.exponential(s);
    }
  }

  protected interval(i: number): number {
    return this.r + this.rng.exponential(this.scale[i]!);
  }
}
