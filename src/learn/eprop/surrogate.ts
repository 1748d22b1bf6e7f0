/**
 * Surrogate gradients ψ of the e-prop neurons (NEST v3.10 parameterisation: height h, width w),
 * evaluated on the distance d = v − A of the membrane voltage from the (adaptive) threshold:
 *
 * - `piecewise_linear`: h·max(0, 1 − |d|/w)
 * - `exponential`: h·exp(−|d|/w)
 * - `fast_sigmoid`: h·(1 + |d|/w)^−2
 * - `arctan`: h/(1 + (d/w)²)
 *
 * ψ is 0 while the neuron is refractory (handled by the callers).
 * @module
 */
import { tf } from '../../core/tf.js';
import { checkOneOf, checkPositive } from '../../core/errors.js';

/** Names of the available surrogate functions. */
export const SURROGATE_NAMES = ['piecewise_linear', 'exponential', 'fast_sigmoid', 'arctan'] as const;
/** One of {@link SURROGATE_NAMES}. */
export type SurrogateName = (typeof SURROGATE_NAMES)[number];

/** A surrogate function with its height and width. */
export interface Surrogate {
  /** Which function. */
  name: SurrogateName;
  /** Height h (the value at d = 0). */
  height: number;
  /** Width w (in voltage units). */
  width: number;
}

/** Validates a surrogate specification. */
export function checkSurrogate(s: Surrogate): Surrogate {
  checkOneOf('surrogate', s.name, SURROGATE_NAMES);
  checkPositive('surrogateHeight', s.height);
  checkPositive('surrogateWidth', s.width);
  return { ...s };
}

/** ψ(d) in float64 JavaScript. */
export function surrogateValue(s: Surrogate, d: number): number {
  const x = Math.abs(d) / s.width;
  switch (s.name) {
    case 'piecewise_linear':
      return x < 1 ? s.height * (1 - x) : 0;
    case 'exponential':
      return s.height * Math.exp(-x);
    case 'fast_sigmoid':
      return s.height / ((1 + x) * (1 + x));
    case 'arctan':
      return s.height / (1 + x * x);
  }
}

/**
 * A float64 JS function d ↦ ψ(d) specialised for `s` (used by the scan kernels, so no switch runs
 * per element).
 */
export function surrogateFunction(s: Surrogate): (d: number) => number {
  const h = s.height;
  const iw = 1 / s.width;
  switch (s.name) {
    case 'piecewise_linear':
      return (d) => {
        const x = (d < 0 ? -d : d) * iw;
        return x < 1 ? h * (1 - x) : 0;
      };
    case 'exponential':
      return (d) => h * Math.exp(-(d < 0 ? -d : d) * iw);
    case 'fast_sigmoid':
      return (d) => {
        const x = 1 + (d < 0 ? -d : d) * iw;
        return h / (x * x);
      };
    case 'arctan':
      return (d) => {
        const x = d * iw;
        return h / (1 + x * x);
      };
  }
}

/** A tfjs surrogate with the constants it holds. */
export interface SurrogateTensorFunction {
  /** d ↦ ψ(d), elementwise; call inside `tf.tidy`. */
  psi: (d: tf.Tensor) => tf.Tensor;
  /** Frees the kept constants. */
  dispose: () => void;
}

/**
 * Builds a tfjs function d ↦ ψ(d) for `s`. Its constants are created once here (kept); call
 * `dispose` on the returned object when done. The function must run inside `tf.tidy`.
 */
export function surrogateTensorFunction(s: Surrogate): SurrogateTensorFunction {
  const h = tf.keep(tf.scalar(s.height));
  const iw = tf.keep(tf.scalar(1 / s.width));
  const one = tf.keep(tf.scalar(1));
  let psi: (d: tf.Tensor) => tf.Tensor;
  switch (s.name) {
    case 'piecewise_linear':
      psi = (d) => tf.mul(tf.relu(tf.sub(one, tf.mul(tf.abs(d), iw))), h);
      break;
    case 'exponential':
      psi = (d) => tf.mul(tf.exp(tf.neg(tf.mul(tf.abs(d), iw))), h);
      break;
    case 'fast_sigmoid':
      psi = (d) => tf.div(h, tf.square(tf.add(one, tf.mul(tf.abs(d), iw))));
      break;
    case 'arctan':
      psi = (d) => tf.div(h, tf.add(one, tf.square(tf.mul(d, iw))));
      break;
  }
  return {
    psi,
    dispose: () => {
      h.dispose();
      iw.dispose();
      one.dispose();
    },
  };
}
