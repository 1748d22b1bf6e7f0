/**
 * The shared base of the single-exponential synapses.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { SynapseSpec } from '../types.js';
import { BaseSynapse } from './synapse.js';

/**
 * Base of the synapses with one exponentially decaying variable x (a current or a conductance):
 * `x ← x·e^{−dt/τ} + J·s`, the exact solution of τ dx/dt = −x between spikes; J is the jump
 * per spike given by the subclass.
 */
export abstract class ExponentialDecaySynapse extends BaseSynapse {
  /** Time constant τ (ms). */
  readonly tau: number;
  private readonly decay: tf.Tensor;
  private readonly jump: tf.Tensor;

  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param tau validated time constant τ (ms)
   * @param jump jump J per spike (uploaded once as float32)
   */
  protected constructor(spec: SynapseSpec, tau: number, jump: number) {
    super(spec);
    this.tau = tau;
    this.decay = this.constant(Math.exp(-this.dt / tau));
    this.jump = this.constant(jump);
  }

  protected integrate(spikes: tf.Tensor, previous: tf.Tensor): tf.Tensor {
    return tf.add(tf.mul(previous, this.decay), tf.mul(spikes, this.jump));
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), tau: this.tau };
  }
}
