// Connectivity masks: edge lists, radius and Gaussian neighbourhoods on 2-D grids.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { MaskedLinear, constantInit, edgeListMask, gaussianMask, radiusMask } from '../../../src/neural/connections/index.js';
import { vals } from './helpers.js';

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);

describe('topographic masks', () => {
  it('radiusMask on a 3×3 grid with radius 1: self + 4-neighbours (33 edges), 24 without self', () => {
    const m = radiusMask([3, 3], [3, 3], 1);
    expect([m.rows, m.cols]).toEqual([9, 9]);
    expect(sum(m.data)).toBe(33);
    // centre (1,1) = unit 4 receives from 1, 3, 4, 5, 7
    expect(Array.from(m.data.slice(4 * 9, 5 * 9))).toEqual([0, 1, 0, 1, 1, 1, 0, 1, 0]);
    expect(sum(radiusMask([3, 3], [3, 3], 1, { self: false }).data)).toBe(24);
    // radius √2 adds the diagonals: 9 + 12 + 8·... = all pairs with |dr|,|dc| ≤ 1
    let want = 0;
    for (let a = 0; a < 9; a++) for (let b = 0; b < 9; b++) if (Math.abs(Math.floor(a / 3) - Math.floor(b / 3)) <= 1 && Math.abs((a % 3) - (b % 3)) <= 1) want++;
    expect(sum(radiusMask([3, 3], [3, 3], Math.SQRT2).data)).toBe(want);
  });

  it('radiusMask maps a coarser output grid onto the input grid by cell centres', () => {
    // one output unit sits at the centre (1, 1) of a 3×3 input grid
    expect(Array.from(radiusMask([3, 3], [1, 1], 1).data)).toEqual([0, 1, 0, 1, 1, 1, 0, 1, 0]);
    // 2×2 output on 4×4 input: output (0,0) sits at (0.5, 0.5) → radius 0.75 reaches the 4 nearest inputs
    const m = radiusMask([4, 4], [2, 2], 0.75);
    expect(Array.from(m.data.slice(0, 16))).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('gaussianMask: reproducible per seed, edge count matches Σ peak·exp(−d²/2σ²)', () => {
    const [sigma, peak] = [2, 0.8];
    const a = gaussianMask([20, 20], [20, 20], sigma, new Rng(7), { peak });
    const b = gaussianMask([20, 20], [20, 20], sigma, new Rng(7), { peak });
    const c = gaussianMask([20, 20], [20, 20], sigma, new Rng(8), { peak });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
    let mean = 0;
    let variance = 0;
    for (let j = 0; j < 400; j++) for (let i = 0; i < 400; i++) {
      const d2 = (Math.floor(j / 20) - Math.floor(i / 20)) ** 2 + ((j % 20) - (i % 20)) ** 2;
      const p = peak * Math.exp(-d2 / (2 * sigma * sigma));
      mean += p;
      variance += p * (1 - p);
    }
    expect(Math.abs(sum(a.data) - mean)).toBeLessThan(4 * Math.sqrt(variance));
    // cutoff removes every edge beyond it
    const cut = gaussianMask([5, 5], [5, 5], 1e6, new Rng(1), { cutoff: 1 }) // p ≈ 1 inside;
    expect(Array.from(cut.data)).toEqual(Array.from(radiusMask([5, 5], [5, 5], 1).data));
  });

  it('MaskedLinear accepts ConnectivityMask, nested boolean arrays, tensors and edge lists alike', () => {
    const edges: [number, number][] = [[0, 1], [1, 0], [1, 2]];
    const fromEdges = edgeListMask(2, 3, edges);
    const inputs = [fromEdges, [[false, true, false], [true, false, true]], tf.tensor([[0, 3, 0], [-1, 0, 2]]), { edges }];
    for (const mask of inputs) {
      const conn = new MaskedLinear([3], [2], 1, { mask, weightInit: constantInit(1) });
      expect(vals(conn.weight)).toEqual([0, 1, 0, 1, 0, 1]);
      conn.dispose();
    }
    (inputs[2] as tf.Tensor).dispose();
  });
});
