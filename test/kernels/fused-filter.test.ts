// The exponential filter step x·d + c·y as one kernel: CinderFusedFilter (fused-filter.ts) and the
// filter folded into CinderFusedSparseList (fused-sparse-list.ts), against float32 steps written here
// (Math.fround per op) and the tfjs ops they replace, bit for bit, with NaN, ±Infinity, −0 and
// subnormals in the state, the input and the weights, batch > 1.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { fusedFilter } from '../../src/kernels/js/fused-filter.js';
import { fusedSparseList, sparseListIndex } from '../../src/kernels/js/fused-sparse-list.js';
import { sparseIndex, synapseList } from '../../src/neural/connections/index.js';

const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1e-42, -3.5e38, 3.4e38, 1];
const f = Math.fround;

function values(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, (_, k) => (k < SPECIAL.length ? SPECIAL[k]! : rng.normal() * 10 ** (Math.floor(rng.uniform() * 7) - 3)));
}

/** Bit patterns, so NaN equals NaN and −0 differs from 0. */
function bits(x: Float32Array): number[] {
  return [...new Uint32Array(x.buffer, x.byteOffset, x.length)];
}

/** The filter step in float32, one rounding per op. */
function step(x: Float32Array, y: Float32Array, d: number, c?: number): Float32Array {
  const d32 = f(d);
  return Float32Array.from(x, (v, k) => f(f(v * d32) + (c === undefined ? y[k]! : f(y[k]! * f(c)))));
}

/** The ops the kernels replace. */
async function ops(x: tf.Tensor, y: tf.Tensor, d: number, c?: number): Promise<Float32Array> {
  const t = tf.tidy(() => tf.add(tf.mul(x, tf.scalar(d)), c === undefined ? y : tf.mul(y, tf.scalar(c))));
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

describe.each(fusedBackends())('fused filter step on %s', (backend) => {
  it.each([[1, 13], [3, 40], [2, 4001]])('CinderFusedFilter over [%i, %i]: bit-identical to float32 steps and tf.add(tf.mul(x, d), c·y)', async (B, N) => {
    await tf.setBackend(backend);
    const xs = values(B * N, 1);
    const ys = values(B * N, 2).reverse();
    const x = tf.tensor2d(xs, [B, N]);
    const y = tf.tensor2d(ys, [B, N]);
    for (const [d, c] of [[Math.exp(-0.1 / 5), undefined], [Math.exp(-0.1 / 10), 0.1 / 10], [0.3, -2.5], [Infinity, 0], [0, undefined]] as [number, number | undefined][]) {
      const t = fusedFilter(x, y, d, c);
      const got = (await t.data()) as Float32Array;
      t.dispose();
      expect(bits(got)).toEqual(bits(step(xs, ys, d, c)));
      expect(bits(got)).toEqual(bits(await ops(x, y, d, c)));
    }
    tf.dispose([x, y]);
  });

  it('the filter folded into CinderFusedSparseList equals the plain kernel followed by the ops', async () => {
    await tf.setBackend(backend);
    const rng = new Rng(5);
    const I = 30;
    const O = 17;
    const pairs: [number, number][] = [];
    for (let i = 0; i < I; i++) for (let j = 0; j < O; j++) if (rng.uniform() < 0.3) pairs.push([i, j]);
    pairs.push([3, 4], [3, 4]); // a duplicate pair
    const list = synapseList(I, O, pairs);
    const index = sparseListIndex(list, sparseIndex(list));
    const S = list.pre.length;
    const B = 3;
    const ws = Float32Array.from({ length: S }, (_, s) => (s === 2 ? Infinity : s === 5 ? -0 : s === 7 ? 1e-42 : rng.normal()));
    const xs = Float32Array.from({ length: B * I }, () => (rng.uniform() < 0.4 ? 1 : 0));
    xs[1] = NaN; // a non-finite input
    xs[I + 2] = -0.5;
    const prevs = values(B * O, 6);
    const w = tf.tensor1d(ws);
    const x = tf.tensor2d(xs, [B, I]);
    const prev = tf.tensor2d(prevs, [B, O]);
    const plain = fusedSparseList(x, w, index);
    const ys = (await plain.data()) as Float32Array;
    for (const [d, c] of [[Math.exp(-0.1 / 5), undefined], [Math.exp(-0.5 / 3), 0.5 / 3]] as [number, number | undefined][]) {
      const t = fusedSparseList(x, w, index, c === undefined ? { prev, decay: d } : { prev, decay: d, gain: c });
      expect(t.shape).toEqual([B, O]);
      const got = (await t.data()) as Float32Array;
      t.dispose();
      expect(bits(got)).toEqual(bits(step(prevs, ys, d, c)));
      expect(bits(got)).toEqual(bits(await ops(prev, plain, d, c)));
    }
    // the plain kernel's sums themselves: Σ x·w per postsynaptic unit in float64, rounded once (x ≠ 0 only)
    const want = new Float64Array(B * O);
    for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) if (xs[b * I + list.pre[s]!] !== 0) want[b * O + list.post[s]!] += xs[b * I + list.pre[s]!]! * ws[s]!;
    expect(bits(ys)).toEqual(bits(Float32Array.from(want)));
    tf.dispose([w, x, prev, plain]);
  });

  it('refuses a bad state, factor or gain before running', async () => {
    await tf.setBackend(backend);
    const x = tf.zeros([2, 3]);
    const list = synapseList(3, 3, [[0, 1], [2, 2]]);
    const index = sparseListIndex(list, sparseIndex(list));
    const w = tf.ones([2]);
    const [wide, ints, short] = [tf.zeros([2, 4]), tf.zeros([2, 3], 'int32'), tf.zeros([1, 3])];
    const before = tf.memory().numTensors;
    expect(() => fusedFilter(x, wide, 0.5)).toThrow(CinderArgumentError);
    expect(() => fusedFilter(x, ints, 0.5)).toThrow(CinderArgumentError);
    expect(() => fusedFilter(x, x, 0.5, NaN)).toThrow(CinderArgumentError);
    expect(() => fusedSparseList(x, w, index, { prev: short, decay: 0.5 })).toThrow(/filter\.prev/);
    expect(() => fusedSparseList(x, w, index, { prev: x, decay: 0.5, gain: NaN })).toThrow(/filter\.gain/);
    expect(() => fusedSparseList(x, w, index, { prev: x, decay: '0.5' as unknown as number })).toThrow(/filter\.decay/);
    expect(tf.memory().numTensors).toBe(before); // no output made
    tf.dispose([wide, ints, short]);
    tf.dispose([x, w]);
  });
});
