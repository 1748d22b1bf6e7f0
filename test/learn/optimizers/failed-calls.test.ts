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
