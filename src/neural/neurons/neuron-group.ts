/**
 * The shared base of Cinder's spiking neuron models: shape and batch bookkeeping, the
 * voltage / refractory / spike state, conductance input, and the thresholding step with its
 * absolute refractory period. A concrete model supplies only its membrane update
 * ({@link NeuronGroup.integrate}), its threshold and, if adaptive, its adaptation update.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { State } from '../../core/state.js';
import { CinderArgumentError, checkElements, checkInteger, checkNonNegative, checkPositive, checkShape, numel, optionKeys } from '../../core/errors.js';
import type { Neuron, NeuronInput, Receptor } from '../types.js';
import { readNeuronInput } from './input.js';
import { checkDt, checkFloat32, checkReceptors } from './validate.js';
import { reduceBatch, type BatchReduction } from './batch-reduction.js';
import { select } from './select.js';
import { SpikingModule } from './spiking-module.js';
import { fusedBackend } from '../../kernels/js/fused-memory.js';
import { fusedNeuronStep, type FusedConductance, type FusedNeuronSpec } from '../../kernels/js/fused-neuron.js';
import { stepProgramsOn } from '../../kernels/webgpu/step-program.js';
import { neuronStepFits, neuronStepWebgpu, planNeuronDrive } from '../../kernels/webgpu/step-neuron.js';
import type { DrivePlan, DriveShape, DriveTerm } from '../../kernels/webgpu/step-drive.js';
import { TIMESTEP_SHIFT, brian2Timestep } from '../../core/timestep.js';

/**
 * How a {@link NeuronGroup} counts its refractory period (option `refracCount`):
 * - `'time'` (default, as Inferno): on a spike the remaining time is r = refracT, then
 *   r ← max(r − Δt, 0) each step in float32; the lock-out ends when r ≤ Δt. In exact arithmetic
 *   that is k = ⌈refracT/Δt⌉ steps, but when Δt is not a float32 number the countdown drifts
 *   (refracT = 5, Δt = 0.1: 51 steps, not 50).
 * - `'steps'`: exactly k = {@link refracStepCount}(refracT, Δt) whole steps, counted as Brian2
 *   counts them (its `timestep` rule: k = ⌊refracT/Δt + 10⁻³⌋, also when refracT is not a multiple
 *   of Δt; NEST's `t_ref/h` when it is), for any k ≤ {@link MAX_REFRAC_STEPS}.
 */
export type RefracCount = 'time' | 'steps';

/** Options every neuron model accepts. */
export interface NeuronGroupOptions {
  /** Batch size B (default 1). */
  batchSize?: number;
  /** Receptors for conductance input, in the order of `NeuronInput.conductances` (default none). */
  receptors?: readonly Receptor[];
  /**
   * How the refractory period is counted (default `'time'`, Inferno's float32 countdown):
   * `'steps'` locks a neuron out for exactly k = ⌊refracT/Δt + 10⁻³⌋ steps as Brian2 does
   * ({@link refracStepCount}), see {@link RefracCount}.
   */
  refracCount?: RefracCount;
}

/** The keys of {@link NeuronGroupOptions} (the option names every neuron model accepts). */
export const NEURON_GROUP_OPTION_KEYS = optionKeys<NeuronGroupOptions>()(['batchSize', 'receptors', 'refracCount']);

/**
 * The longest refractory period, in steps k, that `refracCount: 'steps'` accepts (4000). The half
 * step of margin of {@link NeuronGroup}'s countdown is proven to absorb the float32 drift for
 * k ≤ 4000 (see {@link NeuronGroup}); a longer period throws (use `'time'`, or a longer Δt).
 */
export const MAX_REFRAC_STEPS = 4000;

/**
 * The shift of {@link refracStepCount} (10⁻³ of a step, Brian2's `timestep`): a period up to 10⁻³ of a
 * step short of a whole number k of steps counts as k steps, so that 5/0.1, 2/0.1 (19.999… in
 * float64), 1.1/0.1 or a float32-rounded refracT or Δt give the intended count.
 */
export const REFRAC_STEP_TOLERANCE = TIMESTEP_SHIFT;

/**
 * Whole steps k of a refractory period of `refracT` ms at step `dt` (ms), as counted by
 * `refracCount: 'steps'`, by Brian2's rule: Brian2 lets a neuron that fired at step n fire again at
 * step n + j once `timestep(t − lastspike, dt) >= timestep(refractory, dt)`, with
 * `timestep(τ, dt) = int((τ + 10⁻³·dt)/dt)`, i.e. j ≥ K with
 *
 *   K = ⌊(r + 10⁻³·h)/h⌋,  r = refracT·10⁻³, h = dt·10⁻³ (seconds; each operation in float64),
 *
 * the same float64 operations Brian2 does on `refracT*ms` and `dt*ms` (with the values in ms the
 * rounding differs at float64 ties: 0.1999 ms at dt = 0.1 ms is K = 2 in seconds, as Brian2, and 1
 * in ms). So a period that is not a multiple of dt rounds down (2.5 ms at dt = 1 ms: 2 steps;
 * 0.25 at 0.1: 2) unless within 10⁻³ of a step below the next ({@link REFRAC_STEP_TOLERANCE}: 0.29995
 * at 0.1: 3). Returns k = max(K, 1) for refracT > 0 (k = 1, as K = 0, is no lock-out) and 0 for
 * refracT = 0. A neuron that fires at step n may fire again at step n + k at the earliest.
 * (Brian2 writes a constant `refractory=` quantity into its generated code with six decimals of
 * seconds, i.e. rounded to whole µs; for a refracT that is not a whole number of µs, or one that
 * that rounding moves across a float64 tie (9.999 ms at dt = 1 ms), such a Brian2 group can count a
 * step less or more than a group given `refractory='tau_ref'` as a parameter, which this follows.)
 * @throws CinderArgumentError unless refracT >= 0 is finite and dt > 0 is finite
 */
export function refracStepCount(refracT: number, dt: number): number {
  checkNonNegative('refracT', refracT);
  checkPositive('dt', dt);
  if (refracT === 0) return 0;
  return Math.max(brian2Timestep(refracT, dt), 1);
}

/** Per-step options of {@link NeuronGroup.forward}. */
export interface NeuronStepOptions {
  /**
   * Hold the membrane voltage of refractory neurons (default true, as Inferno's `refrac_lock`).
   * When false, refractory neurons integrate with their input masked to zero (they relax toward
   * rest) but still cannot fire.
   */
  refracLock?: boolean;
  /** Update adaptation state this step (adaptive models only). Default: the module's training mode. */
  adapt?: boolean;
}

/** Options of {@link NeuronGroup.clear}. */
export interface NeuronClearOptions {
  /** Keep adaptive thresholds / currents (default true, as Inferno). */
  keepAdaptations?: boolean;
}

/** Conductance drive of one step: Σ_r g_r and Σ_r g_r·E_r (`[B, ...shape]`). */
export interface ConductanceDrive {
  /** Σ_r g_r. */
  gSum: tf.Tensor;
  /** Σ_r g_r·E_r. */
  gE: tf.Tensor;
}

/** What {@link NeuronGroup.adapt} receives after the thresholding of a step. */
export interface StepResult {
  /** This step's spikes (0/1 float) `[B, ...shape]`. */
  spike: tf.Tensor;
  /** Membrane voltage after reset `[B, ...shape]`. */
  voltage: tf.Tensor;
  /**
   * Remaining refractory time after this step when adaptation must be held for refractory
   * neurons (`refracLock` on and `refracT > 0`), else `null`.
   */
  refrac: tf.Tensor | null;
}

/** Constructor settings the base needs from a model. */
export interface NeuronBaseSettings extends NeuronGroupOptions {
  /** Resting (and initial) membrane voltage (mV). */
  restV: number;
  /** Voltage after a spike (mV); models with another reset rule override {@link NeuronGroup.reset}. */
  resetV?: number;
  /** Absolute refractory period (ms), >= 0. */
  refracT: number;
}

/**
 * Base class of the spiking neuron models (LIF, ALIF, GLIF2, QIF, EIF, AdEx, Izhikevich).
 *
 * **Order of operations in one step** (as Inferno's `voltage_thresholding`), with `r` the
 * remaining refractory time:
 * 1. `r ← max(r − dt, 0)`; a neuron is *free* when the new `r` is 0 (i.e. `r_old <= dt`);
 * 2. the membrane is integrated with the input ({@link NeuronGroup.integrate}); with `refracLock`
 *    (default) non-free neurons keep their voltage, otherwise their input is masked to 0;
 * 3. a free neuron spikes when `V >= Θ` ({@link NeuronGroup.threshold});
 * 4. spiking neurons get `r = r₀` ({@link NeuronGroup.refracStart}: `refracT`, or see `'steps'`
 *    below) and their voltage reset ({@link NeuronGroup.reset});
 * 5. adaptive models update their adaptation ({@link NeuronGroup.adapt}).
 *
 * Hence a neuron that fires at step n is refractory (cannot fire, voltage held) during steps
 * n+1 … n+k−1 and may fire again at step n+k at the earliest (k ≤ 1 means no lock-out). The
 * remaining time is counted down in float32 (dt and r rounded to float32, r − dt rounded each
 * step), and k depends on `refracCount`:
 * - `'time'` (default, as Inferno): step 4 sets r = refracT, so k = ⌈refracT/dt⌉ in exact
 *   arithmetic. Exact when `refracT` is a whole multiple of an exactly representable `dt` (0.25,
 *   0.125, …); otherwise the countdown drifts by float32 rounding and may hold a step more or less
 *   (refracT = 5, dt = 0.1: free after 51 steps).
 * - `'steps'`: exactly k = {@link refracStepCount}(refracT, dt) steps (Brian2's count:
 *   ⌊refracT/dt + 10⁻³⌋, evaluated as Brian2 does), k ≤ {@link MAX_REFRAC_STEPS}. Step 4 sets
 *   r = r₀ = fl((k − ½)·d) with d = fl(dt) (the value {@link refracStart}; 0 when refracT = 0),
 *   so `refrac` holds the remaining lock-out plus half a step: ≈ (k − ½ − j)·dt
 *   after j steps, a neuron is free when r ≤ d, i.e. after exactly k − 1 locked steps. Proof that
 *   float32 cannot change this: with x_j = (k − ½ − j)·d the exact countdown and u = 2⁻²⁴,
 *   |fl(y) − y| ≤ u·|y| gives |r_j − x_j| ≤ u·(r₀ + Σ_{i<j} (r_i − d))
 *   ≤ u·d·((k − 1)²/2 + k + (k − 1)/2) < d/2 for k ≤ 4000 (k = 4000: 8 002 000·u ≈ 0.477 < ½), so
 *   r_j > x_j − d/2 ≥ d while j ≤ k − 2 (locked) and 0 < r_{k−1} < d (free). The same bound
 *   holds on every path (op path, wasm/cpu kernel, webgpu program: correctly rounded float32 − and ≤).
 *
 * Spikes are stored explicitly as 0/1 float32 (`spike`), never derived from `refrac` (Inferno
 * derives them and reports spikes for every neuron when `refracT = 0`).
 *
 * **Conductance input**: `forward({current, conductances})` with one conductance per receptor
 * adds the current Σ_r g_r (E_r − V) to the injected current I. LIF and ALIF take it in their fused
 * step: on wasm/cpu the kernel `src/kernels/js/fused-neuron.ts` (the op path's float32 operations,
 * bit-identical on cpu, within one ulp of e^{−Δt·G/τ_m} on wasm), on webgpu the WGSL step program
 * (`src/kernels/webgpu/step-neuron.ts`: the same operations and the same WGSL `exp` and `/` as
 * tfjs-webgpu's Exp and RealDiv, equal within float32 rounding); the other models keep the op path.
 */
export abstract class NeuronGroup extends SpikingModule implements Neuron {
  /** Absolute refractory period (ms). */
  readonly refracT: number;
  /** How the refractory period is counted (`'time'` or `'steps'`, see {@link RefracCount}). */
  readonly refracCount: RefracCount;
  /**
   * The remaining refractory time r (ms, a float32 number) a spike sets: `refracT` with
   * `refracCount: 'time'`; fl((k − ½)·fl(dt)) with k = {@link refracStepCount}(refracT, dt) with
   * `'steps'` (0 when k = 0). No refractory state is kept when it is 0.
   */
  readonly refracStart: number;
  /** Resting (and initial) membrane voltage (mV). */
  readonly restV: number;
  /** Reset voltage (mV), if the model resets to a constant. */
  readonly resetV: number | undefined;
  /** Receptors for conductance input (empty for current-only use). */
  readonly receptors: readonly Receptor[];

  private readonly adaptationStates: State[] = [];
  private readonly fullCache = new Map<number, tf.Tensor>();
  private readonly kDt: tf.Scalar;
  private readonly kZero: tf.Scalar;
  private readonly kReversal: tf.Scalar[];

  /**
   * @param shape neurons per sample (a number or a shape)
   * @param dt step length (ms), > 0
   * @param settings rest/reset voltage, refractory period, batch size and receptors
   */
  protected constructor(shape: number | readonly number[], dt: number, settings: NeuronBaseSettings) {
    const checkedShape = checkShape('shape', typeof shape === 'number' ? [shape] : shape);
    const checkedDt = checkDt(dt);
    const refracT = checkFloat32('refracT', checkNonNegative('refracT', settings.refracT));
    const refracCount = NeuronGroup.checkRefracCount(settings.refracCount);
    const refracStart = refracCount === 'time' ? refracT : NeuronGroup.stepsStart(refracT, checkedDt);
    const restV = checkFloat32('restV', settings.restV);
    const resetV = settings.resetV === undefined ? undefined : checkFloat32('resetV', settings.resetV);
    const batch = checkInteger('batchSize', settings.batchSize ?? 1, 1);
    checkElements('batchSize', batch * numel(checkedShape), `a state of shape [${batch}, ${checkedShape.join(', ')}]`);
    const receptors = checkReceptors(settings.receptors ?? []);
    super(checkedShape, checkedDt, batch, restV);
    this.refracT = refracT;
    this.refracCount = refracCount;
    this.refracStart = refracStart;
    this.restV = restV;
    this.resetV = resetV;
    this.receptors = receptors;
    this.kDt = this.constant(this.dt);
    this.kZero = this.constant(0);
    this.kReversal = this.receptors.map((r) => this.constant(r.reversal));
  }

  /** Checks the `refracCount` option and fills in its default `'time'`. */
  private static checkRefracCount(value: unknown): RefracCount {
    if (value === undefined) return 'time';
    if (value !== 'time' && value !== 'steps') throw new CinderArgumentError('refracCount', value, '"time" or "steps"');
    return value;
  }

  /**
   * The r₀ = fl((k − ½)·fl(dt)) of `refracCount: 'steps'` (see the class docs), after checking
   * k ≤ {@link MAX_REFRAC_STEPS} and, as a guard, replaying the float32 countdown once (k − 1
   * locked steps; it cannot fail for a normal dt and k ≤ 4000 but catches an overflowing r₀).
   */
  private static stepsStart(refracT: number, dt: number): number {
    const k = refracStepCount(refracT, dt);
    if (k > MAX_REFRAC_STEPS) {
      throw new CinderArgumentError('refracT', refracT, `at most ${MAX_REFRAC_STEPS} steps of dt = ${dt} ms with refracCount "steps" (k = ⌊refracT/dt + 10⁻³⌋ = ${k}); use refracCount "time" for longer periods`);
    }
    if (k === 0) return 0;
    const f = Math.fround;
    const d = f(dt);
    const start = f((k - 0.5) * d);
    let r = start;
    let locked = 0;
    while (!(r <= d) && locked < k) {
      locked++;
      r = Math.max(f(r - d), 0);
    }
    if (locked !== k - 1) throw new CinderArgumentError('refracT', refracT, `a period whose float32 countdown at dt = ${dt} ms holds ${k - 1} steps with refracCount "steps" (it holds ${locked}; r₀ = ${start})`);
    return start;
  }

  /**
   * Integrates one step and returns this step's spikes (0/1 float32 `[B, ...shape]`, owned by
   * the caller). `input` is a current `[B, ...shape]` or `{current?, conductances?}`.
   */
  forward(input: tf.Tensor | NeuronInput, options: NeuronStepOptions = {}): tf.Tensor {
    const { current, conductances } = readNeuronInput(input, this.batchSize, this.shape, this.receptors.length);
    const { refracLock, adapt } = this.stepOptions(options);
    const given = this.receptorInputs(conductances);
    const js = fusedBackend() !== null;
    const fusable = js || (stepProgramsOn() && this.floatStates(current));
    const spec = fusable ? this.fusedSpec() : null;
    // conductance input needs the spec's membrane constants; on webgpu every binding must fit one program
    const fits = spec !== null && (given.length === 0 || spec.conductance !== undefined) && (js || neuronStepFits(spec, current !== undefined, given.length));
    if (spec && fits) return this.forwardFused(spec, current ?? null, given, refracLock, adapt);
    return tf.tidy(() => {
      const v = this.voltageState.value;
      const refracOld = this.refracState.value;
      const refractory = this.refracStart > 0;
      const free = refractory ? tf.lessEqual(refracOld, this.kDt) : null;
      const mask = free && !refracLock ? (t: tf.Tensor) => select(free, t, this.full(0)) : (t: tf.Tensor) => t;
      const i = this.inputCurrent(current);
      const drive = conductances ? this.conductanceDrive(conductances, mask) : null;
      let vNew = this.integrate(v, i ? mask(i) : null, drive);
      if (free && refracLock) vNew = select(free, vNew, v);
      let fired = tf.greaterEqual(vNew, this.threshold());
      if (free) fired = tf.logicalAnd(free, fired);
      const vOut = this.reset(vNew, fired);
      const spike = tf.cast(fired, 'float32');
      let refrac: tf.Tensor | null = null;
      if (refractory) {
        refrac = select(fired, this.full(this.refracStart), tf.relu(tf.sub(refracOld, this.kDt)));
        this.refracState.assign(refrac);
      }
      this.voltageState.assign(vOut);
      this.spikeState.assign(spike);
      if (adapt) this.adapt({ spike, voltage: vOut, refrac: refracLock ? refrac : null });
      return spike;
    });
  }

  /** Throws the error {@link forward} would throw for these per-step options, without stepping. */
  checkOptions(options: NeuronStepOptions): void {
    this.stepOptions(options);
  }

  /** Checks the per-step options and fills in their defaults. */
  private stepOptions(options: NeuronStepOptions): { refracLock: boolean; adapt: boolean } {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {refracLock?, adapt?}');
    for (const [k, v] of Object.entries(options)) {
      if (k !== 'refracLock' && k !== 'adapt') throw new CinderArgumentError('options key', k, 'one of "refracLock", "adapt"');
      if (v !== undefined && typeof v !== 'boolean') throw new CinderArgumentError(`options.${k}`, v, 'a boolean');
    }
    return { refracLock: options.refracLock ?? true, adapt: options.adapt ?? this.training };
  }

  /**
   * webgpu only (the fused layer step, `../layers/fused-step.ts`): how this group's step program
   * would compute its input current from connection terms of these kinds and sizes
   * (`src/kernels/webgpu/step-drive.ts`), or null when it cannot (not webgpu, no step program for
   * this model, a state that is not float32, too many bindings): the layer then keeps the op path.
   * @internal
   */
  planDrive(terms: readonly DriveShape[], options: NeuronStepOptions = {}): DrivePlan | null {
    if (!stepProgramsOn() || fusedBackend() !== null || !this.floatStates(undefined)) return null;
    const spec = this.fusedSpec();
    return spec ? planNeuronDrive(spec, [this.batchSize, ...this.shape], terms, this.stepOptions(options).adapt) : null;
  }

  /**
   * webgpu only: the same step as {@link forward} with the input current `Σ_k term_k` computed by the
   * step program from `terms` (planned by {@link planDrive} with the same kinds, sizes and options).
   * Returns this step's spikes and the synapse currents `s_k·S_k` of the terms (new tensors owned by
   * the caller).
   * @internal
   */
  forwardDrive(terms: readonly DriveTerm[], plan: DrivePlan, options: NeuronStepOptions = {}): { spike: tf.Tensor; synapse: tf.Tensor[] } {
    const { refracLock, adapt } = this.stepOptions(options);
    const spec = this.fusedSpec();
    if (!spec) throw new CinderArgumentError('terms', 'a drive', `a neuron model with a fused step (${this.constructor.name} has none; check planDrive first)`);
    return tf.tidy(() => {
      const r = neuronStepWebgpu(spec, { voltage: this.voltageState.value, refrac: this.refracState.value, current: null, drive: { terms, plan } }, { refracLock, adapt });
      this.assignFused(r);
      return { spike: r.spike, synapse: r.synapse! };
    });
  }

  /**
   * The constants of the fused step kernel (`src/kernels/js/fused-neuron.ts`, wasm/cpu) when this
   * group's step is exactly the one it computes (linear membrane, plain reset, optional adaptive
   * threshold), else null (the default: the op path). With `conductance` (the membrane's constants)
   * the wasm/cpu kernel and the webgpu step program also take conductance input; without,
   * conductance input keeps the op path.
   */
  protected fusedSpec(): FusedNeuronSpec | null {
    return null;
  }

  /**
   * The fused-step spec of an exactly integrated membrane: the membrane's constants `terms`
   * (`LinearMembrane.fusedTerms`), the threshold `thresh` (Θ, or Θ∞ for adaptive models), reset to
   * `resetV` (V_rest when unset), this group's dt and, as the kernels' `refracT`, the r a spike sets
   * ({@link refracStart}: with `refracCount: 'steps'` the same kernels count whole steps); no
   * adaptation (an adaptive model adds it). Used by the models' {@link fusedSpec}.
   */
  protected linearFusedSpec(terms: Pick<FusedNeuronSpec, 'decay' | 'restTerm' | 'gain' | 'conductance'>, thresh: number): FusedNeuronSpec {
    return { ...terms, thresh, reset: this.resetV ?? this.restV, dt: this.dt, refracT: this.refracStart };
  }

  /** True when `reset`, `inputCurrent` (and, with `withAdapt`, `adapt`) are this base class's own. */
  protected keepsBaseStep(withAdapt: boolean): boolean {
    const P = NeuronGroup.prototype;
    return this.reset === P.reset && this.inputCurrent === P.inputCurrent && (!withAdapt || this.adapt === P.adapt);
  }

  /** The receptors given a conductance this step, with their reversal potentials (in receptor order). */
  private receptorInputs(conductances: readonly (tf.Tensor | undefined)[] | undefined): FusedConductance[] {
    const out: FusedConductance[] = [];
    conductances?.forEach((g, r) => {
      if (g) out.push({ g, reversal: this.receptors[r]!.reversal });
    });
    return out;
  }

  /**
   * The same step as {@link forward}'s op path, as one fused kernel (wasm/cpu) or WGSL step program
   * (webgpu; the caller checked that its bindings fit).
   */
  private forwardFused(spec: FusedNeuronSpec, current: tf.Tensor | null, conductances: FusedConductance[], refracLock: boolean, adapt: boolean): tf.Tensor {
    return tf.tidy(() => {
      const state = { voltage: this.voltageState.value, refrac: this.refracState.value, current };
      // wasm/cpu kernel, or WGSL programs on webgpu
      const r = fusedBackend() ? fusedNeuronStep(spec, { ...state, conductances }, { refracLock, adapt }) : neuronStepWebgpu(spec, { ...state, conductances }, { refracLock, adapt });
      this.assignFused(r);
      return r.spike;
    });
  }

  /** Takes a fused step's new states. */
  private assignFused(r: { voltage: tf.Tensor; refrac: tf.Tensor; spike: tf.Tensor; theta: tf.Tensor | null }): void {
    if (this.refracStart > 0) this.refracState.assign(r.refrac);
    this.voltageState.assign(r.voltage);
    this.spikeState.assign(r.spike);
    if (r.theta) this.fusedAdaptationState!.assign(r.theta);
  }

  /** True when the states and `current` are float32 (what the WGSL step programs read). */
  private floatStates(current: tf.Tensor | undefined): boolean {
    const ts = [this.voltageState.value, this.refracState.value, current, this.fusedAdaptationState?.value];
    return ts.every((t) => t === undefined || t.dtype === 'float32');
  }

  /** The adaptation state the fused kernel updates (set by groups with an adaptive threshold). */
  protected fusedAdaptationState: State | null = null;

  /**
   * Resets voltage to rest and refractory time and spikes to 0. Adaptation state (adaptive
   * models) is kept unless `keepAdaptations` is false.
   */
  override clear(options: NeuronClearOptions = {}): void {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('clear options', options, 'an object {keepAdaptations?}');
    for (const [k, v] of Object.entries(options)) {
      if (k !== 'keepAdaptations') throw new CinderArgumentError('clear options key', k, '"keepAdaptations"');
      if (v !== undefined && typeof v !== 'boolean') throw new CinderArgumentError('clear options.keepAdaptations', v, 'a boolean');
    }
    const keep = options.keepAdaptations ?? true;
    for (const [, s] of this.namedStates()) {
      if (!keep || !this.adaptationStates.includes(s)) s.reset();
    }
  }

  /**
   * Settings saved with the module and checked on load. `refracCount` is written only when it is
   * `'steps'`: files of `'time'` groups (the default) are unchanged, and a file loads only into a
   * group that counts its refractory period the same way.
   */
  override extras(): Record<string, unknown> {
    return {
      shape: [...this.shape],
      dt: this.dt,
      batchSize: this.batchSize,
      restV: this.restV,
      resetV: this.resetV ?? null,
      refracT: this.refracT,
      ...(this.refracCount === 'steps' ? { refracCount: this.refracCount } : {}),
      receptors: this.receptors.map((r) => ({ ...r })),
    };
  }

  /** Frees the state and the constant tensors. */
  override dispose(): void {
    super.dispose();
    for (const t of this.fullCache.values()) t.dispose();
    this.fullCache.clear();
  }

  /** Drops the cached `[B, ...shape]` fills of the old batch size. */
  protected override batchSizeChanged(): void {
    for (const t of this.fullCache.values()) t.dispose();
    this.fullCache.clear();
  }

  /**
   * The membrane update for one step, without thresholding: returns the new voltage given the
   * old one, the (masked) injected current `i` (`null` = none) and the conductance drive
   * (`null` = none). Must only combine tensors (called inside the step's `tf.tidy`).
   */
  protected abstract integrate(v: tf.Tensor, i: tf.Tensor | null, drive: ConductanceDrive | null): tf.Tensor;

  /** The firing threshold Θ for this step (a scalar or a tensor broadcastable to `[B, ...shape]`). */
  protected abstract threshold(): tf.Tensor;

  /** Voltage after the step: `vNew` where not fired, the reset value where fired. Default: `resetV`. */
  protected reset(vNew: tf.Tensor, fired: tf.Tensor): tf.Tensor {
    return select(fired, this.full(this.resetV ?? this.restV), vNew);
  }

  /** The current entering the membrane equation (adaptive-current models subtract Σ w_k). */
  protected inputCurrent(current: tf.Tensor | undefined): tf.Tensor | null {
    return current ?? null;
  }

  /** Adaptation update after thresholding (no-op for non-adaptive models). */
  protected adapt(step: StepResult): void {
    void step;
  }

  /** Total current I + Σ_r g_r (E_r − V) for the Euler-integrated (nonlinear) models. */
  protected totalCurrent(v: tf.Tensor, i: tf.Tensor | null, drive: ConductanceDrive | null): tf.Tensor | null {
    if (!drive) return i;
    const syn = tf.sub(drive.gE, tf.mul(v, drive.gSum));
    return i ? tf.add(i, syn) : syn;
  }

  /** A cached tensor `[B, ...shape]` filled with `value` (re-created when the batch size changes). */
  protected full(value: number): tf.Tensor {
    let t = this.fullCache.get(value);
    if (!t) {
      t = tf.keep(tf.fill(this.batchedShape, value));
      this.fullCache.set(value, t);
    }
    return t;
  }

  /**
   * Registers an adaptation state of `k` terms: `[...shape, k]` shared over the batch, or
   * `[B, ...shape, k]` per sample when `reduction` is `'none'`. Kept by `clear()` by default.
   */
  protected addAdaptationState(name: string, k: number, reduction: BatchReduction): State {
    const s =
      reduction === 'none'
        ? this.addBatchedState(name, () => tf.zeros([...this.batchedShape, k]))
        : this.addState(name, () => tf.zeros([...this.shape, k]));
    this.adaptationStates.push(s);
    return s;
  }

  /**
   * Adaptation update shared by the adaptive models. `next` holds this step's passive update
   * (decay, voltage coupling) for free neurons, per sample `[B, ...shape, K]` or broadcastable;
   * refractory neurons (when `step.refrac` is given) keep `prev`; `increment·spike` is added.
   * Reduction over the batch: `'mean'` and `'max'` reduce the updated values (as Inferno);
   * `'sum'` averages the passive part and sums the spike increments (Inferno sums the whole
   * updated values, which multiplies the state by B every step); `'none'` keeps every sample.
   */
  protected updateAdaptation(
    state: State,
    prev: tf.Tensor,
    next: tf.Tensor,
    increment: tf.Tensor,
    step: StepResult,
    reduction: BatchReduction,
  ): void {
    let passive = next;
    if (step.refrac) {
      const hold = tf.expandDims(tf.greater(step.refrac, this.kZero), -1);
      passive = tf.where(hold, prev, next);
    }
    const added = tf.mul(tf.expandDims(step.spike, -1), increment);
    if (reduction === 'sum') {
      const p = passive.rank > prev.rank ? tf.mean(passive, 0) : passive;
      state.assign(tf.add(p, tf.sum(added, 0)));
    } else {
      state.assign(reduceBatch(tf.add(passive, added), reduction));
    }
  }

  private conductanceDrive(
    conductances: readonly (tf.Tensor | undefined)[],
    mask: (t: tf.Tensor) => tf.Tensor,
  ): ConductanceDrive | null {
    let gSum: tf.Tensor | null = null;
    let gE: tf.Tensor | null = null;
    conductances.forEach((g, r) => {
      if (!g) return;
      const gm = mask(g);
      const ge = tf.mul(gm, this.kReversal[r]!);
      gSum = gSum ? tf.add(gSum, gm) : gm;
      gE = gE ? tf.add(gE, ge) : ge;
    });
    return gSum && gE ? { gSum, gE } : null;
  }
}
