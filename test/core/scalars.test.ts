// ScalarCache: one float32 scalar per distinct value (−0 apart from +0), reused, the oldest freed
// past the capacity, and no tensor left after dispose.
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { ScalarCache } from '../../src/core/scalars.js';

describe('ScalarCache', () => {
  it('keeps −0 and +0 apart: 1/get(−0) is −Infinity after get(0) (and the reverse)', () => {
    const c = new ScalarCache(4);
    expect(1 / c.get(0).dataSync()[0]!).toBe(Infinity);
    expect(1 / c.get(-0).dataSync()[0]!).toBe(-Infinity);
    const d = new ScalarCache(4);
    expect(1 / d.get(-0).dataSync()[0]!).toBe(-Infinity);
    expect(1 / d.get(0).dataSync()[0]!).toBe(Infinity);
    // x·(−0) for x > 0 is −0 through the cached scalar, as through tf.scalar(−0)
    const x = tf.scalar(3);
    const y = tf.mul(x, c.get(-0));
    expect(Object.is(y.dataSync()[0], -0)).toBe(true);
    tf.dispose([x, y]);
    c.dispose();
    d.dispose();
  });

  it('reuses one scalar per value (NaN included), holds float32 of the value, frees the oldest past capacity and all on dispose', () => {
    const n0 = tf.memory().numTensors;
    const c = new ScalarCache(3);
    const a = c.get(0.1);
    expect(c.get(0.1)).toBe(a);
    expect(a.dataSync()[0]).toBe(Math.fround(0.1));
    const nan = c.get(NaN);
    expect(c.get(NaN)).toBe(nan);
    c.get(2);
    expect(tf.memory().numTensors).toBe(n0 + 3);
    c.get(5); // evicts 0.1, the oldest
    expect(a.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(n0 + 3);
    expect(c.get(NaN)).toBe(nan);
    c.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });
});
