/**
 * Conductance synapse with separate rise and decay time constants, normalised to a peak of Δg.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkPositive } from '../../core/errors.js';
import type { State } from '../../core/state.js';
import type { SynapseFactory, SynapseSpec } from '../types.js';
import { BaseSynapse } from './synapse.js';
import { checkTauPair } from './double-exponential-current.js';

/** Kinetics of {@link DoubleExponentialConductance}. */
export interface DoubleExponentialConductanceOptions {
  /** Decay time constant τ_d (ms, > τ_r). */
  tauDecay: number;
  /** Rise time constant τ_r (ms, > 0). */
  tauRise: number;
  /** Peak conductance Δg of the continuous-time response to one spike (default 1). */
  increment?: number;
}

function check(o: DoubleExponentialConductanceOptions): { tauDecay: number; tauRise: number; increment: number } {
  if (o === null || typeof o !== 'object') throw new CinderArgumentError('options', o, '{ tauDecay, tauRise, increment? }');
  checkTauPair(o.tauDecay, o.tauRise);
  return { tauDecay: o.tauDecay, tauRise: o.tauRise, increment: checkPositive('increment', o.increment ?? 1) };
}

/**
 * Peak normalisation η = 1/(e^{−t_p/τ_d} − e^{−t_p/τ_r}) with t_p = τ_dτ_r/(τ_d − τ_r)·ln(τ_d/τ_r),
 * the time of the maximum of `e^{−t/τ_d} − e^{−t/τ_r}`.
 */
export function doubleExponentialPeakFactor(tauDecay: number, tauRise: number): number {
  const tp = ((tauDecay * tauRise) / (tauDecay - tauRise)) * Math.log(tauDecay / tauRise);
  return 1 / (Math.exp(-tp / tauDecay) - Math.exp(-tp / tauRise));
}

/**
 * Conductance per presynaptic unit `g = g_d − g_r`, `g_x ← g_x·e^{−dt/τ_x} + η·Δg·s`, so one
 * spike gives `g(k·dt) = η·Δg·(e^{−k·dt/τ_d} − e^{−k·dt/τ_r})`, whose continuous maximum is Δg
 * (see {@link doubleExponentialPeakFactor}). The connection applies its weights.
 */
export class DoubleExponentialConductance extends BaseSynapse {
  /** Always `'conductance'`. */
  readonly kind = 'conductance' as const;
  /** Decay time constant (ms). */
  readonly tauDecay: number;
  /** Rise time constant (ms). */
  readonly tauRise: number;
  /** Peak conductance per spike. */
  readonly increment: number;
  private readonly decayD: tf.Tensor;
  private readonly decayR: tf.Tensor;
  private readonly jump: tf.Tensor;
  private readonly gDecay: State;
  private readonly gRise: State;

  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param options kinetics
   */
  constructor(spec: SynapseSpec, options: DoubleExponentialConductanceOptions) {
    const o = check(options);
    super(spec);
    this.tauDecay = o.tauDecay;
    this.tauRise = o.tauRise;
    this.increment = o.increment;
    this.decayD = this.constant(Math.exp(-this.dt / o.tauDecay));
    this.decayR = this.constant(Math.exp(-this.dt / o.tauRise));
    this.jump = this.constant(o.increment * doubleExponentialPeakFactor(o.tauDecay, o.tauRise));
    this.gDecay = this.addKineticState('conductance_decay');
    this.gRise = this.addKineticState('conductance_rise');
  }

  /** A factory for connections. */
  static factory(options: DoubleExponentialConductanceOptions): SynapseFactory<DoubleExponentialConductance> {
    check(options);
    return (spec) => new DoubleExponentialConductance(spec, options);
  }

  /** The decaying component g_d `[B, ...shape]`. */
  get decayComponent(): tf.Tensor {
    return this.gDecay.value;
  }

  /** The rising component g_r `[B, ...shape]`. */
  get riseComponent(): tf.Tensor {
    return this.gRise.value;
  }

  protected integrate(spikes: tf.Tensor): tf.Tensor {
    const inc = tf.mul(spikes, this.jump);
    const d = tf.add(tf.mul(this.gDecay.value, this.decayD), inc);
    const r = tf.add(tf.mul(this.gRise.value, this.decayR), inc);
    this.gDecay.assign(d);
    this.gRise.assign(r);
    return tf.sub(d, r);
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), tauDecay: this.tauDecay, tauRise: this.tauRise, increment: this.increment };
  }
}
