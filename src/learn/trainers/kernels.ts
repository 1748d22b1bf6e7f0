/**
 * Spike-timing kernels `K(t_Δ)` for the kernel-based STDP trainers, and the pure per-step kernel
 * update they share.
 *
 * `t_Δ = t_post^f − t_pre^f` (ms) is the time of the most recent postsynaptic spike minus that of the
 * most recent presynaptic spike (minus the synaptic delay for the delay-adjusted rules); it is NaN
 * while either side has not spiked yet.
 * @module
 */
import { tf } from '../../core/tf.js';
import { configFields } from '../../core/snapshot.js';
import { CinderArgumentError, checkFinite, checkPositive, checkOptionKeys, optionKeys } from '../../core/errors.js';

/**
 * An elementwise spike-timing kernel. `apply` is called inside `tf.tidy` once per trainer step with
 * `t_Δ` (ms, NaN before a first spike) and returns the update of each element; NaN results count
 * as 0. Create constant tensors once (e.g. in a constructor), not inside `apply`.
 */
export interface SpikeTimeKernel {
  /** The update for every element of `diff`. */
  apply(diff: tf.Tensor): tf.Tensor;
  /** True when `apply` never returns NaN (lets trainers skip masking NaN to 0). */
  readonly nanFree?: boolean;
}

/** Which half-axis of `t_Δ` an {@link ExponentialKernel} covers. */
export type KernelSide = 'causal' | 'acausal';

/** Options of {@link ExponentialKernel}. */
export interface ExponentialKernelOptions {
  /** Learning rate η (signed; its sign makes the update potentiating or depressing). */
  learningRate: number;
  /** Time constant τ > 0 (ms). */
  tau: number;
  /** `causal`: nonzero for t_Δ ≥ 0 (post after pre); `acausal`: nonzero for t_Δ < 0. */
  side: KernelSide;
}

/** The keys of {@link ExponentialKernelOptions}. */
export const EXPONENTIAL_KERNEL_OPTION_KEYS = optionKeys<ExponentialKernelOptions>()(['learningRate', 'tau', 'side']);

/**
 * The exponential STDP half-kernel `K(t_Δ) = η·exp(−|t_Δ|/τ)·[t_Δ ≥ 0]` (causal) or
 * `η·exp(−|t_Δ|/τ)·[t_Δ < 0]` (acausal). NaN and ±∞ give 0. Holds its constants as scalars uploaded
 * once; call {@link dispose} when done.
 */
export class ExponentialKernel implements SpikeTimeKernel {
  /** Always true: NaN inputs give 0. */
  readonly nanFree = true;
  /** Learning rate η. */
  readonly learningRate: number;
  /** Time constant τ (ms). */
  readonly tau: number;
  /** The half-axis covered. */
  readonly side: KernelSide;
  private readonly eta: tf.Scalar;
  private readonly negInvTau: tf.Scalar;
  private readonly zero: tf.Scalar;

  /** @param options see {@link ExponentialKernelOptions} */
  constructor(options: ExponentialKernelOptions) {
    if (new.target === ExponentialKernel) checkOptionKeys('options', options, EXPONENTIAL_KERNEL_OPTION_KEYS);
    this.learningRate = checkFinite('learningRate', options.learningRate);
    this.tau = checkPositive('tau', options.tau);
    if (options.side !== 'causal' && options.side !== 'acausal') throw new CinderArgumentError('side', options.side, '"causal" or "acausal"');
    this.side = options.side;
    this.eta = tf.keep(tf.scalar(this.learningRate));
    this.negInvTau = tf.keep(tf.scalar(-1 / this.tau));
    this.zero = tf.keep(tf.scalar(0));
    // settings (the scalars above are made from them): a trainer's snapshot compares them, never
    // assigns them, and its saved settings describe the kernel by them
    configFields(this, 'learningRate', 'tau', 'side');
  }

  /** `η·exp(−|t_Δ|/τ)` on the kernel's half-axis, 0 elsewhere and for NaN. */
  apply(diff: tf.Tensor): tf.Tensor {
    const inside = this.side === 'causal' ? tf.greaterEqual(diff, this.zero) : tf.less(diff, this.zero);
    return tf.where(inside, tf.mul(this.eta, tf.exp(tf.mul(this.negInvTau, tf.abs(diff)))), this.zero);
  }

  /** Frees the constants. */
  dispose(): void {
    this.eta.dispose();
    this.negInvTau.dispose();
    this.zero.dispose();
  }
}

/** The causal exponential kernel `η·exp(−|t_Δ|/τ)·[t_Δ ≥ 0]` (Inferno's `exp_stdp_post_kernel`). */
export function expStdpPostKernel(learningRate: number, tau: number): ExponentialKernel {
  return new ExponentialKernel({ learningRate, tau, side: 'causal' });
}

/** The acausal exponential kernel `η·exp(−|t_Δ|/τ)·[t_Δ < 0]` (Inferno's `exp_stdp_pre_kernel`). */
export function expStdpPreKernel(learningRate: number, tau: number): ExponentialKernel {
  return new ExponentialKernel({ learningRate, tau, side: 'acausal' });
}

/**
 * Per-sample potentiation and depression of a kernel rule, both ≥ 0, shaped `[B, ...W]` (a type
 * alias, so it can be returned from `tf.tidy`).
 */
export type KernelParts = {
  /** Σ_R of the positive parts of the kernel values. */
  pos: tf.Tensor;
  /** Σ_R of the magnitudes of the negative parts. */
  neg: tf.Tensor;
};

/**
 * One step of a kernel rule for tensors already in receptive form `[..., R]` (call inside `tf.tidy`):
 * with `k_post = K_post(t_Δ)`, `k_pre = K_pre(t_Δ)` and NaN values taken as 0,
 * `pos = Σ_R (max(k_post, 0) + max(k_pre, 0))`, `neg = Σ_R (max(−k_post, 0) + max(−k_pre, 0))`.
 *
 * `t_Δ = elapsedPre − elapsedPost − delay`, where `elapsed*` are the times since the last spikes
 * (so `t_Δ = t_post^f − t_pre^f − d`) and `delay` is `[...W, 1]` or omitted.
 *
 * With `modulation` (a scalar, or `[B, 1, …, 1]` of the receptive rank) the kernel values are
 * multiplied by it before the split, so a negative modulation turns potentiation into depression.
 * @param zero a float32 scalar 0 owned by the caller (no tensor is created for it per call)
 */
export function kernelParts(
  elapsedPre: tf.Tensor,
  elapsedPost: tf.Tensor,
  delay: tf.Tensor | null,
  kernelPost: SpikeTimeKernel,
  kernelPre: SpikeTimeKernel,
  zero: tf.Scalar,
  modulation: tf.Tensor | null = null,
): KernelParts {
  const lag = tf.sub(elapsedPre, elapsedPost);
  const diff = delay ? tf.sub(lag, delay) : lag;
  let a = kernelPost.nanFree ? kernelPost.apply(diff) : finite(kernelPost.apply(diff), zero);
  let b = kernelPre.nanFree ? kernelPre.apply(diff) : finite(kernelPre.apply(diff), zero);
  if (modulation) {
    a = tf.mul(a, modulation);
    b = tf.mul(b, modulation);
  }
  const pos = tf.add(tf.relu(a), tf.relu(b));
  const negative = tf.add(tf.minimum(a, zero), tf.minimum(b, zero));
  const axis = pos.rank - 1;
  return { pos: tf.sum(pos, axis), neg: tf.neg(tf.sum(negative, axis)) };
}

/** `x` with NaN replaced by 0. */
function finite(x: tf.Tensor, zero: tf.Scalar): tf.Tensor {
  return tf.where(tf.isNaN(x), zero, x);
}
