/**
 * @module
 */
import { share, tf } from '../../core/tf.js';
import type { TrainableCell } from '../toolkit/trainable-cell.js';
import type { TrainerBatchReduction } from '../toolkit/contraction.js';
import { splitBySign } from '../toolkit/sign.js';
import { fusedBackend } from '../../kernels/js/fused-memory.js';
import { stepProgramsOn } from '../../kernels/webgpu/step-program.js';
import { PairTraceTrainer, type PairRuleOptions } from './pair-trace-trainer.js';

/** Hyperparameters of {@link STDP} (all may be overridden per cell). */
export interface STDPOptions extends PairRuleOptions {
  /** Reduction of per-sample updates over the batch (default `mean`). */
  batchReduction?: TrainerBatchReduction;
}

/** {@link STDPOptions} with defaults filled in. */
export type STDPHyper = Required<STDPOptions>;

export { checkFlag, checkPairHyper, type PairHyper } from './stdp-checks.js';

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
export class STDP extends PairTraceTrainer<STDPHyper> {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'STDP';
  /**
   * Creates the trainer; register cells with {@link register}.
   * @param options default hyperparameters (see {@link STDPOptions})
   */
  constructor(options: STDPOptions) {
    super({ traceMode: 'cumulative', batchReduction: 'mean', delayed: false, ...options });
  }

  /** Default batch reduction of this rule. */
  protected get defaultReduction(): 'mean' {
    return 'mean';
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
          if (fusedBackend() || stepProgramsOn()) {
            // wasm/cpu: hand the two outer products to the updater unevaluated; connection.update()
            // then applies them (with bounding and clamps) in one fused kernel (webgpu: one WGSL
            // program, src/kernels/webgpu/step-update.ts).
            const fpost = s.contraction.outerFactors(s.spikePost.latest, s.preTrace(), h.batchReduction);
            const fpre = fpost && s.contraction.outerFactors(s.tracePost.latest, s.preSpike(), h.batchReduction);
            if (fpost && fpre) {
              const acc = cell.connection.updater.accumulator('weight');
              acc.addOuter(h.lrPost >= 0 ? 'pos' : 'neg', { post: share(fpost.post), pre: share(fpost.pre), divisor: fpost.divisor });
              acc.addOuter(h.lrPre >= 0 ? 'pos' : 'neg', { post: share(fpre.post), pre: share(fpre.pre), divisor: fpre.divisor });
              return;
            }
          }
          const dpost = s.contraction.reduce(s.spikePost.latest, s.preTrace(), h.batchReduction);
          const dpre = s.contraction.reduce(s.tracePost.latest, s.preSpike(), h.batchReduction);
          const { pos, neg } = splitBySign(dpost, dpre, h.lrPost >= 0, h.lrPre >= 0);
          cell.connection.updater.add('weight', pos, neg);
        });
      }
    });
  }
}
