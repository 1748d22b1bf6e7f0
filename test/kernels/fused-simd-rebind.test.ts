// The SIMD loops (src/kernels/js/fused-simd.ts) and the scratch the SIMD kernels keep in the wasm
// backend's memory (fused-sparse-matmul.ts, fused-outer-simd.ts, the transposed weight) follow the
// backend: after tf.removeBackend('wasm') and a new registration (a new instance with its own
// memory) and after the memory grows, the SIMD product and weight update equal a float64 sum
// written here and tf.matMul.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { fusedSparseMatmulSimd, sparseMatmulSimdApplies } from '../../src/kernels/js/fused-sparse-matmul.js';
import { fusedOuterSimd } from '../../src/kernels/js/fused-outer-simd.js';
import { resetSimdLoops, simdLoops } from '../../src/kernels/js/fused-simd.js';
import { fusedTrace } from '../../src/kernels/js/fused-trace.js';

const wasm = fusedBackends().includes('wasm');
const [B, I, O] = [4, 16, 8];

/** The wasm backend's memory (a WebAssembly.Memory). */
function memory(): WebAssembly.Memory {
  return (tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory } } }).wasm.asm.memory;
}

function spikes(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.uniform() < 0.3 ? 1 : 0));
}

function uniform(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
}

/** `y = x·Wᵀ` by the SIMD product (`w` a tensor, `wv` its values) equals a float64 sum and tf.matMul. */
async function checkProduct(x: Float32Array, w: tf.Tensor, wv: Float32Array): Promise<void> {
  const xt = tf.tensor2d(x, [B, I]);
  expect(sparseMatmulSimdApplies(xt, w)).toBe(true);
  const yt = fusedSparseMatmulSimd(xt, w);
  const y = (await yt.data()) as Float32Array;
  const op = (await tf.matMul(xt, w, false, true).data()) as Float32Array;
  for (let b = 0; b < B; b++)
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let i = 0; i < I; i++) s += x[b * I + i]! * wv[o * I + i]!;
      const k = b * O + o;
      if (!(Math.abs(y[k]! - s) <= 1e-5 * Math.max(1, Math.abs(s)))) expect.fail(`y[${b}, ${o}] = ${y[k]}, float64 sum ${s}`);
      if (!(Math.abs(y[k]! - op[k]!) <= 1e-5 * Math.max(1, Math.abs(s)))) expect.fail(`y[${b}, ${o}] = ${y[k]}, tf.matMul ${op[k]}`);
    }
  xt.dispose();
  yt.dispose();
}

/**
 * The SIMD weight update `v = (w − D) + S`, `S = Σ_b post[b, o]·pre[b, i]/2`, `D = Σ_b trace[b, o]·sp[b, i]`
 * (no bound, no clamp), checked against a float64 sum; returns the new weight and its values.
 */
async function checkUpdate(rng: Rng, w: tf.Tensor, wv: Float32Array): Promise<[tf.Tensor, Float32Array]> {
  const postS = spikes(rng, B * O);
  const preS = uniform(rng, B * I, 0, 1);
  const postD = uniform(rng, B * O, 0, 1);
  const preD = spikes(rng, B * I);
  const ts = [tf.tensor2d(postS, [B, O]), tf.tensor2d(preS, [B, I]), tf.tensor2d(postD, [B, O]), tf.tensor2d(preD, [B, I])] as const;
  const out = fusedOuterSimd(w, ...ts, { batch: B, rows: O, cols: I, divS: 2, divD: 1, signS: 1, signD: -1, bounded: false, lim: 0, lo: -Infinity, hi: Infinity });
  const v = (await out.data()) as Float32Array;
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++) {
      let s = 0;
      let d = 0;
      for (let b = 0; b < B; b++) {
        s += (postS[b * O + o]! / 2) * preS[b * I + i]!;
        d += postD[b * O + o]! * preD[b * I + i]!;
      }
      const want = wv[o * I + i]! - d + s;
      const got = v[o * I + i]!;
      if (!(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)))) expect.fail(`w[${o}, ${i}] = ${got}, float64 ${want}`);
    }
  for (const t of ts) t.dispose();
  return [out, v];
}

/** One round: a product with a new weight, an update of it, a product with the updated weight (its transpose written by the update). */
async function round(rng: Rng): Promise<void> {
  const wv = uniform(rng, O * I, -0.5, 0.5);
  const w = tf.tensor2d(wv, [O, I]);
  await checkProduct(spikes(rng, B * I), w, wv);
  const [w2, w2v] = await checkUpdate(rng, w, wv);
  await checkProduct(spikes(rng, B * I), w2, w2v);
  w.dispose();
  w2.dispose();
}

describe.skipIf(!wasm)('SIMD loops on wasm follow the backend and its memory', () => {
  // (the loops take views after every allocation: this held before and must still hold)
  it('after the memory grows between calls (a tensor larger than the memory allocated in between)', async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(6);
    await round(rng);
    // an update writes the transpose of its output; the memory grows; the product reads it
    const wv = uniform(rng, O * I, -0.5, 0.5);
    const w = tf.tensor2d(wv, [O, I]);
    const [w2, w2v] = await checkUpdate(rng, w, wv);
    const size = memory().buffer.byteLength;
    const big = tf.fill([size / 4 + 1024], 1);
    expect(memory().buffer.byteLength).toBeGreaterThan(size);
    await checkProduct(spikes(rng, B * I), w2, w2v);
    await round(rng);
    big.dispose();
    w.dispose();
    w2.dispose();
  });

  // Binding used to allocate (the 272-byte swizzle table) inside simdLoops(), which the trace,
  // scale and neuron kernels call after taking their views: an allocation that grew the memory
  // there detached the views (byteOffset 0), so the SIMD trace wrote at address 0 and the output
  // kept whatever its memory held. Binding now allocates nothing (the table comes with the first
  // scratch allocation, which kernels make before their views).
  it('binding allocates nothing: a memory growth in the first SIMD call does not detach its views', async () => {
    await tf.setBackend('wasm');
    const wasmModule = (tf.backend() as unknown as { wasm: { _malloc: (n: number) => number; _free: (p: number) => void } }).wasm;
    const malloc = wasmModule._malloc;
    const rng = new Rng(7);
    const n = 64;
    const prev = uniform(rng, n, -2, 2);
    const h = spikes(rng, n);
    const [decay, amp] = [Math.fround(0.9), Math.fround(0.25)];
    const pt = tf.tensor1d(prev);
    const ht = tf.tensor1d(h);
    resetSimdLoops(); // the next call binds the loops anew
    let grown = 0;
    // every allocation in this call grows the memory first (a real growth: through the backend's malloc)
    wasmModule._malloc = (bytes: number) => {
      const size = memory().buffer.byteLength;
      wasmModule._free(malloc(size));
      if (memory().buffer.byteLength > size) grown++;
      return malloc(bytes);
    };
    let out: tf.Tensor;
    try {
      out = fusedTrace(pt, ht, decay, amp, false);
    } finally {
      wasmModule._malloc = malloc;
    }
    expect(grown).toBeGreaterThan(0);
    expect(simdLoops()).not.toBeNull();
    const y = (await out.data()) as Float32Array;
    const f = Math.fround;
    for (let k = 0; k < n; k++) expect(y[k]).toBe(f(f(decay * prev[k]!) + f(amp * h[k]!)));
    tf.dispose([pt, ht, out]);
    await round(rng);
  });

  // the loops and the scratch offsets used to stay bound to the first backend's memory: the
  // product on the new instance read and wrote the old memory at the new offsets (y[0, 0] = 3.6e-41
  // where the float64 sum is −0.525; after the new memory grew: a wasm 'memory access out of bounds')
  it('after the wasm backend is removed and registered again (a new instance with its own memory)', async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(5);
    await round(rng);
    const first = memory();
    const loops = simdLoops();
    const factory = tf.findBackendFactory('wasm')!;
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', factory, 2);
    await tf.setBackend('wasm');
    expect(memory()).not.toBe(first);
    for (let r = 0; r < 2; r++) await round(rng);
    const again = simdLoops();
    expect(again).not.toBeNull();
    expect(again).not.toBe(loops);
    expect(again!.memory).toBe(memory());
    // cpu and back: the same instance, the same loops
    await tf.setBackend('cpu');
    expect(simdLoops()).toBeNull();
    await tf.setBackend('wasm');
    expect(simdLoops()).toBe(again);
    await round(rng);
  });
});
