/**
 * @module
 */
import { CinderArgumentError, checkOptionKeys } from '../../core/errors.js';
import type { Rng } from '../../core/random.js';
import { ENCODER_OPTION_KEYS, Encoder, type EncoderOptions } from './encoder.js';
import type { SpikeSource } from './source.js';

/**
 * Bernoulli approximation of a Poisson train: every step (step 0 included) and every train spikes
 * independently with probability `p = f·Δt/1000` (computed in float64), as Inferno's
 * HomogeneousPoissonApproxEncoder. Requires `frequency·Δt/1000 <= 1`: where Inferno clamps p to 1
 * (a train above 1000/Δt Hz spikes at every step, below its rate), Cinder refuses the frequency.
 */
export class PoissonApproxEncoder extends Encoder {
  /** @param options see {@link EncoderOptions} */
  constructor(options: EncoderOptions) {
    if (new.target === PoissonApproxEncoder) checkOptionKeys('options', options, ENCODER_OPTION_KEYS);
    super(options);
    if ((this.frequency * this.dt) / 1000 > 1) {
      throw new CinderArgumentError('frequency', this.frequency, `<= 1000/dt = ${1000 / this.dt} Hz (p = frequency·dt/1000 must not exceed 1)`);
    }
  }

  protected createSource(rates: Float64Array): SpikeSource {
    const p = rates.map((f) => (f * this.dt) / 1000);
    return new BernoulliSource(p, this.rng);
  }
}

/** Independent Bernoulli trials, step-major (the same spikes for every chunking). */
export class BernoulliSource implements SpikeSource {
  /** Number of trains. */
  readonly size: number;

  /**
   * @param p spike probability per step of each train, or a function of the step giving them
   * @param rng random source
   */
  constructor(
    private readonly p: Float64Array | ((step: number, train: number) => number),
    private readonly rng: Rng,
    size?: number,
  ) {
    this.size = typeof p === 'function' ? size ?? 0 : p.length;
  }

  /**
   * Writes steps `t0 … t0 + count − 1`. When a probability function throws, the generator is put
   * back where it was before this call (so a retry draws what this call would have drawn).
   */
  fill(out: Float32Array, t0: number, count: number): void {
    const n = this.size;
    const p = this.p;
    if (typeof p !== 'function') {
      for (let k = 0; k < count; k++) {
        const row = k * n;
        for (let i = 0; i < n; i++) if (this.rng.uniform() < p[i]!) out[row + i] = 1;
      }
      return;
    }
    const state = this.rng.getState();
    try {
      for (let k = 0; k < count; k++) {
        const row = k * n;
        for (let i = 0; i < n; i++) if (this.rng.uniform() < p(t0 + k, i)) out[row + i] = 1;
      }
    } catch (err) {
      this.rng.setState(state);
      throw err;
    }
  }
}
