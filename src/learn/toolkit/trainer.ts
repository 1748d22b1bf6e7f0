/**
 * Base of the local learning rules ("trainers"). A trainer keeps a registry of cells, each with its
 * own hyperparameters (defaults merged with per-cell overrides) and its own resources (monitors
 * attached to the cell's layer, derived state such as eligibility traces).
 *
 * Per time step the data flow is explicit:
 * 1. `layer.forward(x)`: connections, then neurons, then the layer's observers (the trainer's
 *    monitors fold spikes into traces);
 * 2. `trainer.step(...)`: for every cell in training mode, the rule reads its monitors' latest values,
 *    may update derived state, and adds `(pos, neg)` to `cell.connection.updater`;
 * 3. `connection.update()`: applies (and clears) the pending updates.
 * @module
 */
import { Module } from '../../core/module.js';
import { SNAPSHOT_SETTINGS, disposeSnapshot, emptySnapshot, nestSnapshot, restoreFields, snapshotFields, subSnapshot, type Snapshot } from '../../core/snapshot.js';
import { CinderArgumentError, describe } from '../../core/errors.js';
import { canonicalJson, isRecord } from '../../core/json.js';
import { tf } from '../../core/tf.js';
import type { Observer } from '../../neural/types.js';
import { atomicUpdates } from '../../neural/updater.js';
import { cellTraining, type TrainableCell } from './trainable-cell.js';

/** What a trainer creates for one cell. */
export interface CellResources {
  /** Monitors attached to the cell's layer while the trainer is in training mode. */
  readonly observers: readonly Observer[];
  /** Resets per-sample state (traces, eligibility). */
  clear(): void;
  /**
   * Called when the cell's layer changed its batch size to `batchSize` (the per-sample states of
   * its modules were re-created as zeros): the per-sample state restarts too, as a newly built
   * cell's would. Default (when absent): {@link clear}.
   */
  batchSizeChanged?(batchSize: number): void;
  /** Frees tensors. */
  dispose(): void;
}

/** One registered cell. */
export interface CellEntry<H, S extends CellResources> {
  /** The cell. */
  readonly cell: TrainableCell;
  /** Its hyperparameters (defaults merged with the overrides given at registration). */
  readonly hyper: Readonly<H>;
  /** Its resources (monitors, derived state). */
  readonly state: S;
}

/** What saves written before functions were told apart hold for every function. */
const LEGACY_FUNCTION = '<function>';

/**
 * A function as saved in the settings: `"<function NAME #HASH>"`, with NAME the function's `name`
 * (`anonymous` when empty; an arrow function written as an option value takes the option's name)
 * and HASH the 32-bit FNV-1a hash (offset basis 2166136261, prime 16777619, over the UTF-16 code
 * units) of its source text `fn.toString()` with every whitespace character removed, as 8 lowercase
 * hex digits. So two functions of other names or other code differ, while re-indenting (or a
 * transpiler's other spacing) does not matter (a minifier's renaming does); two closures of one source text that capture other
 * values, and bound or native functions (whose text is `[native code]`), are not told apart.
 */
function encodeFunction(fn: Function): string {
  const text = Function.prototype.toString.call(fn).replace(/\s+/g, '');
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return `<function ${fn.name === '' ? 'anonymous' : fn.name} #${h.toString(16).padStart(8, '0')}>`;
}

/**
 * True when a saved setting leaf equals the built one (as canonical JSON), or the saved one is the
 * marker {@link LEGACY_FUNCTION} of an older save and the built one a function (`"<function …>"`).
 */
function sameSetting(saved: unknown, built: unknown): boolean {
  if (saved === LEGACY_FUNCTION && typeof built === 'string' && built.startsWith('<function ')) return true;
  return canonicalJson(saved) === canonicalJson(built);
}

/** {@link encodeSetting} of each cell's hyperparameters, by their (frozen) object. */
const encodedHypers = new WeakMap<object, unknown>();

/**
 * {@link encodeSetting} of a cell's hyperparameters, made once per hyperparameter object: it is
 * frozen at registration and only read-only fields of its objects are encoded, so the encoding never
 * changes, and a snapshot taken every step (a `Network` with `atomic: true`) hashes no function
 * source again. The result is deep-frozen (it is shared by every snapshot and save).
 */
function encodedHyper(hyper: object): unknown {
  let e = encodedHypers.get(hyper);
  if (e === undefined) {
    e = deepFreeze(encodeSetting(hyper));
    encodedHypers.set(hyper, e);
  }
  return e;
}

/** Freezes `v` and every object or array inside it; returns `v`. */
function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * One hyperparameter as JSON for the saved settings (see {@link CellTrainer.settingsExtras}): a finite
 * number, string, boolean or null as is; a non-finite number as `"<Infinity>"` (`"<-Infinity>"`,
 * `"<NaN>"`); a function (a custom batch reduction) as `"<function NAME #HASH>"` (its name and a
 * hash of its source text, see {@link encodeFunction}); a tensor as
 * `"<tensor [shape]>"` (its values are not read); an array element by element; another object (a
 * kernel) by its read-only fields (those marked with `configFields`, or all of a frozen object):
 * its writable fields are state, saved with the snapshot. `depth` limits the nesting.
 */
function encodeSetting(v: unknown, depth = 0): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : `<${v}>`;
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (v === undefined) return null;
  if (typeof v === 'function') return encodeFunction(v as Function);
  if (typeof v !== 'object') return `<${typeof v}>`;
  if (v instanceof tf.Tensor) return `<tensor [${v.shape.join(', ')}]>`;
  if (v instanceof Module) return '<module>';
  if (depth >= 3) return '<object>';
  if (Array.isArray(v)) return v.map((x) => encodeSetting(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    const d = Object.getOwnPropertyDescriptor(v, k)!;
    const x = d.value as unknown;
    if (d.writable !== false) continue;
    out[k] = encodeSetting(x, depth + 1);
  }
  return out;
}

/** The leaves of an encoded setting by dotted name (`kernelPost.tau`); empty objects have none. */
function settingLeaves(v: unknown, name: string, out: Map<string, unknown>): Map<string, unknown> {
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) settingLeaves(x, name === '' ? k : `${name}.${k}`, out);
  } else {
    out.set(name, v);
  }
  return out;
}

/**
 * A trainer of cells with hyperparameters `H` and per-cell resources `S`. Subclasses implement
 * {@link validate} (check and complete hyperparameters), {@link build} (create the cell's monitors)
 * and a `step(...)` method that reads them and accumulates updates.
 *
 * The trainer is a {@link Module}: `train(false)` detaches every monitor (traces freeze: they neither
 * fold nor decay), `train(true)` re-attaches them, `clear()` resets traces between samples.
 */
export abstract class CellTrainer<H extends object, S extends CellResources> extends Module {
  /**
   * The class's name as recorded in a network save (see {@link trainerClass}): set it in every
   * concrete trainer class (`static override readonly kind: string = 'STDP'`; typed `string` so that
   * subclasses may set their own) so that the name survives minifiers,
   * which rename classes. Only a class's own `kind` counts: a subclass that declares none is
   * recorded by its constructor's name, not by its parent's `kind`.
   */
  static readonly kind?: string;
  /** Default hyperparameters (validated). */
  readonly defaults: Readonly<H>;
  private readonly entries = new Map<TrainableCell, CellEntry<H, S>>();
  /** Per registered cell: removes its batch-size listener from the cell's layer. */
  private readonly unlisten = new Map<TrainableCell, () => void>();
  private attached = true;

  /**
   * Creates an empty trainer.
   * @param defaults default hyperparameters, validated by {@link validate}
   */
  constructor(defaults: H) {
    super();
    const ctor = new.target as { kind?: unknown; name: string };
    if (Object.hasOwn(ctor, 'kind') && (typeof ctor.kind !== 'string' || ctor.kind === '')) throw new CinderArgumentError(`static kind of trainer class ${ctor.name}`, ctor.kind, 'a non-empty string (the class name recorded in saves)');
    const known = this.optionKeys;
    if (known) {
      for (const k of Object.keys(defaults)) if (!known.includes(k)) throw new CinderArgumentError('options key', k, `one of ${known.join(', ')}`);
    }
    this.defaults = Object.freeze(this.validate({ ...defaults }));
  }

  /**
   * The option names the trainer accepts: others throw at construction (and, as they are then not
   * among the defaults, at registration). Null (default): no check (custom trainers).
   */
  protected get optionKeys(): readonly string[] | null {
    return null;
  }

  /** Checks hyperparameters (throwing {@link CinderArgumentError}) and returns them completed. */
  protected abstract validate(hyper: H): H;

  /** Creates the resources (monitors, state) of a newly registered cell. */
  protected abstract build(cell: TrainableCell, hyper: Readonly<H>): S;

  /**
   * Registers `cell` with optional hyperparameter overrides and attaches its monitors to the cell's
   * layer (when the trainer is in training mode). Returns the cell's resources.
   *
   * When the layer's batch size changes (`layer.batchSize = n`, where the layer offers
   * `onBatchSizeChange`), the cell's per-sample state (traces, eligibility, spike times) restarts
   * from zero at the new size, in training and evaluation mode alike, as the neurons' states do:
   * the next steps learn as those of a cell newly built at that batch size.
   */
  register(cell: TrainableCell, overrides: Partial<H> = {}): S {
    if (!cell || typeof cell !== 'object' || !cell.connection || !cell.neuron || !cell.layer) {
      throw new CinderArgumentError('cell', cell, 'a cell with connection, neuron and layer');
    }
    if (this.entries.has(cell)) throw new CinderArgumentError('cell', 'already registered', 'a cell not registered with this trainer');
    for (const other of this.entries.keys()) {
      if (other.connection === cell.connection && other.neuron === cell.neuron) {
        throw new CinderArgumentError('cell', 'a (connection, neuron) pair already registered through another cell', 'a pair not registered with this trainer (it would learn twice per step)');
      }
    }
    if (overrides === null || typeof overrides !== 'object') throw new CinderArgumentError('overrides', overrides, 'an object of hyperparameters');
    for (const k of Object.keys(overrides)) {
      if (!Object.hasOwn(this.defaults, k)) throw new CinderArgumentError('overrides', k, `one of ${Object.keys(this.defaults).join(', ')}`);
    }
    const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<H>;
    const hyper = Object.freeze(this.validate({ ...this.defaults, ...defined }));
    const state = this.build(cell, hyper);
    const entry = { cell, hyper, state };
    this.entries.set(cell, entry);
    const off = cell.layer.onBatchSizeChange?.({ batchSizeChanged: (b) => (state.batchSizeChanged ? state.batchSizeChanged(b) : state.clear()) });
    if (off) this.unlisten.set(cell, off);
    if (this.attached) for (const o of state.observers) cell.layer.attach(o);
    return state;
  }

  /** Removes `cell`: detaches and frees its monitors. Returns false when it was not registered. */
  deregister(cell: TrainableCell): boolean {
    const e = this.entries.get(cell);
    if (!e) return false;
    if (this.attached) for (const o of e.state.observers) cell.layer.detach(o);
    this.unlisten.get(cell)?.();
    this.unlisten.delete(cell);
    e.state.dispose();
    this.entries.delete(cell);
    return true;
  }

  /** The registered cells, in registration order. */
  get cells(): TrainableCell[] {
    return [...this.entries.keys()];
  }

  /** The entry of a registered cell (hyperparameters and resources). */
  entry(cell: TrainableCell): CellEntry<H, S> {
    const e = this.entries.get(cell);
    if (!e) throw new CinderArgumentError('cell', 'not registered', 'a cell registered with this trainer');
    return e;
  }

  /**
   * The entries that learn now: the trainer, and the cell's layer, connection and neurons, are in
   * training mode. `cells` restricts the set (default: all registered cells).
   */
  protected active(cells?: readonly TrainableCell[]): CellEntry<H, S>[] {
    if (!this.training) return [];
    const list = cells ? cells.map((c) => this.entry(c)) : [...this.entries.values()];
    return list.filter((e) => cellTraining(e.cell));
  }

  /**
   * Runs one step over `entries` so that a failure adds nothing: when `fn` throws (a bad argument, a
   * custom reduction of the wrong shape, a cell without a target), the parts it added to the
   * entries' connection updaters are dropped, the parts pending before stay, and the error is
   * rethrown. Call from `step`, around the loop over the entries.
   */
  protected atomically(entries: readonly CellEntry<H, S>[], fn: () => void): void {
    atomicUpdates(entries.map((e) => e.cell.connection.updater), fn);
  }

  /** Training mode attaches the monitors to the layers; evaluation mode detaches them (traces freeze). */
  override train(mode = true): this {
    super.train(mode);
    if (mode !== this.attached) {
      for (const e of this.entries.values()) {
        for (const o of e.state.observers) (mode ? e.cell.layer.attach(o) : e.cell.layer.detach(o));
      }
      this.attached = mode;
    }
    return this;
  }

  /**
   * The name of the trainer's class recorded with its settings (see {@link settingsExtras}): the
   * class's own static `kind` when it declares one (every built-in trainer does, equal to its class
   * name), else the constructor's name (`"<anonymous class>"` for an anonymous class). A user
   * subclass is thus told from its parent; one whose saves must load across builds of a minified
   * bundle (where class names change) should declare its own `kind`.
   */
  get trainerClass(): string {
    const ctor = this.constructor as { kind?: unknown; name?: unknown };
    if (Object.hasOwn(ctor, 'kind') && typeof ctor.kind === 'string') return ctor.kind;
    return typeof ctor.name === 'string' && ctor.name !== '' ? ctor.name : '<anonymous class>';
  }

  /**
   * The settings a network saves with the trainer (`Network.save` / `exportState` add them to the
   * trainer's `extras` entry) and compares on load ({@link checkSavedExtras}): `trainer`, the
   * trainer's class ({@link trainerClass}), and `settings`, per
   * registered cell in registration order, its hyperparameters (defaults merged with the cell's
   * overrides) as JSON — time constants, learning rates, trace mode, bounds, flags; a function (a
   * custom batch reduction) as `"<function NAME #HASH>"`, its name and a hash of its source text
   * with whitespace removed (see `encodeFunction`: a custom reduction is told from `mean`/`sum` and
   * from a function of another name or code, not from a closure of the same text capturing other
   * values), a kernel object by its read-only fields (see `encodeSetting`). They are not part of the
   * trainer's `extras()` (so module files, `saveModule`, written before keep loading). Its
   * snapshot ({@link snapshotState}) carries them too, for a standalone {@link restoreState} to
   * compare; a network removes them there, as it saves them in the extras.
   */
  settingsExtras(): Record<string, unknown> {
    return { trainer: this.trainerClass, settings: [...this.entries.values()].map((e) => encodedHyper(e.hyper)) };
  }

  /**
   * Checks the extras saved with a trainer by a network (`saved`, from a file or `exportState`)
   * against this trainer's `extras()` and {@link settingsExtras}, throwing before anything changes.
   * The saved `trainer` (the class, see {@link trainerClass}) must equal this trainer's; a save
   * without one (written before networks recorded the class) is not compared there. A save that has
   * no `settings` (written before networks saved them) compares nothing there: it loads as before.
   * Otherwise it must hold as many cells as are registered, and each cell's settings must equal
   * this trainer's; a function saved as `"<function>"` (by saves written before functions were
   * saved by name and source hash) matches any function.
   * @param saved the trainer's saved extras
   * @param name the trainer's name in the network (for the messages)
   * @throws CinderArgumentError naming the trainer, the cell, the setting, the saved value and the
   * value this trainer was built with
   */
  checkSavedExtras(saved: unknown, name: string): void {
    const what = `trainer "${name}"`;
    if (!isRecord(saved)) throw new CinderArgumentError(`extras of ${what} in the saved state`, saved, 'an object (the settings saved with the trainer)');
    const built = { ...this.extras(), ...this.settingsExtras() };
    for (const k of new Set([...Object.keys(built), ...Object.keys(saved)])) {
      if (k === 'settings' || k === 'trainer') continue;
      if (canonicalJson(saved[k]) !== canonicalJson(built[k])) throw new CinderArgumentError(`extras entry ${k} of ${what} in the saved state`, saved[k], `${canonicalJson(built[k])} as in the target network`);
    }
    this.checkSettings(saved, built, { of: `${what} in the saved state`, cellsOf: `${what} in the saved settings`, source: 'a save', into: 'loaded into' });
  }

  /**
   * Compares saved settings (`{ trainer?, settings? }`, from {@link settingsExtras}) with this
   * trainer's `built` ones (see {@link checkSavedExtras}); `words` place the names in the messages.
   */
  private checkSettings(saved: Record<string, unknown>, built: Record<string, unknown>, words: { of: string; cellsOf: string; source: string; into: string }): void {
    if (saved.trainer !== undefined && saved.trainer !== built.trainer) {
      throw new CinderArgumentError(`trainer class of ${words.of}`, saved.trainer, `${describe(built.trainer)} (the class of the trainer being ${words.into}; ${words.source} loads only into a trainer of the class that wrote it)`);
    }
    if (saved.settings === undefined) return; // a save from before trainers saved their settings
    const cells = built.settings as unknown[];
    if (!Array.isArray(saved.settings) || !saved.settings.every(isRecord)) throw new CinderArgumentError(`settings of ${words.of}`, saved.settings, 'an array of per-cell settings (objects)');
    if (saved.settings.length !== cells.length) throw new CinderArgumentError(`number of cells of ${words.cellsOf}`, saved.settings.length, `${cells.length} (the cells registered with the trainer)`);
    saved.settings.forEach((cell, i) => {
      const got = settingLeaves(cell, '', new Map());
      const want = settingLeaves(cells[i], '', new Map());
      for (const k of new Set([...want.keys(), ...got.keys()])) {
        if (got.has(k) && want.has(k) && sameSetting(got.get(k), want.get(k))) continue;
        const expected = want.has(k) ? describe(want.get(k)) : 'no such setting';
        throw new CinderArgumentError(`setting ${k} of cell ${i} of ${words.of}`, got.get(k), `${expected} (the trainer being ${words.into} was built with it; ${words.source} loads only into a trainer built with the same settings)`);
      }
    });
  }

  /**
   * The trainer's state for checkpoints: per registered cell (in registration order, `cell0`,
   * `cell1`, …) its resources' monitors, reducers and counters, plus the trainer's own numeric
   * counters (see `snapshotFields` in `src/core/snapshot.ts`); and, under the value name
   * `SNAPSHOT_SETTINGS` (`"#settings"`), the trainer's class and settings ({@link settingsExtras}),
   * which {@link restoreState} compares (a network leaves this entry out of its saves: it keeps the
   * settings in the trainer's extras).
   */
  snapshotState(): Snapshot {
    const out = snapshotFields(this);
    [...this.entries.values()].forEach((e, i) => nestSnapshot(out, `cell${i}`, snapshotFields(e.state)));
    out.values[SNAPSHOT_SETTINGS] = this.settingsExtras();
    return out;
  }

  /**
   * Restores what {@link snapshotState} captured into an identically built and registered trainer.
   * A snapshot refused part-way (a key no field has, a monitor refusing its values) changes
   * nothing: the state from before the call is put back and the error passed on. A snapshot taken
   * at another batch size than the cells' layers have now is refused that way: the cells' monitors
   * check their restored traces against the shapes of the state they observe (see
   * `MultiStateMonitor.restoreState`), so the next `layer.forward` does not fail after the neurons stepped.
   * A snapshot that carries settings (the `"#settings"` value {@link snapshotState} writes) is
   * refused, before anything changes, when they differ from this trainer's (its class, its number of
   * cells, a cell's hyperparameter: the rules of {@link checkSavedExtras}); one without them (taken
   * before snapshots carried them, or held by a network, which checks the settings itself) is
   * compared only in its read-only fields (see `restoreFields`).
   * @throws CinderArgumentError for settings other than this trainer's, a cell index beyond the
   * registered cells, or a part refused
   */
  restoreState(s: Snapshot): void {
    const saved = s.values[SNAPSHOT_SETTINGS];
    if (saved !== undefined) {
      const what = `snapshot value ${SNAPSHOT_SETTINGS}`;
      if (!isRecord(saved)) throw new CinderArgumentError(what, saved, 'an object { trainer, settings } (from snapshotState)');
      this.checkSettings(saved, this.settingsExtras(), { of: `the trainer's snapshot`, cellsOf: `the trainer's snapshot`, source: 'a snapshot', into: 'restored into' });
    }
    const list = [...this.entries.values()];
    const cells = new Set([...Object.keys(s.tensors), ...Object.keys(s.values)].map((k) => /^cell(\d+)\./.exec(k)?.[1]).filter((x) => x !== undefined).map(Number));
    for (const i of cells) if (i >= list.length) throw new CinderArgumentError('snapshot cell', i, `a cell index below ${list.length} (the registered cells)`);
    const apply = (snap: Snapshot): void => {
      const own = emptySnapshot();
      for (const [k, t] of Object.entries(snap.tensors)) if (!/^cell\d+\./.test(k)) own.tensors[k] = t;
      for (const [k, v] of Object.entries(snap.values)) if (!/^cell\d+\./.test(k) && k !== SNAPSHOT_SETTINGS) own.values[k] = v;
      list.forEach((e, i) => restoreFields(e.state, subSnapshot(snap, `cell${i}`), undefined, `cell${i}.`));
      restoreFields(this, own);
    };
    // the parts are restored one by one and one may refuse after others have changed: keep a copy
    const backup = this.snapshotState();
    try {
      apply(s);
    } catch (err) {
      apply(backup);
      throw err;
    } finally {
      disposeSnapshot(backup);
    }
  }

  /** Resets every cell's traces and derived state (call between samples). */
  override clear(): void {
    super.clear();
    for (const e of this.entries.values()) e.state.clear();
  }

  /** Detaches and frees all monitors and state; the trainer is empty afterwards. */
  override dispose(): void {
    for (const cell of [...this.entries.keys()]) this.deregister(cell);
    this.disposeConstants();
    super.dispose();
  }

  /** Frees constants created by the subclass (default: none). */
  protected disposeConstants(): void {}
}
