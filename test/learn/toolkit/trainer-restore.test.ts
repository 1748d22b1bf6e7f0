// CellTrainer.restoreState with a snapshot it cannot take (a key no field of a later cell has, a
// cell index beyond the registered ones) throws and changes nothing: no cell's traces restored
// before the refusal, and no tensor left behind.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { SNAPSHOT_SETTINGS, disposeSnapshot, type Snapshot } from '../../../src/core/snapshot.js';
import { LinearDense } from '../../../src/neural/connections/index.js';
import { MSTDP, STDP, type STDPOptions } from '../../../src/learn/trainers/index.js';
import type { CellTrainer, CellResources } from '../../../src/learn/toolkit/trainer.js';
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

describe('CellTrainer.restoreState: the settings a snapshot carries', () => {
  const opts: STDPOptions = { lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 7, batchReduction: 'sum' };
  type Rule = CellTrainer<object, CellResources>;
  /** A trainer built by `make` on two cells, stepped `k` times with spikes depending on `seed`. */
  const setup = (make: () => Rule, k: number, seed: number) => {
    const layers = [0, 1].map(() => new TestLayer(new LinearDense([3], [2], 1, { batchSize: 1 }), new ForcedNeurons([2], 1)));
    const rule = make();
    for (const l of layers) rule.register(l.cell);
    for (let t = 0; t < k; t++) for (const l of layers) l.step([1, (t + seed) % 2, 0], [(t * seed) % 2, 1]);
    return { rule, dispose: () => (rule.dispose(), layers.forEach((l) => l.dispose())) };
  };
  /** Restoring `saved` into `target` is refused with `message`; the target's state and the tensor count are as before. */
  const refused = (target: Rule, saved: Snapshot, message: RegExp): void => {
    const before = target.snapshotState();
    const want = dump(before);
    disposeSnapshot(before);
    const n0 = tf.memory().numTensors;
    expect(() => target.restoreState(saved)).toThrow(message);
    expect(tf.memory().numTensors).toBe(n0);
    const after = target.snapshotState();
    expect(dump(after)).toEqual(want);
    disposeSnapshot(after);
  };

  it('a snapshot of a trainer built with another learning rate (no read-only field holds it) is refused, naming the cell, the setting and both values; nothing changes', () => {
    const a = setup(() => new STDP(opts) as never, 3, 1);
    const b = setup(() => new STDP({ ...opts, lrPost: 0.2 }) as never, 2, 2);
    const saved = a.rule.snapshotState();
    refused(b.rule, saved, /^invalid setting lrPost of cell 0 of the trainer's snapshot: got 0\.1, expected 0\.2 \(the trainer being restored into was built with it; a snapshot loads only into a trainer built with the same settings\)$/);
    disposeSnapshot(saved);
    a.dispose();
    b.dispose();
  });

  it('a snapshot of another trainer class with the same options (STDP → MSTDP) is refused; one of another number of cells too', () => {
    const a = setup(() => new STDP(opts) as never, 3, 1);
    const b = setup(() => new MSTDP(opts) as never, 2, 2);
    const saved = a.rule.snapshotState();
    refused(b.rule, saved, /^invalid trainer class of the trainer's snapshot: got "STDP", expected "MSTDP" \(/);
    disposeSnapshot(saved);
    const one = new STDP(opts);
    const l = new TestLayer(new LinearDense([3], [2], 1, { batchSize: 1 }), new ForcedNeurons([2], 1));
    one.register(l.cell);
    const single = one.snapshotState();
    const c = setup(() => new STDP(opts) as never, 2, 3);
    refused(c.rule, single, /^invalid number of cells of the trainer's snapshot: got 1, expected 2 /);
    const notObject: Snapshot = { tensors: {}, values: { [SNAPSHOT_SETTINGS]: 'STDP' } };
    refused(c.rule, notObject, /^invalid snapshot value #settings: got "STDP", expected an object/);
    disposeSnapshot(single);
    one.dispose();
    l.dispose();
    for (const x of [a, b, c]) x.dispose();
  });

  it('a snapshot of equal settings is restored whole; one without settings (taken before snapshots carried them) restores as before', () => {
    const a = setup(() => new STDP(opts) as never, 3, 1);
    const saved = a.rule.snapshotState();
    expect(saved.values[SNAPSHOT_SETTINGS]).toEqual(a.rule.settingsExtras());
    const b = setup(() => new STDP(opts) as never, 2, 2);
    b.rule.restoreState(saved);
    const got = b.rule.snapshotState();
    expect(dump(got)).toEqual(dump(saved));
    disposeSnapshot(got);
    // without settings, into a trainer of another learning rate: only the read-only fields are compared
    const c = setup(() => new STDP({ ...opts, lrPost: 0.2 }) as never, 2, 2);
    const old: Snapshot = { tensors: saved.tensors, values: Object.fromEntries(Object.entries(saved.values).filter(([k]) => k !== SNAPSHOT_SETTINGS)) };
    c.rule.restoreState(old);
    const back = c.rule.snapshotState();
    const { [SNAPSHOT_SETTINGS]: _s, ...rest } = dump(back);
    expect(rest).toEqual(dump(old));
    disposeSnapshot(back);
    disposeSnapshot(saved);
    for (const x of [a, b, c]) x.dispose();
  });
});
