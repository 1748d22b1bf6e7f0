// Every reducer Inferno also has, against Inferno itself (fixture from test/fixtures/inferno-reducers.py):
// 300 folds of a batch 2 × 3 observation at dt = 0.3 ms, τ = 7 ms (Δt does not divide τ), float32,
// clear() after step 149. Traces, EMA and the event reducer must agree bit for bit (same float32
// operations in the same order); the cumulative average to float32 rounding (Inferno updates
// m += (h − m)/n, Cinder divides an exact running sum by n).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import {
  CAReducer, ConditionalCumulativeTraceReducer, ConditionalNearestTraceReducer, CumulativeTraceReducer, EMAReducer, EventReducer,
  NearestTraceReducer, ScaledCumulativeTraceReducer, ScaledNearestTraceReducer, type Reducer,
} from '../../src/observe/index.js';

type Value = number | 'NaN' | 'Infinity' | '-Infinity';
const fx = JSON.parse(readFileSync(new URL('../fixtures/inferno-reducers.json', import.meta.url), 'utf8')) as {
  steps: number; clearAfter: number; batchSize: number; n: number; dt: number; tau: number; at: number[];
  values: Record<string, Value[][][]>;
};
const { dt, tau, batchSize: B, n: N } = fx;

/** The generator's observations, rounded to float32 like torch.tensor(..., dtype=float32). */
const spike = (t: number) => Array.from({ length: B }, (_, b) => Array.from({ length: N }, (_, n) => ((7 * t + 3 * n + 5 * b) % 11 < 3 ? 1 : 0)));
const value = (t: number) => Array.from({ length: B }, (_, b) => Array.from({ length: N }, (_, n) => Math.fround(((5 * t + 2 * n + 3 * b) % 13) / 10 - 0.3)));

const half = tf.keep(tf.scalar(0.5));
const gt = (h: tf.Tensor) => tf.greater(h, half);
type Case = { make: () => Reducer<tf.Tensor[]>; inputs: (t: number) => number[][][]; rtol?: number; note?: string };
const cases: Record<string, Case> = {
  cumulative: { make: () => new CumulativeTraceReducer({ dt, tau, amplitude: 0.5 }), inputs: (t) => [spike(t)] },
  nearest: { make: () => new NearestTraceReducer({ dt, tau, amplitude: 0.5, criterion: { target: 1 } }), inputs: (t) => [spike(t)] },
  cumulativeTolerance: { make: () => new CumulativeTraceReducer({ dt, tau, amplitude: -1.5, criterion: { target: 0.4, tolerance: 0.1 } }), inputs: (t) => [value(t)] },
  nearestTolerance: { make: () => new NearestTraceReducer({ dt, tau, amplitude: 2, criterion: { target: 0.4, tolerance: 0.1 } }), inputs: (t) => [value(t)] },
  nearestTarget: { make: () => new NearestTraceReducer({ dt, tau, amplitude: 0.75, criterion: { target: 0.2 } }), inputs: (t) => [value(t)] },
  scaledCumulative: { make: () => new ScaledCumulativeTraceReducer({ dt, tau, amplitude: 0.25, scale: 1.5, criterion: gt }), inputs: (t) => [value(t)] },
  scaledNearest: { make: () => new ScaledNearestTraceReducer({ dt, tau, amplitude: 0.25, scale: 1.5, criterion: gt }), inputs: (t) => [value(t)] },
  conditionalCumulative: { make: () => new ConditionalCumulativeTraceReducer({ dt, tau, amplitude: 0.1, scale: -0.75 }), inputs: (t) => [value(t), spike(t)] },
  conditionalNearest: { make: () => new ConditionalNearestTraceReducer({ dt, tau, amplitude: 0.1, scale: -0.75 }), inputs: (t) => [value(t), spike(t)] },
  ema: { make: () => new EMAReducer({ alpha: 0.137 }), inputs: (t) => [value(t)] },
  caSpikes: { make: () => new CAReducer(), inputs: (t) => [spike(t)], rtol: 1e-5 },
  caValues: { make: () => new CAReducer(), inputs: (t) => [value(t)], rtol: 1e-5 },
  eventInf: { make: () => new EventReducer({ dt, initial: 'inf' }), inputs: (t) => [spike(t)] },
  eventNan: { make: () => new EventReducer({ dt, initial: 'nan' }), inputs: (t) => [spike(t)] },
  eventZero: { make: () => new EventReducer({ dt, initial: 'zero' }), inputs: (t) => [spike(t)] },
};

function decode(v: Value): number {
  return typeof v === 'number' ? v : Number(v);
}

/** Folds the case over all steps (clearing after `clearAfter`); the values at the fixture's steps. */
function run(c: Case, onRead?: (t: number, r: Reducer<tf.Tensor[]>) => void): number[][][] {
  const r = c.make();
  const got: number[][][] = [];
  for (let t = 0; t < fx.steps; t++) {
    const xs = c.inputs(t).map((x) => tf.tensor2d(x));
    r.fold(...xs);
    tf.dispose(xs);
    if (fx.at.includes(t)) got.push(r.latest.arraySync() as number[][]);
    onRead?.(t, r);
    if (t === fx.clearAfter) r.clear();
  }
  r.dispose();
  return got;
}

describe('reducers against Inferno (float32, dt = 0.3 ms, τ = 7 ms, clear after step 149)', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      const want = fx.values[name]!;
      expect(want.length).toBe(fx.at.length);
      const got = run(c);
      for (let i = 0; i < fx.at.length; i++) {
        for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) {
          const w = decode(want[i]![b]![n]!);
          const g = got[i]![b]![n]!;
          const where = `${name} t=${fx.at[i]} [${b}][${n}]`;
          if (c.rtol === undefined || !Number.isFinite(w)) expect(g, where).toBe(w);
          else expect(Math.abs(g - w), where).toBeLessThanOrEqual(c.rtol * Math.abs(w) + 1e-7);
        }
      }
    });
  }

});
