// The fused element-wise product (src/kernels/js/fused-scale.ts, used by DeltaCurrent and
// LinearDirect on wasm/cpu) against float32 products written here and tf.mul, bit for bit, with the
// special values (NaN, ±Infinity, −0, subnormals) and sizes that leave a tail after the SIMD lanes.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf, share } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { fusedScale, fusedScaleRows } from '../../src/kernels/js/fused-scale.js';
import { setSimdLoops } from '../../src/kernels/js/fused-simd.js';
import { DeltaCurrent } from '../../src/neural/synapses/index.js';
import { LinearDirect, constantInit } from '../../src/neural/connections/index.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';

const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1e-42, -3.5e38, 1];

function values(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, (_, k) => (k < SPECIAL.length ? SPECIAL[k]! : rng.normal() * 10 ** (Math.floor(rng.uniform() * 7) - 3)));
}

/** Bit patterns, so NaN equals NaN and −0 differs from 0. */
function bits(x: Float32Array): number[] {
  return [...new Uint32Array(x.buffer, x.byteOffset, x.length)];
}

describe.each(fusedBackends())('fused scale on %s', (backend) => {
  it.each([[3, 7], [4, 196], [2, 50]])('scalar and per-element factors over [%i, %i]: bit-identical to float32 products and tf.mul', async (B, N) => {
    await tf.setBackend(backend);
    const xs = values(B * N, 1);
    const ws = values(N, 2).reverse();
    const x = tf.tensor2d(xs, [B, N]);
    const w = tf.tensor1d(ws);
    for (const simd of [true, false]) {
      setSimdLoops(simd);
      for (const s of [100, -0.3, 0, Infinity]) {
        const got = (await fusedScale(x, s).data()) as Float32Array;
        const want = Float32Array.from(xs, (v) => v * Math.fround(s));
        expect(bits(got)).toEqual(bits(want));
        expect(bits(got)).toEqual(bits((await tf.mul(x, tf.scalar(s)).data()) as Float32Array));
      }
      const got = (await fusedScaleRows(x, w).data()) as Float32Array;
      const want = Float32Array.from(xs, (v, k) => v * ws[k % N]!);
      expect(bits(got)).toEqual(bits(want));
      expect(bits(got)).toEqual(bits((await tf.mul(x, w).data()) as Float32Array));
    }
    setSimdLoops(true);
    tf.dispose([x, w]);
  });

  it('DeltaCurrent and LinearDirect take the fused product and equal the op path', async () => {
    await tf.setBackend(backend);
    const run = async (fused: boolean) => {
      setFusedKernels(fused);
      const conn = new LinearDirect([3, 4], 0.5, { synapse: DeltaCurrent.factory({ charge: 1.7 }), weightInit: constantInit(0.6), batchSize: 5 });
      const rng = new Rng(4);
      const spikes = tf.tensor3d(Float32Array.from({ length: 60 }, () => (rng.uniform() < 0.4 ? 1 : 0)), [5, 3, 4]);
      const p = await tf.profile(() => tf.tidy(() => share(conn.forward(spikes))));
      const y = (await (p.result as tf.Tensor).data()) as Float32Array;
      const s = (await spikes.data()) as Float32Array;
      tf.dispose([p.result as tf.Tensor, spikes]);
      conn.dispose();
      setFusedKernels(true);
      return { y, s, kernels: p.kernels.map((k) => k.name) };
    };
    const fused = await run(true);
    const op = await run(false);
    expect(fused.kernels.filter((k) => k === 'CinderFusedScale')).toHaveLength(2);
    expect(op.kernels).not.toContain('CinderFusedScale');
    expect(bits(fused.y)).toEqual(bits(op.y));
    // the closed form: spike·(charge/dt)·w, each product rounded to float32
    const f = Math.fround;
    expect([...fused.y]).toEqual([...fused.s].map((v) => f(f(v * f(1.7 / 0.5)) * f(0.6))));
    expect(fused.s.some((v) => v !== 0)).toBe(true);
  });
});
