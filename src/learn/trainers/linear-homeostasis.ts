/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkFinite, checkOneOf, checkPositive } from '../../core/errors.js';
import type { Observer } from '../../neural/types.js';
import { StateMonitor } from '../../observe/monitors/state-monitor.js';
import { CAReducer } from '../../observe/reducers/ca.js';
import { CellTrainer, type CellResources } from '../toolkit/trainer.js';
import type { TrainableCell, TrainableConnection } from '../toolkit/trainable-cell.js';
import { checkBatchReduction, type TrainerBatchReduction } from '../toolkit/contraction.js';
import { ScalarCache } from '../../core/scalars.js';
import { reduceOverBatch } from './batch-reduce.js';
import { fitTo } from './spike-time-trainer.js';

/** The parameters {@link LinearHomeostasis} can regulate. */
export type HomeostasisParameter = 'weight' | 'bias' | 'delay';

/** What {@link LinearHomeostasis} needs from a connection beyond {@link TrainableConnection}. */
export interface HomeostasisConnection extends TrainableConnection {
  /** The weight. */
  readonly weight: tf.Tensor;
  /** The bias, or null when the connection has none. */
  readonly bias: tf.Tensor | null;
  /** The per-synapse delays, or null when the connection has none. */
  readonly delay: tf.Tensor | null;
}

/** A cell whose connection satisfies {@link HomeostasisConnection} (every Cinder connection does). */
export interface HomeostasisCell extends TrainableCell {
  /** The connection whose parameter is regulated. */
  readonly connection: HomeostasisConnection;
}

/** Hyperparameters of {@link LinearHomeostasis} (all may be overridden per cell). */
export interface LinearHomeostasisOptions {
  /** Plasticity λ (finite; normally > 0). */
  plasticity: number;
  /**
   * Target rate r* in spikes per step (> 0; e.g. 10 Hz at Δt = 1 ms is 0.01). `null` (default): no
   * default target, every {@link LinearHomeostasis.step} must pass one.
   */
  target?: number | null;
  /** The regulated parameter (default `weight`). */
  parameter?: HomeostasisParameter;
  /** Reduction over the batch (default `mean`). */
  batchReduction?: TrainerBatchReduction;
}

/** {@link LinearHomeostasisOptions} with defaults filled in. */
export type LinearHomeostasisHyper = Required<LinearHomeostasisOptions>;

/** Per-cell resources of {@link LinearHomeostasis}: the cumulative mean of the postsynaptic spikes. */
export class HomeostasisRate implements CellResources {
  /** r: spikes per step of every postsynaptic neuron since the last clear, `[B, ...outShape]`. */
  readonly rate: StateMonitor<CAReducer>;
  /** 1/r* of the cell's default target (null without one). */
  readonly inverseTarget: tf.Scalar | null;
  /** The signed plasticity: λ (weight, bias) or −λ (delay). */
  readonly gain: tf.Scalar;

  /**
   * @param cell the observed cell
   * @param h the cell's hyperparameters
   */
  constructor(cell: TrainableCell, h: Readonly<LinearHomeostasisHyper>) {
    const neuron = cell.neuron;
    this.rate = new StateMonitor(() => neuron.spike, new CAReducer());
    this.inverseTarget = h.target === null ? null : tf.keep(tf.scalar(1 / h.target));
    this.gain = tf.keep(tf.scalar(h.parameter === 'delay' ? -h.plasticity : h.plasticity));
  }

  /** The rate monitor. */
  get observers(): readonly Observer[] {
    return [this.rate];
  }

  /** True once the monitor has folded a step. */
  get ready(): boolean {
    return this.rate.reducer.size > 0;
  }

  /** Restarts the cumulative mean. */
  clear(): void {
    this.rate.clear();
  }

  /** Frees the monitor and the constants. */
  dispose(): void {
    this.rate.dispose();
    this.inverseTarget?.dispose();
    this.gain.dispose();
  }
}

/**
 * Linear homeostatic regulation of a connection parameter towards a target firing rate:
 *
 * - weight: `Δw = λ·(r* − r)/r*`;  bias: `Δb = λ·mean_R (r* − r)/r*`;  delay: `Δd = −λ·(r* − r)/r*`,
 *
 * where r is the cumulative mean of the postsynaptic spikes per step since the last `clear()`, taken
 * through the connection's receptive form and averaged over the receptive axis R (so every weight
 * onto a neuron gets that neuron's term), then reduced over the batch. Rates above the target
 * lower weights and biases (and lengthen delays); rates below raise them. Positive parts are
 * potentiation, negative parts depression (for bounding). Inferno routes the negative part with the
 * wrong sign (rates above target raise the weights); this class does not.
 *
 * Per step: `layer.forward(x)`, then `homeostasis.step()`, then `connection.update()`.
 */
export class LinearHomeostasis extends CellTrainer<LinearHomeostasisHyper, HomeostasisRate> {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'LinearHomeostasis';
  private readonly scalars = new ScalarCache(64);
  private readonly one: tf.Scalar = tf.keep(tf.scalar(1));

  /** @param options plasticity, target, parameter, batch reduction (see {@link LinearHomeostasisOptions}) */
  constructor(options: LinearHomeostasisOptions) {
    super({ target: null, parameter: 'weight', batchReduction: 'mean', ...options });
  }

  protected override get optionKeys(): readonly string[] {
    return ['plasticity', 'target', 'parameter', 'batchReduction'];
  }

  protected validate(h: LinearHomeostasisHyper): LinearHomeostasisHyper {
    checkFinite('plasticity', h.plasticity);
    const target = h.target ?? null;
    if (target !== null) checkPositive('target', target);
    const parameter = checkOneOf('parameter', h.parameter ?? 'weight', ['weight', 'bias', 'delay'] as const);
    return { ...h, target, parameter, batchReduction: checkBatchReduction('batchReduction', h.batchReduction ?? 'mean') };
  }

  /** Registers a cell (see {@link CellTrainer.register}); the regulated parameter must exist on its connection. */
  override register(cell: HomeostasisCell, overrides: Partial<LinearHomeostasisHyper> = {}): HomeostasisRate {
    return super.register(cell, overrides);
  }

  protected build(cell: TrainableCell, h: Readonly<LinearHomeostasisHyper>): HomeostasisRate {
    const conn = cell.connection as Partial<HomeostasisConnection>;
    const p = h.parameter === 'weight' ? conn.weight : h.parameter === 'bias' ? conn.bias : conn.delay;
    if (!(p instanceof tf.Tensor)) {
      throw new CinderArgumentError(`cell.connection.${h.parameter}`, p ?? null, `a connection with a ${h.parameter} (${h.parameter === 'bias' ? 'bias: true' : h.parameter === 'delay' ? 'maxDelay > 0' : 'a weight'})`);
    }
    return new HomeostasisRate(cell, h);
  }

  /** The rate monitor of a registered cell. */
  rates(cell: TrainableCell): HomeostasisRate {
    return this.entry(cell).state;
  }

  /**
   * Adds this step's regulation of every learning cell (or of `cells`).
   * @param target r* for this call (spikes per step): a number > 0, or a tensor broadcastable to
   *   `[B, ...outShape]` (e.g. `[1, ...outShape]` for one target per neuron). Default: each cell's
   *   `target` hyperparameter.
   * @param cells restricts the update to these cells
   */
  step(target?: number | tf.Tensor | null, cells?: readonly TrainableCell[]): void {
    if (typeof target === 'number') checkPositive('target', target);
    else if (target !== undefined && target !== null && !(target instanceof tf.Tensor)) throw new CinderArgumentError('target', target, 'a number > 0, a tensor of target rates, or nothing (the default target)');
    const list = this.active(cells);
    this.atomically(list, () => {
      for (const { cell, hyper: h, state: s } of list) {
        if (!s.ready) continue;
        if ((target === undefined || target === null) && s.inverseTarget === null) {
          throw new CinderArgumentError('target', target ?? null, 'a target rate > 0 (this cell has no default target)');
        }
        const conn = cell.connection as HomeostasisConnection;
        tf.tidy(() => {
          const r = s.rate.latest;
          const relative = this.relativeError(r, target, s.inverseTarget);
          const receptive = conn.postsynReceptive(relative);
          const k = tf.mul(tf.mean(receptive, -1), s.gain); // [B, ...W'] with W' broadcastable to the parameter
          const param = h.parameter === 'weight' ? conn.weight : h.parameter === 'bias' ? conn.bias! : conn.delay!;
          const pos = fitTo(reduceOverBatch(tf.relu(k), h.batchReduction), param.shape);
          const neg = fitTo(reduceOverBatch(tf.relu(tf.neg(k)), h.batchReduction), param.shape);
          conn.updater.add(h.parameter, pos, neg);
        });
      }
    });
  }

  /** (r* − r)/r* = 1 − r/r* for a number target, (T − r)/T for a tensor target. */
  private relativeError(r: tf.Tensor, target: number | tf.Tensor | null | undefined, inverse: tf.Scalar | null): tf.Tensor {
    if (target instanceof tf.Tensor) {
      const ok = target.rank === r.rank && target.shape.every((d, i) => d === 1 || d === r.shape[i]);
      if (!ok) throw new CinderArgumentError('target', target, `a tensor broadcastable to [${r.shape.join(', ')}]`);
      return tf.div(tf.sub(target, r), target);
    }
    const inv = typeof target === 'number' ? this.scalars.get(1 / target) : inverse!;
    return tf.sub(this.one, tf.mul(r, inv));
  }

  protected override disposeConstants(): void {
    this.scalars.dispose();
    this.one.dispose();
  }
}
