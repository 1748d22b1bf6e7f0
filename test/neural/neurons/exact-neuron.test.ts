import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { ExactNeuron } from '../../../src/neural/index.js';

describe('ExactNeuron', () => {
  it('spikes where the input is > 0; voltage = threshV where spiking else restV; refrac = 0', () => {
    const n = new ExactNeuron([2, 2], 1, { restV: -60, threshV: -50, batchSize: 2 });
    const x = tf.tensor3d([
      [
        [0.5, 0],
        [-1, 2],
      ],
      [
        [0, 0],
        [1e-6, -3],
      ],
    ]);
    const s = n.forward(x);
    expect(Array.from(s.dataSync())).toEqual([1, 0, 0, 1, 0, 0, 1, 0]);
    expect(s.dtype).toBe('float32');
    expect(Array.from(n.spike.dataSync())).toEqual([1, 0, 0, 1, 0, 0, 1, 0]);
    expect(Array.from(n.voltage.dataSync())).toEqual([-50, -60, -60, -50, -60, -60, -50, -60]);
    expect(Array.from(n.refrac.dataSync())).toEqual(new Array(8).fill(0));
    s.dispose();
    x.dispose();
    n.dispose();
  });

  it('override (bool or numeric, any shape with B·count elements) replaces the input', () => {
    const n = new ExactNeuron(3, 1, { restV: -60, threshV: -50 });
    const x = tf.fill([1, 3], 5);
    const o1 = tf.tensor1d([false, true, false], 'bool');
    const s1 = n.forward(x, { override: o1 });
    expect(Array.from(s1.dataSync())).toEqual([0, 1, 0]);
    const o2 = tf.tensor2d([[1], [0], [1]]);
    const s2 = n.forward({}, { override: o2 });
    expect(Array.from(s2.dataSync())).toEqual([1, 0, 1]);
    expect(Array.from(n.voltage.dataSync())).toEqual([-50, -60, -50]);
    const s3 = n.forward({});
    expect(Array.from(s3.dataSync())).toEqual([0, 0, 0]);
    [x, o1, o2, s1, s2, s3].forEach((t) => t.dispose());
    n.dispose();
  });

  it('clear, batch size change and a flat tensor count over 1000 steps', () => {
    const n = new ExactNeuron(4, 1, { restV: -60, threshV: -50 });
    const x = tf.fill([1, 4], 1);
    n.forward(x).dispose();
    n.clear();
    expect(Array.from(n.spike.dataSync())).toEqual([0, 0, 0, 0]);
    expect(Array.from(n.voltage.dataSync())).toEqual([-60, -60, -60, -60]);
    n.batchSize = 3;
    expect(n.spike.shape).toEqual([3, 4]);
    const y = tf.fill([3, 4], 1);
    n.forward(y).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) n.forward(y).dispose();
    expect(tf.memory().numTensors).toBe(before);
    [x, y].forEach((t) => t.dispose());
    n.dispose();
  });

  it('refuses a batch and shape over 2^28 state elements at construction, as the other groups do', () => {
    // 2^14 samples × 2^15 neurons = 2^29 elements per state: refused before any tensor is made
    // (the batchSize setter refused it already; the constructor tried to allocate three such states)
    const before = tf.memory().numTensors;
    expect(() => new ExactNeuron([2 ** 15], 1, { restV: -60, threshV: -50, batchSize: 2 ** 14 })).toThrow(
      /invalid batchSize: got "536870912 elements for a state of shape \[16384, 32768\]", expected at most 268435456 \(2\^28\) elements for one tensor/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
