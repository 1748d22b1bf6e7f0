import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { MaxRateClassifier } from '../../../src/learn/classifiers/index.js';

function arr(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

describe('MaxRateClassifier', () => {
  it('folds batches into the rate table with per-class means and exp(−λ·b_k) decay', () => {
    const c = new MaxRateClassifier(3, 2, { decay: 0.5 });
    // batch 1: class 0 twice, class 1 once → b = [2, 1]; table starts at 0
    const x1 = tf.tensor2d([
      [2, 0, 1],
      [4, 0, 1],
      [0, 3, 1],
    ]);
    c.update(x1, [0, 0, 1]);
    // class-0 mean [3, 0, 1], class-1 mean [0, 3, 1]
    expect(arr(c.rates)).toEqual([3, 0, 0, 3, 1, 1]);
    // batch 2: one sample of class 1 → class 0 untouched (e^0), class 1 scaled by e^{-0.5}
    const x2 = tf.tensor2d([[0, 0, 4]]);
    c.update(x2, tf.tensor1d([1], 'int32'));
    const e = Math.exp(-0.5);
    const r = arr(c.rates);
    const want = [3, 0, 0, 3 * e, 1, e + 4];
    want.forEach((w, i) => expect(r[i]).toBeCloseTo(w, 6));
    expect(arr(c.assignments)).toEqual([0, 1, 1]);
    expect(arr(c.occurrences)).toEqual([1, 2]);
    // proportions: rows normalised to sum 1
    const p = arr(c.proportions);
    expect(p[4]).toBeCloseTo(1 / (5 + e), 6);
    expect(p[5]).toBeCloseTo((4 + e) / (5 + e), 6);

    // logits = Σ inputs of assigned neurons / #assigned
    const q = tf.tensor2d([
      [1, 2, 3],
      [5, 1, 1],
    ]);
    const logits = arr(c.logits(q));
    expect(logits[0]).toBeCloseTo(1, 6);
    expect(logits[1]).toBeCloseTo(2.5, 6);
    expect(logits[2]).toBeCloseTo(5, 6);
    expect(logits[3]).toBeCloseTo(1, 6);
    expect(arr(c.predict(q))).toEqual([1, 0]);
    // proportional weighting: neuron 2 counts for class 1 with weight (4 + e)/(5 + e)
    const lp = arr(c.logits(q, true));
    expect(lp[0]).toBeCloseTo(1, 6);
    expect(lp[1]).toBeCloseTo((2 + 3 * ((4 + e) / (5 + e))) / 2, 6);
    tf.dispose([x1, x2, q]);
    c.dispose();
  });

  it('learns the assignments of a synthetic Diehl & Cook case and predicts the right classes', () => {
    // 6 neurons, 3 classes: neurons 2k and 2k+1 prefer class k (count 5 + n), others fire 1 spike.
    const k = 3;
    const sample = (label: number, n: number): number[] =>
      Array.from({ length: 6 }, (_, j) => (Math.floor(j / 2) === label ? 5 + ((n + j) % 3) : (n + j) % 2));
    const c = new MaxRateClassifier([2, 3], k);
    for (let epoch = 0; epoch < 4; epoch++) {
      const labels = [0, 1, 2, 1, 0, 2];
      const x = tf.tensor(labels.map((l, i) => sample(l, i + epoch)), [6, 2, 3]);
      c.update(x, labels);
      x.dispose();
    }
    expect(c.assignments.shape).toEqual([2, 3]);
    expect(arr(c.assignments)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(arr(c.occurrences)).toEqual([2, 2, 2]);
    const testLabels = [2, 0, 1, 1, 0];
    const xt = tf.tensor(testLabels.map((l, i) => sample(l, 10 + i)), [5, 2, 3]);
    expect(arr(c.predict(xt))).toEqual(testLabels);
    // logits are the class means of the inputs over the assigned neurons
    const rows = testLabels.map((l, i) => sample(l, 10 + i));
    const lg = arr(c.logits(xt));
    rows.forEach((row, b) => {
      for (let cls = 0; cls < k; cls++) expect(lg[b * k + cls]).toBeCloseTo((row[2 * cls]! + row[2 * cls + 1]!) / 2, 5);
    });
    xt.dispose();
    c.dispose();
  });

  it('gives 0 logits to classes without neurons and follows a replaced (loaded) table', () => {
    const c = new MaxRateClassifier(2, 3);
    const [[name, p]] = c.namedParameters();
    expect(name).toBe('rates');
    // as a loader would: assign the stored table directly
    const loaded = tf.tensor2d([
      [0, 0.2, 0.1],
      [0, 0.3, 0.4],
    ]);
    p!.assign(loaded);
    expect(arr(c.assignments)).toEqual([1, 2]);
    expect(arr(c.occurrences)).toEqual([0, 1, 1]);
    const x = tf.tensor2d([[3, 7]]);
    expect(arr(c.logits(x))).toEqual([0, 3, 7]);
    c.setRates(tf.tensor2d([[0.5, 0, 0], [0.5, 0, 0]]));
    expect(arr(c.logits(x))).toEqual([5, 0, 0]);
    c.reset();
    expect(arr(c.rates)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(c.extras()).toEqual({ shape: [2], numClasses: 3, decay: 0, proportional: false });
    tf.dispose([loaded, x]);
    c.dispose();
  });

  it('keeps the tensor count flat over many updates and predictions', () => {
    const c = new MaxRateClassifier(4, 2, { decay: 0.1 });
    const x = tf.tensor2d([
      [1, 0, 2, 0],
      [0, 1, 0, 3],
    ]);
    const labels = tf.tensor1d([0, 1], 'int32');
    c.update(x, labels);
    c.predict(x).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) {
      c.update(x, labels);
      c.predict(x).dispose();
      c.logits(x, true).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, labels]);
    c.dispose();
  });

  it('rejects bad arguments with messages naming the parameter', () => {
    expect(() => new MaxRateClassifier(0, 2)).toThrow(/shape/);
    expect(() => new MaxRateClassifier([2, -1], 2)).toThrow(/shape/);
    expect(() => new MaxRateClassifier(3, 0)).toThrow(/numClasses/);
    expect(() => new MaxRateClassifier(3, 2.5)).toThrow(/numClasses/);
    expect(() => new MaxRateClassifier(3, 2, { decay: -1 })).toThrow(/decay/);
    expect(() => new MaxRateClassifier(3, 2, { decay: Number.NaN })).toThrow(/decay/);
    const c = new MaxRateClassifier(3, 2);
    const x = tf.zeros([2, 3]);
    const wrong = tf.zeros([2, 4]);
    expect(() => c.update(wrong, [0, 1])).toThrow(/inputs/);
    expect(() => c.predict(tf.zeros([3]))).toThrow(/inputs/);
    expect(() => c.update(x, [0])).toThrow(/labels/);
    expect(() => c.update(x, [0, 2])).toThrow(/labels\[1\]/);
    expect(() => c.update(x, [0, 0.5])).toThrow(/labels\[1\]/);
    expect(() => c.update(x, tf.tensor1d([0, 1], 'float32'))).toThrow(/labels/);
    expect(() => c.update(x, tf.tensor1d([0, -1], 'int32'))).toThrow(/labels\[1\]/);
    expect(() => c.setRates(tf.zeros([3]))).toThrow(/rates/);
    expect(() => c.setRates(tf.fill([3, 2], -1))).toThrow(/rates/);
    // nothing was folded by the rejected calls
    expect(arr(c.rates)).toEqual([0, 0, 0, 0, 0, 0]);
    tf.dispose([x, wrong]);
    c.dispose();
  });

  it('rejects NaN, ±Inf and negative inputs in update and updateAsync, naming the first, and leaves the table unchanged', async () => {
    const c = new MaxRateClassifier([2, 2], 2);
    const good = tf.tensor3d([[[1, 2], [0, 3]], [[4, 0], [5, 1]]]);
    c.update(good, [0, 1]);
    const before = arr(c.rates);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0.5]) {
      // first bad value at sample 1, neuron [0][1] (a second one later must not be the one named)
      const x = tf.tensor3d([[[1, 0], [2, 0]], [[3, bad], [1, bad]]]);
      const labels = tf.tensor1d([0, 1], 'int32');
      expect(() => c.update(x, [0, 1]), `update ${bad}`).toThrow(/invalid inputs\[1\]\[0\]\[1\]: got .*expected a finite value >= 0/);
      expect(() => c.update(x, labels), `update (tensor labels) ${bad}`).toThrow(/inputs\[1\]\[0\]\[1\]/);
      await expect(c.updateAsync(x, [0, 1]), `updateAsync ${bad}`).rejects.toThrow(/invalid inputs\[1\]\[0\]\[1\]/);
      await expect(c.updateAsync(x, labels), `updateAsync (tensor labels) ${bad}`).rejects.toThrow(/inputs\[1\]\[0\]\[1\]/);
      expect(arr(c.rates)).toEqual(before);
      tf.dispose([x, labels]);
    }
    // int32 counts: negative values are rejected too; −0 and bool inputs are fine
    const xi = tf.tensor3d([[[1, 0], [-2, 0]], [[0, 0], [0, 0]]], [2, 2, 2], 'int32');
    expect(() => c.update(xi, [0, 1])).toThrow(/inputs\[0\]\[1\]\[0\]/);
    await expect(c.updateAsync(xi, [0, 1])).rejects.toThrow(/inputs\[0\]\[1\]\[0\]/);
    expect(arr(c.rates)).toEqual(before);
    const xz = tf.tensor3d([[[-0, 0], [0, 0]], [[0, 0], [0, 0]]]);
    const xb = tf.tensor3d([[[1, 0], [0, 0]], [[0, 0], [0, 1]]], [2, 2, 2], 'bool');
    c.update(xz, [0, 1]);
    await c.updateAsync(xb, [0, 1]);
    // the bool batch added [1, 0, 0, 0] to class 0 and [0, 0, 0, 1] to class 1 (decay 0; the −0 batch adds nothing)
    const after = arr(c.rates);
    const want = [...before];
    want[0]! += 1;
    want[7]! += 1;
    expect(after).toEqual(want);
    tf.dispose([good, xi, xz, xb]);
    c.dispose();
  });

  it('computes logits as (Σ inputs of the assigned neurons) / #assigned in float32, so exact ties go to the lowest class', () => {
    // neuron 0 → class 0; neurons 1, 2, 3 → class 1; every neuron fires 7 spikes:
    // class 0: 7/1 = 7, class 1: 21/3 = 7 — a tie (predict 0). Summing 7·fl(1/3) three times in
    // float32 instead gives 7.0000005 and class 1.
    const c = new MaxRateClassifier(4, 2);
    const table = tf.tensor2d([[1, 0], [0, 1], [0, 1], [0, 1]]);
    c.setRates(table);
    for (const [n, count] of [[3, 7], [5, 13], [6, 5]] as const) {
      // class 0 has one neuron, class 1 has n; all fire `count` spikes
      const d = new MaxRateClassifier(n + 1, 2);
      const t = tf.tensor2d(Array.from({ length: n + 1 }, (_, j) => (j === 0 ? [1, 0] : [0, 1])));
      d.setRates(t);
      const x = tf.fill([1, n + 1], count);
      const want = Math.fround((n * count) / n); // (Σ x)/n, correctly rounded = count
      expect(arr(d.logits(x)), `n ${n}, count ${count}`).toEqual([count, want]);
      expect(arr(d.predict(x))).toEqual([0]);
      // proportional: proportions are 1, same values
      expect(arr(d.logits(x, true))).toEqual([count, want]);
      tf.dispose([t, x]);
      d.dispose();
    }
    // non-integer, proportional: logit = Σ_n x_n·p_n / #assigned with the float32 sum then one division
    const rates = tf.tensor2d([[3, 1], [1, 2], [0, 5], [2, 6]]);
    c.setRates(rates);
    const x = tf.tensor2d([[0.7, 1.3, 2.9, 0.1]]);
    const f = Math.fround;
    const p = [[3 / 4, 1 / 4], [1 / 3, 2 / 3], [0, 1], [2 / 8, 6 / 8]].map((r) => r.map(f));
    // class 0: neuron 0; class 1: neurons 1, 2, 3
    const want1 = f(f(f(f(f(1.3) * p[1]![1]!) + f(f(2.9) * p[2]![1]!)) + f(f(0.1) * p[3]![1]!)) / 3);
    const got = arr(c.logits(x, true));
    expect(got[0]).toBe(f(f(0.7) * p[0]![0]!));
    expect(Math.abs(got[1]! - want1)).toBeLessThanOrEqual(2 ** -23 * want1); // summation order may differ by an ulp
    tf.dispose([table, rates, x]);
    c.dispose();
  });
});
