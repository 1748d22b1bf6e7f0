/**
 * The shared base of Cinder's spiking neuron models: shape and batch bookkeeping, the
 * voltage / refractory / spike state, conductance input, and the thresholding step with its
 * absolute refractory period. A concrete model supplies only its membrane update
 * ({@link NeuronGroup.integrate}), its threshold and, if adaptive, its adaptation update.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { State } from '../../core/state.js';
import { CinderArgumentError, checkElements, checkInteger, checkNonNegative, checkShape, numel, optionKeys } from '../../core/errors.js';
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

/** Options every neuron model accepts. */
export interface NeuronGroupOptions {
  /** Batch size B (default 1). */
  batchSize?: number;
  /** Receptors for conductance input, in the order of `NeuronInput.conductances` (default none). */
  receptors?: readonly Receptor[];
}

/** The keys of {@link NeuronGroupOptions} (the option names every neuron model accepts). */
export const NEURON_GROUP_OPTION_KEYS = optionKeys<NeuronGroupOptions>()(['batchSize', 'receptors']);

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
 * 4. spiking neurons get `r = refracT` and their voltage reset ({@link NeuronGroup.reset});
 * 5. adaptive models update their adaptation ({@link NeuronGroup.adapt}).
 *
 * Hence a neuron that fires at step n is refractory (cannot fire, voltage held) during steps
 * n+1 … n+k−1 and may fire again at step n+k at the earliest, with k = ⌈refracT/dt⌉ (k ≤ 1
 * means no lock-out). The remaining time is counted down in float32, as in Inferno; use a
 * `refracT` that is a whole multiple of an exactly representable `dt` for exact step counts.
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
    const restV = checkFloat32('restV', settings.restV);
    const resetV = settings.resetV === undefined ? undefined : checkFloat32('resetV', settings.resetV);
    const batch = checkInteger('batchSize', settings.batchSize ?? 1, 1);
    checkElements('batchSize', batch * numel(checkedShape), `a state of shape [${batch}, ${checkedShape.join(', ')}]`);
    const receptors = checkReceptors(settings.receptors ?? []);
    super(checkedShape, checkedDt, batch, restV);
    this.refracT = refracT;
    this.restV = restV;
    this.resetV = resetV;
    this.receptors = receptors;
    this.kDt = this.constant(this.dt);
    this.kZero = this.constant(0);
    this.kReversal = this.receptors.map((r) => this.constant(r.reversal));
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
      const refractory = this.refracT > 0;
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
        refrac = select(fired, this.full(this.refracT), tf.relu(tf.sub(refracOld, this.kDt)));
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
   * `resetV` (V_rest when unset), this group's dt and refractory period; no adaptation (an adaptive
   * model adds it). Used by the models' {@link fusedSpec}.
   */
  protected linearFusedSpec(terms: Pick<FusedNeuronSpec, 'decay' | 'restTerm' | 'gain' | 'conductance'>, thresh: number): FusedNeuronSpec {
    return { ...terms, thresh, reset: this.resetV ?? this.restV, dt: this.dt, refracT: this.refracT };
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
    if (this.refracT > 0) this.refracState.assign(r.refrac);
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

  /** Settings saved with the module and checked on load. */
  override extras(): Record<string, unknown> {
    return {
      shape: [...this.shape],
      dt: this.dt,
      batchSize: this.batchSize,
      restV: this.restV,
      resetV: this.resetV ?? null,
      refracT: this.refracT,
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
