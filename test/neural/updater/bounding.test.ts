import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Parameter } from '../../../src/core/state.js';
import { Bounding } from '../../../src/neural/bounding.js';
import { Updater } from '../../../src/neural/updater.js';

const P = [0.1, 0.5, 0.9, 1.0, 1.2];
const POS = [0.3, 0.2, 0.1, 0.4, 0.5];
const NEG = [0.05, 0.1, 0.2, 0.3, 0.1];
const MAX = 1;
const MIN = 0;

/** Applies pos/neg to P through an updater with `b` and returns the new values. */
function applyWith(b: Bounding | null, pos: number[] | null, neg: number[] | null): number[] {
  const p = new Parameter('weight', tf.tensor1d(P));
  const u = new Updater({ weight: p });
  if (b) u.bound('weight', b);
  tf.tidy(() => u.add('weight', pos ? tf.tensor1d(pos) : null, neg ? tf.tensor1d(neg) : null));
  u.apply();
  const out = Array.from(p.value.dataSync());
  p.dispose();
  return out;
}

function expectClose(got: number[], want: number[]) {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => {
    if (Number.isNaN(want[i]!)) expect(g).toBeNaN();
    else expect(Math.abs(g - want[i]!), `index ${i}`).toBeLessThan(1e-6);
  });
}

const up = {
  hard: (p: number) => (MAX - p >= 0 ? 1 : 0),
  multiplicative: (p: number) => MAX - p,
  'scaled-multiplicative': (p: number) => (MAX - p) / (MAX - MIN),
  power: (p: number, mu: number) => (MAX - p) ** mu,
  'scaled-power': (p: number, mu: number) => ((MAX - p) / (MAX - MIN)) ** mu,
};
const lo = {
  hard: (p: number) => (p - MIN >= 0 ? 1 : 0),
  multiplicative: (p: number) => p - MIN,
  'scaled-multiplicative': (p: number) => (p - MIN) / (MAX - MIN),
  power: (p: number, mu: number) => (p - MIN) ** mu,
  'scaled-power': (p: number, mu: number) => ((p - MIN) / (MAX - MIN)) ** mu,
};

describe('bounding functions (weight dependence)', () => {
  it('no bounding: P + Σpos − Σneg', () => {
    expectClose(applyWith(null, POS, NEG), P.map((p, i) => p + POS[i]! - NEG[i]!));
  });

  for (const kind of ['hard', 'multiplicative', 'scaled-multiplicative', 'power', 'scaled-power'] as const) {
    const muUp = kind.includes('power') ? 2 : 1;
    const muLo = kind.includes('power') ? 3 : 1;
    const opts = { powerUpper: muUp, powerLower: muLo };
    it(`${kind}: full, upper and lower sides follow the table`, () => {
      const full = new Bounding(kind, { max: MAX, min: MIN, ...opts });
      expectClose(applyWith(full, POS, NEG), P.map((p, i) => p + (up[kind](p, muUp) * POS[i]! - lo[kind](p, muLo) * NEG[i]!)));
      const upper = new Bounding(kind, { max: MAX, min: MIN, side: 'upper', ...opts });
      expectClose(applyWith(upper, POS, NEG), P.map((p, i) => p + (up[kind](p, muUp) * POS[i]! - NEG[i]!)));
      const lower = new Bounding(kind, { max: MAX, min: MIN, side: 'lower', ...opts });
      expectClose(applyWith(lower, POS, NEG), P.map((p, i) => p + (POS[i]! - lo[kind](p, muLo) * NEG[i]!)));
      // only one side pending: the other counts as 0
      expectClose(applyWith(full, POS, null), P.map((p, i) => p + up[kind](p, muUp) * POS[i]!));
      expectClose(applyWith(full, null, NEG), P.map((p, i) => p - lo[kind](p, muLo) * NEG[i]!));
      for (const b of [full, upper, lower]) b.dispose();
    });
  }

  it('the hard bound passes at the bound itself (Θ(0) = 1) and blocks beyond it', () => {
    const b = new Bounding('sharp', { max: 1 });
    expect(b.side).toBe('upper');
    expect(b.kind).toBe('hard');
    const got = applyWith(b, [1, 1, 1, 1, 1], null);
    expectClose(got, [1.1, 1.5, 1.9, 2.0, 1.2]);
    b.dispose();
  });

  it('the side defaults to the bound given; soft is multiplicative', () => {
    const b = new Bounding('soft', { min: 0 });
    expect(b.side).toBe('lower');
    expectClose(applyWith(b, POS, NEG), P.map((p, i) => p + POS[i]! - p * NEG[i]!));
    b.dispose();
  });

  it('rejects bad settings', () => {
    expect(() => new Bounding('power' as never, {})).toThrow(/max\/min/);
    expect(() => new Bounding('linear' as never, { max: 1 })).toThrow(/kind/);
    expect(() => new Bounding('multiplicative', { max: 1, side: 'lower' })).toThrow(/min/);
    expect(() => new Bounding('scaled-multiplicative', { max: 1 })).toThrow(/min/);
    expect(() => new Bounding('multiplicative', { max: 0, min: 1 })).toThrow(/max/);
    expect(() => new Bounding('multiplicative', { max: NaN })).toThrow(/max/);
    expect(() => new Bounding('power', { max: 1, power: -1 })).toThrow(/power/);
    expect(() => new Bounding('power', { max: 1, side: 'sideways' as never })).toThrow(/side/);
  });
});
