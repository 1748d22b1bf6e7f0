// The fused outer update caches its compiled rule by a key naming the rule's constants: rules that
// differ only in a clamp of −0 vs +0, or +∞ vs −∞, must not share one (JSON writes −0 as 0 and
// both infinities as null). A NaN limit is refused.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf } from '../../src/core/tf.js';
import { fusedOuterUpdate } from '../../src/kernels/js/fused-outer-update.js';

const backends = fusedBackends();

/** w (2×3) + 1·post⊗pre with one sample, then the clamps; returns the values. */
async function update(w0: number[], clamps: { min?: number; max?: number }[]): Promise<Float32Array> {
  const w = tf.tensor2d(w0, [2, 3]);
  const post = tf.tensor2d([1, 0], [1, 2]);
  const pre = tf.tensor2d([1, 0, 0], [1, 3]);
  try {
    const out = fusedOuterUpdate(w, [{ post, pre, divisor: 1, side: 'pos' }], null, clamps);
    const v = (await out.data()) as Float32Array;
    out.dispose();
    return v;
  } finally {
    tf.dispose([w, post, pre]);
  }
}

describe.each(backends)('fused outer update rule keys (%s)', (backend) => {
  it('clamp max +∞, then −∞: each its own rule (the old key null made the second the first); a NaN limit is refused', async () => {
    await tf.setBackend(backend);
    const w0 = [-1, 2, 3, 4, 5, 6];
    expect(Array.from(await update(w0, [{ max: Infinity }]))).toEqual([0, 2, 3, 4, 5, 6]);
    expect(Array.from(await update(w0, [{ max: -Infinity }]))).toEqual(Array(6).fill(-Infinity));
    expect(Array.from(await update(w0, [{ min: -Infinity }]))).toEqual([0, 2, 3, 4, 5, 6]);
    expect(Array.from(await update(w0, [{ min: Infinity }]))).toEqual(Array(6).fill(Infinity));
    const before = tf.memory().numTensors;
    await expect(update(w0, [{ min: 0 }, { max: NaN }])).rejects.toThrow('invalid clamps[1].max: got NaN, expected a number or undefined (not NaN)');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('clamp min +0, then −0: the sign of a clamped zero as Math.max gives it', async () => {
    await tf.setBackend(backend);
    const w0 = [-2, -1, 3, -4, 5, 6];
    const a = await update(w0, [{ min: 0 }]);
    const b = await update(w0, [{ min: -0 }]);
    expect(Object.is(a[1], 0)).toBe(true);
    expect(Object.is(b[1], -0)).toBe(true); // max(−1, −0) = −0
    expect(Object.is(b[3], -0)).toBe(true);
  });
});
