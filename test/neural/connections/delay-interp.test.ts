// How a delay in ms becomes whole steps: Inferno's RecordTensor.select rule ('previous' = its synapse
// default, 'nearest'), checked against steps read back from Inferno itself (fixture), for dense and
// one-to-one connections; the default tolerance keeps float32 multiples of dt on their step.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { LinearDense, LinearDirect, constantInit, type DelayInterp } from '../../../src/neural/connections/index.js';
import { vals } from './helpers.js';

interface Case { dt: number; maxDelaySteps: number; interp: DelayInterp; delays: number[]; steps: number[] }
const cases = JSON.parse(readFileSync(new URL('../../fixtures/inferno-delay-steps.json', import.meta.url), 'utf8')) as Case[];

/** Step at which an impulse sent at step 0 on every input is read back per edge (synspike). */
function arrivals(kind: 'dense' | 'direct', c: Case, tolerance?: number): number[] {
  const n = c.delays.length;
  const opts = { maxDelay: c.maxDelaySteps * c.dt, delayInterp: c.interp, ...(tolerance === undefined ? {} : { delayTolerance: tolerance }), weightInit: constantInit(1) };
  const conn = kind === 'dense'
    ? new LinearDense([n], [1], c.dt, { ...opts, delayInit: () => tf.tensor([c.delays]) })
    : new LinearDirect([n], c.dt, { ...opts, delayInit: () => tf.tensor(c.delays) });
  const got: (number | null)[] = new Array(n).fill(null);
  for (let t = 0; t <= c.maxDelaySteps + 1; t++) {
    tf.tidy(() => {
      conn.forward(tf.tensor([c.delays.map(() => (t === 0 ? 1 : 0))]));
      const s = vals(conn.synspike);
      for (let i = 0; i < n; i++) if (got[i] === null && s[i] === 1) got[i] = t;
    });
  }
  conn.dispose();
  return got.map((g) => g ?? -1);
}

describe('delay interpolation (delays in ms → whole steps)', () => {
  it('the fixture covers both modes, ties, fractions and a float32-noisy multiple of dt', () => {
    expect(cases.map((c) => c.interp)).toContain('nearest');
    const prev = cases.find((c) => c.dt === 1 && c.interp === 'previous')!;
    // Inferno's 'previous': 0.4, 0.5, 2.5 ms at dt = 1 arrive after 1, 1, 3 steps (⌈d/Δt⌉)
    expect([0.4, 0.5, 2.5].map((d) => prev.steps[prev.delays.indexOf(d)])).toEqual([1, 1, 3]);
  });

  for (const kind of ['dense', 'direct'] as const) {
    it(`${kind}: with delayTolerance 0 every case equals the steps Inferno reads back`, () => {
      for (const c of cases) expect(arrivals(kind, c, 0), `${c.interp} dt ${c.dt}`).toEqual(c.steps);
    });
  }

  it('default tolerance (1e-3·dt): whole multiples of dt written in float32 keep their step; others as Inferno', () => {
    let noisy = 0;
    for (const c of cases) {
      const want = c.delays.map((d, i) => {
        const k = Math.round(d / c.dt);
        return Math.abs(d / c.dt - k) <= 1e-3 ? k : c.steps[i]!;
      });
      noisy += want.filter((w, i) => w !== c.steps[i]).length;
      expect(arrivals('dense', c), `${c.interp} dt ${c.dt}`).toEqual(want);
    }
    expect(noisy).toBeGreaterThan(0); // 0.09 ms at dt 0.01: Inferno (tol 0) 10 steps, here 9
  });

  it('rejects an unknown mode or a negative tolerance, naming the option, and allocates nothing', () => {
    const before = tf.memory().numTensors;
    expect(() => new LinearDense([2], [1], 1, { maxDelay: 2, delayInterp: 'linear' as DelayInterp })).toThrow(/delayInterp.*linear.*"previous", "nearest"/);
    expect(() => new LinearDense([2], [1], 1, { maxDelay: 2, delayTolerance: -1 })).toThrow(/delayTolerance/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
