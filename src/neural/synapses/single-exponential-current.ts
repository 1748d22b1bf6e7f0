/**
 * Current synapse with a single exponential decay.
 * @module
 */
import { CinderArgumentError, checkPositive } from '../../core/errors.js';
import type { SynapseFactory, SynapseSpec } from '../types.js';
import { ExponentialDecaySynapse } from './exponential-decay-synapse.js';

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
export class SingleExponentialCurrent extends ExponentialDecaySynapse {
  /** Always `'current'`. */
  readonly kind = 'current' as const;
  /** Charge per spike. */
  readonly charge: number;

  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param options kinetics
   */
  constructor(spec: SynapseSpec, options: SingleExponentialCurrentOptions) {
    const o = check(options);
    super(spec, o.tau, o.charge / o.tau);
    this.charge = o.charge;
  }

  /** A factory for connections. */
  static factory(options: SingleExponentialCurrentOptions): SynapseFactory<SingleExponentialCurrent> {
    check(options);
    return (spec) => new SingleExponentialCurrent(spec, options);
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), charge: this.charge };
  }
}
