// Recurrent-neuron dynamics of the e-prop models against closed forms: reset by subtraction,
// refractory counter (ψ = 0 while refractory, ψ ≠ 0 on the spike step), adaptive threshold; and
// the JS and tfjs kernels agree.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { EPropRecurrent, forwardJs, forwardTf } from '../../../src/learn/eprop/index.js';

function drive(T: number, on: (t: number) => boolean) {
  const data = new Float32Array(T);
  for (let t = 0; t < T; t++) data[t] = on(t) ? 1 : 0;
  return { batch: 1, steps: T, nIn: 1, data };
}

describe('e-prop LIF/ALIF forward scan', () => {
  it('refractory: with t_ref = 5 a strongly driven neuron spikes every 5 steps, ψ = 0 on the 4 steps after each spike', () => {
    const rec = new EPropRecurrent({ nIn: 1, nLif: 1, tRef: 5, wIn: [5], wRec: [0] });
    const c = rec.constants();
    expect(c.nRef).toBe(5);
    const T = 21;
    const r = forwardJs(c, [5], [0], drive(T, () => true), 0);
    const spikes = Array.from(r.z).map((s, t) => (s ? t : -1)).filter((t) => t >= 0);
    expect(spikes).toEqual([0, 5, 10, 15, 20]);
    // Voltage closed form: v_t = α·v_{t−1} + 5 − 0.6·z_{t−1}.
    let v = 0;
    let zPrev = 0;
    for (let t = 0; t < T; t++) {
      v = c.alpha * v + 5 - 0.6 * zPrev;
      expect(r.trace!.v[t]).toBeCloseTo(v, 5);
      const refractory = t % 5 !== 0;
      if (refractory) expect(r.psi[t]).toBe(0);
      else expect(r.psi[t]).toBeCloseTo(0.5 * Math.max(0, 1 - Math.abs(v - 0.6) / 0.6), 12);
      zPrev = r.z[t]!;
    }
    rec.dispose();
  });

  it('t_ref = 0: no refractoriness', () => {
    const rec = new EPropRecurrent({ nIn: 1, nLif: 1, tRef: 0, wIn: [5], wRec: [0] });
    const r = forwardJs(rec.constants(), [5], [0], drive(6, () => true));
    expect(Array.from(r.z)).toEqual([1, 1, 1, 1, 1, 1]);
    rec.dispose();
  });

  it('ALIF: A = V_th + β·a with a ← ρ·a + z_{t−1}; reset subtracts the base V_th', () => {
    const beta = 0.3;
    const rec = new EPropRecurrent({ nIn: 1, nLif: 0, nAlif: 1, tRef: 2, tauA: 50, adaptBeta: beta, wIn: [0.8], wRec: [0] });
    const c = rec.constants();
    const T = 40;
    const r = forwardJs(c, [0.8], [0], drive(T, (t) => t % 3 !== 2), 0);
    let v = 0, a = 0, zPrev = 0, ref = 0, nSpikes = 0;
    for (let t = 0; t < T; t++) {
      a = Math.exp(-1 / 50) * a + zPrev;
      const A = 0.6 + beta * a;
      v = Math.exp(-1 / 20) * v + (t % 3 !== 2 ? 0.8 : 0) - 0.6 * zPrev;
      if (ref > 0) ref--;
      const z = ref === 0 && v >= A ? 1 : 0;
      if (z) ref = 2;
      expect(r.trace!.threshold[t]).toBeCloseTo(A, 5);
      expect(r.trace!.v[t]).toBeCloseTo(v, 5);
      expect(r.z[t]).toBe(z);
      nSpikes += z;
      zPrev = z;
    }
    expect(nSpikes).toBeGreaterThan(3);
    rec.dispose();
  });

  it('the tfjs kernel reproduces the JS kernel (spikes exactly, ψ and traces to float32 precision)', () => {
    const rec = new EPropRecurrent({ nIn: 4, nLif: 5, nAlif: 5, tauA: 30, adaptBeta: 0.2 });
    const c = rec.constants();
    const B = 2, T = 60;
    const data = new Float32Array(B * T * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 5 === 0 ? 1 : 0;
    const wIn = rec.wIn.value.dataSync();
    const wRec = rec.wRec.value.dataSync();
    const a = forwardJs(c, wIn, wRec, { batch: B, steps: T, nIn: 4, data }, 1);
    const x = tf.tensor3d(data, [B, T, 4]);
    const n0 = tf.memory().numTensors;
    const b = forwardTf(c, rec.wIn.value, rec.wRec.value, x, 1);
    expect(tf.memory().numTensors).toBe(n0);
    x.dispose();
    expect(a.z.reduce((s, v) => s + v, 0)).toBeGreaterThan(10);
    expect(Array.from(b.z)).toEqual(Array.from(a.z));
    for (let i = 0; i < a.psi.length; i++) expect(b.psi[i]).toBeCloseTo(a.psi[i]!, 5);
    for (let i = 0; i < a.trace!.v.length; i++) {
      expect(b.trace!.v[i]).toBeCloseTo(a.trace!.v[i]!, 4);
      expect(b.trace!.threshold[i]).toBeCloseTo(a.trace!.threshold[i]!, 5);
    }
    rec.dispose();
  });

  it('rejects bad parameters', () => {
    expect(() => new EPropRecurrent({ nIn: 0, nLif: 1 })).toThrow(/nIn/);
    expect(() => new EPropRecurrent({ nIn: 1, nLif: 0, nAlif: 0 })).toThrow(/nLif/);
    expect(() => new EPropRecurrent({ nIn: 1, nLif: 1, tauM: -1 })).toThrow(/tauM/);
    expect(() => new EPropRecurrent({ nIn: 1, nLif: 1, tRef: -2 })).toThrow(/tRef/);
    // a refractory count beyond float32's exact integers (the tf kernel's counter) or i32 (webgpu's literal)
    expect(() => new EPropRecurrent({ nIn: 1, nLif: 1, tRef: 5, dt: 1e-9 })).toThrow(/invalid tRef: got 5, expected at most 2\^24 = 16777216 steps of dt = 1e-9 ms \(round\(tRef\/dt\) = 5000000000\)/);
    expect(() => new EPropRecurrent({ nIn: 1, nLif: 1, tRef: 2 ** 24, dt: 1 })).not.toThrow();
    expect(() => new EPropRecurrent({ nIn: 1, nLif: 1, vTh: NaN })).toThrow(/vTh/);
    expect(() => new EPropRecurrent({ nIn: 1, nLif: 1, surrogate: 'relu' as never })).toThrow(/surrogate/);
    expect(() => new EPropRecurrent({ nIn: 2, nLif: 1, wIn: [1] })).toThrow(/wIn/);
    expect(() => new EPropRecurrent({ nIn: 1, nLif: 1, wIn: [NaN] })).toThrow(/wIn/);
  });

  it('zeroes the diagonal of W_rec (no autapses)', () => {
    const rec = new EPropRecurrent({ nIn: 1, nLif: 2, wRec: [1, 2, 3, 4] });
    expect(Array.from(rec.wRec.value.dataSync())).toEqual([0, 2, 3, 0]);
    rec.dispose();
  });
});
