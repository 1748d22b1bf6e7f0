/**
 * The readout side of an e-prop batch, in float64 JavaScript: readout traces y (leaky filter of the
 * weighted spikes), outputs π = softmax(y) or y, errors in the learning window, loss and recall
 * error. The readout is linear in the spikes, so it runs after the recurrent scan.
 * @module
 */
import type { ReadoutLoss } from './readout.js';

/** Targets of a batch: class labels (cross-entropy) or target signals in the window (MSE). */
export interface ReadoutTarget {
  /** Class index per sequence, length B (cross-entropy). */
  labels?: ArrayLike<number>;
  /** Target signals [B, nLw, nOut] row-major (mean squared error). */
  signals?: ArrayLike<number>;
}

/**
 * What the summed loss terms of a batch are divided by, as NEST's e-prop tests and examples
 * report their losses: the cross-entropy is a mean over sequences and window steps,
 * −(1/(B·n_lw))·Σ_{b,t} Σ_k π*_k log π_k, so B·n_lw; the squared error is summed over the window
 * and averaged over readouts and sequences, 0.5·(1/(B·nOut))·Σ_{b,k} Σ_t (y − y*)², so B·nOut.
 */
export function lossDivisor(loss: ReadoutLoss, dims: { batch: number; nOut: number; nLw: number }): number {
  return loss === 'cross_entropy' ? dims.batch * dims.nLw : dims.batch * dims.nOut;
}

/** Outputs of {@link readoutPass}. */
export interface ReadoutPassResult {
  /**
   * Cross-entropy −mean_{b,t∈window} Σ_k π*_k log π_k, or 0.5·mean_{b,k} Σ_{t∈window} (y − y*)²
   * (NEST's regression loss: summed over the window, not averaged) — see {@link lossDivisor}.
   */
  loss: number;
  /** The loss terms summed over sequences, window steps and readouts (loss = lossSum / {@link lossDivisor}). */
  lossSum: number;
  /** Wrongly classified sequences (0 for MSE). */
  wrong: number;
  /** Fraction of sequences whose argmax_k mean_t π_k differs from the label (NaN for MSE). */
  recallError: number;
  /** err = π − π* (or y − y*) in the window, [B, nLw, nOut]. */
  err: Float64Array;
  /** Predicted class per sequence (−1 for MSE). */
  prediction: Int32Array;
  /** Readout traces y of the traced sequence over all steps, [T, nOut] (when requested). */
  yTrace?: Float64Array;
}

/**
 * Computes readout traces, errors and loss from the recurrent spikes.
 *
 * @param z spikes [B, T, n]
 * @param dims batch B, steps T, neurons n, outputs nOut, learning window nLw
 * @param wOut readout weights [nOut, n] row-major
 * @param kappa readout decay κ
 * @param loss loss function
 * @param target labels or target signals
 * @param traceIndex sequence whose full readout trace to return (−1: none)
 */
export function readoutPass(
  z: Uint8Array,
  dims: { batch: number; steps: number; n: number; nOut: number; nLw: number },
  wOut: ArrayLike<number>,
  kappa: number,
  loss: ReadoutLoss,
  target: ReadoutTarget,
  traceIndex = -1,
): ReadoutPassResult {
  const { batch: B, steps: T, n, nOut, nLw } = dims;
  const w0 = T - nLw;
  const err = new Float64Array(B * nLw * nOut);
  const prediction = new Int32Array(B).fill(-1);
  const y = new Float64Array(nOut);
  const pi = new Float64Array(nOut);
  const mean = new Float64Array(nOut);
  const yTrace = traceIndex >= 0 && traceIndex < B ? new Float64Array(T * nOut) : undefined;
  const g = 1 - kappa;
  let lossSum = 0;
  let wrong = 0;
  for (let b = 0; b < B; b++) {
    y.fill(0);
    mean.fill(0);
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < nOut; k++) y[k] = kappa * y[k]!;
      const o = (b * T + t) * n;
      for (let j = 0; j < n; j++) {
        if (z[o + j] === 0) continue;
        for (let k = 0; k < nOut; k++) y[k] += g * wOut[k * n + j]!;
      }
      if (yTrace && b === traceIndex) for (let k = 0; k < nOut; k++) yTrace[t * nOut + k] = y[k]!;
      if (t < w0) continue;
      const eo = (b * nLw + (t - w0)) * nOut;
      if (loss === 'cross_entropy') {
        let m = -Infinity;
        for (let k = 0; k < nOut; k++) m = Math.max(m, y[k]!);
        let s = 0;
        for (let k = 0; k < nOut; k++) s += (pi[k] = Math.exp(y[k]! - m));
        const label = target.labels![b]!;
        for (let k = 0; k < nOut; k++) {
          pi[k] = pi[k]! / s;
          mean[k] += pi[k]!;
          err[eo + k] = pi[k]! - (k === label ? 1 : 0);
        }
        lossSum -= y[label]! - m - Math.log(s);
      } else {
        for (let k = 0; k < nOut; k++) {
          const e = y[k]! - target.signals![eo + k]!;
          err[eo + k] = e;
          lossSum += 0.5 * e * e;
        }
      }
    }
    if (loss === 'cross_entropy') {
      let best = 0;
      for (let k = 1; k < nOut; k++) if (mean[k]! > mean[best]!) best = k;
      prediction[b] = best;
      if (best !== target.labels![b]) wrong++;
    }
  }
  return {
    loss: lossSum / lossDivisor(loss, dims),
    lossSum,
    wrong,
    recallError: loss === 'cross_entropy' ? wrong / B : NaN,
    err,
    prediction,
    yTrace,
  };
}
