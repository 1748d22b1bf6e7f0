/**
 * Base of the homogeneous rate encoders: inputs `[B, ...shape]` in [0, 1] scale a maximum
 * frequency; the output is a spike train `[S, B, ...shape]` of float32 0/1.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkElements, checkInteger, checkPositive, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { Rng } from '../../core/random.js';
import { checkTrainSize, renderSource, type SpikeSource } from './source.js';
import { SpikeStream } from './spike-stream.js';

/** Options of every homogeneous rate encoder. */
export interface EncoderOptions {
  /** Number of steps S to generate (integer >= 1). */
  steps: number;
  /** Step length Δt (ms). */
  dt: number;
  /** Frequency (Hz) of an input equal to 1; an input x spikes at x·frequency. */
  frequency: number;
  /** Random source; the same seed gives the same spikes. */
  rng: Rng;
}

/** The keys of {@link EncoderOptions}. */
export const ENCODER_OPTION_KEYS = optionKeys<EncoderOptions>()(['steps', 'dt', 'frequency', 'rng']);

/** Options of {@link Encoder.stream}. */
export interface StreamOptions {
  /** Steps generated and uploaded at a time (default: all steps). */
  chunk?: number;
}

/** The keys of {@link StreamOptions}. */
export const STREAM_OPTION_KEYS = optionKeys<StreamOptions>()(['chunk']);

/** Rate encoder: turns intensities in [0, 1] into spike trains. */
export abstract class Encoder {
  /** Number of steps S. */
  readonly steps: number;
  /** Step length (ms). */
  readonly dt: number;
  /** Frequency (Hz) of an input equal to 1. */
  readonly frequency: number;
  /** The random source (advanced by every encoding). */
  protected readonly rng: Rng;

  /** Validates the common options. */
  constructor(options: EncoderOptions) {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {steps, dt, frequency, rng}');
    this.steps = checkInteger('steps', options.steps, 1);
    checkElements('steps', this.steps, 'one spike train (longer trains must be split)');
    this.dt = checkPositive('dt', options.dt);
    this.frequency = checkPositive('frequency', options.frequency);
    if (!(options.rng instanceof Rng)) throw new CinderArgumentError('rng', options.rng, 'an Rng');
    this.rng = options.rng;
  }

  /** A source of spike trains with the given rates (Hz), one per train. */
  protected abstract createSource(rates: Float64Array): SpikeSource;

  /** Encodes `inputs` `[B, ...shape]` (values in [0, 1]) into a new train `[S, B, ...shape]` (one upload). */
  encode(inputs: tf.Tensor): tf.Tensor {
    const rates = this.readRates(inputs); // validates inputs first
    return this.render(inputs.shape, rates);
  }

  /** Like {@link encode}, but hands the train out step by step (see {@link SpikeStream}). */
  stream(inputs: tf.Tensor, options: StreamOptions = {}): SpikeStream {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {chunk?}');
    checkOptionKeys('options', options, STREAM_OPTION_KEYS);
    const rates = this.readRates(inputs); // validates inputs first
    return this.streamOf(inputs.shape, rates, options);
  }

  /** {@link Encoder.encode} with the inputs downloaded by `await data()` (no synchronous read). */
  async encodeAsync(inputs: tf.Tensor): Promise<tf.Tensor> {
    const rates = await this.readRatesAsync(inputs); // validates inputs first
    return this.render(inputs.shape, rates);
  }

  /** {@link Encoder.stream} with the inputs downloaded by `await data()` (no synchronous read). */
  async streamAsync(inputs: tf.Tensor, options: StreamOptions = {}): Promise<SpikeStream> {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {chunk?}');
    checkOptionKeys('options', options, STREAM_OPTION_KEYS);
    const rates = await this.readRatesAsync(inputs); // validates inputs first
    return this.streamOf(inputs.shape, rates, options);
  }

  /**
   * Encodes host intensities (row-major `[B, ...shape]`, values in [0, 1]) into a host train
   * `[S, B, ...shape]` row-major — no tensor, no upload or download; the same spikes as
   * {@link Encoder.encode} for the same random state.
   */
  encodeArray(intensities: ArrayLike<number>): Float32Array {
    if (intensities === null || typeof intensities !== 'object' || typeof intensities.length !== 'number') {
      throw new CinderArgumentError('intensities', intensities, 'an array (or typed array) of numbers in [0, 1]');
    }
    const rates = this.toRates(intensities);
    const out = new Float32Array(this.steps * rates.length);
    this.createSource(rates).fill(out, 0, this.steps);
    return out;
  }

  private checkInputs(inputs: tf.Tensor): void {
    if (!(inputs instanceof tf.Tensor) || inputs.rank < 2) throw new CinderArgumentError('inputs', inputs, 'a tensor [B, ...shape] (rank >= 2)');
    if (inputs.isDisposed) throw new CinderArgumentError('inputs', 'a disposed tensor', 'a live tensor [B, ...shape]');
  }

  /**
   * All `steps` steps of a source with `rates` as one tensor `[S, ...shape]` (one upload). The
   * train's size is checked before the source is built: interval sources draw each train's first
   * spike time when built, and a refused encoding must leave the generator where it was.
   */
  private render(shape: readonly number[], rates: Float64Array): tf.Tensor {
    checkTrainSize(this.steps, shape);
    return renderSource(this.createSource(rates), 0, this.steps, shape);
  }

  /** A step-by-step stream of a source with `rates`. */
  private streamOf(shape: readonly number[], rates: Float64Array, options: StreamOptions): SpikeStream {
    const chunk = checkInteger('chunk', options.chunk ?? this.steps, 1);
    return SpikeStream.fromSource(this.createSource(rates), this.steps, shape, chunk);
  }

  /**
   * Downloads (synchronously: the sync API only — `encodeAsync`/`streamAsync` are the forms for
   * training loops and webgpu) and validates the inputs; returns the rates in Hz.
   */
  private readRates(inputs: tf.Tensor): Float64Array {
    this.checkInputs(inputs);
    return this.toRates(inputs.dataSync());
  }

  /** Downloads the inputs with `await data()` and validates them; returns the rates in Hz. */
  private async readRatesAsync(inputs: tf.Tensor): Promise<Float64Array> {
    this.checkInputs(inputs);
    return this.toRates(await inputs.data());
  }

  /** Validates intensities in [0, 1]; returns the rates in Hz. */
  private toRates(x: ArrayLike<number>): Float64Array {
    const rates = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const v = Number(x[i]);
      if (!(v >= 0 && v <= 1)) throw new CinderArgumentError(`inputs[${i}]`, v, 'a number in [0, 1] (fraction of the maximum frequency)');
      rates[i] = v * this.frequency;
    }
    return rates;
  }
}
