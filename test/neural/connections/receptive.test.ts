// Receptive contract: Σ_R presynReceptive(x)·postsynReceptive(y) is the per-topology outer product.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { Conv2D, LinearDense, LinearDirect, LinearLateral } from '../../../src/neural/connections/index.js';
import type { Connection } from '../../../src/neural/connections/index.js';
import { expectAllClose, uniform, vals } from './helpers.js';

/** Σ over the last (receptive) axis of pre·post, as a trainer computes it. */
function contract(conn: Connection, pre: tf.Tensor, post: tf.Tensor): { shape: number[]; data: number[] } {
  return tf.tidy(() => {
    const p = conn.presynReceptive(pre);
    const q = conn.postsynReceptive(post);
    const s = tf.sum(tf.mul(p, q), -1);
    return { shape: s.shape, data: vals(s) };
  });
}

describe('receptive contract', () => {
  const rng = new Rng(41);

  it('dense: Σ_R = post_j·pre_i for every (b, j, i), on multi-dimensional shapes', () => {
    const [B, I, O] = [2, 6, 4];
    const conn = new LinearDense([3, 2], [2, 2], 1, { batchSize: B });
    const x = uniform(rng, B * I);
    const y = uniform(rng, B * O);
    const r = contract(conn, tf.tensor(x, [B, 3, 2]), tf.tensor(y, [B, 2, 2]));
    expect(r.shape).toEqual([B, O, I]);
    const want: number[] = [];
    for (let b = 0; b < B; b++) for (let j = 0; j < O; j++) for (let i = 0; i < I; i++) want.push(y[b * O + j]! * x[b * I + i]!);
    expectAllClose(r.data, want);
    conn.dispose();
  });

  it('dense with delays: per-edge presynaptic [B, O, I] times post_j', () => {
    const [B, I, O] = [2, 3, 2];
    const conn = new LinearDense([I], [O], 1, { batchSize: B, maxDelay: 2 });
    const x = uniform(rng, B * O * I);
    const y = uniform(rng, B * O);
    const r = contract(conn, tf.tensor(x, [B, O, I]), tf.tensor(y, [B, O]));
    expect(r.shape).toEqual([B, O, I]);
    expectAllClose(r.data, x.map((v, k) => v * y[Math.floor(k / I)]!));
    conn.dispose();
  });

  it('direct: Σ_R = pre_n·post_n', () => {
    const conn = new LinearDirect([5], 1, { batchSize: 3 });
    const x = uniform(rng, 15);
    const y = uniform(rng, 15);
    const r = contract(conn, tf.tensor(x, [3, 5]), tf.tensor(y, [3, 5]));
    expect(r.shape).toEqual([3, 5]);
    expectAllClose(r.data, x.map((v, k) => v * y[k]!));
    conn.dispose();
  });

  it('lateral: dense outer product [B, N, N] (the mask is the trainer\'s business, the weight stays masked)', () => {
    const conn = new LinearLateral([3], 1);
    const x = uniform(rng, 3);
    const y = uniform(rng, 3);
    const r = contract(conn, tf.tensor(x, [1, 3]), tf.tensor(y, [1, 3]));
    expect(r.shape).toEqual([1, 3, 3]);
    expectAllClose(r.data, [0, 1, 2].flatMap((j) => [0, 1, 2].map((i) => y[j]! * x[i]!)));
    conn.dispose();
  });

  it('conv: Σ over output locations of post[l, f]·patch[l, (a, b, c)] (hand loop, stride 2, padding 1)', () => {
    const [B, H, W, C, F, kh, kw, s, p] = [2, 5, 4, 2, 3, 3, 2, 2, 1];
    const conv = new Conv2D([H, W, C], F, [kh, kw], 1, { stride: s, padding: p, batchSize: B });
    const [OH, OW] = [conv.outShape[0]!, conv.outShape[1]!];
    expect([OH, OW]).toEqual([3, 3]);
    const x = uniform(rng, B * H * W * C);
    const y = uniform(rng, B * OH * OW * F);
    const r = contract(conv, tf.tensor(x, [B, H, W, C]), tf.tensor(y, [B, OH, OW, F]));
    expect(r.shape).toEqual([B, F, kh, kw, C]);
    const want: number[] = [];
    for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) for (let a = 0; a < kh; a++) for (let c2 = 0; c2 < kw; c2++) for (let ch = 0; ch < C; ch++) {
      let sum = 0;
      for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
        const iy = oy * s - p + a;
        const ix = ox * s - p + c2;
        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
        sum += y[((b * OH + oy) * OW + ox) * F + f]! * x[((b * H + iy) * W + ix) * C + ch]!;
      }
      want.push(sum);
    }
    expectAllClose(r.data, want, 1e-5, 1e-5);
    conv.dispose();
  });
});

describe('presynReceptive form argument', () => {
  it('dense with delays: "presynaptic" takes [B, ...inShape] only, "synaptic" [B, O, I] only; omitted, either; bad forms refused', () => {
    const [B, I, O] = [2, 3, 2];
    const conn = new LinearDense([I], [O], 1, { batchSize: B, maxDelay: 2 });
    const unit = tf.tensor2d([1, 2, 3, 4, 5, 6], [B, I]);
    const edge = tf.tensor3d(Array.from({ length: B * O * I }, (_, k) => k), [B, O, I]);
    const shape = (x: tf.Tensor, form?: 'synaptic' | 'presynaptic') => tf.tidy(() => conn.presynReceptive(x, form).shape);
    expect(shape(unit)).toEqual([B, 1, I, 1]);
    expect(shape(unit, 'presynaptic')).toEqual([B, 1, I, 1]);
    expect(shape(edge)).toEqual([B, O, I, 1]);
    expect(shape(edge, 'synaptic')).toEqual([B, O, I, 1]);
    expect(() => conn.presynReceptive(edge, 'presynaptic')).toThrow(/invalid x: .*shape \[B, 3\]/);
    expect(() => conn.presynReceptive(unit, 'synaptic')).toThrow(/invalid x: .*per-edge \[B, 2, 3\]/);
    expect(() => conn.presynReceptive(unit, 'edge' as never)).toThrow(/invalid form/);
    const direct = new LinearDirect([I], 1, { batchSize: B, maxDelay: 2 });
    expect(vals(tf.tidy(() => direct.presynReceptive(unit, 'presynaptic')))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(vals(tf.tidy(() => direct.presynReceptive(unit, 'synaptic')))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => direct.presynReceptive(unit, 'edge' as never)).toThrow(/invalid form/);
    tf.dispose([unit, edge]);
    conn.dispose();
    direct.dispose();
  });
});
