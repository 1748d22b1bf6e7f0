import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { LinearDense } from '../../../src/neural/connections/linear-dense.js';
import { LinearDirect } from '../../../src/neural/connections/linear-direct.js';
import { constantInit } from '../../../src/neural/connections/initializers.js';
import { LinearHomeostasis } from '../../../src/learn/trainers/linear-homeostasis.js';
import { makeCell, stepCell, values } from './kernel-harness.js';

// neuron 0 fires every step, neuron 1 every other step, neuron 2 never: after 4 steps r = [1, 0.5, 0]
const posts = [
  [1, 1, 0],
  [1, 0, 0],
  [1, 1, 0],
  [1, 0, 0],
];

describe('LinearHomeostasis', () => {
  it('lowers weights of neurons above the target by exactly λ(r* − r)/r* and raises those below', () => {
    const conn = new LinearDirect([3], 1, { weightInit: constantInit(1) });
    const cell = makeCell(conn, [1, 3]);
    const rule = new LinearHomeostasis({ plasticity: 0.1, target: 0.25 });
    rule.register(cell);
    for (const p of posts) stepCell(cell, [0, 0, 0], p);
    rule.step();
    const acc = conn.updater.accumulator('weight');
    const pos = acc.sumPos()!;
    const neg = acc.sumNeg()!;
    // k = 0.1·(0.25 − r)/0.25 = [−0.3, −0.1, +0.1]: negative parts are depression, positive potentiation
    expect(values(neg).map((v) => Number(v.toFixed(6)))).toEqual([0.3, 0.1, 0]);
    expect(values(pos).map((v) => Number(v.toFixed(6)))).toEqual([0, 0, 0.1]);
    tf.dispose([pos, neg]);
    conn.update();
    const w = values(conn.weight);
    expect(w[0]).toBeCloseTo(1 - 0.3, 6);
    expect(w[1]).toBeCloseTo(1 - 0.1, 6);
    expect(w[2]).toBeCloseTo(1 + 0.1, 6);
    rule.dispose();
    conn.dispose();
    cell.neuron.dispose();
  });

  it('broadcasts a neuron’s term to all its incoming weights and averages over the batch (dense)', () => {
    const conn = new LinearDense([2], [2], 1, { weightInit: constantInit(0), batchSize: 2 });
    const cell = makeCell(conn, [2, 2]);
    const rule = new LinearHomeostasis({ plasticity: 1, target: 0.5 });
    rule.register(cell);
    // sample 0: out0 always, out1 never; sample 1: out0 every other step, out1 always
    stepCell(cell, [0, 0, 0, 0], [1, 0, 1, 1]);
    stepCell(cell, [0, 0, 0, 0], [1, 0, 0, 1]);
    rule.step();
    conn.update();
    // r: sample 0 [1, 0], sample 1 [0.5, 1]; (r* − r)/r*: [−1, 1] and [0, −1]; batch mean [−0.5, 0]
    // but pos and neg are reduced separately: out1 pos = mean(1, 0) = 0.5, neg = mean(0, 1) = 0.5
    expect(values(conn.weight)).toEqual([-0.5, -0.5, 0, 0]);
    const acc = conn.updater.accumulator('weight');
    expect(acc.empty).toBe(true);
    rule.dispose();
    conn.dispose();
    cell.neuron.dispose();
  });

  it('regulates biases, and delays with the opposite sign', () => {
    const conn = new LinearDirect([3], 1, { bias: true, maxDelay: 4, delayInit: constantInit(2), weightInit: constantInit(1) });
    const cell = makeCell(conn, [1, 3]);
    const bias = new LinearHomeostasis({ plasticity: 0.1, target: 0.25, parameter: 'bias' });
    const delay = new LinearHomeostasis({ plasticity: 0.1, target: 0.25, parameter: 'delay' });
    bias.register(cell);
    delay.register(cell);
    for (const p of posts) stepCell(cell, [0, 0, 0], p);
    bias.step();
    delay.step();
    conn.update();
    const b = values(conn.bias!);
    const d = values(conn.delay!);
    [-0.3, -0.1, 0.1].forEach((k, i) => {
      expect(b[i]).toBeCloseTo(k, 6);
      expect(d[i]).toBeCloseTo(2 - k, 6);
    });
    expect(values(conn.weight)).toEqual([1, 1, 1]);
    bias.dispose();
    delay.dispose();
    conn.dispose();
    cell.neuron.dispose();
  });

  it('takes a per-call target (number or per-neuron tensor) and restarts the rate on clear()', () => {
    const conn = new LinearDirect([3], 1, { weightInit: constantInit(0) });
    const cell = makeCell(conn, [1, 3]);
    const rule = new LinearHomeostasis({ plasticity: 0.2 });
    rule.register(cell);
    for (const p of posts) stepCell(cell, [0, 0, 0], p);
    expect(() => rule.step()).toThrow(/target/);
    rule.step(0.5); // 0.2·(0.5 − r)/0.5 = [−0.2, 0, 0.2]
    conn.update();
    let w = values(conn.weight);
    [-0.2, 0, 0.2].forEach((v, i) => expect(w[i]).toBeCloseTo(v, 6));
    const t = tf.tensor2d([[1, 0.5, 0.25]]); // 0.2·(T − r)/T = [0, 0, 0.2]
    rule.step(t);
    conn.update();
    w = values(conn.weight);
    [-0.2, 0, 0.4].forEach((v, i) => expect(w[i]).toBeCloseTo(v, 6));
    // after clear() the rate starts over: one step with spikes [0, 1, 1] gives r = [0, 1, 1]
    rule.clear();
    stepCell(cell, [0, 0, 0], [0, 1, 1]);
    rule.step(0.5); // [0.2, −0.2, −0.2]
    conn.update();
    w = values(conn.weight);
    [0, -0.2, 0.2].forEach((v, i) => expect(w[i]).toBeCloseTo(v, 6));
    expect(() => rule.step(tf.zeros([1, 4]))).toThrow(/target/);
    expect(() => rule.step(-1)).toThrow(/target/);
    // not a number or tensor: refused, not read as "the default target"
    expect(() => rule.step('0.5' as unknown as number)).toThrow(/invalid target: got "0.5", expected a number > 0, a tensor of target rates/);
    t.dispose();
    rule.dispose();
    conn.dispose();
    cell.neuron.dispose();
  });

  it('keeps the tensor count flat and rejects bad settings', () => {
    const conn = new LinearDirect([3], 1, { weightInit: constantInit(0) });
    const cell = makeCell(conn, [1, 3]);
    const rule = new LinearHomeostasis({ plasticity: 0.01, target: 0.1 });
    rule.register(cell);
    stepCell(cell, [0, 0, 0], [1, 0, 1]);
    rule.step();
    rule.step(0.2);
    conn.update();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 40; i++) {
      stepCell(cell, [0, 0, 0], [i % 2, 0, 1]);
      rule.step();
      rule.step(0.2);
      conn.update();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new LinearHomeostasis({ plasticity: Number.NaN })).toThrow(/plasticity/);
    expect(() => new LinearHomeostasis({ plasticity: 1, target: 0 })).toThrow(/target/);
    expect(() => new LinearHomeostasis({ plasticity: 1, parameter: 'gain' as never })).toThrow(/parameter/);
    const noBias = makeCell(new LinearDirect([3], 1), [1, 3]);
    const b = new LinearHomeostasis({ plasticity: 1, target: 0.1, parameter: 'bias' });
    expect(() => b.register(noBias)).toThrow(/bias/);
    const d = new LinearHomeostasis({ plasticity: 1, target: 0.1, parameter: 'delay' });
    expect(() => d.register(noBias)).toThrow(/delay/);
    rule.dispose();
    b.dispose();
    d.dispose();
    conn.dispose();
    noBias.connection.dispose();
    cell.neuron.dispose();
    noBias.neuron.dispose();
  });
});
