/**
 * Per-postsynaptic homeostatic scaling of sparse weights (the lateral-line model's rule), for B
 * instances laid out as in {@link EventSTDP} (instance b's synapse s at global id `offset[b] + s`).
 *
 * For every instance and postsynaptic unit j: `incoming_j = Σ_{s → j} w_s`;
 * `scale_j = clip(1 + η·(target/incoming_j − 1), 0.9, 1.1)`; `w_s ← clip(w_s·scale_j, 0, wMax)`.
 * The target is per instance: `'initial'` = the mean over postsynaptic units of the incoming sums
 * at construction (restores the initial mean drive), `'current'` = the mean of the current sums
 * (equalises cells). Units whose incoming sum is ≤ 1e-12 (no synapses, or all weights 0) take no
 * part: they are left out of the mean and not scaled.
 *
 * Sums and scales are float64; each scaled weight is rounded once to float32.
 * {@link trialEnded} applies the rule every `every` calls (the model's `*_homeo_every_trials`).
 * @module
 */
import { CinderArgumentError, checkFinite, checkInteger, checkOneOf } from '../../core/errors.js';
import type { SparseIndex } from '../../neural/connections/sparse-topology.js';

/** Postsynaptic CSR lists of one instance: the ids of unit j's synapses are `postSyn[postStart[j] … postStart[j+1])`. */
export interface IncomingLists {
  /** Row pointers by postsynaptic unit (length nPost + 1). */
  readonly postStart: Int32Array;
  /** Synapse ids grouped by postsynaptic unit. */
  readonly postSyn: Int32Array;
}

/**
 * Incoming sums of one instance, `out[j] = Σ_{s → j} weight[base + s]` (float64, added in the
 * order of `postSyn`), for j < nPost.
 */
export function incomingWeightSums(weight: Float32Array, base: number, lists: IncomingLists, nPost: number, out: Float64Array = new Float64Array(nPost)): Float64Array {
  const { postStart, postSyn } = lists;
  for (let j = 0; j < nPost; j++) {
    let s = 0;
    for (let q = postStart[j]!, e = postStart[j + 1]!; q < e; q++) s += weight[base + postSyn[q]!]!;
    out[j] = s;
  }
  return out;
}

/** Mean of the sums > 1e-12 (the units that take part; 0 when none). */
export function meanIncoming(sums: Float64Array): number {
  let s = 0;
  let c = 0;
  for (let j = 0; j < sums.length; j++) {
    const x = sums[j]!;
    if (x > 1e-12) {
      s += x;
      c++;
    }
  }
  return c > 0 ? s / c : 0;
}

/** The constants of one application of the rule. */
export interface ScalingRule {
  /** Rate η. */
  readonly eta: number;
  /** Upper weight bound. */
  readonly wMax: number;
  /** Lower bound of the scale. */
  readonly scaleMin: number;
  /** Upper bound of the scale. */
  readonly scaleMax: number;
}

/**
 * The rule once on one instance, from its incoming sums `sums` (before scaling): every unit j with
 * `sums[j] > 1e-12` has its synapses scaled by `clip(1 + η·(target/sums[j] − 1), scaleMin, scaleMax)`
 * and clipped to [0, wMax] (float64, one rounding to float32 per weight); the others are left alone.
 */
export function scaleIncoming(weight: Float32Array, base: number, lists: IncomingLists, sums: Float64Array, target: number, rule: ScalingRule): void {
  const { postStart, postSyn } = lists;
  const { eta, wMax, scaleMin, scaleMax } = rule;
  for (let j = 0; j < sums.length; j++) {
    const inc = sums[j]!;
    if (!(inc > 1e-12)) continue;
    let scale = 1 + eta * (target / inc - 1);
    scale = scale < scaleMin ? scaleMin : scale > scaleMax ? scaleMax : scale;
    for (let q = postStart[j]!, e = postStart[j + 1]!; q < e; q++) {
      const g = base + postSyn[q]!;
      const v = weight[g]! * scale;
      weight[g] = v < 0 ? 0 : v > wMax ? wMax : v;
    }
  }
}

/** Options of {@link SparseHomeostasis}. */
export interface SparseHomeostasisOptions {
  /** Rate η (≥ 0; 0 = off). */
  eta: number;
  /** `'initial'` (mean of the initial incoming sums) or `'current'` (mean of the current sums). */
  target: 'initial' | 'current';
  /** Upper weight bound (weights are clipped to [0, wMax] after scaling). */
  wMax: number;
  /** Apply every this many {@link SparseHomeostasis.trialEnded} calls (default 1). */
  every?: number;
  /** Lower bound of the scale (default 0.9). */
  scaleMin?: number;
  /** Upper bound of the scale (default 1.1). */
  scaleMax?: number;
}

/** The weights and index lists the rule acts on (an {@link EventSTDP} fits). */
export interface SparseWeights {
  /** Weights of all instances (global synapse ids). */
  readonly weight: Float32Array;
  /** First global id of each instance (length B + 1). */
  readonly offset: Int32Array;
  /** Each instance's index lists. */
  readonly indices: readonly SparseIndex[];
  /** Postsynaptic units per instance. */
  readonly nPost: number;
  /** Number of instances B. */
  readonly batch: number;
}

/** Homeostatic scaling (see the module documentation). */
export class SparseHomeostasis {
  /** Rate η. */
  readonly eta: number;
  /** Target kind. */
  readonly target: 'initial' | 'current';
  /** Upper weight bound. */
  readonly wMax: number;
  /** Period in trials. */
  readonly every: number;
  /** Lower bound of the scale. */
  readonly scaleMin: number;
  /** Upper bound of the scale. */
  readonly scaleMax: number;
  /** Per-instance initial targets (mean initial incoming sum). */
  readonly initialTarget: Float64Array;
  private calls = 0;
  private readonly sums: Float64Array;

  /**
   * @param weights the weights and their index lists (kept by reference; scaled in place)
   * @param options rate, target, bound, period
   */
  constructor(
    readonly weights: SparseWeights,
    options: SparseHomeostasisOptions,
  ) {
    if (!weights || !(weights.weight instanceof Float32Array) || !(weights.offset instanceof Int32Array) || !Array.isArray(weights.indices)) {
      throw new CinderArgumentError('weights', weights, 'sparse weights { weight, offset, indices, nPost, batch } (e.g. an EventSTDP)');
    }
    if (!options || typeof options !== 'object') throw new CinderArgumentError('options', options, 'SparseHomeostasisOptions');
    this.eta = checkFinite('eta', options.eta);
    if (this.eta < 0) throw new CinderArgumentError('eta', this.eta, 'a rate ≥ 0');
    this.target = checkOneOf('target', options.target, ['initial', 'current'] as const);
    this.wMax = checkFinite('wMax', options.wMax);
    if (this.wMax < 0) throw new CinderArgumentError('wMax', this.wMax, 'an upper weight bound ≥ 0 (weights are clipped to [0, wMax])');
    this.every = checkInteger('every', options.every ?? 1, 1);
    this.scaleMin = checkFinite('scaleMin', options.scaleMin ?? 0.9);
    if (this.scaleMin < 0) throw new CinderArgumentError('scaleMin', this.scaleMin, 'a scale factor ≥ 0 (a negative one flips weights to 0)');
    this.scaleMax = checkFinite('scaleMax', options.scaleMax ?? 1.1);
    if (this.scaleMin > this.scaleMax) throw new CinderArgumentError('scaleMin', this.scaleMin, `a bound ≤ scaleMax = ${this.scaleMax}`);
    this.sums = new Float64Array(weights.batch * weights.nPost);
    this.initialTarget = new Float64Array(weights.batch);
    this.incoming(this.sums);
    for (let b = 0; b < weights.batch; b++) this.initialTarget[b] = this.meanOf(b);
  }

  /** Incoming sums per (instance, post unit) into `out` (length B·nPost). */
  incoming(out: Float64Array = new Float64Array(this.weights.batch * this.weights.nPost)): Float64Array {
    const { weight, offset, indices, nPost, batch } = this.weights;
    for (let b = 0; b < batch; b++) incomingWeightSums(weight, offset[b]!, indices[b]!, nPost, out.subarray(b * nPost, (b + 1) * nPost));
    return out;
  }

  /** Mean incoming sum of instance b over its units with a sum > 1e-12 (0 when none). */
  private meanOf(b: number): number {
    const n = this.weights.nPost;
    return meanIncoming(this.sums.subarray(b * n, (b + 1) * n));
  }

  /** Applies the scaling once (whatever the period). No-op when η = 0. */
  apply(): void {
    if (this.eta === 0) return;
    const { weight, offset, indices, nPost, batch } = this.weights;
    this.incoming(this.sums);
    for (let b = 0; b < batch; b++) {
      const target = this.target === 'initial' ? this.initialTarget[b]! : this.meanOf(b);
      scaleIncoming(weight, offset[b]!, indices[b]!, this.sums.subarray(b * nPost, (b + 1) * nPost), target, this);
    }
  }

  /** Counts a finished trial; applies the scaling every {@link every} trials. Returns true when it did. */
  trialEnded(): boolean {
    this.calls++;
    if (this.calls % this.every !== 0) return false;
    this.apply();
    return true;
  }
}
