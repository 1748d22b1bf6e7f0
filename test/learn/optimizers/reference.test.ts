// Adam and GradientDescent against independent float64 loops of their documented closed forms
// (reference/eprop-nest.md §5, the TF1/Keras form of Adam):
//   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  α_k = η·√(1 − β2^k)/(1 − β1^k);
//   w ← clip(w − α_k·m/(√v + ε), wMin, wMax)        and        w ← clip(w − η·g, wMin, wMax)
// over many steps of seeded random gradients (zeros, tiny values where ε matters, large ones), a
// learning rate changed between steps, clipping, and a long run's β powers. Also checks the
// documented identity with the PyTorch form (ε on √v̂): this form with ε equals PyTorch's with
// ε/√(1 − β2^k) (i.e. PyTorch's ε̂ corresponds to ε̂·√(1 − β2^k) here, as reference/eprop-nest.md says).
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Adam, GradientDescent } from '../../../src/learn/optimizers/index.js';
import { mulberry32 } from '../../helpers/random.js';

const rng = mulberry32;

/** `steps` gradients of `n` values: mostly normal-ish, some exact zeros, some tiny (|g| ~ ε), some large. */
function gradients(seed: number, steps: number, n: number): number[][] {
  const u = rng(seed);
  return Array.from({ length: steps }, () =>
    Array.from({ length: n }, () => {
      const r = u();
      const x = 2 * u() - 1;
      if (r < 0.1) return 0;
      if (r < 0.25) return x * 1e-6;
      if (r < 0.35) return x * 50;
      return x;
    }),
  );
}

interface AdamSetting { lr: (k: number) => number; beta1: number; beta2: number; epsilon: number; wMin?: number; wMax?: number }

/** The documented Adam in float64: weights after every step. */
function adam64(w0: number[], grads: number[][], o: AdamSetting): { w: number[][]; m: number[]; v: number[] } {
  const w = [...w0];
  const m = w0.map(() => 0);
  const v = w0.map(() => 0);
  let p1 = 1;
  let p2 = 1;
  const out: number[][] = [];
  grads.forEach((g, i) => {
    const k = i + 1;
    p1 *= o.beta1;
    p2 *= o.beta2;
    const alpha = (o.lr(k) * Math.sqrt(1 - p2)) / (1 - p1);
    for (let j = 0; j < w.length; j++) {
      m[j] = o.beta1 * m[j]! + (1 - o.beta1) * g[j]!;
      v[j] = o.beta2 * v[j]! + (1 - o.beta2) * g[j]! * g[j]!;
      w[j] = Math.min(o.wMax ?? Infinity, Math.max(o.wMin ?? -Infinity, w[j]! - (alpha * m[j]!) / (Math.sqrt(v[j]!) + o.epsilon)));
    }
    out.push([...w]);
  });
  return { w: out, m, v };
}

/** PyTorch's documented Adam (ε added to √v̂, bias corrections on m and v) with ε replaced by `eps(k)`. */
function torchAdam64(w0: number[], grads: number[][], o: AdamSetting, eps: (k: number) => number): number[][] {
  const w = [...w0];
  const m = w0.map(() => 0);
  const v = w0.map(() => 0);
  return grads.map((g, i) => {
    const k = i + 1;
    for (let j = 0; j < w.length; j++) {
      m[j] = o.beta1 * m[j]! + (1 - o.beta1) * g[j]!;
      v[j] = o.beta2 * v[j]! + (1 - o.beta2) * g[j]! * g[j]!;
      const mHat = m[j]! / (1 - o.beta1 ** k);
      const vHat = v[j]! / (1 - o.beta2 ** k);
      w[j] = w[j]! - (o.lr(k) * mHat) / (Math.sqrt(vHat) + eps(k));
    }
    return [...w];
  });
}

/** Runs the optimizer on one variable: weights after every step (η set before each step). */
function runTf(opt: Adam | GradientDescent, w0: number[], grads: number[][], lr: (k: number) => number): number[][] {
  const w = tf.variable(tf.tensor1d(w0));
  const out = grads.map((g, i) => {
    opt.learningRate = lr(i + 1);
    tf.tidy(() => opt.apply([{ variable: w, gradient: tf.tensor1d(g) }]));
    return Array.from(w.dataSync());
  });
  w.dispose();
  return out;
}

/** Largest |a − b| / (1 + |b|) over all steps and entries. */
const maxErr = (a: number[][], b: number[][]): number => Math.max(...a.flatMap((row, i) => row.map((x, j) => Math.abs(x - b[i]![j]!) / (1 + Math.abs(b[i]![j]!)))));

const W0 = [0.5, -1.5, 2, 0, -0.25, 1, 3, -3];

describe('Adam against a float64 loop of its closed form', () => {
  const settings: [string, AdamSetting][] = [
    ['defaults (η 1e-3, β 0.9/0.999, ε 1e-7)', { lr: () => 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }],
    ['NEST e-prop example (η 5e-3, ε 1e-8)', { lr: () => 5e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }],
    ['β1 = 0 (RMSProp-like), large ε', { lr: () => 0.05, beta1: 0, beta2: 0.99, epsilon: 0.1 }],
    ['β2 = 0 (sign-like), η changed every step (0 on every fifth)', { lr: (k) => (k % 5 === 0 ? 0 : 0.01 * (1 + (k % 3))), beta1: 0.5, beta2: 0, epsilon: 1e-6 }],
    ['clipped to [-1, 1.2]', { lr: () => 0.2, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, wMin: -1, wMax: 1.2 }],
  ];
  for (const [name, o] of settings) {
    it(name, () => {
      const grads = gradients(7 + name.length, 150, W0.length);
      const want = adam64(W0, grads, o);
      const opt = new Adam({ learningRate: o.lr(1), beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, wMin: o.wMin, wMax: o.wMax });
      const w = tf.variable(tf.tensor1d(W0));
      const got: number[][] = [];
      grads.forEach((g, i) => {
        opt.learningRate = o.lr(i + 1);
        tf.tidy(() => opt.apply([{ variable: w, gradient: tf.tensor1d(g) }]));
        got.push(Array.from(w.dataSync()));
      });
      expect(maxErr(got, want.w)).toBeLessThan(2e-5);
      // the weights did move (the comparison is not between two constants)
      expect(Math.max(...want.w.at(-1)!.map((x, j) => Math.abs(x - W0[j]!)))).toBeGreaterThan(0.01);
      if (o.wMin !== undefined) expect(got.flat().every((x) => x >= Math.fround(o.wMin!) && x <= Math.fround(o.wMax!))).toBe(true); // the bounds as float32
      const s = opt.snapshotState(new Map([[w, 'w']]));
      const m = Array.from(s.tensors['w.m']!.dataSync());
      const v = Array.from(s.tensors['w.v']!.dataSync());
      m.forEach((x, j) => expect(Math.abs(x - want.m[j]!)).toBeLessThanOrEqual(1e-5 * (1e-3 + Math.abs(want.m[j]!))));
      v.forEach((x, j) => expect(Math.abs(x - want.v[j]!)).toBeLessThanOrEqual(1e-5 * (1e-12 + Math.abs(want.v[j]!))));
      expect(s.values).toMatchObject({ k: 150, beta1Power: [...Array(150)].reduce((p: number) => p * o.beta1, 1), beta2Power: [...Array(150)].reduce((p: number) => p * o.beta2, 1), learningRate: o.lr(150), beta1: o.beta1, beta2: o.beta2 });
      tf.dispose(Object.values(s.tensors));
      opt.dispose();
      w.dispose();
    });
  }

  it('equals PyTorch\'s form with ε replaced by ε/√(1 − β2^k), and differs from it with ε unchanged', () => {
    const o: AdamSetting = { lr: () => 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-3 };
    const grads = gradients(99, 60, W0.length).map((g) => g.map((x) => x * 1e-2)); // |g| near ε
    const mine = adam64(W0, grads, o).w;
    const torchMatched = torchAdam64(W0, grads, o, (k) => o.epsilon / Math.sqrt(1 - o.beta2 ** k));
    const torchPlain = torchAdam64(W0, grads, o, () => o.epsilon);
    expect(maxErr(mine, torchMatched)).toBeLessThan(1e-12);
    expect(maxErr(mine, torchPlain)).toBeGreaterThan(1e-3);
    const got = runTf(new Adam({ learningRate: 0.01, epsilon: 1e-3 }), W0, grads, o.lr);
    expect(maxErr(got, torchMatched)).toBeLessThan(2e-5);
  });

  it('after 20 000 steps (β powers of a long run, restored): one more step matches the float64 form', () => {
    const k = 20_000;
    const p1 = 0.9 ** k;
    const p2 = 0.999 ** k; // 2e-9: the bias correction of v still matters a little
    const m0 = [0.3, -0.02, 0, 1e-4];
    const v0 = [0.5, 1e-3, 1e-10, 1e-8];
    const g = [0.1, -0.4, 2, 0];
    const w0 = [1, -1, 0.5, 0];
    const opt = new Adam({ learningRate: 1e-3 });
    const w = tf.variable(tf.tensor1d(w0));
    const snap = { tensors: { 'w.m': tf.tensor1d(m0), 'w.v': tf.tensor1d(v0) }, values: { k, beta1Power: p1, beta2Power: p2, learningRate: 1e-3 } };
    opt.restoreState(snap, new Map([['w', w]]));
    tf.dispose(Object.values(snap.tensors));
    tf.tidy(() => opt.apply([{ variable: w, gradient: tf.tensor1d(g) }]));
    const alpha = (1e-3 * Math.sqrt(1 - p2 * 0.999)) / (1 - p1 * 0.9);
    const want = w0.map((x, j) => {
      const m = 0.9 * m0[j]! + 0.1 * g[j]!;
      const v = 0.999 * v0[j]! + 0.001 * g[j]! ** 2;
      return x - (alpha * m) / (Math.sqrt(v) + 1e-7);
    });
    Array.from(w.dataSync()).forEach((x, j) => expect(Math.abs(x - want[j]!)).toBeLessThan(1e-6 * (1 + Math.abs(want[j]!))));
    expect(opt.iterations).toBe(k + 1);
    opt.dispose();
    w.dispose();
  });
});

describe('GradientDescent against a float64 loop', () => {
  it('w ← clip(w − η·g) over 150 steps, η changed between steps, clipped to [-2, 2.5]', () => {
    const lr = (k: number): number => (k % 7 === 0 ? 0 : 0.003 * (k % 4));
    const grads = gradients(3, 150, W0.length);
    const w = [...W0];
    const want = grads.map((g, i) => {
      for (let j = 0; j < w.length; j++) w[j] = Math.min(2.5, Math.max(-2, w[j]! - lr(i + 1) * g[j]!));
      return [...w];
    });
    const opt = new GradientDescent({ wMin: -2, wMax: 2.5 });
    const got = runTf(opt, W0, grads, lr);
    expect(maxErr(got, want)).toBeLessThan(2e-5);
    expect(opt.iterations).toBe(150);
  });
});
