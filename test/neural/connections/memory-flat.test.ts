// Tensor count stays flat over many steps (forward, delayed reads, receptive maps, updates with hooks)
// for every connection kind, and dispose frees everything the connection made.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Conv2D, LinearDirect, LinearLateral, MaskedLinear, constantInit, type Connection } from '../../../src/neural/connections/index.js';
import { Clamping } from '../../../src/neural/hooks/index.js';

function run(make: () => Connection, input: (t: number) => tf.Tensor, steps = 300): void {
  const start = tf.memory().numTensors;
  const c = make();
  const clamp = new Clamping(c.weightParameter, { min: -0.5, max: 0.5 });
  clamp.attachToUpdate(c.updater);
  const step = (t: number) => {
    tf.tidy(() => {
      const x = input(t);
      const y = c.forward(x);
      const pre = c.presynReceptive(c.synspike);
      const post = c.postsynReceptive(y);
      // a Hebbian-like update Σ_R pre·post (shape of the weight), applied with the clamping hook
      const dw = tf.mul(0.01, tf.sum(tf.mean(tf.mul(pre, post), 0), -1));
      c.updater.add('weight', tf.reshape(dw, c.weight.shape), null);
    });
    c.update();
  };
  step(0);
  step(1);
  const warm = tf.memory().numTensors;
  for (let t = 2; t < steps; t++) step(t);
  expect(tf.memory().numTensors).toBe(warm);
  c.dispose();
  expect(tf.memory().numTensors).toBe(start);
}

const bits = (t: number, shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, k) => ((7 * t + 3 * k) % 11 < 4 ? 1 : 0)), shape);

describe('tensor count flat over 300 steps with updates and a clamping hook', () => {
  it('LinearDirect with delays', () => run(() => new LinearDirect([2, 3], 1, { batchSize: 2, maxDelay: 2, bias: true, delayInit: () => tf.tensor([[0, 1, 2], [2, 1, 0]]), weightInit: constantInit(0.1) }), (t) => bits(t, [2, 2, 3])));
  it('MaskedLinear with delays', () => run(() => new MaskedLinear([3], [2], 1, { batchSize: 2, maxDelay: 1, mask: [[1, 0, 1], [0, 1, 1]], delayInit: constantInit(1), weightInit: constantInit(0.1) }), (t) => bits(t, [2, 3])));
  it('LinearLateral', () => run(() => new LinearLateral([4], 1, { batchSize: 3, weightInit: constantInit(0.1) }), (t) => bits(t, [3, 4])));
  it('Conv2D (padding, stride)', () => run(() => new Conv2D([5, 5, 2], 3, 3, 1, { batchSize: 2, padding: 1, stride: 2, bias: true, weightInit: constantInit(0.1) }), (t) => bits(t, [2, 5, 5, 2])));
});
