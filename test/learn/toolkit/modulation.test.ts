// perSampleTerms and Modulation.parts against float64 sums written here: a per-sample reward splits
// samples by its sign (roles swapped for M_b < 0), scales by |M_b·γ|, and 'mean' divides each side
// by the number of rows routed to it (B, or 2·n_reg / 2·n_inv when both rates share a sign, as
// Inferno concatenates them). perSampleTerms refuses dpost and dpre of different shapes.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Modulation, perSampleTerms } from '../../../src/learn/toolkit/index.js';

const B = 4;
const W = [2, 3];
const n = W[0]! * W[1]!;
// per-sample terms with distinct values (sample b, entry i)
const dpost64 = Array.from({ length: B }, (_, b) => Array.from({ length: n }, (_, i) => 0.1 * (b + 1) + 0.01 * i));
const dpre64 = Array.from({ length: B }, (_, b) => Array.from({ length: n }, (_, i) => 0.5 - 0.07 * b + 0.003 * i * i));

/** The float64 parts: rows routed to each side, then summed or averaged over their number. */
function reference(lrPost: number, lrPre: number, m: number[], scale: number, reduction: 'sum' | 'mean'): { pos: number[]; neg: number[] } {
  const pos: number[][] = [];
  const neg: number[][] = [];
  for (let b = 0; b < B; b++) {
    const k = Math.abs(m[b]! * scale);
    const postRow = dpost64[b]!.map((x) => x * k);
    const preRow = dpre64[b]!.map((x) => x * k);
    // sign of lr·M_b decides (M_b ≥ 0 keeps the rates' signs, M_b < 0 swaps them)
    const up = (lr: number): boolean => (m[b]! >= 0 ? lr >= 0 : lr < 0);
    (up(lrPost) ? pos : neg).push(postRow);
    (up(lrPre) ? pos : neg).push(preRow);
  }
  const reduce = (rows: number[][]): number[] => {
    const s = Array.from({ length: n }, (_, i) => rows.reduce((a, r) => a + r[i]!, 0));
    if (reduction === 'sum') return s;
    // both rates of one sign: a side's rows are 2 per sample routed there; else B per side
    const count = lrPost >= 0 !== lrPre >= 0 ? B : Math.max(rows.length, 1);
    return s.map((x) => x / count);
  };
  return { pos: reduce(pos), neg: reduce(neg) };
}

describe('Modulation.parts with one reward per sample', () => {
  const rewards = [0.7, -1.3, 0, -0.2];
  for (const [lrPost, lrPre] of [[0.1, -0.05], [-0.1, 0.05], [0.1, 0.05], [-0.1, -0.05]] as const) {
    for (const reduction of ['sum', 'mean'] as const) {
      it(`lrPost ${lrPost}, lrPre ${lrPre}, ${reduction}`, () => {
        const mod = new Modulation();
        const want = reference(lrPost, lrPre, rewards, 0.5, reduction);
        const got = tf.tidy(() => {
          const terms = perSampleTerms(tf.tensor(dpost64.flat(), [B, ...W]), tf.tensor(dpre64.flat(), [B, ...W]));
          const { pos, neg } = mod.parts(terms, lrPost, lrPre, tf.tensor1d(rewards), 0.5, reduction);
          return { pos: Array.from(pos!.dataSync()), neg: Array.from(neg!.dataSync()), shape: pos!.shape };
        });
        expect(got.shape).toEqual(W);
        got.pos.forEach((x, i) => expect(x).toBeCloseTo(want.pos[i]!, 6));
        got.neg.forEach((x, i) => expect(x).toBeCloseTo(want.neg[i]!, 6));
        mod.dispose();
      });
    }
  }
});

describe('perSampleTerms', () => {
  it('refuses dpost and dpre of different shapes (a batch of one against B was broadcast into B copies)', () => {
    tf.tidy(() => {
      const dpost = tf.ones([B, 3]);
      expect(() => perSampleTerms(dpost, tf.ones([1, 3]))).toThrow('invalid dpre: got tensor of shape [1, 3] (float32), expected a tensor of the shape of dpost [4, 3]');
      expect(() => perSampleTerms(dpost, tf.ones([B, 2]))).toThrow('invalid dpre: got tensor of shape [4, 2] (float32), expected a tensor of the shape of dpost [4, 3]');
      expect(() => perSampleTerms(tf.scalar(1), tf.scalar(1))).toThrow('invalid dpost: got tensor of shape [] (float32), expected a tensor [B, ...W] (rank >= 1)');
    });
  });
});
