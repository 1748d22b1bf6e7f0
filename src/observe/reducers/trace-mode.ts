/**
 * Choosing a trace kind by name (trainers' `traceMode` option).
 * @module
 */
import { checkOneOf } from '../../core/errors.js';
import { CumulativeTraceReducer } from './cumulative-trace.js';
import { NearestTraceReducer } from './nearest-trace.js';
import type { MatchTraceOptions } from './trace-options.js';

/** `'cumulative'` (all-to-all pairing) or `'nearest'` (latest match only). */
export type TraceMode = 'cumulative' | 'nearest';

/** The trace reducers selectable by {@link TraceMode}. */
export type TraceReducer = CumulativeTraceReducer | NearestTraceReducer;

/** Creates a {@link CumulativeTraceReducer} or a {@link NearestTraceReducer}. */
export function createTraceReducer(mode: TraceMode, options: MatchTraceOptions): TraceReducer {
  checkOneOf('traceMode', mode, ['cumulative', 'nearest'] as const);
  return mode === 'cumulative' ? new CumulativeTraceReducer(options) : new NearestTraceReducer(options);
}
