/**
 * The shared base of the pair-trace rules (STDP, MSTDP): hyperparameter validation, one
 * {@link PairTraces} per registered cell, and access to a cell's monitors.
 * @module
 */
import { CellTrainer } from '../toolkit/trainer.js';
import type { TrainableCell } from '../toolkit/trainable-cell.js';
import { checkBatchReduction, type TrainerBatchReduction } from '../toolkit/contraction.js';
import { PairTraces, type TraceMode } from '../toolkit/pair-traces.js';
import { checkFlag, checkPairHyper } from './stdp-checks.js';

/** Hyperparameters shared by the pair-trace rules (all may be overridden per cell). */
export interface PairRuleOptions {
  /** Learning rate for post-after-pre pairings (applied on postsynaptic spikes); its sign picks the mode. */
  lrPost: number;
  /** Learning rate for pre-after-post pairings (applied on presynaptic spikes); its sign picks the mode. */
  lrPre: number;
  /** Time constant of the postsynaptic trace (ms). */
  tauPost: number;
  /** Time constant of the presynaptic trace (ms). */
  tauPre: number;
  /** `cumulative` (all-to-all, default) or `nearest` traces. */
  traceMode?: TraceMode;
  /** Reduction of per-sample updates over the batch (the rule's default when omitted). */
  batchReduction?: TrainerBatchReduction;
  /**
   * Delay-aware presynaptic traces for connections with delays: trace the raw presynaptic spikes and
   * read each edge's trace at its delay d, as Inferno's `delayed`: the trace k = ⌈d/Δt⌉ steps back
   * times exp(−(kΔt − d)/τ_pre) (default false: trace the delay-selected `synspike`, i.e. the trace
   * at kΔt; the two agree for whole-step delays).
   */
  delayed?: boolean;
}

/** {@link PairRuleOptions} with defaults filled in. */
export type PairRuleHyper = Required<PairRuleOptions>;

/** A rule on a pair of traces per cell; subclasses implement `step` and name their default batch reduction. */
export abstract class PairTraceTrainer<H extends PairRuleHyper> extends CellTrainer<H, PairTraces> {
  /** Batch reduction used when none is given (`mean` for STDP, `sum` for the reward-modulated rules). */
  protected abstract get defaultReduction(): 'mean' | 'sum';

  protected override get optionKeys(): readonly string[] {
    return ['lrPost', 'lrPre', 'tauPost', 'tauPre', 'traceMode', 'batchReduction', 'delayed'];
  }

  /** Checks the shared fields (learning rates, time constants, trace mode, reduction, delayed). */
  protected validate(h: H): H {
    return {
      ...checkPairHyper(h),
      batchReduction: checkBatchReduction('batchReduction', h.batchReduction ?? this.defaultReduction),
      delayed: checkFlag('delayed', h.delayed),
    };
  }

  /** One pair of trace monitors per cell, with amplitudes |lrPost| (pre trace) and |lrPre| (post trace). */
  protected build(cell: TrainableCell, h: Readonly<H>): PairTraces {
    return new PairTraces(cell, { tauPre: h.tauPre, tauPost: h.tauPost, amplitudePre: Math.abs(h.lrPost), amplitudePost: Math.abs(h.lrPre), mode: h.traceMode, delayed: h.delayed });
  }

  /** The monitors of a registered cell (`tracePre.latest` is x_pre(t), …). */
  traces(cell: TrainableCell): PairTraces {
    return this.entry(cell).state;
  }
}
