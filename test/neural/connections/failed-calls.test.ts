// Connections: calls that must fail leave the connection as it was, bad initial delays are refused by
// name, and the receptive maps read each form of the presynaptic input correctly.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { LinearDense, LinearDirect, SparseLinear, synapseList } from '../../../src/neural/connections/index.js';
import { vals } from './helpers.js';

describe('connection failed calls and bad input', () => {
  it('a batchSize the synapse refuses leaves the connection at its old batch size', () => {
    const conn = new LinearDense([4], [2], 1, { weightInit: () => tf.tensor([[1, 2, 3, 4], [5, 6, 7, 8]]) });
    expect(() => { conn.batchSize = 2 ** 27; }).toThrow(CinderArgumentError); // 2^27·4 > 2^28 history elements
    expect(conn.batchSize).toBe(1);
    expect(conn.synapse.batchSize).toBe(1);
    // y = x·Wᵀ (delta synapse, Q/dt = 1)
    expect(tf.tidy(() => vals(conn.forward(tf.tensor([[1, 0, 1, 1]]))))).toEqual([8, 20]);
  });

  it('refuses a NaN or infinite initial delay by name, allocating nothing (finite values are clamped to [0, maxDelay])', () => {
    const before = tf.memory().numTensors;
    expect(() => new LinearDense([2], [1], 1, { maxDelay: 2, delayInit: () => tf.tensor([[NaN, 1]]) })).toThrow(/invalid delayInit: got NaN, expected finite delays \(ms\)/);
    expect(() => new LinearDirect([2], 1, { maxDelay: 2, delayInit: () => tf.tensor([Infinity, 1]) })).toThrow(/invalid delayInit: got Infinity/);
    expect(tf.memory().numTensors).toBe(before);
    const clamped = new LinearDirect([2], 1, { maxDelay: 2, delayInit: () => tf.tensor([-1, 5]) });
    expect(vals(clamped.delay!)).toEqual([0, 2]);
    clamped.dispose();
  });
});

describe('SparseLinear receptive maps with delays', () => {
  it('a presynaptic [B, ...inShape] with as many units as synapses is gathered by pre index, a per-synapse [B, S] is not', () => {
    // 4 synapses from a [2, 2] input (I = S = 4): pre = [3, 0, 0, 2], delays 0..2 steps
    const l = synapseList(4, 2, [[3, 0], [0, 0], [0, 1], [2, 1]], [1, 1, 1, 1], [0, 1, 2, 0]);
    const c = new SparseLinear([2, 2], [2], 1, { synapses: l, batchSize: 2 });
    expect(c.hasDelays).toBe(true);
    const x = tf.tensor([[[10, 11], [12, 13]], [[20, 21], [22, 23]]]); // [B = 2, 2, 2]
    const pre = tf.tidy(() => c.presynReceptive(x));
    expect(pre.shape).toEqual([2, 4, 1]);
    expect(vals(pre)).toEqual([13, 10, 10, 12, 23, 20, 20, 22]); // x[b, pre_s]
    const perSynapse = tf.tensor([[1, 2, 3, 4], [5, 6, 7, 8]]); // [B, S]: the delay-selected form
    expect(tf.tidy(() => vals(c.presynReceptive(perSynapse)))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    tf.dispose([x, pre, perSynapse]);
    c.dispose();
  });
});
