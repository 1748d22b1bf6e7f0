// Shared helpers for the connection tests: seeded data and plain-JS references.
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';

/** Flat values of a tensor (one download). */
export const vals = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** Random 0/1 array of length n. */
export function bits(rng: Rng, n: number, p = 0.5): number[] {
  return Array.from({ length: n }, () => (rng.uniform() < p ? 1 : 0));
}

/** Random uniform array in [lo, hi). */
export function uniform(rng: Rng, n: number, lo = -1, hi = 1): number[] {
  return Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
}

/** Asserts |got − want| ≤ abs + rel·|want| elementwise, naming the first mismatch. */
export function expectAllClose(got: ArrayLike<number>, want: ArrayLike<number>, rel = 1e-5, abs = 1e-5): void {
  if (got.length !== want.length) throw new Error(`length ${got.length} != ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= abs + rel * Math.abs(want[i]!))) throw new Error(`index ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

/** y[b, j] = Σ_i W[j, i]·x[b, i] + bias[j] (float64). */
export function denseRef(x: number[], W: number[], bias: number[] | null, B: number, I: number, O: number): number[] {
  const y: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < O; j++) {
      let s = bias ? bias[j]! : 0;
      for (let i = 0; i < I; i++) s += W[j * I + i]! * x[b * I + i]!;
      y.push(s);
    }
  }
  return y;
}
