/**
 * The backward half of exact e-prop in its "adjoint" form (reference notes §9): instead of carrying
 * per-synapse eligibility traces forward, per-neuron linear recursions run backwards in time:
 *
 *     Ê_s = err_s + κ·Ê_{s+1}                 (anti-causal readout filter, err = 0 outside the window)
 *     L̄_s = (1 − κ)·B·Ê_s                      (so Σ_t L_t·ē_t = Σ_s L̄_s·e_s)
 *     q_s = ψ_s·(L̄_s + R̃)·c,  R̃ = c_reg·(f − f0)/T,  c = 1/n_lw if averaged else 1
 *     h_s = q_{s+1} + (ρ − β·ψ_{s+1})·h_{s+1},  h_{T−1} = 0
 *     δ_s = q_s − β·ψ_s·h_s
 *
 * The gradient of an input weight is Σ_s δ_s·x̄_s with x̄ the α-filtered input; exchanging the sums
 * once more gives Σ_u x_u·D_u with D_u = ζ·Σ_{s≥u} α^{s−u}·δ_s (one more backward filter), so the
 * gradient products run directly on the sparse spikes. Recurrent synapses see z one step late
 * (Σ_u z_u·D_{u+1}); readout synapses get Σ_u z_u·(1 − κ)·Ê_u.
 * @module
 */
import type { RecurrentConstants } from './recurrent.js';
import type { EPropScratch, ForwardRecord } from './record.js';

/** Settings of the backward pass. */
export interface AdjointSettings {
  /** Learning window n_lw (steps at the end of each sequence). */
  nLw: number;
  /** Readout decay κ. */
  kappa: number;
  /** Number of readouts. */
  nOut: number;
  /** Feedback weights B [n, nOut] row-major. */
  feedback: ArrayLike<number>;
  /** Firing-rate regularisation strength c_reg. */
  cReg: number;
  /** Target rate in spikes per step (f_target·dt). */
  f0: number;
  /** Divide by n_lw (NEST `average_gradient`). */
  averageGradient: boolean;
}

/** Outputs of {@link epropAdjoint}. */
export interface AdjointResult {
  /** D_u = ζ·Σ_{s≥u} α^{s−u}·δ_s, [B, T, n]. */
  d: Float64Array;
  /** (1 − κ)·Ê_u·c (readout gradient factor), [B, T, nOut]. */
  eOut: Float64Array;
  /** Learning signals L_s = B·err_s of every step, [B, T, n] — only when requested. */
  learningSignal?: Float64Array;
  /** Spikes per step of each neuron in each sequence, [B, n]. */
  rates: Float64Array;
}

/**
 * Runs the backward recursions for every sequence and neuron.
 *
 * @param rec forward record (ψ, z)
 * @param c scan constants
 * @param err readout errors in the window, [B, nLw, nOut]
 * @param s settings
 * @param keepLearningSignal also return L for every step (for figures)
 * @param scratch where D and the readout factor come from (reused, every entry written); without it
 *   they are new arrays the result owns
 */
export function epropAdjoint(rec: ForwardRecord, c: RecurrentConstants, err: Float64Array, s: AdjointSettings, keepLearningSignal = false, scratch?: EPropScratch): AdjointResult {
  const { batch: B, steps: T, n, psi, z } = rec;
  const { nLw, kappa, nOut, feedback: fb, cReg, f0 } = s;
  const scale = s.averageGradient ? 1 / nLw : 1;
  const { alpha, rho, zeta, beta } = c;
  const w0 = T - nLw;
  const d = scratch ? scratch.take('d', Float64Array, B * T * n) : new Float64Array(B * T * n);
  const eOut = scratch ? scratch.take('eOut', Float64Array, B * T * nOut) : new Float64Array(B * T * nOut);
  const counts = rec.counts;
  const learningSignal = keepLearningSignal ? new Float64Array(B * T * n) : undefined;
  const rates = new Float64Array(B * n);
  const eh = new Float64Array(nOut);
  const h = new Float64Array(n);
  const acc = new Float64Array(n);
  const reg = new Float64Array(n);
  const g = 1 - kappa;
  for (let b = 0; b < B; b++) {
    // Per-sequence firing rates and regulariser R̃_j (spike counts are integers: exact either way).
    if (counts) for (let j = 0; j < n; j++) rates[b * n + j] = counts[b * n + j]!;
    else {
      for (let t = 0; t < T; t++) {
        const o = (b * T + t) * n;
        for (let j = 0; j < n; j++) rates[b * n + j] += z[o + j]!;
      }
    }
    for (let j = 0; j < n; j++) {
      const f = rates[b * n + j]! / T;
      rates[b * n + j] = f;
      reg[j] = (cReg * (f - f0)) / T;
    }
    eh.fill(0);
    h.fill(0);
    acc.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      // Ê_t = err_t + κ·Ê_{t+1}; eOut = (1 − κ)·c·Ê_t; L̄_t = (1 − κ)·B·Ê_t (in the loop below).
      const inWin = t >= w0;
      const eo = (b * nLw + (t - w0)) * nOut;
      for (let k = 0; k < nOut; k++) {
        eh[k] = kappa * eh[k]! + (inWin ? err[eo + k]! : 0);
        eOut[(b * T + t) * nOut + k] = g * scale * eh[k]!;
      }
      if (learningSignal && inWin) {
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let k = 0; k < nOut; k++) sum += fb[j * nOut + k]! * err[eo + k]!;
          learningSignal[(b * T + t) * n + j] = sum;
        }
      }
      const o = (b * T + t) * n;
      if (nOut === 2) {
        // The loop below for two readouts (the evidence task), with the feedback sum unrolled:
        // the same products, added in the same order.
        const e0 = eh[0]!;
        const e1 = eh[1]!;
        for (let j = 0; j < n; j++) {
          const p = psi[o + j]!;
          const lb = fb[2 * j]! * e0 + fb[2 * j + 1]! * e1;
          const q = p * (g * lb + reg[j]!) * scale;
          const bp = beta[j]! * p;
          const hj = h[j]!;
          const delta = q - bp * hj;
          h[j] = q + (rho - bp) * hj;
          const dj = delta + alpha * acc[j]!;
          acc[j] = dj;
          d[o + j] = zeta * dj;
        }
        continue;
      }
      for (let j = 0; j < n; j++) {
        const p = psi[o + j]!;
        let lb = 0;
        for (let k = 0; k < nOut; k++) lb += fb[j * nOut + k]! * eh[k]!;
        const q = p * (g * lb + reg[j]!) * scale;
        const bj = beta[j]!;
        const hj = h[j]!;
        const delta = q - bj * p * hj;
        h[j] = q + (rho - bj * p) * hj; // h_{t−1}
        const dj = delta + alpha * acc[j]!;
        acc[j] = dj;
        d[o + j] = zeta * dj;
      }
    }
  }
  return { d, eOut, learningSignal, rates };
}
