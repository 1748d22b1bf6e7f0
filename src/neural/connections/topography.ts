/**
 * Connectivity masks for {@link MaskedLinear}: from edge lists, and topographic neighbourhoods on
 * 2-D grids (fixed radius, or Gaussian connection probability drawn from an {@link Rng}).
 *
 * Grid positions: unit `(r, c)` of a `[rows, cols]` grid is unit `r·cols + c` (row-major, as in a
 * flattened `[rows, cols]` tensor). When the two grids differ in size, postsynaptic positions are
 * mapped into presynaptic grid coordinates by scaling cell centres, `r_in = (r + ½)·rows_in/rows_out − ½`,
 * so distances are measured in presynaptic grid units.
 * @module
 */
import { CinderArgumentError, checkElements, checkInteger, checkNonNegative, checkPositive, checkRange, checkShape, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { Rng } from '../../core/random.js';

/** A dense boolean connectivity matrix `[rows = O, cols = I]` (1 = edge j ← i present). */
export interface ConnectivityMask {
  /** Number of postsynaptic units O. */
  readonly rows: number;
  /** Number of presynaptic units I. */
  readonly cols: number;
  /** Row-major 0/1 entries, length rows·cols. */
  readonly data: Uint8Array;
}

/** Builds a mask from `[post, pre]` index pairs (flat indices into outShape / inShape). */
export function edgeListMask(outCount: number, inCount: number, edges: readonly (readonly [number, number])[]): ConnectivityMask {
  checkInteger('outCount', outCount, 1);
  checkInteger('inCount', inCount, 1);
  checkElements('outCount', outCount * inCount, `a mask [${outCount}, ${inCount}] (postsynaptic × presynaptic units)`);
  if (!Array.isArray(edges)) throw new CinderArgumentError('edges', edges, 'an array of [post, pre] pairs');
  const data = new Uint8Array(outCount * inCount);
  for (const e of edges) {
    if (!Array.isArray(e) || e.length !== 2) throw new CinderArgumentError('edges', e, 'a [post, pre] pair');
    const [j, i] = e;
    if (!Number.isInteger(j) || j < 0 || j >= outCount) throw new CinderArgumentError('edges (post)', j, `an integer in [0, ${outCount - 1}]`);
    if (!Number.isInteger(i) || i < 0 || i >= inCount) throw new CinderArgumentError('edges (pre)', i, `an integer in [0, ${inCount - 1}]`);
    data[j * inCount + i] = 1;
  }
  return { rows: outCount, cols: inCount, data };
}

/** The sizes of the two grids and of the mask `[O, I]` between them (validated). */
interface GridSizes {
  /** Presynaptic grid `[rows, cols]`. */
  inGrid: [number, number];
  /** Postsynaptic grid `[rows, cols]`. */
  outGrid: [number, number];
  /** O = outGrid rows × cols. */
  rows: number;
  /** I = inGrid rows × cols. */
  cols: number;
}

/**
 * Validates two 2-D grids and the size of the mask `[O, I]` between them (at most one tensor's
 * elements, as the mask becomes a `[O, I]` tensor), before anything is allocated or drawn.
 */
function checkGrids(inGrid: readonly number[], outGrid: readonly number[]): GridSizes {
  const i = checkShape('inGrid', inGrid);
  const o = checkShape('outGrid', outGrid);
  if (i.length !== 2) throw new CinderArgumentError('inGrid', inGrid, 'a 2-D grid [rows, cols]');
  if (o.length !== 2) throw new CinderArgumentError('outGrid', outGrid, 'a 2-D grid [rows, cols]');
  const rows = o[0]! * o[1]!;
  const cols = i[0]! * i[1]!;
  checkElements('outGrid', rows * cols, `a mask [${rows}, ${cols}] (postsynaptic × presynaptic units)`);
  return { inGrid: [i[0]!, i[1]!], outGrid: [o[0]!, o[1]!], rows, cols };
}

/** Calls `visit(j, i, d²)` with the squared distance (presynaptic grid units) between post unit j and pre unit i, j and i row-major. */
function gridDistances(g: GridSizes, visit: (j: number, i: number, d2: number) => void): void {
  const [hi, wi] = g.inGrid;
  const [ho, wo] = g.outGrid;
  for (let r = 0; r < ho; r++) {
    const pr = ((r + 0.5) * hi) / ho - 0.5;
    for (let c = 0; c < wo; c++) {
      const pc = ((c + 0.5) * wi) / wo - 0.5;
      const j = r * wo + c;
      for (let ri = 0; ri < hi; ri++) {
        for (let ci = 0; ci < wi; ci++) visit(j, ri * wi + ci, (ri - pr) ** 2 + (ci - pc) ** 2);
      }
    }
  }
}

/** Options of {@link radiusMask}. */
export interface RadiusMaskOptions {
  /** Whether a unit connects to the unit at the same position (distance 0; default true). */
  self?: boolean;
}

/** The keys of {@link RadiusMaskOptions}. */
export const RADIUS_MASK_OPTION_KEYS = optionKeys<RadiusMaskOptions>()(['self']);

/** Post unit j receives from every pre unit within Euclidean distance `radius` (grid units). */
export function radiusMask(inGrid: readonly number[], outGrid: readonly number[], radius: number, options: RadiusMaskOptions = {}): ConnectivityMask {
  checkNonNegative('radius', radius);
  checkOptionKeys('options', options, RADIUS_MASK_OPTION_KEYS);
  const g = checkGrids(inGrid, outGrid);
  const { rows, cols } = g;
  const data = new Uint8Array(rows * cols);
  const r2 = radius * radius + 1e-9;
  const self = options.self ?? true;
  gridDistances(g, (j, i, d2) => {
    if (d2 <= r2 && (self || d2 > 1e-12)) data[j * cols + i] = 1;
  });
  return { rows, cols, data };
}

/** Options of {@link gaussianMask}. */
export interface GaussianMaskOptions {
  /** Connection probability at distance 0 (default 1). */
  peak?: number;
  /** No connection beyond this distance (default: none). */
  cutoff?: number;
  /** Whether distance-0 edges are allowed (default true). */
  self?: boolean;
}

/** The keys of {@link GaussianMaskOptions}. */
export const GAUSSIAN_MASK_OPTION_KEYS = optionKeys<GaussianMaskOptions>()(['peak', 'cutoff', 'self']);

/**
 * Each edge j ← i exists independently with probability `peak·exp(−d²/(2σ²))`, d = grid distance;
 * draws come from `rng` in row-major edge order, so the same seed gives the same graph.
 */
export function gaussianMask(inGrid: readonly number[], outGrid: readonly number[], sigma: number, rng: Rng, options: GaussianMaskOptions = {}): ConnectivityMask {
  checkPositive('sigma', sigma);
  if (!(rng instanceof Rng)) throw new CinderArgumentError('rng', rng, 'an Rng');
  checkOptionKeys('options', options, GAUSSIAN_MASK_OPTION_KEYS);
  const peak = checkRange('peak', options.peak ?? 1, 0, 1);
  const cutoff = options.cutoff === undefined ? Infinity : checkNonNegative('cutoff', options.cutoff);
  const self = options.self ?? true;
  const g = checkGrids(inGrid, outGrid);
  const { rows, cols } = g;
  const data = new Uint8Array(rows * cols);
  gridDistances(g, (j, i, d2) => {
    const u = rng.uniform();
    if (d2 > cutoff * cutoff + 1e-9 || (!self && d2 <= 1e-12)) return;
    if (u < peak * Math.exp(-d2 / (2 * sigma * sigma))) data[j * cols + i] = 1;
  });
  return { rows, cols, data };
}
