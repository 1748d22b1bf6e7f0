// Randomized differential tests of the event-driven products (src/kernels/js/fused-sparse-matmul.ts,
// fused-sparse-list.ts) on the wasm and cpu backends: seeded inputs over batches 1, 2, 3, 7, 20,
// sizes that are and are not multiples of 4 (the SIMD form), empty dimensions, no / one / all /
// some inputs active, spike and valued inputs, NaN and ±Inf among them; against a float64 loop
// written here (the documented sum over non-zero inputs) and the op path (tf.matMul, tf.gather).
// Shapes alternate so per-shape scratch and the cached transposed weight are reused and renewed.
import { describe, expect, it } from 'vitest';
import { fusedBackends } from './backends.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { fusedSparseMatmul, fusedSparseMatmulSimd, sparseMatmulSimdApplies } from '../../src/kernels/js/fused-sparse-matmul.js';
import { fusedGatherUnits, fusedSparseList, sparseListIndex } from '../../src/kernels/js/fused-sparse-list.js';
import { randomSynapses, sparseIndex } from '../../src/neural/connections/sparse-topology.js';

const backends = fusedBackends();

type Activity = 'none' | 'one' | 'all' | 'some';

/** `[B, I]` inputs: spikes of one value, or values in [−3, 3], with NaN/±Inf sprinkled in when `special`. */
function inputs(rng: Rng, B: number, I: number, act: Activity, spike: boolean, special: boolean): Float32Array {
  const x = new Float32Array(B * I);
  const value = () => (special && rng.uniform() < 0.15 ? [NaN, Infinity, -Infinity][rng.int(3)]! : spike ? 1 : 6 * rng.uniform() - 3);
  for (let b = 0; b < B; b++) {
    if (act === 'one' && I > 0) x[b * I + rng.int(I)] = value();
    for (let i = 0; i < I; i++) if (act === 'all' || (act === 'some' && rng.uniform() < 0.3)) x[b * I + i] = value();
  }
  return x;
}

/** Σ_{i: x ≠ 0} x·w in float64, and Σ |x·w| (the scale of its rounding). */
function ref(x: Float32Array, xb: number, w: ArrayLike<number>, terms: [number, number][]): [number, number] {
  let s = 0;
  let m = 0;
  for (const [i, k] of terms) {
    const v = x[xb + i]!;
    if (v === 0) continue;
    s += v * w[k]!;
    m += Math.abs(v * w[k]!);
  }
  return [s, m];
}

/** `got` equals `want` within 1e-5 of the scale `m`; a non-finite `want` exactly (NaN as NaN). */
function near(got: number, want: number, m: number, what: string): void {
  const ok = Number.isFinite(want) ? Math.abs(got - want) <= 1e-5 * Math.max(1, m) : Object.is(got, want) || (Number.isNaN(want) && Number.isNaN(got));
  if (!ok) expect.fail(`${what}: got ${got}, want ${want}`);
}

const SIZES: [number, number][] = [[0, 4], [4, 0], [1, 1], [3, 5], [4, 4], [7, 12], [13, 8], [32, 12], [12, 32], [33, 7]];

describe.each(backends)('event-driven dense product on %s: randomized', (backend) => {
  it('fusedSparseMatmul and its SIMD form equal Σ_{x≠0} x·W (float64) and tf.matMul', async () => {
    await tf.setBackend(backend);
    const rng = new Rng(31);
    const before = tf.memory().numTensors;
    let simdRuns = 0;
    for (let rep = 0; rep < 3; rep++) {
      for (const B of [1, 2, 3, 7, 20, 0]) {
        for (const [I, O] of SIZES) {
          for (const act of ['none', 'one', 'all', 'some'] as Activity[]) {
            const spike = rng.uniform() < 0.5;
            const special = rng.uniform() < 0.3;
            const x = inputs(rng, B, I, act, spike, special);
            const w = Float32Array.from({ length: O * I }, () => 2 * rng.uniform() - 1);
            const xt = tf.tensor2d(x, [B, I]);
            const wt = tf.tensor2d(w, [O, I]);
            const outs: [string, tf.Tensor][] = [['js', fusedSparseMatmul(xt, wt)]];
            if (sparseMatmulSimdApplies(xt, wt)) {
              simdRuns++;
              outs.push(['simd', fusedSparseMatmulSimd(xt, wt)]);
              const wT = tf.transpose(wt);
              outs.push(['simd, caller Wᵀ', fusedSparseMatmulSimd(xt, wt, wT)]);
              wT.dispose();
            }
            const op = tf.matMul(xt, wt, false, true);
            const opv = (await op.data()) as Float32Array;
            const cols = (o: number) => Array.from({ length: I }, (_, i): [number, number] => [i, o * I + i]);
            for (const [name, out] of outs) {
              expect(out.shape).toEqual([B, O]);
              const y = (await out.data()) as Float32Array;
              for (let b = 0; b < B; b++)
                for (let o = 0; o < O; o++) {
                  const [s, m] = ref(x, b * I, w, cols(o));
                  const what = `${name} B=${B} I=${I} O=${O} ${act} spike=${spike}: y[${b}, ${o}]`;
                  near(y[b * O + o]!, s, m, what);
                  // the op path: the same wherever the weights are finite (every term either way)
                  near(y[b * O + o]!, opv[b * O + o]!, m, `${what} vs tf.matMul`);
                }
              out.dispose();
            }
            tf.dispose([xt, wt, op]);
          }
        }
      }
    }
    if (backend === 'wasm') expect(simdRuns).toBeGreaterThan(50);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.each(backends)('event-driven synapse-list product on %s: randomized', (backend) => {
  it('fusedSparseList equals Σ_{x≠0} x·w_s (float64), fusedGatherUnits equals tf.gather', async () => {
    await tf.setBackend(backend);
    const rng = new Rng(32);
    const before = tf.memory().numTensors;
    for (const [nPre, nPost, p] of [[1, 1, 1], [5, 3, 0.5], [13, 7, 0.3], [8, 20, 0.2], [9, 9, 0]] as [number, number, number][]) {
      const list = randomSynapses(nPre, nPost, p, rng, { self: true });
      const index = sparseListIndex(list, sparseIndex(list));
      const S = list.pre.length;
      for (const B of [1, 2, 3, 7, 20]) {
        for (const act of ['none', 'one', 'all', 'some'] as Activity[]) {
          const x = inputs(rng, B, nPre, act, rng.uniform() < 0.5, rng.uniform() < 0.3);
          const w = Float32Array.from({ length: S }, () => 2 * rng.uniform() - 1);
          const xt = tf.tensor2d(x, [B, nPre]);
          const wt = tf.tensor1d(w);
          const y = fusedSparseList(xt, wt, index);
          expect(y.shape).toEqual([B, nPost]);
          const yv = (await y.data()) as Float32Array;
          for (let b = 0; b < B; b++)
            for (let j = 0; j < nPost; j++) {
              const terms: [number, number][] = [];
              for (let s = 0; s < S; s++) if (list.post[s] === j) terms.push([list.pre[s]!, s]);
              const [s, m] = ref(x, b * nPre, w, terms);
              near(yv[b * nPost + j]!, s, m, `list ${nPre}→${nPost} B=${B} ${act}: y[${b}, ${j}]`);
            }
          // the per-synapse gather, from a fixed list and from an int32 tensor
          const units = list.pre;
          const g1 = fusedGatherUnits(xt, units);
          const unitsT = tf.tensor1d(units, 'int32');
          const g2 = fusedGatherUnits(xt, unitsT);
          const op = tf.gather(xt, unitsT, 1);
          const want = (await op.data()) as Float32Array;
          for (const g of [g1, g2]) {
            expect(g.shape).toEqual([B, S]);
            const got = (await g.data()) as Float32Array;
            for (let k = 0; k < want.length; k++) if (!Object.is(got[k], want[k])) expect.fail(`gather ${nPre}→${nPost} B=${B}: element ${k}: got ${got[k]}, want ${want[k]}`);
          }
          tf.dispose([xt, wt, y, g1, g2, unitsT, op]);
        }
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
