/**
 * Argument checks shared by the pair-based rules.
 * @module
 */
import { CinderArgumentError, checkFinite, checkOneOf, checkPositive } from '../../core/errors.js';
import type { TraceMode } from '../toolkit/pair-traces.js';

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
  tauPost: number;
  /** Presynaptic trace time constant (ms). */
  tauPre: number;
  /** Trace mode. */
  traceMode?: TraceMode;
}

/** Validates the fields shared by the pair rules and fills `traceMode`. */
export function checkPairHyper<H extends PairHyper>(h: H): H {
  checkFinite('lrPost', h.lrPost);
  checkFinite('lrPre', h.lrPre);
  checkPositive('tauPost', h.tauPost);
  checkPositive('tauPre', h.tauPre);
  const traceMode = h.traceMode ?? 'cumulative';
  checkOneOf('traceMode', traceMode, ['cumulative', 'nearest'] as const);
  return { ...h, traceMode };
}
