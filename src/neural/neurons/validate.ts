/**
 * Parameter checks shared by the neuron models (in addition to the generic ones in
 * `core/errors.ts`). Every check throws a {@link CinderArgumentError} naming the parameter.
 * @module
 */
import { CinderArgumentError, FLOAT32_MAX, FLOAT32_MIN_NORMAL, checkFinite, checkPositive } from '../../core/errors.js';
import type { Receptor } from '../types.js';

// checkDt and the float32 limits live in core/errors.ts (used by every entry point that takes a step
// length); they stay importable from here.
export { FLOAT32_MAX, FLOAT32_MIN_NORMAL, checkDt } from '../../core/errors.js';

/**
 * Throws unless `value` is a finite number that float32 can hold (|value| <= 3.4028234663852886e38):
 * a larger one would be uploaded as ±Infinity (a voltage of −Infinity turns into NaN at the first
 * step, a threshold of +Infinity is never reached).
 */
export function checkFloat32(param: string, value: number): number {
  checkFinite(param, value);
  if (Math.abs(value) > FLOAT32_MAX) throw new CinderArgumentError(param, value, `a number of magnitude <= ${FLOAT32_MAX} (the largest float32)`);
  return value;
}

/**
 * Throws unless a constant uploaded to float32 that is derived from the parameter `param` (of value
 * `value`), `formula` = `derived`, lies within float32 range (otherwise it would be ±Infinity and
 * the state NaN from the first step). Skipped while `dt` is not a valid step ({@link checkDt} names it).
 */
export function checkDerived(dt: number, param: string, value: unknown, formula: string, derived: number): void {
  const f = Math.fround(dt);
  if (!(f >= FLOAT32_MIN_NORMAL && f <= FLOAT32_MAX)) return;
  if (!(Math.abs(derived) <= FLOAT32_MAX)) {
    throw new CinderArgumentError(param, value, `a value for which ${formula} = ${derived} lies within float32 range (|x| <= ${FLOAT32_MAX})`);
  }
}

/**
 * Throws unless `a` (named `nameA`) and `b` (named `nameB`) are both finite float32-range numbers
 * ({@link checkFloat32}) and `a < b` also after rounding both to float32 (the state is float32: a
 * resting voltage that rounds onto the threshold would fire without input).
 */
export function checkBelow(nameA: string, a: number, nameB: string, b: number): number {
  checkFloat32(nameA, a);
  checkFloat32(nameB, b);
  if (!(a < b)) throw new CinderArgumentError(nameA, a, `a number < ${nameB} (${b})`);
  if (!(Math.fround(a) < Math.fround(b))) throw new CinderArgumentError(nameA, a, `a number < ${nameB} (${b}) after rounding both to float32 (both round to ${Math.fround(b)})`);
  return a;
}

/** Throws unless `a` (named `nameA`) and `b` (named `nameB`) are both finite float32-range numbers and `a <= b`. */
export function checkAtMost(nameA: string, a: number, nameB: string, b: number): number {
  checkFloat32(nameA, a);
  checkFloat32(nameB, b);
  if (!(a <= b)) throw new CinderArgumentError(nameA, a, `a number <= ${nameB} (${b})`);
  return a;
}

/**
 * Reads a per-adaptation-term parameter: a number (one term) or a non-empty array of numbers.
 * With `length` given, a single number is repeated to that length and an array must match it.
 * `positive` requires every entry to be > 0 (time constants, rates); otherwise every entry must
 * be a finite number within float32 range (the values are uploaded as they are).
 */
export function checkTerms(param: string, value: number | readonly number[], positive: boolean, length?: number): number[] {
  const arr = typeof value === 'number' ? (length === undefined ? [value] : new Array<number>(length).fill(value)) : value;
  if (!Array.isArray(arr) || arr.length === 0) throw new CinderArgumentError(param, value, 'a number or a non-empty array of numbers');
  if (length !== undefined && arr.length !== length) {
    throw new CinderArgumentError(param, value, `a number or an array of ${length} numbers (one per adaptation term)`);
  }
  arr.forEach((x, i) => (positive ? checkPositive(`${param}[${i}]`, x) : checkFloat32(`${param}[${i}]`, x)));
  return [...arr];
}

/** Checks a receptor list: each entry needs a non-empty unique name and a finite reversal potential. */
export function checkReceptors(receptors: readonly Receptor[]): Receptor[] {
  if (!Array.isArray(receptors)) throw new CinderArgumentError('receptors', receptors, 'an array of {name, reversal}');
  const seen = new Set<string>();
  return receptors.map((r, i) => {
    if (typeof r !== 'object' || r === null || typeof r.name !== 'string' || r.name === '' || seen.has(r.name)) {
      throw new CinderArgumentError(`receptors[${i}].name`, r?.name, 'a non-empty name not used by another receptor');
    }
    seen.add(r.name);
    checkFloat32(`receptors[${i}].reversal`, r.reversal);
    return { name: r.name, reversal: r.reversal };
  });
}
