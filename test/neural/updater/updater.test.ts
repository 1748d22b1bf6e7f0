import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Parameter } from '../../../src/core/state.js';
import { Updater, atomicUpdates } from '../../../src/neural/updater.js';
import { Bounding } from '../../../src/neural/bounding.js';

function make(values: number[]) {
  const p = new Parameter('weight', tf.tensor1d(values));
  const applied: string[] = [];
  const u = new Updater({ weight: p }, (n) => applied.push(n));
  return { p, u, applied, read: () => Array.from(p.value.dataSync()) };
}

describe('Updater', () => {
  it('sums several trainer calls and applies them once: P + Σpos − Σneg', () => {
    const { u, read, applied, p } = make([1, 2]);
    tf.tidy(() => {
      u.add('weight', tf.tensor1d([0.5, 0.25]), tf.tensor1d([0.125, 0]));
      u.add('weight', tf.tensor1d([0.25, 0.25]), null);
      u.add('weight', null, tf.tensor1d([0.5, 1]));
    });
    expect(read()).toEqual([1, 2]);
    u.apply();
    expect(read()).toEqual([1 + 0.75 - 0.625, 2 + 0.5 - 1]);
    expect(applied).toEqual(['weight']);
    p.dispose();
  });

  it('a post-update hook that throws leaves every updated parameter at its value before apply (also what earlier hooks did), the parts dropped, no tensor leaked', () => {
    const { u, read, p, applied } = make([3, 4]);
    // an earlier hook that halves the weight (runs), then one that throws
    let halved = 0;
    u.onUpdate(() => {
      halved++;
      tf.tidy(() => p.assign(tf.mul(p.value, 0.5)));
    });
    let fail = true;
    u.onUpdate(() => {
      if (fail) throw new Error('hook failed');
    });
    tf.tidy(() => u.add('weight', tf.tensor1d([1, 1]), null));
    const n = tf.memory().numTensors;
    expect(() => u.apply()).toThrow('hook failed');
    expect(halved).toBe(1);
    expect(read()).toEqual([3, 4]); // not [4, 5] (updated, hooks unfinished) nor [2, 2.5]
    expect(applied).toEqual(['weight', 'weight']); // told again: the value changed back
    expect(tf.memory().numTensors).toBe(n - 1); // the dropped part freed, nothing else kept
    // the parts were dropped: a later apply with no new parts changes nothing and runs no hook
    fail = false;
    u.apply();
    expect(read()).toEqual([3, 4]);
    expect(halved).toBe(1);
    // and a working apply runs both hooks
    tf.tidy(() => u.add('weight', tf.tensor1d([1, 1]), null));
    u.apply();
    expect(read()).toEqual([2, 2.5]);
    expect(halved).toBe(2);
    p.dispose();
  });

  it('atomicUpdates: a throwing fn leaves only the parts pending before it, in every updater, and frees the rest', () => {
    const a = make([1, 2]);
    const p2 = new Parameter('weight', tf.zeros([2, 3]));
    const b = new Updater({ weight: p2 });
    tf.tidy(() => a.u.add('weight', tf.tensor1d([0.5, 0.5]), null));
    const n = tf.memory().numTensors;
    expect(() =>
      atomicUpdates([a.u, b, a.u], () => {
        tf.tidy(() => a.u.add('weight', tf.tensor1d([8, 8]), tf.tensor1d([4, 4])));
        tf.tidy(() => b.accumulator('weight').addOuter('pos', { post: tf.ones([1, 2]), pre: tf.ones([1, 3]), divisor: 1 }));
        throw new Error('late failure');
      }),
    ).toThrow('late failure');
    expect(tf.memory().numTensors).toBe(n);
    expect(b.accumulator('weight').empty).toBe(true);
    a.u.apply();
    expect(a.read()).toEqual([1.5, 2.5]);
    // without a failure the parts stay and the value is returned
    expect(atomicUpdates([a.u], () => (tf.tidy(() => a.u.add('weight', tf.tensor1d([1, 1]))), 7))).toBe(7);
    a.u.apply();
    expect(a.read()).toEqual([2.5, 3.5]);
    a.p.dispose();
    p2.dispose();
  });

  it('always clears on apply (a second apply changes nothing)', () => {
    const { u, read, applied, p } = make([0]);
    tf.tidy(() => u.add('weight', tf.tensor1d([1]), null));
    u.apply();
    u.apply();
    expect(read()).toEqual([1]);
    expect(applied).toEqual(['weight']);
    expect(u.accumulator('weight').empty).toBe(true);
    p.dispose();
  });

  it('clear() drops pending parts; post-update hooks run after a change only', () => {
    const { u, read, p } = make([0]);
    let calls = 0;
    const off = u.onUpdate(() => calls++);
    tf.tidy(() => u.add('weight', tf.tensor1d([1]), null));
    u.clear();
    u.apply();
    expect(read()).toEqual([0]);
    expect(calls).toBe(0);
    tf.tidy(() => u.add('weight', tf.tensor1d([1]), null));
    u.apply();
    expect(calls).toBe(1);
    off();
    tf.tidy(() => u.add('weight', tf.tensor1d([1]), null));
    u.apply();
    expect(calls).toBe(1);
    p.dispose();
  });

  it('leaks no tensors and names unknown parameters', () => {
    const { u, p } = make([0, 0, 0]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      tf.tidy(() => u.add('weight', tf.ones([3]), tf.ones([3])));
      u.apply();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => u.add('bias', null, null)).toThrow(/bias/);
    expect(() => u.onUpdate(3 as never)).toThrow(/fn/);
    expect(u.names).toEqual(['weight']);
    p.dispose();
  });

  it('a part that does not broadcast to its parameter is rejected by add, so apply never half-applies', () => {
    const w = new Parameter('weight', tf.tensor2d([[1, 2], [3, 4]]));
    const b = new Parameter('bias', tf.tensor1d([0, 0]));
    const u = new Updater({ weight: w, bias: b });
    const before = tf.memory().numTensors;
    for (const bad of [tf.tensor1d([1, 1, 1]), tf.ones([2, 2, 2])]) {
      expect(() => u.add('bias', bad, null)).toThrow(/invalid pos: got .*expected a float32 tensor broadcastable to \[2\] \(parameter "bias"\)/);
      bad.dispose();
    }
    const gone = tf.ones([2]);
    gone.dispose();
    expect(() => u.add('bias', null, gone)).toThrow(/invalid neg: got .*disposed/);
    expect(tf.memory().numTensors).toBe(before);
    // the weight's update and a valid bias update apply together
    tf.tidy(() => u.add('weight', tf.ones([2]), null));
    tf.tidy(() => u.add('bias', tf.scalar(0.5), null));
    u.apply();
    expect(Array.from(w.value.dataSync())).toEqual([2, 3, 4, 5]);
    expect(Array.from(b.value.dataSync())).toEqual([0.5, 0.5]);
    w.dispose();
    b.dispose();
  });

  it('addOuter refuses disposed or missing factors and a divisor that is not finite and > 0, so apply never half-applies', () => {
    const b = new Parameter('bias', tf.tensor1d([0, 0]));
    const d = new Parameter('delay', tf.tensor2d([[1, 2], [3, 4]]));
    const u = new Updater({ bias: b, delay: d });
    const acc = u.accumulator('delay');
    const post = tf.tensor2d([[1, 2]]);
    const pre = tf.tensor2d([[3, 5]]);
    const before = tf.memory().numTensors;
    const gone = tf.ones([1, 2]);
    gone.dispose();
    expect(() => acc.addOuter('pos', { post, pre: gone, divisor: 1 })).toThrow(/invalid part\.pre: got "a disposed tensor"/);
    expect(() => acc.addOuter('pos', { post: gone, pre, divisor: 1 })).toThrow(/invalid part\.post: got "a disposed tensor"/);
    expect(() => acc.addOuter('pos', { post, pre: [3, 5] as never, divisor: 1 })).toThrow(/invalid part\.pre/);
    for (const divisor of [Infinity, NaN, 0, -1]) expect(() => acc.addOuter('pos', { post, pre, divisor })).toThrow(/invalid divisor/);
    expect(() => acc.addOuter('up' as never, { post, pre, divisor: 1 })).toThrow(/invalid side/);
    expect(acc.empty).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    // valid parts on both parameters apply together: bias + 1, delay + postᵀ⊗pre / 2
    tf.tidy(() => u.add('bias', tf.ones([2]), null));
    acc.addOuter('pos', { post, pre, divisor: 2 });
    u.apply();
    expect(Array.from(b.value.dataSync())).toEqual([1, 1]);
    expect(Array.from(d.value.dataSync())).toEqual([1 + 1.5, 2 + 2.5, 3 + 3, 4 + 5]);
    expect(post.isDisposed && pre.isDisposed).toBe(true); // owned by the accumulator, freed on apply
    b.dispose();
    d.dispose();
  });

  it('apply computes every new value before assigning any: a failing bounding leaves every parameter as it was', () => {
    const w = new Parameter('weight', tf.tensor1d([1, 2]));
    const b = new Parameter('bias', tf.tensor1d([5]));
    const applied: string[] = [];
    const u = new Updater({ weight: w, bias: b }, (n) => applied.push(n));
    let hooks = 0;
    u.onUpdate(() => hooks++);
    expect(() => u.bound('bias', {} as never)).toThrow(/invalid bounding: .*expected a Bounding or null/);
    const gone = new Bounding('hard', { max: 10 });
    gone.dispose(); // its constants are freed: bind throws inside apply
    u.bound('bias', gone);
    const before = tf.memory().numTensors;
    tf.tidy(() => u.add('weight', tf.ones([2]), null));
    tf.tidy(() => u.add('bias', tf.ones([1]), null));
    expect(() => u.apply()).toThrow();
    expect(Array.from(w.value.dataSync())).toEqual([1, 2]); // the weight, first in order, is unchanged too
    expect(Array.from(b.value.dataSync())).toEqual([5]);
    expect(applied).toEqual([]);
    expect(hooks).toBe(0);
    expect(u.accumulator('weight').empty && u.accumulator('bias').empty).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    // with a live bounding both apply: weight + 1, bias + Θ(10 − 5)·1
    const hard = new Bounding('hard', { max: 10 });
    u.bound('bias', hard);
    tf.tidy(() => u.add('weight', tf.ones([2]), null));
    tf.tidy(() => u.add('bias', tf.ones([1]), null));
    u.apply();
    expect(Array.from(w.value.dataSync())).toEqual([2, 3]);
    expect(Array.from(b.value.dataSync())).toEqual([6]);
    expect(applied).toEqual(['weight', 'bias']);
    expect(hooks).toBe(1);
    hard.dispose();
    w.dispose();
    b.dispose();
  });
});
