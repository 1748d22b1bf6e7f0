// MSTDPET.restoreState refuses eligibility traces of the wrong shape (a per-sample eligibility of
// batch 1 for a layer of batch 2, a reduced one where per-sample ones are kept, a wrong weight shape)
// before anything changes: they used to be restored and broadcast (decay·z + Δz of [1, O, I] and
// [2, O, I] gives [2, O, I]) or to fail the fold after the neurons stepped. Reference: a twin never
// asked to restore.
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { disposeSnapshot, type Snapshot } from '../../../src/core/snapshot.js';
import { LIF } from '../../../src/neural/neurons/index.js';
import { Conv2D, LinearDirect, SparseLinear, synapseList, type Connection } from '../../../src/neural/connections/index.js';
import { Serial } from '../../../src/neural/layers/index.js';
import { MSTDPET } from '../../../src/learn/trainers/index.js';
import { type AnyTrainer, I, O, cases, run, snapshot, trained, built, disposeBuilt } from './batch-harness.js';

afterEach(disposeBuilt);

const perSample = cases.find((c) => c[0] === 'MSTDPET')!;
const reduced = cases.find((c) => c[0] === 'MSTDPET (reduced eligibility)')!;

/** `s` with the tensors of keys matching `re` replaced by `f(t)` (a new snapshot; `s` is left as is). */
function edited(s: Snapshot, re: RegExp, f: (t: tf.Tensor) => tf.Tensor): Snapshot {
  const tensors = Object.fromEntries(Object.entries(s.tensors).map(([k, t]) => [k, re.test(k) ? f(t) : t.clone()]));
  const out = { tensors, values: { ...s.values } };
  built.push({ dispose: () => disposeSnapshot(out) });
  return out;
}

describe('MSTDPET.restoreState checks the eligibility shapes', () => {
  const bad: [string, typeof perSample, (t: tf.Tensor) => tf.Tensor, RegExp][] = [
    ['a batch-1 eligibility for a batch of 2 (right-sized traces)', perSample, (t) => tf.slice(t, [0], [1]), new RegExp(`invalid snapshot eligibility (post|pre)\\.h0: got tensor of shape \\[1, ${O}, ${I}\\].*expected a float32 tensor of shape \\[2, ${O}, ${I}\\]`)],
    ['a reduced eligibility where per-sample ones are kept', perSample, (t) => tf.sum(t, 0), new RegExp(`invalid snapshot eligibility (post|pre)\\.h0: got tensor of shape \\[${O}, ${I}\\].*expected a float32 tensor of shape \\[2, ${O}, ${I}\\]`)],
    ['a per-sample eligibility where the reduced one is kept', reduced, (t) => tf.stack([t, t]), new RegExp(`invalid snapshot eligibility (post|pre)\\.h0: got tensor of shape \\[2, ${O}, ${I}\\].*expected a float32 tensor of shape \\[${O}, ${I}\\]`)],
    ['an eligibility of another weight shape', perSample, (t) => tf.slice(t, [0, 0, 0], [2, O, I - 1]), new RegExp(`invalid snapshot eligibility (post|pre)\\.h0: got tensor of shape \\[2, ${O}, ${I - 1}\\]`)],
  ];
  it.each(bad)('refuses %s before anything changes; the trainer learns on as if never asked', (_name, c, f, re) => {
    const src = trained(c, 2, 3);
    const saved = src.trainer.snapshotState();
    built.push({ dispose: () => disposeSnapshot(saved) });
    const keys = Object.keys(saved.tensors).filter((k) => /^cell0\.(post|pre)\.h\d+$/.test(k));
    expect(keys.length).toBe(2); // both eligibility traces are in the snapshot
    const s = edited(saved, /^cell0\.(post|pre)\.h0$/, f);
    const a = trained(c, 2, 3, 5);
    const b = trained(c, 2, 3, 5);
    const before = snapshot(a.trainer);
    const count = tf.memory().numTensors;
    let err: unknown;
    try {
      a.trainer.restoreState(s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CinderArgumentError);
    expect((err as Error).message).toMatch(re);
    expect(tf.memory().numTensors).toBe(count);
    expect(snapshot(a.trainer)).toEqual(before);
    for (let t = 8; t < 11; t++) expect(run(a.layer, a.trainer, c[2], t)).toEqual(run(b.layer, b.trainer, c[2], t));
    expect(snapshot(a.trainer)).toEqual(snapshot(b.trainer));
  });

  it.each([perSample, reduced])('%s: a snapshot of the right shapes is restored and learns on as its source', (...c) => {
    const src = trained(c as never, 2, 3);
    const saved = src.trainer.snapshotState();
    built.push({ dispose: () => disposeSnapshot(saved) });
    const dst = trained(c as never, 2, 3, 5);
    dst.trainer.restoreState(saved);
    expect(snapshot(dst.trainer)).toEqual(snapshot(src.trainer));
  });

  // the expected shape [B, ...W] holds for other weight layouts too: direct [N], conv [F, kh, kw, C], sparse [nnz]
  const layouts: [string, () => Connection, number[]][] = [
    ['LinearDirect', () => new LinearDirect([3], 1, { batchSize: 2, weightInit: () => tf.fill([3], 40) }), [2, 3]],
    ['Conv2D', () => new Conv2D([3, 3, 1], 2, 2, 1, { batchSize: 2, weightInit: (sh) => tf.fill([...sh], 40) }), [2, 3, 3, 1]],
    ['SparseLinear', () => new SparseLinear([3], [2], 1, { synapses: synapseList(3, 2, [[0, 1], [1, 0], [2, 1]], [40, 40, 40]), denseLimit: 0, batchSize: 2 }), [2, 3]],
  ];
  it.each(layouts)('%s: its own snapshot is restored (eligibility [B, ...W]); a batch-1 one is refused', (_name, make, inShape) => {
    const conn = make();
    const layer = new Serial(conn, new LIF([...conn.outShape], 1, { restV: -65, resetV: -65, threshV: -64, refracT: 0, tauM: 10, batchSize: 2 }));
    const trainer = new MSTDPET({ lrPost: 0.05, lrPre: -0.04, tauPost: 10, tauPre: 7, tauEligibility: 20 }) as unknown as AnyTrainer & MSTDPET;
    built.push(trainer, layer);
    trainer.register(layer.cell('connection', 'neuron'));
    const n = inShape.reduce((a, b) => a * b, 1);
    for (let t = 0; t < 3; t++) {
      tf.tidy(() => void layer.forward(tf.tensor(Array.from({ length: n }, (_, k) => ((k + t) % 2 === 0 ? 1 : 0)), inShape)));
      trainer.step(0.5);
    }
    const saved = trainer.snapshotState();
    built.push({ dispose: () => disposeSnapshot(saved) });
    const before = snapshot(trainer);
    expect((before['cell0.post.h0'] as { shape: number[] }).shape).toEqual([2, ...conn.weight.shape]);
    trainer.restoreState(saved);
    expect(snapshot(trainer)).toEqual(before);
    expect(() => trainer.restoreState(edited(saved, /^cell0\.post\.h0$/, (t) => tf.slice(t, [0], [1])))).toThrow(/invalid snapshot eligibility post\.h0: got tensor of shape \[1, /);
    expect(snapshot(trainer)).toEqual(before);
  });
});
