/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkFinite, checkOneOf, checkPositive } from '../../core/errors.js';
import { CellTrainer } from '../trainer.js';
import type { TrainableCell } from '../trainer-cell.js';
import { checkBatchReduction, type TrainerBatchReduction } from '../trainer-contraction.js';
import { splitBySign } from '../trainer-sign.js';
import { PairTraces, type TraceMode } from '../trainer-traces.js';

/** Hyperparameters of {@link STDP} (all may be overridden per cell). */
export interface STDPOptions {
  /** Learning rate for post-after-pre pairings (applied on postsynaptic spikes); its sign picks the mode. */
  lrPost: number;
  /** Learning rate for pre-after-post pairings (applied on presynaptic spikes); its sign picks the mode. */
  lrPre: number;
  /** Time constant of the postsynaptic trace (ms). */
  tcPost: number;
  /** Time constant of the presynaptic trace (ms). */
  tcPre: number;
  /** `cumulative` (all-to-all, default) or `nearest` traces. */
  traceMode?: TraceMode;
  /** Reduction of per-sample updates over the batch (default `mean`). */
  batchReduction?: TrainerBatchReduction;
  /**
   * Delay-aware presynaptic traces for connections with delays: trace the raw presynaptic spikes and
   * read each edge's trace at its delay (default false: trace the delay-selected `synspike`).
   */
  delayed?: boolean;
}

/** {@link STDPOptions} with defaults filled in. */
export type STDPHyper = Required<STDPOptions>;

/** Throws unless `v` is a boolean (undefined → false). */
export function checkFlag(param: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new CinderArgumentError(param, v, 'true or false');
  return v;
}

/** The hyperparameters shared by the pair rules. */
export interface PairHyper {
  /** Learning rate applied on postsynaptic spikes. */
  lrPost: number;
  /** Learning rate applied on presynaptic spikes. */
  lrPre: number;
  /** Postsynaptic trace time constant (ms). */
  tcPost: number;
  /** Presynaptic trace time constant (ms). */
  tcPre: number;
  /** Trace mode. */
  traceMode?: TraceMode;
}

/** Validates the fields shared by the pair rules and fills `traceMode`. */
export function checkPairHyper<H extends PairHyper>(h: H): H {
  checkFinite('lrPost', h.lrPost);
  checkFinite('lrPre', h.lrPre);
  checkPositive('tcPost', h.tcPost);
  checkPositive('tcPre', h.tcPre);
  const traceMode = h.traceMode ?? 'cumulative';
  checkOneOf('traceMode', traceMode, ['cumulative', 'nearest'] as const);
  return { ...h, traceMode };
}

/**
 * Pair-based spike-timing-dependent plasticity on exponential traces (spike-gated):
 *
 * `dpost = reduce_b Σ_R i_post(t)·x_pre(t)`, `dpre = reduce_b Σ_R i_pre(t)·x_post(t)`, with trace
 * amplitudes |lrPost| (x_pre) and |lrPre| (x_post); the signs of the rates route the terms to
 * potentiation/depression (Hebbian for lrPost ≥ 0 > lrPre; see `splitBySign`). Net update with the
 * default bind: `sgn(lrPost)·dpost + sgn(lrPre)·dpre`. Traces include the current step's spikes.
 *
 * Per step: `layer.forward(x)`, then `stdp.step()`, then `connection.update()`.
 */
export class STDP extends CellTrainer<STDPHyper, PairTraces> {
  /**
   * Creates the trainer; register cells with {@link register}.
   * @param options default hyperparameters (see {@link STDPOptions})
   */
  constructor(options: STDPOptions) {
    super({ traceMode: 'cumulative', batchReduction: 'mean', delayed: false, ...options });
  }

  protected validate(h: STDPHyper): STDPHyper {
    return { ...checkPairHyper(h), batchReduction: checkBatchReduction('batchReduction', h.batchReduction ?? 'mean'), delayed: checkFlag('delayed', h.delayed) };
  }

  protected build(cell: TrainableCell, h: Readonly<STDPHyper>): PairTraces {
    return new PairTraces(cell, { tcPre: h.tcPre, tcPost: h.tcPost, ampPre: Math.abs(h.lrPost), ampPost: Math.abs(h.lrPre), mode: h.traceMode, delayed: h.delayed });
  }

  /** The monitors of a registered cell (`tracePre.latest` is x_pre(t), …). */
  traces(cell: TrainableCell): PairTraces {
    return this.entry(cell).state;
  }

  /**
   * Adds this step's update of every learning cell (or of `cells`) to its connection's updater.
   * Cells whose monitors have not folded a step yet are skipped.
   */
  step(cells?: readonly TrainableCell[]): void {
    for (const { cell, hyper: h, state: s } of this.active(cells)) {
      if (!s.ready) continue;
      tf.tidy(() => {
        const dpost = s.contraction.reduce(s.spikePost.latest, s.preTrace(), h.batchReduction);
        const dpre = s.contraction.reduce(s.tracePost.latest, s.preSpike(), h.batchReduction);
        const { pos, neg } = splitBySign(dpost, dpre, h.lrPost >= 0, h.lrPre >= 0);
        cell.connection.updater.add('weight', pos, neg);
      });
    }
  }
}
