/**
 * A batched, event-driven network engine in plain typed arrays (no tfjs ops per step), for sparse
 * spiking networks simulated at a fixed step the way Brian2 does it.
 *
 * `B` independent instances ("lanes", e.g. seeds) are simulated at once; each lane has its own
 * state, connectivity, weights and random stream, so a lane's result does not depend on the others.
 * Lanes are advanced one after the other over a chunk of steps ({@link EventNetwork.run}), which is
 * equivalent to stepping them together and keeps each lane's arrays in cache.
 *
 * One step `t` (time t·dt), in Brian2's schedule order:
 * 1. state updates — every LIF population, forward Euler with all right-hand sides taken from the
 *    old values (Brian2 `method="euler"`):
 *      v ← v + (dt/τm)·(E_l − v + g_e − g_i)   only when not refractory, i.e. (t − t_spike)/dt ≥
 *      ⌊τref/dt + 10⁻³⌋ (Brian2's `timestep(refractory, dt)`, which rounds down with a 10⁻³ tolerance)
 *      g_e ← g_e − (dt/τs)·g_e,  g_i ← g_i − (dt/τs)·g_i
 *    or, per population ({@link LifParams}): separate τe, τi; the conductance drive
 *    τm dv/dt = E_l − v + g_e(E_e − v) + g_i(E_i − v); the exact scheme with g held over the step
 *    (v ← v·d + E_l(1 − d) + (1 − d)(g_e − g_i), d = e^{−dt/τm}, or v ← v∞ + (v − v∞)·e^{−dt·G/τm}
 *    with G = 1 + g_e + g_i, v∞ = (E_l + g_e E_e + g_i E_i)/G; g ← g·e^{−dt/τ}); spikes at v ≥ V_th;
 *    a refractory period given in whole steps. Either way a spike's jump (step 3) is first felt by
 *    v in the next step's update.
 * 2. thresholds — LIF: spike when v > V_th and not refractory; Poisson inputs: spike when
 *    u < rate·dt (rate inputs, one uniform per neuron and step) or by geometric skipping over the
 *    (step, neuron) slots (constant-rate background: the same Bernoulli(rate·dt) process, work ∝
 *    spikes).
 * 3. synaptic pathways — first every projection's `on_pre` (for each presynaptic spike, over its
 *    synapses by pre, CSR), then every plastic projection's `on_post` (for each postsynaptic spike,
 *    over its synapses by post, CSR): Brian2 gives pre pathways order −1 and post pathways +1.
 * 4. resets — v ← V_reset, t_spike ← t.
 *
 * Pair STDP with event-driven traces (Brian2 `(event-driven)`): a trace decays exactly between
 * events, a ← a·exp(−(t − t_last)·dt/τ) (a float64 table lookup by whole steps), and
 *   on_pre:  g_post += scale·w;  a_pre += A_pre;   w ← clip(w + a_post·f_pre(w), 0, w_max)
 *   on_post:                     a_post += A_post; w ← clip(w + a_pre·f_post(w), 0, w_max)
 * Brian2 keeps both traces per synapse, but every synapse of one presynaptic neuron sees the same
 * presynaptic spikes (and every synapse onto one postsynaptic neuron the same postsynaptic spikes),
 * starting from 0: its a_pre is the presynaptic neuron's trace and its a_post the postsynaptic
 * neuron's. The engine therefore keeps one float64 trace per neuron (same values, memory and work
 * O(neurons) instead of O(synapses)); the pre trace jumps once per presynaptic spike before that
 * spike's synapses are visited, the post trace once per postsynaptic spike.
 * with f_pre = f_post = 1 (additive) or f_pre(w) = w, f_post(w) = w_max − w (multiplicative).
 * Zero amplitudes freeze learning the way Brian2 does when A_pre = A_post = 0: the traces left from
 * before still decay and still move weights until they have decayed. Every event clips its
 * synapse's weight, also when the other trace has decayed (a weight given outside [0, w_max] is
 * clipped at its first pre or post event, as in Brian2).
 *
 * Cost per step and lane: one pass over the LIF cells (steps 1 and 2 fused, one loop per drive and
 * method, constants hoisted: the exact conductance scheme costs one exponential per free cell, the
 * others none; with the default current drive and Euler, a population's g_i
 * pass is skipped while all its g_i are +0, e.g. MON without inhibitory spikes; where WebAssembly
 * SIMD is available each LIF group keeps v, g_e, g_i, lastSpike and spikes in a WebAssembly memory
 * of its own and the pass runs 4 cells at a time in f64x2, bit-identical: ./event-simd.ts; there
 * the exponential is fdlibm's exp on f64x2, two cells at a time, which gives V8's Math.exp bits,
 * instead of a scalar Math.exp call per cell, most of the step's cost), one visit per
 * synapse of each spiking neuron, one draw per rate input and one per background spike. The
 * pathway loops are specialised by rule and by storage order (the pathway that walks synapses in
 * storage order reads no synapse-id list); every variant does the same float operations in the same
 * order, so results do not depend on the storage order or on which path ran (test/kernels/event-network.test.ts).
 *
 * State is float32 (v, g_e, g_i, weights, traces); arithmetic is done in float64 and rounded on
 * store. The random streams are counter-based ({@link LaneRng}): their whole state is one uint32
 * per lane and stream, so a network can be checkpointed and resumed bit for bit.
 * @module
 */
import { CinderArgumentError, MAX_ELEMENTS, checkDt } from '../../core/errors.js';
import type { RandomSource } from '../../core/random.js';
import { groupByUnit } from '../../core/group-by.js';
import type { EventSTDP, WeightDependence } from './event-stdp.js';
import { incomingWeightSums, meanIncoming, scaleIncoming } from './sparse-homeostasis.js';
import { aboveF32, eventSimdOn, lifArena, type LifArena } from './event-simd.js';
import { brian2Timestep } from '../../core/timestep.js';

export { setEventSimd } from './event-simd.js';

/**
 * Counter-based uniform generator (Mulberry32): state s is a Weyl counter, s ← s + 0x6D2B79F5 per
 * draw, and the output is a fixed 32-bit mixing hash of s divided by 2³². Period 2³²; the whole
 * state is the uint32 `state`.
 */
export class LaneRng implements RandomSource {
  /** The counter (uint32). */
  state: number;

  /** @param seed any integer (taken modulo 2³²) */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box–Muller, one value per call; two uniforms). */
  normal(): number {
    let u = this.uniform();
    while (u <= 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Integer uniform in [0, n) for an integer 1 ≤ n ≤ 2³²: ⌊u·n⌋ with u on a 2⁻³² grid (relative bias below n·2⁻³²; larger n would skip values). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new CinderArgumentError('n', n, 'an integer in [1, 2^32] (a draw from [0, n))');
    return Math.floor(this.uniform() * n);
  }
}

/** Mixes integers into a 32-bit seed (for deriving independent streams from a seed and a tag). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** LIF parameters (mV, ms) of {@link EventNetwork.addLif}. */
export interface LifParams {
  /** Resting (leak) potential E_l (mV). */
  el: number;
  /** Threshold V_th (mV): spike when v > V_th. */
  vThreshold: number;
  /** Reset V_reset (mV). */
  vReset: number;
  /** Membrane time constant τm (ms). */
  tauM: number;
  /** Synaptic time constant τs of g_e and g_i (ms); optional when both {@link tauE} and {@link tauI} are given. */
  tauS?: number;
  /** Refractory period τref (ms); v is held for Brian2's `timestep(τref, dt)` steps after a spike ({@link refractorySteps}) unless {@link refractorySteps} is given. */
  tauRef: number;
  /**
   * How g_e and g_i act on v (default `'current'`): `'current'` τm dv/dt = E_l − v + g_e − g_i
   * (g_i ≥ 0 inhibits); `'conductance'` τm dv/dt = E_l − v + g_e·(E_e − v) + g_i·(E_i − v)
   * (conductances in units of the leak conductance; needs {@link ee} and {@link ei}).
   */
  drive?: 'current' | 'conductance';
  /**
   * Integration scheme (default `'euler'`): `'euler'` forward Euler from the old values (module
   * docs); `'exact'` the exact solution with g_e, g_i held over the step (Brian2's
   * `exponential_euler` for these equations, Cinder's `LinearMembrane`):
   * current v ← v·d + E_l·(1 − d) + (1 − d)·(g_e − g_i), d = e^{−dt/τm} (constants only);
   * conductance G = 1 + g_e + g_i, v∞ = (E_l + g_e·E_e + g_i·E_i)/G, v ← v∞ + (v − v∞)·e^{−dt·G/τm}
   * (one exponential, Math.exp or its bit-identical f64x2 version, per free neuron and step); and
   * g ← g·e^{−dt/τ} instead of g ← g·(1 − dt/τ).
   */
  method?: 'euler' | 'exact';
  /** Time constant of g_e (ms); default {@link tauS}. */
  tauE?: number;
  /** Time constant of g_i (ms); default {@link tauS}. */
  tauI?: number;
  /** Excitatory reversal potential E_e (mV), drive `'conductance'`. */
  ee?: number;
  /** Inhibitory reversal potential E_i (mV), drive `'conductance'`. */
  ei?: number;
  /** Spike when v ≥ V_th (Cinder's LIF) instead of v > V_th (Brian2; the default false). */
  spikeAtThreshold?: boolean;
  /**
   * Whole steps k of the refractory period, overriding the count from {@link tauRef}: a neuron
   * that spiked at step n is held during steps n+1 … n+k−1 and free from n+k (an integer ≥ 0).
   */
  refractorySteps?: number;
}

/** How a group makes spikes. */
export type GroupKind = 'lif' | 'rate' | 'poisson';

/** A group of neurons (LIF population or Poisson input) in every lane. */
export class EventGroup {
  /** Spikes of the current step (indices) for the lane being advanced. */
  readonly spikes: Int32Array;
  /** Number of entries of {@link spikes} in use. */
  count = 0;
  /** Total spikes per lane since the last {@link EventNetwork.resetCounts}. */
  readonly spikeCounts: Float64Array;
  /** Recorded spikes per lane (when recording): step and index, growable. */
  readonly recorded: { step: Int32Array; index: Int32Array; length: number }[];
  /** Whether spikes are recorded. */
  recording = false;
  // LIF state (lane-major, [B·n]).
  v: Float32Array;
  ge: Float32Array;
  gi: Float32Array;
  lastSpike: Int32Array;
  /**
   * LIF, per lane: 0 when every g_i of the lane is known to be +0 (its update and decay are then
   * skipped: v + k·(E_l − v + g_e − 0) is the same float as with the term), 1 otherwise. Recomputed
   * from g_i at the start of every {@link EventNetwork.run}, so state written between runs is seen.
   */
  readonly giLive: Uint8Array;
  // Poisson state.
  /** Rate inputs: rates (Hz) per lane, [steps·n] for the current chunk (row = step). */
  rates: Float32Array[] = [];
  /** Constant-rate Poisson: slots left to skip before the next spike, per lane. */
  skip: Float64Array;
  rateHz = 0;

  constructor(
    /** Name (for messages). */
    readonly name: string,
    /** Neurons per lane. */
    readonly n: number,
    /** Spike mechanism. */
    readonly kind: GroupKind,
    readonly batch: number,
    /** LIF parameters (kind 'lif'). */
    readonly lif?: LifParams,
  ) {
    const arena = kind === 'lif' ? lifArena(batch, n) : null;
    this.spikes = arena ? arena.spikes : new Int32Array(n);
    this.spikeCounts = new Float64Array(batch);
    this.recorded = Array.from({ length: batch }, () => ({ step: new Int32Array(1024), index: new Int32Array(1024), length: 0 }));
    const size = kind === 'lif' ? batch * n : 0;
    // LIF state: views on the group's own WebAssembly memory where SIMD applies (./event-simd.ts)
    this.v = arena ? arena.v : new Float32Array(size);
    this.ge = arena ? arena.ge : new Float32Array(size);
    this.gi = arena ? arena.gi : new Float32Array(size);
    this.lastSpike = (arena ? arena.lastSpike : new Int32Array(size)).fill(-1_000_000_000);
    if (arena) arenas.set(this, arena);
    this.giLive = new Uint8Array(kind === 'lif' ? batch : 0).fill(1);
    this.skip = new Float64Array(kind === 'poisson' ? batch : 0).fill(-1);
  }

  /** Appends a spike to lane b's recording. */
  record(b: number, step: number, index: number): void {
    const r = this.recorded[b]!;
    if (r.length === r.step.length) {
      const s = new Int32Array(r.step.length * 2);
      s.set(r.step);
      const i = new Int32Array(r.step.length * 2);
      i.set(r.index);
      r.step = s;
      r.index = i;
    }
    r.step[r.length] = step;
    r.index[r.length] = index;
    r.length++;
  }

  /** Lane b's recorded spikes (copies) and clears the recording. */
  takeRecording(b: number): { step: Int32Array; index: Int32Array } {
    const r = this.recorded[b]!;
    const out = { step: r.step.slice(0, r.length), index: r.index.slice(0, r.length) };
    r.length = 0;
    return out;
  }
}

/** Pair-STDP settings of a projection, as given to {@link EventNetwork.addProjection}. */
export interface StdpParams {
  /** 'additive' or 'multiplicative' (LTD ∝ w, LTP ∝ w_max − w), as {@link EventSTDP}'s. */
  dependence: WeightDependence;
  /** Pre trace time constant (ms). */
  tauPre: number;
  /** Post trace time constant (ms). */
  tauPost: number;
  /** Jump of the pre trace per presynaptic spike. */
  aPre: number;
  /** Jump of the post trace per postsynaptic spike. */
  aPost: number;
  /** Upper weight bound (lower bound 0). */
  wMax: number;
}

/**
 * The pair-STDP settings a plastic projection holds ({@link EventProjection.stdp}): the amplitudes
 * `aPre`, `aPost`, the bound `wMax` and the `dependence` may be changed between chunks
 * (`projection.stdp.aPre = 0`; the next on_pre / on_post reads them). The time constants are fixed
 * when the projection is added (their decay tables exp(−k·dt/τ) are built then): assigning
 * `tauPre` or `tauPost` throws.
 */
export interface ProjectionStdp {
  /** 'additive' or 'multiplicative', as in {@link StdpParams}. */
  dependence: WeightDependence;
  /** Pre trace time constant (ms); fixed. */
  readonly tauPre: number;
  /** Post trace time constant (ms); fixed. */
  readonly tauPost: number;
  /** Jump of the pre trace per presynaptic spike. */
  aPre: number;
  /** Jump of the post trace per postsynaptic spike. */
  aPost: number;
  /** Upper weight bound (lower bound 0). */
  wMax: number;
}

/**
 * One lane's synapses of a projection (stored sorted by pre or by post), with CSR lists by pre and by
 * post. Built by {@link buildProjectionLane}, which keeps only what the storage order needs and
 * builds the rest on first read (see there): treat every array as read-only except `w` and the traces.
 */
export interface ProjectionLane {
  /** Storage order of the synapses ('pre': sorted by pre, then input order; 'post': by post). */
  readonly order: 'pre' | 'post';
  /** Presynaptic cells. */
  readonly nPre: number;
  /** Postsynaptic cells. */
  readonly nPost: number;
  /** Row pointers by pre into {@link preSyn}: the synapses of pre i are preSyn[preRow[i] … preRow[i+1]). */
  readonly preRow: Int32Array;
  /** Synapse ids grouped by presynaptic index (the identity in 'pre' order). */
  readonly preSyn: Int32Array;
  /** Postsynaptic index of each entry of {@link preSyn}. */
  readonly postByPre: Int32Array;
  /** Presynaptic index per synapse (storage order). */
  readonly pre: Int32Array;
  /** Postsynaptic index per synapse. */
  readonly post: Int32Array;
  /** Row pointers by post into {@link postSyn}. */
  readonly postRow: Int32Array;
  /** Synapse ids grouped by postsynaptic index (the identity in 'post' order). */
  readonly postSyn: Int32Array;
  /** Presynaptic index of each entry of {@link postSyn}. */
  readonly preByPost: Int32Array;
  /** Weight per synapse. */
  w: Float32Array;
  /** Pre trace per presynaptic neuron (plastic projections; float64). */
  xPre: Float64Array;
  /** Step of the last update of each pre trace. */
  xPreLast: Int32Array;
  /** Post trace per postsynaptic neuron (plastic projections; float64). */
  yPost: Float64Array;
  /** Step of the last update of each post trace. */
  yPostLast: Int32Array;
}

/** CSR row pointers of `key` (values in [0, nKey)): row[k] … row[k+1] are the entries of key k. */
function csrRows(key: ArrayLike<number>, nKey: number): Int32Array {
  const row = new Int32Array(nKey + 1);
  for (let s = 0; s < key.length; s++) row[key[s]! + 1]!++;
  for (let k = 0; k < nKey; k++) row[k + 1]! += row[k]!;
  return row;
}

/** 0, 1, …, n − 1. */
function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let r = 0; r < n; r++) a[r] = r;
  return a;
}

/** The key of each entry of a CSR list (row pointers `row`): the inverse of {@link csrRows} on a sorted key. */
function expandRows(row: Int32Array): Int32Array {
  const out = new Int32Array(row[row.length - 1]!);
  for (let k = 0; k + 1 < row.length; k++) out.fill(k, row[k]!, row[k + 1]!);
  return out;
}

/** The CSR list of a storage-ordered lane by its other index: row pointers, synapse ids, and the key's partner per entry. */
function crossIndex(of: Int32Array, nOf: number, other: Int32Array): { row: Int32Array; syn: Int32Array; oth: Int32Array } {
  const n = of.length;
  const { start: row, order: syn } = groupByUnit(of, nOf, n);
  const oth = new Int32Array(n);
  for (let r = 0; r < n; r++) oth[r] = other[syn[r]!]!;
  return { row, syn, oth };
}

/**
 * A lane in storage order `order`. Kept: the weights, the row pointers of the storage key, the
 * partner index per synapse (which is also the CSR list by the key, e.g. postByPre = post in 'pre'
 * order), and the CSR list by the other key in 'post' order (delivery walks synapses by pre). Built
 * on first read and then kept: the storage key per synapse (expanded from its row pointers), the
 * identity list of the storage key, and in 'pre' order the CSR list by post (STDP's on_post and
 * homeostasis read it; static projections never do). A static lane in 'pre' order so holds 8 bytes
 * per synapse (w and post) instead of 28.
 */
class LeanLane implements ProjectionLane {
  private keyOf: Int32Array | null = null;
  private ident: Int32Array | null = null;
  private cross: { row: Int32Array; syn: Int32Array; oth: Int32Array } | null;
  xPre: Float64Array;
  xPreLast: Int32Array;
  yPost: Float64Array;
  yPostLast: Int32Array;

  constructor(
    readonly order: 'pre' | 'post',
    readonly nPre: number,
    readonly nPost: number,
    /** Row pointers by the storage key. */
    private readonly keyRow: Int32Array,
    /** The other index per synapse (storage order). */
    private readonly partner: Int32Array,
    public w: Float32Array,
    plastic: boolean,
  ) {
    // delivery walks by pre: a 'post'-ordered lane needs its by-pre list at once
    this.cross = order === 'post' ? crossIndex(partner, nPre, this.key()) : null;
    this.xPre = new Float64Array(plastic ? nPre : 0);
    this.xPreLast = new Int32Array(plastic ? nPre : 0);
    this.yPost = new Float64Array(plastic ? nPost : 0);
    this.yPostLast = new Int32Array(plastic ? nPost : 0);
  }

  /** The storage key per synapse. */
  private key(): Int32Array {
    return (this.keyOf ??= expandRows(this.keyRow));
  }

  private identity(): Int32Array {
    return (this.ident ??= identity(this.partner.length));
  }

  /** The CSR list by the other key. */
  private byOther(): { row: Int32Array; syn: Int32Array; oth: Int32Array } {
    return (this.cross ??= crossIndex(this.partner, this.order === 'pre' ? this.nPost : this.nPre, this.key()));
  }

  get preRow(): Int32Array {
    return this.order === 'pre' ? this.keyRow : this.byOther().row;
  }
  get preSyn(): Int32Array {
    return this.order === 'pre' ? this.identity() : this.byOther().syn;
  }
  get postByPre(): Int32Array {
    return this.order === 'pre' ? this.partner : this.byOther().oth;
  }
  get pre(): Int32Array {
    return this.order === 'pre' ? this.key() : this.partner;
  }
  get post(): Int32Array {
    return this.order === 'pre' ? this.partner : this.key();
  }
  get postRow(): Int32Array {
    return this.order === 'post' ? this.keyRow : this.byOther().row;
  }
  get postSyn(): Int32Array {
    return this.order === 'post' ? this.identity() : this.byOther().syn;
  }
  get preByPost(): Int32Array {
    return this.order === 'post' ? this.partner : this.byOther().oth;
  }
}

/**
 * Builds one lane's synapse lists from (pre, post, weight) triples, stored sorted by pre (`order`
 * 'pre', the default) or by post ('post': sequential memory for the on_post pathway, best when
 * postsynaptic spikes visit more synapses than presynaptic ones); the sort is stable. Both pathways
 * get CSR index lists; what the storage order does not need is built on first read (see
 * {@link LeanLane}): memory per synapse 8 bytes for a static 'pre'-ordered lane (plus 4 per `nPre`),
 * 20 for a plastic one (its by-post list is built when the projection is added). The inputs are copied (the lane never aliases them).
 * `w` is one weight per synapse, or one number for every synapse (no list of n equal weights to
 * make); weights are stored as float32.
 * @throws CinderArgumentError when lengths differ, an index is out of range or a single weight is not finite
 */
export function buildProjectionLane(pre: ArrayLike<number>, post: ArrayLike<number>, w: ArrayLike<number> | number, nPre: number, nPost: number, plastic: boolean, order: 'pre' | 'post' = 'pre'): ProjectionLane {
  const n = pre.length;
  const one = typeof w === 'number';
  if (one && !Number.isFinite(w)) throw new CinderArgumentError('weight', w, 'a finite number (one weight for every synapse) or a list of them');
  if (post.length !== n || (!one && w.length !== n)) throw new CinderArgumentError('synapse lists', `${n}/${post.length}/${one ? n : w.length} entries`, 'pre, post and weight lists of equal length');
  if (n > MAX_LANE_SYNAPSES) throw new CinderArgumentError('synapse lists', `${n} entries`, `at most ${MAX_LANE_SYNAPSES} synapses per lane (the CSR row pointers are int32)`);
  if (order !== 'pre' && order !== 'post') throw new CinderArgumentError('order', order, "'pre' or 'post'");
  // int32 lists are integers by type: only their range is checked (and, for other lists, their integrality)
  const ints = pre instanceof Int32Array && post instanceof Int32Array;
  if (!ints) {
    for (let s = 0; s < n; s++) {
      const i = pre[s]!;
      const j = post[s]!;
      if (!(i >= 0 && i < nPre && Number.isInteger(i))) throw new CinderArgumentError('pre index', i, `an integer in [0, ${nPre})`);
      if (!(j >= 0 && j < nPost && Number.isInteger(j))) throw new CinderArgumentError('post index', j, `an integer in [0, ${nPost})`);
    }
  }
  const P = ints ? pre : new Int32Array(pre);
  const Q = ints ? post : new Int32Array(post);
  const byPre = order === 'pre';
  const key = byPre ? P : Q;
  const other = byPre ? Q : P;
  const nKey = byPre ? nPre : nPost;
  // one pass: range check (int32 lists), row counts, and whether the list is already in storage order
  const keyRow = new Int32Array(nKey + 1);
  let sorted = true;
  for (let s = 0, last = 0; s < n; s++) {
    const i = P[s]!;
    const j = Q[s]!;
    if (!(i >= 0 && i < nPre)) throw new CinderArgumentError('pre index', i, `an integer in [0, ${nPre})`);
    if (!(j >= 0 && j < nPost)) throw new CinderArgumentError('post index', j, `an integer in [0, ${nPost})`);
    const k = byPre ? i : j;
    keyRow[k + 1]!++;
    if (k < last) sorted = false;
    last = k;
  }
  for (let k = 0; k < nKey; k++) keyRow[k + 1]! += keyRow[k]!;
  let partner: Int32Array;
  let sW: Float32Array;
  if (sorted) {
    // already in storage order: the stable sort is the identity, the lists are copied as they are
    partner = other.slice();
    sW = typeof w === 'number' ? new Float32Array(n).fill(w) : new Float32Array(w);
  } else {
    // storage order: a stable counting sort by the key
    const fill = keyRow.slice(0, keyRow.length - 1);
    partner = new Int32Array(n);
    sW = new Float32Array(n);
    const list = typeof w === 'number' ? null : w;
    if (list === null) sW.fill(w as number);
    for (let s = 0; s < n; s++) {
      const k = fill[key[s]!]!++;
      partner[k] = other[s]!;
      if (list) sW[k] = list[s]!;
    }
  }
  return new LeanLane(order, nPre, nPost, keyRow, partner, sW, plastic);
}

/** A projection from a group onto the g_e or g_i of a LIF population, in every lane. */
export class EventProjection {
  private readonly settings: ProjectionStdp | undefined;
  private decayPre: Float64Array = new Float64Array(0);
  private decayPost: Float64Array = new Float64Array(0);
  /** Per lane: synapses stored in pre order (preSyn is the identity). */
  private readonly preOrdered: boolean[];
  /** Per lane: synapses stored in post order (postSyn is the identity). */
  private readonly postOrdered: boolean[];

  constructor(
    /** Name (for messages). */
    readonly name: string,
    /** Presynaptic group. */
    readonly source: EventGroup,
    /** Postsynaptic LIF population. */
    readonly target: EventGroup,
    /** Which conductance a spike increments. */
    readonly channel: 'ge' | 'gi',
    /** Factor on w when delivered (e.g. mV per unit weight). */
    readonly scale: number,
    /** Synapses per lane. */
    readonly lanes: ProjectionLane[],
    stdp: StdpParams | undefined,
    dt: number,
  ) {
    this.preOrdered = lanes.map((L) => L.order === 'pre');
    this.postOrdered = lanes.map((L) => L.order === 'post');
    if (stdp) {
      this.decayPre = decayTable(stdp.tauPre, dt, `${name} stdp.tauPre`);
      this.decayPost = decayTable(stdp.tauPost, dt, `${name} stdp.tauPost`);
      const settings = { ...stdp };
      for (const key of ['tauPre', 'tauPost'] as const) {
        const tau = stdp[key];
        Object.defineProperty(settings, key, {
          enumerable: true,
          get: () => tau,
          set: (v: unknown) => {
            throw new CinderArgumentError(`${name} stdp.${key}`, v, `${tau}, the value the projection was added with (its trace decay table is built then; add a new projection for another time constant)`);
          },
        });
      }
      this.settings = settings;
    }
  }

  /**
   * STDP settings (undefined: static synapses). The amplitudes, `wMax` and `dependence` may be
   * changed in place between chunks (`projection.stdp.aPre = 0`); the time constants are fixed (see
   * {@link ProjectionStdp}). STDP itself is chosen when the projection is added (a static
   * projection's lanes have no traces): assigning `stdp` throws.
   */
  get stdp(): ProjectionStdp | undefined {
    return this.settings;
  }

  set stdp(v: StdpParams | undefined) {
    throw new CinderArgumentError(`${this.name} stdp`, v, "no assignment (STDP is chosen by addProjection's options.stdp; change amplitudes in place, e.g. projection.stdp.aPre = 0)");
  }

  /**
   * on_pre for lane b: delivers the presynaptic spikes of this step (and the STDP pre update).
   * Loops are specialised (static / additive / multiplicative; synapses stored in pre order, where
   * the synapse id of CSR entry r is r itself, or not); every variant does the same float operations
   * in the same order.
   */
  deliver(b: number, t: number): void {
    const src = this.source;
    const spikes = src.spikes;
    const count = src.count;
    const L = this.lanes[b]!;
    const g = this.channel === 'ge' ? this.target.ge : this.target.gi;
    const off = b * this.target.n;
    if (this.channel === 'gi') this.target.giLive[b] = 1;
    const { preRow, postByPre, w } = L;
    const scale = this.scale;
    const byPre = this.preOrdered[b]!;
    const preSyn = byPre ? postByPre : L.preSyn; // read only when !byPre (in 'pre' order it would be the identity)
    const st = this.settings;
    if (!st) {
      if (byPre) {
        for (let k = 0; k < count; k++) {
          const i = spikes[k]!;
          for (let r = preRow[i]!, e = preRow[i + 1]!; r < e; r++) g[off + postByPre[r]!] += scale * w[r]!;
        }
      } else {
        for (let k = 0; k < count; k++) {
          const i = spikes[k]!;
          for (let r = preRow[i]!, e = preRow[i + 1]!; r < e; r++) g[off + postByPre[r]!] += scale * w[preSyn[r]!]!;
        }
      }
      return;
    }
    const { xPre, xPreLast, yPost, yPostLast } = L;
    const dPre = this.decayPre;
    const dPost = this.decayPost;
    const nPre = dPre.length;
    const nPost = dPost.length;
    const A = st.aPre;
    const wMax = st.wMax;
    const mult = st.dependence === 'multiplicative';
    for (let k = 0; k < count; k++) {
      const i = spikes[k]!;
      const di = t - xPreLast[i]!;
      xPre[i] = xPre[i]! * (di < nPre ? dPre[di]! : 0) + A;
      xPreLast[i] = t;
      const r0 = preRow[i]!;
      const r1 = preRow[i + 1]!;
      for (let r = r0; r < r1; r++) {
        const j = postByPre[r]!;
        const s = byPre ? r : preSyn[r]!;
        const ws = w[s]!;
        g[off + j] += scale * ws;
        const dj = t - yPostLast[j]!;
        const ap = dj < nPost ? yPost[j]! * dPost[dj]! : 0;
        const nw = mult ? ws + ap * ws : ws + ap;
        w[s] = nw < 0 ? 0 : nw > wMax ? wMax : nw;
      }
    }
  }

  /** on_post for lane b: the STDP post update for the postsynaptic spikes of this step. */
  learnPost(b: number, t: number): void {
    const st = this.settings;
    if (!st) return;
    const tgt = this.target;
    const spikes = tgt.spikes;
    const count = tgt.count;
    const L = this.lanes[b]!;
    const { postRow, w, xPre, xPreLast, yPost, yPostLast } = L;
    const byPost = this.postOrdered[b]!;
    const postSyn = byPost ? postRow : L.postSyn; // read only when !byPost
    const dPre = this.decayPre;
    const dPost = this.decayPost;
    const nPre = dPre.length;
    const nPost = dPost.length;
    const A = st.aPost;
    const wMax = st.wMax;
    const mult = st.dependence === 'multiplicative';
    const preOf = L.preByPost;
    for (let k = 0; k < count; k++) {
      const j = spikes[k]!;
      const dj = t - yPostLast[j]!;
      yPost[j] = yPost[j]! * (dj < nPost ? dPost[dj]! : 0) + A;
      yPostLast[j] = t;
      const r0 = postRow[j]!;
      const r1 = postRow[j + 1]!;
      if (mult) {
        for (let r = r0; r < r1; r++) {
          const i = preOf[r]!;
          const di = t - xPreLast[i]!;
          const a = di < nPre ? xPre[i]! * dPre[di]! : 0; // every event clips, as on_pre does
          const s = byPost ? r : postSyn[r]!;
          const ws = w[s]!;
          const nw = ws + a * (wMax - ws);
          w[s] = nw < 0 ? 0 : nw > wMax ? wMax : nw;
        }
      } else {
        for (let r = r0; r < r1; r++) {
          const i = preOf[r]!;
          const di = t - xPreLast[i]!;
          const a = di < nPre ? xPre[i]! * dPre[di]! : 0; // every event clips, as on_pre does
          const s = byPost ? r : postSyn[r]!;
          const nw = w[s]! + a;
          w[s] = nw < 0 ? 0 : nw > wMax ? wMax : nw;
        }
      }
    }
  }
}

/**
 * exp(−k·dt/τ) for whole steps k until it is below 1e-30 (float64): ⌈69·τ/dt⌉ + 1 entries, at most
 * {@link MAX_ELEMENTS} (τ/dt <= about 3.9e6; `param` names τ in the error).
 */
function decayTable(tau: number, dt: number, param: string): Float64Array {
  if (!(tau > 0)) throw new CinderArgumentError('STDP tau', tau, 'a positive time constant in ms');
  const n = Math.ceil((69 * tau) / dt) + 1;
  if (!(n <= MAX_ELEMENTS)) {
    throw new CinderArgumentError(param, tau, `a time constant of at most ${Math.floor((MAX_ELEMENTS - 1) / 69)} steps of dt = ${dt} ms (its decay table exp(−k·dt/τ), k < 69·τ/dt, would need ${n} entries; the limit is ${MAX_ELEMENTS})`);
  }
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = Math.exp((-k * dt) / tau);
  return out;
}

/** The longest refractory period in steps (2^28): the never-spiked marker −10⁹ stays below every step's free bound. */
export const MAX_REFRACTORY_STEPS = 2 ** 28;

/** The last step number a network may reach: steps are stored as int32 ({@link EventNetwork.run}). */
export const MAX_STEP = 2 ** 31 - 1;

/** The most synapses a lane holds: its CSR row pointers are int32. */
export const MAX_LANE_SYNAPSES = 2 ** 31 - 1;

/**
 * Whole steps of a refractory period as Brian2 counts them: its `timestep(τref, dt)` on the values
 * in seconds ({@link brian2Timestep}; 1.3 ms at dt 0.5 ms: 2 steps; 2 ms at dt 0.1 ms: 20, though
 * 2/0.1 is 19.999… in float64; 0.1999 ms at dt 0.1 ms: 2), the count `refracCount: 'steps'` uses.
 */
export function refractorySteps(tauRef: number, dt: number): number {
  return brian2Timestep(tauRef, dt);
}

/**
 * The batched network: groups, projections, one random stream per lane. Add groups and
 * projections, set initial state, then call {@link run} for chunks of steps.
 */
export class EventNetwork {
  /** Groups in creation order. */
  readonly groups: EventGroup[] = [];
  /** Projections in creation order. */
  readonly projections: EventProjection[] = [];
  /** Random stream per lane (Poisson inputs). */
  readonly rng: LaneRng[];
  /** Current step (the next step to simulate). */
  step = 0;

  /**
   * @param batch number of lanes
   * @param dt step (ms): a number > 0 that float32 holds as a normal number (2^-126 <= dt <= 3.4028234663852886e38, see {@link checkDt})
   * @param seeds one seed per lane (the lanes' random streams)
   */
  constructor(readonly batch: number, readonly dt: number, seeds: readonly number[]) {
    if (!Number.isInteger(batch) || batch < 1) throw new CinderArgumentError('batch', batch, 'an integer >= 1');
    checkDt(dt);
    if (seeds.length !== batch) throw new CinderArgumentError('seeds', seeds.length, `${batch} seeds (one per lane)`);
    this.rng = seeds.map((s) => new LaneRng(mixSeed(s, 0x5eed)));
  }

  /** Adds a LIF population; v starts at E_l (set `group.v` to change it). */
  addLif(name: string, n: number, p: LifParams): EventGroup {
    const checkTau = (k: 'tauM' | 'tauS' | 'tauE' | 'tauI') => {
      if (!((p[k] as number) > 0)) throw new CinderArgumentError(k, p[k], 'a positive time constant in ms');
    };
    checkTau('tauM');
    if (p.tauS !== undefined || p.tauE === undefined || p.tauI === undefined) checkTau('tauS');
    if (p.tauE !== undefined) checkTau('tauE');
    if (p.tauI !== undefined) checkTau('tauI');
    if (!(p.tauRef >= 0)) throw new CinderArgumentError('tauRef', p.tauRef, 'a non-negative time in ms');
    if (p.drive !== undefined && p.drive !== 'current' && p.drive !== 'conductance') throw new CinderArgumentError('drive', p.drive, "'current' or 'conductance'");
    if (p.method !== undefined && p.method !== 'euler' && p.method !== 'exact') throw new CinderArgumentError('method', p.method, "'euler' or 'exact'");
    if (p.drive === 'conductance') {
      for (const k of ['ee', 'ei'] as const) if (!Number.isFinite(p[k])) throw new CinderArgumentError(k, p[k], 'a finite reversal potential in mV (drive "conductance")');
    }
    for (const k of ['el', 'vReset'] as const) if (!Number.isFinite(p[k])) throw new CinderArgumentError(k, p[k], 'a finite potential in mV');
    if (p.spikeAtThreshold !== undefined && typeof p.spikeAtThreshold !== 'boolean') throw new CinderArgumentError('spikeAtThreshold', p.spikeAtThreshold, 'a boolean');
    // v ≥ V_th is tested as v > below(V_th): no double lies below −∞ (and NaN never spikes)
    if (typeof p.vThreshold !== 'number' || Number.isNaN(p.vThreshold) || (p.spikeAtThreshold && p.vThreshold === -Infinity)) {
      throw new CinderArgumentError('vThreshold', p.vThreshold, p.spikeAtThreshold ? 'a potential in mV above −∞ (spikeAtThreshold: v ≥ V_th)' : 'a potential in mV (not NaN)');
    }
    if (p.refractorySteps !== undefined && !(Number.isInteger(p.refractorySteps) && p.refractorySteps >= 0)) {
      throw new CinderArgumentError('refractorySteps', p.refractorySteps, 'an integer >= 0');
    }
    // a cell that never spiked has lastSpike −10⁹: it must count as free at every step t ≥ 0
    const held = p.refractorySteps ?? refractorySteps(p.tauRef, this.dt);
    if (held > MAX_REFRACTORY_STEPS) {
      throw new CinderArgumentError(p.refractorySteps !== undefined ? 'refractorySteps' : 'tauRef', p.refractorySteps ?? p.tauRef, `at most ${MAX_REFRACTORY_STEPS} steps (2^28) of refractory period (got ${held})`);
    }
    const g = new EventGroup(name, n, 'lif', this.batch, { ...p });
    g.v.fill(p.el);
    this.groups.push(g);
    return g;
  }

  /** Adds a Poisson input whose rates (Hz) are given per lane and step with {@link setRates}. */
  addRateInput(name: string, n: number): EventGroup {
    const g = new EventGroup(name, n, 'rate', this.batch);
    this.groups.push(g);
    return g;
  }

  /** Adds a constant-rate Poisson input (Bernoulli(rate·dt) per neuron and step). */
  addPoisson(name: string, n: number, rateHz: number): EventGroup {
    if (!(rateHz >= 0) || (rateHz * this.dt) / 1000 > 1) throw new CinderArgumentError(`${name} rate`, rateHz, `a rate in [0, ${1000 / this.dt}] Hz`);
    const g = new EventGroup(name, n, 'poisson', this.batch);
    g.rateHz = rateHz;
    this.groups.push(g);
    return g;
  }

  /**
   * Adds a projection with one synapse list per lane ({@link buildProjectionLane} for `source.n`
   * presynaptic and `target.n` postsynaptic cells; with `plastic` true when `options.stdp` is given).
   * @throws CinderArgumentError when the target is not a LIF population, the number of lanes is not
   *   the batch, or a lane was built for other cell counts or without the traces STDP needs (its
   *   indices would reach other lanes' cells, or learning would silently not happen)
   */
  addProjection(name: string, source: EventGroup, target: EventGroup, channel: 'ge' | 'gi', lanes: ProjectionLane[], options: { scale?: number; stdp?: StdpParams } = {}): EventProjection {
    if (target.kind !== 'lif') throw new CinderArgumentError(`${name} target`, target.name, 'a LIF population');
    if (lanes.length !== this.batch) throw new CinderArgumentError(`${name} lanes`, lanes.length, `${this.batch} synapse lists (one per lane)`);
    lanes.forEach((L, b) => {
      const { nPre, nPost } = L;
      if (nPre !== source.n || nPost !== target.n) throw new CinderArgumentError(`${name} lanes[${b}]`, `synapses of ${nPre} → ${nPost} cells`, `synapses of ${source.n} → ${target.n} cells (${source.name} → ${target.name})`);
      if (options.stdp && (L.xPre.length !== nPre || L.xPreLast.length !== nPre || L.yPost.length !== nPost || L.yPostLast.length !== nPost)) {
        throw new CinderArgumentError(`${name} lanes[${b}]`, 'a lane without STDP traces', 'a lane built with plastic = true (the projection has STDP)');
      }
    });
    const p = new EventProjection(name, source, target, channel, options.scale ?? 1, lanes, options.stdp ? { ...options.stdp } : undefined, this.dt);
    // STDP's on_post walks the by-post lists: build them now rather than within the first step
    if (options.stdp) for (const L of lanes) void L.postRow;
    this.projections.push(p);
    return p;
  }

  /** Sets lane b's rates (Hz, [steps·n], row = step) for the next chunk of a rate input. */
  setRates(group: EventGroup, b: number, rates: Float32Array): void {
    if (group.kind !== 'rate') throw new CinderArgumentError('group', group.name, 'a rate input');
    group.rates[b] = rates;
  }

  /** Zeroes the spike counters of every group. */
  resetCounts(): void {
    for (const g of this.groups) g.spikeCounts.fill(0);
  }

  /**
   * Simulates `steps` steps in every lane (lane after lane). Rate inputs must have rates for at
   * least `steps` rows in every lane. Step numbers are int32 (last spikes, recordings, STDP
   * trace times): a network runs to step 2^31 − 1 at most (59.6 h simulated at dt 0.1 ms).
   * @throws CinderArgumentError, before anything runs, for `steps` that is not an integer ≥ 0 or
   *   would pass step 2^31 − 1, or rates missing
   */
  run(steps: number): void {
    if (!(Number.isInteger(steps) && steps >= 0)) throw new CinderArgumentError('steps', steps, 'an integer >= 0');
    if (this.step + steps > MAX_STEP) {
      throw new CinderArgumentError('steps', steps, `at most ${MAX_STEP - this.step} (the network is at step ${this.step}; step numbers are int32, so it stops at step 2^31 − 1 = ${MAX_STEP})`);
    }
    for (const g of this.groups) {
      if (g.kind !== 'rate') continue;
      for (let b = 0; b < this.batch; b++) {
        const r = g.rates[b];
        if (!r || r.length < steps * g.n) throw new CinderArgumentError(`${g.name} rates`, r ? r.length : 'none', `${steps * g.n} values for lane ${b}`);
      }
    }
    for (const g of this.groups) {
      if (g.kind !== 'lif') continue;
      const bits = new Int32Array(g.gi.buffer, g.gi.byteOffset, g.gi.length);
      for (let b = 0; b < this.batch; b++) {
        let live = 0;
        for (let i = b * g.n, e = i + g.n; i < e; i++) if (bits[i] !== 0) {
          live = 1;
          break;
        }
        g.giLive[b] = live;
      }
    }
    const t0 = this.step;
    for (let b = 0; b < this.batch; b++) this.runLane(b, t0, steps);
    this.step = t0 + steps;
  }

  private runLane(b: number, t0: number, steps: number): void {
    const groups = this.groups;
    const lifs = groups.filter((g) => g.kind === 'lif');
    const inputs = groups.filter((g) => g.kind !== 'lif');
    const projections = this.projections;
    const plastic = projections.filter((p) => p.stdp);
    const rng = this.rng[b]!;
    const pdt = this.dt / 1000;
    for (let s = 0; s < steps; s++) {
      const t = t0 + s;
      // 1. state updates and 2. LIF thresholds (one pass per population: a population's update
      // reads only its own state, so updating all before any threshold gives the same values)
      for (let q = 0; q < lifs.length; q++) this.integrateAndThreshold(lifs[q]!, b, t);
      // 2. Poisson thresholds (the lane's stream is drawn in group order)
      for (let q = 0; q < inputs.length; q++) {
        const g = inputs[q]!;
        g.count = 0;
        if (g.kind === 'rate') {
          const r = g.rates[b]!;
          const base = s * g.n;
          for (let i = 0; i < g.n; i++) if (rng.uniform() < r[base + i]! * pdt) g.spikes[g.count++] = i;
        } else {
          const p = g.rateHz * pdt;
          if (p > 0) {
            const logq = Math.log1p(-p);
            let pos = g.skip[b]!;
            if (pos < 0) pos = p >= 1 ? 0 : Math.floor(Math.log(1 - rng.uniform()) / logq);
            while (pos < g.n) {
              g.spikes[g.count++] = pos;
              pos += 1 + (p >= 1 ? 0 : Math.floor(Math.log(1 - rng.uniform()) / logq));
            }
            g.skip[b] = pos - g.n;
          }
        }
      }
      for (let q = 0; q < groups.length; q++) {
        const g = groups[q]!;
        g.spikeCounts[b] += g.count;
        if (g.recording) for (let k = 0; k < g.count; k++) g.record(b, t, g.spikes[k]!);
      }
      // 3. pathways: all on_pre, then all on_post
      for (let q = 0; q < projections.length; q++) {
        const p = projections[q]!;
        if (p.source.count > 0) p.deliver(b, t);
      }
      for (let q = 0; q < plastic.length; q++) {
        const p = plastic[q]!;
        if (p.target.count > 0) p.learnPost(b, t);
      }
      // 4. resets
      for (let q = 0; q < lifs.length; q++) {
        const g = lifs[q]!;
        const off = b * g.n;
        const vr = g.lif!.vReset;
        const { v, lastSpike, spikes } = g;
        for (let k = 0; k < g.count; k++) {
          const i = off + spikes[k]!;
          v[i] = vr;
          lastSpike[i] = t;
        }
      }
    }
  }

  /**
   * Steps 1 and 2 for one LIF population in lane b: update of v (when not refractory), g_e and g_i
   * (Euler or exact, current or conductance drive: {@link LifParams}), then the threshold test on
   * the stored (float32) v. Each (drive, method) has its own loop; v ≥ V_th is tested as
   * v > pred(V_th) (the largest double below V_th: the same for every double v). Where the group's
   * state lives in its WebAssembly memory and SIMD is on (./event-simd.ts), the first n − n mod 4
   * neurons go through the SIMD loop of the same (drive, method), bit-identical, and the JavaScript
   * loop does the rest.
   */
  private integrateAndThreshold(g: EventGroup, b: number, t: number): void {
    const p = g.lif!;
    const dt = this.dt;
    const exact = p.method === 'exact';
    const tauE = p.tauE ?? p.tauS!;
    const tauI = p.tauI ?? p.tauS!;
    // Brian2: not refractory when timestep(t − t_spike) ≥ timestep(τref) = ⌊τref/dt + 10⁻³⌋
    const free = t - (p.refractorySteps ?? refractorySteps(p.tauRef, dt));
    const th = p.spikeAtThreshold ? below(p.vThreshold) : p.vThreshold;
    const A = simdArena(g, th, free);
    if (exact || p.drive === 'conductance') {
      this.integrateGeneral(g, b, free, th, exact ? Math.exp(-dt / tauE) : 1 - dt / tauE, exact ? Math.exp(-dt / tauI) : 1 - dt / tauI, A);
      return;
    }
    const km = dt / p.tauM;
    const ks = 1 - dt / tauE;
    const ki = 1 - dt / tauI;
    const el = p.el;
    const { v, ge, gi, lastSpike, spikes } = g;
    const n = g.n;
    const off = b * n;
    const end = off + n;
    let c = 0;
    let q0 = off;
    if (g.giLive[b] === 0) {
      if (A) {
        const n4 = n & ~3;
        const o = 4 * off;
        c = A.loops.eulerCurrentNoGi(A.vPtr + o, A.gePtr + o, A.lastPtr + o, A.spkPtr, n4, free, km, el, ks, aboveF32(th));
        q0 = off + n4;
      }
      for (let q = q0; q < end; q++) {
        const e = ge[q]!;
        ge[q] = e * ks;
        if (lastSpike[q]! <= free) {
          const x = v[q]!;
          const nv = Math.fround(x + km * (el - x + e));
          v[q] = nv;
          if (nv > th) spikes[c++] = q - off;
        }
      }
    } else {
      let live = 0;
      if (A) {
        const n4 = n & ~3;
        const o = 4 * off;
        c = A.loops.eulerCurrent(A.vPtr + o, A.gePtr + o, A.giPtr + o, A.lastPtr + o, A.spkPtr, n4, free, km, el, ks, ki, aboveF32(th), A.flagPtr);
        live = A.flag[0]!;
        q0 = off + n4;
      }
      for (let q = q0; q < end; q++) {
        const e = ge[q]!;
        const h = gi[q]!;
        ge[q] = e * ks;
        const hn = Math.fround(h * ki);
        gi[q] = hn;
        if (hn !== 0 || 1 / hn < 0) live = 1;
        if (lastSpike[q]! <= free) {
          const x = v[q]!;
          const nv = Math.fround(x + km * (el - x + e - h));
          v[q] = nv;
          if (nv > th) spikes[c++] = q - off;
        }
      }
      g.giLive[b] = live;
    }
    g.count = c;
  }

  /**
   * The (drive, method) pairs other than current + Euler: g ← g·de, g_i ← g_i·di (de, di: the
   * decay factors of the method), v from the old values, threshold `v > th`; with an arena `A`, the
   * first n − n mod 4 neurons in SIMD (the exact conductance step: three SIMD passes, the middle
   * one e^{G·rate} with Math.exp's bits (fdlibm's exp on f64x2, ./event-simd.ts), or a JavaScript
   * Math.exp pass where the engine's Math.exp is not fdlibm's).
   */
  private integrateGeneral(g: EventGroup, b: number, free: number, th: number, de: number, di: number, A: LifArena | null): void {
    const p = g.lif!;
    const dt = this.dt;
    const el = p.el;
    const { v, ge, gi, lastSpike, spikes } = g;
    const n = g.n;
    const off = b * n;
    const end = off + n;
    const n4 = A ? n & ~3 : 0;
    const o = 4 * off;
    const q0 = off + n4;
    let c = 0;
    if (p.drive === 'conductance') {
      const ee = p.ee!;
      const ei = p.ei!;
      if (p.method === 'exact') {
        const rate = -dt / p.tauM;
        if (A) {
          A.loops.exactConductancePrep(A.gePtr + o, A.giPtr + o, A.xPtr, A.yPtr, n4, rate, el, ee, ei, de, di);
          if (A.expExact) A.loops.exp(A.xPtr, n4);
          else {
            const x = A.x;
            for (let i = 0; i < n4; i++) x[i] = Math.exp(x[i]!);
          }
          c = A.loops.exactConductanceFinish(A.vPtr + o, A.lastPtr + o, A.spkPtr, A.xPtr, A.yPtr, n4, free, aboveF32(th));
        }
        for (let q = q0; q < end; q++) {
          const e = ge[q]!;
          const h = gi[q]!;
          ge[q] = e * de;
          gi[q] = h * di;
          if (lastSpike[q]! <= free) {
            const G = 1 + e + h;
            const vinf = (el + e * ee + h * ei) / G;
            const nv = Math.fround(vinf + (v[q]! - vinf) * Math.exp(G * rate));
            v[q] = nv;
            if (nv > th) spikes[c++] = q - off;
          }
        }
      } else {
        const km = dt / p.tauM;
        if (A) c = A.loops.eulerConductance(A.vPtr + o, A.gePtr + o, A.giPtr + o, A.lastPtr + o, A.spkPtr, n4, free, km, el, ee, ei, de, di, aboveF32(th));
        for (let q = q0; q < end; q++) {
          const e = ge[q]!;
          const h = gi[q]!;
          ge[q] = e * de;
          gi[q] = h * di;
          if (lastSpike[q]! <= free) {
            const x = v[q]!;
            const nv = Math.fround(x + km * (el - x + e * (ee - x) + h * (ei - x)));
            v[q] = nv;
            if (nv > th) spikes[c++] = q - off;
          }
        }
      }
    } else {
      // exact, current drive: v ← v·d + E_l(1 − d) + (1 − d)(g_e − g_i), constants only
      const d = Math.exp(-dt / p.tauM);
      const rest = el * (1 - d);
      const gain = 1 - d;
      if (A) c = A.loops.exactCurrent(A.vPtr + o, A.gePtr + o, A.giPtr + o, A.lastPtr + o, A.spkPtr, n4, free, d, rest, gain, de, di, aboveF32(th));
      for (let q = q0; q < end; q++) {
        const e = ge[q]!;
        const h = gi[q]!;
        ge[q] = e * de;
        gi[q] = h * di;
        if (lastSpike[q]! <= free) {
          const nv = Math.fround(v[q]! * d + rest + gain * (e - h));
          v[q] = nv;
          if (nv > th) spikes[c++] = q - off;
        }
      }
    }
    g.count = c;
  }
}

/**
 * Whether a LIF group's neuron pass takes the WebAssembly SIMD loops (./event-simd.ts) for a finite
 * threshold: its state lives in its own WebAssembly memory (SIMD available, at least 4 neurons),
 * its arrays are still those views, and the switch ({@link setEventSimd}) is on.
 */
export function lifSimdRoute(g: EventGroup): boolean {
  return simdArena(g, 0, 0) !== null;
}

/** LIF groups whose state lives in a WebAssembly memory of their own (./event-simd.ts). */
const arenas = new WeakMap<EventGroup, LifArena>();

/**
 * The group's arena when the SIMD loops apply this step: SIMD on, the group's arrays still the
 * arena's views (a caller may have assigned others), a finite threshold (the loops test nv ≥ the
 * float32 above it) and a free step in int32 range (compared as int32 lanes).
 */
function simdArena(g: EventGroup, th: number, free: number): LifArena | null {
  const A = arenas.get(g);
  if (A === undefined || !eventSimdOn() || !Number.isFinite(th) || !(free >= -2147483648 && free <= 2147483647)) return null;
  return g.v === A.v && g.ge === A.ge && g.gi === A.gi && g.lastSpike === A.lastSpike && g.spikes === A.spikes ? A : null;
}

/** The largest double below x (x finite): for every double v, v ≥ x ⇔ v > below(x). */
export function below(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  BELOW_F[0] = x;
  BELOW_BITS[0] = x > 0 ? BELOW_BITS[0]! - 1n : BELOW_BITS[0]! + 1n;
  return BELOW_F[0]!;
}
const BELOW_F = new Float64Array(1);
const BELOW_BITS = new BigInt64Array(BELOW_F.buffer);

/**
 * Per-post homeostatic scaling (the lateral-line model's rule) of one lane's weights, as
 * `SparseHomeostasis` (./sparse-homeostasis.ts) does it for sparse connections (one implementation:
 * {@link scaleIncoming}): for each postsynaptic cell j with incoming sum S_j = Σ w > 1e-12,
 * scale_j = clip(1 + η·(target/S_j − 1), 0.9, 1.1) and w ← clip(w·scale_j, 0, w_max). `target`
 * undefined uses the mean of S_j over the cells with S_j > 1e-12 (computed before scaling; no
 * change when there is none). Sums in float64.
 * @returns the target used (0 when undefined and no cell takes part)
 */
export function homeostaticScale(lane: ProjectionLane, nPost: number, eta: number, wMax: number, target?: number): number {
  const sums = incomingSums(lane, nPost);
  const tgt = target ?? meanIncoming(sums); // 0 when no cell takes part: then nothing is scaled
  scaleIncoming(lane.w, 0, { postStart: lane.postRow, postSyn: lane.postSyn }, sums, tgt, { eta, wMax, scaleMin: 0.9, scaleMax: 1.1 });
  return tgt;
}

/** Incoming weight sum per postsynaptic cell (float64, each cell's synapses in storage order). */
export function incomingSums(lane: ProjectionLane, nPost: number): Float64Array {
  return incomingWeightSums(lane.w, 0, { postStart: lane.postRow, postSyn: lane.postSyn }, nPost);
}
