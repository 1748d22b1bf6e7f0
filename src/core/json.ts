/**
 * Comparing JSON-like data whatever the order of its keys (saved settings and extras, sweep plans).
 * @module
 */

/** True for a non-null object that is not an array (a record of entries by name). */
export function isRecord(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/**
 * `JSON.stringify(x)` with the keys of every object sorted, so that equal data give equal text
 * whatever the order their keys were set in. Otherwise as `JSON.stringify`: compact, an object's
 * `undefined` entries left out, NaN and ±Infinity written `null`; `undefined` for `x` undefined.
 */
export function canonicalJson(x: unknown): string | undefined {
  return JSON.stringify(x, (_k, v: unknown) => (isRecord(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}
