// Test helper: the arrays the npz writer tests save (every dtype, a scalar, an empty array, a
// subnormal, −∞ and the int32 extremes), made anew per call.
import type { NpyEntry } from '../../src/io/npy.js';
import { python } from './python.js';

/** Six entries: float32 [3, 4], float64 [3], int32 [2, 2], uint8 [3, 1], a float32 scalar, an empty float32 [0, 3]. */
export const sampleNpzArrays = (): Record<string, NpyEntry> => ({
  w: { data: Float32Array.from({ length: 12 }, (_, k) => k * 0.25 - 1), shape: [3, 4] },
  d: { data: Float64Array.of(Math.PI, -1e-310, -Infinity), shape: [3] },
  i: { data: Int32Array.of(-2147483648, 0, 2147483647, 7), shape: [2, 2] },
  u: { data: Uint8Array.of(0, 1, 255), shape: [3, 1] },
  s: { data: Float32Array.of(2.5), shape: [] },
  e: { data: new Float32Array(0), shape: [0, 3] },
});

/**
 * What numpy makes of an npz of {@link sampleNpzArrays} at `path` (python3's zipfile CRC check,
 * then every entry's dtype, shape and values compared with numpy's own construction of them):
 * `"['d', 'e', 'i', 's', 'u', 'w'] True"` when all agree.
 */
export function numpyReadsSampleNpz(path: string): string {
  return python(
    `import sys, zipfile, numpy as np
z = np.load(sys.argv[1])
assert zipfile.ZipFile(sys.argv[1]).testzip() is None
ok = [np.array_equal(z['w'], (np.arange(12, dtype=np.float32) * 0.25 - 1).reshape(3, 4)) and z['w'].dtype == np.float32,
      z['d'].dtype == np.float64 and z['d'][0] == np.pi and z['d'][1] == -1e-310 and z['d'][2] == -np.inf,
      np.array_equal(z['i'], np.array([[-2**31, 0], [2**31 - 1, 7]], dtype=np.int32)),
      np.array_equal(z['u'], np.array([[0], [1], [255]], dtype=np.uint8)),
      z['s'].shape == () and z['s'] == 2.5, z['e'].shape == (0, 3)]
print(sorted(z.files), all(ok))`,
    path,
  );
}
