/**
 * Contracts between the neural building blocks. Concrete classes live in `neurons/`, `synapses/`,
 * `connections/`, `layers/`; trainers (`src/learn`) rely only on what is declared here.
 *
 * Conventions (all of Cinder):
 * - batch dimension first: every state tensor is `[B, ...shape]`;
 * - time step `dt` in milliseconds, times in ms, rates in Hz;
 * - spikes are float32 tensors of 0/1 (not bool), so they enter arithmetic without casts;
 * - float32 throughout (tfjs has no float64); constants are computed in float64 in JS and rounded
 *   once when uploaded;
 * - a module's `forward` assigns its own state and returns a new tensor owned by the caller;
 *   the caller wraps a whole time step in `tf.tidy`.
 * @module
 */
import type { tf } from '../core/tf.js';
import type { Module } from '../core/module.js';

/** Input to a neuron group: a current, and/or conductances per receptor (aligned with `receptors`). */
export interface NeuronInput {
  /** Injected current `[B, ...shape]` (units: the neuron's R·I gives mV). */
  current?: tf.Tensor;
  /** Conductances, one entry per receptor of the neuron (`undefined` = none this step), each `[B, ...shape]`. */
  conductances?: readonly (tf.Tensor | undefined)[];
}

/** A receptor of a conductance-based neuron. Current through it is g·(E − V). */
export interface Receptor {
  /** Receptor name (e.g. `AMPA`); connections pick a receptor by name. */
  name: string;
  /** Reversal potential E (mV). */
  reversal: number;
}

/** Per-step options a layer may pass to a neuron group (each model reads the ones it knows). */
export interface NeuronForwardOptions {
  /** Hold refractory neurons' voltage (default true). */
  refracLock?: boolean;
  /** Update adaptation state this step (default: in training mode). */
  adapt?: boolean;
  /** Forced spikes `[B, ...shape]` (ExactNeuron). */
  override?: tf.Tensor;
}

/** A group of neurons integrated once per step. */
export interface Neuron extends Module {
  /** Shape of the group without the batch dimension. */
  readonly shape: readonly number[];
  /** Number of neurons (product of `shape`). */
  readonly count: number;
  /** Batch size; setting it re-creates the state. */
  batchSize: number;
  /** Throws the error setting `batchSize` to `value` would throw, changing nothing (layers check every module before changing any). */
  checkBatchSize?(value: number): void;
  /** Step length (ms). */
  readonly dt: number;
  /** Membrane voltage `[B, ...shape]`. */
  readonly voltage: tf.Tensor;
  /** Remaining refractory time (ms) `[B, ...shape]`. */
  readonly refrac: tf.Tensor;
  /** Spikes of the last step, 0/1 float `[B, ...shape]` (stored explicitly, never derived). */
  readonly spike: tf.Tensor;
  /** Receptors for conductance input (empty for current-only neurons). */
  readonly receptors: readonly Receptor[];
  /** Integrates one step and returns this step's spikes (0/1 float). */
  forward(input: tf.Tensor | NeuronInput, options?: NeuronForwardOptions): tf.Tensor;
  /**
   * Throws the error `forward` would throw for these per-step options, without stepping (layers
   * call it before any connection advances, so bad options leave the whole layer unchanged).
   */
  checkOptions?(options: NeuronForwardOptions): void;
}

/** What a connection tells a synapse factory. */
export interface SynapseSpec {
  /** Presynaptic shape seen by the synapse (no batch). */
  shape: readonly number[];
  /** Step length (ms). */
  dt: number;
  /** History the synapse must keep, in whole steps (0 = no delays). */
  delaySteps: number;
  /** Batch size. */
  batchSize: number;
}

/** Builds a synapse; the connection decides shape, batch and delay, the user kinetics. */
export type SynapseFactory<S extends Synapse = Synapse> = (spec: SynapseSpec) => S;

/** Turns presynaptic spikes into currents (or conductances), keeping history for delays. */
export interface Synapse extends Module {
  /** Presynaptic shape (no batch). */
  readonly shape: readonly number[];
  /** Batch size; setting it re-creates the state. */
  batchSize: number;
  /** Throws the error setting `batchSize` to `value` would throw, changing nothing. */
  checkBatchSize?(value: number): void;
  /** Step length (ms). */
  readonly dt: number;
  /** History kept beyond the latest step, in steps. */
  readonly delaySteps: number;
  /** `current`: output adds to the neuron's current; `conductance`: output is a conductance. */
  readonly kind: 'current' | 'conductance';
  /** Pushes this step's spikes `[B, ...shape]` and returns this step's current/conductance. */
  forward(spikes: tf.Tensor, injected?: tf.Tensor): tf.Tensor;
  /** Latest current `[B, ...shape]`. */
  readonly current: tf.Tensor;
  /** Latest spikes `[B, ...shape]`. */
  readonly spike: tf.Tensor;
  /** Current `k` steps ago (0 = latest), `k <= delaySteps`. */
  currentAgo(k: number): tf.Tensor;
  /** Spikes `k` steps ago (0 = latest), `k <= delaySteps`. */
  spikeAgo(k: number): tf.Tensor;
}

/** Parameters an updater can change. */
export type ParameterName = 'weight' | 'bias' | 'delay';

/**
 * Which form a presynaptic quantity given to {@link Receptive.presynReceptive} has:
 * - `'synaptic'`: shaped like {@link Connection.synspike} — with delays one value per edge (synapse),
 *   delay-selected (`synspike`, `syncurrent`, `selectByDelay` and traces of those); without delays
 *   one value per presynaptic unit `[B, ...inShape]`;
 * - `'presynaptic'`: one value per presynaptic unit `[B, ...inShape]` whether or not the connection
 *   has delays (e.g. `synapse.spike`, the spikes as sent, or the times since them); every edge reads
 *   the value of its presynaptic unit.
 */
export type PresynapticForm = 'synaptic' | 'presynaptic';

/**
 * The receptive reshape contract that lets one learning-rule formula serve every connection type.
 *
 * For a presynaptic quantity `x` shaped like {@link Connection.synspike} and a postsynaptic quantity
 * `y` shaped `[B, ...outShape]`, `presynReceptive(x)` and `postsynReceptive(y)` return tensors that
 * broadcast against each other as `[B, ...W, R]`, where `W` is the weight's shape and `R` a receptive
 * axis; `sum_R(pre * post)` is `[B, ...W]`. Dense: pre `[B,1,I,1]`, post `[B,O,1,1]`; direct: both
 * `[B,N,1]`; conv (weight `[F,kh,kw,C]`): pre `[B,1,kh,kw,C,L]`, post `[B,F,1,1,1,L]` (L = output locations).
 */
export interface Receptive {
  /**
   * True when both receptive maps only reshape (row-major, no permutation), as for dense
   * connections: trainers may then contract the raw tensors directly, skipping the reshapes.
   */
  readonly receptiveIsReshape?: boolean;
  /**
   * Reshapes a presynaptic quantity to `[B, ...W-broadcastable, R]`. `form` says which it is (see
   * {@link PresynapticForm}); omitted, a tensor of `synspike`'s shape is read as `'synaptic'` and
   * any other tensor with one value per presynaptic unit as `'presynaptic'`.
   */
  presynReceptive(x: tf.Tensor, form?: PresynapticForm): tf.Tensor;
  /** Reshapes a postsynaptic quantity `[B, ...outShape]` to `[B, ...W-broadcastable, R]`. */
  postsynReceptive(y: tf.Tensor): tf.Tensor;
}

/**
 * Something a layer notifies after its neurons have stepped (monitors). Observers only read module
 * state and fold it into their own state, so the order in which they run never matters.
 */
export interface Observer {
  /** Reads the observed state and folds it in. Called once per layer step while training. */
  observe(): void;
  /** When false, the layer also calls `observe()` in eval mode (default: training only). */
  readonly trainOnly?: boolean;
  /**
   * Optional: throws what the next `observe()` would throw for a reason known before the step (e.g.
   * a `SpikeRecorder`'s bound on records not read yet), changing nothing. A layer calls it for each
   * observer it will call, before its step changes any state, so such a refusal leaves the whole
   * step undone (a retry after the remedy steps as if nothing had happened).
   */
  checkObserve?(): void;
}
