/**
 * The base of every connection: owns a synapse (built from a user-supplied factory), the
 * `weight`, optional `bias` and optional per-edge `delay` parameters, and an {@link Updater}.
 *
 * Derived tensors (transposed or delay-stacked weights, masks) are cached and rebuilt whenever a
 * parameter changes: through the typed setters, through `update()`, or through any direct
 * `assign` to the parameter's variable (e.g. by an optimizer) — the latter is detected on the
 * next access by comparing the variable's data identity, which costs no tensor operation.
 * @module
 */
import { tf } from '../../core/tf.js';
import { Module } from '../../core/module.js';
import type { Parameter } from '../../core/state.js';
import { CinderArgumentError, checkDt, checkElements, checkInteger, checkNonNegative, checkOneOf, checkShape, numel, optionKeys } from '../../core/errors.js';
import { Rng } from '../../core/random.js';
import type { ParameterName, PresynapticForm, Receptive, Synapse, SynapseFactory } from '../types.js';
import { Updater } from '../updater.js';
import { DeltaCurrent } from '../synapses/delta.js';
import { constantInit, uniformInit, type Initializer } from './initializers.js';

/** Options shared by all connections. */
export interface ConnectionOptions {
  /** Builds the synapse (default `DeltaCurrent.factory()`, charge 1). */
  synapse?: SynapseFactory;
  /** Whether to add a learnable bias (default false). */
  bias?: boolean;
  /** Largest transmission delay (ms, ≥ 0, a whole number of steps; default 0 = no delays). */
  maxDelay?: number;
  /** Batch size (default 1). */
  batchSize?: number;
  /** Initial weights (default uniform in [0, 1) from `rng`). */
  weightInit?: Initializer;
  /** Initial bias (default 0). */
  biasInit?: Initializer;
  /** Initial delays in ms (default 0); finite values are clamped to [0, maxDelay], NaN and ±∞ are refused. */
  delayInit?: Initializer;
  /**
   * How a delay between two whole steps picks its step: `'previous'` (default, Inferno's synapse default
   * `interp_mode="previous"`) takes the older observation, ⌈d/Δt⌉ steps ago; `'nearest'` (Inferno's
   * `interp_nearest`) takes ⌊d/Δt⌋ when the fractional part is < ½ and ⌈d/Δt⌉ otherwise (ties go
   * to the longer delay).
   */
  delayInterp?: DelayInterp;
  /**
   * A delay within this many ms of a whole step k·Δt is read as exactly k steps (|Δt·round(d/Δt) − d|
   * ≤ tolerance, in float32; Inferno's `interp_tol`). Default `1e-3·Δt`: k·Δt written in float32
   * (e.g. 0.09 ms at Δt = 0.01, whose quotient is 9.000001) stays k steps. `0` is Inferno's synapse
   * default and reproduces it bit for bit, float32 noise included.
   */
  delayTolerance?: number;
  /** Random source of the default weight initialiser (default `new Rng(0)`). */
  rng?: Rng;
}

/** The keys of {@link ConnectionOptions} (the option names every connection accepts). */
export const CONNECTION_OPTION_KEYS = optionKeys<ConnectionOptions>()([
  'synapse',
  'bias',
  'maxDelay',
  'batchSize',
  'weightInit',
  'biasInit',
  'delayInit',
  'delayInterp',
  'delayTolerance',
  'rng',
]);

/** How a delay between two whole steps is read (see {@link ConnectionOptions.delayInterp}). */
export type DelayInterp = 'previous' | 'nearest';

/** Shapes a concrete connection hands to {@link Connection}'s constructor. */
export interface ConnectionShapes {
  /** Presynaptic shape (no batch); also the synapse's shape. */
  inShape: readonly number[];
  /** Postsynaptic shape (no batch). */
  outShape: readonly number[];
  /** Shape of `weight` (and of `delay`). */
  weightShape: readonly number[];
  /** Shape of `bias`. */
  biasShape: readonly number[];
}

/** Number of whole steps in `maxDelay` (throws unless it is ≥ 0 and a multiple of `dt`). */
export function delayStepsOf(maxDelay: number, dt: number): number {
  checkNonNegative('maxDelay', maxDelay);
  const steps = maxDelay / dt;
  const rounded = Math.round(steps);
  if (Math.abs(steps - rounded) > 1e-9 * Math.max(1, steps)) {
    throw new CinderArgumentError('maxDelay', maxDelay, `a whole number of steps (a multiple of dt = ${dt} ms)`);
  }
  return rounded;
}

/**
 * Abstract connection. Subclasses implement `forward` (synapse, then the linear map, plus bias),
 * the receptive reshapes, and (when they support delays) the per-edge delay selection.
 */
export abstract class Connection extends Module implements Receptive {
  /** Presynaptic shape (no batch). */
  readonly inShape: readonly number[];
  /** Postsynaptic shape (no batch). */
  readonly outShape: readonly number[];
  /** Step length (ms). */
  readonly dt: number;
  /** Largest delay (ms). */
  readonly maxDelay: number;
  /** Largest delay in steps (history kept by the synapse). */
  readonly delaySteps: number;
  /** How fractional delays pick their step ({@link ConnectionOptions.delayInterp}). */
  readonly delayInterp: DelayInterp;
  /** Tolerance (ms) within which a delay is a whole number of steps ({@link ConnectionOptions.delayTolerance}). */
  readonly delayTolerance: number;
  /** The synapse turning presynaptic spikes into currents/conductances. */
  readonly synapse: Synapse;
  /** Pending learning updates; applied by {@link update}. */
  readonly updater: Updater;

  private readonly weightP: Parameter;
  private readonly biasP: Parameter | null;
  private readonly delayP: Parameter | null;
  private batch: number;
  private readonly seen = new Map<ParameterName, object>();

  /**
   * @param shapes shapes decided by the subclass
   * @param dt step length (ms)
   * @param options shared options
   */
  protected constructor(shapes: ConnectionShapes, dt: number, options: ConnectionOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an options object');
    this.inShape = Object.freeze(checkShape('inShape', shapes.inShape));
    this.outShape = Object.freeze(checkShape('outShape', shapes.outShape));
    this.dt = checkDt(dt);
    this.maxDelay = options.maxDelay ?? 0;
    this.delaySteps = delayStepsOf(this.maxDelay, this.dt);
    this.delayInterp = checkOneOf('delayInterp', options.delayInterp ?? 'previous', ['previous', 'nearest'] as const);
    this.delayTolerance = checkNonNegative('delayTolerance', options.delayTolerance ?? 1e-3 * this.dt);
    this.batch = checkInteger('batchSize', options.batchSize ?? 1, 1);
    if (options.bias !== undefined && typeof options.bias !== 'boolean') throw new CinderArgumentError('bias', options.bias, 'a boolean (whether to add a learnable bias)');
    const wCount = numel(shapes.weightShape);
    checkElements('weight', wCount, `a weight of shape [${shapes.weightShape.join(', ')}]`);
    if (this.delaySteps > 0) checkElements('maxDelay', wCount * (this.delaySteps + 1), `the per-edge delay selection of ${this.delaySteps + 1} slots`);
    checkElements('batchSize', this.batch * numel(this.inShape) * (this.delaySteps + 1), `the synapse's spike history (batch × inShape × ${this.delaySteps + 1} slots)`);
    const factory = options.synapse ?? DeltaCurrent.factory();
    if (typeof factory !== 'function') throw new CinderArgumentError('synapse', factory, 'a SynapseFactory (e.g. DeltaCurrent.factory())');
    let syn: ReturnType<typeof factory>;
    try {
      syn = factory({ shape: this.inShape, dt: this.dt, delaySteps: this.delaySteps, batchSize: this.batch });
    } catch (e) {
      if (e instanceof CinderArgumentError) throw e;
      throw new CinderArgumentError('synapse', 'a factory that threw ' + (e instanceof Error ? `${e.name}: ${e.message}` : String(e)), 'a SynapseFactory (e.g. DeltaCurrent.factory())');
    }
    const okShape = syn && typeof syn === 'object' && Array.isArray(syn.shape) && syn.shape.length === this.inShape.length && syn.shape.every((d, i) => d === this.inShape[i]);
    if (!okShape || syn.dt !== this.dt || syn.delaySteps !== this.delaySteps || syn.batchSize !== this.batch) {
      throw new CinderArgumentError('synapse', syn?.constructor?.name ?? syn, `a synapse built with the requested spec (shape [${this.inShape.join(', ')}], dt ${this.dt}, delaySteps ${this.delaySteps}, batch ${this.batch})`);
    }
    this.synapse = this.addModule('synapse', syn);
    try {
      this.weightP = this.addParameter('weight', initial('weightInit', options.weightInit ?? uniformInit(options.rng ?? new Rng(0), 0, 1), shapes.weightShape));
      this.biasP = options.bias ? this.addParameter('bias', initial('biasInit', options.biasInit ?? constantInit(0), shapes.biasShape)) : null;
      if (this.delaySteps > 0) {
        this.delayP = this.addParameter('delay', finiteDelays(initial('delayInit', options.delayInit ?? constantInit(0), shapes.weightShape)));
      } else {
        if (options.delayInit) throw new CinderArgumentError('delayInit', 'an initialiser', 'no delayInit unless maxDelay > 0');
        this.delayP = null;
      }
    } catch (err) {
      this.dispose(); // free the synapse and whatever was registered before the bad argument
      throw err;
    }
    this.updater = new Updater(
      { weight: this.weightP, bias: this.biasP ?? undefined, delay: this.delayP ?? undefined },
      (name) => this.afterChange(name),
      (name) => this.transformsOnChange(name),
    );
  }

  /**
   * Must be called at the end of every subclass constructor: runs the change handling once for
   * each parameter (masks, clamping, caches).
   */
  protected initialise(): void {
    this.afterChange('weight');
    if (this.biasP) this.afterChange('bias');
    if (this.delayP) this.afterChange('delay');
  }

  /** Batch size; setting it re-creates the synapse state. */
  get batchSize(): number {
    return this.batch;
  }

  /** Throws the error the `batchSize` setter would throw for `value`, changing nothing. */
  checkBatchSize(value: number): void {
    checkInteger('batchSize', value, 1);
    this.synapse.checkBatchSize?.(value);
  }

  /** Sets the batch size (re-creates the synapse state; a size the synapse refuses changes nothing). */
  set batchSize(value: number) {
    checkInteger('batchSize', value, 1);
    this.synapse.batchSize = value; // throws, before any change, when the history would be too large
    this.batch = value;
  }

  /** True when the connection has per-edge delays (`maxDelay > 0`). */
  get hasDelays(): boolean {
    return this.delayP !== null;
  }

  /** The weight (owned by the connection; do not dispose). */
  get weight(): tf.Tensor {
    this.refresh();
    return this.weightP.value;
  }

  /** Replaces the weight (same shape; the caller keeps ownership of `value`). */
  set weight(value: tf.Tensor) {
    this.setParam('weight', this.weightP, value);
  }

  /** The bias, or null when the connection has none. */
  get bias(): tf.Tensor | null {
    this.refresh();
    return this.biasP ? this.biasP.value : null;
  }

  /** Replaces the bias (same shape). */
  set bias(value: tf.Tensor | null) {
    if (!this.biasP) throw new CinderArgumentError('bias', value, 'no assignment (this connection was built with bias: false)');
    this.setParam('bias', this.biasP, value as tf.Tensor);
  }

  /** Per-edge delays in ms (shape of the weight), or null without delays. */
  get delay(): tf.Tensor | null {
    this.refresh();
    return this.delayP ? this.delayP.value : null;
  }

  /** Replaces the delays (ms, same shape as the weight, each in [0, maxDelay]; values checked except on webgpu). */
  set delay(value: tf.Tensor | null) {
    if (!this.delayP) throw new CinderArgumentError('delay', value, 'no assignment (this connection was built without maxDelay)');
    if (value instanceof tf.Tensor && value.shape.length === this.delayP.shape.length) {
      const v = delayValues(value) ?? [];
      for (let i = 0; i < v.length; i++) {
        const d = v[i]!;
        if (!Number.isFinite(d) || d < 0 || d > this.maxDelay + 1e-6) throw new CinderArgumentError('delay', d, `delays in [0, ${this.maxDelay}] ms`);
      }
    }
    this.setParam('delay', this.delayP, value as tf.Tensor);
  }

  /** The weight's {@link Parameter} (for optimizers; direct assigns are detected). */
  get weightParameter(): Parameter {
    return this.weightP;
  }

  /** The bias's {@link Parameter}, or null. */
  get biasParameter(): Parameter | null {
    return this.biasP;
  }

  /** The delay's {@link Parameter}, or null. */
  get delayParameter(): Parameter | null {
    return this.delayP;
  }

  private setParam(name: ParameterName, p: Parameter, value: tf.Tensor): void {
    if (!(value instanceof tf.Tensor)) throw new CinderArgumentError(name, value, `a tensor of shape [${p.shape.join(', ')}]`);
    if (value.shape.length !== p.shape.length || value.shape.some((d, i) => d !== p.shape[i])) {
      throw new CinderArgumentError(name, value, `shape [${p.shape.join(', ')}]`);
    }
    if (value.dtype !== 'float32') throw new CinderArgumentError(name, value, 'a float32 tensor');
    p.assign(value);
    this.afterChange(name);
  }

  /** Applies the updater's pending updates (P ← P + Σpos − Σneg) and clears them. */
  update(): void {
    this.updater.apply();
  }

  /**
   * Re-establishes the invariants after `name` changed: clamps delays to [0, maxDelay], calls
   * {@link onParameterChange} (masks, caches) and records the parameters' data identities.
   */
  protected afterChange(name: ParameterName): void {
    if (name === 'delay' && this.delayP) {
      const p = this.delayP;
      tf.tidy(() => p.assign(tf.clipByValue(p.value, 0, this.maxDelay)));
    }
    this.onParameterChange(name);
    this.seen.set('weight', this.weightP.value.dataId);
    if (this.biasP) this.seen.set('bias', this.biasP.value.dataId);
    if (this.delayP) this.seen.set('delay', this.delayP.value.dataId);
  }

  /** Detects assigns that bypassed the setters and the updater (e.g. optimizers) and handles them. */
  protected refresh(): void {
    // Collect every change first: handling one records all parameters as seen.
    const changed: ParameterName[] = [];
    if (this.seen.get('weight') !== this.weightP.value.dataId) changed.push('weight');
    if (this.biasP && this.seen.get('bias') !== this.biasP.value.dataId) changed.push('bias');
    if (this.delayP && this.seen.get('delay') !== this.delayP.value.dataId) changed.push('delay');
    for (const name of changed) this.afterChange(name);
  }

  /** Hook for subclasses: parameter `name` changed (re-apply masks, rebuild caches). */
  protected onParameterChange(_name: ParameterName): void {}

  /**
   * True when handling a change of `name` changes its value (delays are clamped; subclasses add
   * masks): the updater then runs clamping hooks after that change instead of fusing them.
   */
  protected transformsOnChange(name: ParameterName): boolean {
    return name === 'delay';
  }

  /**
   * Delays in whole steps, `int32` of the weight's shape, each in [0, delaySteps] (caller owns).
   * In float32, as Inferno's `RecordTensor.select`: s = d/Δt, r = round(s); k = r where
   * |Δt·r − d| ≤ {@link delayTolerance}; otherwise `'previous'`: k = ⌈s⌉, `'nearest'`: k = ⌊s⌋ if
   * (Δt − Δt·(s mod 1))/Δt > ½ else ⌈s⌉.
   */
  protected delayStepsTensor(): tf.Tensor {
    if (!this.delayP) throw new CinderArgumentError('delay', null, 'a connection with maxDelay > 0');
    const p = this.delayP;
    const dt = this.dt;
    return tf.tidy(() => {
      const d = p.value;
      const dtS = tf.scalar(dt);
      const s = tf.div(d, dtS);
      const r = tf.round(s);
      const exact = tf.lessEqual(tf.abs(tf.sub(tf.mul(r, dtS), d)), tf.scalar(this.delayTolerance));
      let between: tf.Tensor;
      if (this.delayInterp === 'previous') {
        between = tf.ceil(s);
      } else {
        const frac = tf.sub(s, tf.floor(s)); // s ≥ 0 (delays are clamped), so s mod 1
        const sampleAt = tf.sub(dtS, tf.mul(dtS, frac));
        between = tf.where(tf.greater(tf.div(sampleAt, dtS), tf.scalar(0.5)), tf.floor(s), tf.ceil(s));
      }
      return tf.cast(tf.clipByValue(tf.where(exact, r, between), 0, this.delaySteps), 'int32');
    });
  }

  /**
   * One-hot of the delays in steps ({@link delayStepsTensor}): float32 `[...weightShape, delaySteps + 1]`, entry d is 1 where
   * the edge's delay is d steps (caller owns). Built with `equal` against a range, because the
   * wasm backend's `oneHot` ignores its dtype argument (tfjs 4.22 returns int bits as float32).
   */
  protected delayOneHot(): tf.Tensor {
    return tf.tidy(() => tf.cast(tf.equal(tf.expandDims(this.delayStepsTensor(), -1), tf.range(0, this.delaySteps + 1, 1, 'int32')), 'float32'));
  }

  /**
   * Runs one step: the synapse receives `spikes` `[B, ...inShape]` (and `injected`, for synapses
   * that take it) and the linear map turns its output into `[B, ...outShape]` (a new tensor).
   */
  abstract forward(spikes: tf.Tensor, injected?: tf.Tensor): tf.Tensor;

  /**
   * The synaptic current: the synapse's latest current `[B, ...inShape]` without delays; with
   * delays the per-edge delay-selected current (shape documented by the subclass).
   */
  get syncurrent(): tf.Tensor {
    this.refresh();
    return this.delayP ? this.selectDelayed((k) => this.synapse.currentAgo(k)) : this.synapse.current;
  }

  /**
   * The presynaptic spikes: the latest spikes `[B, ...inShape]` without delays; with delays the
   * per-edge delayed spikes (shape documented by the subclass; {@link presynReceptive} accepts it).
   */
  get synspike(): tf.Tensor {
    this.refresh();
    return this.delayP ? this.selectDelayed((k) => this.synapse.spikeAgo(k)) : this.synapse.spike;
  }

  /** Per-edge selection of a history (`ago(k)` = value k steps ago) by the delays in steps ({@link delayStepsTensor}). */
  protected abstract selectDelayed(ago: (k: number) => tf.Tensor): tf.Tensor;

  /**
   * Per-edge delay selection of any presynaptic history (`ago(k)` = the value k steps ago, e.g. a
   * trace monitor's history), in the same form as {@link synspike}. Without delays: `ago(0)`.
   */
  selectByDelay(ago: (k: number) => tf.Tensor): tf.Tensor {
    return this.delayP ? this.selectDelayed(ago) : ago(0);
  }

  /** See {@link Receptive.presynReceptive}. */
  abstract presynReceptive(x: tf.Tensor, form?: PresynapticForm): tf.Tensor;

  /**
   * Validates the `form` argument of {@link presynReceptive}: `undefined`, `'synaptic'` or
   * `'presynaptic'` (returned unchanged).
   */
  protected checkForm(form: unknown): PresynapticForm | undefined {
    if (form !== undefined && form !== 'synaptic' && form !== 'presynaptic') throw new CinderArgumentError('form', form, '"synaptic", "presynaptic" or undefined');
    return form;
  }

  /** See {@link Receptive.postsynReceptive}. */
  abstract postsynReceptive(y: tf.Tensor): tf.Tensor;

  /** Checks that a postsynaptic quantity is `[B, ...outShape]` (any B). */
  protected checkPost(y: tf.Tensor): void {
    const want = this.outShape;
    if (!(y instanceof tf.Tensor) || y.shape.length !== want.length + 1 || want.some((d, i) => y.shape[i + 1] !== d)) {
      throw new CinderArgumentError('y', y, `shape [B, ${want.join(', ')}]`);
    }
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return { inShape: [...this.inShape], outShape: [...this.outShape], dt: this.dt, maxDelay: this.maxDelay, batchSize: this.batch, bias: this.biasP !== null };
  }
}

function initial(param: string, init: Initializer, shape: readonly number[]): tf.Tensor {
  if (typeof init !== 'function') throw new CinderArgumentError(param, init, 'an Initializer (shape) => tensor');
  const t = init(shape);
  if (!(t instanceof tf.Tensor) || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    const got = t;
    if (t instanceof tf.Tensor) t.dispose();
    throw new CinderArgumentError(param, got, `an initialiser returning shape [${shape.join(', ')}]`);
  }
  if (t.dtype !== 'float32') {
    const c = tf.cast(t, 'float32');
    t.dispose();
    return c;
  }
  return t;
}

/**
 * The values of a delay tensor for a check on the host, at construction or assignment (never in a
 * step); null on webgpu, which has no synchronous reads in Node: the check is then skipped.
 */
function delayValues(t: tf.Tensor): ArrayLike<number> | null {
  return tf.getBackend() === 'webgpu' ? null : t.dataSync();
}

/** Returns `t` when every delay is finite (checked where {@link delayValues} can read); otherwise disposes it and names the first bad value. */
function finiteDelays(t: tf.Tensor): tf.Tensor {
  const v = delayValues(t) ?? [];
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) {
      const bad = v[i]!;
      t.dispose();
      throw new CinderArgumentError('delayInit', bad, 'finite delays (ms), clamped to [0, maxDelay]');
    }
  }
  return t;
}
