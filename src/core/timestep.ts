/**
 * Brian2's count of whole steps in a duration, shared by every place that counts a refractory
 * period the way Brian2 does (`refracCount: 'steps'` of the neuron groups, the event engine).
 * @module
 */

/** The shift of {@link brian2Timestep}: 10⁻³ of a step (Brian2's `timestep`). */
export const TIMESTEP_SHIFT = 1e-3;

/**
 * Brian2's `timestep(τ, dt) = int((τ + 10⁻³·dt)/dt)` for a duration `tauMs` ≥ 0 and a step `dtMs` > 0
 * given in ms: ⌊(t + 10⁻³·h)/h⌋ with t = τ·10⁻³ and h = dt·10⁻³, each operation in float64 on the
 * values in seconds, as Brian2 computes on quantities (in ms the rounding differs at float64 ties:
 * 0.1999 ms at dt 0.1 ms is 2 steps in seconds, as Brian2, and 1 in ms). A duration up to 10⁻³ of
 * a step short of k steps counts as k (2 ms at 0.1 ms: 20, though 2/0.1 is 19.999… in float64);
 * otherwise it rounds down (2.5 ms at 1 ms: 2). The caller checks its arguments.
 */
export function brian2Timestep(tauMs: number, dtMs: number): number {
  const t = tauMs * 1e-3;
  const h = dtMs * 1e-3;
  return Math.floor((t + TIMESTEP_SHIFT * h) / h);
}
