/**
 * Synapse lists (sparse connectivity) and their generators: fixed in-degree / out-degree with a
 * topographic fraction drawn from a clipped, rounded Gaussian (the rest uniform), random
 * connection with probability p, and ring-distance lateral inhibition. All draws come from a
 * {@link RandomSource} (a Cinder {@link Rng}, or the event-driven kernels' counter-based `LaneRng`),
 * so a seed gives one graph on every machine.
 *
 * A synapse list keeps synapses in generation order (synapse s = (pre[s], post[s])), duplicates
 * allowed (two synapses between the same pair act independently, as Brian2's `connect(i=…, j=…)`
 * with repeated pairs). {@link sparseIndex} builds the two index lists event-driven kernels need:
 * the synapses of each presynaptic unit (CSR) and of each postsynaptic unit (CSC).
 *
 * Batches of independent network instances (seeds) either share one list or each have their own:
 * {@link synapseListBatch} draws one list per instance from forks of one generator.
 * @module
 */
import { CinderArgumentError, checkFinite, checkInteger, checkNonNegative, checkRange, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { isRandomSource, Rng, type RandomSource } from '../../core/random.js';
import { groupByUnit } from '../../core/group-by.js';

/** A list of synapses between `nPre` presynaptic and `nPost` postsynaptic units. */
export interface SynapseList {
  /** Number of presynaptic units. */
  readonly nPre: number;
  /** Number of postsynaptic units. */
  readonly nPost: number;
  /** Presynaptic index of each synapse (in [0, nPre)). */
  readonly pre: Int32Array;
  /** Postsynaptic index of each synapse (in [0, nPost)). */
  readonly post: Int32Array;
  /** Optional initial weight of each synapse (float32). */
  readonly weight?: Float32Array;
  /** Optional transmission delay of each synapse, in whole steps (≥ 0). */
  readonly delay?: Int32Array;
}

/** The synapses grouped by presynaptic and by postsynaptic unit (see {@link sparseIndex}). */
export interface SparseIndex {
  /** Number of synapses. */
  readonly size: number;
  /** `preStart[i] .. preStart[i+1]` delimits unit i's outgoing synapses in {@link preSyn} (length nPre + 1). */
  readonly preStart: Int32Array;
  /** Synapse ids ordered by presynaptic unit (ascending id within a unit). */
  readonly preSyn: Int32Array;
  /** `postStart[j] .. postStart[j+1]` delimits unit j's incoming synapses in {@link postSyn} (length nPost + 1). */
  readonly postStart: Int32Array;
  /** Synapse ids ordered by postsynaptic unit (ascending id within a unit). */
  readonly postSyn: Int32Array;
}

/** Checks a synapse list (indices in range, equal lengths, finite weights, whole non-negative delays). */
export function checkSynapseList(param: string, list: SynapseList): SynapseList {
  if (!list || typeof list !== 'object') throw new CinderArgumentError(param, list, 'a SynapseList { nPre, nPost, pre, post }');
  checkInteger(`${param}.nPre`, list.nPre, 1);
  checkInteger(`${param}.nPost`, list.nPost, 1);
  if (!(list.pre instanceof Int32Array)) throw new CinderArgumentError(`${param}.pre`, list.pre, 'an Int32Array');
  if (!(list.post instanceof Int32Array) || list.post.length !== list.pre.length) {
    throw new CinderArgumentError(`${param}.post`, list.post, `an Int32Array of length ${list.pre.length} (as pre)`);
  }
  for (let s = 0; s < list.pre.length; s++) {
    const i = list.pre[s]!;
    const j = list.post[s]!;
    if (i < 0 || i >= list.nPre) throw new CinderArgumentError(`${param}.pre[${s}]`, i, `an index in [0, ${list.nPre - 1}]`);
    if (j < 0 || j >= list.nPost) throw new CinderArgumentError(`${param}.post[${s}]`, j, `an index in [0, ${list.nPost - 1}]`);
  }
  if (list.weight !== undefined) {
    if (!(list.weight instanceof Float32Array) || list.weight.length !== list.pre.length) {
      throw new CinderArgumentError(`${param}.weight`, list.weight, `a Float32Array of length ${list.pre.length}`);
    }
    for (let s = 0; s < list.weight.length; s++) if (!Number.isFinite(list.weight[s]!)) throw new CinderArgumentError(`${param}.weight[${s}]`, list.weight[s], 'a finite number');
  }
  if (list.delay !== undefined) {
    if (!(list.delay instanceof Int32Array) || list.delay.length !== list.pre.length) {
      throw new CinderArgumentError(`${param}.delay`, list.delay, `an Int32Array of length ${list.pre.length} (steps)`);
    }
    for (let s = 0; s < list.delay.length; s++) if (list.delay[s]! < 0) throw new CinderArgumentError(`${param}.delay[${s}]`, list.delay[s], 'a delay ≥ 0 steps');
  }
  return list;
}

/**
 * Builds a synapse list from `[pre, post]` pairs (validated), with optional weights (stored as
 * float32, finite) and delays (whole steps: integers in [0, 2³¹ − 1], checked before they are
 * stored as int32, which would truncate 1.5 to 1 and turn NaN into 0).
 */
export function synapseList(nPre: number, nPost: number, pairs: readonly (readonly [number, number])[], weight?: ArrayLike<number>, delay?: ArrayLike<number>): SynapseList {
  if (!Array.isArray(pairs)) throw new CinderArgumentError('pairs', pairs, 'an array of [pre, post] pairs');
  if (weight !== undefined && (weight === null || typeof weight !== 'object' || typeof weight.length !== 'number')) {
    throw new CinderArgumentError('weight', weight, 'an array of weights (one per pair), or undefined');
  }
  if (delay !== undefined) {
    if (delay === null || typeof delay !== 'object' || typeof delay.length !== 'number') throw new CinderArgumentError('delay', delay, 'an array of delays (whole steps)');
    for (let s = 0; s < delay.length; s++) {
      const d = delay[s]!;
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 2147483647) throw new CinderArgumentError(`pairs.delay[${s}]`, d, 'a whole number of steps in [0, 2^31 - 1]');
    }
  }
  const pre = new Int32Array(pairs.length);
  const post = new Int32Array(pairs.length);
  pairs.forEach((p, s) => {
    if (!Array.isArray(p) || p.length !== 2 || !Number.isInteger(p[0]) || !Number.isInteger(p[1])) throw new CinderArgumentError(`pairs[${s}]`, p, 'an integer [pre, post] pair');
    pre[s] = p[0]!;
    post[s] = p[1]!;
  });
  return checkSynapseList('pairs', {
    nPre, nPost, pre, post,
    ...(weight !== undefined ? { weight: Float32Array.from(weight) } : {}),
    ...(delay !== undefined ? { delay: Int32Array.from(delay) } : {}),
  });
}

/**
 * A 32-bit FNV-1a hash (hex) of a list's sizes, pre/post indices and delays, so saved sparse
 * weights are only loaded into a connection with the same synapses.
 */
export function synapseListHash(list: SynapseList): string {
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    for (let k = 0; k < 4; k++) {
      h ^= (x >>> (8 * k)) & 0xff;
      h = Math.imul(h, 0x01000193);
    }
  };
  mix(list.nPre);
  mix(list.nPost);
  mix(list.pre.length);
  for (let s = 0; s < list.pre.length; s++) {
    mix(list.pre[s]!);
    mix(list.post[s]!);
    if (list.delay) mix(list.delay[s]!);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Groups the synapses by presynaptic and by postsynaptic unit (counting sort, stable). */
export function sparseIndex(list: SynapseList): SparseIndex {
  const n = list.pre.length;
  const { start: preStart, order: preSyn } = groupByUnit(list.pre, list.nPre, n);
  const { start: postStart, order: postSyn } = groupByUnit(list.post, list.nPost, n);
  return { size: n, preStart, preSyn, postStart, postSyn };
}

/** Options of {@link topographicSynapses}. */
export interface TopographicOptions {
  /** `'in'`: every postsynaptic unit gets `degree` sources; `'out'`: every presynaptic unit gets `degree` targets. */
  fixed: 'in' | 'out';
  /** Synapses per unit of the fixed side (integer ≥ 0). */
  degree: number;
  /** Fraction of each unit's synapses placed topographically (round(degree·topo) of them); ≤ 0 selects the `fallback`. */
  topo: number;
  /** Standard deviation of the topographic offsets, in units of the other side's indices (≥ 0; 0 puts them all on the centre). */
  sigma: number;
  /**
   * What `topo ≤ 0` selects: `'random'` (default), every pair connected with probability
   * `fallbackP` (the lateral-line model's LL→MON rule); `'uniform'`, the fixed degree kept with
   * every partner uniform (its MON→TS rule).
   */
  fallback?: 'random' | 'uniform';
  /** Connection probability of the `'random'` fallback (default 0.03). */
  fallbackP?: number;
}

/** The keys of {@link TopographicOptions}. */
export const TOPOGRAPHIC_OPTION_KEYS = optionKeys<TopographicOptions>()(['fixed', 'degree', 'topo', 'sigma', 'fallback', 'fallbackP']);

/**
 * Topographic synapses with a fixed in- or out-degree (the lateral-line model's
 * `build_ll_to_mon_indices` / `build_mon_to_ts_indices` scheme).
 *
 * For `fixed: 'in'`, postsynaptic unit m has position p = m/(nPost − 1) (p = 0 when nPost = 1); its
 * k = `degree` sources are: round(k·topo) draws of round(N(p·(nPre − 1), σ)), **clipped** (not
 * wrapped) to [0, nPre − 1], then k − round(k·topo) uniform draws over [0, nPre). `fixed: 'out'`
 * swaps the roles (presynaptic unit m, targets centred on p·(nPost − 1)). Units are generated in
 * order, each unit's topographic draws first; synapse ids follow that order. Duplicates are kept.
 * With σ ≥ the other side's size the topographic draws are uniform (the model's rule: such a
 * spread counts as random).
 *
 * When `topo ≤ 0`, falls back to {@link randomSynapses} with probability `fallbackP` (degree then
 * varies), or with `fallback: 'uniform'` keeps the degree and draws every partner uniformly.
 * Rounding is half to even, as Python's `round` (round(10·0.05) = 0, round(2.5) = 2); it matters for
 * round(k·topo).
 */
export function topographicSynapses(nPre: number, nPost: number, options: TopographicOptions, rng: RandomSource): SynapseList {
  checkOptionKeys('options', options, TOPOGRAPHIC_OPTION_KEYS);
  checkInteger('nPre', nPre, 1);
  checkInteger('nPost', nPost, 1);
  if (!options || typeof options !== 'object') throw new CinderArgumentError('options', options, 'TopographicOptions { fixed, degree, topo, sigma }');
  if (options.fixed !== 'in' && options.fixed !== 'out') throw new CinderArgumentError('fixed', options.fixed, '"in" or "out"');
  const degree = checkInteger('degree', options.degree, 0);
  const topo = checkRange('topo', options.topo, -Infinity, 1);
  const sigma = checkNonNegative('sigma', options.sigma);
  const fallback = options.fallback ?? 'random';
  if (fallback !== 'random' && fallback !== 'uniform') throw new CinderArgumentError('fallback', fallback, '"random" or "uniform"');
  const fallbackP = checkRange('fallbackP', options.fallbackP ?? 0.03, 0, 1);
  checkRandomSource(rng);
  if (topo <= 0 && fallback === 'random') return randomSynapses(nPre, nPost, fallbackP, rng);
  const own = options.fixed === 'in' ? nPost : nPre; // the side with the fixed degree
  const other = options.fixed === 'in' ? nPre : nPost;
  const nTopo = topo <= 0 ? 0 : roundHalfEven(degree * topo);
  const mine = new Int32Array(own * degree);
  const theirs = new Int32Array(own * degree);
  let s = 0;
  const wide = sigma >= other;
  for (let m = 0; m < own; m++) {
    const centre = (own > 1 ? m / (own - 1) : 0) * (other - 1);
    for (let k = 0; k < degree; k++, s++) {
      mine[s] = m;
      theirs[s] = k < nTopo && !wide ? clippedRoundedNormal(rng, centre, sigma, other) : rng.int(other);
    }
  }
  return options.fixed === 'in' ? { nPre, nPost, pre: theirs, post: mine } : { nPre, nPost, pre: mine, post: theirs };
}

function checkRandomSource(rng: unknown): void {
  if (!isRandomSource(rng)) throw new CinderArgumentError('rng', rng, 'a random source (an Rng, or anything with uniform(), normal() and int(n))');
}

/** Rounds to the nearest integer, ties to even (Python's `round`, numpy's `rint`). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** round(N(centre, σ)) (half to even) clipped to [0, n − 1]. */
export function clippedRoundedNormal(rng: RandomSource, centre: number, sigma: number, n: number): number {
  const x = roundHalfEven(centre + sigma * rng.normal());
  return x < 0 ? 0 : x > n - 1 ? n - 1 : x;
}

/** Options of {@link randomSynapses}. */
export interface RandomSynapsesOptions {
  /** Allow pairs i = j (default true). */
  self?: boolean;
  /**
   * How the pairs are drawn (both connect each pair independently with probability p; a seed gives
   * different lists): 'pairs' (default) draws one uniform per pair, visited pre-major; 'jumps' draws
   * one uniform per synapse and jumps over the unconnected pairs between two synapses (the gap
   * G = ⌊ln(1 − U)/ln(1 − p)⌋ is geometric, P(G = k) = (1 − p)^k·p, as Brian2's generated
   * `connect(p=…)` code samples), so drawing costs O(synapses + nPre) instead of O(nPre·nPost):
   * for large sparse networks (40 000² pairs at p = 0.02 take 1.6·10⁹ draws as 'pairs', 3.2·10⁷ as 'jumps').
   */
  method?: 'pairs' | 'jumps';
}

/** The keys of {@link RandomSynapsesOptions}: other keys make {@link randomSynapses} throw. */
export const RANDOM_SYNAPSES_OPTION_KEYS = optionKeys<RandomSynapsesOptions>()(['self', 'method']);

/**
 * An Int32Array list sized up front for the expected number of entries (grown by a quarter if a
 * draw exceeds it), handed out as a view: drawing adds about 4 bytes per entry to the peak memory,
 * not the 8–12 of doubling and a final copy.
 */
class IntList {
  data: Int32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, Math.ceil(capacity)));
  }
  push(x: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = x;
  }
  /** Grows the array by a quarter (+ 16), keeping the entries. */
  grow(): void {
    const grown = new Int32Array(Math.ceil(this.data.length * 1.25) + 16);
    grown.set(this.data);
    this.data = grown;
  }
  /** Exactly the entries pushed: a view when the slack is at most 1 % (+ 64), else a copy. */
  take(): Int32Array {
    const slack = this.data.length - this.length;
    return slack <= 64 + this.length / 100 ? this.data.subarray(0, this.length) : this.data.slice(0, this.length);
  }
}

/**
 * Every (pre, post) pair connected independently with probability p (Brian2's `connect(p=…)`).
 * Pairs are visited pre-major (for each pre, each post in order), so the list is sorted by pre,
 * then post. `method` 'pairs' (default): one uniform draw per pair; 'jumps': one per synapse, plus
 * one per pre that ends its row, and none at all for p = 0 or p = 1 (every gap is known) (see
 * {@link RandomSynapsesOptions.method}). With `self: false`,
 * pairs i = j are skipped (no draw, and no place to jump to).
 */
export function randomSynapses(nPre: number, nPost: number, p: number, rng: RandomSource, options: RandomSynapsesOptions = {}): SynapseList {
  checkOptionKeys('options', options, RANDOM_SYNAPSES_OPTION_KEYS);
  checkInteger('nPre', nPre, 1);
  checkInteger('nPost', nPost, 1);
  checkRange('p', p, 0, 1);
  checkRandomSource(rng);
  const self = options.self ?? true;
  const method = options.method ?? 'pairs';
  if (method !== 'pairs' && method !== 'jumps') throw new CinderArgumentError('method', method, "'pairs' or 'jumps'");
  // the count is binomial(pairs, p): room for its mean + 6 sd (exceeded with probability < 10⁻⁹)
  const pairs = nPre * nPost - (self ? 0 : Math.min(nPre, nPost));
  const capacity = pairs * p + 6 * Math.sqrt(pairs * p * (1 - p)) + 64;
  const pre = new IntList(Math.min(capacity, pairs));
  const post = new IntList(Math.min(capacity, pairs));
  if (method === 'pairs') {
    for (let i = 0; i < nPre; i++) {
      for (let j = 0; j < nPost; j++) {
        if (!self && i === j) continue;
        if (rng.uniform() < p) {
          pre.push(i);
          post.push(j);
        }
      }
    }
  } else if (p > 0) {
    // candidates of row i: the posts 0 … nPost − 1, without i when self is false (k ≥ i maps to k + 1)
    const logQ = Math.log1p(-p); // −∞ for p = 1: every gap is 0
    // written straight into the lists' arrays (growing them as push would): the hot loop of large builds
    let a = pre.data;
    let b = post.data;
    let n = 0;
    for (let i = 0; i < nPre; i++) {
      const m = !self && i < nPost ? nPost - 1 : nPost;
      for (let k = -1; ;) {
        const gap = p === 1 ? 0 : Math.floor(Math.log(1 - rng.uniform()) / logQ);
        k += 1 + gap;
        if (!(k < m)) break;
        if (n === a.length) {
          pre.length = post.length = n;
          pre.grow();
          post.grow();
          a = pre.data;
          b = post.data;
        }
        a[n] = i;
        b[n++] = !self && k >= i ? k + 1 : k;
      }
    }
    pre.length = post.length = n;
  }
  return { nPre, nPost, pre: pre.take(), post: post.take() };
}

/**
 * Lateral inhibition on a ring of n units: i → j for every i ≠ j with ring distance
 * d = min(|i − j|, n − |i − j|) ≤ R, of weight `peak·(1 − d/R)`. Pairs of weight 0 (d = R, or
 * peak 0) are left out (they would change nothing). Ordered by pre, then post. Deterministic.
 */
export function ringInhibition(n: number, radius: number, peak: number): SynapseList {
  checkInteger('n', n, 1);
  checkNonNegative('radius', radius);
  checkFinite('peak', peak);
  const pre: number[] = [];
  const post: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const a = Math.abs(i - j);
      const d = Math.min(a, n - a);
      if (d >= radius) continue;
      const w = peak * (1 - d / radius);
      if (w === 0) continue; // peak 0: a synapse of weight 0 changes nothing
      pre.push(i);
      post.push(j);
      weight.push(w);
    }
  }
  return { nPre: n, nPost: n, pre: Int32Array.from(pre), post: Int32Array.from(post), weight: Float32Array.from(weight) };
}

/**
 * One synapse list per network instance, each drawn by `make` from its own fork of `rng`
 * (instance b uses the b-th fork), for batches where every seed has its own connectivity.
 */
export function synapseListBatch(count: number, rng: Rng, make: (rng: Rng, instance: number) => SynapseList): SynapseList[] {
  checkInteger('count', count, 1);
  if (!(rng instanceof Rng)) throw new CinderArgumentError('rng', rng, 'an Rng');
  if (typeof make !== 'function') throw new CinderArgumentError('make', make, 'a function (rng, instance) => SynapseList');
  const out: SynapseList[] = [];
  for (let b = 0; b < count; b++) out.push(make(rng.fork(), b));
  return out;
}
