/**
 * Current synapse with a single exponential decay.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkPositive } from '../../core/errors.js';
import type { SynapseFactory, SynapseSpec } from '../types.js';
import { BaseSynapse } from './synapse.js';

/** Kinetics of {@link SingleExponentialCurrent}. */
export interface SingleExponentialCurrentOptions {
  /** Decay time constant τ (ms, > 0). */
  tau: number;
  /** Charge Q per spike (default 1); the current jumps by Q/τ. */
  charge?: number;
}

function check(o: SingleExponentialCurrentOptions): { tau: number; charge: number } {
  if (o === null || typeof o !== 'object') throw new CinderArgumentError('options', o, '{ tau, charge? }');
  return { tau: checkPositive('tau', o.tau), charge: checkPositive('charge', o.charge ?? 1) };
}

/**
 * `I ← I·e^{−dt/τ} + (Q/τ)·s` (exact integration of τ dI/dt = −I + Q·Σδ(t − t_f)); the impulse
 * response k steps after a spike is `(Q/τ)·e^{−k·dt/τ}`.
 */
export class SingleExponentialCurrent extends BaseSynapse {
  /** Always `'current'`. */
  readonly kind = 'current' as const;
  /** Time constant τ (ms). */
  readonly tau: number;
  /** Charge per spike. */
  readonly charge: number;
  private readonly decay: tf.Tensor;
  private readonly jump: tf.Tensor;

  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param options kinetics
   */
  constructor(spec: SynapseSpec, options: SingleExponentialCurrentOptions) {
    const o = check(options);
    super(spec);
    this.tau = o.tau;
    this.charge = o.charge;
    this.decay = this.constant(Math.exp(-this.dt / this.tau));
    this.jump = this.constant(this.charge / this.tau);
  }

  /** A factory for connections. */
  static factory(options: SingleExponentialCurrentOptions): SynapseFactory<SingleExponentialCurrent> {
    check(options);
    return (spec) => new SingleExponentialCurrent(spec, options);
  }

  protected integrate(spikes: tf.Tensor, previous: tf.Tensor): tf.Tensor {
    return tf.add(tf.mul(previous, this.decay), tf.mul(spikes, this.jump));
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), tau: this.tau, charge: this.charge };
  }
}
