/**
 * A neuron group without dynamics whose spikes are exactly what it is told.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkElements, checkInteger, checkShape, checkOptionKeys, numel, optionKeys } from '../../core/errors.js';
import type { Neuron, NeuronInput, Receptor } from '../types.js';
import { readNeuronInput } from './input.js';
import { checkBelow, checkDt } from './validate.js';
import { SpikingModule } from './spiking-module.js';

/** Parameters of {@link ExactNeuron}. */
export interface ExactNeuronOptions {
  /** Voltage shown for silent neurons (mV), < threshV. */
  restV: number;
  /** Voltage shown for spiking neurons (mV). */
  threshV: number;
  /** Batch size B (default 1). */
  batchSize?: number;
}

/** The keys of {@link ExactNeuronOptions}: other keys make {@link ExactNeuron}'s constructor throw. */
export const EXACT_NEURON_OPTION_KEYS = optionKeys<ExactNeuronOptions>()(['restV', 'threshV', 'batchSize']);

/** Per-step options of {@link ExactNeuron.forward}. */
export interface ExactNeuronStepOptions {
  /**
   * Spikes to emit instead of `input > 0`: any live tensor with B·count elements (bool, or
   * float32/int32 numbers where non-zero means a spike); it is reshaped to `[B, ...shape]`.
   */
  override?: tf.Tensor;
  /** Accepted for interface compatibility; ExactNeuron has no refractory period. */
  refracLock?: boolean;
  /** Accepted for interface compatibility; ExactNeuron has no adaptation. */
  adapt?: boolean;
}

/**
 * Inferno's `ExactNeuron` (`extra/neural.py`): no dynamics. Each step the spikes are
 * `current > 0` (or the `override` tensor), the voltage is `threshV` where spiking and `restV`
 * elsewhere (presentation only), and the refractory time is always 0. Spikes are stored as 0/1
 * float32. Used to force postsynaptic spike trains, e.g. in the Florian (2007) STDP reproduction.
 */
export class ExactNeuron extends SpikingModule implements Neuron {
  /** Voltage shown for silent neurons (mV). */
  readonly restV: number;
  /** Voltage shown for spiking neurons (mV). */
  readonly threshV: number;
  /** No receptors: conductance input is not supported. */
  readonly receptors: readonly Receptor[] = [];
  private readonly kRest: tf.Scalar;
  private readonly kThresh: tf.Scalar;
  private readonly kZero: tf.Scalar;

  /**
   * @param shape neurons per sample
   * @param dt step length (ms), > 0
   * @param options voltages shown and batch size
   */
  constructor(shape: number | readonly number[], dt: number, options: ExactNeuronOptions) {
    const o = options ?? ({} as ExactNeuronOptions);
    if (new.target === ExactNeuron) checkOptionKeys('options', o, EXACT_NEURON_OPTION_KEYS);
    const checkedShape = checkShape('shape', typeof shape === 'number' ? [shape] : shape);
    const checkedDt = checkDt(dt);
    const restV = checkBelow('restV', o.restV, 'threshV', o.threshV);
    const batch = checkInteger('batchSize', o.batchSize ?? 1, 1);
    checkElements('batchSize', batch * numel(checkedShape), `a state of shape [${batch}, ${checkedShape.join(', ')}]`);
    super(checkedShape, checkedDt, batch, restV);
    this.restV = restV;
    this.threshV = o.threshV;
    this.kRest = this.constant(this.restV);
    this.kThresh = this.constant(this.threshV);
    this.kZero = this.constant(0);
  }

  /**
   * Sets this step's spikes to `current > 0` (no current: none), or to `options.override`, and
   * returns them (0/1 float32, owned by the caller).
   */
  forward(input: tf.Tensor | NeuronInput, options: ExactNeuronStepOptions = {}): tf.Tensor {
    const { current } = readNeuronInput(input, this.batchSize, this.shape, 0);
    this.checkOptions(options);
    const override = options.override;
    return tf.tidy(() => {
      let fired: tf.Tensor;
      if (override !== undefined) {
        const o = tf.reshape(override, this.batchedShape);
        fired = o.dtype === 'bool' ? o : tf.notEqual(o, this.kZero);
      } else if (current) {
        fired = tf.greater(current, this.kZero);
      } else {
        fired = tf.fill(this.batchedShape, 0, 'bool');
      }
      const spike = tf.cast(fired, 'float32');
      this.spikeState.assign(spike);
      this.voltageState.assign(tf.where(fired, this.kThresh, this.kRest));
      return spike;
    });
  }

  /** Throws the error {@link forward} would throw for these per-step options, without stepping. */
  checkOptions(options: ExactNeuronStepOptions): void {
    // refracLock and adapt (the options every group takes) have no effect here, but must be booleans
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {override?, refracLock?, adapt?}');
    for (const [k, v] of Object.entries(options)) {
      if (k !== 'override' && k !== 'refracLock' && k !== 'adapt') throw new CinderArgumentError('options key', k, 'one of "override", "refracLock", "adapt"');
      if (k !== 'override' && v !== undefined && typeof v !== 'boolean') throw new CinderArgumentError(`options.${k}`, v, 'a boolean');
    }
    const override = options.override;
    if (override !== undefined) {
      const n = this.batchSize * this.count;
      if (override !== null && typeof override === 'object' && 'shape' in override && override.isDisposed) {
        throw new CinderArgumentError('override', 'a disposed tensor', `a live tensor with ${n} elements ([${this.batchedShape.join(', ')}])`);
      }
      if (override === null || typeof override !== 'object' || !('shape' in override) || override.size !== n) {
        throw new CinderArgumentError('override', override, `a tensor with ${n} elements ([${this.batchedShape.join(', ')}])`);
      }
      if (override.dtype !== 'bool' && override.dtype !== 'float32' && override.dtype !== 'int32') {
        throw new CinderArgumentError('override dtype', override.dtype, 'one of "bool", "float32", "int32"');
      }
    }
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return { model: 'ExactNeuron', shape: [...this.shape], dt: this.dt, batchSize: this.batchSize, restV: this.restV, threshV: this.threshV };
  }
}
