/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkFinite, checkPositive } from '../../core/errors.js';
import type { Observer } from '../../neural/types.js';
import { StateMonitor } from '../../observe/monitors/state-monitor.js';
import { CumulativeTraceReducer, NearestTraceReducer } from '../../observe/reducers/trace.js';
import type { Reducer } from '../../observe/reducers/reducer.js';
import { CellTrainer, type CellResources } from '../toolkit/trainer.js';
import type { TrainableCell } from '../toolkit/trainable-cell.js';
import { checkBatchReduction, type TrainerBatchReduction } from '../toolkit/contraction.js';
import { splitBySign } from '../toolkit/sign.js';
import { PairTraces, traceReducer, type TraceMode } from '../toolkit/pair-traces.js';

/** Hyperparameters of {@link TripletSTDP} (all may be overridden per cell). */
export interface TripletSTDPOptions {
  /** Pair rate α_post applied on postsynaptic spikes (≠ 0; its sign picks the mode). */
  lrPostPair: number;
  /** Triplet rate β_post applied on postsynaptic spikes (its absolute value is used). */
  lrPostTriplet: number;
  /** Pair rate α_pre applied on presynaptic spikes (≠ 0; its sign picks the mode). */
  lrPrePair: number;
  /** Triplet rate β_pre applied on presynaptic spikes (its absolute value is used). */
  lrPreTriplet: number;
  /** Fast postsynaptic time constant τ₋ (ms). */
  tauPostFast: number;
  /** Slow postsynaptic time constant τ_y > τ₋ (ms). */
  tauPostSlow: number;
  /** Fast presynaptic time constant τ₊ (ms). */
  tauPreFast: number;
  /** Slow presynaptic time constant τ_x > τ₊ (ms). */
  tauPreSlow: number;
  /** `cumulative` (all-to-all, default) or `nearest` traces. */
  traceMode?: TraceMode;
  /** Reduction of per-sample updates over the batch (default `mean`). */
  batchReduction?: TrainerBatchReduction;
}

/** {@link TripletSTDPOptions} with defaults filled in. */
export type TripletSTDPHyper = Required<TripletSTDPOptions>;

function slowTrace(mode: TraceMode, dt: number, tau: number): Reducer<[tf.Tensor]> {
  const options = { dt, tau, amplitude: 1, history: 2 };
  return mode === 'cumulative' ? new CumulativeTraceReducer(options) : new NearestTraceReducer(options);
}

/**
 * Per-cell resources of {@link TripletSTDP}: the pair monitors (fast unit-amplitude traces x̂_a
 * with τ₊, ŷ_a with τ₋, and the spikes), the slow unit-amplitude traces x̂_b (τ_x) and ŷ_b (τ_y)
 * with one step of history, and the cell's rate constants.
 */
export class TripletTraces implements CellResources {
  /** Fast traces and spikes (amplitude 1). */
  readonly pair: PairTraces;
  /** Slow presynaptic trace x̂_b (history 2: `ago(1)` is x̂_b(t − Δt)). */
  readonly slowPre: StateMonitor;
  /** Slow postsynaptic trace ŷ_b (history 2). */
  readonly slowPost: StateMonitor;
  /** |α_post|, β_post, |α_pre|, β_pre as float32 scalars. */
  private readonly rates: tf.Scalar[];

  /**
   * @param cell the observed cell
   * @param h the cell's hyperparameters
   */
  constructor(cell: TrainableCell, h: Readonly<TripletSTDPHyper>) {
    const dt = cell.connection.dt;
    const conn = cell.connection;
    const neuron = cell.neuron;
    this.pair = new PairTraces(cell, { tauPre: h.tauPreFast, tauPost: h.tauPostFast, amplitudePre: 1, amplitudePost: 1, mode: h.traceMode });
    this.slowPre = new StateMonitor(() => conn.synspike, slowTrace(h.traceMode, dt, h.tauPreSlow));
    this.slowPost = new StateMonitor(() => neuron.spike, slowTrace(h.traceMode, dt, h.tauPostSlow));
    this.rates = [Math.abs(h.lrPostPair), h.lrPostTriplet, Math.abs(h.lrPrePair), h.lrPreTriplet].map((v) => tf.keep(tf.scalar(v)));
  }

  /** |α_post| */
  get alphaPost(): tf.Scalar {
    return this.rates[0]!;
  }

  /** β_post */
  get betaPost(): tf.Scalar {
    return this.rates[1]!;
  }

  /** |α_pre| */
  get alphaPre(): tf.Scalar {
    return this.rates[2]!;
  }

  /** β_pre */
  get betaPre(): tf.Scalar {
    return this.rates[3]!;
  }

  /** The slow trace one step back (`null` before its second fold, i.e. 0). */
  static previous(m: StateMonitor): tf.Tensor | null {
    return m.reducer.size > 1 ? m.reducer.ago(1) : null;
  }

  /** All six monitors. */
  get observers(): readonly Observer[] {
    return [...this.pair.observers, this.slowPre, this.slowPost];
  }

  /** True once the monitors have folded a step. */
  get ready(): boolean {
    return this.pair.ready;
  }

  /** Resets every trace. */
  clear(): void {
    this.pair.clear();
    this.slowPre.clear();
    this.slowPost.clear();
  }

  /** Frees monitors and constants. */
  dispose(): void {
    this.pair.dispose();
    this.slowPre.dispose();
    this.slowPost.dispose();
    for (const s of this.rates) s.dispose();
  }
}

/**
 * Triplet STDP (Pfister & Gerstner 2006) with unit-amplitude traces:
 *
 * `Δw = x̂_a(t)·(α_post + β_post·ŷ_b(t − Δt))·[post] + ŷ_a(t)·(α_pre + β_pre·x̂_b(t − Δt))·[pre]`
 *
 * where x̂_a (τ₊), x̂_b (τ_x) trace presynaptic spikes (`connection.synspike`) and ŷ_a (τ₋), ŷ_b (τ_y)
 * postsynaptic spikes; fast traces include the current step's spikes, slow traces are read one step
 * back (before the current spike). Per step and cell:
 * `dpost = reduce_b Σ_R [post]·(|α_post| + β_post·ŷ_b(t−Δt))·x̂_a`,
 * `dpre = reduce_b Σ_R ŷ_a·[pre]·(|α_pre| + β_pre·x̂_b(t−Δt))`, routed to potentiation/depression by
 * the signs of α_post, α_pre (Hebbian: α_post > 0 > α_pre; the triplet terms follow their pair
 * term). Batch mean by default; spike-gated.
 *
 * Per step: `layer.forward(x)`, then `triplet.step()`, then `connection.update()`.
 */
export class TripletSTDP extends CellTrainer<TripletSTDPHyper, TripletTraces> {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'TripletSTDP';
  /** @param options rates, time constants, trace mode, batch reduction (see {@link TripletSTDPOptions}) */
  constructor(options: TripletSTDPOptions) {
    super({ traceMode: 'cumulative', batchReduction: 'mean', ...options });
  }

  protected override get optionKeys(): readonly string[] {
    return ['lrPostPair', 'lrPostTriplet', 'lrPrePair', 'lrPreTriplet', 'tauPostFast', 'tauPostSlow', 'tauPreFast', 'tauPreSlow', 'traceMode', 'batchReduction'];
  }

  protected validate(h: TripletSTDPHyper): TripletSTDPHyper {
    for (const k of ['lrPostPair', 'lrPrePair'] as const) {
      if (checkFinite(k, h[k]) === 0) throw new CinderArgumentError(k, h[k], 'a finite number ≠ 0 (its sign picks the mode)');
    }
    const lrPostTriplet = Math.abs(checkFinite('lrPostTriplet', h.lrPostTriplet));
    const lrPreTriplet = Math.abs(checkFinite('lrPreTriplet', h.lrPreTriplet));
    checkPositive('tauPostFast', h.tauPostFast);
    checkPositive('tauPreFast', h.tauPreFast);
    checkPositive('tauPostSlow', h.tauPostSlow);
    checkPositive('tauPreSlow', h.tauPreSlow);
    if (!(h.tauPostSlow > h.tauPostFast)) throw new CinderArgumentError('tauPostSlow', h.tauPostSlow, `a time constant > tauPostFast (${h.tauPostFast})`);
    if (!(h.tauPreSlow > h.tauPreFast)) throw new CinderArgumentError('tauPreSlow', h.tauPreSlow, `a time constant > tauPreFast (${h.tauPreFast})`);
    const traceMode = h.traceMode ?? 'cumulative';
    traceReducer(traceMode, 1, 1, 1).dispose(); // validates the mode
    return { ...h, lrPostTriplet, lrPreTriplet, traceMode, batchReduction: checkBatchReduction('batchReduction', h.batchReduction ?? 'mean') };
  }

  protected build(cell: TrainableCell, h: Readonly<TripletSTDPHyper>): TripletTraces {
    return new TripletTraces(cell, h);
  }

  /** The monitors of a registered cell. */
  traces(cell: TrainableCell): TripletTraces {
    return this.entry(cell).state;
  }

  /**
   * Adds this step's update of every learning cell (or of `cells`) to its connection's updater.
   * Cells whose monitors have not folded a step yet are skipped.
   */
  step(cells?: readonly TrainableCell[]): void {
    const list = this.active(cells);
    this.atomically(list, () => {
      for (const { cell, hyper: h, state: s } of list) {
        if (!s.ready) continue;
        tf.tidy(() => {
          const p = s.pair;
          const yPrev = TripletTraces.previous(s.slowPost);
          const xPrev = TripletTraces.previous(s.slowPre);
          const postGain = yPrev ? tf.add(s.alphaPost, tf.mul(s.betaPost, yPrev)) : s.alphaPost;
          const preGain = xPrev ? tf.add(s.alphaPre, tf.mul(s.betaPre, xPrev)) : s.alphaPre;
          const dpost = p.contraction.reduce(tf.mul(p.spikePost.latest, postGain), p.tracePre.latest, h.batchReduction);
          const dpre = p.contraction.reduce(p.tracePost.latest, tf.mul(p.spikePre.latest, preGain), h.batchReduction);
          const { pos, neg } = splitBySign(dpost, dpre, h.lrPostPair >= 0, h.lrPrePair >= 0);
          cell.connection.updater.add('weight', pos, neg);
        });
      }
    });
  }
}
