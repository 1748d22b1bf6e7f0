/**
 * Conductance synapse with a single exponential decay.
 * @module
 */
import { CinderArgumentError, checkPositive } from '../../core/errors.js';
import type { SynapseFactory, SynapseSpec } from '../types.js';
import { ExponentialDecaySynapse } from './exponential-decay-synapse.js';

/** Kinetics of {@link ExponentialConductance}. */
export interface ExponentialConductanceOptions {
  /** Decay time constant τ (ms, > 0). */
  tau: number;
  /** Jump Δg of the conductance per spike (default 1; the connection's weight scales it). */
  increment?: number;
}

function check(o: ExponentialConductanceOptions): { tau: number; increment: number } {
  if (o === null || typeof o !== 'object') throw new CinderArgumentError('options', o, '{ tau, increment? }');
  return { tau: checkPositive('tau', o.tau), increment: checkPositive('increment', o.increment ?? 1) };
}

/**
 * Conductance per presynaptic unit: `g ← g·e^{−dt/τ} + Δg·s`. The connection applies its
 * weights, so a neuron receives `Σ_i w_ji·g_i` as the conductance of the receptor the
 * connection is assigned to. Impulse response k steps after a spike: `Δg·e^{−k·dt/τ}`.
 */
export class ExponentialConductance extends ExponentialDecaySynapse {
  /** Always `'conductance'`. */
  readonly kind = 'conductance' as const;
  /** Conductance jump per spike. */
  readonly increment: number;

  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param options kinetics
   */
  constructor(spec: SynapseSpec, options: ExponentialConductanceOptions) {
    const o = check(options);
    super(spec, o.tau, o.increment);
    this.increment = o.increment;
  }

  /** A factory for connections. */
  static factory(options: ExponentialConductanceOptions): SynapseFactory<ExponentialConductance> {
    check(options);
    return (spec) => new ExponentialConductance(spec, options);
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), increment: this.increment };
  }
}
