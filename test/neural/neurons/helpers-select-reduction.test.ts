// The element-wise select helper and the batch reduction of adaptation state, against plain JS.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { select } from '../../../src/neural/neurons/select.js';
import { reduceBatch } from '../../../src/neural/neurons/batch-reduction.js';

describe('select and reduceBatch', () => {
  it('select: equal shapes (Select kernel) and broadcast shapes (tf.where) give cond ? a : b', () => {
    const condV = [true, false, false, true, true, false];
    const aV = [1, 2, 3, 4, 5, 6];
    const bV = [-1, -2, -3, -4, -5, -6];
    const cond = tf.tensor2d(condV, [2, 3], 'bool');
    const a = tf.tensor2d(aV, [2, 3]);
    const b = tf.tensor2d(bV, [2, 3]);
    const s = tf.scalar(9);
    const before = tf.memory().numTensors;
    const same = select(cond, a, b);
    const bc = select(cond, s, b);
    expect(Array.from(same.dataSync())).toEqual(condV.map((c, i) => (c ? aV[i] : bV[i])));
    expect(same.shape).toEqual([2, 3]);
    expect(Array.from(bc.dataSync())).toEqual(condV.map((c, i) => (c ? 9 : bV[i])));
    [same, bc].forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
    [cond, a, b, s].forEach((t) => t.dispose());
  });

  it('reduceBatch over axis 0: mean, sum, max, none', () => {
    const B = 3;
    const rows = [
      [0.5, -1, 2, 7],
      [1.5, -3, 2, -7],
      [4, 0.25, -2, 1],
    ];
    const x = tf.tensor3d(rows.flat(), [B, 2, 2]);
    const col = (f: (v: number[]) => number) => rows[0]!.map((_, j) => f(rows.map((r) => r[j]!)));
    const want = {
      mean: col((v) => v.reduce((p, q) => p + q, 0) / v.length),
      sum: col((v) => v.reduce((p, q) => p + q, 0)),
      max: col((v) => Math.max(...v)),
    };
    for (const mode of ['mean', 'sum', 'max'] as const) {
      const r = reduceBatch(x, mode);
      expect(r.shape).toEqual([2, 2]);
      Array.from(r.dataSync()).forEach((g, j) => expect(g).toBeCloseTo(want[mode][j]!, 6));
      r.dispose();
    }
    expect(reduceBatch(x, 'none')).toBe(x);
    x.dispose();
  });
});
