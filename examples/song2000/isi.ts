/**
 * The coefficient of variation of the postsynaptic inter-spike intervals (Song, Miller & Abbott
 * 2000, Fig. 2c: "standard deviation divided by the mean" of the ISIs), over a window at the end of
 * the run, accumulated online so that it is checkpointed with a few numbers.
 * @module
 */
import { checkInteger } from '../../src/core/errors.js';

/**
 * Online ISI statistics of the spikes at steps ≥ `fromStep`: every interval between two consecutive
 * recorded spikes (both in the window) enters Welford's running mean and sum of squared deviations
 * (float64; ISIs are whole steps). `cv()` is `sd / mean` with the population standard deviation
 * `sd = √(m2 / n)` over the n intervals (null with fewer than 2 intervals).
 */
export class IsiStats {
  /** Step of the last recorded spike (−1: none yet). */
  last = -1;
  /** Number of intervals. */
  n = 0;
  /** Mean interval (steps). */
  mean = 0;
  /** Sum of squared deviations from the mean (steps²). */
  m2 = 0;

  /** @param fromStep first step of the window (an integer ≥ 0) */
  constructor(readonly fromStep: number) {
    checkInteger('fromStep', fromStep, 0);
  }

  /** Records a spike at step `t` (steps in increasing order; steps before the window are ignored). */
  record(t: number): void {
    if (t < this.fromStep) return;
    if (this.last >= 0) {
      const x = t - this.last;
      this.n++;
      const d = x - this.mean;
      this.mean += d / this.n;
      this.m2 += d * (x - this.mean);
    }
    this.last = t;
  }

  /** Coefficient of variation sd/mean of the intervals (population sd), or null with < 2 intervals. */
  cv(): number | null {
    return this.n >= 2 ? Math.sqrt(this.m2 / this.n) / this.mean : null;
  }
}
