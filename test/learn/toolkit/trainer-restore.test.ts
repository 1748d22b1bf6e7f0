// CellTrainer.restoreState with a snapshot it cannot take (a key no field of a later cell has, a
// cell index beyond the registered ones) throws and changes nothing: no cell's traces restored
// before the refusal, and no tensor left behind.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { disposeSnapshot, type Snapshot } from '../../../src/core/snapshot.js';
import { LinearDense } from '../../../src/neural/connections/index.js';
import { STDP } from '../../../src/learn/trainers/index.js';
import { ForcedNeurons, TestLayer } from '../trainers/harness.js';

/** Every tensor and number of a snapshot, by key (values as plain arrays). */
const dump = (s: Snapshot): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...s.values };
  for (const [k, t] of Object.entries(s.tensors)) out[k] = Array.from(t.dataSync());
  return out;
};

describe('CellTrainer.restoreState', () => {
  it('a snapshot refused by the second cell leaves the first cell (and the trainer) as they were', () => {
    const layers = [0, 1].map(() => new TestLayer(new LinearDense([3], [2], 1, { batchSize: 1 }), new ForcedNeurons([2], 1)));
    const rule = new STDP({ lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 7 });
    for (const l of layers) rule.register(l.cell);
    const stepAll = (k: number): void => {
      for (const l of layers) l.step([1, k % 2, 0], [k % 2, 1]);
    };
    stepAll(0);
    const early = rule.snapshotState(); // traces after one step
    stepAll(1);
    stepAll(2);
    const now = dump(rule.snapshotState());
    // the early snapshot with one key no field of cell 1 has
    const bad: Snapshot = { tensors: { ...early.tensors }, values: { ...early.values, 'cell1.bogus': 3 } };
    const n0 = tf.memory().numTensors;
    expect(() => rule.restoreState(bad)).toThrow(/invalid snapshot value: got "bogus"/);
    const after = rule.snapshotState();
    expect(dump(after)).toEqual(now);
    disposeSnapshot(after);
    expect(tf.memory().numTensors).toBe(n0);
    // the good early snapshot is taken whole
    rule.restoreState(early);
    const back = rule.snapshotState();
    expect(dump(back)).toEqual(dump(early));
    expect(dump(back)).not.toEqual(now);
    disposeSnapshot(back);
    disposeSnapshot(early);
    rule.dispose();
    for (const l of layers) l.dispose();
  });
});
