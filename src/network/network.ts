/**
 * `Network`: one object holding the named parts of a model — layers, connections, trainers,
 * optimizers and random generators — that steps them in the house order and saves and loads all
 * of their state as one checkpoint.
 *
 * One step (`step(x)`), with the training data flow made explicit:
 * 1. the layers' `forward`, in the order added (the first gets `x`, each next one the previous
 *    output), or a custom `forward(x, net)` given to the constructor;
 * 2. each trainer's step function (default `trainer.step()`; e.g. `(t, info) => t.step(info.reward)`
 *    for a reward-modulated rule), in the order added, when the network is in training mode;
 * 3. `connection.update()` of every connection of the network (applies and clears pending updates),
 *    with step 2: in training mode, when the network has trainers. Updates pushed by other code (no
 *    trainer, or in eval mode) wait for your own `connection.update()`.
 *
 * `save(dir)` / `Network.load(dir, build)` cover the parameters and states of every module (neuron,
 * synapse, connection state), the trainers' monitors (trace histories, counters), optimizer state
 * (Adam's moments, step counter), monitors added with `addMonitor` (recordings), the generators'
 * positions and the network's step counter, so a
 * loaded network continues bit-identically on the same backend. Files need Node: `save`/`load`
 * work once `cinder-snn/node` (which installs the file storage) has been imported; in a browser use
 * {@link Network.exportState} / {@link Network.importState} with your own storage.
 * @module
 */
import { share, tf } from '../core/tf.js';
import { Module } from '../core/module.js';
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../core/errors.js';
import { canonicalJson, isRecord } from '../core/json.js';
import type { Rng, RngState } from '../core/random.js';
import { SNAPSHOT_SETTINGS, collectExtras, disposeSnapshot, emptySnapshot, nestSnapshot, subSnapshot, type Snapshot, type Snapshottable } from '../core/snapshot.js';
import type { Connection } from '../neural/connections/connection.js';
import { atomicUpdates } from '../neural/updater.js';
import type { Layer } from '../neural/layers/layer.js';
import type { LayerInput } from '../neural/layers/layer.js';

/** Lets other tasks run: `setImmediate` in Node, a zero-delay timeout in browsers (which have no setImmediate). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));
}

/** What a trainer's step function receives besides the trainer. */
export interface StepInfo {
  /** Reward passed to {@link Network.step} (reward-modulated rules). */
  reward?: number;
  /** Number of completed network steps before this one. */
  step: number;
}

/** A trainer's step function (default: `trainer.step()`). */
export type TrainerStep<T> = (trainer: T, info: StepInfo) => void;

/** An optimizer whose state a network can save (Adam). */
export interface SavableOptimizer {
  /** Captures the state; `names` names each variable it updates. */
  snapshotState(names: ReadonlyMap<tf.Variable, string>): Snapshot;
  /** Restores it; `variables` maps the names back. */
  restoreState(s: Snapshot, variables: ReadonlyMap<string, tf.Variable>): void;
  /** Frees its tensors. */
  dispose(): void;
}

/** A trainer as a network holds it: a module whose extra state can be captured. */
export type NetworkTrainer = Module & Snapshottable;

/**
 * A trainer whose settings a network saves and checks (as `CellTrainer`'s): {@link Network.exportState}
 * adds `settingsExtras()` to the trainer's `extras` entry, and on load the network passes that
 * saved entry to `checkSavedExtras` instead of requiring it equal to the trainer's own.
 */
export interface SettingsChecked {
  /** JSON settings saved in the trainer's `extras` entry of a network state. */
  settingsExtras(): Record<string, unknown>;
  /** Throws a CinderArgumentError when `saved` (the trainer's saved extras) does not fit; `name` is the trainer's name. */
  checkSavedExtras(saved: unknown, name: string): void;
}

/** The trainer as a {@link SettingsChecked}, or null when it does not check its settings itself. */
function settingsChecked(trainer: NetworkTrainer | undefined): SettingsChecked | null {
  const t = trainer as Partial<SettingsChecked> | undefined;
  return typeof t?.settingsExtras === 'function' && typeof t.checkSavedExtras === 'function' ? (t as SettingsChecked) : null;
}

/**
 * A trainer's snapshot as a network keeps it: a {@link SettingsChecked} trainer's without the
 * settings it carries for a standalone restore (`SNAPSHOT_SETTINGS`), which the network saves in the
 * trainer's extras instead (once on disk; saves written before snapshots carried them load alike).
 */
function trainerSnapshot(trainer: NetworkTrainer): Snapshot {
  const s = trainer.snapshotState();
  if (settingsChecked(trainer)) delete s.values[SNAPSHOT_SETTINGS];
  return s;
}

/** Options of {@link Network}. */
export interface NetworkOptions {
  /**
   * Custom wiring of the layers for one step (default: the layers in order, each fed the previous
   * output). Runs inside the step's `tf.tidy`; return the network's output.
   */
  forward?: (x: tf.Tensor | LayerInput, net: Network) => tf.Tensor;
  /**
   * Makes every {@link Network.step} all or nothing (default false): before the step the network
   * takes a rollback point, and a step that throws anywhere — a later layer refusing the output of
   * an earlier one, a trainer's step function (a missing reward), an observer, a custom `forward`
   * — puts back every parameter and state of its modules, every synapse's ring position, every
   * trainer's and every `addMonitor` monitor's state, the generators' positions and the step
   * counter, so a retry gives what an uninterrupted run gives. The point costs, per step, a handle
   * on every parameter and state and a snapshot of every trainer and monitor (`snapshotState()`:
   * handles on their traces and a `Recorder`'s records, no copy and no kernel — ≈ 11–17 µs of
   * JavaScript for a one-layer network with STDP on wasm; a `SpikeRecorder`'s snapshot packs the
   * events it holds, so it grows with them: don't combine one with `atomic`). Not covered: observers attached to a layer by your own code (not through a trainer or
   * `addMonitor`) and state a module of your own keeps outside its registered parameters and states.
   */
  atomic?: boolean;
}

/** The keys of {@link NetworkOptions}: other keys make {@link Network}'s constructor throw. */
export const NETWORK_OPTION_KEYS = optionKeys<NetworkOptions>()(['forward', 'atomic']);

/** Options of {@link Network.run}. */
export interface NetworkRunOptions {
  /** Number of steps (integer >= 0). */
  steps: number;
  /** Called after every step with its index (0-based, counted from the start of this call) and output; the output is freed afterwards. */
  onStep?: (t: number, output: tf.Tensor) => void;
  /** Reward for each step (a number, or a function of the step index). */
  reward?: number | ((t: number) => number);
  /** Stops before the next step once aborted; `run` then returns the number of steps done. */
  signal?: AbortSignal;
  /** Longest stretch of wall time between yields to the event loop, in ms (default 250): signal handlers and timers run in between. */
  yieldEveryMs?: number;
}

/** The keys of {@link NetworkRunOptions}. */
export const NETWORK_RUN_OPTION_KEYS = optionKeys<NetworkRunOptions>()(['steps', 'onStep', 'reward', 'signal', 'yieldEveryMs']);

/** One parameter or state in a {@link NetworkState}. */
export interface NetworkTensor {
  /** The value (a copy). */
  tensor: tf.Tensor;
  /** Whether it is a trainable parameter or a state. */
  group: 'parameter' | 'state';
}

/** A state read from storage, with the metadata saved with it. */
export interface StoredNetworkState {
  /** The state (tensors owned by the caller). */
  state: NetworkState;
  /** The caller's metadata saved with it. */
  metadata: Record<string, unknown>;
}

/** What {@link Network.load} returns. */
export interface LoadedNetwork<N> {
  /** The network, built and loaded. */
  network: N;
  /** The caller's metadata saved with it. */
  metadata: Record<string, unknown>;
}

/** The complete state of a network, as {@link Network.exportState} returns it (tensors are copies owned by the caller). */
export interface NetworkState {
  /** Parameters and states of every module, by dotted path. */
  tensors: Record<string, NetworkTensor>;
  /** Extra state (trainers, optimizers): tensors and JSON values, names prefixed `trainer.<name>.` / `optimizer.<name>.`. */
  snapshot: Snapshot;
  /** Generators' positions by name. */
  rngs: Record<string, RngState>;
  /** `extras()` of every module by dotted path. */
  extras: Record<string, Record<string, unknown>>;
  /** Number of completed steps. */
  steps: number;
}

/** File storage for {@link Network.save} / {@link Network.load} (installed by `cinder-snn/node`). */
export interface NetworkStorage {
  /** Writes a state (with free-form metadata) to folder `dir`, atomically. */
  write(dir: string, state: NetworkState, metadata: Record<string, unknown>): Promise<void>;
  /** Reads a state written by `write` (tensors owned by the caller) and its metadata. */
  read(dir: string): Promise<StoredNetworkState>;
}

let storage: NetworkStorage | null = null;

/** Installs the file storage used by `save`/`load` (done by importing `cinder-snn/node`). */
export function setNetworkStorage(s: NetworkStorage): void {
  storage = s;
}

function needStorage(): NetworkStorage {
  if (!storage) throw new CinderArgumentError('Network file storage', 'not installed', "an import of 'cinder-snn/node' (files need Node; in a browser use exportState/importState)");
  return storage;
}


function isConnection(m: unknown): m is Connection {
  return m instanceof Module && typeof (m as Connection).update === 'function' && 'updater' in (m as object);
}

/**
 * Checks that a saved trainer snapshot fits the target's structure: the same JSON values (counters
 * exist whatever the progress), and every saved tensor owned by an object (its name without the
 * last part) that has values in the target (histories grow with progress, so their tensor names
 * differ between a fresh and a running network).
 */
function sameStructure(saved: Snapshot, target: Snapshot, what: string): void {
  const a = Object.keys(saved.values).sort();
  const b = Object.keys(target.values).sort();
  for (const k of a) if (!(k in target.values)) throw new CinderArgumentError(`${what} value ${k} in the saved state`, 'unknown', 'an entry of the target network (build it as the saved one was built)');
  for (const k of b) if (!(k in saved.values)) throw new CinderArgumentError(`${what} value ${k} in the saved state`, 'missing', 'every entry of the target network');
  const owners = new Set(b.map((k) => k.slice(0, k.lastIndexOf('.'))));
  for (const k of Object.keys(saved.tensors)) {
    if (!owners.has(k.slice(0, k.lastIndexOf('.')))) throw new CinderArgumentError(`${what} tensor ${k} in the saved state`, 'unknown', 'an entry of the target network');
  }
}

/** Named layers, connections, trainers, optimizers and generators, stepped and saved as one. */
export class Network extends Module {
  private readonly layerMap = new Map<string, Layer>();
  private readonly connectionMap = new Map<string, Connection>();
  private readonly trainerMap = new Map<string, { trainer: NetworkTrainer; step: TrainerStep<NetworkTrainer> }>();
  private readonly optimizerMap = new Map<string, SavableOptimizer>();
  private readonly rngMap = new Map<string, Rng>();
  private readonly monitorMap = new Map<string, Snapshottable>();
  private readonly forwardFn: NetworkOptions['forward'] | undefined;
  /** Whether steps are all or nothing ({@link NetworkOptions.atomic}). */
  readonly atomic: boolean;
  private stepCount = 0;
  /** Whether a {@link run} is in progress (a second one is refused). */
  private running = false;
  private connectionCache: Connection[] | null = null;

  /** @param options custom wiring (see {@link NetworkOptions}) */
  constructor(options: NetworkOptions = {}) {
    if (new.target === Network) checkOptionKeys('options', options, NETWORK_OPTION_KEYS);
    super();
    if (options.forward !== undefined && typeof options.forward !== 'function') throw new CinderArgumentError('forward', options.forward, 'a function (x, net) => tensor');
    if (options.atomic !== undefined && typeof options.atomic !== 'boolean') throw new CinderArgumentError('atomic', options.atomic, 'a boolean');
    this.forwardFn = options.forward;
    this.atomic = options.atomic ?? false;
  }

  /** Adds a layer (a child module saved under `name`); returns it. */
  addLayer<L extends Layer>(name: string, layer: L): L {
    if (!(layer instanceof Module) || typeof (layer as unknown as { forward?: unknown }).forward !== 'function') throw new CinderArgumentError(`layer "${name}"`, layer, 'a Layer');
    this.addModule(name, layer);
    this.layerMap.set(name, layer);
    this.connectionCache = null;
    return layer;
  }

  /** Adds any other module saved with the network (a classifier, a readout); returns it. */
  add<M extends Module>(name: string, module: M): M {
    if (!(module instanceof Module)) throw new CinderArgumentError(`module "${name}"`, module, 'a Module');
    return this.addModule(name, module);
  }

  /**
   * Adds a connection to update after each step. A connection that belongs to a layer of the
   * network is only referenced (its tensors are saved with the layer); any other becomes a child.
   */
  addConnection<C extends Connection>(name: string, connection: C): C {
    if (!isConnection(connection)) throw new CinderArgumentError(`connection "${name}"`, connection, 'a Connection');
    if (this.connectionMap.has(name)) throw new CinderArgumentError('name', name, 'a connection name not already used');
    if (!this.ownedByLayer(connection)) this.addModule(name, connection);
    this.connectionMap.set(name, connection);
    this.connectionCache = null;
    return connection;
  }

  /** Adds a trainer (a child module) with its step function (default `trainer.step()`); returns it. */
  addTrainer<T extends NetworkTrainer>(name: string, trainer: T, step?: TrainerStep<T>): T {
    if (!(trainer instanceof Module) || typeof (trainer as Snapshottable).snapshotState !== 'function') {
      throw new CinderArgumentError(`trainer "${name}"`, trainer, 'a trainer (a Module with snapshotState/restoreState)');
    }
    if (step !== undefined && typeof step !== 'function') throw new CinderArgumentError(`step of trainer "${name}"`, step, 'a function (trainer, info) => void');
    this.addModule(name, trainer);
    const fn = step ?? ((t: T) => (t as unknown as { step(): void }).step());
    this.trainerMap.set(name, { trainer, step: fn as TrainerStep<NetworkTrainer> });
    return trainer;
  }

  /** Adds an optimizer whose state (Adam moments) is saved with the network; returns it. */
  addOptimizer<O extends SavableOptimizer>(name: string, optimizer: O): O {
    const valid = !!optimizer && typeof optimizer.snapshotState === 'function' && typeof optimizer.restoreState === 'function';
    return this.register(this.optimizerMap, 'optimizer', name, optimizer, valid, 'an optimizer with snapshotState/restoreState (Adam)');
  }

  /**
   * Adds a monitor of your own (a `Recorder`, a `StateMonitor`, anything with
   * snapshotState/restoreState) whose records or traces are saved with the network; returns it.
   * The network owns it from then on: {@link dispose} frees it (calls its `dispose()`, where it has
   * one). (Trainers' monitors are saved with their trainer.)
   */
  addMonitor<M extends Snapshottable>(name: string, monitor: M): M {
    const valid = !!monitor && typeof monitor.snapshotState === 'function' && typeof monitor.restoreState === 'function';
    return this.register(this.monitorMap, 'monitor', name, monitor, valid, 'a monitor with snapshotState/restoreState (Recorder, StateMonitor)');
  }

  /** Adds a random generator whose position is saved with the network; returns it. */
  addRng(name: string, rng: Rng): Rng {
    return this.register(this.rngMap, 'rng', name, rng, !!rng && typeof rng.getState === 'function', 'an Rng');
  }

  /**
   * Adds `value` to `map` under `name` and returns it: refuses it first unless `valid`
   * (`invalid <kind> "<name>": got <value>, expected <expected>`), then a name that is not an
   * identifier or is already in `map` ({@link checkFree}); nothing is added when it throws.
   */
  private register<T, V extends T>(map: Map<string, T>, kind: string, name: string, value: V, valid: boolean, expected: string): V {
    if (!valid) throw new CinderArgumentError(`${kind} "${name}"`, value, expected);
    this.checkFree(name, map);
    map.set(name, value);
    return value;
  }

  private checkFree(name: string, map: Map<string, unknown>): void {
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new CinderArgumentError('name', name, 'an identifier (letters, digits, _)');
    if (map.has(name)) throw new CinderArgumentError('name', name, 'a name not already used');
  }

  private ownedByLayer(c: Connection): boolean {
    let found = false;
    for (const l of this.layerMap.values()) l.walk((m) => (found ||= m === c));
    return found;
  }

  /** The layers by name. */
  get layers(): ReadonlyMap<string, Layer> {
    return this.layerMap;
  }

  /** The trainers by name. */
  get trainers(): ReadonlyMap<string, NetworkTrainer> {
    return new Map([...this.trainerMap].map(([n, e]) => [n, e.trainer]));
  }

  /** The optimizers by name. */
  get optimizers(): ReadonlyMap<string, SavableOptimizer> {
    return this.optimizerMap;
  }

  /** The generators by name. */
  get rngs(): ReadonlyMap<string, Rng> {
    return this.rngMap;
  }

  /** Number of completed steps since construction or the last {@link clear} (saved and restored). */
  get steps(): number {
    return this.stepCount;
  }

  /** Every connection the network updates: those of its layers (in order) and those added directly. */
  get connections(): Connection[] {
    if (this.connectionCache) return [...this.connectionCache];
    const out: Connection[] = [];
    for (const l of this.layerMap.values()) l.walk((m) => void (isConnection(m) && !out.includes(m) && out.push(m)));
    for (const c of this.connectionMap.values()) if (!out.includes(c)) out.push(c);
    this.connectionCache = out;
    return [...out];
  }

  /**
   * One step: forward, trainers, connection updates (see the module notes). Returns the output (a
   * new tensor owned by the caller).
   *
   * A step that fails: the reward and, with the layers' own wiring (no custom `forward`), every
   * layer's observers' `checkObserve` (a SpikeRecorder's bound) are checked before any layer steps,
   * and each layer's step is itself all or nothing, so a step refused by the first layer or by a
   * foreseeable observer changes no state. A step that throws later (a later layer, a trainer's
   * step function, a custom `forward`) applies no update (the parts the trainers added are
   * dropped), but the layers that stepped before it and their observers have advanced — unless the
   * network is {@link NetworkOptions.atomic}, which then puts everything back.
   */
  step(x: tf.Tensor | LayerInput, info: { reward?: number } = {}): tf.Tensor {
    if (this.layerMap.size === 0 && !this.forwardFn) throw new CinderArgumentError('network', 'no layers', 'at least one layer (addLayer) or a forward function');
    if (info.reward !== undefined && !Number.isFinite(info.reward)) throw new CinderArgumentError('reward', info.reward, 'a finite number');
    // a refusal an observer of a later layer foresees must come before the first layer advances
    if (!this.forwardFn) for (const l of this.layerMap.values()) (l as Partial<Pick<Layer, 'checkObservers'>>).checkObservers?.();
    if (!this.atomic) return this.stepOnce(x, info);
    const point = this.rollbackPoint();
    try {
      return this.stepOnce(x, info);
    } catch (err) {
      point.rewind();
      throw err;
    } finally {
      point.release();
    }
  }

  /** The forward pass, the trainers and the updates of {@link step} (checks done). */
  private stepOnce(x: tf.Tensor | LayerInput, info: { reward?: number }): tf.Tensor {
    const out = tf.tidy(() => {
      if (this.forwardFn) return this.forwardFn(x, this);
      let h: tf.Tensor | LayerInput = x;
      for (const l of this.layerMap.values()) h = (l as unknown as { forward(v: tf.Tensor | LayerInput): tf.Tensor }).forward(h);
      return h as tf.Tensor;
    });
    if (this.training && this.trainerMap.size > 0) {
      const stepInfo: StepInfo = { reward: info.reward, step: this.stepCount };
      const connections = this.connectionCache ?? this.connections;
      try {
        atomicUpdates(connections.map((c) => c.updater), () => {
          for (const { trainer, step } of this.trainerMap.values()) step(trainer, stepInfo);
        });
        for (const c of connections) c.update();
      } catch (err) {
        out.dispose();
        throw err;
      }
    }
    this.stepCount++;
    return out;
  }

  /**
   * The rollback point of an atomic step ({@link NetworkOptions.atomic}): a handle on every
   * parameter's and state's value (tfjs tensors are immutable: no copy), each synapse's ring
   * position, snapshots of the trainers and of the monitors added with {@link addMonitor}, the
   * generators' positions (the step counter only advances once a step succeeded). `rewind()` puts
   * them all back; `release()` frees what the point holds (call it in every case, after a rewind too).
   */
  private rollbackPoint(): { rewind(): void; release(): void } {
    const values: { v: { assign(t: tf.Tensor): void }; before: tf.Tensor }[] = [];
    const parts: [Snapshottable, Snapshot][] = [];
    const release = (): void => {
      for (const { before } of values) before.dispose();
      for (const [, snap] of parts) disposeSnapshot(snap);
    };
    try {
      for (const [, v] of [...this.namedParameters(), ...this.namedStates()]) values.push({ v, before: share(v.value) });
      const heads: (() => void)[] = [];
      for (const c of this.connectionCache ?? this.connections) {
        const rewind = (c.synapse as { checkpoint?: () => () => void } | undefined)?.checkpoint?.();
        if (rewind) heads.push(rewind);
      }
      for (const part of [...[...this.trainerMap.values()].map((e) => e.trainer), ...this.monitorMap.values()]) parts.push([part, part.snapshotState()]);
      const rngs = [...this.rngMap.values()].map((r) => [r, r.getState()] as const);
      return {
        rewind: () => {
          for (const { v, before } of values) v.assign(before);
          for (const rewind of heads) rewind();
          for (const [part, snap] of parts) part.restoreState(snap);
          for (const [r, state] of rngs) r.setState(state);
        },
        release,
      };
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * Runs `steps` steps on `input` (one tensor for every step, or a function of the step index
   * returning the step's input, created inside the step's tidy). Outputs are freed after `onStep`,
   * so the tensor count stays flat. Yields to the event loop at least every `yieldEveryMs` of wall
   * time and stops early when `signal` is aborted. Returns the number of steps done.
   */
  async run(input: tf.Tensor | LayerInput | ((t: number) => tf.Tensor | LayerInput), options: NetworkRunOptions): Promise<number> {
    // two runs awaiting in turn would interleave their steps on one state
    if (this.running) throw new CinderArgumentError('call of run()', 'while another run() of this network is in progress', 'the pending run awaited (or aborted) first');
    checkOptionKeys('options', options, NETWORK_RUN_OPTION_KEYS);
    const steps = options?.steps;
    if (!Number.isInteger(steps) || steps < 0) throw new CinderArgumentError('steps', steps, 'an integer >= 0');
    if (options.onStep !== undefined && typeof options.onStep !== 'function') throw new CinderArgumentError('onStep', options.onStep, 'a function (t, output) => void');
    const every = options.yieldEveryMs ?? 250;
    if (!(every >= 0)) throw new CinderArgumentError('yieldEveryMs', every, 'a number >= 0');
    this.running = true;
    try {
      return await this.runSteps(input, options, steps, every);
    } finally {
      this.running = false;
    }
  }

  private async runSteps(input: tf.Tensor | LayerInput | ((t: number) => tf.Tensor | LayerInput), options: NetworkRunOptions, steps: number, every: number): Promise<number> {
    let last = performance.now();
    for (let t = 0; t < steps; t++) {
      if (options.signal?.aborted) return t;
      const reward = typeof options.reward === 'function' ? options.reward(t) : options.reward;
      tf.tidy(() => {
        const x = typeof input === 'function' ? input(t) : input;
        const y = this.step(x, { reward });
        options.onStep?.(t, y);
        y.dispose();
      });
      if (performance.now() - last >= every) {
        await yieldToEventLoop();
        last = performance.now();
      }
    }
    return steps;
  }

  /** Resets every state (neurons, synapses, traces) and the step counter; parameters stay. */
  override clear(): void {
    super.clear();
    this.stepCount = 0;
  }

  private variableNames(): Map<tf.Variable, string> {
    const names = new Map<tf.Variable, string>();
    for (const [n, p] of this.namedParameters()) names.set(p.variable, n);
    return names;
  }

  /** Adds the trainers', optimizers' and monitors' snapshots to `snap`. */
  private captureSnapshot(snap: Snapshot): void {
    for (const [n, { trainer }] of this.trainerMap) nestSnapshot(snap, `trainer.${n}`, trainerSnapshot(trainer));
    const names = this.variableNames();
    for (const [n, o] of this.optimizerMap) nestSnapshot(snap, `optimizer.${n}`, o.snapshotState(names));
    for (const [n, m] of this.monitorMap) nestSnapshot(snap, `monitor.${n}`, m.snapshotState());
  }

  /**
   * The complete state (copies of every tensor, owned by the caller; see {@link NetworkState}).
   * When a part refuses to be captured (e.g. an optimizer holding moments of a variable outside
   * the network), the copies made before it are freed and the error is passed on.
   */
  exportState(): NetworkState {
    this.walk((m) => m.beforeSave());
    const tensors: NetworkState['tensors'] = {};
    const snapshot = emptySnapshot();
    try {
      for (const [n, p] of this.namedParameters()) tensors[n] = { tensor: p.value.clone(), group: 'parameter' };
      for (const [n, s] of this.namedStates()) tensors[n] = { tensor: s.value.clone(), group: 'state' };
      this.captureSnapshot(snapshot);
      const rngs: Record<string, RngState> = {};
      for (const [n, r] of this.rngMap) rngs[n] = r.getState();
      const extras: Record<string, Record<string, unknown>> = {};
      collectExtras(this, '', extras);
      for (const [n, { trainer }] of this.trainerMap) {
        const t = settingsChecked(trainer);
        if (t && extras[n]) Object.assign(extras[n], JSON.parse(JSON.stringify(t.settingsExtras())) as Record<string, unknown>);
      }
      return { tensors, snapshot, rngs, extras, steps: this.stepCount };
    } catch (err) {
      disposeNetworkState({ tensors, snapshot, rngs: {}, extras: {}, steps: 0 });
      throw err;
    }
  }

  /**
   * Restores a state from {@link exportState} (or a file) into this identically built network.
   * Structure (extras, names, shapes, dtypes, snapshot entries, generators) is checked before
   * anything changes. The caller keeps ownership of `state`'s tensors.
   * @throws CinderArgumentError naming the first mismatch
   */
  importState(state: NetworkState): void {
    // (a failed import changes nothing: structure is checked first, and a part that refuses its
    // saved values after others were assigned rolls everything back to the state before the call)
    if (!isRecord(state) || !isRecord(state.snapshot)) {
      throw new CinderArgumentError('state', state, 'a NetworkState from exportState() or Network.load');
    }
    // (each part's kind before any is read: a null part used to surface as a TypeError)
    const parts: [string, unknown][] = [['state.tensors', state.tensors], ['state.snapshot.tensors', state.snapshot.tensors], ['state.snapshot.values', state.snapshot.values], ['state.rngs', state.rngs]];
    if (state.extras !== undefined) parts.push(['state.extras', state.extras]);
    for (const [what, part] of parts) if (!isRecord(part)) throw new CinderArgumentError(what, part, 'an object of entries by name');
    if (!Number.isInteger(state.steps) || state.steps < 0) throw new CinderArgumentError('state.steps', state.steps, 'an integer >= 0');
    for (const [n, e] of Object.entries(state.tensors)) {
      if (!isRecord(e) || !(e.tensor instanceof tf.Tensor) || e.tensor.isDisposed) throw new CinderArgumentError(`state.tensors[${JSON.stringify(n)}]`, e, "{ tensor: a tf.Tensor not disposed, group: 'parameter' | 'state' }");
    }
    for (const [n, t] of Object.entries(state.snapshot.tensors)) {
      if (!(t instanceof tf.Tensor) || t.isDisposed) throw new CinderArgumentError(`state.snapshot.tensors[${JSON.stringify(n)}]`, t, 'a tf.Tensor not disposed');
    }
    for (const [n, r] of Object.entries(state.rngs)) if (!isRecord(r)) throw new CinderArgumentError(`rng "${n}" in the saved state`, r, '{ seed, alea, spareNormal } from Rng.getState()');
    const extras: Record<string, Record<string, unknown>> = {};
    collectExtras(this, '', extras);
    for (const path of new Set([...Object.keys(extras), ...Object.keys(state.extras ?? {})])) {
      // a trainer compares its own settings (naming the cell and setting; saves without them load)
      const trainer = settingsChecked(this.trainerMap.get(path)?.trainer);
      if (trainer) {
        trainer.checkSavedExtras(state.extras?.[path], path);
        continue;
      }
      if (canonicalJson(extras[path]) !== canonicalJson(state.extras?.[path])) {
        throw new CinderArgumentError(`extras of module "${path}" in the saved state`, canonicalJson(state.extras?.[path]), `${canonicalJson(extras[path])} as in the target network`);
      }
    }
    const targets = new Map<string, { value: tf.Tensor; assign(t: tf.Tensor): void; group: 'parameter' | 'state' }>();
    for (const [n, p] of this.namedParameters()) targets.set(n, { value: p.value, assign: (t) => p.assign(t), group: 'parameter' });
    for (const [n, s] of this.namedStates()) targets.set(n, { value: s.value, assign: (t) => s.assign(t), group: 'state' });
    for (const [n, { tensor, group }] of Object.entries(state.tensors)) {
      const t = targets.get(n);
      if (!t || t.group !== group) throw new CinderArgumentError(`${group} name in the saved state`, n, `a ${group} of the target network`);
      const same = t.value.shape.length === tensor.shape.length && t.value.shape.every((d, i) => d === tensor.shape[i]);
      if (!same) throw new CinderArgumentError(`shape of ${group} "${n}"`, tensor.shape, `[${t.value.shape.join(', ')}] (the target's shape)`);
      if (t.value.dtype !== tensor.dtype) throw new CinderArgumentError(`dtype of ${group} "${n}"`, tensor.dtype, `"${t.value.dtype}"`);
    }
    for (const n of targets.keys()) if (!(n in state.tensors)) throw new CinderArgumentError(`"${n}" in the saved state`, undefined, 'an entry for every parameter and state of the target network');
    const current = emptySnapshot();
    for (const [n, { trainer }] of this.trainerMap) nestSnapshot(current, `trainer.${n}`, trainerSnapshot(trainer));
    try {
      sameStructure(subSnapshot(state.snapshot, 'trainer'), subSnapshot(current, 'trainer'), 'trainer snapshot');
    } finally {
      disposeSnapshot(current);
    }
    // optimizer moments are created lazily: check only that each saved one belongs to a known optimizer and variable
    const paramNames = new Set(this.namedParameters().map(([n]) => n));
    const monitorOf = (k: string): string | undefined => /^monitor\.([A-Za-z_][A-Za-z0-9_]*)\./.exec(k)?.[1];
    for (const k of [...Object.keys(state.snapshot.tensors), ...Object.keys(state.snapshot.values)]) {
      const m = monitorOf(k);
      if (m !== undefined && !this.monitorMap.has(m)) throw new CinderArgumentError('monitor in the saved state', m, `a monitor of the target network (${[...this.monitorMap.keys()].join(', ') || 'none'})`);
    }
    for (const n of this.monitorMap.keys()) {
      if (!Object.keys(state.snapshot.values).some((k) => k.startsWith(`monitor.${n}.`))) throw new CinderArgumentError(`monitor "${n}" in the saved state`, undefined, 'the state of every monitor of the target network');
    }
    for (const k of Object.keys(state.snapshot.tensors)) {
      if (k.startsWith('trainer.') || k.startsWith('monitor.')) continue;
      const m = /^optimizer\.([A-Za-z_][A-Za-z0-9_]*)\.(.+)\.[mv]$/.exec(k);
      if (!m || !this.optimizerMap.has(m[1]!) || !paramNames.has(m[2]!)) {
        throw new CinderArgumentError('snapshot tensor in the saved state', k, 'trainer state or the moments of a known optimizer and parameter');
      }
    }
    // every value belongs to a part of the target: trainer values are checked above, those of an
    // optimizer the target lacks (one never applied has values but no moment tensors) or of no
    // known part would otherwise be dropped without a word
    const optimizerOf = (k: string): string | undefined => /^optimizer\.([A-Za-z_][A-Za-z0-9_]*)\./.exec(k)?.[1];
    for (const k of Object.keys(state.snapshot.values)) {
      if (k.startsWith('trainer.') || k.startsWith('monitor.')) continue;
      const o = optimizerOf(k);
      if (o === undefined) throw new CinderArgumentError('snapshot value in the saved state', k, 'a value of a trainer, optimizer or monitor of the target network');
      if (!this.optimizerMap.has(o)) throw new CinderArgumentError('optimizer in the saved state', o, `an optimizer of the target network (${[...this.optimizerMap.keys()].join(', ') || 'none'})`);
    }
    for (const n of this.optimizerMap.keys()) {
      if (!(`optimizer.${n}.k` in state.snapshot.values)) throw new CinderArgumentError(`optimizer "${n}" in the saved state`, undefined, 'the state of every optimizer of the target network');
    }
    const rngNames = Object.keys(state.rngs);
    for (const n of rngNames) if (!this.rngMap.has(n)) throw new CinderArgumentError('rng name in the saved state', n, `a generator of the target network (${[...this.rngMap.keys()].join(', ') || 'none'})`);
    for (const n of this.rngMap.keys()) if (!(n in state.rngs)) throw new CinderArgumentError(`rng "${n}" in the saved state`, undefined, 'a position for every generator of the target network');
    for (const [n, r] of this.rngMap) if (state.rngs[n]!.seed !== r.seed) throw new CinderArgumentError(`seed of rng "${n}" in the saved state`, state.rngs[n]!.seed, JSON.stringify(r.seed));

    // The restorers below check their own parts (moment shapes, recorder capacities, generator
    // states) and may throw after others have changed: a failed import puts the state back.
    const backup = this.exportState();
    try {
      this.applyState(state, targets);
    } catch (err) {
      this.applyState(backup, targets);
      throw err;
    } finally {
      disposeNetworkState(backup);
    }
  }

  /** Assigns a checked state (second half of {@link importState}). */
  private applyState(state: NetworkState, targets: ReadonlyMap<string, { assign(t: tf.Tensor): void }>): void {
    for (const [n, { tensor }] of Object.entries(state.tensors)) targets.get(n)!.assign(tensor);
    this.walk((m) => m.afterLoad());
    for (const [n, { trainer }] of this.trainerMap) trainer.restoreState(subSnapshot(state.snapshot, `trainer.${n}`));
    const variables = new Map([...this.variableNames()].map(([v, n]) => [n, v]));
    for (const [n, o] of this.optimizerMap) o.restoreState(subSnapshot(state.snapshot, `optimizer.${n}`), variables);
    for (const [n, m] of this.monitorMap) m.restoreState(subSnapshot(state.snapshot, `monitor.${n}`));
    for (const [n, r] of this.rngMap) r.setState(state.rngs[n]!);
    this.stepCount = state.steps;
  }

  /**
   * Saves the complete state into folder `dir` as one atomic save (a kill at any moment leaves
   * the previous save or this one). `metadata` (a plain object of JSON values; the key `network`
   * is reserved) is stored alongside (e.g. training progress). Needs `cinder-snn/node`.
   */
  async save(dir: string, metadata: Record<string, unknown> = {}): Promise<void> {
    const s = needStorage();
    const state = this.exportState();
    try {
      await s.write(dir, state, metadata);
    } finally {
      disposeNetworkState(state);
    }
  }

  /**
   * Loads a save into this identically built network (see {@link importState}); returns the
   * metadata saved with it. Needs `cinder-snn/node`.
   */
  async loadFrom(dir: string): Promise<Record<string, unknown>> {
    const { state, metadata } = await needStorage().read(dir);
    try {
      this.importState(state);
    } finally {
      disposeNetworkState(state);
    }
    return metadata;
  }

  /**
   * Builds a network with `build()` (the same code that built the saved one) and loads the save
   * in `dir` into it. Returns the network and the saved metadata. Needs `cinder-snn/node`.
   */
  static async load<N extends Network>(dir: string, build: () => N): Promise<LoadedNetwork<N>> {
    if (typeof build !== 'function') throw new CinderArgumentError('build', build, 'a function returning an identically built Network');
    const network = build();
    if (!(network instanceof Network)) throw new CinderArgumentError('build()', network, 'a Network');
    try {
      const metadata = await network.loadFrom(dir);
      return { network, metadata };
    } catch (err) {
      network.dispose();
      throw err;
    }
  }

  /**
   * Frees every module, trainer and optimizer of the network, and the monitors added with
   * {@link addMonitor} (their records: read them first). A second call frees nothing more.
   */
  override dispose(): void {
    super.dispose();
    for (const o of this.optimizerMap.values()) o.dispose();
    for (const m of this.monitorMap.values()) (m as Partial<{ dispose(): void }>).dispose?.();
  }
}

/** Frees the tensors of a {@link NetworkState}. */
export function disposeNetworkState(state: NetworkState): void {
  for (const { tensor } of Object.values(state.tensors)) tensor.dispose();
  disposeSnapshot(state.snapshot);
}
