/**
 * The shared base of the memoryless (delta) current synapses.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { SynapseSpec } from '../types.js';
import { BaseSynapse } from './synapse.js';

/**
 * Base of the delta current synapses ({@link DeltaCurrent}, `DeltaPlusCurrent`): a spike
 * delivers its charge Q within the step it arrives, `I = s·Q/dt`; no kinetic state.
 */
export abstract class DeltaSynapse extends BaseSynapse {
  /** Always `'current'`. */
  readonly kind = 'current' as const;
  /** Charge per spike. */
  readonly charge: number;
  private readonly scale: tf.Tensor;

  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param charge validated charge Q per spike (> 0)
   */
  protected constructor(spec: SynapseSpec, charge: number) {
    super(spec);
    this.charge = charge;
    this.scale = this.constant(this.charge / this.dt);
  }

  /** `s·Q/dt` for the spikes `s`. */
  protected spikeCurrent(spikes: tf.Tensor): tf.Tensor {
    return tf.mul(spikes, this.scale);
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), charge: this.charge };
  }
}
