// The webgpu trace programs (src/kernels/webgpu/step-trace.ts, one trace per program and a pair's
// two traces in one dispatch, as the pair rules' trace monitors run them) with spike values other
// than 0/1: every non-zero value is one spike, as on the op path and the wasm/cpu kernel. The
// cumulative program used to add A·h (2A for a spike value of 2). Reference: the float32 recursion
// written here (relative tolerance for a GPU that fuses α·x + A into one rounding).
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { traceDecay } from '../../src/observe/reducers/trace-options.js';
import { tracePairWebgpu, traceStepWebgpu } from '../../src/kernels/webgpu/step-trace.js';
import { onBackend, webgpuForTests } from './gpu.js';
import { worstRel } from './step-util.js';

const gpu = await webgpuForTests();
const f = Math.fround;

// 6 units over 5 steps; ±0 are no spikes (NaN is left out: WGSL lets a GPU assume there is none)
const H = [
  [2, 0, 1, 0.5, -1, 0],
  [0, 3, 0, 0, 0, -2],
  [0, 0, 0, 0, 0, 0],
  [-0, 0, 2, 0, 0.5, 0],
  [1, 1, 0, 2, 0, 4],
];

/** The float32 recursion from x = 0: cumulative f(f(α·x) + A·[h ≠ 0]), nearest [h ≠ 0] ? A : f(α·x). */
function reference(tau: number, amplitude: number, nearest: boolean): Float32Array[] {
  const alpha = f(traceDecay(1, tau));
  const amp = f(amplitude);
  let x = new Array<number>(H[0]!.length).fill(0);
  return H.map((h) => {
    x = x.map((p, k) => (h[k] !== 0 ? (nearest ? amp : f(f(alpha * p) + amp)) : f(alpha * p)));
    return Float32Array.from(x);
  });
}

describe.skipIf(!gpu.ok)(`webgpu trace programs: spike values other than 0/1 (${gpu.detail})`, () => {
  it.each([false, true])('nearest = %s: one trace per program, and a pair in one dispatch, count each non-zero value as one spike', async (nearest) => {
    const got = await onBackend('webgpu', async () => {
      const single: Float32Array[] = [];
      const pairA: Float32Array[] = [];
      const pairB: Float32Array[] = [];
      let x = tf.zeros([H[0]!.length]);
      let y = tf.zeros([H[0]!.length]);
      let z = tf.zeros([H[0]!.length]);
      for (const h of H) {
        const ht = tf.tensor1d(h);
        const nx = traceStepWebgpu(x, ht, traceDecay(1, 20), 0.3, nearest);
        const [ny, nz] = tracePairWebgpu({ prev: y, h: ht, decay: traceDecay(1, 20), amplitude: 0.3, nearest }, { prev: z, h: ht, decay: traceDecay(1, 7), amplitude: 0.8, nearest });
        tf.dispose([x, y, z, ht]);
        [x, y, z] = [nx, ny!, nz!];
        single.push(Float32Array.from(await x.data()));
        pairA.push(Float32Array.from(await y.data()));
        pairB.push(Float32Array.from(await z.data()));
      }
      tf.dispose([x, y, z]);
      return { single, pairA, pairB };
    });
    const a = reference(20, 0.3, nearest);
    const b = reference(7, 0.8, nearest);
    for (let t = 0; t < H.length; t++) {
      expect(worstRel(got.single[t]!, a[t]!), `single, step ${t}: ${got.single[t]} vs ${a[t]}`).toBeLessThan(1e-6);
      expect(worstRel(got.pairA[t]!, a[t]!), `pair (first), step ${t}`).toBeLessThan(1e-6);
      expect(worstRel(got.pairB[t]!, b[t]!), `pair (second), step ${t}`).toBeLessThan(1e-6);
    }
  });
});
