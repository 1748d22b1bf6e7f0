/**
 * Synapses with separate rise and decay time constants: a current ({@link DoubleExponentialCurrent},
 * total charge Q per spike) or a conductance ({@link DoubleExponentialConductance}, peak Δg per spike).
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkPositive, checkOptionKeys, optionKeys } from '../../core/errors.js';
import type { State } from '../../core/state.js';
import type { SynapseFactory, SynapseSpec } from '../types.js';
import { BaseSynapse } from './synapse.js';
import { AMOUNT_OPTION, type SynapseKind } from './exponential.js';

/** Kinetics of {@link DoubleExponentialCurrent}. */
export interface DoubleExponentialCurrentOptions {
  /** Decay time constant τ_d (ms, > τ_r). */
  tauDecay: number;
  /** Rise time constant τ_r (ms, > 0, < τ_d). */
  tauRise: number;
  /** Charge Q per spike (default 1); the total charge delivered by one spike is Q. */
  charge?: number;
}

/** Kinetics of {@link DoubleExponentialConductance}. */
export interface DoubleExponentialConductanceOptions {
  /** Decay time constant τ_d (ms, > τ_r). */
  tauDecay: number;
  /** Rise time constant τ_r (ms, > 0, < τ_d). */
  tauRise: number;
  /** Peak conductance Δg of the continuous-time response to one spike (default 1). */
  increment?: number;
}

/** The keys of {@link DoubleExponentialCurrentOptions}. */
export const DOUBLE_EXPONENTIAL_CURRENT_OPTION_KEYS = optionKeys<DoubleExponentialCurrentOptions>()(['tauDecay', 'tauRise', 'charge']);

/** The keys of {@link DoubleExponentialConductanceOptions}. */
export const DOUBLE_EXPONENTIAL_CONDUCTANCE_OPTION_KEYS = optionKeys<DoubleExponentialConductanceOptions>()(['tauDecay', 'tauRise', 'increment']);

/** Validates two time constants with τ_d > τ_r > 0. */
export function checkTauPair(tauDecay: number, tauRise: number): void {
  checkPositive('tauDecay', tauDecay);
  checkPositive('tauRise', tauRise);
  if (!(tauDecay > tauRise)) throw new CinderArgumentError('tauDecay', tauDecay, `a time constant > tauRise (${tauRise})`);
}

/** Options of either double-exponential synapse: the two time constants and the amount of its kind. */
export interface DoubleExponentialOptions {
  /** Decay time constant τ_d (ms, > τ_r). */
  tauDecay: number;
  /** Rise time constant τ_r (ms, > 0). */
  tauRise: number;
  /** Total charge Q per spike (currents). */
  charge?: number;
  /** Peak conductance Δg per spike (conductances). */
  increment?: number;
}

function check(kind: SynapseKind, o: DoubleExponentialOptions, keys: boolean): { tauDecay: number; tauRise: number; amount: number } {
  const name = AMOUNT_OPTION[kind];
  if (o === null || typeof o !== 'object') throw new CinderArgumentError('options', o, `{ tauDecay, tauRise, ${name}? }`);
  if (keys) checkOptionKeys('options', o, kind === 'current' ? DOUBLE_EXPONENTIAL_CURRENT_OPTION_KEYS : DOUBLE_EXPONENTIAL_CONDUCTANCE_OPTION_KEYS);
  checkTauPair(o.tauDecay, o.tauRise);
  return { tauDecay: o.tauDecay, tauRise: o.tauRise, amount: checkPositive(name, o[name] ?? 1) };
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
 * `x = x_d − x_r`, `x_k ← x_k·e^{−dt/τ_k} + J·s` for k ∈ {d, r} (exact between steps), so one spike
 * gives `x(k·dt) = J·(e^{−k·dt/τ_d} − e^{−k·dt/τ_r})`. Current: J = Q/(τ_d − τ_r), whose integral
 * over time is Q. Conductance: J = η·Δg, whose continuous maximum is Δg (see
 * {@link doubleExponentialPeakFactor}); the connection applies its weights. Float32: the jump is
 * computed in float64 and uploaded once; `(x·decay) + (s·J)` per component, then one subtraction.
 */
export abstract class DoubleExponentialSynapse extends BaseSynapse {
  /** Decay time constant (ms). */
  readonly tauDecay: number;
  /** Rise time constant (ms). */
  readonly tauRise: number;
  /** Amount per spike: the charge Q (current) or the peak Δg (conductance). */
  protected readonly amount: number;
  private readonly decayD: tf.Tensor;
  private readonly decayR: tf.Tensor;
  private readonly jump: tf.Tensor;
  private readonly xDecay: State;
  private readonly xRise: State;

  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param kind current or conductance (names the states `<kind>_decay`, `<kind>_rise`)
   * @param options kinetics
   */
  protected constructor(spec: SynapseSpec, kind: SynapseKind, options: DoubleExponentialOptions) {
    const o = check(kind, options, LIBRARY_CLASSES.has(new.target));
    super(spec);
    this.tauDecay = o.tauDecay;
    this.tauRise = o.tauRise;
    this.amount = o.amount;
    this.decayD = this.constant(Math.exp(-this.dt / o.tauDecay));
    this.decayR = this.constant(Math.exp(-this.dt / o.tauRise));
    const jump = kind === 'current' ? o.amount / (o.tauDecay - o.tauRise) : o.amount * doubleExponentialPeakFactor(o.tauDecay, o.tauRise);
    this.jump = this.constant(jump);
    this.xDecay = this.addKineticState(`${kind}_decay`);
    this.xRise = this.addKineticState(`${kind}_rise`);
  }

  /** A factory for connections, validating the options now. */
  static factory<T extends DoubleExponentialSynapse, O extends DoubleExponentialOptions>(
    this: (new (spec: SynapseSpec, options: O) => T) & { readonly prototype: { readonly kind: SynapseKind } },
    options: O,
  ): SynapseFactory<T> {
    check(this.prototype.kind, options, LIBRARY_CLASSES.has(this));
    return (spec) => new this(spec, options);
  }

  /** The decaying component x_d `[B, ...shape]`. */
  get decayComponent(): tf.Tensor {
    return this.xDecay.value;
  }

  /** The rising component x_r `[B, ...shape]`. */
  get riseComponent(): tf.Tensor {
    return this.xRise.value;
  }

  protected integrate(spikes: tf.Tensor): tf.Tensor {
    const inc = tf.mul(spikes, this.jump);
    const d = tf.add(tf.mul(this.xDecay.value, this.decayD), inc);
    const r = tf.add(tf.mul(this.xRise.value, this.decayR), inc);
    this.xDecay.assign(d);
    this.xRise.assign(r);
    return tf.sub(d, r);
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), tauDecay: this.tauDecay, tauRise: this.tauRise, [AMOUNT_OPTION[this.kind]]: this.amount };
  }
}

/** Double-exponential current synapse, total charge Q per spike (see {@link DoubleExponentialSynapse}). */
export class DoubleExponentialCurrent extends DoubleExponentialSynapse {
  /** Always `'current'`. */
  get kind(): 'current' { return 'current'; }
  /** @param spec given by the connection @param options kinetics */
  constructor(spec: SynapseSpec, options: DoubleExponentialCurrentOptions) { super(spec, 'current', options); }
  /** Charge per spike. */
  get charge(): number { return this.amount; }
}

/** Double-exponential conductance synapse normalised to a peak of Δg per spike (see {@link DoubleExponentialSynapse}). */
export class DoubleExponentialConductance extends DoubleExponentialSynapse {
  /** Always `'conductance'`. */
  get kind(): 'conductance' { return 'conductance'; }
  /** @param spec given by the connection @param options kinetics */
  constructor(spec: SynapseSpec, options: DoubleExponentialConductanceOptions) { super(spec, 'conductance', options); }
  /** Peak conductance per spike. */
  get increment(): number { return this.amount; }
}

/** The synapse classes of this module: they refuse unknown option keys (user subclasses may add keys). */
const LIBRARY_CLASSES: ReadonlySet<unknown> = new Set([DoubleExponentialCurrent, DoubleExponentialConductance]);
