/**
 * The machinery shared by the kernel rules (kernel STDP and the delay-adjusted rules): two monitors
 * holding the time since the last pre- and postsynaptic spike, and one step that evaluates the
 * kernels on `t_Δ = t_post^f − t_pre^f (− d)` and accumulates the result.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkFinite } from '../../core/errors.js';
import type { Observer, ParameterName } from '../../neural/types.js';
import { StateMonitor } from '../../observe/monitors/state-monitor.js';
import { EventReducer } from '../../observe/reducers/event.js';
import { CellTrainer, type CellResources } from '../toolkit/trainer.js';
import type { TrainableCell, TrainableConnection } from '../toolkit/trainable-cell.js';
import { checkBatchReduction, type TrainerBatchReduction } from '../toolkit/contraction.js';
import { ScalarCache } from '../../core/scalars.js';
import type { Reward } from '../toolkit/modulation.js';
import { reduceOverBatch } from './batch-reduce.js';
import { kernelParts, type SpikeTimeKernel } from './kernels.js';

/** What the kernel rules need from a connection beyond {@link TrainableConnection}. */
export interface SpikeTimeConnection extends TrainableConnection {
  /** The connection's synapse; `synapse.spike` are the presynaptic spikes as sent (not delayed). */
  readonly synapse: {
    /** The latest presynaptic spikes `[B, ...inShape]` as sent. */
    readonly spike: tf.Tensor;
  };
  /** Per-synapse delays (ms, shape of the weight), or null for a connection without delays. */
  readonly delay: tf.Tensor | null;
  /** The weight. */
  readonly weight: tf.Tensor;
}

/** A cell whose connection satisfies {@link SpikeTimeConnection} (every Cinder connection does). */
export interface SpikeTimeCell extends TrainableCell {
  /** The connection whose parameter is trained. */
  readonly connection: SpikeTimeConnection;
}

/** How a kernel rule reads its cell. */
export interface SpikeTimeRule {
  /**
   * `false`: presynaptic times from `connection.synspike` (the spikes as delivered, delay-selected
   * per synapse) and `t_Δ = t_post^f − t_pre^f`; `true`: from `connection.synapse.spike` (as sent)
   * and `t_Δ = t_post^f − t_pre^f − d` with the connection's delays `d` (0 without delays).
   */
  delayAdjusted: boolean;
  /** The parameter the rule updates. */
  parameter: Extract<ParameterName, 'weight' | 'delay'>;
}

/** Hyperparameters every kernel rule has. */
export interface SpikeTimeHyper {
  /** Reduction of per-sample updates over the batch. */
  batchReduction: TrainerBatchReduction;
}

/** The kernels used for one cell; `owned` ones are freed with the cell. */
export interface CellKernels {
  /** Kernel K_post (conventionally nonzero for t_Δ ≥ 0). */
  post: SpikeTimeKernel;
  /** Kernel K_pre (conventionally nonzero for t_Δ < 0). */
  pre: SpikeTimeKernel;
  /** Kernels created for this cell (disposed on deregistration). */
  owned: {
    /** Frees the kernel's tensors. */
    dispose(): void;
  }[];
}

/**
 * Per-cell resources of a kernel rule: the times since the last presynaptic and postsynaptic spike
 * (ms, NaN before the first spike), folded after each training step of the layer.
 */
export class SpikeTimes implements CellResources {
  /**
   * Time since the last presynaptic spike: per presynaptic unit `[B, ...inShape]` (of
   * `synapse.spike`) for the delay-adjusted rules, else in the layout of `synspike` (per edge with
   * delays). Read with the matching form of `presynReceptive`.
   */
  readonly elapsedPre: StateMonitor<EventReducer>;
  /** Time since the last postsynaptic spike `[B, ...outShape]`. */
  readonly elapsedPost: StateMonitor<EventReducer>;
  /** The kernels of this cell. */
  readonly kernels: CellKernels;

  /**
   * @param cell the observed cell
   * @param rule where presynaptic spikes are read
   * @param kernels the cell's kernels (owned ones are disposed with this object)
   */
  constructor(cell: SpikeTimeCell, rule: SpikeTimeRule, kernels: CellKernels) {
    const conn = cell.connection;
    const neuron = cell.neuron;
    const dt = conn.dt;
    const pre = rule.delayAdjusted ? () => conn.synapse.spike : () => conn.synspike;
    this.elapsedPre = new StateMonitor(pre, new EventReducer({ dt, initial: 'nan' }));
    this.elapsedPost = new StateMonitor(() => neuron.spike, new EventReducer({ dt, initial: 'nan' }));
    this.kernels = kernels;
  }

  /** The two monitors, attached to the cell's layer. */
  get observers(): readonly Observer[] {
    return [this.elapsedPre, this.elapsedPost];
  }

  /** True once both monitors have folded a step. */
  get ready(): boolean {
    return this.elapsedPre.reducer.size > 0 && this.elapsedPost.reducer.size > 0;
  }

  /** Forgets all spike times (both sides count as "not spiked yet"). */
  clear(): void {
    this.elapsedPre.clear();
    this.elapsedPost.clear();
  }

  /** Frees the monitors and the owned kernels. */
  dispose(): void {
    this.elapsedPre.dispose();
    this.elapsedPost.dispose();
    for (const k of this.kernels.owned) k.dispose();
  }
}

/** A modulation signal M (a number, or one value per sample `[B]`) and the scale γ. */
export interface SpikeTimeModulation {
  /** M(t). */
  reward: Reward;
  /** γ (its absolute value is used). */
  scale: number;
}

/**
 * Base of the kernel rules. Per step and cell, with `e_pre`, `e_post` the times since the last spikes
 * in receptive form and `t_Δ = e_pre − e_post (− d)`:
 * `pos = reduce_b Σ_R (max(K_post(t_Δ), 0) + max(K_pre(t_Δ), 0))`, `neg` likewise with the negative
 * parts, NaN counting as 0; added to the rule's parameter. Evaluated on **every** step (not gated by
 * spikes): the update of a pairing repeats until either side spikes again.
 */
export abstract class SpikeTimeTrainer<H extends SpikeTimeHyper> extends CellTrainer<H, SpikeTimes> {
  /** How this rule reads its cells. */
  readonly rule: Readonly<SpikeTimeRule>;
  private readonly zero: tf.Scalar;
  private readonly signals = new ScalarCache(64);

  /**
   * @param defaults default hyperparameters
   * @param rule where presynaptic times come from, which parameter is updated
   */
  protected constructor(defaults: H, rule: SpikeTimeRule) {
    super(defaults);
    this.rule = Object.freeze({ ...rule });
    this.zero = tf.keep(tf.scalar(0));
  }

  /** The kernels for a cell with hyperparameters `h`. */
  protected abstract kernels(h: Readonly<H>): CellKernels;

  /** Registers a cell (see {@link CellTrainer.register}); its connection must expose `synapse` and `delay`. */
  override register(cell: SpikeTimeCell, overrides: Partial<H> = {}): SpikeTimes {
    return super.register(cell, overrides);
  }

  /** The spike-time monitors of a registered cell. */
  spikeTimes(cell: TrainableCell): SpikeTimes {
    return this.entry(cell).state;
  }

  protected build(cell: TrainableCell, h: Readonly<H>): SpikeTimes {
    const conn = cell.connection as Partial<SpikeTimeConnection>;
    if (this.rule.delayAdjusted && !(conn.synapse && 'spike' in conn.synapse)) {
      throw new CinderArgumentError('cell.connection', conn, 'a connection with a synapse (connection.synapse.spike)');
    }
    if (this.rule.parameter === 'delay' && !(conn.delay instanceof tf.Tensor)) {
      throw new CinderArgumentError('cell.connection.delay', conn.delay ?? null, 'learnable delays (a connection built with maxDelay > 0)');
    }
    return new SpikeTimes(cell as SpikeTimeCell, this.rule, this.kernels(h));
  }

  /** Validates the shared hyperparameters (call from `validate`). */
  protected checkSpikeTimeHyper(h: H): H {
    return { ...h, batchReduction: checkBatchReduction('batchReduction', h.batchReduction) };
  }

  /**
   * Adds this step's update of every learning cell (or of `cells`), optionally modulated: the kernel
   * values of sample b are multiplied by `M_b·|γ|` before the sign split. Cells whose monitors have
   * not folded a step yet are skipped.
   */
  protected accumulate(cells: readonly TrainableCell[] | undefined, modulation: SpikeTimeModulation | null): void {
    if (modulation) checkFinite('scale', modulation.scale);
    if (modulation && typeof modulation.reward === 'number') checkFinite('reward', modulation.reward);
    const list = this.active(cells);
    this.atomically(list, () => {
      for (const { cell, hyper: h, state: s } of list) {
        if (!s.ready) continue;
        const conn = cell.connection as SpikeTimeConnection;
        tf.tidy(() => {
          // per unit as sent (synapse.spike) or per edge as delivered (synspike): said, not guessed
          // from the shape (with delays and inShape [S] on a SparseLinear both are [B, S])
          const pre = conn.presynReceptive(s.elapsedPre.latest, this.rule.delayAdjusted ? 'presynaptic' : 'synaptic');
          const post = conn.postsynReceptive(s.elapsedPost.latest);
          const d = this.rule.delayAdjusted ? conn.delay : null;
          const delay = d ? tf.expandDims(d, -1) : null;
          const m = modulation ? this.modulationTensor(modulation, post.shape[0]!, Math.max(pre.rank, post.rank)) : null;
          const parts = kernelParts(pre, post, delay, s.kernels.post, s.kernels.pre, this.zero, m);
          const target = this.rule.parameter === 'delay' ? conn.delay! : conn.weight;
          const pos = fitTo(reduceOverBatch(parts.pos, h.batchReduction), target.shape);
          const neg = fitTo(reduceOverBatch(parts.neg, h.batchReduction), target.shape);
          conn.updater.add(this.rule.parameter, pos, neg);
        });
      }
    });
  }

  /** `M·|γ|` as a scalar, or per sample reshaped to `[B, 1, …, 1]` (rank `rank`). */
  private modulationTensor(mod: SpikeTimeModulation, batch: number, rank: number): tf.Tensor {
    const g = Math.abs(mod.scale);
    if (typeof mod.reward === 'number') return this.signals.get(mod.reward * g);
    const sig = mod.reward;
    if (!(sig instanceof tf.Tensor) || sig.rank !== 1 || sig.shape[0] !== batch) {
      throw new CinderArgumentError('reward', sig, `a finite number or a tensor of shape [${batch}] (one value per sample)`);
    }
    const m = sig.dtype === 'float32' ? sig : tf.cast(sig, 'float32');
    const scaled = g === 1 ? m : tf.mul(m, this.signals.get(g));
    return tf.reshape(scaled, [batch, ...new Array<number>(rank - 1).fill(1)]);
  }

  protected override disposeConstants(): void {
    this.zero.dispose();
    this.signals.dispose();
  }
}

/**
 * `x` in the layout of a parameter of shape `shape` (call inside `tf.tidy`): unchanged when the
 * shapes agree, reshaped when only the layout differs (same size), otherwise padded with trailing
 * unit dimensions and broadcast (a per-row update `[O, 1]` of a weight `[O, I]`, `[F, 1]` of
 * `[F, kh, kw, C]`).
 */
export function fitTo(x: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (x.rank === shape.length && x.shape.every((v, i) => v === shape[i])) return x;
  let size = 1;
  for (const d of shape) size *= d;
  if (x.size === size) return tf.reshape(x, [...shape]);
  if (x.rank > shape.length) throw new CinderArgumentError('update', x, `a tensor broadcastable to [${shape.join(', ')}]`);
  const padded = x.rank === shape.length ? x : tf.reshape(x, [...x.shape, ...new Array<number>(shape.length - x.rank).fill(1)]);
  return tf.broadcastTo(padded, [...shape]);
}
