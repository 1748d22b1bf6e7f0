/**
 * @module
 */
import { tf } from '../../core/tf.js';
import type { Observer } from '../../neural/types.js';
import { CinderArgumentError, checkFinite, checkPositive } from '../../core/errors.js';
import { FoldFunctionReducer } from '../../observe/reducers/fold-function.js';
import type { Snapshot } from '../../core/snapshot.js';
import { CellTrainer, type CellResources } from '../toolkit/trainer.js';
import type { TrainableCell } from '../toolkit/trainable-cell.js';
import { checkBatchReduction, type TrainerBatchReduction } from '../toolkit/contraction.js';
import { checkReward, Modulation, perSampleTerms, type Reward } from '../toolkit/modulation.js';
import { PairTraces } from '../toolkit/pair-traces.js';
import type { ModulatedStepOptions } from './mstdp.js';
import type { PairRuleOptions } from './pair-trace-trainer.js';
import { checkFlag, checkPairHyper } from './stdp.js';

/**
 * Hyperparameters of {@link MSTDPET} (all may be overridden per cell). The signs of the learning
 * rates times the reward's pick the mode.
 */
export interface MSTDPETOptions extends Omit<PairRuleOptions, 'delayed'> {
  /** Time constant τ_z of the eligibility traces (ms). */
  tauEligibility: number;
  /** Reduction over the batch (default `sum`; must be homogeneous of degree 1). */
  batchReduction?: TrainerBatchReduction;
  /**
   * Keep only the batch-reduced eligibility `reduce_b z_b` (shape W) instead of one trace per sample
   * (`[B, ...W]`). The fold is linear, so the updates are the same for a scalar reward with a `sum` or
   * `mean` reduction, at a fraction of the memory and time for large batches (for dense connections
   * each fold is one matrix product). Per-sample rewards then throw. Default false.
   */
  reduceEligibility?: boolean;
}

/** {@link MSTDPETOptions} with defaults filled in. */
export type MSTDPETHyper = Required<MSTDPETOptions>;

/** An eligibility trace's reducer whose restore refuses values of another shape than its folds make. */
class EligibilityReducer extends FoldFunctionReducer<[tf.Tensor, tf.Tensor]> {
  /**
   * @param fn the fold step
   * @param label `post` or `pre` (named in errors)
   * @param reduced whether only the batch-reduced eligibility is kept
   * @param shape the shape the next fold makes
   */
  constructor(
    fn: (obs: [tf.Tensor, tf.Tensor], z: tf.Tensor | null) => tf.Tensor,
    private readonly label: string,
    private readonly reduced: boolean,
    private readonly shape: () => number[],
  ) {
    super(fn);
  }

  /** Checks every restored value's shape and dtype (float32) first, then restores (see the base class). */
  override restoreState(s: Snapshot): void {
    const want = this.shape();
    for (const [k, t] of Object.entries(s.tensors)) {
      if (!(t instanceof tf.Tensor) || t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, want)) {
        throw new CinderArgumentError(`snapshot eligibility ${this.label}.${k}`, t, `a float32 tensor of shape [${want.join(', ')}] (the eligibility's shape for the cell now: ${this.reduced ? 'the weight shape, reduced over the batch' : "[batch, ...weight shape]; was the snapshot taken at another batch size?"})`);
      }
    }
    super.restoreState(s);
  }
}

/** Per-cell resources of {@link MSTDPET}: the pair monitors and the two eligibility traces. */
export class EligibilityTraces implements CellResources {
  /** The pair monitors (traces and spikes). */
  readonly pair: PairTraces;
  /** True when only the batch-reduced eligibility is kept (see {@link MSTDPETOptions.reduceEligibility}). */
  readonly reduced: boolean;
  /** z_post `[B, ...W]` (or `[...W]` when reduced): eligibility from postsynaptic spikes times the presynaptic trace. */
  readonly post: FoldFunctionReducer<[tf.Tensor, tf.Tensor]>;
  /** z_pre `[B, ...W]` (or `[...W]` when reduced): eligibility from presynaptic spikes times the postsynaptic trace. */
  readonly pre: FoldFunctionReducer<[tf.Tensor, tf.Tensor]>;
  private readonly decay: tf.Scalar;
  private readonly scale: tf.Scalar;
  private folded = 0;

  /**
   * Creates the monitors and the (empty) eligibility traces of one cell.
   * @param cell the cell observed
   * @param h its hyperparameters
   */
  constructor(cell: TrainableCell, h: Readonly<MSTDPETHyper>) {
    this.pair = new PairTraces(cell, { tauPre: h.tauPre, tauPost: h.tauPost, amplitudePre: Math.abs(h.lrPost), amplitudePost: Math.abs(h.lrPre), mode: h.traceMode });
    this.decay = tf.keep(tf.scalar(Math.exp(-cell.connection.dt / h.tauEligibility)));
    this.scale = tf.keep(tf.scalar(1 / h.tauEligibility));
    const c = this.pair.contraction;
    this.reduced = h.reduceEligibility;
    const reduction = h.batchReduction;
    // z ← decay·z + scale·Σ_R post·pre (first fold: scale·Σ_R post·pre), per sample or batch-reduced
    const fold = ([post, pre]: [tf.Tensor, tf.Tensor], z: tf.Tensor | null): tf.Tensor => {
      const inc = tf.mul(this.scale, this.reduced ? c.reduce(post, pre, reduction) : c.perSample(post, pre));
      return z === null ? inc : tf.add(tf.mul(this.decay, z), inc);
    };
    // restored values must have the shape the next fold makes: [B, ...W] (B the cell's batch now,
    // W the weight's shape), or [...W] when reduced; another one would be broadcast or fail that fold
    const shape = (): number[] => {
      const w = cell.connection.updater.accumulator('weight').target.shape;
      return this.reduced ? [...w] : [cell.neuron.spike.shape[0]!, ...w];
    };
    this.post = new EligibilityReducer(fold, 'post', h.reduceEligibility, shape);
    this.pre = new EligibilityReducer(fold, 'pre', h.reduceEligibility, shape);
  }

  /**
   * The pair monitors, then an observer that folds the eligibility traces from them: attached in this
   * order, the eligibility folds on every training-mode layer step (as Inferno's), whether or not
   * the trainer's `step` runs that step.
   */
  get observers(): PairTraces['observers'] {
    return [...this.pair.observers, this.folder];
  }

  private readonly folder: Observer = { observe: () => void this.update() };

  /**
   * Folds this step's traces into the eligibility traces, once per layer step: does nothing when the
   * monitors have not folded a new step since the last call (the eligibility observer already ran
   * after them). Returns true when it folded.
   */
  update(): boolean {
    const n = this.pair.count;
    if (n === 0 || n === this.folded) return false;
    const p = this.pair;
    tf.tidy(() => {
      this.post.fold(p.spikePost.latest, p.preTrace());
      this.pre.fold(p.tracePost.latest, p.preSpike());
    });
    this.folded = n;
    return true;
  }

  /** Resets traces and eligibility. */
  clear(): void {
    this.pair.clear();
    this.post.clear();
    this.pre.clear();
    this.folded = 0;
  }

  /** Frees everything. */
  dispose(): void {
    this.pair.dispose();
    this.post.dispose();
    this.pre.dispose();
    this.decay.dispose();
    this.scale.dispose();
  }
}

/**
 * Reward-modulated STDP with eligibility traces (Florian 2007, MSTDPET):
 *
 * `z_post ← e^{−Δt/τ_z}·z_post + (1/τ_z)·Σ_R x_pre·i_post`, `z_pre ← e^{−Δt/τ_z}·z_pre + (1/τ_z)·Σ_R x_post·i_pre`
 * per sample, then `Δw = |γ|·M(t)·(sgn(lrPost)·reduce_b z_post + sgn(lrPre)·reduce_b z_pre)` (routing
 * as in MSTDP). There is no Δt factor: fold Δt into `scale` when Δt ≠ 1 ms.
 *
 * The eligibility traces fold on every training-mode layer step, from the traces the layer's
 * monitors folded in that step (an observer attached after them), as in Inferno; {@link step} adds
 * the update modulated by that step's reward, so steps without a `step` call contribute to the
 * eligibility but add no update: `layer.forward(x)`, then `mstdpet.step(reward)`, then
 * `connection.update()`.
 */
export class MSTDPET extends CellTrainer<MSTDPETHyper, EligibilityTraces> {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'MSTDPET';
  private readonly modulation = new Modulation();

  /**
   * Creates the trainer; register cells with {@link register}.
   * @param options default hyperparameters (see {@link MSTDPETOptions})
   */
  constructor(options: MSTDPETOptions) {
    super({ traceMode: 'cumulative', batchReduction: 'sum', reduceEligibility: false, ...options });
  }

  protected override get optionKeys(): readonly string[] {
    return ['lrPost', 'lrPre', 'tauPost', 'tauPre', 'traceMode', 'batchReduction', 'tauEligibility', 'reduceEligibility'];
  }

  protected validate(h: MSTDPETHyper): MSTDPETHyper {
    checkPositive('tauEligibility', h.tauEligibility);
    const batchReduction = checkBatchReduction('batchReduction', h.batchReduction ?? 'sum');
    const reduceEligibility = checkFlag('reduceEligibility', h.reduceEligibility);
    if (reduceEligibility && typeof batchReduction === 'function') {
      throw new CinderArgumentError('batchReduction', 'a function', '"sum" or "mean" with reduceEligibility');
    }
    return { ...checkPairHyper(h), batchReduction, reduceEligibility };
  }

  protected build(cell: TrainableCell, h: Readonly<MSTDPETHyper>): EligibilityTraces {
    return new EligibilityTraces(cell, h);
  }

  /** The monitors and eligibility traces of a registered cell. */
  traces(cell: TrainableCell): EligibilityTraces {
    return this.entry(cell).state;
  }

  /**
   * Updates the eligibility traces from this step's monitors, then adds the update modulated by
   * `reward` (a number, or a float32 tensor `[B]`) to the updater of every learning cell. The
   * reward (finite; a tensor `[B]` for every cell's batch B, and none with `reduceEligibility`) and
   * the scale are checked first: a step refused for them changes no state (the eligibility does not
   * fold either).
   * @throws CinderArgumentError for a bad reward or scale
   */
  step(reward: Reward, options: ModulatedStepOptions = {}): void {
    const scale = checkFinite('scale', options.scale ?? 1);
    const list = this.active(options.cells);
    checkReward(reward, null);
    if (typeof reward !== 'number') {
      for (const { cell, state: s } of list) {
        if (s.reduced) throw new CinderArgumentError('reward', reward, 'a number (reduceEligibility keeps no per-sample eligibility)');
        checkReward(reward, cell.neuron.spike.shape[0] ?? 0);
      }
    }
    this.atomically(list, () => {
      for (const { cell, hyper: h, state: s } of list) {
        s.update();
        if (s.post.size === 0) continue;
        tf.tidy(() => {
          if (s.reduced) {
            if (typeof reward !== 'number') throw new CinderArgumentError('reward', reward, 'a number (reduceEligibility keeps no per-sample eligibility)');
            // already reduced over the batch: present it as a batch of one
            const one = (z: tf.Tensor) => tf.reshape(z, [1, ...z.shape]);
            const terms = perSampleTerms(one(s.post.latest), one(s.pre.latest));
            const { pos, neg } = this.modulation.parts(terms, h.lrPost, h.lrPre, reward, scale, 'sum');
            cell.connection.updater.add('weight', pos, neg);
            return;
          }
          const terms = perSampleTerms(s.post.latest, s.pre.latest);
          const { pos, neg } = this.modulation.parts(terms, h.lrPost, h.lrPre, reward, scale, h.batchReduction);
          cell.connection.updater.add('weight', pos, neg);
        });
      }
    });
  }

  protected override disposeConstants(): void {
    this.modulation.dispose();
  }
}
