import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { LinearDense } from '../../../src/neural/connections/linear-dense.js';
import { LinearDirect } from '../../../src/neural/connections/linear-direct.js';
import { constantInit } from '../../../src/neural/connections/initializers.js';
import { expStdpPostKernel, expStdpPreKernel, type SpikeTimeKernel } from '../../../src/learn/trainers/kernels.js';
import { KernelSTDP } from '../../../src/learn/trainers/kernel-stdp.js';
import { makeCell, stepCell, values } from './kernel-harness.js';

describe('KernelSTDP', () => {
  it('adds K(t_post^f − t_pre^f) on every step once both sides spiked (hand-computed, one synapse)', () => {
    const conn = new LinearDirect([1], 1, { weightInit: constantInit(0) });
    const cell = makeCell(conn, [1, 1]);
    const kPost = expStdpPostKernel(1, 10);
    const kPre = expStdpPreKernel(-0.5, 10);
    const rule = new KernelSTDP({ kernelPost: kPost, kernelPre: kPre });
    rule.register(cell);
    const preTimes = new Set([2, 9]);
    const postTimes = new Set([5]);
    // reference: t_Δ = (t − t_pre^f) − (t − t_post^f) with the latest spikes; undefined before both
    let w = 0;
    let lastPre = Number.NaN;
    let lastPost = Number.NaN;
    for (let t = 1; t <= 12; t++) {
      stepCell(cell, [preTimes.has(t) ? 1 : 0], [postTimes.has(t) ? 1 : 0]);
      if (preTimes.has(t)) lastPre = t;
      if (postTimes.has(t)) lastPost = t;
      const d = lastPost - lastPre;
      if (!Number.isNaN(d)) w += d >= 0 ? Math.exp(-d / 10) : -0.5 * Math.exp(d / 10);
      rule.step();
      if (t === 9) {
        // at t = 9 the newest pre spike follows the post spike: t_Δ = −4, pure depression
        const acc = conn.updater.accumulator('weight');
        const pos = acc.sumPos()!;
        const neg = acc.sumNeg()!;
        expect(values(pos)[0]).toBe(0);
        expect(values(neg)[0]).toBeCloseTo(0.5 * Math.exp(-0.4), 6);
        tf.dispose([pos, neg]);
      }
      conn.update();
      expect(values(conn.weight)[0]).toBeCloseTo(w, 5);
      if (t <= 4) expect(values(conn.weight)[0]).toBe(0);
    }
    // closed form after t = 12: four steps with t_Δ = 3, four with t_Δ = −4
    expect(values(conn.weight)[0]).toBeCloseTo(4 * Math.exp(-0.3) - 4 * 0.5 * Math.exp(-0.4), 5);
    rule.dispose();
    kPost.dispose();
    kPre.dispose();
    conn.dispose();
    cell.neuron.dispose();
  });

  it('averages a user kernel over the batch for every synapse of a dense connection', () => {
    // K_post(t) = 0.1·t for t ≥ 0 (else 0), K_pre = 0
    const tenth = tf.scalar(0.1);
    const zero = tf.scalar(0);
    const linear: SpikeTimeKernel = { apply: (d) => tf.where(tf.greaterEqual(d, zero), tf.mul(d, tenth), zero) };
    const none: SpikeTimeKernel = { apply: (d) => tf.zerosLike(d) };
    const conn = new LinearDense([2], [1], 1, { weightInit: constantInit(0), batchSize: 2 });
    const cell = makeCell(conn, [2, 1]);
    const rule = new KernelSTDP({ kernelPost: linear, kernelPre: none });
    rule.register(cell);
    // sample 0: input 0 spikes at t=1, input 1 at t=2; sample 1: input 0 at t=2, input 1 never
    stepCell(cell, [1, 0, 0, 0], [0, 0]);
    stepCell(cell, [0, 1, 1, 0], [0, 0]);
    // both samples' neuron spikes at t=4
    stepCell(cell, [0, 0, 0, 0], [0, 0]);
    stepCell(cell, [0, 0, 0, 0], [1, 1]);
    rule.step();
    conn.update();
    // t_Δ at t=4: sample 0 → [3, 2]; sample 1 → [2, NaN→0]; mean over the batch of 0.1·t_Δ
    const w = values(conn.weight);
    expect(conn.weight.shape).toEqual([1, 2]);
    expect(w[0]).toBeCloseTo((0.3 + 0.2) / 2, 6);
    expect(w[1]).toBeCloseTo((0.2 + 0) / 2, 6);
    rule.dispose();
    tf.dispose([tenth, zero]);
    conn.dispose();
    cell.neuron.dispose();
  });

  it('keeps the tensor count flat and rejects bad hyperparameters', () => {
    const conn = new LinearDirect([3], 1, { weightInit: constantInit(0.5) });
    const cell = makeCell(conn, [1, 3]);
    const kPost = expStdpPostKernel(0.01, 20);
    const kPre = expStdpPreKernel(-0.01, 20);
    const rule = new KernelSTDP({ kernelPost: kPost, kernelPre: kPre });
    rule.register(cell);
    stepCell(cell, [1, 0, 1], [0, 1, 0]);
    rule.step();
    conn.update();
    const before = tf.memory().numTensors;
    for (let t = 0; t < 30; t++) {
      stepCell(cell, [t % 3 === 0 ? 1 : 0, 0, 1], [0, t % 4 === 0 ? 1 : 0, 0]);
      rule.step();
      conn.update();
    }
    expect(tf.memory().numTensors).toBe(before);

    expect(() => new KernelSTDP({ kernelPost: undefined as never, kernelPre: kPre })).toThrow(/kernelPost/);
    expect(() => new KernelSTDP({ kernelPost: kPost, kernelPre: {} as never })).toThrow(/kernelPre/);
    expect(() => new KernelSTDP({ kernelPost: kPost, kernelPre: kPre, batchReduction: 'max' as never })).toThrow(/batchReduction/);
    const other = makeCell(new LinearDirect([3], 1), [1, 3]);
    expect(() => rule.register(other, { lrPost: 1 } as never)).toThrow(/overrides/);
    rule.dispose();
    kPost.dispose();
    kPre.dispose();
    conn.dispose();
    other.connection.dispose();
    cell.neuron.dispose();
    other.neuron.dispose();
  });
});

describe('KernelSTDP on a real Serial layer', () => {
  it('reads a Cell of Serial(LinearDirect, ExactNeuron) and gives the hand-computed weight', async () => {
    const { Serial } = await import('../../../src/neural/layers/serial.js');
    const { ExactNeuron } = await import('../../../src/neural/neurons/exact-neuron.js');
    const conn = new LinearDirect([1], 1, { weightInit: constantInit(0) });
    // the transform replaces the connection's output: the neuron spikes where this current is > 0
    let drive = tf.zeros([1, 1]);
    const layer = new Serial(conn, new ExactNeuron([1], 1, { restV: 0, threshV: 1 }), { transform: () => drive });
    const cell = layer.cell('connection', 'neuron');
    const kPost = expStdpPostKernel(0.2, 20);
    const kPre = expStdpPreKernel(-0.2, 20);
    const rule = new KernelSTDP({ kernelPost: kPost, kernelPre: kPre });
    rule.register(cell);
    const pre = [0, 1, 0, 0, 1, 0, 0, 0];
    const post = [0, 0, 0, 1, 0, 0, 1, 0];
    let w = 0;
    let lastPre = Number.NaN;
    let lastPost = Number.NaN;
    for (let t = 0; t < pre.length; t++) {
      drive.dispose();
      drive = tf.tensor2d([[post[t]!]]);
      const x = tf.tensor2d([[pre[t]!]]);
      tf.tidy(() => {
        layer.forward(x);
      });
      x.dispose();
      rule.step();
      conn.update();
      if (pre[t]) lastPre = t;
      if (post[t]) lastPost = t;
      const d = lastPost - lastPre;
      if (!Number.isNaN(d)) w += d >= 0 ? 0.2 * Math.exp(-d / 20) : -0.2 * Math.exp(d / 20);
      expect(values(conn.weight)[0]).toBeCloseTo(w, 6);
    }
    // evaluation mode detaches the monitors: no further change
    rule.train(false);
    rule.step();
    conn.update();
    expect(values(conn.weight)[0]).toBeCloseTo(w, 6);
    rule.dispose();
    kPost.dispose();
    kPre.dispose();
    layer.dispose();
    drive.dispose();
  });
});
