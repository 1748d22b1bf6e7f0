/**
 * The shared base of the Euler-integrated (nonlinear membrane) neuron models.
 * @module
 */
import { tf } from '../../core/tf.js';
import { checkPositive, warn } from '../../core/errors.js';
import { NeuronGroup, type ConductanceDrive } from './neuron-group.js';
import { select } from './select.js';
import type { LIFOptions } from './lif.js';
import { checkAtMost, checkBelow, checkDerived, checkFloat32 } from './validate.js';

/**
 * Parameters every Euler-integrated model accepts (EIF, QIF, AdEx, Izhikevich): those of LIF
 * (restV must moreover lie below the membrane's critical voltage, rheobaseV or critV).
 */
export interface EulerNeuronOptions extends LIFOptions {}

/** One Euler step of a nonlinear membrane: the new voltage from `v` and the total current `i` (`null` = none). */
export interface EulerMembrane {
  /** V + Δt·dV/dt for the voltage `v` and total current `i`. */
  step(v: tf.Tensor, i: tf.Tensor | null): tf.Tensor;
}

/**
 * What distinguishes one Euler-integrated membrane from another: its critical voltage (with
 * V_rest < it <= Θ), its positive shape parameter, and how the membrane is built.
 */
export interface EulerMembraneSpec {
  /** Option name and value of the critical voltage (e.g. `['rheobaseV', -50]`). */
  critical: readonly [name: string, value: number];
  /** Option name and value of the positive shape parameter (e.g. `['sharpness', 2]`). */
  scale: readonly [name: string, value: number];
  /**
   * The membrane's relaxation time constant at rest (ms) and how to name it in a warning, given
   * validated parameters: explicit Euler overshoots rest when Δt exceeds it and diverges beyond
   * twice it (see {@link warnIfUnstable}). Default: `['tauM', τ_m]`.
   */
  relaxation?: (tauM: number) => readonly [name: string, tau: number];
  /**
   * The constants the membrane uploads that are computed from its parameters, as
   * `[parameter, its value, formula, derived value]`, each checked to lie within float32 range
   * (after the parameters themselves are validated).
   */
  derived?: (resistance: number, dt: number, tauM: number) => readonly (readonly [param: string, value: number, formula: string, derived: number])[];
  /**
   * Builds the membrane (after validation).
   * @param constant creates a scalar owned by the neuron group
   * @param resistance membrane resistance R
   * @param dt step (ms)
   */
  create(constant: (x: number) => tf.Scalar, resistance: number, dt: number): EulerMembrane;
}

/**
 * Base of the models whose membrane is Euler-integrated (as Inferno): a constant firing threshold
 * Θ and `V ← membrane.step(V, I + Σ_r g_r(E_r − V))`. Conductance input enters as a current
 * (Euler). Step order and refractory semantics: {@link NeuronGroup}.
 *
 * float32: the Euler upstroke may overflow to V = +∞ (e.g. a refractory neuron integrating with
 * `refracLock: false` above its critical voltage); such a voltage stays +∞ until the neuron may
 * fire (+∞ ≥ Θ), then it is reset, as in Inferno. With conductance input too (where g(E − V) alone
 * would make it NaN).
 */
export abstract class EulerNeuron extends NeuronGroup {
  /** Firing threshold Θ (mV). */
  readonly threshV: number;
  /** Membrane time constant τ_m (ms). */
  readonly tauM: number;
  /** Membrane resistance R. */
  readonly resistance: number;
  private readonly membrane: EulerMembrane;
  private readonly membraneSettings: Record<string, number>;
  private readonly kThresh: tf.Scalar;
  private readonly kInf: tf.Scalar;

  /**
   * Validates in the order: restV < critical, critical <= threshV, resetV < threshV, scale > 0,
   * tauM > 0, resistance > 0, the membrane's derived constants, then `checkMore` (a subclass's own parameters), then the group's.
   * @param shape neurons per sample
   * @param dt step length (ms)
   * @param options model parameters
   * @param spec the membrane's parameters and factory
   * @param checkMore further validation run before the group is set up
   */
  protected constructor(
    shape: number | readonly number[],
    dt: number,
    options: EulerNeuronOptions,
    spec: EulerMembraneSpec,
    checkMore?: () => void,
  ) {
    const o = options ?? ({} as EulerNeuronOptions);
    const [critName, critV] = spec.critical;
    const [scaleName, scale] = spec.scale;
    checkBelow('restV', o.restV, critName, critV);
    checkAtMost(critName, critV, 'threshV', o.threshV);
    checkBelow('resetV', o.resetV, 'threshV', o.threshV);
    checkPositive(scaleName, scale);
    checkPositive('tauM', o.tauM);
    checkFloat32('resistance', checkPositive('resistance', o.resistance ?? 1));
    for (const [param, value, formula, derived] of spec.derived?.(o.resistance ?? 1, dt, o.tauM) ?? []) checkDerived(dt, param, value, formula, derived);
    checkMore?.();
    super(shape, dt, o);
    this.threshV = o.threshV;
    this.tauM = o.tauM;
    this.resistance = o.resistance ?? 1;
    this.membraneSettings = { [critName]: critV, [scaleName]: scale };
    this.membrane = spec.create((x) => this.constant(x), this.resistance, this.dt);
    const [relaxName, relaxTau] = spec.relaxation?.(this.tauM) ?? ['tauM', this.tauM];
    warnIfUnstable(this.constructor.name, this.dt, relaxName, relaxTau);
    this.kThresh = this.constant(this.threshV);
    this.kInf = this.constant(Infinity);
  }

  /** Settings saved with the module: the group's, the membrane's, threshV, tauM and resistance. */
  override extras(): Record<string, unknown> {
    return {
      ...super.extras(),
      ...this.membraneSettings,
      threshV: this.threshV,
      tauM: this.tauM,
      resistance: this.resistance,
    };
  }

  protected integrate(v: tf.Tensor, i: tf.Tensor | null, drive: ConductanceDrive | null): tf.Tensor {
    const next = this.membrane.step(v, this.totalCurrent(v, i, drive));
    if (!drive) return next;
    // A voltage that overflowed to +∞ (an upstroke while refractory without refracLock) stays +∞
    // until the neuron may fire, as it does without conductances; the drive g(E − V) would turn
    // it into ∞ − ∞ = NaN (or ∞·0 for g = 0) and the neuron would never fire again.
    return select(tf.equal(v, this.kInf), v, next);
  }

  protected threshold(): tf.Tensor {
    return this.kThresh;
  }
}

/**
 * Warns when an explicit-Euler step is longer than a time constant: with Δt > τ the linear decay
 * factor 1 − Δt/τ is negative, so the variable overshoots its fixed point every step (the membrane
 * runs below reset); with Δt > 2τ it diverges (to ±∞). For a membrane τ is its relaxation time at
 * rest (τ_m for the exponential membrane, τ_m/(a(V_crit − V_rest)) for the quadratic one). The
 * exactly integrated models (LIF, ALIF, GLIF2) have no such limit.
 * @param model class name, for the message
 * @param dt step (ms)
 * @param name the time constant's option name
 * @param tau its value (ms)
 */
export function warnIfUnstable(model: string, dt: number, name: string, tau: number): void {
  if (dt <= tau) return;
  const what = dt > 2 * tau ? 'diverges (explicit Euler is unstable for dt > 2·' + name + ')' : 'overshoots every step (explicit Euler needs dt <= ' + name + ')';
  warn(`${model}: dt = ${dt} ms exceeds ${name} = ${tau} ms; the Euler-integrated state ${what}; use a smaller dt`);
}
