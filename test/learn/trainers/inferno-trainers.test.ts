// Cinder's STDP-family trainers against Inferno's on identical inputs (test/fixtures/inferno-trainers.json,
// produced by test/fixtures/inferno-trainers.py): a LinearDense [6] → [4], batch 2, with the fixture's
// initial weight; the postsynaptic spikes are the ones Inferno's LIF emitted (forced here, so only the
// trainer is compared). Weights are compared after every step (within 2e-6), and the tensor count
// stays flat from step 6 on.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { LinearDense } from '../../../src/neural/connections/index.js';
import { Bounding } from '../../../src/neural/bounding.js';
import { MSTDP, MSTDPET, STDP, TripletSTDP } from '../../../src/learn/trainers/index.js';
import type { TrainerBatchReduction } from '../../../src/learn/toolkit/contraction.js';
import { ForcedNeurons, TestLayer, values } from './harness.js';

interface Case {
  name: string;
  rule: 'STDP' | 'MSTDP' | 'MSTDPET' | 'TripletSTDP';
  params: Record<string, number | string>;
  reward?: 'float' | 'tensor';
  scale?: number;
  bound?: 'multiplicative';
  delay?: boolean | 'fractional';
  updateEvery?: number;
  dt?: number;
  maxDelay?: number;
  delayValues?: number[];
  rewards?: (number | number[])[];
  post: number[][];
  w: number[][];
}
interface Fixture {
  steps: number;
  batchSize: number;
  inShape: number[];
  outShape: number[];
  dt: number;
  w0: number[];
  maxDelay: number;
  delay: number[];
  x: number[][];
  cases: Case[];
}

const fx = JSON.parse(readFileSync(new URL('../../fixtures/inferno-trainers.json', import.meta.url), 'utf8')) as Fixture;

const layers: TestLayer[] = [];
afterEach(() => {
  for (const l of layers.splice(0)) l.dispose();
});

function reduction(name: string): TrainerBatchReduction {
  if (name === 'mean' || name === 'sum') return name;
  if (name === 'max') return (t: tf.Tensor) => tf.max(t, 0);
  throw new Error(`unknown reduction ${name}`);
}

interface Runner {
  step(t: number): void;
  dispose(): void;
}

function build(c: Case, layer: TestLayer, extra: Record<string, unknown> = {}): Runner {
  const p = { ...c.params, batchReduction: reduction(c.params.batchReduction as string), ...extra } as never;
  if (c.rule === 'STDP' || c.rule === 'TripletSTDP') {
    const r = c.rule === 'STDP' ? new STDP(p) : new TripletSTDP(p);
    r.register(layer.cell);
    return { step: () => r.step(), dispose: () => r.dispose() };
  }
  const r = c.rule === 'MSTDP' ? new MSTDP(p) : new MSTDPET(p);
  r.register(layer.cell);
  return {
    step: (t) => {
      const m = c.rewards![t]!;
      if (typeof m === 'number') r.step(m, { scale: c.scale! });
      else tf.tidy(() => r.step(tf.tensor1d(m), { scale: c.scale! }));
    },
    dispose: () => r.dispose(),
  };
}

describe('STDP-family trainers agree with Inferno step by step (LinearDense 6 → 4, batch 2)', () => {
  // MSTDPET's batch-reduced eligibility (a Cinder option) must give the same weights for a scalar reward
  const variants = fx.cases.flatMap((c) => [
    { c, extra: {} as Record<string, unknown>, label: c.name },
    ...(c.rule === 'MSTDPET' && c.reward === 'float' ? [{ c, extra: { reduceEligibility: true }, label: `${c.name} (reduceEligibility)` }] : []),
  ]);
  for (const { c, extra, label } of variants) {
    it(label, () => {
      const conn = new LinearDense(fx.inShape, fx.outShape, c.dt ?? fx.dt, {
        batchSize: fx.batchSize,
        weightInit: (s) => tf.tensor(fx.w0, s as number[]),
        ...(c.delay ? { maxDelay: c.maxDelay!, delayInit: (s: readonly number[]) => tf.tensor(c.delayValues!, s as number[]) } : {}),
      });
      if (c.bound) conn.updater.bound('weight', new Bounding(c.bound, { max: 1, min: 0 }));
      const layer = new TestLayer(conn, new ForcedNeurons(fx.outShape, fx.batchSize));
      layers.push(layer);
      const rule = build(c, layer, extra);
      const bad: string[] = [];
      let tensors = 0;
      for (let t = 0; t < fx.steps; t++) {
        if (t === 6) tensors = tf.memory().numTensors; // after an update (every 1 or 3 steps)
        layer.step(fx.x[t]!, c.post[t]!);
        rule.step(t);
        if ((t + 1) % (c.updateEvery ?? 1) === 0) conn.update();
        const got = values(conn.weight);
        const want = c.w[t]!;
        const err = Math.max(...got.map((g, k) => Math.abs(g - want[k]!)));
        if (!(err <= 2e-6)) bad.push(`t=${t}: max |Δ| ${err.toExponential(3)} (got ${got.slice(0, 4).map((v) => v.toFixed(6))}…, want ${want.slice(0, 4).map((v) => v.toFixed(6))}…)`);
      }
      // no tensor left behind per step (the monitors’ histories are full by step 6)
      expect(tf.memory().numTensors).toBe(tensors);
      rule.dispose();
      expect(bad.slice(0, 3)).toEqual([]);
    });
  }
});
