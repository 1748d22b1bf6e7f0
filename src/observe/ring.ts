/**
 * Fixed-capacity ring buffers used for histories (reducers) and recordings (recorder). Pushing
 * into a full ring overwrites the oldest slot, so memory never grows past the capacity.
 * @module
 */
import { tf } from '../core/tf.js';
import { CinderArgumentError, checkInteger } from '../core/errors.js';

/** A ring of at most `capacity` items; index 0 of {@link Ring.ago} is the newest. */
export class Ring<T> {
  private readonly slots: (T | undefined)[];
  private head = 0;
  private count = 0;

  /** @param capacity maximum number of items kept (integer >= 1) */
  constructor(readonly capacity: number) {
    checkInteger('capacity', capacity, 1);
    this.slots = new Array<T | undefined>(capacity).fill(undefined);
  }

  /** Number of items held (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  /** Appends `item` as the newest; returns the evicted oldest item when the ring was full. */
  push(item: T): T | undefined {
    const evicted = this.count === this.capacity ? this.slots[this.head] : undefined;
    this.slots[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    return evicted;
  }

  /** The item pushed `k` pushes ago (0 = newest); throws unless 0 <= k < size. */
  ago(k: number): T {
    if (!Number.isInteger(k) || k < 0 || k >= this.count) {
      throw new CinderArgumentError('k', k, this.count === 0 ? 'no access: nothing recorded yet' : `an integer in [0, ${this.count - 1}]`);
    }
    return this.slots[(this.head - 1 - k + 2 * this.capacity) % this.capacity] as T;
  }

  /** The items from oldest to newest. */
  items(): T[] {
    const out: T[] = [];
    for (let k = this.count - 1; k >= 0; k--) out.push(this.ago(k));
    return out;
  }

  /** Removes all items and returns them (oldest first). */
  drain(): T[] {
    const out = this.items();
    this.slots.fill(undefined);
    this.head = 0;
    this.count = 0;
    return out;
  }
}

/** A {@link Ring} of tensor references that owns its tensors: evicted and cleared tensors are disposed. */
export class TensorRing {
  private readonly ring: Ring<tf.Tensor>;

  /** @param capacity maximum number of tensors kept (integer >= 1) */
  constructor(capacity: number) {
    this.ring = new Ring<tf.Tensor>(capacity);
  }

  /** Maximum number of tensors kept. */
  get capacity(): number {
    return this.ring.capacity;
  }

  /** Number of tensors held. */
  get size(): number {
    return this.ring.size;
  }

  /** Takes ownership of `t` (which must be kept, i.e. outside any tidy's reach) and disposes the evicted one. */
  push(t: tf.Tensor): void {
    this.ring.push(t)?.dispose();
  }

  /** The tensor pushed `k` pushes ago (0 = newest). Owned by the ring: valid until it is evicted. */
  ago(k: number): tf.Tensor {
    return this.ring.ago(k);
  }

  /** The tensors from oldest to newest (references owned by the ring). */
  items(): tf.Tensor[] {
    return this.ring.items();
  }

  /** Stacks the held tensors, oldest first, into a new tensor `[size, ...]` owned by the caller. */
  stack(): tf.Tensor {
    if (this.ring.size === 0) throw new CinderArgumentError('history', 'empty', 'at least one stored value (fold/observe first)');
    return tf.stack(this.ring.items());
  }

  /** Disposes every held tensor. */
  clear(): void {
    for (const t of this.ring.drain()) t.dispose();
  }
}
