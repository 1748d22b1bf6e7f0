/**
 * The base class of every stateful building block (neurons, synapses, connections, layers,
 * monitors, trainers). A module owns named child modules, named trainable {@link Parameter}s and
 * named {@link State}s; it has a train/eval mode, `clear()` (reset state), `dispose()`, and its
 * parameters and state can be saved and loaded (see `saveModule`/`loadModule` in `serialize.ts`).
 *
 * Names exist for saving, loading and messages only: code reaches state through typed properties
 * that the concrete class defines over the `State`/`Parameter` objects it registered.
 * @module
 */
import { tf } from './tf.js';
import { CinderArgumentError } from './errors.js';
import { Parameter, State } from './state.js';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Base class of all stateful building blocks: named children, parameters and states, train/eval
 * mode, clear, dispose, and save/load hooks.
 */
export abstract class Module {
  private readonly childMap = new Map<string, Module>();
  private readonly paramMap = new Map<string, Parameter>();
  private readonly stateMap = new Map<string, State>();
  private trainingMode = true;

  /**
   * @throws CinderArgumentError when tfjs has no backend at all (nothing registered: `initBackend()`
   * was not awaited), instead of tfjs's "No backend found in registry" from the first tensor a
   * subclass makes
   */
  constructor() {
    checkBackendRegistered();
  }

  /** True in training mode (the default); see {@link train}. */
  get training(): boolean {
    return this.trainingMode;
  }

  /** Sets training mode on this module and all children. Returns `this`. */
  train(mode = true): this {
    this.trainingMode = mode;
    for (const c of this.childMap.values()) c.train(mode);
    return this;
  }

  /** Same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Registers a child module under `name`. */
  protected addModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    this.childMap.set(name, module);
    return module;
  }

  /** Registers a trainable parameter. Takes ownership of `value` (no copy; `value` is disposed). */
  protected addParameter(name: string, value: tf.Tensor, trainable = true): Parameter {
    this.checkName(name);
    const p = new Parameter(name, value, trainable);
    p.owner = this.constructor.name;
    this.paramMap.set(name, p);
    return p;
  }

  /** Registers a state tensor with its reset rule. */
  protected addState(name: string, init: () => tf.Tensor): State {
    this.checkName(name);
    const s = new State(name, init);
    s.owner = this.constructor.name;
    this.stateMap.set(name, s);
    return s;
  }

  /** Removes a parameter or state registered earlier (disposing it). */
  protected removeTensor(name: string): void {
    this.paramMap.get(name)?.dispose();
    this.stateMap.get(name)?.dispose();
    this.paramMap.delete(name);
    this.stateMap.delete(name);
  }

  private checkName(name: string): void {
    if (!NAME_RE.test(name)) throw new CinderArgumentError('name', name, 'an identifier (letters, digits, _)');
    if (this.childMap.has(name) || this.paramMap.has(name) || this.stateMap.has(name)) {
      throw new CinderArgumentError('name', name, 'a name not already used in this module');
    }
  }

  /** Direct children, in registration order. */
  children(): [string, Module][] {
    return [...this.childMap.entries()];
  }

  /** All parameters of this module and its descendants, keyed by dotted path. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [n, p] of this.paramMap) out.push([prefix + n, p]);
    for (const [n, c] of this.childMap) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** All states of this module and its descendants, keyed by dotted path. */
  namedStates(prefix = ''): [string, State][] {
    const out: [string, State][] = [];
    for (const [n, s] of this.stateMap) out.push([prefix + n, s]);
    for (const [n, c] of this.childMap) out.push(...c.namedStates(`${prefix}${n}.`));
    return out;
  }

  /** Non-tensor settings (dt, batch size, …) saved in the manifest and checked on load. */
  extras(): Record<string, unknown> {
    return {};
  }

  /**
   * Called on this module before its state is saved: write JS-side bookkeeping (ring positions,
   * counters) into registered states so the saved state is complete. Default: nothing.
   */
  beforeSave(): void {}

  /** Called on this module after its parameters and state were restored: re-read such bookkeeping. Default: nothing. */
  afterLoad(): void {}

  /** Calls `fn` on this module and every descendant (parents first). */
  walk(fn: (module: Module) => void): void {
    fn(this);
    for (const c of this.childMap.values()) c.walk(fn);
  }

  /** Resets every state of this module and its children to its initial value. */
  clear(): void {
    for (const s of this.stateMap.values()) s.reset();
    for (const c of this.childMap.values()) c.clear();
  }

  /** Frees all tensors held by this module and its children. */
  dispose(): void {
    for (const s of this.stateMap.values()) s.dispose();
    for (const p of this.paramMap.values()) p.dispose();
    for (const c of this.childMap.values()) c.dispose();
  }
}

/** The parts of tfjs's engine read by {@link checkBackendRegistered} (public fields of tfjs-core 4.x's Engine). */
interface EngineRegistry {
  registryFactory?: Record<string, unknown>;
  backendInstance?: unknown;
}

/**
 * Throws when no tfjs backend is registered or active (the main entry registers none by itself:
 * `await initBackend()` does). A backend registered but not yet initialised is left to tfjs, which
 * initialises a synchronous one on first use and names `tf.ready()` for an asynchronous one.
 */
export function checkBackendRegistered(): void {
  const e = tf.engine() as unknown as EngineRegistry;
  if (e.backendInstance == null && e.registryFactory !== undefined && Object.keys(e.registryFactory).length === 0) {
    throw new CinderArgumentError('tfjs backend', 'none registered', "one set up before any module is built: await initBackend() (from 'cinder-snn')");
  }
}
