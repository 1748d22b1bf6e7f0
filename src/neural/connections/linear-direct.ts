/**
 * One-to-one connection `y = x ⊙ w + b`.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkShape, numel, checkOptionKeys } from '../../core/errors.js';
import type { ParameterName, PresynapticForm } from '../types.js';
import { CONNECTION_OPTION_KEYS, Connection, type ConnectionOptions } from './connection.js';
import { optionClassOf } from './option-class.js';
import { fusedBackend } from '../../kernels/js/fused-memory.js';
import { fusedScaleRows } from '../../kernels/js/fused-scale.js';

/** Options of {@link LinearDirect}. */
export type LinearDirectOptions = ConnectionOptions;

/**
 * Direct (one-to-one) connection on a group of shape `shape`: weight, bias and delay all have
 * that shape, `y = x ⊙ w + b`. With delays `y_n = H_{D_n}[n]·w_n + b_n`, computed as
 * `Σ_d stack(H)_d ⊙ (w ⊙ [D == d])` against a cached `[D+1, N]` weight. `synspike`/`syncurrent`
 * keep the shape `[B, ...shape]` (each unit's own delay applied). Receptive forms: `[B, ...shape, 1]`.
 */
export class LinearDirect extends Connection {
  /** Number of units N. */
  readonly count: number;
  private kernel: tf.Tensor | null = null; // [D+1, N] (delays only)
  private selector: tf.Tensor | null = null; // [D+1, N]

  /**
   * @param shape the group's shape (no batch)
   * @param dt step length (ms)
   * @param options synapse, bias, delays, batch size, initialisers
   */
  constructor(shape: readonly number[], dt: number, options: LinearDirectOptions = {}) {
    if (optionClassOf(new.target) === LinearDirect) checkOptionKeys('options', options, CONNECTION_OPTION_KEYS);
    const s = checkShape('shape', shape);
    super({ inShape: s, outShape: s, weightShape: s, biasShape: s }, dt, options);
    this.count = numel(s);
    this.initialise();
  }

  protected override onParameterChange(name: ParameterName): void {
    if (name === 'bias' || !this.hasDelays) return;
    this.kernel?.dispose();
    this.selector?.dispose();
    const D1 = this.delaySteps + 1;
    const w = this.weightParameter.value;
    this.selector = tf.keep(tf.tidy(() => tf.transpose(tf.reshape(this.delayOneHot(), [this.count, D1]))));
    const sel = this.selector;
    this.kernel = tf.keep(tf.tidy(() => tf.mul(sel, tf.reshape(w, [1, this.count]))));
  }

  private stackHistory(ago: (k: number) => tf.Tensor): tf.Tensor {
    const B = this.batchSize;
    const parts: tf.Tensor[] = [];
    for (let d = 0; d <= this.delaySteps; d++) parts.push(tf.reshape(ago(d), [B, this.count]));
    return tf.stack(parts, 1); // [B, D+1, N]
  }

  /** `[B, ...shape]` → `[B, ...shape]`. */
  forward(spikes: tf.Tensor, injected?: tf.Tensor): tf.Tensor {
    this.refresh();
    const x = this.synapse.forward(spikes, injected);
    let y: tf.Tensor;
    if (!this.hasDelays) {
      const w = this.weightParameter.value;
      // wasm/cpu: the weight repeated over the batch in one pass, bit-identical (fused-scale.ts)
      y = fusedBackend() && x.dtype === 'float32' && w.dtype === 'float32' && w.size * this.batchSize === x.size ? fusedScaleRows(x, w) : tf.mul(x, w);
    } else {
      y = tf.reshape(tf.sum(tf.mul(this.stackHistory((k) => this.synapse.currentAgo(k)), this.kernel!), 1), [this.batchSize, ...this.inShape]);
    }
    const b = this.biasParameter;
    return b ? tf.add(y, b.value) : y;
  }

  protected selectDelayed(ago: (k: number) => tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.reshape(tf.sum(tf.mul(this.stackHistory(ago), this.selector!), 1), [this.batchSize, ...this.inShape]));
  }

  /**
   * `[B, ...shape]` → `[B, ...shape, 1]`. Edge i joins unit i to unit i, so both forms of
   * {@link PresynapticForm} (`form`, checked) have this shape and this map.
   */
  presynReceptive(x: tf.Tensor, form?: PresynapticForm): tf.Tensor {
    this.checkForm(form);
    if (!(x instanceof tf.Tensor) || x.size !== x.shape[0]! * this.count) throw new CinderArgumentError('x', x, `shape [B, ${this.inShape.join(', ')}]`);
    return tf.reshape(x, [x.shape[0]!, ...this.inShape, 1]);
  }

  /** `[B, ...shape]` → `[B, ...shape, 1]`. */
  postsynReceptive(y: tf.Tensor): tf.Tensor {
    this.checkPost(y);
    return tf.reshape(y, [y.shape[0]!, ...this.outShape, 1]);
  }

  override dispose(): void {
    super.dispose();
    this.kernel?.dispose();
    this.selector?.dispose();
    this.kernel = this.selector = null;
  }
}
