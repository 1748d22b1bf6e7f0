// restoreFields checks the whole snapshot before it writes anything: a snapshot refused for an
// unknown key, a non-finite value or a part that refuses its values leaves the object as it was.
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { configFields, restoreFields, snapshotFields, type Snapshot, type Snapshottable } from '../../src/core/snapshot.js';
import { ScalarCache } from '../../src/core/scalars.js';

/** A snapshottable holding one number; refuses a negative one. */
class Part implements Snapshottable {
  constructor(public x: number) {}
  snapshotState(): Snapshot {
    return { tensors: {}, values: { x: this.x } };
  }
  restoreState(s: Snapshot): void {
    const x = s.values.x;
    if (typeof x !== 'number' || x < 0) throw new CinderArgumentError('x', x, 'a number >= 0');
    this.x = x;
  }
}

function target() {
  return { count: 3, nested: { steps: 7 }, a: new Part(1), b: new Part(2) };
}

describe('restoreFields', () => {
  it('restores numbers, nested numbers and snapshottable parts', () => {
    const src = { count: 10, nested: { steps: 20 }, a: new Part(30), b: new Part(40) };
    const snap = snapshotFields(src);
    const t = target();
    restoreFields(t, snap);
    expect([t.count, t.nested.steps, t.a.x, t.b.x]).toEqual([10, 20, 30, 40]);
  });

  it('an unknown key changes nothing (the numbers used to be written before the key was refused)', () => {
    const t = target();
    const snap: Snapshot = { tensors: {}, values: { count: 10, 'nested.steps': 20, 'a.x': 30, 'b.x': 40, ghost: 1 } };
    expect(() => restoreFields(t, snap)).toThrow(/invalid snapshot value: got "ghost", expected a field of the target object/);
    expect([t.count, t.nested.steps, t.a.x, t.b.x]).toEqual([3, 7, 1, 2]);
  });

  it('an unknown tensor key changes nothing', () => {
    const t = target();
    const ghost = tf.scalar(1);
    const snap: Snapshot = { tensors: { ghost }, values: { count: 10, 'a.x': 30 } };
    expect(() => restoreFields(t, snap)).toThrow(/invalid snapshot tensor: got "ghost"/);
    expect([t.count, t.a.x]).toEqual([3, 1]);
    ghost.dispose();
  });

  it('a numeric field given a non-finite or non-number value is refused before anything is written', () => {
    for (const bad of [NaN, Infinity, '5', null]) {
      const t = target();
      const snap: Snapshot = { tensors: {}, values: { 'a.x': 30, count: bad } };
      expect(() => restoreFields(t, snap)).toThrow(CinderArgumentError);
      expect([t.count, t.a.x]).toEqual([3, 1]);
    }
  });

  it('a part refusing its values puts the parts restored before it back', () => {
    const t = target();
    const snap: Snapshot = { tensors: {}, values: { count: 10, 'a.x': 30, 'b.x': -1 } };
    expect(() => restoreFields(t, snap)).toThrow(/invalid x: got -1/);
    expect([t.count, t.a.x, t.b.x]).toEqual([3, 1, 2]);
  });

  it('keeps the tensor count flat on success and failure', () => {
    class T implements Snapshottable {
      v: tf.Tensor = tf.keep(tf.scalar(1));
      snapshotState(): Snapshot {
        return { tensors: { v: this.v.clone() }, values: {} };
      }
      restoreState(s: Snapshot): void {
        const v = s.tensors.v;
        if (!v) throw new CinderArgumentError('v', v, 'a tensor');
        this.v.dispose();
        this.v = tf.keep(v.clone());
      }
    }
    const t = { a: new T(), b: new T() };
    const a = tf.scalar(5);
    const n = tf.memory().numTensors;
    restoreFields(t, { tensors: { 'a.v': a, 'b.v': a }, values: {} });
    expect(tf.memory().numTensors).toBe(n);
    expect(() => restoreFields(t, { tensors: { 'a.v': a }, values: {} })).toThrow(/invalid v/);
    expect(tf.memory().numTensors).toBe(n);
    expect(t.a.v.dataSync()[0]).toBe(5);
    a.dispose();
  });

  it('configuration (read-only numeric fields, marked with configFields) is captured and compared, never assigned; counters beside it are restored', () => {
    const make = (tau: number, count: number) => {
      const o = { tau, count, inner: { capacity: 8, steps: count } };
      configFields(o, 'tau');
      configFields(o.inner, 'capacity');
      return o;
    };
    const snap = snapshotFields(make(20, 5));
    expect(snap.values).toEqual({ tau: 20, count: 5, 'inner.capacity': 8, 'inner.steps': 5 });
    // equal settings: the counters are restored
    const same = make(20, 1);
    restoreFields(same, snap);
    expect([same.tau, same.count, same.inner.capacity, same.inner.steps]).toEqual([20, 5, 8, 5]);
    // a different setting (also -1, 1.5 for a capacity) is refused, naming it (with the prefix) and both values; nothing is written
    const other = make(15, 1);
    expect(() => restoreFields(other, snap, undefined, 'cell0.')).toThrow(/^invalid snapshot value cell0\.tau: got 20, expected 15 \(a setting the object was built with/);
    expect([other.tau, other.count, other.inner.steps]).toEqual([15, 1, 1]);
    for (const bad of [-1, 1.5, 9]) {
      const o = make(20, 1);
      expect(() => restoreFields(o, { tensors: {}, values: { count: 4, 'inner.capacity': bad } })).toThrow(new RegExp(`^invalid snapshot value inner\\.capacity: got ${bad}, expected 8 \\(`));
      expect([o.count, o.inner.capacity]).toEqual([1, 8]);
    }
    // an old snapshot without the setting leaves it alone
    const old = make(15, 1);
    restoreFields(old, { tensors: {}, values: { count: 7 } });
    expect([old.tau, old.count]).toEqual([15, 7]);
    // the fields are read-only at run time; a key that is no own data field is refused
    expect(() => {
      (same as { tau: number }).tau = 3;
    }).toThrow(TypeError);
    expect(() => configFields(same, 'ghost')).toThrow(/invalid config field: got "ghost", expected an own data field/);
  });

  it('a ScalarCache\'s capacity is configuration: a snapshot holding another one is refused, not written', () => {
    const owner = { scalars: new ScalarCache(16), calls: 2 };
    const snap = snapshotFields(owner);
    expect(snap.values).toEqual({ 'scalars.capacity': 16, calls: 2 });
    expect(() => restoreFields(owner, { tensors: {}, values: { 'scalars.capacity': -1, calls: 3 } })).toThrow(/^invalid snapshot value scalars\.capacity: got -1, expected 16 /);
    expect([owner.scalars.capacity, owner.calls]).toEqual([16, 2]);
    restoreFields(owner, { tensors: {}, values: { 'scalars.capacity': 16, calls: 3 } });
    expect([owner.scalars.capacity, owner.calls]).toEqual([16, 3]);
    owner.scalars.dispose();
  });
});
