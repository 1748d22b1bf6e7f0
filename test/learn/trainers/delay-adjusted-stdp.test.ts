import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { LinearDense } from '../../../src/neural/connections/linear-dense.js';
import { LinearDirect } from '../../../src/neural/connections/linear-direct.js';
import { constantInit } from '../../../src/neural/connections/initializers.js';
import { DelayAdjustedMSTDP, DelayAdjustedSTDP, DelayAdjustedSTDPD } from '../../../src/learn/trainers/delay-adjusted-stdp.js';
import { makeCell, stepCell, values, type TestCell } from './kernel-harness.js';

const fixed = (v: number[]) => (shape: readonly number[]) => tf.tensor(v, [...shape]);

/** 2 inputs → 1 output, delays [1, 2.5] ms, inputs spike at t=1 (as sent), output at t=3. */
function pairing(register: (cell: TestCell) => void, batch = 1): TestCell {
  const conn = new LinearDense([2], [1], 1, { maxDelay: 3, delayInit: fixed([1, 2.5]), weightInit: constantInit(0.5), batchSize: batch });
  const cell = makeCell(conn, [batch, 1]);
  register(cell);
  stepCell(cell, new Array(2 * batch).fill(1), new Array(batch).fill(0));
  stepCell(cell, new Array(2 * batch).fill(0), new Array(batch).fill(0));
  return cell;
}

function dispose(cell: TestCell): void {
  cell.connection.dispose();
  cell.neuron.dispose();
}

describe('DelayAdjustedSTDP', () => {
  it('uses t_Δ = t_post − t_pre − d per synapse (η₊ side for t_Δ ≥ 0, η₋ side for t_Δ < 0)', () => {
    const rule = new DelayAdjustedSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 });
    const cell = pairing((c) => rule.register(c));
    stepCell(cell, [0, 0], [1]); // t = 3
    rule.step();
    cell.connection.update();
    // synapse 0: t_Δ = 3 − 1 − 1 = 1 → +0.2·e^{−1/5}; synapse 1: 3 − 1 − 2.5 = −0.5 → −0.1·e^{−0.5/8}
    const w = values(cell.connection.weight);
    expect(w[0]).toBeCloseTo(0.5 + 0.2 * Math.exp(-1 / 5), 6);
    expect(w[1]).toBeCloseTo(0.5 - 0.1 * Math.exp(-0.5 / 8), 6);
    // the rule is not spike-gated: the next step adds the same again (times unchanged, t_Δ the same)
    stepCell(cell, [0, 0], [0]);
    rule.step();
    cell.connection.update();
    const w2 = values(cell.connection.weight);
    expect(w2[0]).toBeCloseTo(0.5 + 2 * 0.2 * Math.exp(-1 / 5), 6);
    expect(w2[1]).toBeCloseTo(0.5 - 2 * 0.1 * Math.exp(-0.5 / 8), 6);
    rule.dispose();
    dispose(cell);
  });

  it('without delays reduces to exponential STDP on the spike times (one direct synapse)', () => {
    const conn = new LinearDirect([1], 1, { weightInit: constantInit(0) });
    const cell = makeCell(conn, [1, 1]);
    const rule = new DelayAdjustedSTDP({ lrPos: 1, lrNeg: -1, tauPos: 10, tauNeg: 10 });
    rule.register(cell);
    stepCell(cell, [0], [1]); // post at t=1
    stepCell(cell, [1], [0]); // pre at t=2 → t_Δ = −1
    rule.step();
    conn.update();
    expect(values(conn.weight)[0]).toBeCloseTo(-Math.exp(-0.1), 6);
    rule.dispose();
    conn.dispose();
    cell.neuron.dispose();
  });
});

describe('DelayAdjustedSTDPD', () => {
  it('moves delays by η₋·e^{−|t_Δ|/τ₋} for t_Δ ≥ 0 and η₊·e^{−|t_Δ|/τ₊} for t_Δ < 0', () => {
    const rule = new DelayAdjustedSTDPD({ lrPos: 0.3, lrNeg: -0.4, tauPos: 4, tauNeg: 6 });
    const cell = pairing((c) => rule.register(c));
    stepCell(cell, [0, 0], [1]); // t = 3
    rule.step();
    const acc = cell.connection.updater.accumulator('delay');
    const pos = acc.sumPos()!;
    const neg = acc.sumNeg()!;
    // shortening (η₋ < 0) is depression, lengthening is potentiation
    expect(values(pos)[0]).toBe(0);
    expect(values(neg)[0]).toBeCloseTo(0.4 * Math.exp(-1 / 6), 6);
    expect(values(pos)[1]).toBeCloseTo(0.3 * Math.exp(-0.5 / 4), 6);
    tf.dispose([pos, neg]);
    cell.connection.update();
    const d = values(cell.connection.delay!);
    expect(d[0]).toBeCloseTo(1 - 0.4 * Math.exp(-1 / 6), 6);
    expect(d[1]).toBeCloseTo(2.5 + 0.3 * Math.exp(-0.5 / 4), 6);
    // the weight is untouched
    expect(values(cell.connection.weight)).toEqual([0.5, 0.5]);
    rule.dispose();
    dispose(cell);
  });

  it('needs a connection with learnable delays', () => {
    const rule = new DelayAdjustedSTDPD({ lrPos: 0.3, lrNeg: -0.4, tauPos: 4, tauNeg: 6 });
    const cell = makeCell(new LinearDirect([2], 1), [1, 2]);
    expect(() => rule.register(cell)).toThrow(/delay/);
    rule.dispose();
    dispose(cell);
  });
});

describe('DelayAdjustedMSTDP', () => {
  it('scales the update by |γ|·M, flips it for M < 0 and sums over the batch', () => {
    const rule = new DelayAdjustedMSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 });
    const cell = pairing((c) => rule.register(c), 2);
    stepCell(cell, [0, 0, 0, 0], [1, 1]); // both samples: t_Δ = [1, −0.5]
    const z0 = 0.2 * Math.exp(-1 / 5);
    const z1 = -0.1 * Math.exp(-0.5 / 8);
    rule.step(-2, { scale: -0.5 }); // float M = −2, γ = −0.5 (|γ| used): Δw = 0.5·(−2)·Σ_b ζ = −2·ζ
    const acc = cell.connection.updater.accumulator('weight');
    const pos = acc.sumPos()!;
    const neg = acc.sumNeg()!;
    // M < 0: the potentiating term becomes depression and vice versa
    expect(values(pos)[0]).toBe(0);
    expect(values(neg)[0]).toBeCloseTo(2 * z0, 6);
    expect(values(pos)[1]).toBeCloseTo(-2 * z1, 6);
    tf.dispose([pos, neg]);
    cell.connection.update();
    let w = values(cell.connection.weight);
    expect(w[0]).toBeCloseTo(0.5 - 2 * z0, 6);
    expect(w[1]).toBeCloseTo(0.5 - 2 * z1, 6);
    // per-sample signal [1, −3], γ = 1: Δw = (1 − 3)·ζ
    const m = tf.tensor1d([1, -3]);
    stepCell(cell, [0, 0, 0, 0], [0, 0]);
    rule.step(m);
    cell.connection.update();
    w = values(cell.connection.weight);
    expect(w[0]).toBeCloseTo(0.5 - 4 * z0, 6);
    expect(w[1]).toBeCloseTo(0.5 - 4 * z1, 6);
    expect(() => rule.step(tf.tensor1d([1, 2, 3]))).toThrow(/reward/);
    expect(() => rule.step(Number.NaN)).toThrow(/reward/);
    m.dispose();
    rule.dispose();
    dispose(cell);
  });

  it('rejects bad hyperparameters and per-cell overrides', () => {
    expect(() => new DelayAdjustedMSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 0, tauNeg: 8 })).toThrow(/tauPos/);
    expect(() => new DelayAdjustedSTDP({ lrPos: Number.NaN, lrNeg: -0.1, tauPos: 1, tauNeg: 8 })).toThrow(/lrPos/);
    expect(() => new DelayAdjustedSTDPD({ lrPos: 1, lrNeg: -0.1, tauPos: 1, tauNeg: -8 })).toThrow(/tauNeg/);
    const rule = new DelayAdjustedSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 });
    const cell = pairing((c) => {
      expect(() => rule.register(c, { tauNeg: 0 })).toThrow(/tauNeg/);
      // a per-cell override changes that cell's rate only
      rule.register(c, { lrPos: 1 });
    });
    stepCell(cell, [0, 0], [1]);
    rule.step();
    cell.connection.update();
    expect(values(cell.connection.weight)[0]).toBeCloseTo(0.5 + Math.exp(-1 / 5), 6);
    rule.dispose();
    dispose(cell);
  });
});
