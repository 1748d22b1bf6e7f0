/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkInteger } from '../../core/errors.js';
import { renderSource, type SpikeSource } from './source.js';

/**
 * Hands out a spike train one step at a time with no tensor operation per step: each chunk of
 * steps is generated in JavaScript, uploaded once and split once with `tf.unstack`; `next()` then
 * just returns the prepared step tensor.
 *
 * The step tensors belong to the stream: they stay valid until their chunk is replaced (the stream
 * moves past it) or the stream is disposed; they survive `tf.tidy` scopes. With a chunk as long as
 * the train (the default) all steps are valid until {@link dispose}.
 *
 * Randomness: a stream built by an encoder consumes the encoder's `Rng` chunk by chunk. Bernoulli
 * encoders give the same spikes for every chunk size; interval-based encoders (renewal processes)
 * give the same spikes for the same seed and the same chunk size.
 */
export class SpikeStream implements Iterable<tf.Tensor> {
  /** Number of steps in the train. */
  readonly length: number;
  /** Steps generated and uploaded at a time. */
  readonly chunk: number;
  private steps: tf.Tensor[] = [];
  private start = 0;
  private cursor = 0;
  private disposed = false;

  private constructor(
    private readonly produce: (t0: number, count: number) => tf.Tensor,
    length: number,
    chunk: number,
  ) {
    this.length = checkInteger('steps', length, 1);
    this.chunk = checkInteger('chunk', chunk, 1);
  }

  /**
   * A stream over an existing train `[S, B, ...]`. The train is split once; with `own` the stream
   * also disposes `train` (immediately after splitting), otherwise the caller keeps it.
   */
  static fromTensor(train: tf.Tensor, own = false): SpikeStream {
    if (!(train instanceof tf.Tensor) || train.rank < 2) throw new CinderArgumentError('train', train, 'a tensor [S, B, ...]');
    return new SpikeStream(() => (own ? train : train.clone()), train.shape[0]!, train.shape[0]!);
  }

  /**
   * A stream that renders `source` chunk by chunk.
   * @param source the spike source (its state advances as chunks are rendered)
   * @param steps number of steps S
   * @param shape shape of one step `[B, ...]`
   * @param chunk steps per upload (default: all of them)
   */
  static fromSource(source: SpikeSource, steps: number, shape: readonly number[], chunk: number = steps): SpikeStream {
    return new SpikeStream((t0, count) => renderSource(source, t0, count, shape), steps, Math.min(chunk, steps));
  }

  /** Index of the step the next {@link next} call returns. */
  get position(): number {
    return this.cursor;
  }

  /** True when all steps were handed out. */
  get done(): boolean {
    return this.cursor >= this.length;
  }

  /** Returns the current step `[B, ...]` and advances. Throws after the last step. */
  next(): tf.Tensor {
    const t = this.at(this.cursor);
    this.cursor++;
    return t;
  }

  /**
   * Step `t` (0-based). Steps of the current chunk can be read in any order; reading past it moves
   * the stream forward (earlier chunks are freed and cannot be read again).
   */
  at(t: number): tf.Tensor {
    if (this.disposed) throw new CinderArgumentError('stream', 'disposed', 'a live stream');
    if (!Number.isInteger(t) || t < 0 || t >= this.length) throw new CinderArgumentError('t', t, `an integer in [0, ${this.length - 1}]`);
    if (t < this.start) throw new CinderArgumentError('t', t, `a step >= ${this.start} (earlier chunks were freed)`);
    while (t >= this.start + this.steps.length) this.load(this.start + this.steps.length);
    return this.steps[t - this.start]!;
  }

  private load(t0: number): void {
    for (const s of this.steps) s.dispose();
    const count = Math.min(this.chunk, this.length - t0);
    const block = this.produce(t0, count);
    this.steps = tf.unstack(block).map((s) => tf.keep(s));
    block.dispose();
    this.start = t0;
  }

  /** Iterates over the remaining steps. */
  *[Symbol.iterator](): Iterator<tf.Tensor> {
    while (!this.done) yield this.next();
  }

  /** Frees the prepared step tensors. */
  dispose(): void {
    for (const s of this.steps) s.dispose();
    this.steps = [];
    this.disposed = true;
  }
}
