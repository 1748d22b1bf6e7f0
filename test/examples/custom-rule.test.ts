// examples/custom-rule (docs/custom-trainer.md): "With β = 0 the rule is MSTDP with unit traces scaled
// by |lr|", and a step keeps tf.memory().numTensors flat (the doc's rule of thumb). The float64
// recursions of the full rule are in test/learn/trainers/custom-rule.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { LinearDense } from '../../src/neural/connections/index.js';
import { MSTDP } from '../../src/learn/index.js';
import { RewardTripletSTDP } from '../../examples/custom-rule/index.js';
import { ForcedNeurons, TestLayer, values } from '../learn/trainers/harness.js';

const layers: TestLayer[] = [];
afterEach(() => {
  for (const l of layers.splice(0)) l.dispose();
});

function dense(B: number): TestLayer {
  const l = new TestLayer(new LinearDense([3], [2], 1, { weightInit: (s) => tf.zeros(s as number[]), batchSize: B }), new ForcedNeurons([2], B));
  layers.push(l);
  return l;
}

describe('custom-rule: RewardTripletSTDP', () => {
  it('with zero triplet rates equals MSTDP on the same spikes and rewards (both signs of lr and M), with flat tensor count', () => {
    const B = 2;
    for (const [lrPost, lrPre] of [[0.1, -0.05], [-0.07, 0.03]] as const) {
      const a = dense(B), b = dense(B);
      const tri = new RewardTripletSTDP({ lrPostPair: lrPost, lrPostTriplet: 0, lrPrePair: lrPre, lrPreTriplet: 0, tauPreFast: 17, tauPreSlow: 100, tauPostFast: 34, tauPostSlow: 125 });
      const ms = new MSTDP({ lrPost, lrPre, tauPre: 17, tauPost: 34 });
      tri.register(a.cell);
      ms.register(b.cell);
      let count = -1;
      for (let t = 0; t < 30; t++) {
        const pre = Array.from({ length: B * 3 }, (_, k) => ((t * 7 + k * 5) % 4 === 0 ? 1 : 0));
        const post = Array.from({ length: B * 2 }, (_, k) => ((t * 3 + k * 11) % 5 === 1 ? 1 : 0));
        const m = tf.tensor1d([t % 7 < 4 ? 1 : -0.5, t < 15 ? -2 : 0.75]);
        a.step(pre, post);
        b.step(pre, post);
        tri.step(m);
        ms.step(m);
        m.dispose();
        a.connection.update();
        b.connection.update();
        if (t === 5) count = tf.memory().numTensors;
        if (t > 5) expect(tf.memory().numTensors).toBe(count);
      }
      const wa = values(a.connection.weight), wb = values(b.connection.weight);
      expect(Math.max(...wb.map(Math.abs))).toBeGreaterThan(0.01);
      wa.forEach((x, i) => expect(Math.abs(x - wb[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(wb[i]!))));
      tri.dispose();
      ms.dispose();
    }
  });
});
