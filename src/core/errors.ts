/**
 * Argument validation: every check throws a {@link CinderArgumentError} that names the
 * parameter, the offending value and what was expected.
 * @module
 */
import type { tf } from './tf.js';

/** Error thrown for invalid user input. `param`, `value` and `expected` are also kept as fields. */
export class CinderArgumentError extends Error {
  /**
   * @param param the parameter's name
   * @param value the value it was given
   * @param expected what was expected instead
   */
  constructor(
    /** The parameter's name. */
    readonly param: string,
    /** The value it was given. */
    readonly value: unknown,
    /** What was expected instead. */
    readonly expected: string,
  ) {
    super(`invalid ${param}: got ${describe(value)}, expected ${expected}`);
    this.name = 'CinderArgumentError';
  }
}

/** Short printable description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) {
    const s = JSON.stringify(value);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  }
  if (typeof value === 'object' && value !== null && 'shape' in value && 'dtype' in value) {
    const t = value as { shape: number[]; dtype: string };
    return `tensor of shape [${t.shape.join(', ')}] (${t.dtype})`;
  }
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    const keys = Object.keys(value as object);
    const shown = keys.slice(0, 6).join(', ') + (keys.length > 6 ? ', …' : '');
    return name && name !== 'Object' ? `a ${name}` : `an object {${shown}}`;
  }
  return String(value);
}

/** Throws unless `value` is a finite number. */
export function checkFinite(param: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new CinderArgumentError(param, value, 'a finite number');
  return value;
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(param: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new CinderArgumentError(param, value, 'a finite number > 0');
  return value;
}

/** Throws unless `value` is a finite number >= 0. */
export function checkNonNegative(param: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new CinderArgumentError(param, value, 'a finite number >= 0');
  return value;
}

/** The largest finite float32, 3.4028234663852886e38. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** The smallest normal float32, 2^-126 = 1.1754943508222875e-38. */
export const FLOAT32_MIN_NORMAL = 2 ** -126;

/**
 * Throws unless `value` is a step length whose float32 value (`Math.fround(value)`, what is
 * uploaded) is a normal finite float32: 2^-126 <= fround(dt) <= 3.4028234663852886e38. A smaller dt
 * is 0 or a subnormal in float32 (constants such as dt/τ or charge/dt then lose their precision or
 * become 0 / ±Infinity), a larger one is +Infinity. Returns `value`.
 */
export function checkDt(value: number, param = 'dt'): number {
  checkPositive(param, value);
  if (!isNormalDt(value)) {
    throw new CinderArgumentError(param, value, `a number > 0 that float32 holds as a normal number (${FLOAT32_MIN_NORMAL} <= ${param} <= ${FLOAT32_MAX})`);
  }
  return value;
}

/** Whether `dt` passes {@link checkDt}. */
function isNormalDt(dt: unknown): boolean {
  if (typeof dt !== 'number') return false;
  const f = Math.fround(dt);
  return f >= FLOAT32_MIN_NORMAL && f <= FLOAT32_MAX;
}

/** Throws unless `value` is an integer >= `min` (default 0). */
export function checkInteger(param: string, value: number, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new CinderArgumentError(param, value, `an integer >= ${min}`);
  return value;
}

/** Throws unless `value` lies in [lo, hi]. */
export function checkRange(param: string, value: number, lo: number, hi: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi)
    throw new CinderArgumentError(param, value, `a number in [${lo}, ${hi}]`);
  return value;
}

/** Throws unless `value` is one of `allowed`. */
export function checkOneOf<T extends string>(param: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new CinderArgumentError(param, value, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  return value as T;
}

/**
 * Throws unless every own enumerable key of `options` is one of `known` (the option names of the
 * constructor or factory): a misspelled option would otherwise be ignored and its default used.
 * The message names the key, lists the known ones and, when one known key lies within edit
 * distance 2 (case-insensitive Levenshtein: insertions, deletions, substitutions; and less than half
 * the longer name's length), suggests the closest:
 * `invalid options key: got "resistence", expected one of "batchSize", …; did you mean "resistance"?`.
 * `options` that is not an object (null, undefined, a number) is left to the caller's other checks.
 * Creates no tensors; call it before anything is built.
 * @param param the options parameter's name (the error's `param` is `"<param> key"`)
 * @param options the options object
 * @param known the accepted keys
 */
export function checkOptionKeys(param: string, options: unknown, known: readonly string[]): void {
  if (options === null || typeof options !== 'object') return;
  for (const k of Object.keys(options)) {
    if (known.includes(k)) continue;
    const list = [...new Set(known)].map((a) => JSON.stringify(a)).join(', ');
    const near = closestKey(k, known);
    throw new CinderArgumentError(`${param} key`, k, known.length === 0 ? 'no options' : `one of ${list}${near === null ? '' : `; did you mean ${JSON.stringify(near)}?`}`);
  }
}

/**
 * The key of `known` nearest to `key` in case-insensitive Levenshtein distance d (first on ties) when
 * d <= 2 and d is less than half the longer name's length (so "zz" suggests nothing), else null.
 */
function closestKey(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const c of known) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase(), bestD);
    if (d < bestD && 2 * d < Math.max(key.length, c.length)) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/** Levenshtein distance of `a` and `b`, or `cap` when it is at least `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return Math.min(prev[b.length], cap);
}

/**
 * Compile-time completeness check of an option key list: `optionKeys<LIFOptions>()([...])` returns
 * its argument (a readonly tuple of key names) and fails to type-check when a key of the options
 * type `T` is missing from the list, or when the list names a key `T` does not have. Use it to
 * declare the list {@link checkOptionKeys} checks against, next to the options interface, so the
 * two cannot drift.
 */
export function optionKeys<T extends object>(): <const K extends readonly (keyof T & string)[]>(keys: K & MissingKeys<T, K>) => K {
  return (keys) => keys;
}

/**
 * `unknown` when the tuple `K` lists every key of `T`; otherwise an object type whose required
 * `missingOptionKeys` property names the missing keys (so the compiler error shows them).
 */
export type MissingKeys<T, K extends readonly PropertyKey[]> = [Exclude<keyof T, K[number]>] extends [never]
  ? unknown
  : {
      /** The keys of `T` the list misses (a compile-time marker: no value has it). */
      readonly missingOptionKeys: Exclude<keyof T, K[number]>;
    };

/**
 * Largest number of elements Cinder allocates in one tensor or buffer: 2^28 float32 values (1 GiB).
 * Larger requests fail with a message instead of a `RangeError` or an out-of-memory abort.
 */
export const MAX_ELEMENTS = 2 ** 28;

/**
 * Throws unless `count` elements (of `what`, e.g. "weight [O, I]") stay within {@link MAX_ELEMENTS}.
 * @returns count
 */
export function checkElements(param: string, count: number, what: string): number {
  if (!(count <= MAX_ELEMENTS)) {
    throw new CinderArgumentError(param, count === Infinity || Number.isNaN(count) ? count : `${count} elements for ${what}`, `at most ${MAX_ELEMENTS} (2^28) elements for one tensor`);
  }
  return count;
}

/** Throws unless `shape` is a non-empty array of positive integers with at most {@link MAX_ELEMENTS} elements in all. */
export function checkShape(param: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d <= 0))
    throw new CinderArgumentError(param, shape, 'a non-empty array of positive integers');
  checkElements(param, numel(shape), `shape [${shape.join(', ')}]`);
  return [...shape];
}

/** Throws unless the tensor `t` has exactly `shape` (use -1 for "any size"). */
export function checkTensorShape(param: string, t: tf.Tensor, shape: readonly number[]): void {
  const ok = t.shape.length === shape.length && shape.every((d, i) => d === -1 || d === t.shape[i]);
  if (!ok) throw new CinderArgumentError(param, t, `shape [${shape.map((d) => (d === -1 ? '*' : d)).join(', ')}]`);
}

/** Product of the entries of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A module (or one of its tensors) was used after `dispose()`. */
export class UseAfterDisposeError extends Error {
  /**
   * @param module the module's class name (and path when known)
   * @param tensor the freed tensor's label (`state "voltage"`)
   */
  constructor(
    readonly module: string,
    readonly tensor: string,
  ) {
    super(`${module} was used after dispose() (its ${tensor} is freed); create a new ${module}`);
    this.name = 'UseAfterDisposeError';
  }
}

/** Receives Cinder's warnings (default: `console.warn` with a `cinder:` prefix). */
export type WarningHandler = (message: string) => void;

const defaultWarningHandler: WarningHandler = (message) => console.warn(`cinder: ${message}`);
let warningHandler: WarningHandler = defaultWarningHandler;

/**
 * Replaces the warning handler (`null` restores the default) and returns the previous one. Tests
 * and applications use it to collect or silence warnings.
 */
export function setWarningHandler(handler: WarningHandler | null): WarningHandler {
  const prev = warningHandler;
  warningHandler = handler ?? defaultWarningHandler;
  return prev;
}

/** Emits a warning through the current handler. */
export function warn(message: string): void {
  warningHandler(message);
}
