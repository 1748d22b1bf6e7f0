/**
 * A "cell" is one plastic connection of an e-prop network — input→recurrent, recurrent→recurrent
 * or recurrent→readout — named by its kind and holding its weight parameter (rows = postsynaptic).
 * {@link EProp} registers the cells of a network and updates their weights.
 * @module
 */
import type { Parameter } from '../../core/state.js';

/** The three kinds of e-prop connection. */
export type EPropCellKind = 'input' | 'recurrent' | 'readout';

/** One plastic e-prop connection. */
export interface EPropCell {
  /** Which connection. */
  kind: EPropCellKind;
  /** Its weights, shape [nPost, nPre]. */
  weight: Parameter;
  /** Presynaptic size. */
  nPre: number;
  /** Postsynaptic size. */
  nPost: number;
}
