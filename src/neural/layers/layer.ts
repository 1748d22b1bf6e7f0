/**
 * The base of every layer: connections feed neuron groups; each group integrates ONCE per step
 * with the combination of everything that reaches it; then attached observers run.
 * @module
 */
import { tf, share } from '../../core/tf.js';
import { hasCheckedStep } from '../../core/checked-step.js';
import { Module } from '../../core/module.js';
import { BatchedModule, type BatchSizeListener } from '../../core/batched-module.js';
import { CinderArgumentError, checkInteger, checkOptionKeys, optionKeys } from '../../core/errors.js';
import type { Neuron, NeuronForwardOptions, NeuronInput, Observer } from '../types.js';
import type { Connection } from '../connections/connection.js';
import { combiner, type CombineFn, type CombineMode } from './combine.js';
import { Cell } from './cell.js';
import { fusedLayerStep } from './fused-step.js';

/** Input of one connection for one step: spikes, or spikes plus an injected current. */
export type LayerInput =
  | tf.Tensor
  | {
      /** Presynaptic spikes `[B, ...inShape]`. */
      spikes: tf.Tensor;
      /** Injected current for synapses that take one (`DeltaPlusCurrent`). */
      injected?: tf.Tensor;
    };

/** How a connection is wired into a layer (see {@link Layer.wire}). */
export interface WireOptions {
  /** Key of the step input this connection reads (default: the connection's name). */
  input?: string;
  /** Names of the neuron groups it feeds. */
  targets: readonly string[];
  /**
   * Receptor (by name) its output is the conductance of. Required for conductance synapses, not
   * allowed for current synapses.
   */
  receptor?: string;
  /** Applied to the connection's output before it is combined (currents only). */
  transform?: (output: tf.Tensor) => tf.Tensor;
}

/** The keys of {@link WireOptions}. */
export const WIRE_OPTION_KEYS = optionKeys<WireOptions>()(['input', 'targets', 'receptor', 'transform']);

interface Wire {
  name: string;
  connection: Connection;
  input: string;
  targets: readonly string[];
  /** Receptor index per target (conductance wires only). */
  receptorIndex: Map<string, number> | null;
  transform: ((output: tf.Tensor) => tf.Tensor) | null;
}

/**
 * Abstract layer. Subclasses register their neuron groups and connections in the constructor
 * ({@link addNeuron}, {@link wire}) and expose a typed `forward` that calls {@link step}.
 *
 * One step ({@link step}):
 * 1. every connection runs on its input;
 * 2. per neuron group, current outputs are combined (`combine`, default sum) and conductance
 *    outputs are summed per receptor, giving one {@link NeuronInput};
 * 3. every neuron group steps exactly once;
 * 4. attached observers run (in training mode; always when `trainOnly === false`).
 *
 * Connections and neuron groups are child modules of the layer, so `clear()`, `dispose()`,
 * `train()` and saving reach them once.
 */
export abstract class Layer extends Module {
  private readonly connectionMap = new Map<string, Connection>();
  private readonly neuronMap = new Map<string, Neuron>();
  private readonly wires: Wire[] = [];
  private readonly observerSet = new Set<Observer>();
  private readonly batchListeners = new Set<BatchSizeListener>();
  /** True inside the `batchSize` setter (the groups' own notifications are then merged into one). */
  private resizing = false;
  private readonly constants = new Map<number, tf.Tensor>();
  private readonly combineFn: CombineFn;
  /** The built-in combine mode (null for a function): the fused webgpu step folds `'sum'`. */
  private readonly combineMode: CombineMode | null;
  private inputKeys: string[] = [];
  /**
   * Whether a step keeps a rollback guard (see {@link step}): it runs user code after the synapses
   * advance (a wire's `transform`, a combine function), or holds a neuron group, connection or
   * synapse whose class is not one of the library's own (`core/checked-step.ts`).
   */
  private guarded: boolean;

  /** @param combine how current outputs reaching one group are merged (default `'sum'`) */
  protected constructor(combine: CombineMode | CombineFn = 'sum') {
    super();
    this.combineFn = combiner(combine, this.constants);
    this.combineMode = typeof combine === 'string' ? combine : null;
    this.guarded = this.combineMode === null;
  }

  /** Registers a neuron group under `name`. */
  protected addNeuron<N extends Neuron>(name: string, neuron: N): N {
    if (!neuron || typeof (neuron as Neuron).forward !== 'function' || !Array.isArray((neuron as Neuron).shape)) {
      throw new CinderArgumentError(`neuron "${name}"`, neuron, 'a Neuron');
    }
    if (this.neuronMap.size > 0) {
      const first = this.neuronMap.values().next().value!;
      if (first.batchSize !== neuron.batchSize) throw new CinderArgumentError(`neuron "${name}" batchSize`, neuron.batchSize, `the layer's batch size ${first.batchSize}`);
      if (first.dt !== neuron.dt) throw new CinderArgumentError(`neuron "${name}" dt`, neuron.dt, `the layer's dt ${first.dt}`);
    }
    this.addModule(name, neuron);
    this.neuronMap.set(name, neuron);
    if (!hasCheckedStep(neuron)) this.guarded = true;
    // a group's batch size set directly (not through the layer) reaches the observers too
    if (neuron instanceof BatchedModule) {
      neuron.onBatchSizeChange({
        checkBatchSize: (v) => this.checkFollowers(v),
        batchSizeChanged: (v) => void (this.resizing || this.notifyBatchSize(v)),
      });
    }
    return neuron;
  }

  /** Registers `connection` under `name` and wires it to its target groups (registered before). */
  protected wire<C extends Connection>(name: string, connection: C, options: WireOptions): C {
    if (!connection || typeof connection.forward !== 'function' || !Array.isArray(connection.outShape)) {
      throw new CinderArgumentError(`connection "${name}"`, connection, 'a Connection');
    }
    if (!options || !Array.isArray(options.targets) || options.targets.length === 0) {
      throw new CinderArgumentError(`targets of "${name}"`, options?.targets, 'a non-empty list of neuron group names');
    }
    checkOptionKeys(`wire options of "${name}"`, options, WIRE_OPTION_KEYS);
    const kind = connection.synapse.kind;
    if (kind === 'current' && options.receptor !== undefined) {
      throw new CinderArgumentError(`receptor of "${name}"`, options.receptor, 'no receptor (its synapse delivers a current; use a conductance synapse)');
    }
    if (kind === 'conductance' && options.receptor === undefined) {
      throw new CinderArgumentError(`receptor of "${name}"`, undefined, 'a receptor name (its synapse delivers a conductance)');
    }
    if (kind === 'conductance' && options.transform) {
      throw new CinderArgumentError(`transform of "${name}"`, 'a function', 'no transform on a conductance connection');
    }
    if (options.input !== undefined && options.input !== null && typeof options.input !== 'string') {
      throw new CinderArgumentError(`input of "${name}"`, options.input, 'a string (the key of the step input this connection reads)');
    }
    if (options.transform !== undefined && typeof options.transform !== 'function') {
      throw new CinderArgumentError(`transform of "${name}"`, options.transform, 'a function (output) => tensor');
    }
    const receptorIndex = kind === 'conductance' ? new Map<string, number>() : null;
    for (const t of options.targets) {
      const n = this.neuronMap.get(t);
      if (!n) throw new CinderArgumentError(`target of "${name}"`, t, `one of the layer's neuron groups (${[...this.neuronMap.keys()].join(', ')})`);
      const same = n.shape.length === connection.outShape.length && n.shape.every((d, i) => d === connection.outShape[i]);
      if (!same) throw new CinderArgumentError(`connection "${name}" outShape`, [...connection.outShape], `the shape of neuron group "${t}" [${n.shape.join(', ')}]`);
      if (connection.batchSize !== n.batchSize) throw new CinderArgumentError(`connection "${name}" batchSize`, connection.batchSize, `the batch size of neuron group "${t}" (${n.batchSize})`);
      if (connection.dt !== n.dt) throw new CinderArgumentError(`connection "${name}" dt`, connection.dt, `the dt of neuron group "${t}" (${n.dt})`);
      if (receptorIndex) {
        const k = n.receptors.findIndex((r) => r.name === options.receptor);
        if (k < 0) throw new CinderArgumentError(`receptor of "${name}"`, options.receptor, `a receptor of neuron group "${t}" (${n.receptors.map((r) => r.name).join(', ') || 'none'})`);
        receptorIndex.set(t, k);
      }
    }
    this.addModule(name, connection);
    this.connectionMap.set(name, connection);
    this.wires.push({ name, connection, input: options.input ?? name, targets: [...options.targets], receptorIndex, transform: options.transform ?? null });
    this.inputKeys = [...new Set(this.wires.map((w) => w.input))];
    if (options.transform || !hasCheckedStep(connection) || !hasCheckedStep(connection.synapse)) this.guarded = true;
    return connection;
  }

  /** The connections by name (read-only view). */
  get connections(): ReadonlyMap<string, Connection> {
    return this.connectionMap;
  }

  /** The neuron groups by name (read-only view). */
  get neurons(): ReadonlyMap<string, Neuron> {
    return this.neuronMap;
  }

  /** Names of the step inputs the layer expects (one per distinct `input` key). */
  get inputNames(): string[] {
    return [...this.inputKeys];
  }

  /** Batch size shared by all connections and neuron groups; setting it re-creates their state. */
  get batchSize(): number {
    const n = this.neuronMap.values().next().value;
    return n ? n.batchSize : 1;
  }

  /**
   * Sets the batch size of every connection and neuron group (re-creates their state), then tells
   * the attached observers (`batchSizeChanged(value)`, where they have it: monitors restart their
   * per-sample values) and the {@link onBatchSizeChange} listeners (trainers restart their cells'
   * traces). Every module, observer and listener is checked first, so a size one of them refuses
   * (e.g. a state over 2^28 elements, a recorder holding records) changes none of them.
   */
  set batchSize(value: number) {
    checkInteger('batchSize', value, 1);
    for (const c of this.connectionMap.values()) c.checkBatchSize(value);
    for (const n of this.neuronMap.values()) n.checkBatchSize?.(value);
    const changed = value !== this.batchSize;
    if (changed) this.checkFollowers(value);
    this.resizing = true;
    try {
      for (const c of this.connectionMap.values()) c.batchSize = value;
      for (const n of this.neuronMap.values()) n.batchSize = value;
    } finally {
      this.resizing = false;
    }
    if (changed) this.notifyBatchSize(value);
  }

  /**
   * Adds a listener told about every change of the layer's batch size (after the modules' states
   * were re-created; also when a neuron group's own `batchSize` is set) and asked first, by
   * `checkBatchSize`, whether it can follow one. Returns a function that removes it. Trainers
   * register one per cell, so their traces follow the change whether or not their monitors are
   * attached.
   */
  onBatchSizeChange(listener: BatchSizeListener): () => void {
    this.batchListeners.add(listener);
    return () => void this.batchListeners.delete(listener);
  }

  /** Throws when an attached observer or a listener cannot follow a change to `value` (changes nothing). */
  private checkFollowers(value: number): void {
    for (const o of this.observerSet) (o as Observer & Partial<BatchSizeListener>).checkBatchSize?.(value);
    for (const l of this.batchListeners) l.checkBatchSize?.(value);
  }

  private notifyBatchSize(value: number): void {
    for (const o of [...this.observerSet]) (o as Observer & Partial<BatchSizeListener>).batchSizeChanged?.(value);
    for (const l of [...this.batchListeners]) l.batchSizeChanged(value);
  }

  /**
   * Adds an observer called after every step (training mode, or always when `trainOnly === false`);
   * observers run in the order they were attached. An observer that also has the methods of a
   * `BatchSizeListener` (`checkBatchSize`, `batchSizeChanged`, as monitors and recorders do) is
   * asked and told about changes of the layer's batch size (see the `batchSize` setter). An observer
   * with an `attached()` method (monitors, recorders) is told before it is newly attached: it may
   * have missed a change while detached (a recorder whose records no longer fit throws, and is not
   * attached). Attaching an observer already attached changes nothing.
   */
  attach(observer: Observer): void {
    if (!observer || typeof observer.observe !== 'function') throw new CinderArgumentError('observer', observer, 'an Observer (with observe())');
    if (this.observerSet.has(observer)) return;
    // told before it is added: a monitor detached during a batch-size change checks its shapes on
    // its next fold; a recorder whose records no longer fit refuses (then it is not attached)
    (observer as Observer & { attached?: () => void }).attached?.();
    this.observerSet.add(observer);
  }

  /** Removes an observer; returns whether it was attached. */
  detach(observer: Observer): boolean {
    return this.observerSet.delete(observer);
  }

  /** The attached observers. */
  get observers(): readonly Observer[] {
    return [...this.observerSet];
  }

  /**
   * Calls `checkObserve()` of every observer the next step will call (all of them in training
   * mode, those with `trainOnly: false` in eval mode): throws what such an observer foresees it
   * would refuse (a SpikeRecorder's bound), changing nothing. {@link step} does it before the layer
   * advances; a `Network` does it for all its layers before the first one steps.
   */
  checkObservers(): void {
    const training = this.training;
    for (const o of this.observerSet) if (training || o.trainOnly === false) o.checkObserve?.();
  }

  /**
   * The training unit (this layer, `connection`, `neuron`); `connection` must feed `neuron` in
   * this layer. Arguments are the objects or their names in this layer.
   */
  cell(connection: Connection | string, neuron: Neuron | string): Cell {
    const c = typeof connection === 'string' ? this.connectionMap.get(connection) : connection;
    const cName = [...this.connectionMap].find(([, v]) => v === c)?.[0];
    if (!c || cName === undefined) throw new CinderArgumentError('connection', typeof connection === 'string' ? connection : connection?.constructor?.name, `a connection of this layer (${[...this.connectionMap.keys()].join(', ')})`);
    const n = typeof neuron === 'string' ? this.neuronMap.get(neuron) : neuron;
    const nName = [...this.neuronMap].find(([, v]) => v === n)?.[0];
    if (!n || nName === undefined) throw new CinderArgumentError('neuron', typeof neuron === 'string' ? neuron : neuron?.constructor?.name, `a neuron group of this layer (${[...this.neuronMap.keys()].join(', ')})`);
    const wire = this.wires.find((w) => w.connection === c)!;
    if (!wire.targets.includes(nName)) throw new CinderArgumentError('neuron', nName, `a group fed by connection "${cName}" (${wire.targets.join(', ')})`);
    return new Cell(this, c, n);
  }

  /**
   * Runs one step. `inputs` maps each input key ({@link inputNames}) to its spikes; returns this
   * step's spikes per neuron group (new tensors owned by the caller). `neuronOptions` maps a
   * neuron group's name to per-step options for it (e.g. ExactNeuron's `override`). Call inside `tf.tidy`.
   *
   * A step that fails changes no state. Inputs and options are checked before anything advances,
   * and the library's own neurons, connections and synapses check theirs before they change state.
   * A layer with other code in its step — a wire's `transform`, a combine function, or a neuron
   * group, connection or synapse of any other class (a user subclass included) — keeps a zero-copy
   * handle on every state's value (tfjs tensors are immutable; no kernel, no copy) and each
   * synapse's ring position before the step, and puts them all back when the step throws: a
   * callback or a user class that throws, a transform or combine result that is not a tensor of the
   * output's shape, or a neuron group that refuses its input after another group stepped. A retry
   * then gives what an uninterrupted run gives. Observers run only after every group stepped (one
   * that throws leaves the step done), but an observer's `checkObserve` runs before anything
   * advances: a refusal it foresees (a SpikeRecorder's bound) leaves the step undone.
   */
  protected step(inputs: ReadonlyMap<string, LayerInput>, neuronOptions?: ReadonlyMap<string, NeuronForwardOptions>): Map<string, tf.Tensor> {
    for (const key of this.inputKeys) {
      if (!inputs.has(key)) throw new CinderArgumentError('inputs', [...inputs.keys()], `an input for every key (${this.inputKeys.join(', ')}); missing "${key}"`);
    }
    if (inputs.size !== this.inputKeys.length) {
      const extra = [...inputs.keys()].find((k) => !this.inputKeys.includes(k));
      throw new CinderArgumentError('inputs', extra, `one of the layer's input keys (${this.inputKeys.join(', ')})`);
    }
    // Every input is checked before any connection advances its synapse, so a bad input leaves
    // the whole layer unchanged (no half-applied step).
    for (const w of this.wires) checkWireInput(w, inputs.get(w.input));
    // a group's or connection's batch size set directly (not through the layer's setter) would make
    // the group refuse its input only after the connections advanced their synapses
    for (const w of this.wires) {
      for (const t of w.targets) {
        const n = this.neuronMap.get(t)!;
        if (n.batchSize !== w.connection.batchSize) {
          throw new CinderArgumentError(`neuron "${t}" batchSize`, n.batchSize, `the batch size of connection "${w.name}" (${w.connection.batchSize}); set the layer's batchSize to change both`);
        }
      }
    }
    if (neuronOptions) for (const [name, o] of neuronOptions) this.checkNeuronOptions(name, o);
    // observers that can tell before the step that they would refuse it (e.g. a SpikeRecorder's bound)
    this.checkObservers();
    const training = this.training;
    // webgpu: connections and synapses folded into the neuron group's step program where exact
    const spikes = fusedLayerStep(this.wires, this.neuronMap, inputs, this.combineMode, neuronOptions) ?? (this.guarded ? this.guardedOpStep(inputs, neuronOptions) : this.opStep(inputs, neuronOptions));
    for (const o of this.observerSet) {
      if (training || o.trainOnly === false) o.observe();
    }
    return spikes;
  }

  /**
   * {@link opStep} with a rollback: every state of the layer (synapse history slots and kinetic
   * state, neuron state) goes back to its value before the call, and every synapse's ring position
   * too, when the step throws (see {@link step}).
   */
  private guardedOpStep(inputs: ReadonlyMap<string, LayerInput>, neuronOptions?: ReadonlyMap<string, NeuronForwardOptions>): Map<string, tf.Tensor> {
    const states = this.namedStates().map(([, s]) => s);
    const before = states.map((s) => share(s.value));
    const rewinds: (() => void)[] = [];
    for (const c of this.connectionMap.values()) {
      const rewind = (c.synapse as { checkpoint?: () => () => void }).checkpoint?.();
      if (rewind) rewinds.push(rewind);
    }
    try {
      return this.opStep(inputs, neuronOptions);
    } catch (err) {
      states.forEach((s, i) => s.assign(before[i]!));
      for (const rewind of rewinds) rewind();
      throw err;
    } finally {
      tf.dispose(before);
    }
  }

  /** The op path of {@link step} (inputs checked): connections, the combination, each group's step. */
  private opStep(inputs: ReadonlyMap<string, LayerInput>, neuronOptions?: ReadonlyMap<string, NeuronForwardOptions>): Map<string, tf.Tensor> {
    const currents = new Map<string, tf.Tensor[]>();
    const conductances = new Map<string, (tf.Tensor | undefined)[]>();
    for (const w of this.wires) {
      const inp = inputs.get(w.input)!;
      const out =
        inp instanceof tf.Tensor
          ? w.connection.forward(inp)
          : inp && typeof inp === 'object' && inp.spikes instanceof tf.Tensor
            ? w.connection.forward(inp.spikes, inp.injected)
            : invalidInput(w.input, inp);
      for (const t of w.targets) {
        if (w.receptorIndex) {
          const k = w.receptorIndex.get(t)!;
          let gs = conductances.get(t);
          if (!gs) conductances.set(t, (gs = new Array<tf.Tensor | undefined>(this.neuronMap.get(t)!.receptors.length).fill(undefined)));
          gs[k] = gs[k] ? tf.add(gs[k]!, out) : out;
        } else {
          const y = w.transform ? transformed(w, out) : out;
          let cs = currents.get(t);
          if (!cs) currents.set(t, (cs = []));
          cs.push(y);
        }
      }
    }
    const spikes = new Map<string, tf.Tensor>();
    for (const [name, neuron] of this.neuronMap) {
      const cs = currents.get(name);
      const gs = conductances.get(name);
      const current = cs ? this.combineFn(cs) : undefined;
      const input: tf.Tensor | NeuronInput = gs ? { current, conductances: gs } : current ?? {};
      const opts = neuronOptions?.get(name);
      spikes.set(name, opts ? neuron.forward(input, opts) : neuron.forward(input));
    }
    return spikes;
  }

  /** Checks per-step neuron options before the step starts (a typo must not leave a half-applied step). */
  private checkNeuronOptions(name: string, o: NeuronForwardOptions): void {
    if (!this.neuronMap.has(name)) throw new CinderArgumentError('neuron options', name, `a neuron group of this layer (${[...this.neuronMap.keys()].join(', ')})`);
    if (o === null || typeof o !== 'object') throw new CinderArgumentError(`options of neuron "${name}"`, o, 'an object {refracLock?, adapt?, override?}');
    for (const [k, v] of Object.entries(o)) {
      if (k === 'refracLock' || k === 'adapt') {
        if (v !== undefined && typeof v !== 'boolean') throw new CinderArgumentError(`options.${k} of neuron "${name}"`, v, 'a boolean');
      } else if (k === 'override') {
        if (v !== undefined && !(v instanceof tf.Tensor)) throw new CinderArgumentError(`options.override of neuron "${name}"`, v, 'a tensor of forced spikes');
      } else {
        throw new CinderArgumentError(`options key of neuron "${name}"`, k, 'one of "refracLock", "adapt", "override"');
      }
    }
    this.neuronMap.get(name)!.checkOptions?.(o); // what the group itself rejects (an override it has no use for, or of the wrong size)
  }

  /** Frees the layer's modules and its kept constants. */
  override dispose(): void {
    super.dispose();
    for (const t of this.constants.values()) t.dispose();
    this.constants.clear();
  }
}

/** Throws unless `value` is spikes `[B, ...inShape]` (or `{spikes, injected?}`) for the wire's connection. */
function checkWireInput(w: Wire, value: unknown): void {
  const c = w.connection;
  const want = [c.batchSize, ...c.inShape];
  const check = (param: string, t: unknown): void => {
    if (!(t instanceof tf.Tensor)) return invalidInput(w.input, t);
    // a disposed or non-numeric tensor fails only inside the connection, after the connections
    // before it advanced their synapses
    if (t.isDisposed) throw new CinderArgumentError(param, 'a disposed tensor', `a live tensor of shape [${want.join(', ')}]`);
    if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') throw new CinderArgumentError(`${param} dtype`, t.dtype, 'one of "float32", "int32", "bool"');
    const shape: number[] = t.shape;
    if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
      throw new CinderArgumentError(param, t, `shape [${want.join(', ')}] (batch ${c.batchSize}, the input shape of connection "${w.name}")`);
    }
  };
  if (value instanceof tf.Tensor) return check(`spikes of input "${w.input}"`, value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) invalidInput(w.input, value);
  const v = value as { spikes?: unknown; injected?: unknown };
  for (const key of Object.keys(v)) {
    if (key !== 'spikes' && key !== 'injected') throw new CinderArgumentError(`key of input "${w.input}"`, key, 'one of "spikes", "injected"');
  }
  check(`spikes of input "${w.input}"`, v.spikes);
  if (v.injected !== undefined) check(`injected of input "${w.input}"`, v.injected);
}

/** The wire's transform of `out`, refused unless it is a tensor of `out`'s shape. */
function transformed(w: Wire, out: tf.Tensor): tf.Tensor {
  const y = w.transform!(out);
  if (!(y instanceof tf.Tensor) || y.shape.length !== out.shape.length || y.shape.some((d, i) => d !== out.shape[i])) {
    throw new CinderArgumentError(`transform of "${w.name}"`, y, `a tensor of shape [${out.shape.join(', ')}] (the connection's output) from the transform`);
  }
  return y;
}

function invalidInput(key: string, value: unknown): never {
  throw new CinderArgumentError(`input "${key}"`, value, 'a spike tensor or { spikes, injected? }');
}
