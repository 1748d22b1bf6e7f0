/**
 * The sign split shared by every pair-based rule: a post-spike term (`dpost`, driven by
 * postsynaptic spikes) and a pre-spike term (`dpre`) are routed to potentiation or depression by
 * the signs of their learning rates (times the modulation for three-factor rules):
 *
 * | lr_post ≥ 0 | lr_pre ≥ 0 | mode | pos | neg |
 * |---|---|---|---|---|
 * | yes | no | Hebbian | dpost | dpre |
 * | no | yes | anti-Hebbian | dpre | dpost |
 * | yes | yes | potentiative | dpost + dpre | — |
 * | no | no | depressive | — | dpost + dpre |
 *
 * Zero counts as positive. The net update with the default bind is
 * `sgn(lr_post)·dpost + sgn(lr_pre)·dpre`.
 * @module
 */
import { tf } from '../../core/tf.js';

/** Potentiation and depression parts for an {@link Updater} (`null`: no part). */
export interface SignedParts {
  /** Potentiation (added). */
  pos: tf.Tensor | null;
  /** Depression (subtracted). */
  neg: tf.Tensor | null;
}

/** The four modes of the sign table. */
export type PairMode = 'hebbian' | 'anti-hebbian' | 'potentiative' | 'depressive';

/** The mode for the given signs (`true` = the rate, times the modulation, is ≥ 0). */
export function pairMode(postPositive: boolean, prePositive: boolean): PairMode {
  if (postPositive) return prePositive ? 'potentiative' : 'hebbian';
  return prePositive ? 'anti-hebbian' : 'depressive';
}

/**
 * Routes `dpost` and `dpre` to potentiation/depression by sign (the table above). When both go to
 * the same side they are added as `dpost + dpre` (a new tensor; call inside `tf.tidy`).
 */
export function splitBySign(dpost: tf.Tensor, dpre: tf.Tensor, postPositive: boolean, prePositive: boolean): SignedParts {
  if (postPositive !== prePositive) return postPositive ? { pos: dpost, neg: dpre } : { pos: dpre, neg: dpost };
  const both = tf.add(dpost, dpre);
  return postPositive ? { pos: both, neg: null } : { pos: null, neg: both };
}
