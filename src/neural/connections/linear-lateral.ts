/**
 * Lateral connection within one group: all-to-all except self-connections.
 * @module
 */
import { CinderArgumentError, checkShape, numel, checkOptionKeys } from '../../core/errors.js';
import { CONNECTION_OPTION_KEYS, type ConnectionOptions } from './connection.js';
import { optionClassOf } from './option-class.js';
import { MaskedLinear } from './masked-linear.js';

/**
 * `LinearLateral(shape, dt)`: a {@link MaskedLinear} from a group of N units onto itself with weight
 * `[N, N]` masked by `1 − I`, so the diagonal stays 0 after every change. In a layer it usually
 * receives the group's spikes of the previous step (see `RecurrentLayer`).
 */
export class LinearLateral extends MaskedLinear {
  /**
   * @param shape the group's shape (no batch); in and out shapes are both `shape`
   * @param dt step length (ms)
   * @param options connection options (a `mask` is not accepted: the mask is fixed)
   */
  constructor(shape: readonly number[], dt: number, options: ConnectionOptions = {}) {
    if (options && 'mask' in options) throw new CinderArgumentError('mask', (options as { mask: unknown }).mask, 'no mask (LinearLateral masks the diagonal itself; use MaskedLinear)');
    if (optionClassOf(new.target) === LinearLateral) checkOptionKeys('options', options, CONNECTION_OPTION_KEYS);
    const n = numel(checkShape('shape', shape));
    const data = new Uint8Array(n * n).fill(1);
    for (let k = 0; k < n; k++) data[k * n + k] = 0;
    super(shape, shape, dt, { ...options, mask: { rows: n, cols: n, data } });
  }
}
