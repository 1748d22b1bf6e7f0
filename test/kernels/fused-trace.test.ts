// The fused spike-trace step (src/kernels/js/fused-trace.ts, used by the pair rules' trace
// monitors) against a float32 recursion written here and against the op path, over 60 steps.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';
import { traceReducer } from '../../src/learn/toolkit/pair-traces.js';

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
