/**
 * Postsynaptic filtering: an exponential filter after a connection's weights, so each spike's jump
 * keeps the weight it arrived with (Brian2's `on_pre: g += w`, NEST's `iaf_cond_exp` and
 * `iaf_psc_exp`), for any connection type.
 *
 * Cinder's default form (Inferno's) filters each presynaptic input in the synapse and weights the
 * filtered values: `g_a ← g_a·e^{−Δt/τ} + s_a`, `g = Σ_a w_a·g_a`. {@link postFiltered} gives the
 * other form: a memoryless synapse, the weights, then one filter per postsynaptic unit,
 * `g ← g·e^{−Δt/τ} + Σ_a w_a·s_a`. With fixed weights both forms are the same; when the weights
 * change (plasticity), the first rescales the conductance already in flight, the second does not.
 * @module
 */
import { tf } from '../../core/tf.js';
import { BatchedModule } from '../../core/batched-module.js';
import type { State } from '../../core/state.js';
import { CinderArgumentError, checkDt, checkInteger, checkOptionKeys, checkPositive, checkShape, optionKeys } from '../../core/errors.js';
import type { SynapseKind } from '../synapses/exponential.js';
import { Connection } from './connection.js';
import { registerFilteredClass } from './option-class.js';
import { isCheckedStepClass, markCheckedStep } from '../../core/checked-step.js';
import { SparseLinear } from './sparse-linear.js';
import { fusedBackend } from '../../kernels/js/fused-memory.js';
import { fusedFilter } from '../../kernels/js/fused-filter.js';
import type { SparseListFilter } from '../../kernels/js/fused-sparse-list.js';

/** Options of a postsynaptic filter ({@link postFiltered}, {@link PostsynapticFilter}). */
export interface PostFilterOptions {
  /** Decay time constant τ of the filtered current or conductance (ms, > 0). */
  tau: number;
}

/** The keys of {@link PostFilterOptions}: other keys are refused ("invalid filter key"). */
export const POST_FILTER_OPTION_KEYS = optionKeys<PostFilterOptions>()(['tau']);

/** Validates {@link PostFilterOptions} (and its keys unless `keys` is false: a user subclass may add some) and returns τ. */
function checkFilterOptions(options: PostFilterOptions, keys = true): number {
  if (options === null || typeof options !== 'object') throw new CinderArgumentError('filter', options, '{ tau } (a postsynaptic filter)');
  if (keys) checkOptionKeys('filter', options, POST_FILTER_OPTION_KEYS);
  return checkPositive('tau', options.tau);
}

/**
 * One exponential filter per postsynaptic unit, `x ← x·e^{−Δt/τ} + c·y`, where `y` is what arrived
 * this step (a connection's output `[B, ...shape]`) and
 * - `kind: 'conductance'`: c = 1, y the conductance jumps (e.g. `Σ_a w_a·Δg·s_a` through a
 *   {@link DeltaConductance}); x is the conductance, `Δg·w·e^{−kΔt/τ}` k steps after a spike;
 * - `kind: 'current'`: c = Δt/τ, y a current that delivers its charge within the step (e.g.
 *   `Σ_a w_a·s_a·Q/Δt` through a {@link DeltaCurrent}); x jumps by `w·Q/τ` at a spike, the
 *   convention of {@link SingleExponentialCurrent} (NEST's `iaf_psc_exp` jump of w: Q = τ).
 *
 * float32: `e^{−Δt/τ}` and Δt/τ are rounded to float32 once; a step is one product and one sum per
 * unit (conductance: `fround(fround(x·d) + y)`, the current's one more product `fround(y·c)`
 * first). Behind a {@link DeltaCurrent} the current's two scalings (Q/Δt in the synapse, before
 * the weights; Δt/τ here, after them) are not folded into one constant: moving Q/Δt past the
 * weighted sum changes its rounding (e.g. CUBA's w = 1.62, τ = 5, Δt = 0.1: up to 34 ulp for sums of
 * up to 400 jumps), so the filtered value would no longer be the one documented above.
 *
 * Kernels: the ops `tf.add(tf.mul(x, d), y)` (a current: `tf.mul(y, c)` for y) on every backend,
 * except (fused kernels on) on cpu, where a step is one kernel, `CinderFusedFilter`
 * (`fusedFilter`; on wasm the two ops, SIMD, are faster than a JavaScript loop: ≈ 6 µs against
 * ≈ 13 µs for 4000 units), and behind `SparseLinear`'s event-driven kernel on wasm and cpu, which
 * takes the step itself ({@link PostsynapticFilter.foldTerms}: no kernel of its own). Every form is bit-identical to
 * the ops: each float32 product and sum is rounded as the op rounds it, NaN, ±Infinity and −0 included.
 *
 * The state `value` `[B, ...shape]` starts at zero, is reset by `clear()`, re-created as zeros by a
 * batch-size change, and saved with its module.
 */
export class PostsynapticFilter extends BatchedModule {
  /** Filtered shape (no batch): the connection's `outShape`. */
  readonly shape: readonly number[];
  /** Step length (ms). */
  readonly dt: number;
  /** Decay time constant τ (ms). */
  readonly tau: number;
  /** What is filtered: a current (input scaled by Δt/τ) or a conductance (input added as is). */
  readonly kind: SynapseKind;
  private readonly decay: tf.Tensor;
  private readonly gain: tf.Tensor | null;
  private readonly decayValue: number; // e^{−Δt/τ}, float64 (rounded to float32 by the kernel, as in `decay`)
  private readonly state: State;

  /**
   * @param shape filtered shape (no batch)
   * @param dt step length (ms)
   * @param kind current or conductance
   * @param options τ
   * @param batchSize batch size (default 1)
   */
  constructor(shape: readonly number[], dt: number, kind: SynapseKind, options: PostFilterOptions, batchSize = 1) {
    const s = checkShape('shape', shape);
    const d = checkDt(dt);
    if (kind !== 'current' && kind !== 'conductance') throw new CinderArgumentError('kind', kind, "'current' or 'conductance'");
    const tau = checkFilterOptions(options, new.target === PostsynapticFilter);
    super(checkInteger('batchSize', batchSize, 1));
    this.shape = Object.freeze([...s]);
    this.dt = d;
    this.tau = tau;
    this.kind = kind;
    this.decayValue = Math.exp(-d / tau);
    this.decay = this.constant(this.decayValue);
    this.gain = kind === 'current' ? this.constant(d / tau) : null;
    this.state = this.addBatchedState('value', () => tf.zeros([this.batchSize, ...this.shape], 'float32'));
  }

  /** The filtered value after the last step `[B, ...shape]` (owned by the filter). */
  get value(): tf.Tensor {
    return this.state.value;
  }

  /**
   * One step: `x ← x·e^{−Δt/τ} + c·y` with this step's input `y` `[B, ...shape]`; returns the new
   * x (a new tensor; the state shares its data; call inside tf.tidy).
   */
  step(y: tf.Tensor): tf.Tensor {
    const want = [this.batchSize, ...this.shape];
    if (!(y instanceof tf.Tensor) || y.shape.length !== want.length || y.shape.some((n, i) => n !== want[i])) {
      throw new CinderArgumentError('y', y, `shape [${want.join(', ')}]`);
    }
    const input = y.dtype === 'float32' ? y : tf.cast(y, 'float32');
    const prev = this.state.value;
    const x =
      fusedBackend() === 'cpu' && prev.dtype === 'float32'
        ? fusedFilter(prev, input, this.decayValue, this.kind === 'current' ? this.dt / this.tau : undefined)
        : tf.add(tf.mul(prev, this.decay), this.gain ? tf.mul(input, this.gain) : input);
    this.state.assign(x);
    return x;
  }

  /**
   * The terms of this step for a kernel that takes the filter step itself (`SparseLinear`'s
   * event-driven kernel, {@link SparseListFilter}): the state, e^{−Δt/τ} and (a current) Δt/τ; null
   * where the ops run (fused kernels off, another backend). The kernel's result, `x·d + c·y` rounded
   * as {@link step} rounds it, is then handed to {@link assignFolded}.
   */
  foldTerms(): SparseListFilter | null {
    const prev = this.state.value;
    if (!fusedBackend() || prev.dtype !== 'float32') return null;
    return this.kind === 'current' ? { prev, decay: this.decayValue, gain: this.dt / this.tau } : { prev, decay: this.decayValue };
  }

  /**
   * Takes `x` `[B, ...shape]`, this step's filtered value computed by a kernel from {@link foldTerms},
   * as the new state; returns it (the state shares its data).
   */
  assignFolded(x: tf.Tensor): tf.Tensor {
    const want = [this.batchSize, ...this.shape];
    if (!(x instanceof tf.Tensor) || x.dtype !== 'float32' || x.shape.length !== want.length || x.shape.some((n, i) => n !== want[i])) {
      throw new CinderArgumentError('x', x, `a float32 tensor of shape [${want.join(', ')}]`);
    }
    this.state.assign(x);
    return x;
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return { shape: [...this.shape], dt: this.dt, tau: this.tau, kind: this.kind, batchSize: this.batchSize };
  }
}

/** Members {@link postFiltered} adds to a connection. */
export interface PostFiltered {
  /** The filter after the weights (child module `postFilter`; its state `value` is `[B, ...outShape]`). */
  readonly postFilter: PostsynapticFilter;
  /** The filtered current or conductance after the last step `[B, ...outShape]` (owned by the connection). */
  readonly filtered: tf.Tensor;
}

/** A concrete connection class (any constructor signature). */
export type ConnectionClass = new (...args: any[]) => Connection;

/** The class {@link postFiltered} returns: the filter's options, then the base class's arguments. */
export type PostFilteredClass<C extends ConnectionClass> = new (filter: PostFilterOptions, ...args: ConstructorParameters<C>) => InstanceType<C> & PostFiltered;

const made = new WeakMap<ConnectionClass, ConnectionClass>();

/**
 * The connection class `Base` with a {@link PostsynapticFilter} after its weights:
 * `new (postFiltered(LinearDense))({ tau: 5 }, [N], [1], dt, { synapse: DeltaConductance.factory() })`.
 * Works with every connection (LinearDense, MaskedLinear, LinearLateral, LinearDirect, SparseLinear,
 * Conv2D, and subclasses); one class per `Base` (a second call returns the same class).
 *
 * Per step, `y` = the base connection's output for this step's spikes (its synapse, then its
 * weights, so `y_j = Σ_a w_ja·Δg·s_a` with a {@link DeltaConductance}), then per postsynaptic unit
 * `x ← x·e^{−Δt/τ} + c·y` ({@link PostsynapticFilter}; c = 1 for a conductance, Δt/τ for a
 * current), and the connection returns x. The filter's kind is the synapse's, so a layer wires the
 * result as it wires the synapse (a conductance to a receptor). With a memoryless synapse
 * ({@link DeltaConductance}, {@link DeltaCurrent}) this is the Brian2/NEST form: each jump keeps
 * the weight it arrived with, and a later weight change leaves it alone. A synapse with kinetics
 * is allowed (its output is filtered once more).
 *
 * Delays (`maxDelay > 0`): a spike reaches the filter when its delay has passed, weighted by the
 * weight at that step (Brian2's `on_pre` with a delay); NEST's form, the weight at sending time,
 * is not provided. Trainers are unaffected: they read the presynaptic spikes (`synspike`), not
 * the synapse's output. Refused: `bias` (a bias would be filtered too). On webgpu the layer's fused
 * step is not taken (it requires the connection's own `forward`).
 *
 * State: the filter's `value` (saved as `postFilter.value`), reset by `clear()`, re-created as zeros
 * when the batch size changes.
 */
export function postFiltered<C extends ConnectionClass>(Base: C): PostFilteredClass<C> {
  if (typeof Base !== 'function' || !(Base.prototype instanceof Connection)) throw new CinderArgumentError('Base', Base, 'a Connection class (e.g. LinearDense)');
  const cached = made.get(Base);
  if (cached) return cached as unknown as PostFilteredClass<C>;
  // The kernel may take the filter step only where its output is the connection's output: a
  // subclass of SparseLinear with its own `forward` (e.g. one scaling `super.forward`'s result)
  // would otherwise transform the filtered value, not this step's input to the filter.
  const foldable = (Base.prototype as Connection).forward === SparseLinear.prototype.forward;
  // abstract for the type checker only (Connection's abstract members are Base's at run time)
  abstract class Filtered extends Base implements PostFiltered {
    readonly postFilter: PostsynapticFilter;

    constructor(...args: any[]) {
      const filter = args[0] as PostFilterOptions;
      checkFilterOptions(filter, new.target === Filtered);
      super(...args.slice(1));
      try {
        if (this.biasParameter !== null) throw new CinderArgumentError('bias', true, 'false (a post-filtered connection has no bias)');
        this.postFilter = this.addModule('postFilter', new PostsynapticFilter(this.outShape, this.dt, this.synapse.kind, { tau: filter.tau }, this.batchSize));
      } catch (err) {
        this.dispose();
        throw err;
      }
      this.initialise();
    }

    get filtered(): tf.Tensor {
      return this.postFilter.value;
    }

    /** Whether the base's kernel took this step's filter terms ({@link eventFilter}). */
    private folded = false;

    /**
     * `SparseLinear`'s hook (ignored by other bases): on its event-driven path the kernel takes the
     * filter step itself, bit-identical to {@link PostsynapticFilter.step} after the plain kernel;
     * not where `Base` replaced SparseLinear's `forward` (its result then goes through the filter op).
     */
    protected eventFilter(): SparseListFilter | null {
      const terms = foldable ? this.postFilter.foldTerms() : null;
      this.folded = terms !== null;
      return terms;
    }

    override forward(spikes: tf.Tensor, injected?: tf.Tensor): tf.Tensor {
      const base: Connection = Base.prototype; // `super.forward`, which TypeScript refuses on an abstract member
      this.folded = false;
      const y = base.forward.call(this, spikes, injected);
      if (!this.folded) return this.postFilter.step(y);
      this.folded = false;
      return this.postFilter.assignFolded(y);
    }

    override get batchSize(): number {
      return super.batchSize;
    }

    override set batchSize(value: number) {
      this.postFilter?.checkBatchSize(value);
      super.batchSize = value;
      if (this.postFilter) this.postFilter.batchSize = value;
    }

    override checkBatchSize(value: number): void {
      super.checkBatchSize(value);
      this.postFilter?.checkBatchSize(value);
    }
  }
  Object.defineProperty(Filtered, 'name', { value: `PostFiltered${Base.name}` });
  // the filter checks its input before it changes state: the class steps as safely as its base
  if (isCheckedStepClass(Base)) markCheckedStep(Filtered);
  made.set(Base, Filtered);
  registerFilteredClass(Filtered, Base);
  return Filtered as unknown as PostFilteredClass<C>;
}
