// A misspelt or foreign option (batchReductoin, MSTDPET's delayed, MSTDP's tauEligibility) is an
// error naming the key, at construction and at registration, not a silently used default.
import { describe, expect, it } from 'vitest';
import {
  DelayAdjustedSTDP, KernelSTDP, LinearHomeostasis, MSTDP, MSTDPET, STDP, TripletSTDP, expStdpPostKernel, expStdpPreKernel,
} from '../../../src/learn/trainers/index.js';
import { LinearDense } from '../../../src/neural/connections/index.js';
import { ForcedNeurons, TestLayer } from './harness.js';

const pair = { lrPost: 0.1, lrPre: -0.1, tauPost: 10, tauPre: 10 };
const triplet = { lrPostPair: 0.1, lrPostTriplet: 0.05, lrPrePair: -0.08, lrPreTriplet: 0.03, tauPostFast: 8, tauPostSlow: 30, tauPreFast: 10, tauPreSlow: 40 };
const cases: [string, (extra: object) => { dispose(): void; register(c: never, o?: object): unknown }][] = [
  ['STDP', (x) => new STDP({ ...pair, ...x })],
  ['MSTDP', (x) => new MSTDP({ ...pair, ...x })],
  ['MSTDPET', (x) => new MSTDPET({ ...pair, tauEligibility: 25, ...x })],
  ['TripletSTDP', (x) => new TripletSTDP({ ...triplet, ...x })],
  ['LinearHomeostasis', (x) => new LinearHomeostasis({ plasticity: 0.1, target: 0.1, ...x })],
  ['DelayAdjustedSTDP', (x) => new DelayAdjustedSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8, ...x })],
  ['KernelSTDP', (x) => new KernelSTDP({ kernelPost: expStdpPostKernel(0.1, 20), kernelPre: expStdpPreKernel(-0.05, 20), ...x })],
];

describe('unknown trainer options are rejected', () => {
  for (const [name, make] of cases) {
    it(`${name}: a misspelt key throws at construction and at registration`, () => {
      expect(() => make({ batchReductoin: 'sum' })).toThrow(/^invalid options key: got "batchReductoin", expected one of .*batchReduction/);
      const rule = make({});
      const l = new TestLayer(new LinearDense([2], [2], 1), new ForcedNeurons([2], 1));
      expect(() => rule.register(l.cell as never, { batchReductoin: 'sum' })).toThrow(/^invalid overrides: got "batchReductoin", expected one of .*batchReduction/);
      rule.dispose();
      l.dispose();
    });
  }

  it('MSTDPET has no delayed option and MSTDP no eligibility time constant', () => {
    expect(() => new MSTDPET({ ...pair, tauEligibility: 25, delayed: true } as never)).toThrow(/invalid options key: got "delayed"/);
    expect(() => new MSTDP({ ...pair, tauEligibility: 25 } as never)).toThrow(/invalid options key: got "tauEligibility"/);
  });
});
