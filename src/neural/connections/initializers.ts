/**
 * Weight initialisers: functions from a shape to a new float32 tensor. Random ones draw from a
 * seeded {@link Rng}, so the same seed gives the same weights on every backend.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkFinite, checkNonNegative, numel } from '../../core/errors.js';
import { Rng } from '../../core/random.js';

/** The largest finite float32: a larger value would be stored as ±Infinity. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** Checks that `value` is finite and that float32 holds it (|value| ≤ the largest float32). */
function checkFloat32(param: string, value: number): number {
  checkFinite(param, value);
  if (Math.abs(value) > FLOAT32_MAX) throw new CinderArgumentError(param, value, `a number of magnitude <= ${FLOAT32_MAX} (the largest float32; it would be stored as ±Infinity)`);
  return value;
}

/** Creates the initial value of a parameter of the given shape (a new tensor owned by the caller). */
export type Initializer = (shape: readonly number[]) => tf.Tensor;

/** Every entry equals `value` (rounded to float32; |value| must not exceed the largest float32, 3.4028234663852886e38). */
export function constantInit(value: number): Initializer {
  checkFloat32('value', value);
  return (shape) => tf.fill([...shape], value, 'float32');
}

/** Independent uniform entries in `[lo, hi)` drawn from `rng` (float32; `lo`, `hi` within the float32 range). */
export function uniformInit(rng: Rng, lo = 0, hi = 1): Initializer {
  checkRng(rng);
  checkFloat32('lo', lo);
  checkFloat32('hi', hi);
  if (!(hi > lo)) throw new CinderArgumentError('hi', hi, `a number > lo (${lo})`);
  return (shape) => tf.tensor(rng.uniformArray(numel(shape), lo, hi), [...shape], 'float32');
}

/** Independent normal entries with the given mean and standard deviation drawn from `rng` (float32; `mean`, `std` within the float32 range). */
export function normalInit(rng: Rng, mean = 0, std = 1): Initializer {
  checkRng(rng);
  checkFloat32('mean', mean);
  checkNonNegative('std', std);
  checkFloat32('std', std);
  return (shape) => tf.tensor(rng.normalArray(numel(shape), mean, std), [...shape], 'float32');
}

function checkRng(rng: Rng): void {
  if (!(rng instanceof Rng)) throw new CinderArgumentError('rng', rng, 'an Rng (src/core/random.ts)');
}
