import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { STDP } from '../../../src/learn/trainers/index.js';
import { LayerPool, PairReference, TestLayer, reduceBatch, values } from './harness.js';

const pool = new LayerPool();
const direct = (n: number, w: number[], batch = 1) => pool.direct(n, w, batch);
const dense = (i: number, o: number, batch: number) => pool.dense(i, o, batch);
afterEach(() => pool.disposeAll());

/** Runs `steps` of a direct single synapse; returns the weight after each step. */
function runSingle(stdp: STDP, l: TestLayer, pre: number[], post: number[]): number[] {
  const out: number[] = [];
  for (let t = 0; t < pre.length; t++) {
    l.step([pre[t]!], [post[t]!]);
    stdp.step();
    l.connection.update();
    out.push(values(l.connection.weight)[0]!);
  }
  return out;
}

describe('STDP on one synapse (closed forms)', () => {
  const tau = 10;
  it('pre then post potentiates by lrPost·exp(−Δt/τ) at the post spike, nothing else', () => {
    const l = direct(1, [0.5]);
    const stdp = new STDP({ lrPost: 0.1, lrPre: -0.05, tauPost: tau, tauPre: tau });
    stdp.register(l.cell);
    const w = runSingle(stdp, l, [1, 0, 0, 0], [0, 0, 1, 0]);
    expect(w[0]).toBeCloseTo(0.5, 7);
    expect(w[1]).toBeCloseTo(0.5, 7);
    expect(w[2]).toBeCloseTo(0.5 + 0.1 * Math.exp(-2 / tau), 6);
    expect(w[3]).toBeCloseTo(w[2]!, 7);
    stdp.dispose();
  });

  it('post then pre depresses by |lrPre|·exp(−Δt/τ) at the pre spike', () => {
    const l = direct(1, [0.5]);
    const stdp = new STDP({ lrPost: 0.1, lrPre: -0.05, tauPost: tau, tauPre: tau });
    stdp.register(l.cell);
    const w = runSingle(stdp, l, [0, 0, 0, 1], [1, 0, 0, 0]);
    expect(w[2]).toBeCloseTo(0.5, 7);
    expect(w[3]).toBeCloseTo(0.5 - 0.05 * Math.exp(-3 / tau), 6);
    stdp.dispose();
  });

  it('a simultaneous pair gives |lrPost| − |lrPre| (traces include the current spike)', () => {
    const l = direct(1, [0.5]);
    const stdp = new STDP({ lrPost: 0.1, lrPre: -0.05, tauPost: tau, tauPre: tau });
    stdp.register(l.cell);
    const w = runSingle(stdp, l, [1], [1]);
    expect(w[0]).toBeCloseTo(0.5 + 0.1 - 0.05, 6);
    stdp.dispose();
  });

  it.each([
    ['hebbian', 0.1, -0.05, +1, -1],
    ['anti-hebbian', -0.1, 0.05, -1, +1],
    ['potentiative', 0.1, 0.05, +1, +1],
    ['depressive', -0.1, -0.05, -1, -1],
  ])('%s mode: Δw = sgn(lrPost)·dpost + sgn(lrPre)·dpre', (_name, lrPost, lrPre, sPost, sPre) => {
    const l = direct(1, [0.5]);
    const stdp = new STDP({ lrPost, lrPre, tauPost: 20, tauPre: 10 });
    stdp.register(l.cell);
    // pre at 1, post at 3, pre at 6
    const w = runSingle(stdp, l, [1, 0, 0, 0, 0, 1], [0, 0, 1, 0, 0, 0]);
    const dpost = Math.abs(lrPost) * Math.exp(-2 / 10);
    const dpre = Math.abs(lrPre) * Math.exp(-3 / 20);
    expect(w[0]).toBeCloseTo(0.5, 7); // pre alone: x_post = 0
    expect(w[2]).toBeCloseTo(0.5 + sPost * dpost, 6);
    expect(w[5]).toBeCloseTo(0.5 + sPost * dpost + sPre * dpre, 6);
    stdp.dispose();
  });

  it('nearest traces reset to the amplitude instead of adding', () => {
    const l = direct(1, [0]);
    const stdp = new STDP({ lrPost: 1, lrPre: -1, tauPost: tau, tauPre: tau, traceMode: 'nearest' });
    stdp.register(l.cell);
    // pre at 1 and 2, post at 4: nearest x_pre(4) = e^{-2/τ}; cumulative would add e^{-3/τ}
    const w = runSingle(stdp, l, [1, 1, 0, 0], [0, 0, 0, 1]);
    expect(w[3]).toBeCloseTo(Math.exp(-2 / tau), 6);
    stdp.dispose();
  });
});

describe('STDP against a float64 reference', () => {
  function spikes(seed: number, n: number, p: number): number[] {
    let s = seed;
    return Array.from({ length: n }, () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648 < p ? 1 : 0;
    });
  }

  it('direct connection, 3 synapses: every step matches', () => {
    const l = direct(3, [0, 0, 0]);
    const stdp = new STDP({ lrPost: 0.02, lrPre: -0.03, tauPost: 15, tauPre: 8 });
    stdp.register(l.cell);
    const ref = new PairReference(1, 3, 3, 8, 15, 0.02, 0.03);
    const w = [0, 0, 0];
    for (let t = 0; t < 60; t++) {
      const pre = spikes(t * 7 + 1, 3, 0.3);
      const post = spikes(t * 13 + 5, 3, 0.3);
      l.step(pre, post);
      stdp.step();
      l.connection.update();
      const { dpost, dpre } = ref.step([pre], [post]);
      for (let n = 0; n < 3; n++) w[n] += dpost[0]![n]![n]! - dpre[0]![n]![n]!;
      const got = values(l.connection.weight);
      for (let n = 0; n < 3; n++) expect(Math.abs(got[n]! - w[n]!)).toBeLessThan(1e-6);
    }
    stdp.dispose();
  });

  it.each(['mean', 'sum'] as const)('dense 2→3, batch 2, %s over the batch', (how) => {
    const l = dense(2, 3, 2);
    const stdp = new STDP({ lrPost: 0.05, lrPre: -0.04, tauPost: 12, tauPre: 9, batchReduction: how });
    stdp.register(l.cell);
    const ref = new PairReference(2, 2, 3, 9, 12, 0.05, 0.04);
    const w = [0, 1, 2].map(() => [0, 0]);
    for (let t = 0; t < 40; t++) {
      const pre = spikes(t * 3 + 2, 4, 0.35);
      const post = spikes(t * 11 + 9, 6, 0.35);
      l.step(pre, post);
      stdp.step();
      l.connection.update();
      const { dpost, dpre } = ref.step([pre.slice(0, 2), pre.slice(2)], [post.slice(0, 3), post.slice(3)]);
      const up = reduceBatch(dpost, how);
      const dn = reduceBatch(dpre, how);
      for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) w[j]![i] += up[j]![i]! - dn[j]![i]!;
    }
    const got = values(l.connection.weight);
    expect(got.length).toBe(6);
    for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) expect(Math.abs(got[j * 2 + i]! - w[j]![i]!)).toBeLessThan(1e-6);
    expect(Math.max(...got.map(Math.abs))).toBeGreaterThan(0.01);
    stdp.dispose();
  });

  it('a custom batch reduction receives per-sample updates [B, O, I]', () => {
    const l = dense(1, 1, 2);
    const shapes: number[][] = [];
    const stdp = new STDP({
      lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10,
      batchReduction: (x) => {
        shapes.push(x.shape);
        return tf.max(x, 0);
      },
    });
    stdp.register(l.cell);
    l.step([1, 0], [1, 1]); // sample 0: dpost = 1, sample 1: dpost = 0; dpre: sample 0 = 1
    stdp.step();
    l.connection.update();
    expect(shapes[0]).toEqual([2, 1, 1]);
    expect(values(l.connection.weight)[0]).toBeCloseTo(1 - 1, 6);
    stdp.dispose();
  });
});

describe('STDP registry, modes and lifecycle', () => {
  it('per-cell overrides apply to one cell only', () => {
    const a = direct(1, [0]);
    const b = direct(1, [0]);
    const stdp = new STDP({ lrPost: 0.1, lrPre: -0.1, tauPost: 10, tauPre: 10 });
    stdp.register(a.cell);
    stdp.register(b.cell, { lrPost: 0.3 });
    expect(stdp.entry(b.cell).hyper.lrPost).toBe(0.3);
    for (const l of [a, b]) l.step([1], [1]);
    stdp.step();
    a.connection.update();
    b.connection.update();
    expect(values(a.connection.weight as tf.Tensor)[0]).toBeCloseTo(0.1 - 0.1, 6);
    expect(values(b.connection.weight as tf.Tensor)[0]).toBeCloseTo(0.3 - 0.1, 6);
    stdp.dispose();
  });

  it('train(false) detaches the monitors: traces freeze, then resume from the frozen value', () => {
    const l = direct(1, [0]);
    const stdp = new STDP({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10 });
    stdp.register(l.cell);
    l.step([1], [0]);
    l.step([0], [0]);
    const frozen = values(stdp.traces(l.cell).tracePre.latest)[0]!;
    expect(frozen).toBeCloseTo(Math.exp(-0.1), 6);
    stdp.train(false);
    expect(l.observers.size).toBe(0);
    for (let t = 0; t < 5; t++) l.step([1], [1]);
    stdp.step(); // no-op in eval
    expect(l.connection.updater.accumulator('weight').empty).toBe(true);
    expect(values(stdp.traces(l.cell).tracePre.latest)[0]).toBe(frozen);
    stdp.train(true);
    expect(l.observers.size).toBe(4);
    l.step([0], [0]);
    expect(values(stdp.traces(l.cell).tracePre.latest)[0]).toBeCloseTo(Math.exp(-0.2), 6);
    stdp.dispose();
  });

  it('a layer in eval mode does not fold the traces and the cell does not learn', () => {
    const l = direct(1, [0]);
    const stdp = new STDP({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10 });
    stdp.register(l.cell);
    l.step([1], [0]);
    l.training = false;
    l.step([1], [1]);
    stdp.step();
    expect(l.connection.updater.accumulator('weight').empty).toBe(true);
    expect(values(stdp.traces(l.cell).tracePre.latest)[0]).toBeCloseTo(1, 6);
    stdp.dispose();
  });

  it('clear() resets the traces (the next fold starts from 0)', () => {
    const l = direct(1, [0]);
    const stdp = new STDP({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10 });
    stdp.register(l.cell);
    l.step([1], [0]);
    stdp.clear();
    expect(stdp.traces(l.cell).ready).toBe(false);
    stdp.step(); // nothing folded: no update
    expect(l.connection.updater.accumulator('weight').empty).toBe(true);
    l.step([0], [1]);
    stdp.step();
    l.connection.update();
    expect(values(l.connection.weight)[0]).toBeCloseTo(0, 7);
    stdp.dispose();
  });

  it('keeps the tensor count flat over a long loop', () => {
    const l = dense(4, 3, 2);
    const stdp = new STDP({ lrPost: 0.01, lrPre: -0.01, tauPost: 10, tauPre: 10 });
    stdp.register(l.cell);
    const pre = [1, 0, 1, 0, 0, 1, 1, 0];
    const post = [1, 1, 0, 0, 1, 1];
    const run = () => {
      l.step(pre, post);
      stdp.step();
      l.connection.update();
    };
    for (let t = 0; t < 5; t++) run();
    const before = tf.memory().numTensors;
    for (let t = 0; t < 50; t++) run();
    expect(tf.memory().numTensors).toBe(before);
    stdp.dispose();
    expect(l.observers.size).toBe(0);
  });

  it('rejects bad hyperparameters and registrations', () => {
    expect(() => new STDP({ lrPost: 0.1, lrPre: -0.1, tauPost: 0, tauPre: 10 })).toThrow(/tauPost/);
    expect(() => new STDP({ lrPost: NaN, lrPre: -0.1, tauPost: 10, tauPre: 10 })).toThrow(/lrPost/);
    expect(() => new STDP({ lrPost: 0.1, lrPre: -0.1, tauPost: 10, tauPre: -1 })).toThrow(/tauPre/);
    expect(() => new STDP({ lrPost: 0.1, lrPre: -0.1, tauPost: 10, tauPre: 10, traceMode: 'x' as never })).toThrow(/traceMode/);
    expect(() => new STDP({ lrPost: 0.1, lrPre: -0.1, tauPost: 10, tauPre: 10, batchReduction: 'max' as never })).toThrow(/batchReduction/);
    const l = direct(1, [0]);
    const stdp = new STDP({ lrPost: 0.1, lrPre: -0.1, tauPost: 10, tauPre: 10 });
    expect(() => stdp.register(l.cell, { tauPre: -2 })).toThrow(/tauPre/);
    expect(() => stdp.register(l.cell, { lr: 1 } as never)).toThrow(/overrides/);
    stdp.register(l.cell);
    expect(() => stdp.register(l.cell)).toThrow(/cell/);
    expect(() => stdp.entry(direct(1, [0]).cell)).toThrow(/registered/);
    stdp.dispose();
  });
});
