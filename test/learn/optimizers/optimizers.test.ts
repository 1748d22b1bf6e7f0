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

describe('Adam snapshot settings', () => {
  it('a snapshot of an Adam with other β1, β2, ε or weight bounds is refused before anything changes; one without settings (older saves) restores', () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const g = tf.tensor1d([0.5, -1]);
    const base = { learningRate: 0.1, epsilon: 1e-3, wMax: 5 };
    const a = new Adam(base);
    a.apply([{ variable: w, gradient: g }]);
    const snap = a.snapshotState(new Map([[w, 'w']]));
    expect(snap.values).toMatchObject({ beta1: 0.9, beta2: 0.999, epsilon: 1e-3, wMin: '-Infinity', wMax: 5 });
    const vars = new Map([['w', w]]);
    for (const [o, re] of [[{ beta1: 0.8 }, /^invalid Adam snapshot beta1: got 0\.9, expected 0\.8/], [{ beta2: 0.99 }, /Adam snapshot beta2/], [{ epsilon: 1e-8 }, /Adam snapshot epsilon: got 0\.001, expected 1e-8/], [{ wMax: Infinity }, /Adam snapshot wMax: got 5, expected "Infinity"/], [{ wMin: -5 }, /Adam snapshot wMin: got "-Infinity", expected -5/]] as const) {
      const b = new Adam({ ...base, ...o });
      expect(() => b.restoreState(snap, vars)).toThrow(re);
      expect(b.iterations).toBe(0); // nothing changed
      b.dispose();
    }
    const same = new Adam(base);
    same.restoreState(snap, vars);
    expect(same.iterations).toBe(1);
    // a snapshot written before the settings were recorded compares none
    const old = { tensors: snap.tensors, values: { k: 1, beta1Power: 0.9, beta2Power: 0.999, learningRate: 0.1 } };
    const other = new Adam({ ...base, beta1: 0.5 });
    other.restoreState(old, vars);
    expect(other.iterations).toBe(1);
    tf.dispose([w, g, ...Object.values(snap.tensors)]);
    for (const o of [a, same, other]) o.dispose();
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
  it('a variable listed twice in one step is refused before anything changes (as Adam): it would move twice', () => {
    const opt = new GradientDescent({ learningRate: 0.5 });
    const w = tf.variable(tf.tensor1d([1, 2]));
    const g = tf.tensor1d([1, 1]);
    expect(() => opt.apply([{ variable: w, gradient: g }, { variable: w, gradient: g }])).toThrow(/^invalid updates\[1\]\.variable: got .*, expected a variable not listed before in the same step \(updates\[0\] has it\)$/);
    expect(Array.from(w.dataSync())).toEqual([1, 2]);
    tf.dispose([w, g]);
  });
});

describe('float32 range of η and ε (the updates run in float32)', () => {
  /** One step of `opt` on w = [0.5, 0.25] with gradient [0, 1]; the weights after it. */
  const stepOnce = (opt: Adam | GradientDescent): number[] => run(opt, [0.5, 0.25], [[0, 1]])[0]!;

  it('Adam refuses an ε that float32 flushes to 0 (the zero-gradient weight would become 0/0 = NaN)', () => {
    // closed form of the accepted smallest ε: m = (1 − β1)·g, v = (1 − β2)·g², α_1 = η·√(1 − β2)/(1 − β1)
    const eps = 2 ** -126;
    const opt = new Adam({ learningRate: 0.1, epsilon: eps });
    const w = stepOnce(opt);
    const alpha = (0.1 * Math.sqrt(1 - 0.999)) / (1 - 0.9);
    expect(w[0]).toBe(0.5);
    expect(w[1]).toBeCloseTo(0.25 - (alpha * 0.1) / (Math.sqrt(0.001) + eps), 6);
    opt.dispose();
    for (const bad of [1e-50, 1e-40, 2 ** -127, 1e39]) {
      expect(() => new Adam({ learningRate: 0.1, epsilon: bad })).toThrow(/invalid epsilon: got .*, expected a number in \[1\.1754943508222875e-38, 3\.4028234663852886e\+38\]/);
    }
  });

  it('η beyond float32 is refused by both optimizers, at construction and assignment (it would round to ∞: ∞·0 = NaN)', () => {
    for (const make of [(lr: number) => new Adam({ learningRate: lr }), (lr: number) => new GradientDescent({ learningRate: lr, wMin: -100, wMax: 100 })]) {
      expect(() => make(1e39)).toThrow(/invalid learningRate: got 1e\+39, expected a number in \[0, 3\.4028234663852886e\+38\]/);
      const opt = make(0.5);
      expect(() => (opt.learningRate = 1e39)).toThrow(/invalid learningRate/);
      expect(opt.learningRate).toBe(0.5);
      // the largest float32 is accepted; a zero gradient entry leaves its weight alone
      opt.learningRate = 3.4028234663852886e38;
      expect(stepOnce(opt)[0]).toBe(0.5);
      opt.dispose();
    }
  });

  it('Adam refuses a step whose α_k = η·√(1 − β2^k)/(1 − β1^k) overflows float32, before anything changes', () => {
    // η = 1e38 is a float32 number, but 1/(1 − β1) = 1e4 lifts α_1 to ≈ 1e42·√(1 − β2)
    const opt = new Adam({ learningRate: 1e38, beta1: 0.9999, beta2: 0.5 });
    const w = tf.variable(tf.tensor1d([0.5, 0.25]));
    const g = tf.tensor1d([0, 1]);
    expect(() => opt.apply([{ variable: w, gradient: g }])).toThrow(/invalid learningRate: got 1e\+38, expected a rate whose step size α_1/);
    expect(opt.iterations).toBe(0);
    expect(Array.from(w.dataSync())).toEqual([0.5, 0.25]);
    // a usable η then takes the first step k = 1 (the refused call left the β powers alone)
    opt.learningRate = 0.01;
    opt.apply([{ variable: w, gradient: g }]);
    expect(opt.iterations).toBe(1);
    expect(w.dataSync()[1]).toBeCloseTo(0.25 - ((0.01 * Math.sqrt(0.5)) / 1e-4) * (1e-4 / (Math.sqrt(0.5) + 1e-7)), 5);
    tf.dispose([w, g]);
    opt.dispose();
  });
});
