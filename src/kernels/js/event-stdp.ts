/**
 * Event-driven pair STDP on sparse synapse lists, in plain JavaScript, with Brian2's semantics:
 * per-synapse traces `Apre`, `Apost` that decay exponentially and are brought up to date lazily
 * (exactly, `A ← A·e^{−(t − t_last)/τ}`) only when the synapse takes part in an event, so a step
 * costs O(spikes × their synapses), never O(synapses).
 *
 * Per step t (order `'brian2'`, the default — Brian2: state updates → thresholds → synapses):
 * 1. `on_pre`, for every presynaptic spike arriving at t (emitted at t − delay): decay the traces to
 *    t; deliver `input[post] += gain·w` (the weight before this event's update); `Apre += aPre`;
 *    additive `w ← clip(w + Apost, wMin, wMax)` / multiplicative `w ← clip(w + Apost·w, wMin, wMax)`
 *    (LTD ∝ w, Apost < 0);
 * 2. `on_post`, for every postsynaptic spike at t: decay; `Apost += aPost`; additive
 *    `w ← clip(w + Apre, …)` / multiplicative `w ← clip(w + Apre·(wMax − w), …)` (LTP ∝ wMax − w).
 * A pair of simultaneous pre and post spikes therefore potentiates by the Apre that includes the
 * pre spike, and the pre pathway sees Apost before the post spike (each with its own clip).
 *
 * Order `'cinder'` reproduces Cinder's tfjs {@link STDP} trainer (traces include both of this step's
 * spikes, one clipped update per step): a synapse whose pre and post both spike at t gets one update
 * `w ← clip(w + Apost + Apre)` (multiplicative: `w + Apost·w + Apre·(wMax − w)`) with both traces
 * bumped; otherwise as above. Cinder's `lrPost` is `aPre` and its `lrPre` is `aPost`.
 *
 * Batches: B independent network instances, each with its own synapse list or all sharing one
 * (pass the same object). Instance b's synapse s has the global id `offset[b] + s` in
 * {@link EventSTDP.weight} and the traces; its presynaptic unit i is the global unit `b·nPre + i`
 * and its postsynaptic unit j is `b·nPost + j` (the event lists and the delivery target use these).
 *
 * Traces: Brian2 keeps Apre and Apost per synapse. Without delays every synapse of presynaptic
 * unit i holds the same Apre (bumped by the same spikes, decaying alike, all starting at 0), and
 * every synapse onto postsynaptic unit j the same Apost, so the kernel keeps one trace per unit
 * (same values, far less memory traffic); with delays (a synapse's Apre is bumped when the spike
 * arrives) it keeps them per synapse, as Brian2.
 *
 * Numbers: weights are float32 (rounded after every update, as Cinder's weights are); traces are
 * float64 and so is the arithmetic of an update, which is rounded once to float32 when stored.
 * Decay factors for gaps up to {@link DECAY_TABLE} steps come from a table of
 * `exp(−k·dt/τ)` computed in float64.
 * @module
 */
import { CinderArgumentError, checkFinite, checkInteger, checkOneOf, checkPositive } from '../../core/errors.js';
import { checkSynapseList, sparseIndex, type SparseIndex, type SynapseList } from '../../neural/connections/sparse-topology.js';

/** How a weight change depends on the weight. */
export type WeightDependence = 'additive' | 'multiplicative';

/** Which step semantics (see the module documentation). */
export type PairingOrder = 'brian2' | 'cinder';

/** Gaps (steps) whose decay factors are tabulated. */
export const DECAY_TABLE = 4096;

/** Options of {@link EventSTDP}. */
export interface EventSTDPOptions {
  /** Step (ms). */
  dt: number;
  /** Presynaptic trace time constant (ms). */
  tauPre: number;
  /** Postsynaptic trace time constant (ms). */
  tauPost: number;
  /** Added to Apre at each presynaptic arrival (potentiation amplitude, usually > 0). */
  aPre: number;
  /** Added to Apost at each postsynaptic spike (depression amplitude, usually < 0). */
  aPost: number;
  /** Upper weight bound. */
  wMax: number;
  /** Lower weight bound (default 0). */
  wMin?: number;
  /** `additive` (default) or `multiplicative`. */
  dependence?: WeightDependence;
  /** `brian2` (default) or `cinder`. */
  order?: PairingOrder;
  /**
   * Initial weights: all instances' synapses concatenated (length Σ_b size_b), or one instance's
   * (length of the first list; copied to every instance). Default: each list's `weight`, else 0.
   */
  weight?: ArrayLike<number>;
  /**
   * Called after every weight change with the synapse's global id and the stored change
   * (float32 new − old); e.g. to keep a conductance sum Σ w·g up to date.
   */
  onChange?: (synapse: number, delta: number) => void;
}

/** A growable list of synapse ids (one delay slot). */
interface Slot {
  ids: Int32Array;
  n: number;
}

/** Event-driven pair STDP over B instances of a sparse connection (see the module documentation). */
export class EventSTDP {
  /** Weights of all instances (global synapse ids). */
  readonly weight: Float32Array;
  /** `offset[b]` = first global id of instance b (length B + 1). */
  readonly offset: Int32Array;
  /** Presynaptic units per instance. */
  readonly nPre: number;
  /** Postsynaptic units per instance. */
  readonly nPost: number;
  /** Number of instances B. */
  readonly batch: number;
  /** The instances' synapse lists. */
  readonly lists: readonly SynapseList[];
  /** The instances' index lists (shared objects for shared lists). */
  readonly indices: readonly SparseIndex[];
  /** Current step (the next {@link step} processes this one). */
  t = 0;
  /** Potentiation amplitude (may be changed between steps, e.g. 0 to freeze learning). */
  aPre: number;
  /** Depression amplitude (may be changed between steps). */
  aPost: number;
  /** Lower weight bound. */
  readonly wMin: number;
  /** Upper weight bound. */
  readonly wMax: number;
  /** Weight dependence of the updates. */
  readonly dependence: WeightDependence;
  /** Step semantics. */
  readonly order: PairingOrder;
  /** True when traces are kept per synapse (lists with delays), false when per unit. */
  readonly perSynapse: boolean;
  // Global index over all instances: unit u = b·n + i, synapse g = offset[b] + s.
  private readonly preStart: Int32Array; // B·nPre + 1
  private readonly preSyn: Int32Array;
  private readonly postStart: Int32Array; // B·nPost + 1
  private readonly postSyn: Int32Array;
  private readonly preOf: Int32Array; // global pre unit of each synapse
  private readonly postOf: Int32Array; // global post unit of each synapse
  private readonly delayOf: Int32Array | null;
  // Per-unit traces (perSynapse false) or per-synapse traces (true), with their last update step.
  private readonly xPre: Float64Array;
  private readonly lastPre: Int32Array;
  private readonly xPost: Float64Array;
  private readonly lastPost: Int32Array;
  /** Last spike step per global pre / post unit (`cinder` order), per synapse for the combined update. */
  private readonly preStamp: Int32Array;
  private readonly postStamp: Int32Array;
  private readonly synStamp: Int32Array | null;
  private readonly tablePre: Float64Array;
  private readonly tablePost: Float64Array;
  private readonly kPre: number;
  private readonly kPost: number;
  private readonly onChange: ((synapse: number, delta: number) => void) | null;
  private readonly maxDelay: number;
  private readonly slots: Slot[];
  /** Per global pre / post unit: the {@link call} number of the last step call that listed it (repeat check). */
  private readonly preSeen: Int32Array;
  private readonly postSeen: Int32Array;
  /** Step calls so far (wrapping), the stamp of {@link preSeen} and {@link postSeen}. */
  private call = 0;

  /**
   * @param lists one synapse list, or one per instance (the same object may repeat)
   * @param options time constants, amplitudes, bounds, semantics, initial weights
   * @param batch number of instances when `lists` is a single list (default 1)
   */
  constructor(lists: SynapseList | readonly SynapseList[], options: EventSTDPOptions, batch = 1) {
    const arr = Array.isArray(lists) ? (lists as readonly SynapseList[]) : Array.from({ length: checkInteger('batch', batch, 1) }, () => lists as SynapseList);
    if (arr.length < 1) throw new CinderArgumentError('lists', lists, 'at least one SynapseList');
    const seen = new Map<SynapseList, SparseIndex>();
    arr.forEach((l, b) => {
      if (!seen.has(l)) {
        checkSynapseList(`lists[${b}]`, l);
        seen.set(l, sparseIndex(l));
      }
    });
    const first = arr[0]!;
    arr.forEach((l, b) => {
      if (l.nPre !== first.nPre || l.nPost !== first.nPost) throw new CinderArgumentError(`lists[${b}]`, `${l.nPre} → ${l.nPost}`, `${first.nPre} → ${first.nPost} units, as instance 0`);
    });
    if (!options || typeof options !== 'object') throw new CinderArgumentError('options', options, 'EventSTDPOptions');
    const dt = checkPositive('dt', options.dt);
    const tauPre = checkPositive('tauPre', options.tauPre);
    const tauPost = checkPositive('tauPost', options.tauPost);
    this.aPre = checkFinite('aPre', options.aPre);
    this.aPost = checkFinite('aPost', options.aPost);
    this.wMax = checkFinite('wMax', options.wMax);
    this.wMin = checkFinite('wMin', options.wMin ?? 0);
    if (this.wMin > this.wMax) throw new CinderArgumentError('wMin', this.wMin, `a bound ≤ wMax = ${this.wMax}`);
    this.dependence = checkOneOf('dependence', options.dependence ?? 'additive', ['additive', 'multiplicative'] as const);
    this.order = checkOneOf('order', options.order ?? 'brian2', ['brian2', 'cinder'] as const);
    if (options.onChange !== undefined && typeof options.onChange !== 'function') throw new CinderArgumentError('onChange', options.onChange, 'a function (synapse, delta) => void');
    this.onChange = options.onChange ?? null;
    this.lists = arr;
    this.indices = arr.map((l) => seen.get(l)!);
    const B = (this.batch = arr.length);
    const nPre = (this.nPre = first.nPre);
    const nPost = (this.nPost = first.nPost);
    this.offset = new Int32Array(B + 1);
    for (let b = 0; b < B; b++) this.offset[b + 1] = this.offset[b]! + arr[b]!.pre.length;
    const total = this.offset[B]!;
    this.weight = new Float32Array(total);
    if (options.weight !== undefined) {
      const w = options.weight;
      if (!w || typeof w.length !== 'number' || (w.length !== total && w.length !== first.pre.length) || (w.length !== total && arr.some((l) => l.pre.length !== first.pre.length))) {
        throw new CinderArgumentError('weight', w, `${total} weights (all instances) or ${first.pre.length} (one instance, when all have that many synapses)`);
      }
      for (let g = 0; g < total; g++) {
        const v = w[w.length === total ? g : g % first.pre.length]!;
        if (!Number.isFinite(v)) throw new CinderArgumentError(`weight[${g}]`, v, 'a finite number');
        this.weight[g] = v;
      }
    } else {
      arr.forEach((l, b) => {
        if (l.weight) this.weight.set(l.weight, this.offset[b]!);
      });
    }
    // global index lists
    this.preStart = new Int32Array(B * nPre + 1);
    this.postStart = new Int32Array(B * nPost + 1);
    this.preSyn = new Int32Array(total);
    this.postSyn = new Int32Array(total);
    this.preOf = new Int32Array(total);
    this.postOf = new Int32Array(total);
    let maxDelay = 0;
    for (const l of seen.keys()) if (l.delay) for (let s = 0; s < l.delay.length; s++) maxDelay = Math.max(maxDelay, l.delay[s]!);
    this.delayOf = maxDelay > 0 ? new Int32Array(total) : null;
    for (let b = 0; b < B; b++) {
      const l = arr[b]!;
      const idx = this.indices[b]!;
      const off = this.offset[b]!;
      for (let i = 0; i < nPre; i++) this.preStart[b * nPre + i + 1] = off + idx.preStart[i + 1]!;
      for (let j = 0; j < nPost; j++) this.postStart[b * nPost + j + 1] = off + idx.postStart[j + 1]!;
      for (let q = 0; q < l.pre.length; q++) {
        this.preSyn[off + q] = off + idx.preSyn[q]!;
        this.postSyn[off + q] = off + idx.postSyn[q]!;
        this.preOf[off + q] = b * nPre + l.pre[q]!;
        this.postOf[off + q] = b * nPost + l.post[q]!;
        if (this.delayOf) this.delayOf[off + q] = l.delay ? l.delay[q]! : 0;
      }
    }
    this.maxDelay = maxDelay;
    this.perSynapse = maxDelay > 0;
    const nx = this.perSynapse ? total : B * nPre;
    const ny = this.perSynapse ? total : B * nPost;
    this.xPre = new Float64Array(nx);
    this.lastPre = new Int32Array(nx);
    this.xPost = new Float64Array(ny);
    this.lastPost = new Int32Array(ny);
    this.preStamp = new Int32Array(B * nPre).fill(-1);
    this.postStamp = new Int32Array(B * nPost).fill(-1);
    this.synStamp = this.perSynapse ? new Int32Array(total).fill(-1) : null;
    this.preSeen = new Int32Array(B * nPre);
    this.postSeen = new Int32Array(B * nPost);
    this.kPre = dt / tauPre;
    this.kPost = dt / tauPost;
    this.tablePre = Float64Array.from({ length: DECAY_TABLE }, (_, k) => Math.exp(-k * this.kPre));
    this.tablePost = Float64Array.from({ length: DECAY_TABLE }, (_, k) => Math.exp(-k * this.kPost));
    this.slots = Array.from({ length: maxDelay + 1 }, () => ({ ids: new Int32Array(64), n: 0 }));
  }

  /** e^{−gap·dt/τpre}. */
  private dPre(gap: number): number {
    return gap < DECAY_TABLE ? this.tablePre[gap]! : Math.exp(-gap * this.kPre);
  }

  /** e^{−gap·dt/τpost}. */
  private dPost(gap: number): number {
    return gap < DECAY_TABLE ? this.tablePost[gap]! : Math.exp(-gap * this.kPost);
  }

  /** Stores clip(v) at synapse g (float32) and reports the change. */
  private store(g: number, v: number): void {
    const c = v < this.wMin ? this.wMin : v > this.wMax ? this.wMax : v;
    if (this.onChange === null) {
      this.weight[g] = c;
      return;
    }
    const old = this.weight[g]!;
    this.weight[g] = c;
    const d = this.weight[g]! - old;
    if (d !== 0) this.onChange(g, d);
  }

  /**
   * Runs step {@link t}: `on_pre` for the presynaptic spikes `preIds[preFrom .. preFrom + preCount)`
   * (global units b·nPre + i, emitted at this step; delayed synapses fire when their delay has
   * passed), then `on_post` for `postIds[0 .. postCount)` (global units b·nPost + j); advances
   * {@link t}. `input` (length B·nPost), when given, receives `gain·w` per arriving presynaptic spike.
   *
   * A unit spikes at most once per step (as in Brian2 and NEST): each list must name a unit at most
   * once. The lists are checked before anything changes (O(spikes), against a stamp per unit, no
   * allocation); a refused step changes no state.
   * @throws CinderArgumentError for an id that is not an integer unit in range or is listed twice,
   *   counts or `preFrom` that are not integers ≥ 0, an `input` of another length, or a non-finite
   *   `gain` with an `input`
   */
  step(preIds: ArrayLike<number>, preCount: number, postIds: ArrayLike<number>, postCount: number, input: Float64Array | Float32Array | null = null, gain = 1, preFrom = 0): void {
    // validate before any state changes (O(spikes)); a call number stamps the units seen, so a
    // refused call leaves no mark that a later one could read
    checkInteger('preFrom', preFrom);
    checkInteger('preCount', preCount);
    checkInteger('postCount', postCount);
    if (input !== null) checkFinite('gain', gain);
    if (this.call === 0x7fffffff) {
      this.preSeen.fill(0);
      this.postSeen.fill(0);
      this.call = 0;
    }
    const c = ++this.call;
    const { preSeen, postSeen } = this;
    const nu = this.batch * this.nPre;
    for (let k = preFrom, end = preFrom + preCount; k < end; k++) {
      const u = preIds[k]!;
      if (!((u | 0) === u && u >= 0 && u < nu)) throw new CinderArgumentError(`preIds[${k}]`, u, `a presynaptic unit in [0, ${nu - 1}]`);
      if (preSeen[u] === c) throw new CinderArgumentError(`preIds[${k}]`, u, `a presynaptic unit listed once per step (also at preIds[${firstAt(preIds, preFrom, u)}])`);
      preSeen[u] = c;
    }
    const nv = this.batch * this.nPost;
    for (let k = 0; k < postCount; k++) {
      const u = postIds[k]!;
      if (!((u | 0) === u && u >= 0 && u < nv)) throw new CinderArgumentError(`postIds[${k}]`, u, `a postsynaptic unit in [0, ${nv - 1}]`);
      if (postSeen[u] === c) throw new CinderArgumentError(`postIds[${k}]`, u, `a postsynaptic unit listed once per step (also at postIds[${firstAt(postIds, 0, u)}])`);
      postSeen[u] = c;
    }
    if (input !== null && input.length !== nv) throw new CinderArgumentError('input', `length ${input.length}`, `length ${nv} (B·nPost)`);
    if (this.perSynapse) this.stepPerSynapse(preIds, preCount, postIds, postCount, input, gain, preFrom);
    else this.stepPerUnit(preIds, preCount, postIds, postCount, input, gain, preFrom);
    this.t++;
  }

  private stepPerUnit(preIds: ArrayLike<number>, preCount: number, postIds: ArrayLike<number>, postCount: number, input: Float64Array | Float32Array | null, gain: number, preFrom: number): void {
    const t = this.t;
    const mult = this.dependence === 'multiplicative';
    const cinder = this.order === 'cinder';
    const { weight: W, xPre, lastPre, xPost, lastPost, preStamp, postStamp, preStart, preSyn, postStart, postSyn, preOf, postOf, wMax } = this;
    const end = preFrom + preCount;
    // bump the presynaptic traces (on_pre's `Apre += aPre`; the weight update below reads Apost only)
    for (let k = preFrom; k < end; k++) {
      const u = preIds[k]!;
      xPre[u] = xPre[u]! * this.dPre(t - lastPre[u]!) + this.aPre;
      lastPre[u] = t;
      preStamp[u] = t;
    }
    if (cinder) {
      for (let k = 0; k < postCount; k++) {
        const u = postIds[k]!;
        xPost[u] = xPost[u]! * this.dPost(t - lastPost[u]!) + this.aPost;
        lastPost[u] = t;
        postStamp[u] = t;
      }
    }
    // on_pre
    for (let k = preFrom; k < end; k++) {
      const u = preIds[k]!;
      for (let q = preStart[u]!, e = preStart[u + 1]!; q < e; q++) {
        const g = preSyn[q]!;
        const j = postOf[g]!;
        const w = W[g]!;
        if (input !== null) input[j]! += gain * w;
        const ap = xPost[j]! * this.dPost(t - lastPost[j]!);
        let v = mult ? w + ap * w : w + ap;
        if (cinder && postStamp[j] === t) v += mult ? xPre[u]! * (wMax - w) : xPre[u]!;
        this.store(g, v);
      }
    }
    // on_post
    for (let k = 0; k < postCount; k++) {
      const j = postIds[k]!;
      if (!cinder) {
        xPost[j] = xPost[j]! * this.dPost(t - lastPost[j]!) + this.aPost;
        lastPost[j] = t;
      }
      for (let q = postStart[j]!, e = postStart[j + 1]!; q < e; q++) {
        const g = postSyn[q]!;
        const i = preOf[g]!;
        if (cinder && preStamp[i] === t) continue; // updated with this pair in on_pre
        const w = W[g]!;
        const ap = xPre[i]! * this.dPre(t - lastPre[i]!);
        this.store(g, mult ? w + ap * (wMax - w) : w + ap);
      }
    }
  }

  /** Brings synapse g's traces up to step `t` (per-synapse mode). */
  private decay(g: number, t: number): void {
    const gap = t - this.lastPre[g]!;
    if (gap === 0) return;
    this.xPre[g]! *= this.dPre(gap);
    this.xPost[g]! *= this.dPost(gap);
    this.lastPre[g] = t;
  }

  /** on_pre of synapse g at step t, per-synapse mode (delivery, then learning). */
  private preSynapse(g: number, t: number, input: Float64Array | Float32Array | null, gain: number, mult: boolean): void {
    this.decay(g, t);
    const w = this.weight[g]!;
    const j = this.postOf[g]!;
    if (input !== null) input[j]! += gain * w;
    this.xPre[g]! += this.aPre;
    if (this.order === 'cinder' && this.postStamp[j] === t) {
      this.xPost[g]! += this.aPost;
      this.synStamp![g] = t;
      this.store(g, mult ? w + this.xPost[g]! * w + this.xPre[g]! * (this.wMax - w) : w + this.xPost[g]! + this.xPre[g]!);
      return;
    }
    this.store(g, mult ? w + this.xPost[g]! * w : w + this.xPost[g]!);
  }

  private stepPerSynapse(preIds: ArrayLike<number>, preCount: number, postIds: ArrayLike<number>, postCount: number, input: Float64Array | Float32Array | null, gain: number, preFrom: number): void {
    const t = this.t;
    const mult = this.dependence === 'multiplicative';
    const D1 = this.maxDelay + 1;
    if (this.order === 'cinder') for (let k = 0; k < postCount; k++) this.postStamp[postIds[k]!] = t;
    // arrivals of earlier spikes (delays > 0)
    const slot = this.slots[t % D1]!;
    for (let k = 0; k < slot.n; k++) this.preSynapse(slot.ids[k]!, t, input, gain, mult);
    slot.n = 0;
    for (let k = preFrom, end = preFrom + preCount; k < end; k++) {
      const u = preIds[k]!;
      for (let q = this.preStart[u]!, e = this.preStart[u + 1]!; q < e; q++) {
        const g = this.preSyn[q]!;
        const d = this.delayOf![g]!;
        if (d === 0) this.preSynapse(g, t, input, gain, mult);
        else this.enqueue((t + d) % D1, g);
      }
    }
    for (let k = 0; k < postCount; k++) {
      const j = postIds[k]!;
      for (let q = this.postStart[j]!, e = this.postStart[j + 1]!; q < e; q++) {
        const g = this.postSyn[q]!;
        if (this.synStamp![g] === t) continue; // cinder order: already updated with this pair
        this.decay(g, t);
        this.xPost[g]! += this.aPost;
        const w = this.weight[g]!;
        this.store(g, mult ? w + this.xPre[g]! * (this.wMax - w) : w + this.xPre[g]!);
      }
    }
  }

  private enqueue(slotIndex: number, g: number): void {
    const slot = this.slots[slotIndex]!;
    if (slot.n === slot.ids.length) {
      const grown = new Int32Array(slot.ids.length * 2);
      grown.set(slot.ids);
      slot.ids = grown;
    }
    slot.ids[slot.n++] = g;
  }

  /** The instance owning global synapse id g (binary search over the offsets). */
  instanceOf(g: number): number {
    let lo = 0;
    let hi = this.batch - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offset[mid]! <= g) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Apre of global synapse g at the last step run (step {@link t} − 1), read without changing state. */
  preTrace(g: number): number {
    const u = this.perSynapse ? g : this.preOf[g]!;
    return this.xPre[u]! * Math.exp(-(this.t - 1 - this.lastPre[u]!) * this.kPre);
  }

  /** Apost of global synapse g at the last step run (step {@link t} − 1), read without changing state. */
  postTrace(g: number): number {
    const u = this.perSynapse ? g : this.postOf[g]!;
    const last = this.perSynapse ? this.lastPre[u]! : this.lastPost[u]!;
    return this.xPost[u]! * Math.exp(-(this.t - 1 - last) * this.kPost);
  }

  /** Clears traces, pending delayed spikes and the step counter (weights are kept). */
  reset(): void {
    for (const a of [this.xPre, this.xPost]) a.fill(0);
    for (const a of [this.lastPre, this.lastPost]) a.fill(0);
    for (const a of [this.preStamp, this.postStamp, this.synStamp]) a?.fill(-1);
    for (const s of this.slots) s.n = 0;
    this.t = 0;
  }
}

/** The first position k ≥ `from` of `u` in `ids` (for the message of a repeated id). */
function firstAt(ids: ArrayLike<number>, from: number, u: number): number {
  let k = from;
  while (ids[k] !== u) k++;
  return k;
}

/**
 * Collects the indices of the non-zero entries of a dense spike vector into `out` (global unit ids)
 * and returns their number — for callers that hold spikes densely.
 */
export function spikeList(spikes: ArrayLike<number>, out: Int32Array): number {
  let n = 0;
  for (let u = 0; u < spikes.length; u++) if (spikes[u]! !== 0) out[n++] = u;
  return n;
}
