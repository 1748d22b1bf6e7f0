import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { LinearDense, LinearDirect } from '../../../src/neural/connections/index.js';
import { RewardTripletSTDP } from '../../../examples/custom-rule/index.js';
import { ForcedNeurons, TestLayer, values } from './harness.js';

const layers: TestLayer[] = [];
afterEach(() => {
  for (const l of layers.splice(0)) l.dispose();
});

const H = { lrPostPair: 0.1, lrPostTriplet: 0.3, lrPrePair: -0.05, lrPreTriplet: 0.02, tauPreFast: 17, tauPreSlow: 100, tauPostFast: 34, tauPostSlow: 125 };

describe('reward-modulated triplet STDP (examples/custom-rule.ts)', () => {
  it('matches a hand computation on one synapse', () => {
    const c = new LinearDirect([1], 1, { weightInit: (s) => tf.zeros(s as number[]) });
    const l = new TestLayer(c, new ForcedNeurons([1], 1));
    layers.push(l);
    const rule = new RewardTripletSTDP(H);
    rule.register(l.cell);
    // pre at 1, post at 3 and 5, pre at 6; reward +1 until 5, −2 at 6
    const pre = [1, 0, 0, 0, 0, 1];
    const post = [0, 0, 1, 0, 1, 0];
    const reward = [1, 1, 1, 1, 1, -2];
    const w: number[] = [];
    for (let t = 0; t < 6; t++) {
      l.step([pre[t]!], [post[t]!]);
      rule.step(reward[t]!);
      l.connection.update();
      w.push(values(l.connection.weight)[0]!);
    }
    const e = Math.exp;
    // t = 3: x_fast = e^{−2/τ+}, y_slow(2) = 0
    const d3 = 0.1 * e(-2 / 17);
    // t = 5: x_fast = e^{−4/τ+}, y_slow(4) = e^{−1/τy} (post at 3)
    const d5 = e(-4 / 17) * (0.1 + 0.3 * e(-1 / 125));
    // t = 6 (pre): y_fast(6) = e^{−3/τ−} + e^{−1/τ−}, x_slow(5) = e^{−4/τx}; Hebbian depression, M = −2 flips it
    const d6 = (e(-3 / 34) + e(-1 / 34)) * (0.05 + 0.02 * e(-4 / 100));
    expect(w[1]).toBeCloseTo(0, 8);
    expect(w[2]).toBeCloseTo(d3, 6);
    expect(w[3]).toBeCloseTo(d3, 6);
    expect(w[4]).toBeCloseTo(d3 + d5, 6);
    expect(w[5]).toBeCloseTo(d3 + d5 + 2 * d6, 6);
    rule.dispose();
  });

  it('on a dense connection with per-sample rewards, matches a float64 recursion', () => {
    const B = 2;
    const c = new LinearDense([2], [1], 1, { weightInit: (s) => tf.zeros(s as number[]), batchSize: B });
    const l = new TestLayer(c, new ForcedNeurons([1], B));
    layers.push(l);
    const rule = new RewardTripletSTDP(H);
    rule.register(l.cell);
    const xf = [[0, 0], [0, 0]], xs = [[0, 0], [0, 0]], yf = [0, 0], ys = [0, 0];
    const w = [0, 0];
    const a = (tau: number) => Math.exp(-1 / tau);
    for (let t = 0; t < 25; t++) {
      const pre = [t % 3 === 0 ? 1 : 0, t % 4 === 1 ? 1 : 0, t % 5 === 2 ? 1 : 0, t % 2 === 0 ? 1 : 0];
      const post = [t % 6 === 2 ? 1 : 0, t % 4 === 3 ? 1 : 0];
      const m = [1, t < 12 ? -1 : 0.5];
      l.step(pre, post);
      const mt = tf.tensor1d(m);
      rule.step(mt);
      mt.dispose();
      l.connection.update();
      for (let b = 0; b < B; b++) {
        const ysPrev = ys[b]!;
        const xsPrev = [xs[b]![0]!, xs[b]![1]!];
        for (let i = 0; i < 2; i++) {
          xf[b]![i] = a(17) * xf[b]![i]! + pre[b * 2 + i]!;
          xs[b]![i] = a(100) * xs[b]![i]! + pre[b * 2 + i]!;
        }
        yf[b] = a(34) * yf[b]! + post[b]!;
        ys[b] = a(125) * ys[b]! + post[b]!;
        for (let i = 0; i < 2; i++) {
          const dpost = post[b]! * (0.1 + 0.3 * ysPrev) * xf[b]![i]!;
          const dpre = yf[b]! * pre[b * 2 + i]! * (0.05 + 0.02 * xsPrev[i]!);
          w[i] += m[b]! * (dpost - dpre);
        }
      }
    }
    const got = values(l.connection.weight);
    got.forEach((g, i) => expect(Math.abs(g - w[i]!)).toBeLessThan(1e-6));
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.01);
    rule.dispose();
  });

  it('validates its hyperparameters', () => {
    expect(() => new RewardTripletSTDP({ ...H, tauPreSlow: 0 })).toThrow(/tauPreSlow/);
    expect(() => new RewardTripletSTDP({ ...H, lrPostTriplet: NaN })).toThrow(/lrPostTriplet/);
  });
});
