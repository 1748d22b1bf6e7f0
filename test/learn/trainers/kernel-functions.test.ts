import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { ExponentialKernel, expStdpPostKernel, expStdpPreKernel, kernelParts, type SpikeTimeKernel } from '../../../src/learn/trainers/kernels.js';

function arr(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

describe('exponential STDP kernels', () => {
  it('evaluate η·exp(−|t_Δ|/τ) on their half-axis and 0 elsewhere, for NaN and ±∞', () => {
    const post = expStdpPostKernel(0.5, 10);
    const pre = expStdpPreKernel(-0.25, 20);
    const d = tf.tensor1d([5, 0, -4, Number.NaN, Infinity, -Infinity]);
    const kp = arr(post.apply(d));
    const kn = arr(pre.apply(d));
    const wantPost = [0.5 * Math.exp(-0.5), 0.5, 0, 0, 0, 0];
    const wantPre = [0, 0, -0.25 * Math.exp(-4 / 20), 0, 0, -0];
    wantPost.forEach((w, i) => expect(kp[i]).toBeCloseTo(w, 7));
    wantPre.forEach((w, i) => expect(kn[i]).toBeCloseTo(w, 7));
    expect(post.side).toBe('causal');
    expect(pre.side).toBe('acausal');
    d.dispose();
    post.dispose();
    pre.dispose();
  });

  it('rejects bad kernel settings', () => {
    expect(() => expStdpPostKernel(0.1, 0)).toThrow(/tau/);
    expect(() => expStdpPreKernel(0.1, -3)).toThrow(/tau/);
    expect(() => expStdpPostKernel(Number.NaN, 3)).toThrow(/learningRate/);
    expect(() => new ExponentialKernel({ learningRate: 1, tau: 1, side: 'both' as never })).toThrow(/side/);
  });
});

describe('kernelParts', () => {
  it('sums the positive and negative kernel parts over the receptive axis, NaN as 0, with delays', () => {
    // dense-like receptive form: O = 1 output, I = 3 inputs, R = 1 → pre [B,1,3,1], post [B,1,1,1]
    const elapsedPre = tf.tensor4d([3, 8, Number.NaN], [1, 1, 3, 1]); // t - t_pre^f
    const elapsedPost = tf.tensor4d([1], [1, 1, 1, 1]); // t - t_post^f
    const delay = tf.tensor3d([0, 10, 0], [1, 3, 1]);
    const kpost = expStdpPostKernel(1, 5);
    const kpre = expStdpPreKernel(-2, 5);
    const zero = tf.scalar(0);
    // t_Δ = elapsedPre − elapsedPost − d = [2, -3, NaN]
    const { pos, neg } = tf.tidy(() => kernelParts(elapsedPre, elapsedPost, delay, kpost, kpre, zero));
    expect(pos.shape).toEqual([1, 1, 3]);
    const p = arr(pos);
    const n = arr(neg);
    expect(p[0]).toBeCloseTo(Math.exp(-2 / 5), 7);
    expect(p[1]).toBe(0);
    expect(p[2]).toBe(0);
    expect(Math.abs(n[0]!)).toBe(0);
    expect(n[1]).toBeCloseTo(2 * Math.exp(-3 / 5), 7);
    expect(Math.abs(n[2]!)).toBe(0);
    // without delays: t_Δ = [2, 7, NaN]
    const nd = tf.tidy(() => kernelParts(elapsedPre, elapsedPost, null, kpost, kpre, zero));
    expect(arr(nd.pos)[1]).toBeCloseTo(Math.exp(-7 / 5), 7);
    expect(arr(nd.neg).map(Math.abs)).toEqual([0, 0, 0]);
    tf.dispose([elapsedPre, elapsedPost, delay, zero, pos, neg, nd.pos, nd.neg]);
    kpost.dispose();
    kpre.dispose();
  });

  it('splits a user kernel with both signs and drops its NaN outputs', () => {
    // K(t) = t (both signs, NaN stays NaN) and K(t) = -1 everywhere
    const lin: SpikeTimeKernel = { apply: (d) => d.clone() };
    const minusOne = tf.scalar(-1);
    const constant: SpikeTimeKernel = { apply: (d) => tf.mul(tf.onesLike(d), minusOne) };
    const zero = tf.scalar(0);
    // receptive axis R = 2 (e.g. conv positions): [B=1, W=1, R=2]
    const elapsedPre = tf.tensor3d([4, Number.NaN], [1, 1, 2]);
    const elapsedPost = tf.tensor3d([1, 2], [1, 1, 2]);
    const { pos, neg } = tf.tidy(() => kernelParts(elapsedPre, elapsedPost, null, lin, constant, zero));
    // t_Δ = [3, NaN]: lin → [3, NaN→0], constant → [-1, -1]
    expect(arr(pos)).toEqual([3]);
    expect(arr(neg)).toEqual([2]);
    tf.dispose([minusOne, zero, elapsedPre, elapsedPost, pos, neg]);
  });
});
