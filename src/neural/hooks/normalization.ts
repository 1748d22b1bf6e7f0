/**
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkFinite, checkPositive, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { HOOK_OPTION_KEYS, TensorHook, type HookOptions, type HookTarget } from './tensor-hook.js';
import { fusedBackend } from '../../kernels/js/fused-memory.js';
import { fusedGroupNorm, fusedNormalize, fusedNormOrder } from '../../kernels/js/fused-group-norm.js';

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;
/** 2^−126, the smallest normal float32. */
const FLOAT32_MIN_NORMAL = 2 ** -126;

/** Options of {@link Normalization}. */
export interface NormalizationOptions extends HookOptions {
  /** Order p of the vector norm (> 0, `Infinity` allowed; default 2). */
  order?: number;
  /** Target norm s (default 1; finite in float32: |s| <= 3.4028234663852886e38). */
  scale?: number;
  /**
   * Dimension(s) the norm is taken over (negative counts from the end). Default: all dimensions.
   * For a dense weight `[O, I]`, `dims: 1` normalizes the incoming weights of every output neuron.
   */
  dims?: number | readonly number[];
  /** Lower limit ε of the norm (avoids division by zero; default 1e-12; at least 2^−126 ≈ 1.18e-38, the smallest normal float32). */
  epsilon?: number;
}

/** The keys of {@link NormalizationOptions}: other keys make {@link Normalization}'s constructor throw. */
export const NORMALIZATION_OPTION_KEYS = optionKeys<NormalizationOptions>()([...HOOK_OPTION_KEYS, 'order', 'scale', 'dims', 'epsilon']);

/**
 * `P := s · P / max(‖P‖_p, ε)` with the p-norm taken over `dims` (kept for broadcasting), after an
 * update or a step. A group (the entries sharing one norm) whose norm is not finite — it holds a
 * NaN or ±Inf, or its float32 norm overflows — becomes NaN as a whole: the fault propagates and is
 * seen by the finite checks, instead of an Inf entry turning its neighbours into 0.
 */
export class Normalization extends TensorHook {
  /** Order p. */
  readonly order: number;
  /** Target norm s. */
  readonly scale: number;
  /** Lower limit of the norm. */
  readonly epsilon: number;
  /** Dimensions normalized over (`null`: all). */
  readonly dims: readonly number[] | null;
  private readonly cOrder: tf.Scalar;
  private readonly cInvOrder: tf.Scalar;
  private readonly cScale: tf.Scalar;
  private readonly cEps: tf.Scalar;
  private readonly cMinNormal: tf.Scalar;
  /** The normalized axes as a contiguous run `[first, last]` (all dims of a rank-0 target: `[0, 0]`), else null (see {@link norm}). */
  private readonly axisRun: readonly [number, number] | null;

  /**
   * Creates the hook and uploads its constants.
   * @param target the tensor to normalize
   * @param options order, scale, dims, epsilon, trainOnly
   */
  constructor(target: HookTarget, options: NormalizationOptions = {}) {
    if (new.target === Normalization) checkOptionKeys('options', options, NORMALIZATION_OPTION_KEYS);
    super(target, options);
    const order = options.order ?? 2;
    if (!(order === Infinity || (Number.isFinite(order) && order > 0))) throw new CinderArgumentError('order', order, 'a number > 0 or Infinity');
    this.order = order;
    this.scale = checkFinite('scale', options.scale ?? 1);
    if (Math.abs(this.scale) > FLOAT32_MAX) {
      // uploaded as ±Infinity: every zero entry would become Inf·0 = NaN
      throw new CinderArgumentError('scale', this.scale, `a number of magnitude <= ${FLOAT32_MAX} (the largest float32)`);
    }
    this.epsilon = checkPositive('epsilon', options.epsilon ?? 1e-12);
    if (this.epsilon < FLOAT32_MIN_NORMAL) {
      // a smaller ε rounds to 0 (or a subnormal, flushed by some backends) in float32: 0/0 = NaN for a zero group
      throw new CinderArgumentError('epsilon', this.epsilon, `>= ${FLOAT32_MIN_NORMAL} (the smallest normal float32; a smaller ε is 0 in float32 and an all-zero group would become NaN)`);
    }
    const rank = target.value.shape.length;
    if (options.dims === undefined) this.dims = null;
    else {
      const ds = typeof options.dims === 'number' ? [options.dims] : [...options.dims];
      if (ds.length === 0 || ds.some((d) => !Number.isInteger(d) || d < -rank || d >= rank)) {
        throw new CinderArgumentError('dims', options.dims, `integers in [${-rank}, ${rank - 1}] (the target has rank ${rank})`);
      }
      const norm = ds.map((d) => (d < 0 ? d + rank : d));
      if (new Set(norm).size !== norm.length) throw new CinderArgumentError('dims', options.dims, 'distinct dimensions');
      this.dims = norm;
    }
    this.cOrder = tf.keep(tf.scalar(Number.isFinite(order) ? order : 1));
    this.cInvOrder = tf.keep(tf.scalar(Number.isFinite(order) ? 1 / order : 1));
    this.cScale = tf.keep(tf.scalar(this.scale));
    this.cEps = tf.keep(tf.scalar(this.epsilon));
    this.cMinNormal = tf.keep(tf.scalar(FLOAT32_MIN_NORMAL));
    const dims = this.dims === null ? null : [...this.dims].sort((x, y) => x - y);
    this.axisRun = dims === null ? [0, Math.max(0, rank - 1)] : dims.every((d, i) => d === dims[0]! + i) ? [dims[0]!, dims[dims.length - 1]!] : null;
  }

  /**
   * ‖v‖_p over the configured dims, kept as size-1 dims (new tensor; inside `tf.tidy`). For p ∉ {1, ∞}
   * it is computed as `m · (Σ (|v|/m)^p)^{1/p}` with m the group's largest magnitude (1 for an
   * all-zero group), so that the float32 powers neither overflow (|v|^p > 3.4e38, e.g. 10^40) nor
   * underflow to 0 while the norm itself is representable. On wasm and cpu, when the dims are a
   * contiguous run of axes (or all) and p is 2 or an integer from 3 to 16 — or, with trailing dims,
   * also 1 or ∞ — one fused pass computes the norms in float64, rounded to float32
   * (`src/kernels/js/fused-group-norm.ts`), and the transform is `P · (s / max(n, ε))`: 2 kernels
   * instead of 6–13 (on a `[100, 784]` weight over dims 1, p = 2: 76 against 107 µs on wasm; p = 3:
   * 0.26 against 3.2 ms). The two forms differ by one float32 rounding at most.
   */
  norm(v: tf.Tensor): tf.Tensor {
    const axis = this.dims === null ? undefined : [...this.dims];
    if (this.fused(v)) return fusedGroupNorm(v, this.axisRun![0], this.axisRun![1], this.order);
    const a = tf.abs(v);
    if (this.order === Infinity) return tf.max(a, axis, true);
    if (this.order === 1) return tf.sum(a, axis, true);
    // m floored at the smallest normal float32 (one op; an all-zero group gives 0/floor = 0, norm 0)
    const safe = tf.maximum(tf.max(a, axis, true), this.cMinNormal);
    const u = tf.div(a, safe);
    const inner = this.order === 2 ? tf.sqrt(tf.sum(tf.square(u), axis, true)) : tf.pow(tf.sum(tf.pow(u, this.cOrder), axis, true), this.cInvOrder);
    return tf.mul(safe, inner);
  }

  /** Whether the fused pass applies to `v` (wasm or cpu, float32, a contiguous run of dims, a fused order). */
  private fused(v: tf.Tensor): boolean {
    const run = this.axisRun;
    if (run === null || v.dtype !== 'float32' || !fusedNormOrder(this.order) || fusedBackend() === null) return false;
    // p = 1 and ∞ over leading/middle axes (strided groups): tfjs's wasm abs + reduce is faster than
    // the strided JS pass (124 vs 159 µs for p = 1 over dims 0 of [784, 100])
    return run[1] === Math.max(0, v.rank - 1) || (this.order !== 1 && this.order !== Infinity);
  }

  /** @throws CinderArgumentError once the hook was disposed (its constants are freed); nothing is changed. */
  protected transform(value: tf.Tensor): tf.Tensor {
    if (this.cScale.isDisposed) throw new CinderArgumentError('hook', 'disposed', 'a Normalization that was not disposed (its constants are freed)');
    if (this.fused(value)) return fusedNormalize(value, this.axisRun![0], this.axisRun![1], this.order, this.scale, this.epsilon);
    const n = this.norm(value);
    // n − n is 0 for a finite norm and NaN otherwise: it marks the whole group.
    return tf.add(tf.mul(this.cScale, tf.div(value, tf.maximum(n, this.cEps))), tf.sub(n, n));
  }

  /** Frees the constant scalars. */
  dispose(): void {
    this.cOrder.dispose();
    this.cInvOrder.dispose();
    this.cScale.dispose();
    this.cEps.dispose();
    this.cMinNormal.dispose();
  }
}
