// CAReducer's fold count on webgpu: tfjs-webgpu adds int32 tensors in float32, so an int32 count
// stopped at 2^24 there ((2^24 + 1) + 1 gave 2^24) and the average of a long run stopped falling
// with n. The count is now a float32 multiple of 2^24 plus a float32 remainder below 2^24, both
// exact. Reference: the float64 sums (exact here) over n, rounded once to float32.
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { CAReducer } from '../../src/observe/reducers/ca.js';
import { webgpuForTests } from './gpu.js';

const gpu = await webgpuForTests();

describe.skipIf(!gpu.ok)(`CAReducer past 2^24 folds on webgpu (${gpu.detail})`, () => {
  it('restored at 2^24 − 3 folds (rates 0.5, 0.25), 1000 folds of [0, 1]: sum/n with the count going on', async () => {
    const start = 2 ** 24 - 3;
    const r = new CAReducer();
    const s0 = [start * 0.5, start * 0.25 + 0.25]; // 2^23 − 1.5 and 2^22 − 0.5, exact in float32 (as every later sum)
    const h0 = tf.tensor1d([0.5, 0.25]);
    const sum = tf.tensor1d(s0);
    r.restoreState({ tensors: { h0, sum }, values: { folds: start } });
    tf.dispose([h0, sum]);
    const obs = tf.tensor1d([0, 1]);
    const before = tf.memory().numTensors;
    const seen: number[][] = [];
    for (let k = 1; k <= 1000; k++) {
      r.fold(obs);
      if (k <= 6 || k === 1000) seen.push(Array.from(await r.latest.data()));
    }
    expect(tf.memory().numTensors).toBe(before);
    // the sums stay exact in float32 (below 2^23, whole or half numbers); one rounding of sum/n
    const want = [1, 2, 3, 4, 5, 6, 1000].map((k) => [s0[0]! / Math.fround(start + k), (s0[1]! + k) / Math.fround(start + k)].map(Math.fround));
    for (let i = 0; i < want.length; i++) {
      for (let j = 0; j < 2; j++) {
        // within 2 float32 ulps (WGSL division is accurate to 2.5 ulps); a count stopped at 2^24 is off by ~1000/2^24 relative
        expect(Math.abs(seen[i]![j]! - want[i]![j]!), `fold ${i} cell ${j}: ${seen[i]![j]} vs ${want[i]![j]}`).toBeLessThanOrEqual(2 * 2 ** -24 * 2 ** Math.ceil(Math.log2(want[i]![j]!)));
      }
    }
    obs.dispose(); r.dispose();
  });
});
