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
import { CinderArgumentError, checkDt, checkInteger, checkPositive, checkShape } from '../../core/errors.js';
import type { SynapseKind } from '../synapses/exponential.js';
import { Connection } from './connection.js';

/** Options of a postsynaptic filter ({@link postFiltered}, {@link PostsynapticFilter}). */
export interface PostFilterOptions {
  /** Decay time constant τ of the filtered current or conductance (ms, > 0). */
  tau: number;
}

/** Validates {@link PostFilterOptions} and returns τ. */
function checkFilterOptions(options: PostFilterOptions): number {
  if (options === null || typeof options !== 'object') throw new CinderArgumentError('filter', options, '{ tau } (a postsynaptic filter)');
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
 * up to 400 jumps), so the filtered value would no longer be the one documented above. The state `value` `[B, ...shape]` starts at zero, is reset by `clear()`, re-created as
 * zeros by a batch-size change, and saved with its module.
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
    const tau = checkFilterOptions(options);
    super(checkInteger('batchSize', batchSize, 1));
    this.shape = Object.freeze([...s]);
    this.dt = d;
    this.tau = tau;
    this.kind = kind;
    this.decay = this.constant(Math.exp(-d / tau));
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
    const x = tf.add(tf.mul(this.state.value, this.decay), this.gain ? tf.mul(input, this.gain) : input);
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
  // abstract for the type checker only (Connection's abstract members are Base's at run time)
  abstract class Filtered extends Base implements PostFiltered {
    readonly postFilter: PostsynapticFilter;

    constructor(...args: any[]) {
      const filter = args[0] as PostFilterOptions;
      checkFilterOptions(filter);
      super(...args.slice(1));
      try {
        if (this.biasParameter !== null) throw new CinderArgumentError('bias', true, 'false (a post-filtered connection has no bias)');
        this.postFilter = this.addModule('postFilter', new PostsynapticFilter(this.outShape, this.dt, this.synapse.kind, filter, this.batchSize));
      } catch (err) {
        this.dispose();
        throw err;
      }
      this.initialise();
    }

    get filtered(): tf.Tensor {
      return this.postFilter.value;
    }

    override forward(spikes: tf.Tensor, injected?: tf.Tensor): tf.Tensor {
      const base: Connection = Base.prototype; // `super.forward`, which TypeScript refuses on an abstract member
      return this.postFilter.step(base.forward.call(this, spikes, injected));
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
  made.set(Base, Filtered);
  return Filtered as unknown as PostFilteredClass<C>;
}
