// Program-cache keys of Cinder's WGSL programs keep every constant baked into the source, sign of
// zero included: two programs that differ only in −0 versus +0 (or in ±∞ versus NaN) are different
// programs. `String`, template literals and `join` write −0 as "0" and `JSON.stringify` writes NaN
// and ±∞ as "null", so such keys once made the second program reuse the first one's pipeline.
// Each −0 case runs the +0 variant first and then the −0 one on the same shapes, and checks the bits
// read back against the closed form (the constant itself). WGSL lets an implementation ignore the
// sign of a zero, and SwiftShader does in some code shapes (a −0 assigned in a branch comes back
// +0 even from a program compiled on its own), so each −0 case first runs the −0 variant alone on
// other shapes (a fresh program): only where that keeps −0 is the key checked through the sign.
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';
import { traceStepWebgpu, tracePairWebgpu } from '../../src/kernels/webgpu/step-trace.js';
import { outerUpdateWebgpu } from '../../src/kernels/webgpu/step-update.js';
import { neuronStepWebgpu } from '../../src/kernels/webgpu/step-neuron.js';
import { multiOutputAvailable } from '../../src/kernels/webgpu/step-dispatch.js';
import { onBackend, webgpuForTests } from './gpu.js';

const gpu = await webgpuForTests();

/** The values of `t` (disposed) as plain numbers. */
async function read(t: tf.Tensor): Promise<number[]> {
  try {
    return Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

/** Whether every entry is x bit for bit (−0 and +0 told apart, NaN matched by NaN). */
const allAre = (xs: number[], x: number) => xs.every((v) => Object.is(v, x));

describe.skipIf(!gpu.ok)(`program keys keep −0, NaN and ±∞ apart (${gpu.detail})`, () => {
  /**
   * `run(c, n)` for the constants +0 and −0 on size n: −0 alone on size m first (fresh), then +0 and
   * −0 on size n. Returns whether the device kept −0 at all, and the results.
   */
  async function signs(run: (c: number, n: number) => Promise<number[]>, n: number, m: number) {
    const fresh = await run(-0, m);
    const pos = await run(0, n);
    const neg = await run(-0, n);
    return { keeps: allAre(fresh, -0), pos, neg };
  }
  const check = (name: string, r: { keeps: boolean; pos: number[]; neg: number[] }) => {
    expect(allAre(r.pos, 0), `${name}: +0 variant`).toBe(true);
    if (!r.keeps) {
      console.warn(`${name}: this device ignores the sign of a zero constant here; the −0 key is not observable`);
      return;
    }
    expect(r.neg.map((x) => 1 / x), `${name}: the −0 variant after the +0 one`).toEqual(r.neg.map(() => -Infinity));
  };

  it('LIF groups that differ only in resetV = +0 / −0 reset to their own zero (as the cpu op path)', async () => {
    // restV 0, threshV 1, dt 1, τ 20: an input of 100 (v' = 100·(1 − e^{−1/20}) ≈ 4.9) fires every
    // neuron at the first step, so v = resetV exactly
    const run = async (resetV: number, n: number) => {
      const g = new LIF([n], 1, { restV: 0, resetV, threshV: 1, refracT: 0, tauM: 20, batchSize: 2 });
      const x = tf.fill([2, n], 100);
      const s = g.forward(x);
      const spikes = await read(s);
      const v = await read(tf.clone(g.voltage));
      x.dispose();
      g.dispose();
      expect(allAre(spikes, 1), 'every neuron fires').toBe(true);
      return v;
    };
    setFusedKernels(false);
    const cpu = await onBackend('cpu', async () => ({ pos: await run(0, 3), neg: await run(-0, 3) }));
    expect(allAre(cpu.pos, 0) && allAre(cpu.neg, -0), 'the cpu op path keeps the sign').toBe(true);
    setFusedKernels(true);
    check('LIF resetV', await onBackend('webgpu', () => signs(run, 3, 7)));
  });

  it('neuron programs with a reset of +0 / −0 are distinct (neuronStepWebgpu)', async () => {
    // spec: decay 0, restTerm 0, gain 1, Θ 1: v' = i ≥ 2 fires, v = reset
    const run = async (reset: number, n: number) => {
      const v = tf.zeros([1, n]);
      const r = tf.zeros([1, n]);
      const cur = tf.fill([1, n], 2);
      const out = neuronStepWebgpu({ decay: 0, restTerm: 0, gain: 1, thresh: 1, reset, dt: 1, refracT: 0 }, { voltage: v, refrac: r, current: cur }, { refracLock: true, adapt: false });
      const res = await read(out.voltage);
      tf.dispose([v, r, cur, out.refrac, out.spike]);
      return res;
    };
    check('neuron reset', await onBackend('webgpu', () => signs(run, 4, 9)));
  });

  it('traces with amplitude +0 / −0 (nearest) store their own zero, one trace and a pair', async () => {
    await onBackend('webgpu', async () => {
      const run = async (amplitude: number, n: number) => {
        const prev = tf.fill([n], 0.5);
        const h = tf.ones([n]);
        const out = await read(traceStepWebgpu(prev, h, 0.5, amplitude, true));
        tf.dispose([prev, h]);
        return out;
      };
      check('trace amplitude', await signs(run, 4, 11));
      if (multiOutputAvailable()) {
        const pair = async (amplitude: number, n: number) => {
          const prev = tf.fill([n], 0.5);
          const h = tf.ones([n]);
          const t = { prev, h, decay: 0.5, amplitude, nearest: true };
          const [a, b] = tracePairWebgpu(t, t);
          const out = [...(await read(a!)), ...(await read(b!))];
          tf.dispose([prev, h]);
          return out;
        };
        check('trace pair amplitude', await signs(pair, 4, 11));
      }
    });
  });

  it('weight updates with a clamp min of +0 / −0, and of +∞ / −∞ / NaN, are distinct programs', async () => {
    await onBackend('webgpu', async () => {
      // w = −1 and a zero update: v = −1, clamped by min (a clamp acts on a finite v < min)
      const run = async (min: number, n = 3) => {
        const w = tf.fill([2, n], -1);
        const post = tf.zeros([1, 2]);
        const pre = tf.zeros([1, n]);
        const out = await read(outerUpdateWebgpu(w, [{ post, pre, divisor: 1, side: 'pos' }], null, [{ min }]));
        tf.dispose([w, post, pre]);
        return out;
      };
      check('clamp min', await signs(run, 3, 5));
      const up = await run(Infinity, 4); // v < +∞: v ← +∞
      const down = await run(-Infinity, 4); // never below −∞: v stays −1
      const nan = await run(NaN, 4); // a NaN comparison is false: v stays −1
      expect({ up, down, nan }).toEqual({ up: Array(8).fill(Infinity), down: Array(8).fill(-1), nan: Array(8).fill(-1) });
    });
  });
});
