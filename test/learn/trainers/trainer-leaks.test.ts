// Every trainer keeps the tensor count flat over register → steps → snapshot/restore → clear →
// deregister rounds, and over steps that throw.
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { disposeSnapshot } from '../../../src/core/snapshot.js';
import { LinearDense } from '../../../src/neural/connections/index.js';
import {
  DelayAdjustedMSTDP, DelayAdjustedSTDP, DelayAdjustedSTDPD, KernelSTDP, LinearHomeostasis, MSTDP, MSTDPET, STDP, TripletSTDP, VoltageSTDP, expStdpPostKernel, expStdpPreKernel,
} from '../../../src/learn/trainers/index.js';
import type { CellTrainer } from '../../../src/learn/toolkit/trainer.js';
import { ForcedNeurons, TestLayer } from './harness.js';

type AnyTrainer = CellTrainer<object, never> & { step(...a: unknown[]): void };
const pair = { lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 7 };
const kPost = expStdpPostKernel(0.1, 20);
const kPre = expStdpPreKernel(-0.05, 20);
// signals used by the steps (created once: the trainers do not own them)
const wrong3 = tf.zeros([3]);
const good2 = tf.ones([2]);
const wrong5 = tf.ones([5]);
const wrongTarget = tf.ones([3, 3, 3]);
const cases: [string, () => AnyTrainer, (t: AnyTrainer) => void, (t: AnyTrainer) => void][] = [
  ['STDP', () => new STDP(pair) as never, (t) => t.step(), (t) => t.step([{}])],
  ['MSTDP', () => new MSTDP(pair) as never, (t) => t.step(1), (t) => t.step(Number.NaN)],
  ['MSTDPET', () => new MSTDPET({ ...pair, tauEligibility: 20 }) as never, (t) => t.step(-1), (t) => t.step(wrong3)],
  ['TripletSTDP', () => new TripletSTDP({ lrPostPair: 0.1, lrPostTriplet: 0.05, lrPrePair: -0.08, lrPreTriplet: 0.03, tauPostFast: 8, tauPostSlow: 30, tauPreFast: 10, tauPreSlow: 40 }) as never, (t) => t.step(), (t) => t.step([{}])],
  ['KernelSTDP', () => new KernelSTDP({ kernelPost: kPost, kernelPre: kPre }) as never, (t) => t.step(), (t) => t.step([{}])],
  ['DelayAdjustedSTDP', () => new DelayAdjustedSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 }) as never, (t) => t.step(), (t) => t.step([{}])],
  ['DelayAdjustedSTDPD', () => new DelayAdjustedSTDPD({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 }) as never, (t) => t.step(), (t) => t.step([{}])],
  ['DelayAdjustedMSTDP', () => new DelayAdjustedMSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 }) as never, (t) => t.step(good2), (t) => t.step(wrong5)],
  ['LinearHomeostasis', () => new LinearHomeostasis({ plasticity: 0.1, target: 0.25 }) as never, (t) => t.step(), (t) => t.step(wrongTarget)],
];

afterAll(() => tf.dispose([wrong3, good2, wrong5, wrongTarget]));

describe('trainers keep the tensor count flat', () => {
  for (const [name, make, step, badStep] of cases) {
    it(`${name}: rounds of register, steps (one throwing), snapshot/restore, clear, deregister`, () => {
      const c = new LinearDense([3], [2], 1, { batchSize: 2, maxDelay: 2 });
      const l = new TestLayer(c, new ForcedNeurons([2], 2));
      const rule = make();
      const counts: number[] = [];
      const pending = () => c.updater.names.every((n) => c.updater.accumulator(n).empty);
      for (let round = 0; round < 4; round++) {
        rule.register(l.cell as never);
        for (let k = 0; k < 5; k++) {
          l.step([k % 2, 1, 0, 0, k % 3 === 0 ? 1 : 0, 1], [k % 2, 0, 1, k % 2]);
          step(rule);
          c.update();
          expect(() => badStep(rule)).toThrow();
          expect(pending()).toBe(true);
        }
        const snap = rule.snapshotState();
        rule.restoreState(snap);
        disposeSnapshot(snap);
        rule.clear();
        expect(rule.deregister(l.cell as never)).toBe(true);
        counts.push(tf.memory().numTensors);
      }
      // the first round may fill caches (scalars); then flat
      expect(counts.slice(1)).toEqual([counts[1], counts[1], counts[1]]);
      rule.dispose();
      l.dispose();
    });
  }

  it('VoltageSTDP: rounds of register, steps, clear, deregister', () => {
    const c = new LinearDense([3], [2], 1, { batchSize: 2, weightInit: (s) => tf.ones(s as number[]) });
    const v = { t: tf.zeros([2, 2]) };
    const cell = { connection: c, neuron: { get voltage() { return v.t; }, get spike() { return v.t; }, training: true }, layer: { attach() {}, detach() {}, training: true } };
    const rule = new VoltageSTDP();
    const counts: number[] = [];
    for (let round = 0; round < 4; round++) {
      rule.register(cell);
      for (let k = 0; k < 5; k++) {
        tf.tidy(() => void c.forward(tf.tensor2d([[1, 0, 1], [0, 1, 1]])));
        v.t.dispose();
        v.t = tf.fill([2, 2], -50 + 10 * k);
        rule.step();
        c.update();
      }
      rule.clear();
      rule.deregister(cell);
      counts.push(tf.memory().numTensors);
    }
    expect(counts.slice(1)).toEqual([counts[1], counts[1], counts[1]]);
    rule.dispose();
    c.dispose();
    v.t.dispose();
  });
});
