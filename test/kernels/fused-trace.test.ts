// The fused spike-trace step (src/kernels/js/fused-trace.ts, used by the pair rules' trace
// monitors) against a float32 recursion written here and against the op path, over 60 steps; and
// spike values other than 0/1 (each non-zero value one spike, in the SIMD lanes and the tail).
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';
import { traceReducer } from '../../src/learn/toolkit/pair-traces.js';
import { fusedTrace } from '../../src/kernels/js/fused-trace.js';
import { setSimdLoops } from '../../src/kernels/js/fused-simd.js';

const f = Math.fround;

async function run(mode: 'cumulative' | 'nearest', fused: boolean): Promise<{ values: Float32Array[]; kernels: string[] }> {
  setFusedKernels(fused);
  const r = traceReducer(mode, 1, 20, 0.3);
  const rng = new Rng(6);
  const values: Float32Array[] = [];
  let kernels: string[] = [];
  for (let t = 0; t < 60; t++) {
    const h = tf.tensor2d(Float32Array.from({ length: 2 * 7 }, () => (rng.uniform() < 0.3 ? 1 : 0)), [2, 7]);
    if (t === 59) kernels = (await tf.profile(() => r.fold(h))).kernels.map((k) => k.name);
    else r.fold(h);
    h.dispose();
    values.push(((await r.latest.data()) as Float32Array).slice());
  }
  r.dispose();
  setFusedKernels(true);
  return { values, kernels };
}

describe.each(fusedBackends())('fused trace step on %s', (backend) => {
  it.each(['cumulative', 'nearest'] as const)('%s: equals a float32 recursion and the op path over 60 steps', async (mode) => {
    await tf.setBackend(backend);
    const fused = await run(mode, true);
    const op = await run(mode, false);
    // the float32 recursion on the same spikes
    const rng = new Rng(6);
    const alpha = f(Math.exp(-1 / 20));
    const amp = f(0.3);
    let x = new Float32Array(14);
    for (let t = 0; t < 60; t++) {
      const h = Float32Array.from({ length: 14 }, () => (rng.uniform() < 0.3 ? 1 : 0));
      const next = new Float32Array(14);
      for (let k = 0; k < 14; k++) {
        if (t === 0) next[k] = f(amp * h[k]!);
        else if (mode === 'cumulative') next[k] = f(f(alpha * x[k]!) + f(amp * h[k]!));
        else next[k] = h[k] !== 0 ? amp : f(alpha * x[k]!);
      }
      x = next;
      expect(Array.from(fused.values[t]!)).toEqual(Array.from(x));
      expect(Array.from(op.values[t]!)).toEqual(Array.from(x));
    }
    expect(fused.kernels).toContain('CinderFusedTrace');
    expect(fused.kernels.length).toBeLessThan(op.kernels.length);
  });
});

describe.each(fusedBackends())('fused trace step on %s: flush to zero', (backend) => {
  it('a trace under the smallest normal float32 becomes +0 instead of stalling at a subnormal value (SIMD lanes and the scalar tail)', async () => {
    await tf.setBackend(backend);
    const alpha = f(Math.exp(-1 / 30));
    const min = 2 ** -126;
    // 7 units (4 SIMD lanes + a tail of 3): normal values just above the limit, subnormal ones,
    // a stalled subnormal (15·2⁻¹⁴⁹: f(α·x) = x), −0, NaN
    const prev0 = [min / alpha / alpha / alpha, 15 * 2 ** -149, 2 ** -130, -min * 1.5, NaN, 1e-39, 3 * min];
    for (const mode of ['cumulative', 'nearest'] as const) {
      for (const simd of [true, false]) {
        setSimdLoops(simd);
        let prev: tf.Tensor = tf.tensor1d(prev0);
        const h = tf.zeros([7]);
        // the float32 recursion with the flush written here
        let want = Float32Array.from(prev0);
        for (let t = 0; t < 4; t++) {
          const next = fusedTrace(prev, h, Math.exp(-1 / 30), 0.5, mode === 'nearest');
          prev.dispose();
          prev = next;
          want = want.map((x) => {
            const y = f(alpha * x);
            return Math.abs(y) < min ? 0 : y;
          });
          const got = (await prev.data()) as Float32Array;
          expect([...got].map((x) => Object.is(x, -0) ? 'neg0' : x)).toEqual([...want].map((x) => Object.is(x, -0) ? 'neg0' : x));
        }
        // without the flush the stalled unit would keep 15·2⁻¹⁴⁹ for ever; here it is 0 from the first step
        expect(f(alpha * 15 * 2 ** -149)).toBe(15 * 2 ** -149);
        expect(want[1]).toBe(0);
        // min/α³ decays to ≈ min in three steps and under it in the fourth
        expect(want[0]).toBe(0);
        expect(want[6]).toBeGreaterThan(min);
        expect(Number.isNaN(want[4])).toBe(true);
        tf.dispose([prev, h]);
      }
    }
    setSimdLoops(true);
  });
});

describe.each(fusedBackends())('fused trace step on %s: spike values other than 0/1', (backend) => {
  it.each(['cumulative', 'nearest'] as const)('%s: every non-zero spike (2, 0.5, −1, NaN) is one spike, in the SIMD lanes and the scalar tail, as on the op path', async (mode) => {
    await tf.setBackend(backend);
    const alpha = f(Math.exp(-1 / 20));
    const amp = f(0.3);
    // 7 units (4 SIMD lanes + a tail of 3) with the odd values in both parts
    const H = [
      [2, 0, 1, 0.5, -1, 0, 2],
      [0, NaN, 0, 0, 0, 3, 0],
      [0, 0, 0, 0, 0, 0, 0],
      [-0, 0, 2, 0, 0.5, 0, -0],
      [1, 1, 0, 2, 0, NaN, 1],
    ];
    const spike = (v: number) => v !== 0; // NaN counts, ±0 does not
    // the float32 recursion written here: cumulative f(f(α·x) + A·[h ≠ 0]), nearest [h ≠ 0] ? A : f(α·x)
    const want: number[][] = [];
    let x = new Array<number>(7).fill(0);
    for (const [t, h] of H.entries()) {
      x = x.map((p, k) => (t === 0 ? (spike(h[k]!) ? amp : 0) : mode === 'cumulative' ? f(f(alpha * p) + (spike(h[k]!) ? amp : 0)) : spike(h[k]!) ? amp : f(alpha * p)));
      want.push(x);
    }
    for (const [fused, simd] of [[true, true], [true, false], [false, false]] as const) {
      setFusedKernels(fused);
      setSimdLoops(simd);
      const r = traceReducer(mode, 1, 20, 0.3);
      for (const [t, h] of H.entries()) {
        const ht = tf.tensor1d(h);
        r.fold(ht);
        ht.dispose();
        expect([fused, simd, t, Array.from((await r.latest.data()) as Float32Array)]).toEqual([fused, simd, t, want[t]]);
      }
      r.dispose();
    }
    setFusedKernels(true);
    setSimdLoops(true);
  });
});
