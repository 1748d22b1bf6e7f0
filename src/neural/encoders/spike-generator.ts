/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkInteger, checkPositive, checkShape, numel, checkElements, checkOptionKeys, optionKeys } from '../../core/errors.js';
import type { SpikeSource } from './source.js';
import { renderSource } from './source.js';
import { SpikeStream } from './spike-stream.js';
import { STREAM_OPTION_KEYS, type StreamOptions } from './encoder.js';

/** Options of {@link SpikeGenerator}. */
export interface SpikeGeneratorOptions {
  /** Number of steps S. */
  steps: number;
  /** Step length Δt (ms). */
  dt: number;
  /** Spike times (ms, >= 0) of each train; train i is the flat index i over `shape`. */
  times: readonly (readonly number[])[];
  /** Shape of one step `[B, ...]` with `numel(shape) = times.length` (default `[1, times.length]`). */
  shape?: readonly number[];
}

/** The keys of {@link SpikeGeneratorOptions}. */
export const SPIKE_GENERATOR_OPTION_KEYS = optionKeys<SpikeGeneratorOptions>()(['steps', 'dt', 'times', 'shape']);

/**
 * Deterministic spikes at given times, like NEST's `spike_generator`. Step k covers the time
 * interval `[k·Δt, (k + 1)·Δt)`; a spike at time t lands on step `⌊t/Δt⌋` (with a 1e-9 relative
 * tolerance, so t = 0.3 with Δt = 0.1 is step 3). Several times in one step give one spike; times at
 * or after `S·Δt` are outside the train and ignored.
 */
export class SpikeGenerator {
  /** Number of steps S. */
  readonly steps: number;
  /** Step length (ms). */
  readonly dt: number;
  /** Shape of one step `[B, ...]`. */
  readonly shape: readonly number[];
  /** Step indices (sorted, unique, < S) of each train. */
  readonly stepIndices: readonly (readonly number[])[];

  /** @param options see {@link SpikeGeneratorOptions} */
  constructor(options: SpikeGeneratorOptions) {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {steps, dt, times, shape?}');
    if (new.target === SpikeGenerator) checkOptionKeys('options', options, SPIKE_GENERATOR_OPTION_KEYS);
    this.steps = checkInteger('steps', options.steps, 1);
    checkElements('steps', this.steps, 'one spike train (longer trains must be split)');
    this.dt = checkPositive('dt', options.dt);
    if (!Array.isArray(options.times) || options.times.some((t) => !Array.isArray(t))) {
      throw new CinderArgumentError('times', options.times, 'an array with one array of spike times (ms) per train');
    }
    this.shape = checkShape('shape', options.shape ?? [1, options.times.length]);
    if (numel(this.shape) !== options.times.length) {
      throw new CinderArgumentError('shape', this.shape, `a shape with ${options.times.length} elements (one per list in times)`);
    }
    this.stepIndices = options.times.map((list: readonly number[], i: number) => {
      const ks = new Set<number>();
      list.forEach((t: number, j: number) => {
        if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new CinderArgumentError(`times[${i}][${j}]`, t, 'a finite time >= 0 (ms)');
        const k = Math.floor(t / this.dt + 1e-9 * Math.max(1, t / this.dt));
        if (k < this.steps) ks.add(k);
      });
      return [...ks].sort((a, b) => a - b);
    });
  }

  /** The whole train as a new tensor `[S, ...shape]`. */
  encode(): tf.Tensor {
    return renderSource(this.source(), 0, this.steps, this.shape);
  }

  /** The train step by step (see {@link SpikeStream}); `chunk` steps are uploaded at a time (other keys are refused). */
  stream(options: StreamOptions = {}): SpikeStream {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {chunk?}');
    checkOptionKeys('options', options, STREAM_OPTION_KEYS);
    return SpikeStream.fromSource(this.source(), this.steps, this.shape, checkInteger('chunk', options.chunk ?? this.steps, 1));
  }

  private source(): SpikeSource {
    const idx = this.stepIndices;
    return {
      size: idx.length,
      fill(out: Float32Array, t0: number, count: number): void {
        const n = idx.length;
        for (let i = 0; i < n; i++) for (const k of idx[i]!) if (k >= t0 && k < t0 + count) out[(k - t0) * n + i] = 1;
      },
    };
  }
}
