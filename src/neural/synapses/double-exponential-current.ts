/**
 * Current synapse with separate rise and decay time constants.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkPositive } from '../../core/errors.js';
import type { State } from '../../core/state.js';
import type { SynapseFactory, SynapseSpec } from '../types.js';
import { BaseSynapse } from './synapse.js';

/** Kinetics of {@link DoubleExponentialCurrent}. */
export interface DoubleExponentialCurrentOptions {
  /** Decay time constant τ_d (ms, > τ_r). */
  tauDecay: number;
  /** Rise time constant τ_r (ms, > 0, < τ_d). */
  tauRise: number;
  /** Charge Q per spike (default 1); the total charge delivered by one spike is Q. */
  charge?: number;
}

/** Validates two time constants with τ_d > τ_r > 0 (shared with the conductance variant). */
export function checkTauPair(tauDecay: number, tauRise: number): void {
  checkPositive('tauDecay', tauDecay);
  checkPositive('tauRise', tauRise);
  if (!(tauDecay > tauRise)) throw new CinderArgumentError('tauDecay', tauDecay, `a time constant > tauRise (${tauRise})`);
}

function check(o: DoubleExponentialCurrentOptions): { tauDecay: number; tauRise: number; charge: number } {
  if (o === null || typeof o !== 'object') throw new CinderArgumentError('options', o, '{ tauDecay, tauRise, charge? }');
  checkTauPair(o.tauDecay, o.tauRise);
  return { tauDecay: o.tauDecay, tauRise: o.tauRise, charge: checkPositive('charge', o.charge ?? 1) };
}

/**
 * `I = I_d − I_r` with `I_x ← I_x·e^{−dt/τ_x} + Q/(τ_d − τ_r)·s` for x ∈ {d, r}; the impulse
 * response k steps after a spike is `Q/(τ_d − τ_r)·(e^{−k·dt/τ_d} − e^{−k·dt/τ_r})`.
 */
export class DoubleExponentialCurrent extends BaseSynapse {
  /** Always `'current'`. */
  readonly kind = 'current' as const;
  /** Decay time constant (ms). */
  readonly tauDecay: number;
  /** Rise time constant (ms). */
  readonly tauRise: number;
  /** Charge per spike. */
  readonly charge: number;
  private readonly decayD: tf.Tensor;
  private readonly decayR: tf.Tensor;
  private readonly jump: tf.Tensor;
  private readonly iDecay: State;
  private readonly iRise: State;

  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param options kinetics
   */
  constructor(spec: SynapseSpec, options: DoubleExponentialCurrentOptions) {
    const o = check(options);
    super(spec);
    this.tauDecay = o.tauDecay;
    this.tauRise = o.tauRise;
    this.charge = o.charge;
    this.decayD = this.constant(Math.exp(-this.dt / o.tauDecay));
    this.decayR = this.constant(Math.exp(-this.dt / o.tauRise));
    this.jump = this.constant(o.charge / (o.tauDecay - o.tauRise));
    this.iDecay = this.addKineticState('current_decay');
    this.iRise = this.addKineticState('current_rise');
  }

  /** A factory for connections. */
  static factory(options: DoubleExponentialCurrentOptions): SynapseFactory<DoubleExponentialCurrent> {
    check(options);
    return (spec) => new DoubleExponentialCurrent(spec, options);
  }

  /** The decaying component I_d `[B, ...shape]`. */
  get decayComponent(): tf.Tensor {
    return this.iDecay.value;
  }

  /** The rising component I_r `[B, ...shape]`. */
  get riseComponent(): tf.Tensor {
    return this.iRise.value;
  }

  protected integrate(spikes: tf.Tensor): tf.Tensor {
    const inc = tf.mul(spikes, this.jump);
    const d = tf.add(tf.mul(this.iDecay.value, this.decayD), inc);
    const r = tf.add(tf.mul(this.iRise.value, this.decayR), inc);
    this.iDecay.assign(d);
    this.iRise.assign(r);
    return tf.sub(d, r);
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), tauDecay: this.tauDecay, tauRise: this.tauRise, charge: this.charge };
  }
}
