// Optimizer calls that fail change nothing and leave no tensor behind: Adam.snapshotState with a
// variable missing from the names, apply with an update it cannot take (after checking all of
// them), restoreState with a snapshot it cannot take.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import type { Snapshot } from '../../../src/core/snapshot.js';
import { Adam, GradientDescent } from '../../../src/learn/optimizers/index.js';

/** The values of every tensor of a snapshot, by key, and its numbers (for comparing states). */
const dump = (s: Snapshot): Record<string, number[] | number> => {
  const out: Record<string, number[] | number> = { ...(s.values as Record<string, number>) };
  for (const [k, t] of Object.entries(s.tensors)) out[k] = Array.from(t.dataSync());
  return out;
};
/** Adam's whole state (moments under the given names), the copies freed again. */
const stateOf = (a: Adam, names: Map<tf.Variable, string>): Record<string, number[] | number> => {
  const s = a.snapshotState(names);
  const d = dump(s);
  tf.dispose(Object.values(s.tensors));
  return d;
};

describe('Adam.snapshotState with a variable the names do not cover', () => {
  it('throws naming it, and the copies of the moments walked before are freed (numTensors unchanged)', () => {
    const a = new Adam({ learningRate: 0.1 });
    const w1 = tf.variable(tf.tensor1d([1, 2]));
    const w2 = tf.variable(tf.tensor1d([3, 4, 5]));
    const w3 = tf.variable(tf.tensor1d([6]));
    tf.tidy(() => a.apply([{ variable: w1, gradient: tf.tensor1d([0.5, -1]) }, { variable: w2, gradient: tf.tensor1d([1, 1, 1]) }, { variable: w3, gradient: tf.tensor1d([2]) }]));
    const n0 = tf.memory().numTensors;
    // w1 and w2 named, w3 not: the moments of w1 and w2 (4 tensors) were cloned before the throw
    expect(() => a.snapshotState(new Map([[w1, 'w1'], [w2, 'w2']]))).toThrow(/invalid Adam variable: got .*, expected a variable named in the map passed to snapshotState/);
    expect(tf.memory().numTensors).toBe(n0);
    // one name for two variables: one pair of copies would overwrite the other (and leak)
    expect(() => a.snapshotState(new Map([[w1, 'w'], [w2, 'w2'], [w3, 'w']]))).toThrow('invalid Adam variable name: got "w", expected a name given to one variable only (two variables with moments share it)');
    expect(tf.memory().numTensors).toBe(n0);
    const s = a.snapshotState(new Map([[w1, 'w1'], [w2, 'w2'], [w3, 'w3']]));
    expect(Object.keys(s.tensors).sort()).toEqual(['w1.m', 'w1.v', 'w2.m', 'w2.v', 'w3.m', 'w3.v']);
    expect(Array.from(s.tensors['w3.m']!.dataSync())[0]).toBeCloseTo(0.1 * 2, 6); // m = (1 − β1)·g
    tf.dispose(Object.values(s.tensors));
    expect(tf.memory().numTensors).toBe(n0);
    a.dispose();
    tf.dispose([w1, w2, w3]);
  });
});

describe('apply with an update it cannot take, after one it can: throws and changes nothing', () => {
  /** A fresh set-up: one good variable stepped once, and bad updates of each kind. */
  const cases = (): { name: string; bad: () => { variable: tf.Variable; gradient: tf.Tensor }; message: string }[] => [
    { name: 'int32 variable', bad: () => ({ variable: tf.variable(tf.tensor1d([1, 2], 'int32')), gradient: tf.tensor1d([1, 1]) }), message: 'invalid updates[1].variable: got tensor of shape [2] (int32), expected a float32 tf.Variable (not disposed)' },
    { name: 'disposed variable', bad: () => { const v = tf.variable(tf.tensor1d([1, 2])); v.dispose(); return { variable: v, gradient: tf.tensor1d([1, 1]) }; }, message: 'invalid updates[1].variable: got tensor of shape [2] (float32), expected a float32 tf.Variable (not disposed)' },
    { name: 'disposed gradient', bad: () => { const g = tf.tensor1d([1, 1]); g.dispose(); return { variable: tf.variable(tf.tensor1d([1, 2])), gradient: g }; }, message: 'invalid updates[1].gradient: got tensor of shape [2] (float32), expected a float32, int32 or bool tensor (not disposed)' },
    { name: 'string gradient', bad: () => ({ variable: tf.variable(tf.tensor1d([1, 2])), gradient: tf.tensor1d(['a', 'b']) }), message: 'invalid updates[1].gradient: got tensor of shape [2] (string), expected a float32, int32 or bool tensor (not disposed)' },
  ];

  for (const make of [() => new Adam({ learningRate: 0.1 }), () => new GradientDescent({ learningRate: 0.1 })]) {
    const kind = make().constructor.name;
    for (const c of cases()) {
      it(`${kind}: ${c.name}`, () => {
        const opt = make();
        const w = tf.variable(tf.tensor1d([1, -2]));
        const g = tf.tensor1d([0.5, -4]);
        opt.apply([{ variable: w, gradient: g }]);
        const bad = c.bad();
        const names = new Map([[w, 'w']]);
        const before = { w: Array.from(w.dataSync()), k: opt.iterations, state: opt instanceof Adam ? stateOf(opt, names) : null };
        const n0 = tf.memory().numTensors;
        expect(() => opt.apply([{ variable: w, gradient: g }, bad])).toThrow(c.message);
        expect({ w: Array.from(w.dataSync()), k: opt.iterations, state: opt instanceof Adam ? stateOf(opt, names) : null }).toEqual(before);
        expect(tf.memory().numTensors).toBe(n0);
        opt.dispose();
        tf.dispose([w, g, bad.variable, bad.gradient]);
      });
    }
  }

  it('Adam: the same variable twice in one step (its moments would advance twice under one k) is refused', () => {
    const opt = new Adam({ learningRate: 0.1 });
    const w = tf.variable(tf.tensor1d([1, -2]));
    const g = tf.tensor1d([0.5, -4]);
    opt.apply([{ variable: w, gradient: g }]);
    const before = { w: Array.from(w.dataSync()), k: opt.iterations, state: stateOf(opt, new Map([[w, 'w']])) };
    expect(() => opt.apply([{ variable: w, gradient: g }, { variable: w, gradient: g }])).toThrow('invalid updates[1].variable: got tensor of shape [2] (float32), expected a variable not listed before in the same step (updates[0] has it)');
    expect({ w: Array.from(w.dataSync()), k: opt.iterations, state: stateOf(opt, new Map([[w, 'w']])) }).toEqual(before);
    opt.dispose();
    tf.dispose([w, g]);
  });
});

describe('Adam.restoreState with a snapshot it cannot take: throws and changes nothing', () => {
  const values = { k: 2, beta1Power: 0.81, beta2Power: 0.998001, learningRate: 0.05 };
  const cases: { name: string; snap: () => Snapshot; message: string }[] = [
    { name: 'a disposed moment', snap: () => { const v = tf.zeros([3]); v.dispose(); return { tensors: { 'a.m': tf.ones([2]), 'a.v': tf.ones([2]), 'b.m': tf.ones([3]), 'b.v': v }, values }; }, message: 'invalid Adam moments of b: got tensor of shape [3] (float32), expected float32 m and v of shape [3], not disposed' },
    { name: 'int32 moments', snap: () => ({ tensors: { 'a.m': tf.ones([2]), 'a.v': tf.ones([2]), 'b.m': tf.ones([3], 'int32'), 'b.v': tf.ones([3], 'int32') }, values }), message: 'invalid Adam moments of b: got tensor of shape [3] (int32), expected float32 m and v of shape [3], not disposed' },
    { name: 'β1 power above 1', snap: () => ({ tensors: { 'a.m': tf.ones([2]), 'a.v': tf.ones([2]) }, values: { ...values, beta1Power: 5 } }), message: 'invalid Adam snapshot beta1Power: got 5, expected a number in [0, 1] (β1^k)' },
    { name: 'β2 power below 0', snap: () => ({ tensors: { 'a.m': tf.ones([2]), 'a.v': tf.ones([2]) }, values: { ...values, beta2Power: -0.5 } }), message: 'invalid Adam snapshot beta2Power: got -0.5, expected a number in [0, 1] (β2^k)' },
    { name: 'two names of one variable', snap: () => ({ tensors: { 'a.m': tf.ones([2]), 'a.v': tf.ones([2]), 'c.m': tf.ones([2]), 'c.v': tf.ones([2]) }, values }), message: 'invalid Adam snapshot variable: got "c", expected a variable restored from one name only ("a" names it too)' },
    { name: 'a key that is no moment', snap: () => ({ tensors: { 'a.m': tf.ones([2]), 'a.v': tf.ones([2]), 'a.x': tf.ones([2]) }, values }), message: 'invalid Adam snapshot moment: got "a.x", expected a key <name>.m or <name>.v' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const opt = new Adam({ learningRate: 0.1 });
      const a = tf.variable(tf.tensor1d([1, -2]));
      const b = tf.variable(tf.tensor1d([3, 4, 5]));
      tf.tidy(() => opt.apply([{ variable: a, gradient: tf.tensor1d([0.5, -4]) }, { variable: b, gradient: tf.tensor1d([1, 2, 3]) }]));
      const names = new Map([[a, 'a'], [b, 'b']]);
      const before = { k: opt.iterations, lr: opt.learningRate, step: opt.nextStepSize(), state: stateOf(opt, names) };
      const snap = c.snap();
      const n0 = tf.memory().numTensors;
      expect(() => opt.restoreState(snap, new Map([['a', a], ['b', b], ['c', a]]))).toThrow(c.message);
      expect({ k: opt.iterations, lr: opt.learningRate, step: opt.nextStepSize(), state: stateOf(opt, names) }).toEqual(before);
      expect(tf.memory().numTensors).toBe(n0);
      opt.dispose();
      tf.dispose([a, b, ...Object.values(snap.tensors)]);
    });
  }
});
