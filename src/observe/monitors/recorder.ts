/**
 * @module
 */
import { share, tf } from '../../core/tf.js';
import { accessorShape } from './accessor-shape.js';
import type { Snapshot } from '../../core/snapshot.js';
import { CinderArgumentError, checkElements, checkInteger, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { checkSyncReads } from '../../core/backend.js';
import type { Observer } from '../../neural/types.js';
import { Ring, TensorRing } from '../ring.js';
import { OBSERVE_OPTION_KEYS, Schedule, type ObserveOptions } from './schedule.js';

/** Options of {@link Recorder}. */
export interface RecorderOptions extends ObserveOptions {
  /** Maximum number of records kept (integer >= 1); older records are overwritten. */
  capacity: number;
}

/** The keys of {@link RecorderOptions}. */
export const RECORDER_OPTION_KEYS = optionKeys<RecorderOptions>()([...OBSERVE_OPTION_KEYS, 'capacity']);

/** Records downloaded in one piece by {@link Recorder.toArray}. */
export interface RecordedArray {
  /** The records `[T, ...shape]`, row-major, oldest first. */
  data: Float32Array;
  /** `[T, ...shape]`. */
  shape: number[];
}

/**
 * Records any state every n steps into a pre-allocated ring of fixed capacity (tensor references,
 * no copies: the observed tensor is cloned, which shares its data). The first observation reserves
 * all `capacity` slots at once; each later record takes the place of a reserved slot, so the tensor
 * count and bytes stay the same from the first record on. Read it back once after the run with
 * {@link toTensor} or {@link toArray}.
 *
 * Unlike monitors it records in evaluation mode too (`trainOnly` defaults to false).
 */
export class Recorder implements Observer {
  /** When true the layer calls {@link observe} only in training mode (default false). */
  readonly trainOnly: boolean;
  private readonly accessor: () => tf.Tensor;
  private readonly schedule: Schedule;
  private readonly ring: TensorRing;
  private readonly steps: Ring<number>;
  /** Reserved slots not yet taken by a record (allocated on the first observation). */
  private reserve: tf.Tensor[] | null = null;

  /**
   * @param accessor returns the recorded tensor (e.g. `() => neuron.voltage`)
   * @param options `capacity` (required), `every`, `trainOnly`
   */
  constructor(accessor: () => tf.Tensor, options: RecorderOptions) {
    if (typeof accessor !== 'function') throw new CinderArgumentError('accessor', accessor, 'a function returning a tensor');
    if (new.target === Recorder) checkOptionKeys('options', options, RECORDER_OPTION_KEYS);
    checkInteger('capacity', options?.capacity, 1);
    checkElements('capacity', options.capacity, 'recorder slots');
    this.accessor = accessor;
    this.trainOnly = options.trainOnly ?? false;
    this.schedule = new Schedule(options.every);
    this.ring = new TensorRing(options.capacity);
    this.steps = new Ring<number>(options.capacity);
  }

  /** Maximum number of records. */
  get capacity(): number {
    return this.ring.capacity;
  }

  /** Record on every n-th call. */
  get every(): number {
    return this.schedule.every;
  }

  /** Number of records held. */
  get size(): number {
    return this.ring.size;
  }

  /**
   * Records the state on every n-th call. Every record must have the shape of the first (until
   * {@link clear}); a call that throws (the accessor, or a record of another shape) changes nothing
   * and is not counted.
   */
  observe(): void {
    if (!this.schedule.due) {
      this.schedule.tick();
      return;
    }
    const t = tf.tidy(() => {
      const v = this.accessor();
      return v.dtype === 'float32' ? share(v) : tf.cast(v, 'float32'); // a handle (tensors are immutable), no copy
    });
    const first = this.ring.size > 0 ? this.ring.ago(0).shape : null;
    if (first && (first.length !== t.shape.length || first.some((d, i) => d !== t.shape[i]))) {
      const err = new CinderArgumentError('record', t, `shape [${first.join(', ')}] (the shape of the first record; call clear() to change it)`);
      t.dispose();
      throw err;
    }
    if (this.reserve === null) {
      const shape = t.shape;
      try {
        checkElements('capacity', this.ring.capacity * t.size, `${this.ring.capacity} records of shape [${shape.join(', ')}]`);
      } catch (e) {
        t.dispose();
        throw e;
      }
      this.reserve = Array.from({ length: this.ring.capacity }, () => tf.keep(tf.zeros(shape)));
    }
    if (this.ring.size < this.ring.capacity) this.reserve.pop()?.dispose();
    this.schedule.tick();
    this.ring.push(tf.keep(t));
    this.steps.push(this.schedule.count);
  }

  /**
   * Asked by the layer it is attached to before the layer's batch size changes to `value`: the
   * records are stacked into one tensor and keep the shape of the first, so a change is refused
   * (nothing changes) while the recorder holds records. Read them ({@link toArray}) and
   * {@link clear} it first.
   * @throws CinderArgumentError while {@link size} > 0
   */
  checkBatchSize(value: number): void {
    if (this.ring.size > 0) {
      const shape = this.ring.ago(0).shape;
      throw new CinderArgumentError('batchSize', value, `no change while an attached Recorder holds ${this.ring.size} records of shape [${shape.join(', ')}] (read them and call its clear() first)`);
    }
  }

  /**
   * Asked by a layer before it attaches the recorder: while it holds records, the state it records
   * must still have their shape (the layer's batch size may have changed while the recorder was
   * detached, and the next record would then be refused after the layer's neurons stepped). Reads
   * the accessor once (no record); when the accessor throws, nothing is checked.
   * @throws CinderArgumentError when the recorded state's shape differs from the records' (the
   *   recorder is then not attached)
   */
  attached(): void {
    if (this.ring.size === 0) return;
    const held = this.ring.ago(0).shape;
    const shape = accessorShape(this.accessor);
    if (shape && !tf.util.arraysEqual(shape, held)) {
      throw new CinderArgumentError('recorded state', `shape [${shape.join(', ')}]`, `shape [${held.join(', ')}] while the Recorder holds ${this.ring.size} records of it (the batch size changed while it was detached? read them and call its clear() first)`);
    }
  }

  /** For each held record, oldest first, the number of the `observe()` call that made it (1-based). */
  recordedSteps(): number[] {
    return this.steps.items();
  }

  /** The record made `k` records ago (0 = newest; owned by the recorder). */
  ago(k: number): tf.Tensor {
    return this.ring.ago(k);
  }

  /** All records stacked oldest first: a new tensor `[T, ...shape]` owned by the caller. */
  toTensor(): tf.Tensor {
    return this.ring.stack();
  }

  /**
   * All records as one download: `data` holds `[T, ...shape]` row-major. Synchronous (`dataSync`):
   * refused on webgpu in Node (see {@link checkSyncReads}); there use {@link Recorder.toArrayAsync}.
   */
  toArray(): RecordedArray {
    checkSyncReads('Recorder.toArray', 'await recorder.toArrayAsync()');
    const t = this.toTensor();
    try {
      return { data: Float32Array.from(t.dataSync() as Float32Array), shape: t.shape };
    } finally {
      t.dispose();
    }
  }

  /** {@link Recorder.toArray} with one `await data()` (works on every backend, webgpu included). */
  async toArrayAsync(): Promise<RecordedArray> {
    const t = this.toTensor();
    try {
      return { data: Float32Array.from((await t.data()) as Float32Array), shape: t.shape };
    } finally {
      t.dispose();
    }
  }

  /**
   * The records (the caller's own handles on their data, no copy; oldest first, as `r0`, `r1`, …),
   * their call numbers and the call count, for checkpoints (see `src/core/snapshot.ts`).
   */
  snapshotState(): Snapshot {
    const tensors: Record<string, tf.Tensor> = {};
    this.ring.items().forEach((t, i) => (tensors[`r${i}`] = share(t)));
    return { tensors, values: { calls: this.schedule.count, steps: this.steps.items() } };
  }

  /**
   * Restores what {@link snapshotState} captured (taking its own handles on the tensors' data);
   * checks everything (call numbers: integers in [1, calls], increasing; consecutive float32 records of one shape;
   * and — reading the accessor once, unless it
   * throws — records of the shape of the state recorded now, e.g. not `[2, n]` voltages of a
   * snapshot taken at batch 2 against `[5, n]` now) before changing anything.
   */
  restoreState(s: Snapshot): void {
    const steps = s.values.steps;
    const calls = s.values.calls;
    const n = Object.keys(s.tensors).length;
    if (!Array.isArray(steps) || steps.length !== n || n > this.ring.capacity) {
      throw new CinderArgumentError('snapshot steps', steps, `${n} call numbers, at most ${this.ring.capacity} (the capacity)`);
    }
    if (typeof calls !== 'number' || !Number.isInteger(calls) || calls < 0) throw new CinderArgumentError('snapshot calls', calls, 'an integer >= 0');
    // call numbers as observe() makes them: integers in [1, calls], increasing (oldest first)
    for (const [i, k] of steps.entries()) {
      const low = i > 0 ? (steps[i - 1] as number) + 1 : 1;
      if (typeof k !== 'number' || !Number.isInteger(k) || k < low || k > calls) {
        throw new CinderArgumentError(`snapshot steps[${i}]`, k, low > calls ? `none (at most ${calls} calls)` : `an integer in [${low}, ${calls}] (call numbers increase, at most calls)`);
      }
    }
    const records = Array.from({ length: n }, (_, i) => {
      const t = s.tensors[`r${i}`];
      if (!t) throw new CinderArgumentError('snapshot records', `r${i}`, 'consecutive entries r0, r1, …');
      return t;
    });
    // every record is float32 (observe() casts to it) of the first one's shape (toTensor stacks them)
    for (const [i, t] of records.entries()) {
      if (t.dtype !== 'float32') throw new CinderArgumentError(`snapshot record r${i} dtype`, t.dtype, 'float32 (the dtype of the records)');
      if (!tf.util.arraysEqual(t.shape, records[0]!.shape)) throw new CinderArgumentError(`snapshot record r${i}`, t, `shape [${records[0]!.shape.join(', ')}] (the shape of r0)`);
    }
    // and the shape of the state recorded now (else the next record would be refused after the layer stepped)
    const now = n > 0 ? accessorShape(this.accessor) : null;
    if (now && !tf.util.arraysEqual(now, records[0]!.shape)) {
      throw new CinderArgumentError('snapshot record r0', records[0], `shape [${now.join(', ')}] (the shape of the recorded state now; was the snapshot taken at another batch size?)`);
    }
    this.clear();
    for (const [i, t] of records.entries()) {
      if (this.reserve === null) this.reserve = Array.from({ length: this.ring.capacity }, () => tf.keep(tf.zeros(t.shape)));
      this.reserve.pop()?.dispose();
      this.ring.push(tf.keep(share(t)));
      this.steps.push(steps[i] as number);
    }
    this.schedule.reset(calls);
  }

  /** Drops all records (and the reserved slots, re-reserved at the next record) and restarts the call count. */
  clear(): void {
    this.freeReserve();
    this.ring.clear();
    this.steps.drain();
    this.schedule.reset();
  }

  /** Frees the records. */
  dispose(): void {
    this.freeReserve();
    this.ring.clear();
    this.steps.drain();
  }

  private freeReserve(): void {
    for (const t of this.reserve ?? []) t.dispose();
    this.reserve = null;
  }
}
