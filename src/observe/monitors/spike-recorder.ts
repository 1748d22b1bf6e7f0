/**
 * @module
 */
import { share, tf } from '../../core/tf.js';
import { accessorShape } from './accessor-shape.js';
import type { Snapshot } from '../../core/snapshot.js';
import { CinderArgumentError, checkElements, checkInteger, numel, checkOptionKeys, optionKeys } from '../../core/errors.js';
import type { Observer } from '../../neural/types.js';

/**
 * Spike events, one entry per spike (same index in the three arrays), sorted by step, then sample,
 * then neuron.
 */
export interface RecordedSpikes {
  /** Step number of each spike: the number of the `observe()` call that saw it (1-based, see {@link SpikeRecorder}). */
  step: Float64Array;
  /** Sample (batch index `b` of the recorded `[B, ...shape]` tensor) of each spike. */
  sample: Int32Array;
  /** Flat (row-major) index of the spiking neuron within `shape` (the recorded tensor without its batch dim). */
  neuron: Int32Array;
}

/** Options of {@link SpikeRecorder}. */
export interface SpikeRecorderOptions {
  /**
   * Records stacked, packed and read in one piece (integer >= 1, default 256): the recorder reads
   * the device once every `chunkSteps` steps.
   */
  chunkSteps?: number;
  /** When true the layer calls `observe()` only in training mode (default false: always). */
  trainOnly?: boolean;
  /**
   * Flat neuron indices to record (distinct integers >= 0, below the number of neurons per
   * sample; any order, kept sorted). Default: every neuron. The device still packs and reads all
   * neurons (one bit each); the others are skipped when the events are extracted.
   */
  neurons?: readonly number[] | Int32Array;
  /**
   * Streaming mode: each chunk's events are handed to this function (in step order; an async one is
   * awaited before the next chunk, also one still running from before a clear() or restoreState()) and not kept — {@link SpikeRecorder.events} and
   * {@link SpikeRecorder.spikeTrains} are then unavailable; counts and rates are kept.
   */
  onChunk?: SpikeChunkHandler;
  /**
   * Most bytes of packed words the recorder holds on the device for records observed but not read
   * yet (an integer >= 1, or Infinity for no bound; default 2^28 = 256 MiB): each such step takes
   * `4 · B · ⌈N / 24⌉` bytes, so at most `K = ⌊maxPendingBytes / (4 · B · ⌈N / 24⌉)⌋` steps wait.
   * An `observe()` that would make it K + 1 is refused (see {@link SpikeRecorder}, "Bounded device
   * memory"). At least one chunk must fit (`K >= chunkSteps`), checked at the first record and on restore.
   */
  maxPendingBytes?: number;
}

/** The keys of {@link SpikeRecorderOptions}. */
export const SPIKE_RECORDER_OPTION_KEYS = optionKeys<SpikeRecorderOptions>()(['chunkSteps', 'trainOnly', 'neurons', 'onChunk', 'maxPendingBytes']);

/** The steps a chunk covers (`first … last`, inclusive; a chunk may hold no spike at all). */
export interface SpikeChunkSteps {
  /** Step number of the chunk's first record. */
  first: number;
  /** Step number of the chunk's last record. */
  last: number;
}

/**
 * Receives each chunk's events in step order (streaming mode of {@link SpikeRecorder}), with the
 * steps the chunk covers: after a resume the recorder may hand over steps again that a sink
 * already holds from before the interruption (they follow the restored snapshot), and `steps.first`
 * says where to cut the sink's old tail (as `SpikeFileSink` does).
 */
export type SpikeChunkHandler = (events: RecordedSpikes, steps: SpikeChunkSteps) => void | Promise<void>;

/**
 * A packed run of records (steps first .. first + steps - 1; `tensor` float32 `[steps · B, G]`, see
 * {@link SpikeRecorder}), or a restored state to read.
 */
type Chunk =
  | { kind: 'records'; tensor: tf.Tensor; first: number; steps: number; read: Promise<ArrayLike<number>> | null }
  | { kind: 'state'; tensor: tf.Tensor | null; events: number; readSteps: number; read: Promise<ArrayLike<number>> | null };

/** Reads started ahead of the one being extracted (the chunks after it are stacked but not read yet). */
const IN_FLIGHT = 2;
/** Neurons packed into one float32 word (every integer below 2^24 is exact in float32). */
const BITS = 24;
/** 2^31: step numbers and counts are saved as two int32 halves, high · 2^31 + low. */
const HALF = 2 ** 31;
/** Default {@link SpikeRecorderOptions.maxPendingBytes}: 2^28 bytes (256 MiB) of packed words. */
const MAX_PENDING_BYTES = 2 ** 28;

/** Starts an asynchronous read (a rejection is handled where it is awaited, never reported as unhandled). */
function startRead(t: tf.Tensor | null): Promise<ArrayLike<number>> {
  const p: Promise<ArrayLike<number>> = t ? t.data() : Promise.resolve(new Int32Array(0));
  p.catch(() => undefined);
  return p;
}

/**
 * Records spikes as sparse events (step, sample, neuron) — the counterpart of Brian2's
 * `SpikeMonitor` and NEST's `spike_recorder` — with bounded device work and no synchronous read.
 *
 * `observe()` (called by the layer after its neurons stepped) keeps a handle of the step's spike
 * tensor `[B, ...shape]` (a clone sharing its data: no copy, no op). Every `chunkSteps` records it
 * packs them on the device into bit words (below: a fixed number of ops per chunk, none per step),
 * frees the handles and starts an asynchronous read of the words (`await data()`); at most 2 reads
 * are outstanding, later chunks wait on the device in step order. Every value `x` with `x ≠ 0` is a
 * spike (NaN included: a broken simulation shows up as spikes, not as silence). When a read
 * resolves, the events are extracted in JavaScript by one linear scan of the words. Chunks are
 * extracted strictly in order.
 *
 * Packing: with N neurons per sample and G = ⌈N / 24⌉ words per sample and step, the S records of
 * a chunk are stacked and flattened to `x` `[S · B, N]`, turned into `s = (x ≠ 0)` as float32 0/1
 * (`notEqual(x, 0)` then a cast; a bool record is only cast), padded with zeros to `[S · B, 24 · G]`
 * and reshaped to `[S · B, G, 24]`; each group of 24 is summed with the constant weights
 * `2^0 … 2^23` (kept on the device, one per recorder):
 * `w[r, g] = Σ_{k < 24} s[r, 24·g + k] · 2^k`, float32 `[S · B, G]` — 8 kernels per chunk (Pack,
 * Reshape, NotEqual, Cast, Pad, Reshape, Mul, Sum; no Pad when 24 divides N, no NotEqual for bool).
 * Float32 computes every word exactly, in any summation order and with or without fused
 * multiply-add: each product is 0 or a power of two, and every partial sum is an integer below
 * 2^24 (float32 holds every integer up to 2^24 exactly). The read is `4 · S · B · G` bytes instead
 * of `4 · S · B · N` (≈ 24 times less). Bit k of word g of row `s · B + b` is neuron `24·g + k` of
 * sample b at step `first + s`; the host scans rows in order and each word's bits upward (zero
 * words are skipped), which gives the (step, sample, neuron) order. A word that is not an integer
 * in `[0, 2^24)`, or has a padding bit set, stops the extraction with an error instead of
 * recording wrong events (a guard against a backend that breaks the exactness above: it catches
 * fractions and stray padding bits, not a rounding that lands on another valid integer). On webgpu
 * the spike test `x ≠ 0` runs on the device: a driver that assumes finite math might read NaN as 0.
 *
 * The reads resolve only while the caller's loop yields to the event loop (any `await`;
 * `Network.run` yields every 250 ms). `await flush()` reads everything observed before the call;
 * read the results after it.
 *
 * Bounded device memory: there is no synchronous read (webgpu in Node has none), so a loop that
 * never yields keeps every chunk on the device: each step not read yet holds `4 · B · G` bytes of
 * packed words (a record of the chunk being filled holds its own data until the chunk is sealed:
 * at most `chunkSteps` of them). The recorder bounds this: with `K = ⌊maxPendingBytes / (4 · B · G)⌋`
 * (default `maxPendingBytes` 2^28 bytes), at most K steps observed and not read are held, and an
 * `observe()` that would hold K + 1 is refused with a {@link CinderArgumentError} that names the
 * remedy: `await rec.flush()` at least every K steps in a loop that does not otherwise await (or a
 * larger `maxPendingBytes`, or Infinity for no bound). The refused call changes nothing in the
 * recorder and is not counted (as any failed `observe()`). Attached to a layer, the refusal comes
 * before the layer steps ({@link SpikeRecorder.checkObserve}, which the layer calls first): the
 * step is not taken at all, and after `await rec.flush()` the retried step records as if nothing
 * had happened. Results are not changed by the bound:
 * a recording that stays below it is the same as without one. `maxPendingBytes` must hold at least one
 * chunk (`K >= chunkSteps`, checked at the first record and on restore: a smaller one could never
 * seal a chunk while a loop like `Network.run` yields).
 *
 * Step numbers: the k-th `observe()` call (1-based, counted from construction or {@link clear};
 * calls that throw are not counted) has step k, as `Recorder.recordedSteps()`: a recorder attached
 * before a layer's first step gives the layer's step count after the step of the spike (time
 * `step · dt`). Steps are float64 (exact up to 2^53); counts are float64 too.
 *
 * Memory mode (default): all events are kept in growing typed arrays (doubled when full), `events()`
 * returns them. Streaming mode (`onChunk`): each chunk's events go to `onChunk` and are not kept.
 *
 * ```ts
 * const rec = new SpikeRecorder(() => lif.spike, { chunkSteps: 256 });
 * layer.attach(rec);
 * // … run …
 * await rec.flush();
 * const { step, sample, neuron } = rec.events(); // spike i: neuron[i] of sample[i] at time step[i]·dt
 * ```
 */
export class SpikeRecorder implements Observer {
  /** When true the layer calls {@link observe} only in training mode (default false). */
  readonly trainOnly: boolean;
  /** Records per chunk (one stack, one pack and one read per chunk). */
  readonly chunkSteps: number;
  /** The recorded flat neuron indices (sorted ascending), or null for every neuron. */
  readonly neurons: Int32Array | null;
  /** Most bytes of packed words held for steps not read yet (see {@link SpikeRecorderOptions.maxPendingBytes}). */
  readonly maxPendingBytes: number;
  private readonly accessor: () => tf.Tensor;
  private readonly onChunk: SpikeChunkHandler | null;

  /** Shape and dtype of the records (set by the first record, or a restore; null after clear()). */
  private recShape: number[] | null = null;
  private recDtype: tf.DataType | null = null;
  /** Records not yet stacked (handles kept out of every tidy). */
  private records: tf.Tensor[] = [];
  /** Stacked chunks not yet extracted, in step order. */
  private queue: Chunk[] = [];
  /** Successful observe() calls (the last step number). */
  private calls = 0;
  /** Records extracted (steps 1 .. readCount are in the events and counts). */
  private readCount = 0;
  /** Spike counts `[B, N]` over the extracted records. */
  private counts = new Float64Array(0);
  /** Kept events (memory mode): the first `size` entries are valid. */
  private evStep = new Float64Array(0);
  private evSample = new Int32Array(0);
  private evNeuron = new Int32Array(0);
  private size = 0;
  /** The packing weights `[24]` = 2^0 … 2^23 (made at the first chunk; freed by clear/restore/dispose). */
  private weights: tf.Tensor | null = null;
  /** Bumped by clear/restore/dispose: a read of an older generation is dropped. */
  private generation = 0;
  private pumping: Promise<void> | null = null;
  /**
   * The last `onChunk` call (settled: never rejects). It survives clear/restore/dispose: a call of
   * a dropped generation still running ends before the next call starts.
   */
  private handing: Promise<void> = Promise.resolve();
  /** The error that stopped the extraction (a failed read or onChunk); thrown by flush(). */
  private failure: { error: unknown } | null = null;

  /**
   * @param accessor returns the spike tensor `[B, ...shape]` (float32, int32 or bool; e.g. `() => lif.spike`)
   * @param options `chunkSteps`, `trainOnly`, `neurons`, `onChunk`, `maxPendingBytes`
   */
  constructor(accessor: () => tf.Tensor, options: SpikeRecorderOptions = {}) {
    if (typeof accessor !== 'function') throw new CinderArgumentError('accessor', accessor, 'a function returning a tensor');
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {chunkSteps?, trainOnly?, neurons?, onChunk?}');
    if (new.target === SpikeRecorder) checkOptionKeys('options', options, SPIKE_RECORDER_OPTION_KEYS);
    this.chunkSteps = checkInteger('chunkSteps', options.chunkSteps ?? 256, 1);
    if (options.trainOnly !== undefined && typeof options.trainOnly !== 'boolean') throw new CinderArgumentError('trainOnly', options.trainOnly, 'a boolean');
    if (options.onChunk !== undefined && typeof options.onChunk !== 'function') throw new CinderArgumentError('onChunk', options.onChunk, 'a function (events, steps) => void | Promise<void>');
    const maxPending = options.maxPendingBytes ?? MAX_PENDING_BYTES;
    if (typeof maxPending !== 'number' || !(maxPending >= 1) || !(Number.isInteger(maxPending) || maxPending === Infinity)) {
      throw new CinderArgumentError('maxPendingBytes', maxPending, 'an integer >= 1 or Infinity (bytes of packed words held for steps not read yet)');
    }
    let neurons: Int32Array | null = null;
    if (options.neurons !== undefined) {
      const list = options.neurons as ArrayLike<unknown>;
      const ok = (Array.isArray(list) || list instanceof Int32Array) && list.length > 0 && Array.from(list).every((i) => Number.isInteger(i) && (i as number) >= 0 && (i as number) < HALF);
      if (!ok) throw new CinderArgumentError('neurons', options.neurons, 'a non-empty array of integer flat neuron indices >= 0');
      neurons = Int32Array.from(list as ArrayLike<number>).sort();
      const dup = neurons.findIndex((v, i) => i > 0 && v === neurons![i - 1]);
      if (dup >= 0) throw new CinderArgumentError('neurons', options.neurons, `distinct indices (${neurons[dup]} appears twice)`);
    }
    this.accessor = accessor;
    this.trainOnly = options.trainOnly ?? false;
    this.neurons = neurons;
    this.onChunk = options.onChunk ?? null;
    this.maxPendingBytes = maxPending;
  }

  /** Shape `[B, ...shape]` of the records (null before the first record and after {@link clear}). */
  get shape(): number[] | null {
    return this.recShape ? [...this.recShape] : null;
  }

  /** Number of records (steps) observed since construction or {@link clear}: the last step number. */
  get observedSteps(): number {
    return this.calls;
  }

  /** Number of records read: their spikes are in {@link events}, {@link count} and {@link rates}. */
  get readSteps(): number {
    return this.readCount;
  }

  /** Records observed but not read yet (held on the device). */
  get pendingSteps(): number {
    return this.calls - this.readCount;
  }

  /** Number of spikes read so far (in memory mode, the length of {@link events}). */
  get spikeCount(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }

  /**
   * Keeps a handle of the step's spikes (no op; every `chunkSteps` records, the stack and pack ops
   * and a read started). Every record must have the shape and dtype of the first (until
   * {@link clear}); a call that throws (the accessor, a record of another shape or dtype, a `neurons`
   * index out of range, `maxPendingBytes` reached or smaller than one chunk, the stack or pack)
   * changes nothing and is not counted. Never waits and never reads synchronously.
   */
  observe(): void {
    const t = tf.tidy(() => {
      const v = this.accessor();
      if (!(v instanceof tf.Tensor)) throw new CinderArgumentError('spikes', v, 'a tensor [B, ...shape] from the accessor');
      return share(v); // a handle of the same data (tensors are immutable), no copy
    });
    try {
      this.checkRecord(t);
      this.checkPending();
    } catch (e) {
      t.dispose();
      throw e;
    }
    const first = this.recShape === null;
    if (first) {
      this.recShape = [...t.shape];
      this.recDtype = t.dtype;
      this.counts = new Float64Array(t.size);
    }
    this.records.push(tf.keep(t));
    this.calls++;
    if (this.records.length >= this.chunkSteps) {
      try {
        this.seal();
      } catch (e) {
        // the stack or pack failed: the record is taken back
        this.records.pop()!.dispose();
        this.calls--;
        if (first) {
          this.recShape = null;
          this.recDtype = null;
          this.counts = new Float64Array(0);
        }
        throw e;
      }
    }
  }

  /**
   * Throws when the next {@link observe} would be refused by the bound on steps not read yet
   * (`maxPendingBytes`), changing nothing: a layer asks before its step, so the refused step is not
   * taken at all (see `Observer.checkObserve`).
   */
  checkObserve(): void {
    this.checkPending();
  }

  /** Throws unless `t` can be recorded (shape, dtype, neuron indices); changes nothing. */
  private checkRecord(t: tf.Tensor): void {
    if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') throw new CinderArgumentError('spikes dtype', t.dtype, 'float32, int32 or bool');
    if (this.recShape) {
      if (!tf.util.arraysEqual(t.shape, this.recShape)) {
        throw new CinderArgumentError('spikes', t, `shape [${this.recShape.join(', ')}] (the shape of the first record; read the events and call clear() to change it)`);
      }
      if (t.dtype !== this.recDtype) throw new CinderArgumentError('spikes dtype', t.dtype, `"${this.recDtype}" (the dtype of the first record)`);
      return;
    }
    if (t.shape.length < 2 || t.size === 0) throw new CinderArgumentError('spikes', t, 'a tensor [B, ...shape] with at least one neuron dim and no zero dim');
    const n = t.size / t.shape[0]!;
    this.checkChunkElements(t.shape);
    this.checkNeurons(n);
    this.checkChunkFits(t.shape);
  }

  /** Throws unless one chunk of records of shape `shape`, stacked and padded, is one tensor of at most 2^28 elements. */
  private checkChunkElements(shape: readonly number[]): void {
    const n = numel(shape) / shape[0]!;
    checkElements('chunkSteps', this.chunkSteps * shape[0]! * Math.ceil(n / BITS) * BITS, `${this.chunkSteps} records of shape [${shape.join(', ')}] stacked (neurons padded to a multiple of ${BITS})`);
  }

  /** Bytes of packed words per step of records of shape `shape`: `4 · B · ⌈N / 24⌉`. */
  private static stepBytes(shape: readonly number[]): number {
    return 4 * shape[0]! * Math.ceil(numel(shape) / shape[0]! / BITS);
  }

  /** Throws unless one chunk of records of shape `shape` fits in `maxPendingBytes`. */
  private checkChunkFits(shape: readonly number[]): void {
    const per = SpikeRecorder.stepBytes(shape);
    if (Math.floor(this.maxPendingBytes / per) < this.chunkSteps) {
      throw new CinderArgumentError(
        'maxPendingBytes',
        this.maxPendingBytes,
        `at least ${this.chunkSteps * per} (one chunk: chunkSteps ${this.chunkSteps} · ${per} bytes of packed words per step of records of shape [${shape.join(', ')}]; raise it or lower chunkSteps)`,
      );
    }
  }

  /** Throws when one more step would hold more than `maxPendingBytes` of packed words not read yet; changes nothing. */
  private checkPending(): void {
    if (!this.recShape || this.maxPendingBytes === Infinity) return;
    const per = SpikeRecorder.stepBytes(this.recShape);
    const limit = Math.floor(this.maxPendingBytes / per);
    // steps observed and not read (a restored read part still queued counts as read: it holds no words)
    const head = this.queue[0];
    const held = this.calls - (head?.kind === 'state' ? head.readSteps : this.readCount);
    if (held + 1 > limit) {
      throw new CinderArgumentError(
        'call of observe()',
        `step ${this.calls + 1} with ${held} steps (${held * per} bytes of packed words) not read yet`,
        `at most ${limit} steps not read (maxPendingBytes ${this.maxPendingBytes} / ${per} bytes per step): the reads resolve only while the caller's loop awaits — await rec.flush() at least every ${limit} steps in a loop that does not otherwise await (or raise maxPendingBytes); this step is not recorded`,
      );
    }
  }

  private checkNeurons(n: number): void {
    const last = this.neurons ? this.neurons[this.neurons.length - 1]! : -1;
    if (last >= n) throw new CinderArgumentError('neurons', last, `indices below ${n} (the neurons per sample of the recorded spikes)`);
  }

  /** Stacks and packs the unstacked records into one chunk (a fixed number of ops) and starts reading. */
  private seal(): void {
    if (this.records.length === 0) return;
    const packed = tf.keep(tf.tidy(() => this.pack(tf.stack(this.records))));
    const n = this.records.length;
    for (const r of this.records) r.dispose();
    this.records = [];
    this.queue.push({ kind: 'records', tensor: packed, first: this.calls - n + 1, steps: n, read: null });
    this.startReads();
    this.pump();
  }

  /**
   * The words `[S · B, G]` (float32) of records `x` `[S, B, ...shape]`: see the class doc. Call
   * inside a tidy; the weights are made once and kept.
   */
  private pack(x: tf.Tensor): tf.Tensor {
    this.weights ??= tf.keep(tf.tensor1d(Array.from({ length: BITS }, (_, k) => 2 ** k), 'float32'));
    const rows = x.shape[0]! * x.shape[1]!;
    const n = x.size / rows;
    const g = Math.ceil(n / BITS);
    const flat = tf.reshape(x, [rows, n]);
    let s = tf.cast(x.dtype === 'bool' ? flat : tf.notEqual(flat, tf.scalar(0, x.dtype)), 'float32');
    if (g * BITS > n) s = tf.pad(s, [[0, 0], [0, g * BITS - n]]);
    return tf.sum(tf.mul(tf.reshape(s, [rows, g, BITS]), this.weights), 2);
  }

  /**
   * Packed words `[S · B, G]` back into records `[S, B, ...shape]` of the recorded dtype, 0/1 (for
   * snapshots): bit k of a word w is `⌊w · 2^-k⌋ − 2 · ⌊w · 2^-(k+1)⌋` (exact in float32: scaling
   * an integer below 2^24 by a power of two and flooring). Call inside a tidy.
   */
  private unpack(words: tf.Tensor, steps: number): tf.Tensor {
    const shape = this.recShape!;
    const [rows, g] = words.shape as [number, number];
    const n = numel(shape) / shape[0]!;
    const w = tf.reshape(words, [rows, g, 1]);
    const scale = (shift: number) => tf.tensor1d(Array.from({ length: BITS }, (_, k) => 2 ** -(k + shift)), 'float32');
    const bits = tf.sub(tf.floor(tf.mul(w, scale(0))), tf.mul(tf.floor(tf.mul(w, scale(1))), 2));
    const s = tf.slice(tf.reshape(bits, [rows, g * BITS]), [0, 0], [rows, n]);
    return tf.cast(tf.reshape(s, [steps, ...shape]), this.recDtype!);
  }

  /** Starts the reads of the first chunks not extracted yet (at most IN_FLIGHT outstanding). */
  private startReads(): void {
    if (this.failure) return;
    for (let i = 0; i < Math.min(IN_FLIGHT, this.queue.length); i++) this.queue[i]!.read ??= startRead(this.queue[i]!.tensor);
  }

  /** Starts the extraction loop unless it runs (or stopped on an error, until flush()). */
  private pump(): void {
    if (this.pumping || this.failure || this.queue.length === 0) return;
    const gen = this.generation;
    // the loop marks itself ended (pumping null) in the same job in which it leaves (the queue
    // empty, or on an error or a dropped generation), so a chunk sealed after that starts a new
    // loop; cleared only by a callback on `run`, one job later, a chunk sealed in between found the
    // loop still marked running and waited unread until the next seal or flush()
    let run: Promise<void> | null = null;
    const ended = (): void => {
      if (run !== null && this.pumping === run) this.pumping = null;
    };
    run = (async () => {
      try {
        while (this.generation === gen && this.queue.length > 0) {
          this.startReads();
          const c = this.queue[0]!;
          try {
            const data = await c.read!;
            if (this.generation !== gen) return;
            if (c.kind === 'state') {
              this.loadState(c, data);
            } else {
              const events = this.extract(c, data);
              if (this.onChunk) {
                // one call at a time, also across generations (a call from before a restore may still run)
                await this.handing;
                if (this.generation !== gen) return;
                const onChunk = this.onChunk;
                const call = (async () => onChunk(events, { first: c.first, last: c.first + c.steps - 1 }))();
                this.handing = call.then(
                  () => undefined,
                  () => undefined,
                );
                await call;
                if (this.generation !== gen) return;
              }
              this.commit(c, events);
            }
          } catch (error) {
            c.read = null; // read again on the next try
            if (this.generation === gen) this.failure = { error };
            return;
          }
          this.queue.shift();
          c.tensor?.dispose();
        }
      } finally {
        ended();
      }
    })();
    this.pumping = run;
    void run.finally(ended); // (the loop always awaits before it leaves, so `run` is set by then; this is a fallback)
  }

  /** The events of one chunk from its packed words (a linear scan; the state is not changed). */
  private extract(c: Extract<Chunk, { kind: 'records' }>, data: ArrayLike<number>): RecordedSpikes {
    const B = this.recShape![0]!;
    const N = this.counts.length / B;
    const G = Math.ceil(N / BITS);
    const rows = c.steps * B;
    const sub = this.neurons;
    if (data.length !== rows * G) throw new Error(`SpikeRecorder: read ${data.length} packed words for steps ${c.first}..${c.first + c.steps - 1}, expected ${rows * G}`);
    // every word an integer in [0, 2^24), the last of a row without padding bits; count the spikes
    const full = 2 ** BITS;
    const last = 2 ** (N - (G - 1) * BITS);
    let n = 0;
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < G; g++) {
        const w = data[r * G + g]!;
        if (!(Number.isInteger(w) && w >= 0 && w < (g === G - 1 ? last : full))) {
          throw new Error(`SpikeRecorder: packed word ${w} (step ${c.first + Math.floor(r / B)}, sample ${r % B}, neurons ${g * BITS}..${Math.min(N, (g + 1) * BITS) - 1}) is not an integer in [0, ${g === G - 1 ? last : full}): the backend did not pack exactly`);
        }
        if (!sub) for (let v = w; v !== 0; v &= v - 1) n++;
      }
      if (sub) for (let j = 0; j < sub.length; j++) n += (data[r * G + ((sub[j]! / BITS) | 0)]! >>> sub[j]! % BITS) & 1;
    }
    const ev: RecordedSpikes = { step: new Float64Array(n), sample: new Int32Array(n), neuron: new Int32Array(n) };
    let k = 0;
    for (let s = 0; s < c.steps; s++) {
      for (let b = 0; b < B; b++) {
        const base = (s * B + b) * G;
        if (sub) {
          for (let j = 0; j < sub.length; j++) {
            const i = sub[j]!;
            if ((data[base + ((i / BITS) | 0)]! >>> i % BITS) & 1) {
              ev.step[k] = c.first + s;
              ev.sample[k] = b;
              ev.neuron[k] = i;
              k++;
            }
          }
          continue;
        }
        for (let g = 0; g < G; g++) {
          for (let v = data[base + g]!; v !== 0; v &= v - 1) {
            ev.step[k] = c.first + s;
            ev.sample[k] = b;
            ev.neuron[k] = g * BITS + 31 - Math.clz32(v & -v); // the lowest set bit first
            k++;
          }
        }
      }
    }
    return ev;
  }

  /** Adds a chunk's events to the counts (and, in memory mode, to the kept events). */
  private commit(c: Extract<Chunk, { kind: 'records' }>, ev: RecordedSpikes): void {
    const N = this.counts.length / this.recShape![0]!;
    if (!this.onChunk) this.append(ev.step, ev.sample, ev.neuron, ev.step.length); // may throw (RangeError) before anything changed
    for (let i = 0; i < ev.step.length; i++) this.counts[ev.sample[i]! * N + ev.neuron[i]!]!++;
    this.readCount = c.first + c.steps - 1;
  }

  private append(step: Float64Array, sample: Int32Array, neuron: Int32Array, n: number): void {
    const need = this.size + n;
    if (need > this.evStep.length) {
      const cap = Math.max(need, 2 * this.evStep.length, 1024);
      const s = new Float64Array(cap), b = new Int32Array(cap), j = new Int32Array(cap);
      s.set(this.evStep.subarray(0, this.size));
      b.set(this.evSample.subarray(0, this.size));
      j.set(this.evNeuron.subarray(0, this.size));
      this.evStep = s;
      this.evSample = b;
      this.evNeuron = j;
    }
    this.evStep.set(step.subarray(0, n), this.size);
    this.evSample.set(sample.subarray(0, n), this.size);
    this.evNeuron.set(neuron.subarray(0, n), this.size);
    this.size = need;
  }

  /**
   * Reads everything observed before the call (the records not yet stacked are stacked and packed
   * now, a fixed number of ops). Resolves once their events are in {@link events} / {@link count} (or handed to `onChunk`).
   * @throws the error of a failed read or `onChunk` (the failed chunk is kept: the next flush()
   *   tries it again, and the chunks after it wait)
   */
  async flush(): Promise<void> {
    this.seal();
    const target = this.calls;
    const gen = this.generation;
    for (;;) {
      if (this.failure) {
        const { error } = this.failure;
        this.failure = null;
        throw error;
      }
      if (this.generation !== gen || this.readCount >= target) return;
      this.pump();
      if (!this.pumping) return; // nothing queued
      await this.pumping;
    }
  }

  /**
   * The kept events (copies; read ones only: `await flush()` first), sorted by step, then sample,
   * then neuron.
   * @throws CinderArgumentError in streaming mode (`onChunk`), where events are not kept
   */
  events(): RecordedSpikes {
    this.needEvents('events()');
    return { step: this.evStep.slice(0, this.size), sample: this.evSample.slice(0, this.size), neuron: this.evNeuron.slice(0, this.size) };
  }

  /**
   * Spike counts over the read records: a new `Float64Array` `[B, N]` row-major, where entry
   * `b · N + i` counts the spikes of flat neuron `i` in sample `b` (N = neurons per sample; neurons
   * outside `neurons` count 0). Empty before the first record.
   */
  count(): Float64Array {
    return this.counts.slice();
  }

  /**
   * Mean firing rates in Hz over the read records: `count / (readSteps · dtMs / 1000)`, laid out as
   * {@link count}.
   * @param dtMs the step length in ms (finite, > 0)
   * @throws CinderArgumentError for a bad `dtMs`, or before any record was read
   */
  rates(dtMs: number): Float64Array {
    if (typeof dtMs !== 'number' || !(dtMs > 0) || !Number.isFinite(dtMs)) throw new CinderArgumentError('dtMs', dtMs, 'a finite number > 0 (the step length in ms)');
    if (this.readCount === 0) throw new CinderArgumentError('read records', 0, 'at least one (await flush() first)');
    const seconds = (this.readCount * dtMs) / 1000;
    return this.counts.map((c) => c / seconds);
  }

  /**
   * Step numbers of the spikes of each recorded neuron of one sample (as Brian2's
   * `spike_trains()`, in steps: times are `step · dt`): a map from flat neuron index (every recorded
   * neuron, also silent ones) to its spike steps, ascending. Read events only.
   * @param sample batch index (integer in [0, B), default 0)
   * @throws CinderArgumentError in streaming mode, or for a bad sample
   */
  spikeTrains(sample = 0): Map<number, Float64Array> {
    this.needEvents('spikeTrains()');
    const B = this.recShape?.[0] ?? 0;
    if (!Number.isInteger(sample) || sample < 0 || sample >= B) throw new CinderArgumentError('sample', sample, B > 0 ? `an integer in [0, ${B})` : 'a recorded sample (nothing recorded yet)');
    const N = this.counts.length / B;
    const ids = this.neurons ?? Int32Array.from({ length: N }, (_, i) => i);
    const trains = new Map<number, Float64Array>();
    const fill = new Map<number, number>();
    for (const i of ids) {
      trains.set(i, new Float64Array(this.counts[sample * N + i]!));
      fill.set(i, 0);
    }
    for (let k = 0; k < this.size; k++) {
      if (this.evSample[k] !== sample) continue;
      const i = this.evNeuron[k]!;
      const f = fill.get(i)!;
      trains.get(i)![f] = this.evStep[k]!;
      fill.set(i, f + 1);
    }
    return trains;
  }

  private needEvents(what: string): void {
    if (this.onChunk) throw new CinderArgumentError(`call of ${what}`, 'on a SpikeRecorder with onChunk', 'a recorder without onChunk (in streaming mode the events go to onChunk and are not kept)');
  }

  /**
   * Asked by the layer it is attached to before the layer's batch size changes to `value`: the
   * counts and pending records are per sample of the recorded batch, so a change is refused
   * (nothing changes) while the recorder holds any record. Read the results and {@link clear} it first.
   * @throws CinderArgumentError while {@link observedSteps} > 0
   */
  checkBatchSize(value: number): void {
    if (this.calls > 0) {
      throw new CinderArgumentError('batchSize', value, `no change while an attached SpikeRecorder holds ${this.calls} records of shape [${this.recShape!.join(', ')}] (await its flush(), read it and call its clear() first)`);
    }
  }

  /**
   * Asked by a layer before it attaches the recorder: while it holds records, the recorded state
   * must still have their shape (the batch size may have changed while it was detached). Reads the
   * accessor once (no record); when the accessor throws, nothing is checked.
   * @throws CinderArgumentError when the shape differs (the recorder is then not attached)
   */
  attached(): void {
    if (this.calls === 0 || !this.recShape) return;
    const now = accessorShape(this.accessor);
    if (now && !tf.util.arraysEqual(now, this.recShape)) {
      throw new CinderArgumentError('recorded spikes', `shape [${now.join(', ')}]`, `shape [${this.recShape.join(', ')}] while the SpikeRecorder holds ${this.calls} records of it (read them and call its clear() first)`);
    }
  }


  /**
   * The recording for checkpoints (see `src/core/snapshot.ts`), taken without reading the device:
   * values `calls`, `read`, `events`, `shape`, `dtype`, `streaming`; tensor `state` (int32, the
   * read part: step high halves, step low halves, samples, neurons of the kept events, then count
   * high and low halves — value = high · 2^31 + low) and `pending` (`[P, ...shape]` of the records'
   * dtype, the records not read yet, read after a restore; those already packed are unpacked on the
   * device into 1 for a spike and 0 for silence, a fixed number of ops). Each is absent when empty.
   */
  snapshotState(): Snapshot {
    const tensors: Record<string, tf.Tensor> = {};
    const head = this.queue[0];
    // a restored state not read yet is the read part (nothing was extracted before it)
    const restored = head?.kind === 'state' ? head : null;
    const events = restored ? restored.events : this.size;
    const read = restored ? restored.readSteps : this.readCount;
    if (restored) {
      if (restored.tensor) tensors.state = restored.tensor.clone();
    } else if (this.recShape) {
      const E = this.size;
      const C = this.counts.length;
      const state = new Int32Array(4 * E + 2 * C);
      for (let k = 0; k < E; k++) {
        const s = this.evStep[k]!;
        const hi = Math.floor(s / HALF);
        state[k] = hi;
        state[E + k] = s - hi * HALF;
      }
      state.set(this.evSample.subarray(0, E), 2 * E);
      state.set(this.evNeuron.subarray(0, E), 3 * E);
      for (let i = 0; i < C; i++) {
        const v = this.counts[i]!;
        const hi = Math.floor(v / HALF);
        state[4 * E + i] = hi;
        state[4 * E + C + i] = v - hi * HALF;
      }
      if (state.length > 0) tensors.state = tf.tensor1d(state, 'int32');
    }
    const packed: tf.Tensor[] = [];
    let packedSteps = 0;
    for (const c of this.queue) {
      if (c.kind !== 'records') continue;
      packed.push(c.tensor);
      packedSteps += c.steps;
    }
    if (this.records.length > 0 || packed.length > 0) {
      tensors.pending = tf.tidy(() => {
        const all: tf.Tensor[] = [];
        if (packed.length > 0) all.push(this.unpack(packed.length === 1 ? packed[0]! : tf.concat(packed, 0), packedSteps));
        if (this.records.length > 0) all.push(tf.stack(this.records));
        return all.length === 1 ? all[0]! : tf.concat(all, 0);
      });
    }
    return { tensors, values: { calls: this.calls, read, events, shape: this.recShape ? [...this.recShape] : null, dtype: this.recDtype, streaming: this.onChunk !== null } };
  }

  /**
   * Restores what {@link snapshotState} captured (the read part is cloned and the pending records
   * packed as a chunk, no read: both are read asynchronously — `await flush()` before reading the results).
   * Checks everything first (counters, shapes, dtypes, the mode, the `neurons` range, one chunk
   * within `maxPendingBytes` and, stacked and padded, within one tensor's 2^28 elements, as the
   * first `observe()` does, and — reading the accessor once, unless it throws — the shape of the
   * state recorded now) and changes nothing when one fails. Pending records beyond `maxPendingBytes`
   * are restored all the same; `observe()` then refuses until they are read. Reads of the recording
   * before the restore are dropped.
   *
   * The read part's content (on the device until read) is checked when it is read, before any of it
   * is put in place: every event within range and, with a `neurons` subset, of one of those
   * neurons; the events strictly sorted by step, then sample, then neuron (as the recorder keeps
   * them); and every count equal to its events' tally (memory mode, where every read event is kept)
   * or, in streaming mode, an integer in `[0, read]`, 0 for a neuron outside `neurons`. An
   * inconsistent snapshot makes `flush()` throw a {@link CinderArgumentError} naming the first
   * offending event or count; no event or count of it is taken (`readSteps` stays 0), and each
   * further `flush()` throws the same.
   */
  restoreState(s: Snapshot): void {
    const v = s.values;
    const int = (name: string, x: unknown): number => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw new CinderArgumentError(`snapshot ${name}`, x, 'an integer >= 0');
      return x;
    };
    const calls = int('calls', v.calls);
    const read = int('read', v.read);
    const events = int('events', v.events);
    if (read > calls) throw new CinderArgumentError('snapshot read', read, `at most calls (${calls})`);
    if (v.streaming !== (this.onChunk !== null)) throw new CinderArgumentError('snapshot streaming', v.streaming, `${this.onChunk !== null} (the mode of this recorder: onChunk given or not)`);
    if (this.onChunk && events > 0) throw new CinderArgumentError('snapshot events', events, '0 (a streaming recorder keeps no events)');
    const shape = v.shape;
    const dtype = v.dtype;
    const known = Array.isArray(shape);
    if (known) {
      if (shape.length < 2 || shape.some((d) => !Number.isInteger(d) || (d as number) <= 0)) throw new CinderArgumentError('snapshot shape', shape, 'an array [B, ...shape] of positive integers');
      if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') throw new CinderArgumentError('snapshot dtype', dtype, 'float32, int32 or bool');
    } else if (shape !== null || calls > 0 || events > 0) {
      throw new CinderArgumentError('snapshot shape', shape, calls > 0 ? 'the records\' shape (the snapshot holds records)' : 'null or an array of positive integers');
    }
    const recShape = known ? (shape as number[]) : null;
    const C = recShape ? numel(recShape) : 0;
    const stateLength = 4 * events + 2 * C;
    const st = s.tensors.state;
    if (stateLength > 0 ? !st || st.dtype !== 'int32' || !tf.util.arraysEqual(st.shape, [stateLength]) : st !== undefined) {
      throw new CinderArgumentError('snapshot tensor state', st, stateLength > 0 ? `int32 [${stateLength}] (4 · events + 2 · counts)` : 'none');
    }
    const P = calls - read;
    const pend = s.tensors.pending;
    if (P > 0 ? !pend || pend.dtype !== dtype || !tf.util.arraysEqual(pend.shape, [P, ...recShape!]) : pend !== undefined) {
      throw new CinderArgumentError('snapshot tensor pending', pend, P > 0 ? `${String(dtype)} [${[P, ...recShape!].join(', ')}] (calls - read records)` : 'none');
    }
    for (const k of Object.keys(s.tensors)) if (k !== 'state' && k !== 'pending') throw new CinderArgumentError('snapshot tensor', k, 'state or pending');
    if (recShape) {
      this.checkChunkElements(recShape);
      this.checkNeurons(C / recShape[0]!);
      this.checkChunkFits(recShape);
      const now = calls > 0 ? accessorShape(this.accessor) : null;
      if (now && !tf.util.arraysEqual(now, recShape)) {
        throw new CinderArgumentError('snapshot shape', recShape, `[${now.join(', ')}] (the shape of the recorded spikes now; was the snapshot taken at another batch size?)`);
      }
    }
    const packed = P > 0 ? tf.keep(tf.tidy(() => this.pack(pend!))) : null;
    this.reset();
    this.recShape = recShape ? [...recShape] : null;
    this.recDtype = recShape ? (dtype as tf.DataType) : null;
    this.counts = new Float64Array(C);
    this.calls = calls;
    if (recShape) this.queue.push({ kind: 'state', tensor: st ? tf.keep(st.clone()) : null, events, readSteps: read, read: null });
    if (packed) this.queue.push({ kind: 'records', tensor: packed, first: read + 1, steps: P, read: null });
    this.pump();
  }

  /** Puts a restored read part (events and counts) in place. */
  private loadState(c: Extract<Chunk, { kind: 'state' }>, data: ArrayLike<number>): void {
    const E = c.events;
    const C = this.counts.length;
    const B = this.recShape![0]!;
    const N = C / B;
    const step = new Float64Array(E), sample = new Int32Array(E), neuron = new Int32Array(E);
    const tally = new Float64Array(C);
    // with a `neurons` subset only those are recorded: 1 for a recorded neuron (all below N, checked on restore)
    const sub = this.neurons;
    let recorded: Uint8Array | null = null;
    if (sub) {
      recorded = new Uint8Array(N);
      for (const i of sub) recorded[i] = 1;
    }
    const subset = (): string => `among the ${sub!.length} recorded neurons (options.neurons: ${sub!.length > 8 ? `${Array.from(sub!.subarray(0, 8)).join(', ')}, …` : Array.from(sub!).join(', ')})`;
    for (let k = 0; k < E; k++) {
      step[k] = data[k]! * HALF + data[E + k]!;
      sample[k] = data[2 * E + k]!;
      neuron[k] = data[3 * E + k]!;
      if (!(step[k]! >= 1 && step[k]! <= c.readSteps && sample[k]! >= 0 && sample[k]! < B && neuron[k]! >= 0 && neuron[k]! < N)) {
        throw new CinderArgumentError(`restored event ${k}`, `(step ${step[k]}, sample ${sample[k]}, neuron ${neuron[k]})`, `step in [1, ${c.readSteps}], sample in [0, ${B}), neuron in [0, ${N})`);
      }
      if (recorded && !recorded[neuron[k]!]) {
        throw new CinderArgumentError(`restored event ${k}`, `(step ${step[k]}, sample ${sample[k]}, neuron ${neuron[k]})`, `a neuron ${subset()}`);
      }
      // strictly after the previous event by (step, sample, neuron), as recorded (one spike per neuron and step)
      if (k > 0) {
        const ds = step[k]! - step[k - 1]!;
        const db = sample[k]! - sample[k - 1]!;
        if (!(ds > 0 || (ds === 0 && (db > 0 || (db === 0 && neuron[k]! > neuron[k - 1]!))))) {
          throw new CinderArgumentError(
            `restored event ${k}`,
            `(step ${step[k]}, sample ${sample[k]}, neuron ${neuron[k]}) after (step ${step[k - 1]}, sample ${sample[k - 1]}, neuron ${neuron[k - 1]})`,
            'events sorted by step, then sample, then neuron, each once (as the recorder keeps them)',
          );
        }
      }
      tally[sample[k]! * N + neuron[k]!]!++;
    }
    const counts = new Float64Array(C);
    for (let i = 0; i < C; i++) {
      counts[i] = data[4 * E + i]! * HALF + data[4 * E + C + i]!;
      // memory mode keeps every event read: the counts are their tally; streaming keeps counts only,
      // each at most one spike per read step
      // (a neuron outside `neurons` is not recorded: its count is 0, in memory mode its tally)
      const unrecorded = recorded !== null && !recorded[i % N];
      const ok = this.onChunk ? counts[i]! >= 0 && counts[i]! <= c.readSteps && !(unrecorded && counts[i] !== 0) : counts[i] === tally[i];
      if (!ok) {
        throw new CinderArgumentError(
          `restored count of sample ${Math.floor(i / N)}, neuron ${i % N}`,
          counts[i],
          !this.onChunk ? `${tally[i]} (its restored events)` : unrecorded ? `0 (neuron ${i % N} is not recorded: not ${subset()})` : `a count in [0, ${c.readSteps}] (at most one spike per read step)`,
        );
      }
    }
    this.evStep = step;
    this.evSample = sample;
    this.evNeuron = neuron;
    this.size = E;
    this.counts = counts;
    this.readCount = c.readSteps;
  }

  /** Drops all records, events and counts and restarts the step count. */
  clear(): void {
    this.reset();
  }

  /** Frees the records and the packing weights held on the device (and drops the events). */
  dispose(): void {
    this.reset();
  }

  /** Drops everything; reads in flight are abandoned (their tensors freed once they settle). */
  private reset(): void {
    this.generation++;
    this.pumping = null;
    this.failure = null;
    for (const r of this.records) r.dispose();
    this.records = [];
    this.weights?.dispose();
    this.weights = null;
    for (const c of this.queue) {
      const t = c.tensor;
      if (!t) continue;
      if (c.read) void c.read.then(() => t.dispose(), () => t.dispose());
      else t.dispose();
    }
    this.queue = [];
    this.recShape = null;
    this.recDtype = null;
    this.calls = 0;
    this.readCount = 0;
    this.counts = new Float64Array(0);
    this.evStep = new Float64Array(0);
    this.evSample = new Int32Array(0);
    this.evNeuron = new Int32Array(0);
    this.size = 0;
  }
}
