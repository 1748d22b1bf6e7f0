/**
 * Plain gradient descent with weight clipping: `w ← clip(w − η·g, wMin, wMax)`.
 * @module
 */
import { tf } from '../../core/tf.js';
import { BoundedOptimizer, WEIGHT_BOUNDS_KEYS, checkUpdates, type Optimizer, type VariableGradient, type WeightBounds } from './optimizer.js';
import { checkOptionKeys, optionKeys } from '../../core/errors.js';

/** Options of {@link GradientDescent}. */
export interface GradientDescentOptions extends WeightBounds {
  /** Learning rate η (default 1e-3). */
  learningRate?: number;
}

/** The keys of {@link GradientDescentOptions}: other keys make {@link GradientDescent}'s constructor throw. */
export const GRADIENT_DESCENT_OPTION_KEYS = optionKeys<GradientDescentOptions>()([...WEIGHT_BOUNDS_KEYS, 'learningRate']);

/** Plain (stochastic) gradient descent. */
export class GradientDescent extends BoundedOptimizer implements Optimizer {

  private k = 0;

  constructor(options: GradientDescentOptions = {}) {
    if (new.target === GradientDescent) checkOptionKeys('options', options, GRADIENT_DESCENT_OPTION_KEYS);
    super(options);
  }

  /** Number of steps taken so far. */
  get iterations(): number {
    return this.k;
  }

  /** Applies `w ← clip(w − η·g)` to every listed variable (a variable listed twice is refused before anything changes). */
  apply(updates: readonly VariableGradient[]): void {
    checkUpdates(updates);
    this.k += 1;
    tf.tidy(() => {
      const lr = tf.scalar(this.learningRate);
      for (const { variable, gradient } of updates) {
        let w = tf.sub(variable, tf.mul(gradient, lr));
        if (Number.isFinite(this.wMin) || Number.isFinite(this.wMax)) w = tf.clipByValue(w, this.wMin, this.wMax);
        variable.assign(w);
      }
    });
  }

  /** Nothing to free (no state). */
  dispose(): void {}
}
