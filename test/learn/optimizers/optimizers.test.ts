import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Adam, GradientDescent } from '../../../src/learn/optimizers/index.js';

function run(opt: Adam | GradientDescent, w0: number[], grads: number[][]): number[][] {
  const w = tf.tidy(() => tf.variable(tf.tensor1d(w0)));
  const out: number[][] = [];
  for (const g of grads) {
    const gt = tf.tensor1d(g);
    opt.apply([{ variable: w, gradient: gt }]);
    gt.dispose();
    out.push(Array.from(w.dataSync()));
  }
  w.dispose();
  return out;
}

describe('Adam (TensorFlow form)', () => {
  it('matches hand-computed steps: bias-corrected step size, ε added to √v', () => {
    const opt = new Adam({ learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-3 });
    const [s1, s2, s3] = run(opt, [1, -2], [[0.5, -4], [-0.2, 1], [0, 0]]);
    // Step 1: m = 0.1·g, v = 0.001·g², α1 = 0.1·√0.001/0.1.
    const a1 = (0.1 * Math.sqrt(1 - 0.999)) / (1 - 0.9);
    const m1 = [0.05, -0.4];
    const v1 = [0.00025, 0.016];
    const w1 = [1 - (a1 * m1[0]!) / (Math.sqrt(v1[0]!) + 1e-3), -2 - (a1 * m1[1]!) / (Math.sqrt(v1[1]!) + 1e-3)];
    expect(s1![0]).toBeCloseTo(w1[0]!, 6);
    expect(s1![1]).toBeCloseTo(w1[1]!, 6);
    // Step 2: m = 0.9·m1 + 0.1·g2, v = 0.999·v1 + 0.001·g2², α2 = 0.1·√(1 − 0.999²)/(1 − 0.9²).
    const a2 = (0.1 * Math.sqrt(1 - 0.999 ** 2)) / (1 - 0.9 ** 2);
    const m2 = [0.9 * 0.05 + 0.1 * -0.2, 0.9 * -0.4 + 0.1 * 1];
    const v2 = [0.999 * 0.00025 + 0.001 * 0.04, 0.999 * 0.016 + 0.001 * 1];
    const w2 = w1.map((w, i) => w - (a2 * m2[i]!) / (Math.sqrt(v2[i]!) + 1e-3));
    expect(s2![0]).toBeCloseTo(w2[0]!, 6);
    expect(s2![1]).toBeCloseTo(w2[1]!, 6);
    // Step 3 with zero gradient still moves (momentum), with α3.
    const a3 = (0.1 * Math.sqrt(1 - 0.999 ** 3)) / (1 - 0.9 ** 3);
    const m3 = m2.map((m) => 0.9 * m);
    const v3 = v2.map((v) => 0.999 * v);
    const w3 = w2.map((w, i) => w - (a3 * m3[i]!) / (Math.sqrt(v3[i]!) + 1e-3));
    expect(s3![0]).toBeCloseTo(w3[0]!, 6);
    expect(s3![1]).toBeCloseTo(w3[1]!, 6);
    expect(opt.iterations).toBe(3);
    opt.dispose();
  });

  it('differs from the PyTorch form (ε on √v̂) when ε matters', () => {
    const opt = new Adam({ learningRate: 0.1, epsilon: 0.1 });
    const [s1] = run(opt, [0], [[0.01]]);
    const tfForm = -(0.1 * Math.sqrt(0.001) / 0.1) * 0.001 / (Math.sqrt(1e-7) + 0.1);
    const torchForm = -0.1 * 0.01 / (0.01 + 0.1);
    expect(s1![0]).toBeCloseTo(tfForm, 7);
    expect(Math.abs(s1![0]! - torchForm)).toBeGreaterThan(1e-3);
    opt.dispose();
  });

  it('clips weights to [wMin, wMax]', () => {
    const opt = new Adam({ learningRate: 1, wMin: -0.5, wMax: 0.25 });
    const [s1] = run(opt, [0, 0], [[-1, 1]]);
    expect(s1).toEqual([0.25, -0.5]);
    opt.dispose();
  });

  it('rejects bad settings and mismatched gradients', () => {
    expect(() => new Adam({ beta1: 1 })).toThrow(/beta1/);
    expect(() => new Adam({ beta2: -0.1 })).toThrow(/beta2/);
    expect(() => new Adam({ learningRate: -1 })).toThrow(/learningRate/);
    expect(() => new Adam({ epsilon: 0 })).toThrow(/epsilon/);
    expect(() => new Adam({ wMin: 1, wMax: 0 })).toThrow(/wMax/);
    const opt = new Adam();
    const w = tf.variable(tf.zeros([2]));
    const g = tf.zeros([3]);
    expect(() => opt.apply([{ variable: w, gradient: g }])).toThrow(/gradient/);
    tf.dispose([w, g]);
    opt.dispose();
  });

  it('keeps the tensor count flat over many steps', () => {
    const opt = new Adam();
    const w = tf.variable(tf.zeros([4, 4]));
    const g = tf.ones([4, 4]);
    opt.apply([{ variable: w, gradient: g }]);
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) opt.apply([{ variable: w, gradient: g }]);
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([w, g]);
    opt.dispose();
  });

  it('snapshot → restore into a fresh Adam continues the same steps; the snapshot stays the caller\'s and nothing leaks', () => {
    const before = tf.memory().numTensors;
    const grads = [[0.5, -4], [-0.2, 1], [0.3, 0.3], [1, -1]];
    const ref = new Adam({ learningRate: 0.1, epsilon: 1e-3 });
    const straight = run(ref, [1, -2], grads);
    ref.dispose();
    const a = new Adam({ learningRate: 0.1, epsilon: 1e-3 });
    const w = tf.tidy(() => tf.variable(tf.tensor1d([1, -2])));
    for (const g of grads.slice(0, 2)) tf.tidy(() => a.apply([{ variable: w, gradient: tf.tensor1d(g) }]));
    const snap = a.snapshotState(new Map([[w, 'w']]));
    a.dispose();
    const b = new Adam({ learningRate: 0.5, epsilon: 1e-3 }); // the learning rate comes back from the snapshot
    b.restoreState(snap, new Map([['w', w]]));
    tf.dispose(Object.values(snap.tensors)); // the caller frees its snapshot; b's moments live on
    const rest: number[][] = [];
    for (const g of grads.slice(2)) {
      tf.tidy(() => b.apply([{ variable: w, gradient: tf.tensor1d(g) }]));
      rest.push(Array.from(w.dataSync()));
    }
    expect(rest).toEqual(straight.slice(2));
    b.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('GradientDescent', () => {
  it('w ← clip(w − η·g)', () => {
    const opt = new GradientDescent({ learningRate: 0.5, wMax: 1.2 });
    const [s1, s2] = run(opt, [1, 0], [[0.2, -2], [0, -2]]);
    expect(s1![0]).toBeCloseTo(0.9, 6);
    expect(s1![1]).toBeCloseTo(1, 6);
    expect(s2![1]).toBeCloseTo(1.2, 6);
    expect(() => new GradientDescent({ learningRate: NaN })).toThrow(/learningRate/);
  });
});
