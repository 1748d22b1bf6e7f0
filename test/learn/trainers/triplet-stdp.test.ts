import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { LinearDense } from '../../../src/neural/connections/linear-dense.js';
import { LinearDirect } from '../../../src/neural/connections/linear-direct.js';
import { constantInit } from '../../../src/neural/connections/initializers.js';
import { TripletSTDP, type TripletSTDPOptions } from '../../../src/learn/trainers/triplet-stdp.js';
import { makeCell, stepCell, values } from './kernel-harness.js';

const base: TripletSTDPOptions = {
  lrPostPair: 1,
  lrPostTriplet: 0.5,
  lrPrePair: -0.8,
  lrPreTriplet: 0.3,
  tauPostFast: 8,
  tauPostSlow: 30,
  tauPreFast: 10,
  tauPreSlow: 40,
};

/** Float64 reference of the rule for one synapse with cumulative unit traces. */
function reference(o: TripletSTDPOptions, pre: number[], post: number[]): number[] {
  const a = (tau: number) => Math.exp(-1 / tau);
  let xa = 0;
  let xb = 0;
  let ya = 0;
  let yb = 0;
  let w = 0;
  const out: number[] = [];
  for (let t = 0; t < pre.length; t++) {
    const xbPrev = xb;
    const ybPrev = yb;
    xa = a(o.tauPreFast) * xa + pre[t]!;
    xb = a(o.tauPreSlow) * xb + pre[t]!;
    ya = a(o.tauPostFast) * ya + post[t]!;
    yb = a(o.tauPostSlow) * yb + post[t]!;
    // the triplet term has the sign of its pair term
    w += Math.sign(o.lrPostPair) * post[t]! * xa * (Math.abs(o.lrPostPair) + Math.abs(o.lrPostTriplet) * ybPrev);
    w += Math.sign(o.lrPrePair) * pre[t]! * ya * (Math.abs(o.lrPrePair) + Math.abs(o.lrPreTriplet) * xbPrev);
    out.push(w);
  }
  return out;
}

describe('TripletSTDP', () => {
  it('matches the Pfister–Gerstner update with unit traces and slow traces read one step back', () => {
    const conn = new LinearDirect([1], 1, { weightInit: constantInit(0) });
    const cell = makeCell(conn, [1, 1]);
    const rule = new TripletSTDP(base);
    rule.register(cell);
    //           t: 1  2  3  4  5  6  7  8  9 10
    const pre = [1, 0, 0, 0, 0, 1, 0, 0, 1, 0];
    const post = [0, 0, 1, 0, 1, 0, 0, 1, 1, 0];
    const want = reference(base, pre, post);
    for (let t = 0; t < pre.length; t++) {
      stepCell(cell, [pre[t]!], [post[t]!]);
      rule.step();
      conn.update();
      expect(values(conn.weight)[0]).toBeCloseTo(want[t]!, 5);
    }
    // the second post spike (t = 5) carries the triplet term: x̂_a(5)·(α + β·ŷ_b(4)) with ŷ_b(4) = e^{−1/30}
    const xa5 = Math.exp(-4 / 10);
    expect(want[4]! - want[3]!).toBeCloseTo(xa5 * (1 + 0.5 * Math.exp(-1 / 30)), 10);
    rule.dispose();
    conn.dispose();
    cell.neuron.dispose();
  });

  it('routes everything to potentiation when both pair rates are positive and averages over the batch', () => {
    const o = { ...base, lrPrePair: 0.4 };
    const conn = new LinearDense([2], [1], 1, { weightInit: constantInit(0), batchSize: 2 });
    const cell = makeCell(conn, [2, 1]);
    const rule = new TripletSTDP(o);
    rule.register(cell);
    // sample 0: input 0 at t=1, post at t=2; sample 1: post at t=1, input 1 at t=2
    stepCell(cell, [1, 0, 0, 0], [0, 1]);
    stepCell(cell, [0, 0, 0, 1], [1, 0]);
    rule.step();
    const acc = conn.updater.accumulator('weight');
    expect(acc.sumNeg()).toBeNull();
    const pos = acc.sumPos()!;
    // t = 2: sample 0 post term x̂_a = e^{−1/10} on input 0 (ŷ_b(1) = 0); sample 1 pre term on input 1:
    // ŷ_a = e^{−1/8}, gain |α_pre| (x̂_b(1) = 0)
    const p = values(pos);
    expect(p[0]).toBeCloseTo(Math.exp(-1 / 10) / 2, 6);
    expect(p[1]).toBeCloseTo((0.4 * Math.exp(-1 / 8)) / 2, 6);
    pos.dispose();
    rule.dispose();
    conn.dispose();
    cell.neuron.dispose();
  });

  it('keeps the tensor count flat and rejects bad hyperparameters', () => {
    const conn = new LinearDirect([2], 1, { weightInit: constantInit(0) });
    const cell = makeCell(conn, [1, 2]);
    const rule = new TripletSTDP({ ...base, traceMode: 'nearest' });
    rule.register(cell);
    for (let t = 0; t < 3; t++) {
      stepCell(cell, [1, 0], [0, 1]);
      rule.step();
      conn.update();
    }
    const before = tf.memory().numTensors;
    for (let t = 0; t < 30; t++) {
      stepCell(cell, [t % 2, 1], [t % 3 === 0 ? 1 : 0, 0]);
      rule.step();
      conn.update();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new TripletSTDP({ ...base, lrPostPair: 0 })).toThrow(/lrPostPair/);
    expect(() => new TripletSTDP({ ...base, lrPrePair: Number.NaN })).toThrow(/lrPrePair/);
    expect(() => new TripletSTDP({ ...base, tauPostSlow: 8 })).toThrow(/tauPostSlow/);
    expect(() => new TripletSTDP({ ...base, tauPreSlow: 5 })).toThrow(/tauPreSlow/);
    expect(() => new TripletSTDP({ ...base, tauPreFast: -1 })).toThrow(/tauPreFast/);
    expect(() => new TripletSTDP({ ...base, traceMode: 'linear' as never })).toThrow(/traceMode/);
    rule.dispose();
    conn.dispose();
    cell.neuron.dispose();
  });
});
