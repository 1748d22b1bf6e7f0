/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkInteger, checkOneOf, checkPositive, checkShape, numel, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { Rng } from '../../core/random.js';
import { renderSource, type SpikeSource } from './source.js';
import { SpikeStream } from './spike-stream.js';
import { BernoulliSource } from './poisson-approx.js';
import { STREAM_OPTION_KEYS } from './encoder.js';

/** Largest expected number of candidate events the exact (thinning) method may draw for one encoding. */
export const MAX_THINNING_CANDIDATES = 1e8;

/** Rate (Hz) of train `index` (flat index over `[B, ...shape]`) at time `t` (ms). Must be >= 0. */
export type RateFunction = (t: number, index: number) => number;

/** How {@link InhomogeneousPoissonEncoder} samples. */
export type InhomogeneousMethod = 'bernoulli' | 'exact';

/** Options of {@link InhomogeneousPoissonEncoder}. */
export interface InhomogeneousPoissonOptions {
  /** Step length Δt (ms). */
  dt: number;
  /** Random source. */
  rng: Rng;
  /**
   * `'bernoulli'` (default, as Inferno): step k spikes with probability `λ(k)·Δt/1000` (must be <= 1;
   * Inferno clamps it to 1 instead).
   * `'exact'`: the spike of step k marks at least one event of the inhomogeneous Poisson process in
   * that step. For rate tables (rates constant within a step) this is `1 − exp(−λ(k)·Δt/1000)`
   * (time rescaling); for rate functions it is sampled by thinning in continuous time.
   */
  method?: InhomogeneousMethod;
}

/** The keys of {@link InhomogeneousPoissonOptions}. */
export const INHOMOGENEOUS_POISSON_OPTION_KEYS = optionKeys<InhomogeneousPoissonOptions>()(['dt', 'rng', 'method']);

/** Options for encoding a rate function. */
export interface RateFunctionOptions {
  /** Number of steps S. */
  steps: number;
  /** Shape of one step `[B, ...shape]`. */
  shape: readonly number[];
  /** Upper bound of the rate (Hz), required by the exact method (thinning). */
  maxRate?: number;
  /** Steps generated and uploaded at a time by `streamFunction` (default: all). */
  chunk?: number;
}

/** The keys of {@link RateFunctionOptions}. */
export const RATE_FUNCTION_OPTION_KEYS = optionKeys<RateFunctionOptions>()(['steps', 'shape', 'maxRate', 'chunk']);

/**
 * Poisson trains with time-varying rates, given either as a table `[S, B, ...shape]` (Hz, constant
 * within each step) or as a {@link RateFunction} of continuous time. With a function, the Bernoulli
 * method evaluates the rate at the start of each step (`t = k·Δt`).
 */
export class InhomogeneousPoissonEncoder {
  /** Step length (ms). */
  readonly dt: number;
  /** Sampling method. */
  readonly method: InhomogeneousMethod;
  private readonly rng: Rng;

  /** @param options see {@link InhomogeneousPoissonOptions} */
  constructor(options: InhomogeneousPoissonOptions) {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {dt, rng, method?}');
    if (new.target === InhomogeneousPoissonEncoder) checkOptionKeys('options', options, INHOMOGENEOUS_POISSON_OPTION_KEYS);
    this.dt = checkPositive('dt', options.dt);
    if (!(options.rng instanceof Rng)) throw new CinderArgumentError('rng', options.rng, 'an Rng');
    this.rng = options.rng;
    this.method = checkOneOf('method', options.method ?? 'bernoulli', ['bernoulli', 'exact'] as const);
  }

  /**
   * Encodes a rate table `[S, B, ...shape]` (Hz) into a new train of the same shape. Reads the
   * table synchronously (`dataSync`): {@link encodeAsync} is the form for training loops and webgpu.
   */
  encode(rates: tf.Tensor): tf.Tensor {
    this.checkTable(rates);
    const { source, steps, shape } = this.tableSource(rates, rates.dataSync());
    return renderSource(source, 0, steps, shape);
  }

  /** Like {@link encode}, step by step (synchronous read of the table; see {@link streamAsync}). */
  stream(rates: tf.Tensor, options: { chunk?: number } = {}): SpikeStream {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {chunk?}');
    checkOptionKeys('options', options, STREAM_OPTION_KEYS);
    this.checkTable(rates);
    const { source, steps, shape } = this.tableSource(rates, rates.dataSync());
    return SpikeStream.fromSource(source, steps, shape, checkInteger('chunk', options.chunk ?? steps, 1));
  }

  /** {@link encode} with the table downloaded by `await data()` (no synchronous read). */
  async encodeAsync(rates: tf.Tensor): Promise<tf.Tensor> {
    this.checkTable(rates);
    const { source, steps, shape } = this.tableSource(rates, await rates.data());
    return renderSource(source, 0, steps, shape);
  }

  /** {@link stream} with the table downloaded by `await data()` (no synchronous read). */
  async streamAsync(rates: tf.Tensor, options: { chunk?: number } = {}): Promise<SpikeStream> {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {chunk?}');
    checkOptionKeys('options', options, STREAM_OPTION_KEYS);
    this.checkTable(rates);
    const { source, steps, shape } = this.tableSource(rates, await rates.data());
    return SpikeStream.fromSource(source, steps, shape, checkInteger('chunk', options.chunk ?? steps, 1));
  }

  /**
   * Encodes a rate function into a new train `[S, ...shape]`. The rate is validated as it is drawn;
   * when it throws (a rate < 0, NaN, above `maxRate` or, for `'bernoulli'`, above 1000/Δt), the
   * generator is put back where it was, so the next encoding draws as if this call had not happened.
   */
  encodeFunction(rate: RateFunction, options: RateFunctionOptions): tf.Tensor {
    this.checkFunctionOptions(options);
    const state = this.rng.getState();
    try {
      const { source, steps, shape } = this.functionSource(rate, options);
      return renderSource(source, 0, steps, shape);
    } catch (err) {
      this.rng.setState(state);
      throw err;
    }
  }

  /**
   * Like {@link encodeFunction}, step by step. Every option is checked before the exact method's
   * set-up draws from the generator, so a refused call leaves it where it was.
   */
  streamFunction(rate: RateFunction, options: RateFunctionOptions): SpikeStream {
    this.checkFunctionOptions(options);
    if (options.chunk !== undefined) checkInteger('chunk', options.chunk, 1);
    const { source, steps, shape } = this.functionSource(rate, options);
    return SpikeStream.fromSource(source, steps, shape, options.chunk ?? steps);
  }

  /** Checks that the options of a rate-function encoding are an object. */
  private checkFunctionOptions(options: RateFunctionOptions): void {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {steps, shape, maxRate?, chunk?}');
    checkOptionKeys('options', options, RATE_FUNCTION_OPTION_KEYS);
  }

  /** Checks that `rates` is a rate table tensor (before it is downloaded). */
  private checkTable(rates: tf.Tensor): void {
    if (!(rates instanceof tf.Tensor) || rates.rank < 3) throw new CinderArgumentError('rates', rates, 'a tensor [S, B, ...shape] (rank >= 3) of rates in Hz');
    if (rates.isDisposed) throw new CinderArgumentError('rates', 'a disposed tensor', 'a live tensor [S, B, ...shape] of rates in Hz');
  }

  /** A source for the table `rates` whose values `x` were downloaded; validates every rate. */
  private tableSource(rates: tf.Tensor, x: ArrayLike<number>): { source: SpikeSource; steps: number; shape: number[] } {
    const [steps, ...shape] = rates.shape as [number, ...number[]];
    const n = numel(shape);
    const p = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) p[i] = this.probability(Number(x[i]), `rates[${Math.floor(i / n)}][${i % n}]`);
    const source = new BernoulliSource((k, i) => p[k * n + i]!, this.rng, n);
    return { source, steps, shape };
  }

  private functionSource(rate: RateFunction, options: RateFunctionOptions): { source: SpikeSource; steps: number; shape: number[] } {
    if (typeof rate !== 'function') throw new CinderArgumentError('rate', rate, 'a function (t, index) => rate in Hz');
    const steps = checkInteger('steps', options.steps, 1);
    const shape = checkShape('shape', options.shape);
    const n = numel(shape);
    if (this.method === 'exact') {
      const maxRate = checkPositive('maxRate', options.maxRate as number);
      const candidates = (maxRate * this.dt * steps * n) / 1000;
      if (candidates > MAX_THINNING_CANDIDATES) {
        throw new CinderArgumentError('maxRate', maxRate, `at most ${(MAX_THINNING_CANDIDATES * 1000) / (this.dt * steps * n)} Hz here: thinning draws maxRate·dt/1000 candidate events per step and train, ${candidates.toExponential(2)} in all (limit ${MAX_THINNING_CANDIDATES})`);
      }
      return { source: new ThinningSource(rate, n, this.dt, maxRate, this.rng), steps, shape };
    }
    const source = new BernoulliSource((k, i) => this.probability(rate(k * this.dt, i), `rate(t=${k * this.dt}, index=${i})`), this.rng, n);
    return { source, steps, shape };
  }

  /** Spike probability of one step at rate `f` (Hz), validating `f`. */
  private probability(f: number, param: string): number {
    if (!(f >= 0) || f === Infinity) throw new CinderArgumentError(param, f, 'a finite rate >= 0 (Hz)');
    const mu = (f * this.dt) / 1000;
    if (this.method === 'exact') return -Math.expm1(-mu);
    if (mu > 1) throw new CinderArgumentError(param, f, `<= 1000/dt = ${1000 / this.dt} Hz for the bernoulli method (rate·dt/1000 is a probability)`);
    return mu;
  }
}

/** Lewis–Shedler thinning of a homogeneous process at `maxRate`, in continuous time (ms). */
class ThinningSource implements SpikeSource {
  private readonly next: Float64Array;
  private readonly gap: number;

  constructor(
    private readonly rate: RateFunction,
    readonly size: number,
    private readonly dt: number,
    private readonly maxRate: number,
    private readonly rng: Rng,
  ) {
    this.gap = 1000 / maxRate;
    this.next = new Float64Array(size);
    for (let i = 0; i < size; i++) this.next[i] = rng.exponential(this.gap);
  }

  /**
   * Writes steps `t0 … t0 + count − 1`. When the rate function throws or gives an invalid rate, the
   * generator and every train's next candidate time are put back as they were before this call.
   */
  fill(out: Float32Array, t0: number, count: number): void {
    const state = this.rng.getState();
    const next = this.next.slice();
    try {
      this.fillFrom(out, t0, count);
    } catch (err) {
      this.rng.setState(state);
      this.next.set(next);
      throw err;
    }
  }

  private fillFrom(out: Float32Array, t0: number, count: number): void {
    const endT = (t0 + count) * this.dt;
    const n = this.size;
    for (let i = 0; i < n; i++) {
      let t = this.next[i]!;
      while (t < endT) {
        const f = this.rate(t, i);
        if (!(f >= 0 && f <= this.maxRate)) {
          throw new CinderArgumentError(`rate(t=${t}, index=${i})`, f, `a rate in [0, maxRate = ${this.maxRate}] Hz`);
        }
        if (this.rng.uniform() * this.maxRate < f) {
          const k = Math.min(Math.max(Math.floor(t / this.dt), t0), t0 + count - 1);
          out[(k - t0) * n + i] = 1;
        }
        t += this.rng.exponential(this.gap);
      }
      this.next[i] = t;
    }
  }
}
