/**
 * Parameter checks shared by the neuron models (in addition to the generic ones in
 * `core/errors.ts`). Every check throws a {@link CinderArgumentError} naming the parameter.
 * @module
 */
import { CinderArgumentError, checkFinite, checkPositive } from '../../core/errors.js';
import type { Receptor } from '../types.js';

/** Throws unless `a` (named `nameA`) and `b` (named `nameB`) are both finite and `a < b`. */
export function checkBelow(nameA: string, a: number, nameB: string, b: number): number {
  checkFinite(nameA, a);
  checkFinite(nameB, b);
  if (!(a < b)) throw new CinderArgumentError(nameA, a, `a number < ${nameB} (${b})`);
  return a;
}

/** Throws unless `a` (named `nameA`) and `b` (named `nameB`) are both finite and `a <= b`. */
export function checkAtMost(nameA: string, a: number, nameB: string, b: number): number {
  checkFinite(nameA, a);
  checkFinite(nameB, b);
  if (!(a <= b)) throw new CinderArgumentError(nameA, a, `a number <= ${nameB} (${b})`);
  return a;
}

/**
 * Reads a per-adaptation-term parameter: a number (one term) or a non-empty array of numbers.
 * With `length` given, a single number is repeated to that length and an array must match it.
 * `positive` additionally requires every entry to be > 0 (time constants, rates).
 */
export function checkTerms(param: string, value: number | readonly number[], positive: boolean, length?: number): number[] {
  const arr = typeof value === 'number' ? (length === undefined ? [value] : new Array<number>(length).fill(value)) : value;
  if (!Array.isArray(arr) || arr.length === 0) throw new CinderArgumentError(param, value, 'a number or a non-empty array of numbers');
  if (length !== undefined && arr.length !== length) {
    throw new CinderArgumentError(param, value, `a number or an array of ${length} numbers (one per adaptation term)`);
  }
  arr.forEach((x, i) => (positive ? checkPositive(`${param}[${i}]`, x) : checkFinite(`${param}[${i}]`, x)));
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
    checkFinite(`receptors[${i}].reversal`, r.reversal);
    return { name: r.name, reversal: r.reversal };
  });
}
