// share(): a new handle on a tensor's data with no copy and no kernel — the same data id, its own
// lifetime (the data lives until the last handle is disposed), tracked by tf.tidy, and a Reshape
// while gradients are recorded (so gradients flow through it).
import { describe, expect, it } from 'vitest';
import { fusedBackends } from '../kernels/backends.js';
import { tf, share } from '../../src/core/tf.js';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

describe.each(fusedBackends())('share on %s', (backend) => {
  it('shares the data (same data id, no kernel) and keeps it alive after the original is disposed', async () => {
    await tf.setBackend(backend);
    const n0 = tf.memory().numTensors;
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const p = await tf.profile(() => share(x));
    const y = p.result as tf.Tensor;
    expect(p.kernels).toHaveLength(0);
    expect(y.dataId).toBe(x.dataId);
    expect(y).not.toBe(x);
    expect(y.shape).toEqual([2, 3]);
    expect(tf.memory().numTensors).toBe(n0 + 2);
    x.dispose();
    expect([...((await y.data()) as Float32Array)]).toEqual([1, 2, 3, 4, 5, 6]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });

  it('is tracked by tf.tidy like any kernel output, and kept with tf.keep', async () => {
    await tf.setBackend(backend);
    const x = tf.tensor1d([7, 8]);
    const n0 = tf.memory().numTensors;
    tf.tidy(() => {
      share(x);
    });
    expect(tf.memory().numTensors).toBe(n0);
    const kept = tf.tidy(() => tf.keep(share(x)));
    x.dispose();
    expect([...((await kept.data()) as Float32Array)]).toEqual([7, 8]);
    kept.dispose();
  });

  it('passes gradients while they are recorded: d/dx Σ share(x)² = 2x', async () => {
    await tf.setBackend(backend);
    const x = tf.tensor1d([1.5, -2]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.square(share(v))))(x);
    expect([...((await g.data()) as Float32Array)]).toEqual([3, -4]);
    tf.dispose([x, g]);
  });
});
