// LinearDense, MaskedLinear and LinearLateral: forward vs plain JS, delays, updater, caches, memory.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { DeltaCurrent, SingleExponentialCurrent } from '../../../src/neural/synapses/index.js';
import { LinearDense, LinearLateral, MaskedLinear, constantInit, normalInit } from '../../../src/neural/connections/index.js';
import { bits, denseRef, expectAllClose, uniform, vals } from './helpers.js';

describe('LinearDense', () => {
  it('y = x·Wᵀ + b for multi-dimensional shapes and batch 3 (delta synapse, Q/dt scaling)', () => {
    const rng = new Rng(11);
    const [B, I, O] = [3, 6, 4];
    const conn = new LinearDense([2, 3], [2, 2], 0.5, { bias: true, batchSize: B, weightInit: normalInit(rng), biasInit: normalInit(rng), synapse: DeltaCurrent.factory({ charge: 0.25 }) });
    expect(conn.weight.shape).toEqual([O, I]);
    expect(conn.bias!.shape).toEqual([O]);
    const W = vals(conn.weight);
    const bias = vals(conn.bias!);
    for (let step = 0; step < 5; step++) {
      const x = bits(rng, B * I);
      const y = tf.tidy(() => {
        const out = conn.forward(tf.tensor(x, [B, 2, 3]));
        expect(out.shape).toEqual([B, 2, 2]);
        return vals(out);
      });
      expectAllClose(y, denseRef(x.map((v) => (v * 0.25) / 0.5), W, bias, B, I, O));
    }
    conn.dispose();
  });

  it('weight setter validates the shape and refreshes the cached transposed weight', () => {
    const conn = new LinearDense([3], [2], 1, { weightInit: constantInit(1) });
    conn.weight = tf.tidy(() => tf.tensor([[1, 2, 3], [4, 5, 6]]));
    const y = tf.tidy(() => vals(conn.forward(tf.tensor([[1, 0, 1]]))));
    expect(y).toEqual([4, 10]);
    // a direct assign to the variable (as an optimizer does) is detected too
    tf.tidy(() => conn.weightParameter.variable.assign(tf.tensor([[0, 1, 0], [0, 0, 2]])));
    expect(tf.tidy(() => vals(conn.forward(tf.tensor([[1, 1, 1]]))))).toEqual([1, 2]);
    expect(() => { conn.weight = tf.zeros([3, 2]); }).toThrow(/weight.*shape \[2, 3\]/);
    conn.dispose();
  });

  for (const [delayInterp, steps] of [['previous', [[0, 1, 3], [2, 3, 0]]], ['nearest', [[0, 1, 3], [1, 2, 0]]]] as const) it(`per-synapse delays shift each edge by exactly its steps, delayInterp ${delayInterp} (hand computation)`, () => {
    const dt = 0.5;
    const [B, I, O, D] = [2, 3, 2, 3];
    // delays in ms; 0.7 ms (1.4 steps) is 2 steps in 'previous' (⌈d/Δt⌉, the default) and 1 in 'nearest'; 1.2 ms 3 or 2
    const delayMs = [[0, 0.5, 1.5], [0.7, 1.2, 0]];
    const rng = new Rng(12);
    const conn = new LinearDense([I], [O], dt, { maxDelay: D * dt, batchSize: B, bias: true, weightInit: normalInit(rng), biasInit: constantInit(0.5), delayInit: () => tf.tensor(delayMs), ...(delayInterp === 'nearest' ? { delayInterp } : {}) });
    expect(conn.delaySteps).toBe(3);
    expect(conn.hasDelays).toBe(true);
    const W = vals(conn.weight);
    const T = 25;
    const xs = Array.from({ length: T }, () => bits(rng, B * I, 0.4));
    for (let t = 0; t < T; t++) {
      const y = tf.tidy(() => vals(conn.forward(tf.tensor(xs[t]!, [B, I]))));
      const want: number[] = [];
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < O; j++) {
          let s = 0.5;
          for (let i = 0; i < I; i++) {
            const tt = t - steps[j]![i]!;
            if (tt >= 0) s += (W[j * I + i]! * xs[tt]![b * I + i]!) / dt; // delta current = s/dt
          }
          want.push(s);
        }
      }
      expectAllClose(y, want);
      // per-edge delayed spikes [B, O, I]
      const sp = tf.tidy(() => {
        const s = conn.synspike;
        expect(s.shape).toEqual([B, O, I]);
        return vals(s);
      });
      const wantSp: number[] = [];
      for (let b = 0; b < B; b++) for (let j = 0; j < O; j++) for (let i = 0; i < I; i++) {
        const tt = t - steps[j]![i]!;
        wantSp.push(tt >= 0 ? xs[tt]![b * I + i]! : 0);
      }
      expect(sp).toEqual(wantSp);
      const cur = tf.tidy(() => vals(conn.syncurrent));
      expectAllClose(cur, wantSp.map((v) => v / dt));
    }
    conn.dispose();
  });

  it('an impulse reaches each target exactly delay steps later; changing delays rebuilds the stacked weight', () => {
    const conn = new LinearDense([1], [3], 1, { maxDelay: 4, weightInit: constantInit(1), delayInit: () => tf.tensor([[0], [2], [4]]) });
    const run = (): number[][] => {
      conn.clear();
      const out: number[][] = [];
      for (let t = 0; t < 6; t++) out.push(tf.tidy(() => vals(conn.forward(tf.tensor([[t === 0 ? 1 : 0]])))));
      return out;
    };
    const arrival = (out: number[][]) => [0, 1, 2].map((j) => out.findIndex((r) => r[j] === 1));
    expect(arrival(run())).toEqual([0, 2, 4]);
    conn.delay = tf.tidy(() => tf.tensor([[3], [1], [0]]));
    expect(arrival(run())).toEqual([3, 1, 0]);
    // updater on the delay: +1 ms everywhere, clamped to maxDelay
    conn.updater.add('delay', tf.tidy(() => tf.ones([3, 1])));
    conn.update();
    expect(vals(conn.delay!)).toEqual([4, 2, 1]);
    expect(arrival(run())).toEqual([4, 2, 1]);
    conn.dispose();
  });

  it('updater: two accumulations, weight unchanged until update(), then changed by Σpos − Σneg', () => {
    const conn = new LinearDense([2], [2], 1, { weightInit: constantInit(1), bias: true });
    conn.updater.add('weight', tf.tensor([[1, 2], [3, 4]]), tf.tensor([[0.5, 0.5], [0.5, 0.5]]));
    conn.updater.add('weight', tf.tensor([[0.25, 0], [0, 0]]));
    conn.updater.add('bias', null, tf.tensor([1, -1]));
    expect(vals(conn.weight)).toEqual([1, 1, 1, 1]);
    conn.update();
    expect(vals(conn.weight)).toEqual([1.75, 2.5, 3.5, 4.5]);
    expect(vals(conn.bias!)).toEqual([-1, 1]);
    // the cached transposed weight followed the update
    expect(tf.tidy(() => vals(conn.forward(tf.tensor([[1, 0]]))))).toEqual([1.75 - 1, 3.5 + 1]);
    conn.dispose();
  });

  it('memory stays flat over 2000 steps with delays (forward, synspike, syncurrent) and dispose frees all', () => {
    const before = tf.memory().numTensors;
    const rng = new Rng(13);
    const conn = new LinearDense([20], [10], 1, { maxDelay: 5, batchSize: 2, delayInit: (s) => tf.tensor(uniform(rng, 200, 0, 5), [...s]), synapse: SingleExponentialCurrent.factory({ tau: 5 }) });
    const x = tf.keep(tf.tensor(bits(rng, 40), [2, 20]));
    tf.tidy(() => { conn.forward(x); conn.synspike; });
    const n0 = tf.memory().numTensors;
    for (let t = 0; t < 2000; t++) tf.tidy(() => { conn.forward(x); conn.synspike; conn.syncurrent; });
    expect(tf.memory().numTensors).toBe(n0);
    // an update (cache rebuild) does not leak either
    conn.updater.add('weight', tf.tidy(() => tf.ones([10, 20])));
    conn.update();
    tf.tidy(() => { conn.forward(x); });
    expect(tf.memory().numTensors).toBe(n0);
    x.dispose();
    conn.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('MaskedLinear and LinearLateral', () => {
  it('MaskedLinear from an edge list: absent edges are 0 after construction, update and setter', () => {
    const edges: [number, number][] = [[0, 0], [0, 2], [1, 1], [2, 0], [2, 3]];
    const conn = new MaskedLinear([4], [3], 1, { mask: { edges }, weightInit: constantInit(2) });
    const maskWant = [1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1];
    expect(vals(conn.mask)).toEqual(maskWant);
    expect(conn.edgeCount).toBe(5);
    expect(vals(conn.weight)).toEqual(maskWant.map((m) => 2 * m));
    conn.updater.add('weight', tf.tidy(() => tf.ones([3, 4])));
    conn.update();
    expect(vals(conn.weight)).toEqual(maskWant.map((m) => 3 * m));
    conn.weight = tf.tidy(() => tf.fill([3, 4], 5));
    expect(vals(conn.weight)).toEqual(maskWant.map((m) => 5 * m));
    const y = tf.tidy(() => vals(conn.forward(tf.tensor([[1, 1, 0, 1]]))));
    expect(y).toEqual(denseRef([1, 1, 0, 1], maskWant.map((m) => 5 * m), null, 1, 4, 3));
    conn.dispose();
  });

  it('MaskedLinear with delays equals the masked dense hand computation', () => {
    const rng = new Rng(14);
    const mask = [[1, 0, 1], [0, 1, 1]];
    const conn = new MaskedLinear([3], [2], 1, { mask, maxDelay: 2, weightInit: normalInit(rng), delayInit: () => tf.tensor([[2, 1, 0], [0, 0, 1]]) });
    const W = vals(conn.weight);
    expect(W[1]).toBe(0);
    expect(W[3]).toBe(0);
    const steps = [[2, 1, 0], [0, 0, 1]];
    const xs = Array.from({ length: 12 }, () => bits(rng, 3));
    for (let t = 0; t < 12; t++) {
      const y = tf.tidy(() => vals(conn.forward(tf.tensor([xs[t]!]))));
      const want = [0, 1].map((j) => [0, 1, 2].reduce((s, i) => s + (t - steps[j]![i]! >= 0 ? W[j * 3 + i]! * mask[j]![i]! * xs[t - steps[j]![i]!]![i]! : 0), 0));
      expectAllClose(y, want);
    }
    conn.dispose();
  });

  it('LinearLateral: diagonal masked, stays 0 after update, forward = off-diagonal sum', () => {
    const conn = new LinearLateral([3], 1, { weightInit: constantInit(-2) });
    expect(vals(conn.weight)).toEqual([0, -2, -2, -2, 0, -2, -2, -2, 0]);
    conn.updater.add('weight', tf.tidy(() => tf.fill([3, 3], 1)));
    conn.updater.add('weight', tf.tidy(() => tf.fill([3, 3], 0.5)));
    conn.update();
    expect(vals(conn.weight)).toEqual([0, -0.5, -0.5, -0.5, 0, -0.5, -0.5, -0.5, 0]);
    expect(tf.tidy(() => vals(conn.forward(tf.tensor([[1, 0, 1]]))))).toEqual([-0.5, -1, -0.5]);
    conn.dispose();
  });
});
