// Parameters assigned directly (as optimizers and loadModule do, bypassing the setters) must take
// effect at the next forward: weights AND delays changed together, delays clamped to [0, maxDelay].
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { LinearDense } from '../../../src/neural/connections/linear-dense.js';
import { uniformInit } from '../../../src/neural/connections/initializers.js';

function dense(seed: number) {
  const rng = new Rng(seed);
  return new LinearDense([20], [8], 1, { batchSize: 3, maxDelay: 4, weightInit: uniformInit(rng, 0, 1), delayInit: uniformInit(rng, 0, 4) });
}

describe('direct parameter assignment', () => {
  it('a connection whose weight and delay were assigned directly behaves like one built with them', () => {
    const a = dense(1);
    const b = dense(2);
    b.weightParameter.assign(a.weight);
    b.delayParameter!.assign(a.delay!);
    const rng = new Rng(5);
    for (let t = 0; t < 12; t++) {
      const d = tf.tidy(() => {
        const x = tf.tensor2d(Array.from({ length: 60 }, () => (rng.uniform() < 0.3 ? 1 : 0)), [3, 20]);
        return tf.max(tf.abs(tf.sub(a.forward(x), b.forward(x)))).dataSync()[0]!;
      });
      expect(d).toBe(0);
    }
    a.dispose();
    b.dispose();
  });

  it('clamps a directly assigned delay to [0, maxDelay] at the next forward', () => {
    const c = dense(3);
    const big = tf.fill([8, 20], 9);
    c.delayParameter!.assign(big);
    big.dispose();
    tf.tidy(() => { c.forward(tf.zeros([3, 20])); });
    expect(Math.max(...c.delay!.dataSync())).toBe(4);
    c.dispose();
  });
});
