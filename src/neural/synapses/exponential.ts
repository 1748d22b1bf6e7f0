/**
 * Synapses with one exponentially decaying variable: a current ({@link SingleExponentialCurrent})
 * or a conductance ({@link ExponentialConductance}).
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkPositive, checkOptionKeys, optionKeys } from '../../core/errors.js';
import type { SynapseFactory, SynapseSpec } from '../types.js';
import { BaseSynapse } from './synapse.js';

/** Kinetics of {@link SingleExponentialCurrent}. */
export interface SingleExponentialCurrentOptions {
  /** Decay time constant τ (ms, > 0). */
  tau: number;
  /** Charge Q per spike (default 1); the current jumps by Q/τ. */
  charge?: number;
}

/** Kinetics of {@link ExponentialConductance}. */
export interface ExponentialConductanceOptions {
  /** Decay time constant τ (ms, > 0). */
  tau: number;
  /** Jump Δg of the conductance per spike (default 1; the connection's weight scales it). */
  increment?: number;
}

/** The keys of {@link SingleExponentialCurrentOptions}. */
export const SINGLE_EXPONENTIAL_CURRENT_OPTION_KEYS = optionKeys<SingleExponentialCurrentOptions>()(['tau', 'charge']);

/** The keys of {@link ExponentialConductanceOptions}. */
export const EXPONENTIAL_CONDUCTANCE_OPTION_KEYS = optionKeys<ExponentialConductanceOptions>()(['tau', 'increment']);

/** What a synapse's variable is: a current (Q per spike) or a conductance (Δg per spike). */
export type SynapseKind = 'current' | 'conductance';

/** The per-spike amount option of each kind: `charge` for currents, `increment` for conductances. */
export const AMOUNT_OPTION: AmountOptionNames = { current: 'charge', conductance: 'increment' };

/** The type of {@link AMOUNT_OPTION}. */
export interface AmountOptionNames {
  /** Currents take a charge Q per spike. */
  readonly current: 'charge';
  /** Conductances take a jump (or peak) Δg per spike. */
  readonly conductance: 'increment';
}

/** Options of either exponential synapse: τ and the amount of its kind. */
export interface ExponentialOptions {
  /** Decay time constant τ (ms, > 0). */
  tau: number;
  /** Charge Q per spike (currents). */
  charge?: number;
  /** Conductance jump Δg per spike (conductances). */
  increment?: number;
}

/** Validates `{ tau, charge | increment }` for `kind`; returns τ and the per-spike amount (default 1). */
function check(kind: SynapseKind, o: ExponentialOptions, keys: boolean): { tau: number; amount: number } {
  const name = AMOUNT_OPTION[kind];
  if (o === null || typeof o !== 'object') throw new CinderArgumentError('options', o, `{ tau, ${name}? }`);
  if (keys) checkOptionKeys('options', o, kind === 'current' ? SINGLE_EXPONENTIAL_CURRENT_OPTION_KEYS : EXPONENTIAL_CONDUCTANCE_OPTION_KEYS);
  return { tau: checkPositive('tau', o.tau), amount: checkPositive(name, o[name] ?? 1) };
}

/**
 * `x ← x·e^{−dt/τ} + J·s`, the exact solution of τ dx/dt = −x + (amount)·Σδ(t − t_f) between
 * steps: for a current J = Q/τ (impulse response `(Q/τ)·e^{−k·dt/τ}` k steps after a spike), for a
 * conductance J = Δg (impulse response `Δg·e^{−k·dt/τ}`; the connection applies its weights, so a
 * neuron receives `Σ_i w_ji·g_i` as the conductance of the connection's receptor).
 */
export abstract class ExponentialSynapse extends BaseSynapse {
  /** Time constant τ (ms). */
  readonly tau: number;
  /** Amount per spike: the charge Q (current) or the jump Δg (conductance). */
  protected readonly amount: number;
  private readonly decay: tf.Tensor;
  private readonly jump: tf.Tensor;

  /**
   * @param spec shape, dt, history and batch size (given by the connection)
   * @param kind current or conductance
   * @param options kinetics
   */
  protected constructor(spec: SynapseSpec, kind: SynapseKind, options: ExponentialOptions) {
    const o = check(kind, options, LIBRARY_CLASSES.has(new.target));
    super(spec);
    this.tau = o.tau;
    this.amount = o.amount;
    this.decay = this.constant(Math.exp(-this.dt / o.tau));
    this.jump = this.constant(kind === 'current' ? o.amount / o.tau : o.amount);
  }

  /** A factory for connections, validating the options now: `SingleExponentialCurrent.factory({ tau: 5 })`. */
  static factory<T extends ExponentialSynapse, O extends ExponentialOptions>(
    this: (new (spec: SynapseSpec, options: O) => T) & { readonly prototype: { readonly kind: SynapseKind } },
    options: O,
  ): SynapseFactory<T> {
    check(this.prototype.kind, options, LIBRARY_CLASSES.has(this));
    return (spec) => new this(spec, options);
  }

  protected integrate(spikes: tf.Tensor, previous: tf.Tensor): tf.Tensor {
    return tf.add(tf.mul(previous, this.decay), tf.mul(spikes, this.jump));
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), tau: this.tau, [AMOUNT_OPTION[this.kind]]: this.amount };
  }
}

/** Exponential current synapse `I ← I·e^{−dt/τ} + (Q/τ)·s` (see {@link ExponentialSynapse}). */
export class SingleExponentialCurrent extends ExponentialSynapse {
  /** Always `'current'`. */
  get kind(): 'current' { return 'current'; }
  /** @param spec given by the connection @param options kinetics */
  constructor(spec: SynapseSpec, options: SingleExponentialCurrentOptions) { super(spec, 'current', options); }
  /** Charge per spike. */
  get charge(): number { return this.amount; }
}

/** Exponential conductance synapse `g ← g·e^{−dt/τ} + Δg·s` (see {@link ExponentialSynapse}). */
export class ExponentialConductance extends ExponentialSynapse {
  /** Always `'conductance'`. */
  get kind(): 'conductance' { return 'conductance'; }
  /** @param spec given by the connection @param options kinetics */
  constructor(spec: SynapseSpec, options: ExponentialConductanceOptions) { super(spec, 'conductance', options); }
  /** Conductance jump per spike. */
  get increment(): number { return this.amount; }
}

/** The synapse classes of this module: they refuse unknown option keys (user subclasses may add keys). */
const LIBRARY_CLASSES: ReadonlySet<unknown> = new Set([SingleExponentialCurrent, ExponentialConductance]);
