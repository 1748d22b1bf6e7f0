/**
 * Weight initialisers: functions from a shape to a new float32 tensor. Random ones draw from a
 * seeded {@link Rng}, so the same seed gives the same weights on every backend.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkFinite, checkNonNegative, numel } from '../../core/errors.js';
import { Rng } from '../../core/random.js';

/** Creates the initial value of a parameter of the given shape (a new tensor owned by the caller). */
export type Initializer = (shape: readonly number[]) => tf.Tensor;

/** Every entry equals `value`. */
export function constantInit(value: number): Initializer {
  checkFinite('value', value);
  return (shape) => tf.fill([...shape], value, 'float32');
}

/** Independent uniform entries in `[lo, hi)` drawn from `rng`. */
export function uniformInit(rng: Rng, lo = 0, hi = 1): Initializer {
  checkRng(rng);
  checkFinite('lo', lo);
  checkFinite('hi', hi);
  if (!(hi > lo)) throw new CinderArgumentError('hi', hi, `a number > lo (${lo})`);
  return (shape) => tf.tensor(rng.uniformArray(numel(shape), lo, hi), [...shape], 'float32');
}

/** Independent normal entries with the given mean and standard deviation drawn from `rng`. */
export function normalInit(rng: Rng, mean = 0, std = 1): Initializer {
  checkRng(rng);
  checkFinite('mean', mean);
  checkNonNegative('std', std);
  return (shape) => tf.tensor(rng.normalArray(numel(shape), mean, std), [...shape], 'float32');
}

function checkRng(rng: Rng): void {
  if (!(rng instanceof Rng)) throw new CinderArgumentError('rng', rng, 'an Rng (src/core/random.ts)');
}
