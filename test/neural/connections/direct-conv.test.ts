// LinearDirect and Conv2D against plain-JS computations.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { Conv2D, LinearDirect, constantInit, normalInit, uniformInit } from '../../../src/neural/connections/index.js';
import { bits, expectAllClose, vals } from './helpers.js';

describe('LinearDirect', () => {
  it('y = x ⊙ w + b on a [2, 3] group with batch 2', () => {
    const rng = new Rng(21);
    const conn = new LinearDirect([2, 3], 1, { batchSize: 2, bias: true, weightInit: normalInit(rng), biasInit: normalInit(rng) });
    expect(conn.weight.shape).toEqual([2, 3]);
    const [w, b] = [vals(conn.weight), vals(conn.bias!)];
    const x = bits(rng, 12);
    const y = tf.tidy(() => vals(conn.forward(tf.tensor(x, [2, 2, 3]))));
    expectAllClose(y, x.map((v, k) => v * w[k % 6]! + b[k % 6]!));
    conn.dispose();
  });

  it('per-unit delays: unit n sees its input delayed by its own number of steps', () => {
    const steps = [0, 3, 1, 2];
    const conn = new LinearDirect([4], 2, { maxDelay: 6, weightInit: uniformInit(new Rng(22), 1, 2), delayInit: () => tf.tensor(steps.map((s) => s * 2)) });
    const w = vals(conn.weight);
    const rng = new Rng(23);
    const xs = Array.from({ length: 15 }, () => bits(rng, 4));
    for (let t = 0; t < 15; t++) {
      const y = tf.tidy(() => vals(conn.forward(tf.tensor([xs[t]!]))));
      const want = steps.map((d, n) => (t - d >= 0 ? (xs[t - d]![n]! * w[n]!) / 2 : 0)); // delta current s/dt, dt = 2
      expectAllClose(y, want);
      const sp = tf.tidy(() => vals(conn.synspike));
      expect(sp).toEqual(steps.map((d, n) => (t - d >= 0 ? xs[t - d]![n]! : 0)));
    }
    conn.dispose();
  });
});

/** Plain-JS convolution, NHWC input, weight [F, kh, kw, C], symmetric zero padding (top/left = padT/padL). */
function convRef(x: number[], [B, H, W, C]: number[], w: number[], F: number, [kh, kw]: number[], [sh, sw]: number[], [dh, dw]: number[], [padT, padL]: number[], [OH, OW]: number[], bias: number[] | null): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) for (let f = 0; f < F; f++) {
    let s = bias ? bias[f]! : 0;
    for (let a = 0; a < kh; a++) for (let c2 = 0; c2 < kw; c2++) for (let ch = 0; ch < C; ch++) {
      const iy = oy * sh - padT + a * dh;
      const ix = ox * sw - padL + c2 * dw;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      s += w[((f * kh + a) * kw + c2) * C + ch]! * x[((b * H + iy) * W + ix) * C + ch]!;
    }
    out.push(s);
  }
  return out;
}

describe('Conv2D', () => {
  const cases = [
    { name: 'valid, stride 1', H: 6, W: 5, C: 2, F: 3, k: [3, 2], stride: [1, 1], dil: [1, 1], padding: 'valid' as const, pad: [0, 0], out: [4, 4] },
    { name: 'padding 1, stride 2', H: 7, W: 6, C: 3, F: 2, k: [3, 3], stride: [2, 2], dil: [1, 1], padding: 1, pad: [1, 1], out: [4, 3] },
    { name: 'padding 1, stride 2, non-square kernel', H: 7, W: 6, C: 2, F: 2, k: [3, 2], stride: [2, 2], dil: [1, 1], padding: 1, pad: [1, 1], out: [4, 4] },
    { name: 'same, stride 1', H: 5, W: 5, C: 1, F: 2, k: [3, 3], stride: [1, 1], dil: [1, 1], padding: 'same' as const, pad: [1, 1], out: [5, 5] },
    { name: 'dilation 2', H: 7, W: 7, C: 2, F: 2, k: [2, 3], stride: [1, 1], dil: [2, 2], padding: 'valid' as const, pad: [0, 0], out: [5, 3] },
    { name: 'padding 2, dilation [2, 1], non-square kernel', H: 6, W: 5, C: 2, F: 2, k: [3, 2], stride: [1, 1], dil: [2, 1], padding: 2, pad: [2, 2], out: [6, 8] },
    { name: 'same, dilation 2', H: 6, W: 6, C: 1, F: 2, k: [3, 3], stride: [1, 1], dil: [2, 2], padding: 'same' as const, pad: [2, 2], out: [6, 6] },
  ];
  for (const c of cases) {
    it(`matches a plain-JS convolution (${c.name})`, () => {
      const rng = new Rng(31);
      const B = 2;
      const conv = new Conv2D([c.H, c.W, c.C], c.F, c.k as [number, number], 1, { stride: c.stride as [number, number], dilation: c.dil as [number, number], padding: c.padding, batchSize: B, bias: true, weightInit: normalInit(rng), biasInit: normalInit(rng) });
      expect([...conv.outShape]).toEqual([...c.out, c.F]);
      expect(conv.weight.shape).toEqual([c.F, c.k[0], c.k[1], c.C]);
      const x = bits(rng, B * c.H * c.W * c.C);
      const y = tf.tidy(() => vals(conv.forward(tf.tensor(x, [B, c.H, c.W, c.C]))));
      expectAllClose(y, convRef(x, [B, c.H, c.W, c.C], vals(conv.weight), c.F, c.k, c.stride, c.dil, c.pad, c.out, vals(conv.bias!)));
      conv.dispose();
    });
  }

  it('weight updates reach the cached filter', () => {
    const conv = new Conv2D([3, 3, 1], 1, 2, 1, { weightInit: constantInit(1) });
    conv.updater.add('weight', tf.tidy(() => tf.tensor([1, 0, 0, 0], [1, 2, 2, 1])));
    conv.update();
    const y = tf.tidy(() => vals(conv.forward(tf.tensor([1, 0, 0, 0, 1, 0, 0, 0, 1], [1, 3, 3, 1]))));
    // windows: [[1,0],[0,1]] → 2·1 + 0 + 0 + 1 = 3; [[0,0],[1,0]] → 1; [[0,1],[0,0]] → 1; [[1,0],[0,1]] → 3
    expect(y).toEqual([3, 1, 1, 3]);
    conv.dispose();
  });
});
