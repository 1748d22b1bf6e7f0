import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { MSTDPET } from '../../../src/learn/trainers/index.js';
import { LayerPool, PairReference, TestLayer, values } from './harness.js';

const pool = new LayerPool();
const direct = (w: number) => pool.direct(1, w);
const dense = (i: number, o: number, batch: number) => pool.dense(i, o, batch);
afterEach(() => pool.disposeAll());
const w0 = (l: TestLayer) => values(l.connection.weight)[0]!;

describe('MSTDPET on one synapse (closed forms)', () => {
  const tau = 10;
  const tz = 25;
  const az = Math.exp(-1 / tz);

  it('eligibility z_post(3) = A_pre·e^{−2/τ}/τ_z decays with τ_z; Δw = M·z every step', () => {
    const l = direct(0.5);
    const m = new MSTDPET({ lrPost: 0.1, lrPre: -0.05, tauPost: tau, tauPre: tau, tauEligibility: tz });
    m.register(l.cell);
    const T = 12;
    const z3 = (0.1 * Math.exp(-2 / tau)) / tz;
    for (let t = 1; t <= T; t++) {
      l.step([t === 1 ? 1 : 0], [t === 3 ? 1 : 0]);
      m.step(1);
      l.connection.update();
      const elig = values(m.traces(l.cell).post.latest)[0]!;
      expect(elig).toBeCloseTo(t < 3 ? 0 : z3 * az ** (t - 3), 8);
    }
    // w(T) = w0 + Σ_{t=3..T} z3·αz^{t−3}
    expect(w0(l)).toBeCloseTo(0.5 + (z3 * (1 - az ** (T - 2))) / (1 - az), 7);
    expect(values(m.traces(l.cell).pre.latest)[0]).toBe(0);
    m.dispose();
  });

  it('eligibility keeps accumulating without reward, and a later reward converts it', () => {
    const l = direct(0.5);
    const m = new MSTDPET({ lrPost: 0.1, lrPre: -0.05, tauPost: tau, tauPre: tau, tauEligibility: tz });
    m.register(l.cell);
    // post at 1, pre at 2: z_pre(2) = A_post·e^{−1/τ}/τ_z
    for (let t = 1; t <= 5; t++) {
      l.step([t === 2 ? 1 : 0], [t === 1 ? 1 : 0]);
      m.step(t === 5 ? -2 : 0);
      l.connection.update();
    }
    const zpre5 = ((0.05 * Math.exp(-1 / tau)) / tz) * az ** 3;
    // Hebbian, M = −2: Δw = M·(z_post − z_pre) = +2·z_pre
    expect(w0(l)).toBeCloseTo(0.5 + 2 * zpre5, 7);
    m.dispose();
  });

  it('folds the eligibility once per layer step (a second step() call only re-adds the update)', () => {
    const l = direct(0);
    const m = new MSTDPET({ lrPost: 1, lrPre: -1, tauPost: tau, tauPre: tau, tauEligibility: tz });
    m.register(l.cell);
    l.step([1], [1]);
    m.step(1);
    m.step(1);
    const z = values(m.traces(l.cell).post.latest)[0]!;
    expect(z).toBeCloseTo(1 / tz, 7);
    expect(m.traces(l.cell).post.count).toBe(1);
    l.connection.update();
    expect(w0(l)).toBeCloseTo(0, 7); // z_post = z_pre = 1/τ_z: Hebbian net 0, twice
    m.dispose();
  });

  it('clear() resets traces and eligibility; train(false) freezes them', () => {
    const l = direct(0);
    const m = new MSTDPET({ lrPost: 1, lrPre: -1, tauPost: tau, tauPre: tau, tauEligibility: tz });
    m.register(l.cell);
    l.step([1], [0]);
    m.step(0);
    l.step([0], [1]);
    m.step(0);
    l.connection.update();
    const z = values(m.traces(l.cell).post.latest)[0]!;
    expect(z).toBeCloseTo(Math.exp(-1 / tau) / tz, 7);
    m.train(false);
    l.step([1], [1]);
    m.step(1);
    expect(values(m.traces(l.cell).post.latest)[0]).toBe(z);
    expect(l.connection.updater.accumulator('weight').empty).toBe(true);
    m.train(true);
    m.clear();
    expect(m.traces(l.cell).post.size).toBe(0);
    m.step(1);
    expect(l.connection.updater.accumulator('weight').empty).toBe(true);
    m.dispose();
  });
});

describe('MSTDPET over a batch (float64 reference)', () => {
  it.each([[false, 1], [true, 1], [false, 2], [true, 3]])('dense 2→2, batch 2, per-sample rewards = %s, trainer stepped every %i layer steps (eligibility folds every layer step)', (perSample, every) => {
    const B = 2;
    const tz = 15;
    const l = dense(2, 2, B);
    const m = new MSTDPET({ lrPost: 0.2, lrPre: -0.1, tauPost: 8, tauPre: 12, tauEligibility: tz });
    m.register(l.cell);
    const ref = new PairReference(B, 2, 2, 12, 8, 0.2, 0.1);
    const az = Math.exp(-1 / tz);
    const zpost = [0, 1].map(() => [[0, 0], [0, 0]]);
    const zpre = [0, 1].map(() => [[0, 0], [0, 0]]);
    const w = [[0, 0], [0, 0]];
    const pattern = (t: number, k: number) => ((t * 7 + k * 3) % 5 === 0 ? 1 : 0);
    for (let t = 0; t < 40; t++) {
      const pre = [0, 1, 2, 3].map((k) => pattern(t, k));
      const post = [0, 1, 2, 3].map((k) => pattern(t + 2, k + 1));
      l.step(pre, post);
      const stepped = t % every === every - 1;
      const r = !stepped ? [0, 0] : perSample ? [t < 20 ? 1 : -1, 0.5] : [t < 20 ? 1 : -1, t < 20 ? 1 : -1];
      if (!stepped) {
        // no trainer step: the eligibility still folds (checked against the reference below)
      } else if (perSample) {
        const rt = tf.tensor1d(r);
        m.step(rt, { scale: 0.5 });
        rt.dispose();
      } else m.step(r[0]!, { scale: 0.5 });
      l.connection.update();
      const { dpost, dpre } = ref.step([pre.slice(0, 2), pre.slice(2)], [post.slice(0, 2), post.slice(2)]);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < 2; j++) {
          for (let i = 0; i < 2; i++) {
            zpost[b]![j]![i] = az * zpost[b]![j]![i]! + dpost[b]![j]![i]! / tz;
            zpre[b]![j]![i] = az * zpre[b]![j]![i]! + dpre[b]![j]![i]! / tz;
            w[j]![i] += 0.5 * r[b]! * (zpost[b]![j]![i]! - zpre[b]![j]![i]!);
          }
        }
      }
      const z = values(m.traces(l.cell).post.latest);
      const zWant = zpost.flat(2);
      for (let k = 0; k < zWant.length; k++) expect(Math.abs(z[k]! - zWant[k]!)).toBeLessThan(1e-6);
    }
    const got = values(l.connection.weight);
    const want = w.flat();
    for (let k = 0; k < 4; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThan(1e-6);
    expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(1e-3);
    m.dispose();
  });

  it('keeps the tensor count flat', () => {
    const l = dense(3, 2, 2);
    const m = new MSTDPET({ lrPost: 0.2, lrPre: -0.1, tauPost: 8, tauPre: 12, tauEligibility: 20 });
    m.register(l.cell);
    const r = tf.tensor1d([1, -1]);
    const run = () => {
      l.step([1, 0, 1, 0, 1, 1], [1, 0, 0, 1]);
      m.step(r);
      m.step(0.5);
      l.connection.update();
    };
    for (let t = 0; t < 3; t++) run();
    const before = tf.memory().numTensors;
    for (let t = 0; t < 30; t++) run();
    expect(tf.memory().numTensors).toBe(before);
    r.dispose();
    m.dispose();
  });

  it.each(['sum', 'mean'] as const)('reduceEligibility keeps reduce_b z only and gives the same updates (%s)', (how) => {
    const a = dense(3, 2, 3);
    const b = dense(3, 2, 3);
    const hp = { lrPost: 0.2, lrPre: -0.1, tauPost: 8, tauPre: 12, tauEligibility: 15, batchReduction: how };
    const ma = new MSTDPET(hp);
    const mb = new MSTDPET({ ...hp, reduceEligibility: true });
    ma.register(a.cell);
    mb.register(b.cell);
    for (let t = 0; t < 30; t++) {
      const pre = Array.from({ length: 9 }, (_, k) => ((t + 2 * k) % 4 === 0 ? 1 : 0));
      const post = Array.from({ length: 6 }, (_, k) => ((t + k) % 5 === 1 ? 1 : 0));
      for (const l of [a, b]) l.step(pre, post);
      ma.step(t < 15 ? 1 : -0.5);
      mb.step(t < 15 ? 1 : -0.5);
      a.connection.update();
      b.connection.update();
    }
    expect(mb.traces(b.cell).post.latest.shape).toEqual([2, 3]);
    expect(ma.traces(a.cell).post.latest.shape).toEqual([3, 2, 3]);
    const wa = values(a.connection.weight);
    const wb = values(b.connection.weight);
    wa.forEach((w, i) => expect(Math.abs(w - wb[i]!)).toBeLessThan(1e-6));
    expect(Math.max(...wa.map(Math.abs))).toBeGreaterThan(1e-3);
    const r = tf.tensor1d([1, 1, 1]);
    expect(() => mb.step(r)).toThrow(/reward/);
    r.dispose();
    expect(() => new MSTDPET({ ...hp, reduceEligibility: true, batchReduction: (x) => tf.max(x, 0) })).toThrow(/batchReduction/);
    ma.dispose();
    mb.dispose();
  });

  it('rejects a non-positive eligibility time constant', () => {
    expect(() => new MSTDPET({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10, tauEligibility: 0 })).toThrow(/tauEligibility/);
    expect(() => new MSTDPET({ lrPost: 1, lrPre: -1, tauPost: 10, tauPre: 10, tauEligibility: NaN })).toThrow(/tauEligibility/);
  });
});
