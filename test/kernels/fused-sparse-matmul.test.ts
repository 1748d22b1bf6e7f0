// The event-driven dense product (src/kernels/js/fused-sparse-matmul.ts) against a float64 sum and
// tf.matMul, and LinearDense choosing it only for mostly-zero inputs at small sizes.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { fusedSparseMatmul, fusedSparseMatmulSimd, lastSparseSimdDensity, nonZeroFraction, sparseMatmulSimdApplies } from '../../src/kernels/js/fused-sparse-matmul.js';
import { setSimdLoops } from '../../src/kernels/js/fused-simd.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';
import { LinearDense, uniformInit } from '../../src/neural/connections/index.js';
import { fusedGatherUnits, fusedSparseList, sparseListIndex } from '../../src/kernels/js/fused-sparse-list.js';
import { sparseIndex, synapseList } from '../../src/neural/connections/sparse-topology.js';

const backends = fusedBackends();

/** `y` `[B, O]` equals Σ_i x·W (float64) and tf.matMul of `xt` `[B, I]` and `wt` `[O, I]` within 1e-4 (relative). */
async function expectProduct(yt: tf.Tensor, xt: tf.Tensor, wt: tf.Tensor, x: Float32Array, w: Float32Array): Promise<void> {
  const [B, I] = xt.shape as [number, number];
  const O = wt.shape[0]!;
  const y = (await yt.data()) as Float32Array;
  const ref = (await tf.matMul(xt, wt, false, true).data()) as Float32Array;
  for (let b = 0; b < B; b++)
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let i = 0; i < I; i++) s += x[b * I + i]! * w[o * I + i]!;
      expect(Math.abs(y[b * O + o]! - s)).toBeLessThan(1e-4 * Math.max(1, Math.abs(s)));
      expect(Math.abs(y[b * O + o]! - ref[b * O + o]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(s)));
    }
  yt.dispose();
}

describe.each(backends)('fused sparse product on %s', (backend) => {
  it('equals Σ_i x·W (float64) and tf.matMul for spike-like inputs, B = 3', async () => {
    await tf.setBackend(backend);
    const rng = new Rng(1);
    const [B, I, O] = [3, 50, 7];
    const x = new Float32Array(B * I).map(() => (rng.uniform() < 0.2 ? 100 * rng.uniform() : 0));
    const w = new Float32Array(O * I).map(() => rng.uniform() - 0.5);
    const xt = tf.tensor2d(x, [B, I]);
    const wt = tf.tensor2d(w, [O, I]);
    await expectProduct(fusedSparseMatmul(xt, wt), xt, wt, x, w);
    expect(nonZeroFraction(xt)).toBeCloseTo(x.filter((v) => v !== 0).length / x.length, 6);
    expect(nonZeroFraction(xt, 0.01)).toBeGreaterThan(0.01);
    xt.dispose();
    wt.dispose();
  });

  it('LinearDense uses it for sparse inputs with a changing weight, the matrix product otherwise', async () => {
    await tf.setBackend(backend);
    const conn = new LinearDense([40], [6], 1, { weightInit: uniformInit(new Rng(2), 0, 1) });
    const kernels = async (x: tf.Tensor) => (await tf.profile(() => void tf.tidy(() => conn.forward(x)))).kernels.map((k) => k.name);
    const sparse = tf.tensor2d(new Float32Array(40).map((_, i) => (i % 7 === 0 ? 1 : 0)), [1, 40]);
    const dense = tf.ones([1, 40]);
    expect(await kernels(sparse)).toContain('CinderFusedSparseMatmul');
    expect(await kernels(dense)).not.toContain('CinderFusedSparseMatmul');
    // equal outputs on both paths
    const a = (await tf.tidy(() => conn.forward(sparse)).data()) as Float32Array;
    setFusedKernels(false);
    const b = (await tf.tidy(() => conn.forward(sparse)).data()) as Float32Array;
    setFusedKernels(true);
    for (let o = 0; o < 6; o++) expect(Math.abs(a[o]! - b[o]!)).toBeLessThan(1e-5);
    conn.dispose();
    sparse.dispose();
    dense.dispose();
  });

  it.each([['values of every size', false], ['spikes times one charge (the rows summed, then scaled once)', true]])('SIMD form (wasm), %s: equals Σ_i x·W (float64) and tf.matMul, B = 20, and follows weight changes', async (_name, unit) => {
    await tf.setBackend(backend);
    const rng = new Rng(3);
    const [B, I, O] = [20, 64, 12];
    const x = new Float32Array(B * I).map(() => (rng.uniform() < 0.15 ? (unit ? 37.5 : 100 * rng.uniform()) : 0));
    const xt = tf.tensor2d(x, [B, I]);
    if (!sparseMatmulSimdApplies(xt, tf.zeros([O, I]))) {
      // no SIMD loops off wasm: the JavaScript and op paths are tested above
      expect(backend).not.toBe('wasm');
      xt.dispose();
      return;
    }
    for (let round = 0; round < 2; round++) {
      // a new weight each round: the kernel's cached transpose must follow it
      const w = new Float32Array(O * I).map(() => rng.uniform() - 0.5);
      const wt = tf.tensor2d(w, [O, I]);
      await expectProduct(fusedSparseMatmulSimd(xt, wt), xt, wt, x, w);
      expect(lastSparseSimdDensity()).toBeCloseTo(x.filter((v) => v !== 0).length / x.length, 6);
      wt.dispose();
    }
    xt.dispose();
  });

  // every non-zero input the same ±Infinity: the SIMD form used to sum the rows of Wᵀ and scale the
  // sum once, ∞·(0 + 1) = ∞, where tf.matMul (and the JavaScript form) give ∞·0 + ∞·1 = NaN
  it('SIMD form (wasm), inputs all +Infinity or all −Infinity where a weight is 0: NaN, as tf.matMul and the JavaScript form', async () => {
    await tf.setBackend(backend);
    const [B, I, O] = [2, 8, 4];
    const w = new Float32Array(O * I).map((_, k) => (k % 3 === 0 ? 0 : (k % 5) - 2));
    const wt = tf.tensor2d(w, [O, I]);
    for (const inf of [Infinity, -Infinity]) {
      const x = new Float32Array(B * I).map((_, k) => (k % 4 === 1 || k === 6 ? inf : 0));
      const xt = tf.tensor2d(x, [B, I]);
      const op = (await tf.matMul(xt, wt, false, true).data()) as Float32Array;
      const outs = [fusedSparseMatmul(xt, wt), ...(sparseMatmulSimdApplies(xt, wt) ? [fusedSparseMatmulSimd(xt, wt)] : [])];
      if (backend === 'wasm') expect(outs.length).toBe(2);
      let nan = 0;
      for (const out of outs) {
        const y = (await out.data()) as Float32Array;
        for (let k = 0; k < B * O; k++) {
          if (!Object.is(y[k], op[k])) expect.fail(`${inf}: y[${k}] = ${y[k]}, tf.matMul ${op[k]}`);
          if (Number.isNaN(op[k]!)) nan++;
        }
        out.dispose();
      }
      expect(nan).toBeGreaterThan(0); // some rows meet a 0 weight, others not
      xt.dispose();
    }
    wt.dispose();
  });

  // The kernels index x, w (and Wᵀ, the synapse weights) by the sizes they assume: a w [O, I + 1]
  // for x [B, I] was read with row stride I (other weights: a wrong product, silently), a short
  // synapse weight list past its end (NaN)
  it('inputs whose sizes do not fit are refused (CinderArgumentError) before any kernel runs', async () => {
    await tf.setBackend(backend);
    const x = tf.tensor2d([[1, 0, 0, 1], [0, 1, 0, 0]]);
    const wWide = tf.ones([4, 5]);
    const w = tf.ones([4, 4]);
    const wTBad = tf.ones([4, 5]);
    const list = synapseList(4, 2, [[0, 0], [1, 1], [3, 0]]);
    const index = sparseListIndex(list, sparseIndex(list));
    const wShort = tf.ones([2]);
    const x3 = tf.ones([2, 3]);
    const xInt = tf.ones([2, 4], 'int32');
    const unitsF = tf.tensor1d([0, 1]);
    const before = tf.memory().numTensors;
    expect(() => fusedSparseMatmul(x, wWide)).toThrow(/^invalid w: got tensor of shape \[4, 5\] \(float32\), expected a float32 tensor \[O, 4\] \(x is \[2, 4\]\)$/);
    expect(() => fusedSparseMatmul(xInt, w)).toThrow(/^invalid x: got tensor of shape \[2, 4\] \(int32\), expected a float32 tensor \[B, I\]$/);
    expect(() => fusedSparseMatmulSimd(x, wWide)).toThrow(/^invalid w:/);
    expect(() => fusedSparseMatmulSimd(x, w, wTBad)).toThrow(/^invalid wT: got tensor of shape \[4, 5\] \(float32\), expected a float32 tensor \[4, 4\] \(the transpose of w\)$/);
    expect(() => fusedSparseList(x, wShort, index)).toThrow(/^invalid w: got tensor of shape \[2\] \(float32\), expected a float32 tensor of 3 weights \(one per synapse\)$/);
    expect(() => fusedSparseList(x3, tf.ones([3]), index)).toThrow(/^invalid x: got tensor of shape \[2, 3\] \(float32\), expected a float32 tensor \[B, 4\]/);
    expect(() => fusedGatherUnits(x, unitsF)).toThrow(/^invalid units: got tensor of shape \[2\] \(float32\), expected an Int32Array or an int32 tensor \[S\]$/);
    expect(tf.memory().numTensors).toBe(before + 1); // the tf.ones([3]) made in the call above
    tf.dispose([x, wWide, w, wTBad, wShort, x3, xInt, unitsF]);
  });

  // sizes not multiples of 4 (or no SIMD loops, e.g. on cpu): the exported SIMD form ran anyway,
  // its 4-lane loops reading and writing whole vectors past the rows (wasm: y = 8 where
  // Σ_i x·W = 6 for I = 6, and the heap corrupted: the next allocation failed with 'memory access
  // out of bounds'; cpu: a TypeError); it takes the JavaScript event-driven product instead
  it('SIMD form where it does not apply (sizes not multiples of 4; no SIMD loops): the JavaScript product, equal to Σ_i x·W and tf.matMul', async () => {
    await tf.setBackend(backend);
    const rng = new Rng(12);
    for (const [B, I, O] of [[2, 6, 4], [2, 8, 6], [3, 5, 7], [1, 4, 4]] as const) {
      const x = new Float32Array(B * I).map(() => (rng.uniform() < 0.5 ? 1 : 0));
      const w = new Float32Array(O * I).map(() => rng.uniform() - 0.5);
      const xt = tf.tensor2d(x, [B, I]);
      const wt = tf.tensor2d(w, [O, I]);
      expect(sparseMatmulSimdApplies(xt, wt)).toBe(backend === 'wasm' && I % 4 === 0 && O % 4 === 0);
      await expectProduct(fusedSparseMatmulSimd(xt, wt), xt, wt, x, w);
      xt.dispose();
      wt.dispose();
    }
  });

  it('LinearDense at B = 20 with a changing weight: SIMD product on wasm for spikes, equal to the op path', async () => {
    await tf.setBackend(backend);
    const B = 20;
    // 512 inputs at 10 % → 64 outputs: beyond the JavaScript event-driven product's size
    const [I, O] = [512, 64];
    const conn = new LinearDense([I], [O], 1, { weightInit: uniformInit(new Rng(2), 0, 1), batchSize: B });
    const rng = new Rng(8);
    const sparse = tf.tensor2d(new Float32Array(B * I).map(() => (rng.uniform() < 0.1 ? 1 : 0)), [B, I]);
    const names = (await tf.profile(() => void tf.tidy(() => conn.forward(sparse)))).kernels.map((k) => k.name);
    if (backend === 'wasm') expect(names).toContain('CinderFusedSparseMatmulSimd');
    const a = (await tf.tidy(() => conn.forward(sparse)).data()) as Float32Array;
    const was = setSimdLoops(false);
    setFusedKernels(false);
    const b = (await tf.tidy(() => conn.forward(sparse)).data()) as Float32Array;
    setFusedKernels(true);
    setSimdLoops(was);
    for (let k = 0; k < B * O; k++) expect(Math.abs(a[k]! - b[k]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(b[k]!)));
    conn.dispose();
    sparse.dispose();
  });

  it('LinearDense at B = 20 with a static weight: the SIMD product on its cached transpose (wasm), equal to Σ_i x·W', async () => {
    await tf.setBackend(backend);
    const B = 20;
    const [I, O] = [96, 40];
    const conn = new LinearDense([I], [O], 1, { weightInit: uniformInit(new Rng(4), -1, 1), batchSize: B });
    const w = (await conn.weight.data()) as Float32Array;
    const rng = new Rng(9);
    for (let t = 0; t < 4; t++) {
      // a static weight: from the third forward on the connection keeps its transposed kernel
      const x = new Float32Array(B * I).map(() => (rng.uniform() < 0.1 ? 1 : 0));
      const xt = tf.tensor2d(x, [B, I]);
      const p = await tf.profile(() => tf.tidy(() => conn.forward(xt)));
      if (backend === 'wasm' && t >= 2) expect(p.kernels.map((k) => k.name)).toContain('CinderFusedSparseMatmulSimd');
      const y = (await (p.result as tf.Tensor).data()) as Float32Array;
      for (let b = 0; b < B; b++)
        for (let o = 0; o < O; o++) {
          let s = 0;
          for (let i = 0; i < I; i++) s += x[b * I + i]! * w[o * I + i]!;
          expect(Math.abs(y[b * O + o]! - s)).toBeLessThan(1e-5 * Math.max(1, Math.abs(s)));
        }
      tf.dispose([p.result as tf.Tensor, xt]);
    }
    conn.dispose();
  });
});
