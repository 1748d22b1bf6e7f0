// Test helper: the arrays the npz writer tests save (every dtype, a scalar, an empty array, a
// subnormal, −∞ and the int32 extremes), made anew per call.
import type { NpyEntry } from '../../src/io/npy.js';

/** Six entries: float32 [3, 4], float64 [3], int32 [2, 2], uint8 [3, 1], a float32 scalar, an empty float32 [0, 3]. */
export const sampleNpzArrays = (): Record<string, NpyEntry> => ({
  w: { data: Float32Array.from({ length: 12 }, (_, k) => k * 0.25 - 1), shape: [3, 4] },
  d: { data: Float64Array.of(Math.PI, -1e-310, -Infinity), shape: [3] },
  i: { data: Int32Array.of(-2147483648, 0, 2147483647, 7), shape: [2, 2] },
  u: { data: Uint8Array.of(0, 1, 255), shape: [3, 1] },
  s: { data: Float32Array.of(2.5), shape: [] },
  e: { data: new Float32Array(0), shape: [0, 3] },
});
