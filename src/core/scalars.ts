/**
 * @module
 */
import { tf } from './tf.js';
import { checkInteger } from './errors.js';
import { configFields } from './snapshot.js';

/**
 * Float32 scalars for values that change between calls but take few distinct values (rewards ±1,
 * batch sizes, scales): each value is uploaded once and reused, so the step loop creates no
 * tensors for them. At most `capacity` scalars are kept (the oldest is freed first).
 */
export class ScalarCache {
  /** Keyed by the value, −0 as the string `'-0'` (a Map's key equality takes −0 for +0). */
  private readonly map = new Map<number | string, tf.Scalar>();

  /**
   * Creates an empty cache.
   * @param capacity maximum number of cached scalars (integer >= 1, default 64)
   */
  constructor(readonly capacity = 64) {
    checkInteger('capacity', capacity, 1);
    configFields(this, 'capacity'); // a setting: a snapshot of an owner compares it, never assigns it
  }

  /**
   * The float32 scalar for `value` (rounded once from float64; −0 and +0 are distinct values, as
   * `1/x` and `x·y` tell them apart). Owned by the cache.
   */
  get(value: number): tf.Scalar {
    const key = Object.is(value, -0) ? '-0' : value;
    let s = this.map.get(key);
    if (s === undefined) {
      if (this.map.size >= this.capacity) {
        const [k, old] = this.map.entries().next().value as [number | string, tf.Scalar];
        this.map.delete(k);
        old.dispose();
      }
      s = tf.keep(tf.scalar(value));
      this.map.set(key, s);
    }
    return s;
  }

  /** Frees all scalars. */
  dispose(): void {
    for (const s of this.map.values()) s.dispose();
    this.map.clear();
  }
}
