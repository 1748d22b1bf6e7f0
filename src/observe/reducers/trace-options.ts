/**
 * Options and constants shared by the trace reducers.
 * @module
 */
import { tf } from '../../core/tf.js';
import { checkFinite, checkPositive, optionKeys } from '../../core/errors.js';
import type { Criterion } from '../criterion.js';
import { REDUCER_OPTION_KEYS, type ReducerOptions } from './reducer.js';

/** Options of the exponential trace reducers. */
export interface TraceOptions extends ReducerOptions {
  /** Step length Δt (ms). */
  dt: number;
  /** Time constant τ (ms); the decay per step is α = exp(−Δt/τ), computed in float64 and rounded once. */
  tau: number;
  /** Amplitude A added (cumulative) or set (nearest) on a match (default 1; 0 for scaled and conditional traces). */
  amplitude?: number;
}

/** The keys of {@link TraceOptions}. */
export const TRACE_OPTION_KEYS = optionKeys<TraceOptions>()([...REDUCER_OPTION_KEYS, 'dt', 'tau', 'amplitude']);

/** Options of the plain traces: the match comes from the observation itself. */
export interface MatchTraceOptions extends TraceOptions {
  /** What counts as a match (default: every non-zero element of the observation, a spike tensor; see `Criterion`). */
  criterion?: Criterion;
}

/** The keys of {@link MatchTraceOptions}. */
export const MATCH_TRACE_OPTION_KEYS = optionKeys<MatchTraceOptions>()([...TRACE_OPTION_KEYS, 'criterion']);

/** Options of the scaled traces: on a match the trace takes `s·h + A`. */
export interface ScaledTraceOptions extends TraceOptions {
  /** Scale s applied to the matched observation (default 1). */
  scale?: number;
  /** What counts as a match (required: there is no meaningful default for scaled values). */
  criterion: Criterion;
}

/** The keys of {@link ScaledTraceOptions}. */
export const SCALED_TRACE_OPTION_KEYS = optionKeys<ScaledTraceOptions>()([...TRACE_OPTION_KEYS, 'scale', 'criterion']);

/** Options of the conditional traces: the match is taken from a second (condition) input. */
export interface ConditionalTraceOptions extends TraceOptions {
  /** Scale s applied to the observation (default 1). */
  scale?: number;
  /** What counts as a match in the condition input (default: every non-zero element of the condition; see `Criterion`). */
  criterion?: Criterion;
}

/** The keys of {@link ConditionalTraceOptions}. */
export const CONDITIONAL_TRACE_OPTION_KEYS = optionKeys<ConditionalTraceOptions>()([...TRACE_OPTION_KEYS, 'scale', 'criterion']);

/** The float64 decay exp(−dt/τ) after validating dt and τ. */
export function traceDecay(dt: number, tau: number): number {
  checkPositive('dt', dt);
  checkPositive('tau', tau);
  return Math.exp(-dt / tau);
}

/** Constant scalars of a trace: α, A and (optionally) s; created once. */
export class TraceConstants {
  /** α = exp(−Δt/τ) as float32. */
  readonly decay: tf.Scalar;
  /** Amplitude A. */
  readonly amplitude: tf.Scalar;
  /** Scale s. */
  readonly scale: tf.Scalar;

  /** Validates and uploads the constants of `options`. */
  constructor(options: TraceOptions & { scale?: number }) {
    const alpha = traceDecay(options.dt, options.tau);
    const amp = checkFinite('amplitude', options.amplitude ?? 1);
    const scale = checkFinite('scale', options.scale ?? 1);
    this.decay = tf.keep(tf.scalar(alpha));
    this.amplitude = tf.keep(tf.scalar(amp));
    this.scale = tf.keep(tf.scalar(scale));
  }

  /** Frees the scalars. */
  dispose(): void {
    this.decay.dispose();
    this.amplitude.dispose();
    this.scale.dispose();
  }
}
