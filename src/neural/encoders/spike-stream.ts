/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkInteger, numel } from '../../core/errors.js';
import type { SpikeSource } from './source.js';

/** A chunk of steps rendered in JavaScript: `data` holds `[count, ...shape]` row-major. */
interface RenderedChunk {
  data: Float32Array;
  shape: number[];
}

/**
 * Hands out a spike train one step at a time with no tensor kernel per step: each chunk of steps is
 * generated in JavaScript and each step is uploaded on its first access (≈15 µs; slicing or
 * `tf.unstack` of a large train costs milliseconds per step on wasm). Later accesses to the same
 * step return the same tensor.
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
  private steps: (tf.Tensor | undefined)[] = [];
  private data: Float32Array = new Float32Array(0);
  private stepShape: number[] = [];
  private start = 0;
  /** Chunks rendered by a move that failed further on, waiting to be used (in step order). */
  private pending: { t0: number; chunk: RenderedChunk }[] = [];
  private cursor = 0;
  private disposed = false;

  private constructor(
    private readonly produce: (t0: number, count: number) => RenderedChunk,
    length: number,
    chunk: number,
    private readonly release: () => void = () => {},
  ) {
    this.length = checkInteger('steps', length, 1);
    this.chunk = checkInteger('chunk', chunk, 1);
  }

  /**
   * A stream over an existing train `[S, B, ...]`. The train is split once; with `own` the stream
   * also disposes `train` (immediately after splitting, or at {@link dispose} when no step was
   * read), otherwise the caller keeps it.
   */
  static fromTensor(train: tf.Tensor, own = false): SpikeStream {
    if (!(train instanceof tf.Tensor) || train.rank < 2) throw new CinderArgumentError('train', train, 'a tensor [S, B, ...]');
    if (train.isDisposed) throw new CinderArgumentError('train', 'a disposed tensor', 'a live tensor [S, B, ...]');
    // One download when the stream is first read (not per step); steps are then uploaded one by one.
    const produce = (): RenderedChunk => {
      const data = Float32Array.from(train.dataSync() as ArrayLike<number>);
      const shape = train.shape.slice(1);
      if (own) train.dispose();
      return { data, shape };
    };
    const release = (): void => {
      if (own && !train.isDisposed) train.dispose();
    };
    return new SpikeStream(produce, train.shape[0]!, train.shape[0]!, release);
  }

  /**
   * {@link fromTensor} with the train downloaded now, asynchronously (`await train.data()`): for
   * backends without synchronous reads (webgpu in Node), where `fromTensor`'s first read would fail.
   * With `own` the train is disposed once downloaded.
   */
  static async fromTensorAsync(train: tf.Tensor, own = false): Promise<SpikeStream> {
    if (!(train instanceof tf.Tensor) || train.rank < 2) throw new CinderArgumentError('train', train, 'a tensor [S, B, ...]');
    if (train.isDisposed) throw new CinderArgumentError('train', 'a disposed tensor', 'a live tensor [S, B, ...]');
    const data = Float32Array.from((await train.data()) as ArrayLike<number>);
    const shape = train.shape.slice(1);
    const steps = train.shape[0]!;
    if (own) train.dispose();
    return new SpikeStream(() => ({ data, shape: [...shape] }), steps, steps);
  }

  /**
   * A stream that renders `source` chunk by chunk.
   * @param source the spike source (its state advances as chunks are rendered)
   * @param steps number of steps S
   * @param shape shape of one step `[B, ...]`
   * @param chunk steps per upload (default: all of them)
   */
  static fromSource(source: SpikeSource, steps: number, shape: readonly number[], chunk: number = steps): SpikeStream {
    const n = numel(shape);
    const produce = (t0: number, count: number): RenderedChunk => {
      const data = new Float32Array(count * n);
      source.fill(data, t0, count);
      return { data, shape: [...shape] };
    };
    return new SpikeStream(produce, steps, Math.min(chunk, steps));
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
    if (t >= this.start + this.steps.length) this.moveTo(t);
    const k = t - this.start;
    let step = this.steps[k];
    if (!step) {
      // Upload this step only (≈15 µs); slicing or unstacking a big tensor is far slower on wasm.
      const n = numel(this.stepShape);
      step = tf.keep(tf.tensor(this.data.subarray(k * n, (k + 1) * n), this.stepShape, 'float32'));
      this.steps[k] = step;
    }
    return step;
  }

  /**
   * Moves to the chunk holding step `t` (after the current chunk), rendering the chunks in between
   * (skipped: their steps can no longer be read). When rendering one of them throws, the current
   * chunk stays as it was (its step tensors stay valid) and the chunks rendered before the failure
   * are kept for the next move, so the source is never asked for the same steps twice.
   */
  private moveTo(t: number): void {
    const rendered: { t0: number; chunk: RenderedChunk }[] = [];
    let t0 = this.start + this.steps.length;
    try {
      for (;;) {
        const waiting = this.pending[0];
        let chunk: RenderedChunk;
        if (waiting && waiting.t0 === t0) {
          this.pending.shift();
          chunk = waiting.chunk;
        } else {
          chunk = this.produce(t0, Math.min(this.chunk, this.length - t0));
        }
        rendered.push({ t0, chunk });
        const count = Math.min(this.chunk, this.length - t0);
        if (t < t0 + count) break;
        t0 += count;
      }
    } catch (err) {
      this.pending = [...rendered, ...this.pending];
      throw err;
    }
    const last = rendered[rendered.length - 1]!;
    for (const s of this.steps) s?.dispose();
    this.data = last.chunk.data;
    this.stepShape = last.chunk.shape;
    this.steps = new Array<tf.Tensor | undefined>(Math.min(this.chunk, this.length - last.t0)).fill(undefined);
    this.start = last.t0;
  }

  /** Iterates over the remaining steps. */
  *[Symbol.iterator](): Iterator<tf.Tensor> {
    while (!this.done) yield this.next();
  }

  /** Frees the prepared step tensors (and an owned train not read yet, see {@link fromTensor}). */
  dispose(): void {
    for (const s of this.steps) s?.dispose();
    this.steps = [];
    this.pending = [];
    this.disposed = true;
    this.release();
  }
}
