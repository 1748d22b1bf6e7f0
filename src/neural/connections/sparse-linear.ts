/**
 * A connection given as a synapse list (pre index, post index, weight, optional delay): the tfjs
 * counterpart of the event-driven kernels in `src/kernels/js/`, usable in layers and by the
 * pair-trace trainers (STDP, MSTDP, MSTDPET, …) through the receptive contract.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkInteger, numel, checkOptionKeys, optionKeys } from '../../core/errors.js';
import type { ParameterName, PresynapticForm } from '../types.js';
import { CONNECTION_OPTION_KEYS, Connection, type ConnectionOptions } from './connection.js';
import { optionClassOf } from './option-class.js';
import { checkSynapseList, sparseIndex, synapseListHash, type SynapseList } from './sparse-topology.js';
import { fusedGatherUnits, fusedSparseList, sparseListIndex, type SparseListFilter, type SparseListIndex } from '../../kernels/js/fused-sparse-list.js';
import { fusedBackend } from '../../kernels/js/fused-memory.js';

/** Options of {@link SparseLinear}. */
export interface SparseLinearOptions extends ConnectionOptions {
  /**
   * The synapses (required). `synapses.weight`, when present, is the initial weight (otherwise
   * `weightInit`, shape [S]); `synapses.delay` (steps), when present, the initial delays (then
   * `maxDelay` must cover them).
   */
  synapses: SynapseList;
  /**
   * Forward through a cached dense `[I, O]` matrix (one matmul) when I·O is at most this many
   * entries; larger connections gather and segment-sum per synapse (default 4,194,304).
   */
  denseLimit?: number;
}

/** The keys of {@link SparseLinearOptions}: other keys make {@link SparseLinear}'s constructor throw. */
export const SPARSE_LINEAR_OPTION_KEYS = optionKeys<SparseLinearOptions>()([...CONNECTION_OPTION_KEYS, 'synapses', 'denseLimit']);

/**
 * Sparse connection: weight `[S]` (one per synapse s = (pre_s → post_s)), bias `[O]`,
 * `y_j = Σ_{s: post_s = j} w_s·x_{pre_s} + b_j` (duplicate synapses add up).
 *
 * Forward: on the wasm and cpu backends without delays, event-driven (`CinderFusedSparseList`:
 * only the non-zero inputs, each over its own synapses, float64 sums; see {@link eventIndex} for
 * when). Otherwise through a dense `[I, O]` kernel built from the list (`scatterND`, duplicates
 * summed) and cached until the weight changes, or — above `denseLimit` entries, and with delays —
 * per synapse: `gather` of the presynaptic values (at each synapse's delay), times w, then a
 * `scatterND` sum over the postsynaptic index (every backend has it, wasm included).
 *
 * Receptive contract (weight shape W = [S], R = 1): presynaptic `[B, ...inShape]` → gathered per
 * synapse `[B, S, 1]`; per-edge `[B, S]` (the delay-selected `synspike` when `maxDelay > 0`) →
 * `[B, S, 1]`; postsynaptic `[B, ...outShape]` → gathered `[B, S, 1]`. So `Σ post·pre` is the
 * per-synapse product, and every pair-trace rule updates exactly the listed synapses. Where
 * presynaptic and per-synapse values share a shape (delays and `inShape = [S]`), the `form`
 * argument of {@link presynReceptive} tells them apart (omitted: per-synapse).
 *
 * Batches share the weights (Cinder's batch = samples). Independent instances (seeds) with their
 * own weights and connectivity: one connection over {@link blockDiagonal} of their lists (batch 1),
 * or the event-driven kernels, which keep per-instance weights.
 */
export class SparseLinear extends Connection {
  /**
   * The synapse list: a copy of `options.synapses` taken at construction (changing the caller's
   * arrays afterwards has no effect; do not change these either).
   */
  readonly synapses: SynapseList;
  /** Number of presynaptic units I. */
  readonly inCount: number;
  /** Number of postsynaptic units O. */
  readonly outCount: number;
  /** Number of synapses S. */
  readonly size: number;
  /** Whether the op path's forward uses the dense kernel (one matmul) rather than gather and scatter. */
  readonly dense: boolean;
  /**
   * The synapses by presynaptic unit for the event-driven forward on the wasm and cpu backends
   * (`CinderFusedSparseList`), or null where the op path runs on every backend: with delays, and for
   * dense kernels holding more than one synapse in 8 of their entries (a matrix product is then as
   * cheap).
   */
  readonly eventIndex: SparseListIndex | null;
  /** False: the receptive maps gather per synapse (see {@link Receptive.receptiveIsReshape}). */
  readonly receptiveIsReshape = false;
  private readonly preIdx: tf.Tensor; // int32 [S]
  private readonly postIdx: tf.Tensor; // int32 [S]
  private readonly postCol: tf.Tensor; // int32 [S, 1]
  private readonly pairIdx: tf.Tensor | null; // int32 [S, 2] (pre, post), dense path only
  private kernel: tf.Tensor | null = null; // [I, O]
  private delayGather: tf.Tensor | null = null; // int32 [S]: d_s·I + pre_s

  /**
   * @param inShape presynaptic shape (no batch; element count nPre)
   * @param outShape postsynaptic shape (no batch; element count nPost)
   * @param dt step length (ms)
   * @param options connection options plus the required `synapses`
   */
  constructor(inShape: readonly number[], outShape: readonly number[], dt: number, options: SparseLinearOptions) {
    if (optionClassOf(new.target) === SparseLinear) checkOptionKeys('options', options, SPARSE_LINEAR_OPTION_KEYS);
    const given = checkSynapseList('synapses', options?.synapses);
    // a copy: the gathers read `pre`/`post` on wasm/cpu and index tensors built here elsewhere, so
    // later changes to the caller's arrays must reach neither
    const list: SynapseList = {
      nPre: given.nPre,
      nPost: given.nPost,
      pre: given.pre.slice(),
      post: given.post.slice(),
      ...(given.weight !== undefined ? { weight: given.weight.slice() } : {}),
      ...(given.delay !== undefined ? { delay: given.delay.slice() } : {}),
    };
    const I = Array.isArray(inShape) ? numel(inShape) : NaN;
    const O = Array.isArray(outShape) ? numel(outShape) : NaN;
    if (I !== list.nPre) throw new CinderArgumentError('inShape', inShape, `${list.nPre} units (synapses.nPre)`);
    if (O !== list.nPost) throw new CinderArgumentError('outShape', outShape, `${list.nPost} units (synapses.nPost)`);
    const S = list.pre.length;
    if (S < 1) throw new CinderArgumentError('synapses', `${S} synapses`, 'at least one synapse');
    let maxDelay = options.maxDelay ?? 0;
    if (list.delay) {
      let m = 0;
      for (let s = 0; s < S; s++) m = Math.max(m, list.delay[s]!);
      if (options.maxDelay === undefined) maxDelay = m * dt;
      else if (m * dt > maxDelay + 1e-9) throw new CinderArgumentError('maxDelay', maxDelay, `≥ ${m * dt} ms (the largest delay in synapses.delay)`);
    }
    const opts: ConnectionOptions = { ...options, maxDelay };
    if (list.weight) opts.weightInit = () => tf.tensor1d(list.weight!, 'float32');
    if (list.delay && maxDelay > 0) opts.delayInit = () => tf.tensor1d(Float32Array.from(list.delay!, (d) => d * dt), 'float32');
    super({ inShape, outShape, weightShape: [S], biasShape: [O] }, dt, opts);
    this.synapses = list;
    this.inCount = I;
    this.outCount = O;
    this.size = S;
    const limit = checkInteger('denseLimit', options.denseLimit ?? 4_194_304, 0);
    this.dense = !this.hasDelays && I * O <= limit;
    this.eventIndex = !this.hasDelays && (!this.dense || 8 * S <= I * O) ? sparseListIndex(list, sparseIndex(list)) : null;
    this.preIdx = tf.keep(tf.tensor1d(list.pre, 'int32'));
    this.postIdx = tf.keep(tf.tensor1d(list.post, 'int32'));
    this.postCol = tf.keep(tf.tensor2d(list.post, [S, 1], 'int32'));
    if (this.dense) {
      const pairs = new Int32Array(2 * S);
      for (let s = 0; s < S; s++) {
        pairs[2 * s] = list.pre[s]!;
        pairs[2 * s + 1] = list.post[s]!;
      }
      this.pairIdx = tf.keep(tf.tensor2d(pairs, [S, 2], 'int32'));
    } else {
      this.pairIdx = null;
    }
    this.initialise();
  }

  protected override onParameterChange(name: ParameterName): void {
    if (name === 'bias') return;
    this.kernel?.dispose();
    this.kernel = null;
    if (name === 'delay' || (this.hasDelays && !this.delayGather)) {
      this.delayGather?.dispose();
      this.delayGather = null;
      if (this.hasDelays) {
        const I = this.inCount;
        const pre = this.preIdx;
        this.delayGather = tf.keep(tf.tidy(() => tf.add(tf.mul(this.delayStepsTensor(), tf.scalar(I, 'int32')), pre)));
      }
    }
  }

  /** Dense `[I, O]` kernel (duplicates summed), built on demand and kept until the weight changes. */
  private denseKernel(): tf.Tensor {
    if (!this.kernel) {
      const w = this.weightParameter.value;
      this.kernel = tf.keep(tf.tidy(() => tf.scatterND(this.pairIdx!, w, [this.inCount, this.outCount])));
    }
    return this.kernel;
  }

  /** Per-synapse presynaptic values `[B, S]` from a history (`ago(k)`, `[B, ...inShape]`), each at its delay. */
  private gatherPre(ago: (k: number) => tf.Tensor): tf.Tensor {
    const B = this.batchSize;
    if (!this.hasDelays) return this.gatherUnits(tf.reshape(ago(0), [B, this.inCount]), this.synapses.pre, this.preIdx);
    const parts: tf.Tensor[] = [];
    for (let d = 0; d <= this.delaySteps; d++) parts.push(tf.reshape(ago(d), [B, this.inCount]));
    const all = tf.concat(parts, 1); // [B, (D+1)·I] → [B, S]
    return this.gatherUnits(all, this.delayGather!, this.delayGather!);
  }

  /**
   * A filter step for the event-driven kernel to take after the sums (`prev·d + c·y`,
   * {@link SparseListFilter}), or null: none here. `postFiltered(SparseLinear)` hands over its
   * filter's terms (its output is then the filtered value, see `PostsynapticFilter`); asked at most
   * once per forward, on the event-driven path (wasm/cpu) only, and only where there is no bias.
   */
  protected eventFilter(): SparseListFilter | null {
    return null;
  }

  /** `[B, ...inShape]` → `[B, ...outShape]`. */
  forward(spikes: tf.Tensor, injected?: tf.Tensor): tf.Tensor {
    this.refresh();
    const x = this.synapse.forward(spikes, injected);
    const B = this.batchSize;
    let y: tf.Tensor;
    if (this.eventIndex && fusedBackend() && x.dtype === 'float32') {
      const filter = this.biasParameter ? null : this.eventFilter();
      y = fusedSparseList(this.inShape.length === 1 ? x : tf.reshape(x, [B, this.inCount]), this.weightParameter.value, this.eventIndex, filter ?? undefined);
    } else if (this.dense) {
      y = tf.matMul(this.inShape.length === 1 ? x : tf.reshape(x, [B, this.inCount]), this.denseKernel());
    } else {
      const per = tf.mul(this.gatherPre((k) => (k === 0 ? x : this.synapse.currentAgo(k))), this.weightParameter.value); // [B, S]
      y = tf.transpose(tf.scatterND(this.postCol, tf.transpose(per), [this.outCount, B])); // [B, O], duplicates summed
    }
    const b = this.biasParameter;
    if (b) y = tf.add(y, b.value);
    return this.outShape.length === 1 ? y : tf.reshape(y, [B, ...this.outShape]);
  }

  /** Per-synapse delay selection: `[B, S]`. */
  protected selectDelayed(ago: (k: number) => tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.gatherPre(ago));
  }

  /**
   * Presynaptic `[B, ...inShape]` → `[B, S, 1]` (gathered by pre index: synapse s reads unit
   * pre_s); per-synapse `[B, S]` → `[B, S, 1]` (taken as it is). `form` (see
   * {@link PresynapticForm}) says which `x` is: `'presynaptic'` always gathers; `'synaptic'` takes
   * `[B, S]` as it is with delays (the form of `synspike`, `syncurrent`, `selectByDelay` and their
   * traces) and gathers without (where `synspike` is presynaptic). Omitted, a rank-2 `[B, S]` with
   * delays is per-synapse (`synspike`'s shape) and anything else with I values per sample is
   * presynaptic; so with delays and `inShape = [S]` a presynaptic `[B, S]` (e.g. `synapse.spike`)
   * must be passed with `'presynaptic'`, as the delay-adjusted rules do.
   */
  presynReceptive(x: tf.Tensor, form?: PresynapticForm): tf.Tensor {
    const f = this.checkForm(form);
    const unit = `shape [B, ${this.inShape.join(', ')}]`;
    const edge = `per-synapse [B, ${this.size}]`;
    const want = f === 'presynaptic' || !this.hasDelays ? unit : f === 'synaptic' ? edge : `${unit} or ${edge}`;
    if (!(x instanceof tf.Tensor) || x.rank < 2) throw new CinderArgumentError('x', x, want);
    const B = x.shape[0]!;
    if (this.hasDelays && f !== 'presynaptic' && x.rank === 2 && x.shape[1] === this.size) return tf.reshape(x, [B, this.size, 1]);
    if ((f !== 'synaptic' || !this.hasDelays) && x.size === B * this.inCount) {
      return tf.expandDims(this.gatherUnits(tf.reshape(x, [B, this.inCount]), this.synapses.pre, this.preIdx), 2);
    }
    throw new CinderArgumentError('x', x, want);
  }

  /** Postsynaptic `[B, ...outShape]` → `[B, S, 1]` (gathered by post index). */
  postsynReceptive(y: tf.Tensor): tf.Tensor {
    this.checkPost(y);
    return tf.expandDims(this.gatherUnits(tf.reshape(y, [y.shape[0]!, this.outCount]), this.synapses.post, this.postIdx), 2);
  }

  /**
   * `[B, N]` → `[B, S]`: the value of each synapse's unit (its presynaptic or postsynaptic unit, or
   * with delays its place in the history), `units` as a list and as the int32 tensor `idx` of the
   * same indices: a fused copy on wasm/cpu, else `tf.gather`.
   */
  private gatherUnits(x: tf.Tensor, units: Int32Array | tf.Tensor, idx: tf.Tensor): tf.Tensor {
    if (fusedBackend() && x.dtype === 'float32') return fusedGatherUnits(x, units);
    return tf.gather(x, idx, 1);
  }

  /**
   * Settings saved with the module: the number of synapses and a hash of the list
   * ({@link synapseListHash}), so saved weights load only into a connection with the same synapses.
   */
  override extras(): Record<string, unknown> {
    return { ...super.extras(), synapses: this.size, topology: synapseListHash(this.synapses) };
  }

  override dispose(): void {
    super.dispose();
    this.kernel?.dispose();
    this.delayGather?.dispose();
    this.preIdx.dispose();
    this.postIdx.dispose();
    this.postCol.dispose();
    this.pairIdx?.dispose();
    this.kernel = this.delayGather = null;
  }
}

/**
 * One synapse list over B·nPre → B·nPost units holding B instances' lists side by side (instance b's
 * unit i is b·nPre + i): a single connection (batch 1) then runs B independent networks, each with
 * its own connectivity and weights. Initial weights must be in every list or in none; a list without
 * delays has delay 0 where another has delays.
 */
export function blockDiagonal(lists: readonly SynapseList[]): SynapseList {
  if (!Array.isArray(lists) || lists.length < 1) throw new CinderArgumentError('lists', lists, 'a non-empty array of SynapseLists');
  lists.forEach((l, b) => checkSynapseList(`lists[${b}]`, l));
  const { nPre, nPost } = lists[0]!;
  lists.forEach((l, b) => {
    if (l.nPre !== nPre || l.nPost !== nPost) throw new CinderArgumentError(`lists[${b}]`, `${l.nPre} → ${l.nPost}`, `${nPre} → ${nPost} units, as lists[0]`);
  });
  const total = lists.reduce((s, l) => s + l.pre.length, 0);
  const pre = new Int32Array(total);
  const post = new Int32Array(total);
  // weights in some lists only would be dropped (the connection's weightInit would replace them)
  const hasW = lists[0]!.weight !== undefined;
  lists.forEach((l, b) => {
    if ((l.weight !== undefined) !== hasW) {
      throw new CinderArgumentError(`lists[${b}].weight`, l.weight === undefined ? 'none' : 'weights', `${hasW ? 'weights' : 'none'}, as lists[0] (weights in every list or in none)`);
    }
  });
  const hasD = lists.some((l) => l.delay);
  const weight = hasW ? new Float32Array(total) : undefined;
  const delay = hasD ? new Int32Array(total) : undefined;
  let o = 0;
  lists.forEach((l, b) => {
    for (let s = 0; s < l.pre.length; s++, o++) {
      pre[o] = b * nPre + l.pre[s]!;
      post[o] = b * nPost + l.post[s]!;
      if (weight) weight[o] = l.weight![s]!;
      if (delay) delay[o] = l.delay ? l.delay[s]! : 0;
    }
  });
  return { nPre: lists.length * nPre, nPost: lists.length * nPost, pre, post, ...(weight ? { weight } : {}), ...(delay ? { delay } : {}) };
}
