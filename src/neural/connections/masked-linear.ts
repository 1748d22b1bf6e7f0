/**
 * Dense connection restricted to an arbitrary graph (sparse or topographic connectivity).
 * @module
 */
import { tf } from '../../core/tf.js';
import { checkSyncReads } from '../../core/backend.js';
import { CinderArgumentError, numel, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { CONNECTION_OPTION_KEYS, type ConnectionOptions } from './connection.js';
import { optionClassOf } from './option-class.js';
import { LinearDense } from './linear-dense.js';
import { edgeListMask, type ConnectivityMask } from './topography.js';

/**
 * Connectivity of a {@link MaskedLinear}: a `[O, I]` tensor or nested array (non-zero / true = edge),
 * a {@link ConnectivityMask} (see `radiusMask`, `gaussianMask`), or `{ edges }` with `[post, pre]`
 * flat index pairs.
 */
export type MaskInput =
  | tf.Tensor
  | ConnectivityMask
  | readonly (readonly (number | boolean)[])[]
  | {
      /** `[post, pre]` flat index pairs of the edges present. */
      edges: readonly (readonly [number, number])[];
    };

/** Options of {@link MaskedLinear}. */
export interface MaskedLinearOptions extends ConnectionOptions {
  /** Which edges exist (required). */
  mask: MaskInput;
}

/** The keys of {@link MaskedLinearOptions}: other keys make {@link MaskedLinear}'s constructor throw. */
export const MASKED_LINEAR_OPTION_KEYS = optionKeys<MaskedLinearOptions>()([...CONNECTION_OPTION_KEYS, 'mask']);

/**
 * A {@link LinearDense} whose weight is multiplied by a fixed 0/1 mask `[O, I]`; the mask is
 * re-applied after every change of the weight (setter, `update()`, or a direct assign), so absent
 * edges stay exactly 0. Forward, delays and the receptive contract are those of `LinearDense`.
 */
export class MaskedLinear extends LinearDense {
  /**
   * @param inShape presynaptic shape (no batch)
   * @param outShape postsynaptic shape (no batch)
   * @param dt step length (ms)
   * @param options connection options plus the required `mask`
   */
  constructor(inShape: readonly number[], outShape: readonly number[], dt: number, options: MaskedLinearOptions) {
    if (optionClassOf(new.target) === MaskedLinear) checkOptionKeys('options', options, MASKED_LINEAR_OPTION_KEYS);
    super(inShape, outShape, dt, options);
    try {
      if (!options || options.mask === undefined) throw new CinderArgumentError('mask', undefined, 'a mask [O, I], a ConnectivityMask or { edges }');
      this.setMask(maskTensor(options.mask, this.outCount, this.inCount));
    } catch (err) {
      this.dispose();
      throw err;
    }
    this.initialise();
  }

  /** The 0/1 mask `[O, I]` (owned by the connection). */
  get mask(): tf.Tensor {
    return this.maskTensor!;
  }

  /**
   * Number of edges (non-zero mask entries), read synchronously: refused on webgpu in Node (see
   * {@link checkSyncReads}); there, `await tf.sum(connection.mask).data()`.
   */
  get edgeCount(): number {
    checkSyncReads('MaskedLinear.edgeCount', 'await tf.sum(connection.mask).data()');
    return tf.tidy(() => tf.sum(this.maskTensor!).dataSync()[0]!);
  }
}

/**
 * Converts a {@link MaskInput} to a float32 0/1 tensor `[O, I]` (validated): non-zero / true = edge.
 * A NaN entry is refused (it is neither); for a tensor mask the check reads it on the host, except on
 * webgpu (no synchronous reads in Node), where a NaN entry becomes no edge.
 */
export function maskTensor(mask: MaskInput, O: number, I: number): tf.Tensor {
  const bad = (): never => {
    throw new CinderArgumentError('mask', mask, `a mask of shape [${O}, ${I}] (tensor, nested array, ConnectivityMask or { edges })`);
  };
  const nan = (): never => {
    throw new CinderArgumentError('mask', 'an entry NaN', 'entries that are non-zero / true (edge) or 0 / false (no edge)');
  };
  if (mask instanceof tf.Tensor) {
    if (mask.shape.length !== 2 || mask.shape[0] !== O || mask.shape[1] !== I) bad();
    if (tf.getBackend() !== 'webgpu' && mask.dtype === 'float32' && mask.dataSync().some(Number.isNaN)) nan();
    return tf.tidy(() => tf.cast(tf.logicalAnd(tf.notEqual(mask, 0), tf.equal(mask, mask)), 'float32'));
  }
  if (Array.isArray(mask)) {
    if (mask.length !== O) bad();
    const data = new Float32Array(O * I);
    mask.forEach((row, j) => {
      if (!Array.isArray(row) || row.length !== I) bad();
      (row as (number | boolean)[]).forEach((v, i) => {
        if (typeof v === 'number' && Number.isNaN(v)) nan();
        if (typeof v !== 'number' && typeof v !== 'boolean') throw new CinderArgumentError(`mask[${j}][${i}]`, v, 'a number or boolean (non-zero / true: edge)');
        data[j * I + i] = v ? 1 : 0;
      });
    });
    return tf.tensor(data, [O, I], 'float32');
  }
  if (mask && typeof mask === 'object' && 'edges' in mask) {
    const m = edgeListMask(O, I, mask.edges);
    return tf.tensor(Float32Array.from(m.data), [O, I], 'float32');
  }
  if (mask && typeof mask === 'object' && 'data' in mask) {
    const m = mask as ConnectivityMask;
    if (m.rows !== O || m.cols !== I || m.data.length !== numel([O, I])) bad();
    return tf.tensor(Float32Array.from(m.data, (v) => (v ? 1 : 0)), [O, I], 'float32');
  }
  return bad();
}
