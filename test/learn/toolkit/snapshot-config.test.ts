// A trainer's snapshot carries, next to its true state (monitors' traces and counters), some
// numbers of its configuration: PairTraces' τ_pre (read by the delayed presynaptic trace), the
// contraction's scalar-cache capacity, an exponential kernel's learning rate and τ. They used to
// be taken as counters and assigned on restore: a τ_pre = 20 snapshot turned the τ_pre of a
// trainer built with 15 into 20 while its reducers decayed with 15 (a mixed state), and any finite
// value (−1, 1.5) was written into the capacity. Now a restore compares them with the built
// values and refuses a different one, before anything changes; equal ones (every snapshot of an
// identically built trainer) restore as before. References: twins never asked to restore. (A
// trainer's snapshot now carries its settings too, compared first; `withoutSettings` removes them,
// as in a snapshot taken before, to reach the comparison of the read-only fields.)
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { SNAPSHOT_SETTINGS, disposeSnapshot, type Snapshot } from '../../../src/core/snapshot.js';
import { KernelSTDP, STDP, expStdpPostKernel, expStdpPreKernel } from '../../../src/learn/trainers/index.js';
import type { PairTraces } from '../../../src/learn/toolkit/pair-traces.js';
import { type AnyTrainer, pair, run, snapshot, trained, built, disposeBuilt, cases } from '../trainers/batch-harness.js';

afterEach(disposeBuilt);

type Case = (typeof cases)[number];
const stdpCase = (tauPre: number): Case => [`STDP τ_pre = ${tauPre}`, () => new STDP({ ...pair, tauPre, delayed: true }) as never, (t) => t.step()];
const kernelCase = (tau: number): Case => [
  `KernelSTDP τ = ${tau}`,
  () => {
    const post = expStdpPostKernel(0.1, tau);
    const pre = expStdpPreKernel(-0.05, tau);
    built.push(post, pre);
    return new KernelSTDP({ kernelPost: post, kernelPre: pre }) as never;
  },
  (t) => t.step(),
];
const traces = (t: AnyTrainer): PairTraces => (t as unknown as STDP).traces(t.cells[0]!);
const keep = (s: Snapshot): Snapshot => (built.push({ dispose: () => disposeSnapshot(s) }), s);
/** `s` without the settings a trainer's snapshot carries (as a snapshot taken before they were added): only its read-only fields are compared. */
const withoutSettings = (s: Snapshot): Snapshot => ({ tensors: s.tensors, values: Object.fromEntries(Object.entries(s.values).filter(([k]) => k !== SNAPSHOT_SETTINGS)) });

describe('trainer.restoreState: configuration in a snapshot is compared, never assigned', () => {
  it('STDP (delayed traces): a τ_pre = 20 snapshot is refused by a trainer built with τ_pre = 15, naming the field and both values; nothing changes and it learns on as its twin', () => {
    const saved = keep(trained(stdpCase(20), 2, 3).trainer.snapshotState());
    const a = trained(stdpCase(15), 2, 3, 5);
    const b = trained(stdpCase(15), 2, 3, 5);
    expect(traces(a.trainer).delayed).toBe(true); // the delayed read (which uses τ_pre) is exercised
    const before = snapshot(a.trainer);
    const n0 = tf.memory().numTensors;
    // the settings the snapshot carries are compared first; without them, the read-only τ_pre field
    expect(() => a.trainer.restoreState(saved)).toThrow(/^invalid setting tauPre of cell 0 of the trainer's snapshot: got 20, expected 15 \(/);
    expect(() => a.trainer.restoreState(withoutSettings(saved))).toThrow(/^invalid snapshot value cell0\.tauPre: got 20, expected 15 \(/);
    expect(tf.memory().numTensors).toBe(n0);
    expect(snapshot(a.trainer)).toEqual(before);
    const read = (m: { trainer: AnyTrainer }): number[] => tf.tidy(() => Array.from(traces(m.trainer).preTrace().dataSync()));
    expect(read(a)).toEqual(read(b));
    for (let t = 8; t < 14; t++) expect(run(a.layer, a.trainer, () => a.trainer.step(), t)).toEqual(run(b.layer, b.trainer, () => b.trainer.step(), t));
    expect(read(a)).toEqual(read(b));
  });

  it('STDP: a snapshot of an identically built trainer (τ_pre equal) is still restored whole', () => {
    const src = trained(stdpCase(20), 2, 3);
    const saved = keep(src.trainer.snapshotState());
    const a = trained(stdpCase(20), 2, 1, 7);
    a.trainer.restoreState(saved);
    expect(snapshot(a.trainer)).toEqual(snapshot(src.trainer));
  });

  it('the contraction\'s scalar-cache capacity in a snapshot is not written: −1, 1.5 and 17 are refused (built: 16), 16 is accepted', () => {
    const src = trained(stdpCase(15), 2, 3);
    const a = trained(stdpCase(15), 2, 2, 9);
    const cache = (traces(a.trainer).contraction as unknown as { scalars: { capacity: number } }).scalars;
    expect(cache.capacity).toBe(16);
    const before = snapshot(a.trainer);
    for (const bad of [-1, 1.5, 17]) {
      const s = keep(src.trainer.snapshotState());
      s.values['cell0.contraction.scalars.capacity'] = bad;
      expect(() => a.trainer.restoreState(s)).toThrow(new RegExp(`^invalid snapshot value cell0\\.contraction\\.scalars\\.capacity: got ${bad}, expected 16 \\(`));
      expect(cache.capacity).toBe(16);
      expect(snapshot(a.trainer)).toEqual(before);
    }
    a.trainer.restoreState(keep(src.trainer.snapshotState()));
    expect(cache.capacity).toBe(16);
    expect(snapshot(a.trainer)).toEqual(snapshot(src.trainer));
  });

  it('KernelSTDP: a snapshot of kernels with τ = 20 is refused by one built with τ = 25; the kernels keep τ = 25 and their learning rates', () => {
    const saved = keep(trained(kernelCase(20), 2, 3).trainer.snapshotState());
    const a = trained(kernelCase(25), 2, 3, 4);
    const before = snapshot(a.trainer);
    const kernels = a.trainer.entry(a.trainer.cells[0]!).hyper as unknown as { kernelPost: { tau: number; learningRate: number }; kernelPre: { tau: number; learningRate: number } };
    expect(() => a.trainer.restoreState(saved)).toThrow(/^invalid setting kernelPost\.tau of cell 0 of the trainer's snapshot: got 20, expected 25 \(/);
    expect(() => a.trainer.restoreState(withoutSettings(saved))).toThrow(/^invalid snapshot value cell0\.kernels\.post\.tau: got 20, expected 25 \(/);
    expect([kernels.kernelPost.tau, kernels.kernelPre.tau, kernels.kernelPost.learningRate, kernels.kernelPre.learningRate]).toEqual([25, 25, 0.1, -0.05]);
    expect(snapshot(a.trainer)).toEqual(before);
    // a learning rate differing alone is refused as well
    const lr = keep(trained(kernelCase(25), 2, 3).trainer.snapshotState());
    lr.values['cell0.kernels.pre.learningRate'] = -0.5;
    expect(() => a.trainer.restoreState(lr)).toThrow(/^invalid snapshot value cell0\.kernels\.pre\.learningRate: got -0\.5, expected -0\.05 \(/);
    expect(kernels.kernelPre.learningRate).toBe(-0.05);
    expect(snapshot(a.trainer)).toEqual(before);
  });
});
