/**
 * Min/max decimation of long lines: a trace of 10^6 points becomes at most `maxPoints` points
 * that keep every extreme (every spike of a voltage trace, every dip of a loss curve), so a figure
 * of a long run stays small and fast without hiding anything a reader would look for.
 * @module
 */
import { CinderArgumentError } from '../core/errors.js';

/** Default `maxPoints` of the line figures: lines longer than this are decimated. */
export const DEFAULT_MAX_POINTS = 8000;

/**
 * The smallest accepted `maxPoints`: the first and last points plus one bucket's minimum and
 * maximum, and a gap after each of the three finite ones of them (see {@link minMaxEnvelope}).
 */
export const MIN_MAX_POINTS = 7;

/** The points kept by {@link minMaxEnvelope}. */
export interface MinMaxEnvelope {
  /** Indices of the kept points, strictly increasing (all indices when nothing was dropped). */
  indices: Uint32Array;
  /** Number of buckets; 0 when the line has at most `maxPoints` points and is kept whole. */
  buckets: number;
}

/**
 * Throws unless `value` is a valid `maxPoints`: an integer >= {@link MIN_MAX_POINTS}, or
 * `Infinity` (keep every point). Returns `value`.
 */
export function checkMaxPoints(value: number, param = 'maxPoints'): number {
  if (value === Infinity) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_MAX_POINTS) {
    throw new CinderArgumentError(param, value, `an integer >= ${MIN_MAX_POINTS}, or Infinity (keep every point)`);
  }
  return value;
}

/**
 * The points of a line `y` (index order = x order) that a min/max envelope keeps.
 *
 * Rule, for `n = y.length`: when `n <= maxPoints` every index is kept (`buckets` = 0). Otherwise the
 * indices are cut into `B` buckets of consecutive points, bucket b = `[⌊b·n/B⌋, ⌊(b+1)·n/B⌋)`
 * (by index, so uneven x spacing is fine), and kept are: index 0 and index n − 1; per bucket, the
 * index of its smallest and of its largest finite value (the first of equal values, so a constant
 * bucket keeps one point); and after each of these kept points whose value is finite, the first
 * index holding a non-finite value (NaN, ±Infinity) before the next of them, if there is one. All
 * in increasing index order, each once.
 *
 * Non-finite values are gaps, not extremes: the HTML writer turns them into `null` and plotly
 * breaks the line there, so two kept finite points with a gap between them in the line have a gap
 * between them in the envelope too (the line is never drawn across missing data), and a line
 * without gaps keeps none. With no non-finite value `B = ⌊(maxPoints − 2)/2⌋` (at most 2B + 2
 * points); else `B = ⌊(maxPoints − 2)/3⌋`, or `⌊(maxPoints − 3)/4⌋` when that keeps more than
 * `maxPoints` points (more gaps than buckets to keep; at most 4B + 3 points: each finite point
 * followed by a gap), so at most `maxPoints` points are kept either way (`maxPoints` = 8000: 3999
 * buckets, or 2666, or 1999).
 *
 * Values are compared as float64 (a Float32Array's values are exact there), with `<` and `>`:
 * `-0` and `0` are equal. Nothing is rounded: a kept point has the input's value.
 * @throws CinderArgumentError for a bad `maxPoints` (see {@link checkMaxPoints})
 */
export function minMaxEnvelope(y: ArrayLike<number>, maxPoints: number = DEFAULT_MAX_POINTS): MinMaxEnvelope {
  checkMaxPoints(maxPoints);
  const n = y.length;
  if (n <= maxPoints) return { indices: Uint32Array.from({ length: n }, (_, i) => i), buckets: 0 };
  let gaps = false;
  for (let i = 0; i < n && !gaps; i++) gaps = !Number.isFinite(y[i]!);
  if (!gaps) {
    const buckets = Math.floor((maxPoints - 2) / 2);
    return { indices: extremes(y, buckets), buckets };
  }
  const fine = Math.floor((maxPoints - 2) / 3);
  const indices = withGaps(y, extremes(y, fine));
  if (indices.length <= maxPoints) return { indices, buckets: fine };
  const coarse = Math.floor((maxPoints - 3) / 4);
  return { indices: withGaps(y, extremes(y, coarse)), buckets: coarse };
}

/** Index 0, per bucket the first index of its smallest and of its largest finite value, and n − 1, increasing, each once. */
function extremes(y: ArrayLike<number>, buckets: number): Uint32Array {
  const n = y.length;
  const out = new Uint32Array(2 + 2 * buckets);
  let m = 0;
  const keep = (i: number): void => {
    if (m === 0 || out[m - 1]! < i) out[m++] = i;
  };
  keep(0);
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets);
    let iMin = -1;
    let iMax = -1;
    for (let i = lo; i < hi; i++) {
      const v = y[i]!;
      if (!Number.isFinite(v)) continue;
      if (iMin < 0 || v < y[iMin]!) iMin = i;
      if (iMax < 0 || v > y[iMax]!) iMax = i;
    }
    if (iMin >= 0) {
      keep(Math.min(iMin, iMax));
      keep(Math.max(iMin, iMax));
    }
  }
  keep(n - 1);
  return out.slice(0, m);
}

/** `kept` plus, after each kept index with a finite value, the first non-finite index before the next kept index. */
function withGaps(y: ArrayLike<number>, kept: Uint32Array): Uint32Array {
  const out = new Uint32Array(2 * kept.length);
  let m = 0;
  for (let k = 0; k < kept.length; k++) {
    const a = kept[k]!;
    out[m++] = a;
    if (k + 1 === kept.length || !Number.isFinite(y[a]!)) continue;
    for (let i = a + 1; i < kept[k + 1]!; i++) {
      if (!Number.isFinite(y[i]!)) {
        out[m++] = i;
        break;
      }
    }
  }
  return out.slice(0, m);
}

/** A line after {@link decimateLine}. */
export interface DecimatedLine {
  /** x of the kept points (the input array itself when nothing was dropped). */
  x: ArrayLike<number>;
  /** y of the kept points (the input array itself when nothing was dropped). */
  y: ArrayLike<number>;
  /** Number of buckets of the envelope; 0 when the line was kept whole. */
  buckets: number;
}

/**
 * A line `(x, y)` reduced to its {@link minMaxEnvelope} (buckets by index; x is carried along, not
 * inspected). A line of at most `maxPoints` points comes back as the very same arrays.
 * @throws CinderArgumentError for a bad `maxPoints`, or when x and y differ in length
 */
export function decimateLine(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints: number = DEFAULT_MAX_POINTS): DecimatedLine {
  checkMaxPoints(maxPoints);
  if (x.length !== y.length) throw new CinderArgumentError('x', `${x.length} values`, `one per y value (${y.length})`);
  if (y.length <= maxPoints) return { x, y, buckets: 0 };
  const { indices, buckets } = minMaxEnvelope(y, maxPoints);
  return { x: Float64Array.from(indices, (i) => x[i]!), y: Float64Array.from(indices, (i) => y[i]!), buckets };
}

/** The legend suffix of a decimated line: ` (min/max of B buckets of n points)`. */
export function decimatedName(name: string, buckets: number, points: number): string {
  return `${name} (min/max of ${buckets} buckets of ${points} points)`;
}

/**
 * The title of a figure some of whose lines were decimated: `title` plus a note saying how many
 * lines are min/max envelopes and the cap, e.g. `v (2 of 3 lines decimated to ≤ 8000 points: min/max per bucket)`.
 * `title` itself when none was.
 */
export function decimatedTitle(title: string, decimated: number, lines: number, maxPoints: number): string {
  if (decimated === 0) return title;
  return `${title} (${decimated} of ${lines} line${lines === 1 ? '' : 's'} decimated to ≤ ${maxPoints} points: min/max per bucket)`;
}

/**
 * The {@link minMaxEnvelope} of a line of finite values that arrive one by one (e.g. read from files
 * in pieces), computed as they go by and holding only the kept points: memory O(`maxPoints`), not
 * O(n). Declare the line's length `n` up front (it sets the buckets); {@link EnvelopeStream.push}
 * each point in order, then {@link EnvelopeStream.finish}. The result keeps the same indices as
 * {@link decimateLine} of the whole line: every point when `n <= maxPoints`, else B = ⌊(maxPoints −
 * 2)/2⌋ buckets [⌊b·n/B⌋, ⌊(b+1)·n/B⌋) each keeping the first index of its smallest and of its
 * largest value, plus the first and the last point. Finite values only: whether a line has gaps
 * sets B, which a stream cannot know before its end.
 */
export class EnvelopeStream {
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  private m = 0;
  private i = 0;
  private b = 0;
  private hi: number;
  private iMin = -1;
  private vMin = 0;
  private xMin = 0;
  private iMax = -1;
  private vMax = 0;
  private xMax = 0;
  private lastIndex = -1;
  /** Buckets of the envelope; 0 when the line is kept whole. */
  readonly buckets: number;

  /**
   * @param n the number of points that will be pushed (an integer >= 0)
   * @param maxPoints the cap (see {@link checkMaxPoints})
   * @throws CinderArgumentError for a bad `n` or `maxPoints`
   */
  constructor(readonly n: number, readonly maxPoints: number = DEFAULT_MAX_POINTS) {
    checkMaxPoints(maxPoints);
    if (!Number.isSafeInteger(n) || n < 0) throw new CinderArgumentError('n', n, 'an integer >= 0 (the number of points to push)');
    this.buckets = n <= maxPoints ? 0 : Math.floor((maxPoints - 2) / 2);
    const cap = this.buckets === 0 ? n : 2 * this.buckets + 2;
    this.xs = new Float64Array(cap);
    this.ys = new Float64Array(cap);
    this.hi = this.buckets === 0 ? n : Math.floor(n / this.buckets);
  }

  /** Keeps point i unless it was the last one kept. */
  private keep(i: number, x: number, y: number): void {
    if (this.lastIndex >= i) return;
    this.lastIndex = i;
    this.xs[this.m] = x;
    this.ys[this.m++] = y;
  }

  /**
   * The next point (index = the number pushed before it).
   * @throws CinderArgumentError for a non-finite `y` or a point past `n`; nothing changes then
   */
  push(x: number, y: number): void {
    const i = this.i;
    if (i >= this.n) throw new CinderArgumentError('point', i, `at most n = ${this.n} points`);
    if (!Number.isFinite(y)) throw new CinderArgumentError(`y[${i}]`, y, 'a finite value (EnvelopeStream draws lines without gaps)');
    this.i++;
    if (this.buckets === 0) {
      this.keep(i, x, y);
      return;
    }
    if (i === 0) this.keep(0, x, y);
    if (this.iMin < 0 || y < this.vMin) (this.iMin = i), (this.vMin = y), (this.xMin = x);
    if (this.iMax < 0 || y > this.vMax) (this.iMax = i), (this.vMax = y), (this.xMax = x);
    if (i + 1 === this.hi) {
      // the bucket is complete: its extremes in index order
      if (this.iMin <= this.iMax) this.keep(this.iMin, this.xMin, this.vMin), this.keep(this.iMax, this.xMax, this.vMax);
      else this.keep(this.iMax, this.xMax, this.vMax), this.keep(this.iMin, this.xMin, this.vMin);
      this.b++;
      this.hi = Math.floor(((this.b + 1) * this.n) / this.buckets);
      this.iMin = this.iMax = -1;
    }
    if (i === this.n - 1) this.keep(i, x, y);
  }

  /**
   * The kept points (x and y copied out).
   * @throws CinderArgumentError when fewer than `n` points were pushed
   */
  finish(): DecimatedLine {
    if (this.i !== this.n) throw new CinderArgumentError('points pushed', this.i, `n = ${this.n}`);
    return { x: this.xs.slice(0, this.m), y: this.ys.slice(0, this.m), buckets: this.buckets };
  }
}
