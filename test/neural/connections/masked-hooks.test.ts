// MaskedLinear / LinearLateral: absent edges stay exactly 0 for every writer of the weight, including
// post-update hooks that read it (Inferno re-applies the mask in the weight setter, which its
// Clamping and Normalization hooks go through, so each hook sees the masked weight).
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { LinearLateral, MaskedLinear, constantInit } from '../../../src/neural/connections/index.js';
import { Clamping, Normalization } from '../../../src/neural/hooks/index.js';
import { expectAllClose, vals } from './helpers.js';

describe('masked weights under post-update hooks', () => {
  it('Clamping(min 0.5) then L1 Normalization per row: each hook sees the masked weight (float64 reference)', () => {
    const mask = [[1, 0, 1, 1], [0, 1, 0, 0], [1, 1, 0, 1]];
    const w0 = [0.2, 0.9, 0.7, 0.1, 0.4, 0.3, 0.8, 0.6, 0.6, 0.5, 0.2, 1.2];
    const pos = [0.1, 0.4, -0.3, 0.05, 0.2, 0.1, 0.6, 0.3, -0.5, 0.2, 0.3, 0.1];
    const m = new MaskedLinear([4], [3], 1, { mask, weightInit: (s) => tf.tensor(w0, [...s]) });
    new Clamping(m.weightParameter, { min: 0.5 }).attachToUpdate(m.updater);
    new Normalization(m.weightParameter, { order: 1, dims: 1 }).attachToUpdate(m.updater);
    const u = tf.tensor(pos, [3, 4]);
    m.updater.add('weight', u, null);
    m.update();
    // reference: w ← mask·(w + u); clamp to ≥ 0.5 then re-mask; divide each row by its L1 norm, re-mask
    const want: number[] = [];
    for (let j = 0; j < 3; j++) {
      const row = [0, 1, 2, 3].map((i) => (mask[j]![i] ? Math.max(0.5, w0[j * 4 + i]! + pos[j * 4 + i]!) : 0));
      const n = row.reduce((a, b) => a + Math.abs(b), 0);
      want.push(...row.map((v) => v / n));
    }
    expectAllClose(vals(m.weightParameter.value), want, 1e-6, 1e-7);
    expectAllClose(vals(m.weight), want, 1e-6, 1e-7);
    for (let j = 0; j < 3; j++) expect(want.slice(j * 4, j * 4 + 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    u.dispose();
    m.dispose();
  });

  it('LinearLateral: a clamping hook never writes the diagonal, not even in the parameter read directly', () => {
    const c = new LinearLateral([3], 1, { weightInit: constantInit(0.2) });
    new Clamping(c.weightParameter, { min: 0.3 }).attachToUpdate(c.updater);
    const u = tf.fill([3, 3], 0.05);
    c.updater.add('weight', u, null);
    c.update();
    expect(vals(c.weightParameter.value)).toEqual([0, 0.3, 0.3, 0.3, 0, 0.3, 0.3, 0.3, 0].map(Math.fround));
    u.dispose();
    c.dispose();
  });
});
