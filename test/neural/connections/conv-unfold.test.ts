// Conv2D's receptive unfold is a copy (Inferno's F.unfold): each unfolded entry is exactly the input
// value at its window position (0 in the padding), so a NaN or ±Inf stays in the entries that hold
// it instead of reaching the other entries of its patches.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { Conv2D } from '../../../src/neural/connections/index.js';
import { uniform, vals } from './helpers.js';
import { setFusedKernels } from '../../../src/kernels/js/fused-memory.js';

/** Plain-JS unfold `[B, 1, kh, kw, C, L]` with explicit top/left padding. */
function unfoldRef(x: number[], B: number, H: number, W: number, C: number, kh: number, kw: number, s: [number, number], d: [number, number], top: number, left: number, OH: number, OW: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let a = 0; a < kh; a++) for (let q = 0; q < kw; q++) for (let c = 0; c < C; c++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    const iy = oy * s[0] - top + a * d[0];
    const ix = ox * s[1] - left + q * d[1];
    out.push(iy < 0 || iy >= H || ix < 0 || ix >= W ? 0 : x[((b * H + iy) * W + ix) * C + c]!);
  }
  return out;
}

describe('Conv2D presynReceptive (unfold)', () => {
  const cases = [
    { name: 'padding 1, stride 2', H: 5, W: 4, C: 2, k: [3, 2] as [number, number], stride: [2, 2] as [number, number], dil: [1, 1] as [number, number], padding: 1 as const, top: 1, left: 1 },
    { name: 'valid, dilation [2, 1]', H: 5, W: 4, C: 2, k: [2, 2] as [number, number], stride: [1, 1] as [number, number], dil: [2, 1] as [number, number], padding: 'valid' as const, top: 0, left: 0 },
    // 'same' as tfjs: total padding max(0, (O − 1)·s + span − N), the smaller half on top/left
    { name: "'same', stride [2, 1], kernel [2, 3]", H: 5, W: 4, C: 1, k: [2, 3] as [number, number], stride: [2, 1] as [number, number], dil: [1, 1] as [number, number], padding: 'same' as const, top: 0, left: 1 },
  ];
  for (const c of cases) for (const fused of [true, false]) {
    it(`copies input values exactly, NaN and ±Inf only where they are (${c.name}; ${fused ? 'fused JS gather' : 'tf.gather, as on webgpu'})`, () => {
      const was = setFusedKernels(fused);
      const B = 2;
      const conv = new Conv2D([c.H, c.W, c.C], 1, c.k, 1, { stride: c.stride, dilation: c.dil, padding: c.padding, batchSize: B });
      const [OH, OW] = [conv.outShape[0]!, conv.outShape[1]!];
      const x = uniform(new Rng(5), B * c.H * c.W * c.C, -2, 2);
      x[3] = NaN;
      x[2 * c.C + 1 + c.W * c.C] = Infinity;
      x[x.length - 2] = -Infinity;
      const got = vals(conv.presynReceptive(tf.tensor(x, [B, c.H, c.W, c.C])));
      const want = unfoldRef(x, B, c.H, c.W, c.C, c.k[0], c.k[1], c.stride, c.dil, c.top, c.left, OH, OW).map(Math.fround);
      expect(got.length).toBe(want.length);
      setFusedKernels(was);
      for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i]) && !(got[i] === 0 && want[i] === 0)) throw new Error(`entry ${i}: got ${got[i]}, want ${want[i]}`);
      conv.dispose();
    });
  }

  it('Σ over the unfolded window times the weight equals the forward (finite inputs, same layouts)', () => {
    const B = 2;
    const conv = new Conv2D([5, 4, 2], 3, [3, 2], 1, { stride: [2, 1], padding: 'same', batchSize: B, weightInit: (s) => tf.tensor(uniform(new Rng(8), 3 * 3 * 2 * 2), [...s]) });
    const x = tf.tensor(uniform(new Rng(9), B * 5 * 4 * 2, 0, 1), [B, 5, 4, 2]);
    const y = conv.forward(x);
    const viaUnfold = tf.tidy(() => tf.sum(tf.mul(conv.presynReceptive(x), tf.reshape(conv.weight, [1, 3, 3, 2, 2, 1])), [2, 3, 4])); // [B, F, L]
    const want = vals(tf.transpose(tf.reshape(y, [B, -1, 3]), [0, 2, 1]));
    const got = vals(viaUnfold);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
    tf.dispose([x, y, viaUnfold]);
    conv.dispose();
  });
});

describe('Conv2D unfold memory', () => {
  it('repeated unfolds keep the tensor count flat, and dispose frees everything', () => {
    const before = tf.memory().numTensors;
    const conv = new Conv2D([4, 4, 2], 2, 3, 1, { padding: 1, batchSize: 2 });
    const x = tf.ones([2, 4, 4, 2]);
    tf.dispose(conv.presynReceptive(x));
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) tf.dispose(conv.presynReceptive(x));
    expect(tf.memory().numTensors).toBe(after1);
    x.dispose();
    conv.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
