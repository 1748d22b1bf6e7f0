/**
 * Exponential traces (Inferno's `trace.py`): one reducer class parameterised by how a match combines
 * with the decayed trace (`cumulative`: added, all-to-all pairing; `nearest`: replaces it) and by the
 * value taken on a match (`amplitude` A; `scaled` s·h + A on a match of h itself; `conditional`
 * s·h + A on a match of a separate condition input). The six named classes below are those
 * combinations, kept as the public names.
 * @module
 */
import type { tf as TF } from '../../core/tf.js';
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkOneOf, checkOptionKeys } from '../../core/errors.js';
import { Matcher, type Criterion } from '../criterion.js';
import { Reducer, checkSameShape } from './reducer.js';
import { CONDITIONAL_TRACE_OPTION_KEYS, MATCH_TRACE_OPTION_KEYS, SCALED_TRACE_OPTION_KEYS, TraceConstants, type ConditionalTraceOptions, type MatchTraceOptions, type ScaledTraceOptions, type TraceOptions } from './trace-options.js';

/** `'cumulative'` (all-to-all pairing: a match adds) or `'nearest'` (latest match only: a match replaces). */
export type TraceMode = 'cumulative' | 'nearest';

/**
 * The value a trace takes on a match: `'amplitude'` (A, on a match of h), `'scaled'` (s·h + A, on a
 * match of h; a criterion is required), `'conditional'` (s·h + A, on a match of the second input c).
 */
export type TraceValue = 'amplitude' | 'scaled' | 'conditional';

/** Inputs of a trace: `[h]`, or `[h, c]` for conditional traces. */
export type TraceInputs = [TF.Tensor] | [TF.Tensor, TF.Tensor];

/**
 * Exponential trace with decay α = exp(−Δt/τ) per fold:
 * - cumulative: `x(t) = α·x(t − Δt) + v(t)·[match(t)]` (float32 order `(α·x) + (v·m)`, as Inferno);
 * - nearest: `x(t) = v(t)` where it matches, else `α·x(t − Δt)`;
 * with `v = A` (amplitude traces; A defaults to 1) or `v = s·h + A` (scaled and conditional traces,
 * float32 order `(s·h) + A`; A defaults to 0, s to 1). The first fold starts from 0, i.e. gives `v·[match]`.
 * Without a criterion a match is a non-zero element (`h ≠ 0`, NaN included; see `Criterion`), in
 * both modes and on every kernel path (this op path, the fused wasm/cpu and webgpu steps of the pair
 * rules): a spike value of 2 adds A once (Inferno's `A·[spike]`), as the nearest trace sets A; for
 * 0/1 spikes `A·[h ≠ 0]` equals `A·h` exactly.
 */
export class ExponentialTraceReducer<A extends readonly TF.Tensor[] = TraceInputs> extends Reducer<A> {
  /** Step length (ms). */
  readonly dt: number;
  /** Time constant (ms). */
  readonly tau: number;
  /** Decay per step exp(−Δt/τ) in float64 (the uploaded constant is its float32 rounding). */
  readonly decay: number;
  /** Amplitude A. */
  readonly amplitude: number;
  /** Scale s of the observation (1 for amplitude traces, where it is unused). */
  readonly scale: number;
  /** How a match combines with the decayed trace. */
  readonly mode: TraceMode;
  /** The value taken on a match. */
  readonly value: TraceValue;
  /** The uploaded constants α, A and s. */
  protected readonly c: TraceConstants;
  /** The match criterion. */
  protected readonly matcher: Matcher;

  /**
   * @param options trace options (`scale` validated when given; `criterion` required for `scaled`)
   * @param mode cumulative or nearest
   * @param value amplitude, scaled or conditional
   */
  constructor(options: TraceOptions & { scale?: number; criterion?: Criterion }, mode: TraceMode, value: TraceValue) {
    const keys = value === 'scaled' ? SCALED_TRACE_OPTION_KEYS : value === 'conditional' ? CONDITIONAL_TRACE_OPTION_KEYS : MATCH_TRACE_OPTION_KEYS;
    if (new.target === ExponentialTraceReducer || TRACE_CLASSES.has(new.target)) checkOptionKeys('options', options, keys);
    super(options);
    checkOneOf('traceMode', mode, ['cumulative', 'nearest'] as const);
    checkOneOf('trace value', value, ['amplitude', 'scaled', 'conditional'] as const);
    if (value === 'scaled' && options.criterion === undefined) {
      throw new CinderArgumentError('criterion', undefined, 'a function or { target, tolerance? } (required for scaled traces)');
    }
    const amplitude = options.amplitude ?? (value === 'amplitude' ? 1 : 0);
    this.c = new TraceConstants({ ...options, amplitude });
    this.dt = options.dt;
    this.tau = options.tau;
    this.decay = Math.exp(-options.dt / options.tau);
    this.amplitude = amplitude;
    this.scale = options.scale ?? 1;
    this.mode = mode;
    this.value = value;
    this.matcher = new Matcher(options.criterion);
  }

  /** The first observation's shape (elementwise: the value has the observation's shape). */
  override valueShape(shapes: readonly (readonly number[])[]): readonly number[] | null {
    return shapes[0] ?? null;
  }

  protected compute(inputs: A, prev: TF.Tensor | null): TF.Tensor {
    const h = inputs[0];
    checkSameShape('observation', h, prev);
    let on = h;
    if (this.value === 'conditional') {
      on = inputs[1];
      checkSameShape('condition', on, h);
    }
    const v = this.value === 'amplitude' ? this.c.amplitude : tf.add(tf.mul(this.c.scale, h), this.c.amplitude);
    if (prev === null) return tf.mul(v, this.matcher.float(on));
    if (this.mode === 'cumulative') return tf.add(tf.mul(this.c.decay, prev), tf.mul(v, this.matcher.float(on)));
    return tf.where(this.matcher.bool(on), v, tf.mul(this.c.decay, prev));
  }

  protected override disposeConstants(): void {
    this.c.dispose();
    this.matcher.dispose();
  }
}

/** All-to-all trace of amplitude A: `x(t) = α·x(t − Δt) + A·[match(h(t))]`. */
export class CumulativeTraceReducer extends ExponentialTraceReducer<[TF.Tensor]> {
  /** @param options see {@link MatchTraceOptions} */
  constructor(options: MatchTraceOptions) { super(options, 'cumulative', 'amplitude'); }
}

/** Nearest-neighbour trace of amplitude A: `x(t) = A` where h(t) matches, else `α·x(t − Δt)`. */
export class NearestTraceReducer extends ExponentialTraceReducer<[TF.Tensor]> {
  /** @param options see {@link MatchTraceOptions} */
  constructor(options: MatchTraceOptions) { super(options, 'nearest', 'amplitude'); }
}

/** All-to-all trace of the scaled observation: `x(t) = α·x(t − Δt) + (s·h(t) + A)·[match(h(t))]`. */
export class ScaledCumulativeTraceReducer extends ExponentialTraceReducer<[TF.Tensor]> {
  /** @param options see {@link ScaledTraceOptions} */
  constructor(options: ScaledTraceOptions) { super(options, 'cumulative', 'scaled'); }
}

/** Nearest-neighbour trace of the scaled observation: `x(t) = s·h(t) + A` where h(t) matches, else `α·x(t − Δt)`. */
export class ScaledNearestTraceReducer extends ExponentialTraceReducer<[TF.Tensor]> {
  /** @param options see {@link ScaledTraceOptions} */
  constructor(options: ScaledTraceOptions) { super(options, 'nearest', 'scaled'); }
}

/** All-to-all trace on a separate condition (`fold(h, c)`): `x(t) = α·x(t − Δt) + (s·h(t) + A)·[match(c(t))]`. */
export class ConditionalCumulativeTraceReducer extends ExponentialTraceReducer<[TF.Tensor, TF.Tensor]> {
  /** @param options see {@link ConditionalTraceOptions} */
  constructor(options: ConditionalTraceOptions) { super(options, 'cumulative', 'conditional'); }
}

/** Nearest-neighbour trace on a separate condition (`fold(h, c)`): `x(t) = s·h(t) + A` where c(t) matches, else `α·x(t − Δt)`. */
export class ConditionalNearestTraceReducer extends ExponentialTraceReducer<[TF.Tensor, TF.Tensor]> {
  /** @param options see {@link ConditionalTraceOptions} */
  constructor(options: ConditionalTraceOptions) { super(options, 'nearest', 'conditional'); }
}

/** The trace reducer classes of this module: their constructors check the option keys of their kind (value mode). */
const TRACE_CLASSES: ReadonlySet<unknown> = new Set([
  CumulativeTraceReducer,
  NearestTraceReducer,
  ScaledCumulativeTraceReducer,
  ScaledNearestTraceReducer,
  ConditionalCumulativeTraceReducer,
  ConditionalNearestTraceReducer,
]);

/** The trace reducers selectable by {@link TraceMode}. */
export type TraceReducer = CumulativeTraceReducer | NearestTraceReducer;

/** Creates a {@link CumulativeTraceReducer} or a {@link NearestTraceReducer}. */
export function createTraceReducer(mode: TraceMode, options: MatchTraceOptions): TraceReducer {
  checkOneOf('traceMode', mode, ['cumulative', 'nearest'] as const);
  return mode === 'cumulative' ? new CumulativeTraceReducer(options) : new NearestTraceReducer(options);
}
