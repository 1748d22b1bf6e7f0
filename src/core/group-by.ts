/**
 * Grouping of items by an integer key with a stable counting sort (the CSR/CSC index lists of the
 * sparse connections and event-driven kernels). Internal: not exported by the package.
 * @module
 */

/** Result of {@link groupByUnit}. */
export interface UnitGroups {
  /** Row pointers, length `units + 1`: unit u's items are `order[start[u]] … order[start[u + 1] − 1]`. */
  start: Int32Array;
  /** The item ids grouped by unit, ascending within each unit (length `n`). */
  order: Int32Array;
}

/**
 * Groups the items 0 … n−1 by their unit `unit[s]` with a stable counting sort: `start[u + 1]` is
 * the number of items with unit ≤ u (prefix sums of the counts), and `order` lists each unit's item
 * ids in ascending order. Integer arithmetic only (Int32Array). The caller has checked that every
 * `unit[s]` (s < n) is an integer in [0, units).
 * @param unit the unit of each item (at least `n` entries)
 * @param units number of units
 * @param n number of items (default `unit.length`)
 */
export function groupByUnit(unit: ArrayLike<number>, units: number, n: number = unit.length): UnitGroups {
  const start = new Int32Array(units + 1);
  for (let s = 0; s < n; s++) start[unit[s]! + 1]!++;
  for (let u = 0; u < units; u++) start[u + 1]! += start[u]!;
  const fill = start.slice(0, units);
  const order = new Int32Array(n);
  for (let s = 0; s < n; s++) order[fill[unit[s]!]!++] = s;
  return { start, order };
}
