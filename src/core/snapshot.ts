/**
 * Snapshots of state that does not live in a {@link Module}'s registered parameters and states:
 * reducers' histories, monitors' call counts, trainers' per-cell resources, optimizer moments,
 * random generators. `Network.save` gathers them into one checkpoint so that a loaded network
 * continues bit-identically.
 *
 * An object takes part by implementing {@link Snapshottable}: `snapshotState()` returns named
 * tensors (copies, or new handles on immutable data, owned by the caller) and JSON values; `restoreState(s)` puts them back (it
 * clones what it keeps, so the caller still owns `s`). {@link snapshotFields} and
 * {@link restoreFields} capture an object's own fields: every field that is itself
 * {@link Snapshottable}, plain objects and arrays holding such fields (recursively), and numeric
 * counters. Modules are skipped (their tensors are saved by path).
 *
 * Counters versus configuration: a numeric field is a counter (captured and assigned back) when it
 * is writable. A field made read-only at run time — with {@link configFields}, or any own data
 * property that is not writable — is configuration (a time constant, a capacity): it is captured
 * as before (so saves keep their entries), but a restore only compares the captured value with the
 * object's own and refuses a different one; it never assigns it.
 * @module
 */
import { tf } from './tf.js';
import { CinderArgumentError } from './errors.js';

/** Named tensors and JSON values of one object's state. */
export interface Snapshot {
  /** Tensors by name (copies; the holder of the snapshot disposes them). */
  tensors: Record<string, tf.Tensor>;
  /** JSON-serializable values by name. */
  values: Record<string, unknown>;
}

/** Something whose state can be captured and restored. */
export interface Snapshottable {
  /** Captures the state (tensor copies owned by the caller). */
  snapshotState(): Snapshot;
  /** Restores a state captured by {@link snapshotState} from an identically built object. */
  restoreState(snapshot: Snapshot): void;
}

/** True when `x` implements {@link Snapshottable}. */
export function isSnapshottable(x: unknown): x is Snapshottable {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as Snapshottable).snapshotState === 'function' &&
    typeof (x as Snapshottable).restoreState === 'function'
  );
}

/**
 * The value name under which an object's snapshot may carry its settings (JSON), for its
 * `restoreState` to compare with its own (a trainer's class and hyperparameters, see
 * `CellTrainer.snapshotState`). A holder that saves those settings elsewhere removes the entry
 * from the snapshots it keeps (`Network` saves a trainer's settings in the trainer's `extras`).
 */
export const SNAPSHOT_SETTINGS = '#settings';

/** An empty snapshot. */
export function emptySnapshot(): Snapshot {
  return { tensors: {}, values: {} };
}

/** Copies `inner` into `outer` under `prefix.` (names joined with a dot). */
export function nestSnapshot(outer: Snapshot, prefix: string, inner: Snapshot): void {
  for (const [k, t] of Object.entries(inner.tensors)) outer.tensors[`${prefix}.${k}`] = t;
  for (const [k, v] of Object.entries(inner.values)) outer.values[`${prefix}.${k}`] = v;
}

/** The part of `outer` under `prefix.`, with the prefix removed (tensors are not copied). */
export function subSnapshot(outer: Snapshot, prefix: string): Snapshot {
  const p = `${prefix}.`;
  const out = emptySnapshot();
  for (const [k, t] of Object.entries(outer.tensors)) if (k.startsWith(p)) out.tensors[k.slice(p.length)] = t;
  for (const [k, v] of Object.entries(outer.values)) if (k.startsWith(p)) out.values[k.slice(p.length)] = v;
  return out;
}

/** Frees the tensors of a snapshot. */
export function disposeSnapshot(s: Snapshot): void {
  for (const t of Object.values(s.tensors)) t.dispose();
}

function isModuleLike(x: unknown): boolean {
  return x !== null && typeof x === 'object' && typeof (x as { namedStates?: unknown }).namedStates === 'function';
}

function isPlainContainer(x: unknown): x is Record<string, unknown> | unknown[] {
  if (Array.isArray(x)) return true;
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Marks the own fields `keys` of `obj` as configuration (see the module notes): makes them
 * read-only at run time (non-writable data properties, so a stray assignment throws a TypeError in
 * strict code), which {@link snapshotFields} / {@link restoreFields} read, for numbers, as
 * "compare, never assign". Call at the end of the constructor, once the fields have their values.
 * @throws CinderArgumentError for a key that is not an own data field of `obj`
 */
export function configFields(obj: object, ...keys: string[]): void {
  for (const k of keys) {
    const d = Object.getOwnPropertyDescriptor(obj, k);
    if (!d || !('value' in d)) throw new CinderArgumentError('config field', k, 'an own data field of the object');
  }
  for (const k of keys) {
    const d = Object.getOwnPropertyDescriptor(obj, k)!;
    Object.defineProperty(obj, k, { value: d.value as unknown, enumerable: d.enumerable, configurable: false, writable: false });
  }
}

/** True when `key` of `owner` is configuration: an own data property that is not writable. */
function isConfig(owner: object, key: string): boolean {
  return Object.getOwnPropertyDescriptor(owner, key)?.writable === false;
}

/** Field names visited by the walkers: own enumerable keys, sorted for a stable order. */
function fieldsOf(x: object): string[] {
  return Object.keys(x).sort();
}

/** What {@link walkFields} reports. */
interface FieldVisitor {
  /** A {@link Snapshottable} field at `path`. */
  snapshottable(x: Snapshottable, path: string): void;
  /** A numeric field `key` of `owner` at `path`; `config` when it is read-only (configuration). */
  number(owner: Record<string, unknown>, key: string, path: string, value: number, config: boolean): void;
}

/**
 * Visits the fields of `obj` as {@link snapshotFields} describes: snapshottables (not entered),
 * numbers, and plain containers and other objects recursively (other objects at most `depth`
 * levels deep); Modules, tensors, frozen objects, maps, sets and functions are skipped.
 */
function walkFields(obj: object, depth: number, visitor: FieldVisitor): void {
  const seen = new Set<unknown>();
  const visit = (x: unknown, path: string, d: number): void => {
    if (x === null || typeof x !== 'object' || seen.has(x) || isModuleLike(x) || x instanceof tf.Tensor || Object.isFrozen(x)) return;
    seen.add(x);
    if (path !== '' && isSnapshottable(x)) {
      visitor.snapshottable(x, path);
      return;
    }
    if (d < 0) return;
    for (const k of fieldsOf(x)) {
      const v = (x as Record<string, unknown>)[k];
      const p = path === '' ? k : `${path}.${k}`;
      if (typeof v === 'number') visitor.number(x as Record<string, unknown>, k, p, v, isConfig(x, k));
      else if (v instanceof Map || v instanceof Set || typeof v === 'function') continue;
      else if (v !== null && typeof v === 'object') visit(v, p, isSnapshottable(v) || isPlainContainer(v) ? d : d - 1);
    }
  };
  visit(obj, '', depth);
}

/**
 * Captures the fields of `obj` (see the module notes): {@link Snapshottable} fields, containers of
 * them, and finite numeric fields (counters and, for comparison on restore, configuration). Tensors
 * that are not part of a snapshottable (constants) and Modules are skipped. `depth` limits the
 * recursion into objects that are neither.
 */
export function snapshotFields(obj: object, depth = 3): Snapshot {
  const out = emptySnapshot();
  walkFields(obj, depth, {
    snapshottable: (x, path) => nestSnapshot(out, path, x.snapshotState()),
    number: (_owner, _key, path, v) => {
      if (Number.isFinite(v)) out.values[path] = v;
    },
  });
  return out;
}

/**
 * Restores what {@link snapshotFields} captured into an identically built object. Every captured
 * name must exist in `obj`, and every numeric value must be a finite number; a value of a
 * configuration field (read-only, see {@link configFields}) must equal the field's own value (it
 * is compared, never assigned; a missing one is not compared, as a counter missing is left as it
 * is). All is checked before anything is written. A snapshottable field that refuses its part (its
 * own `restoreState` throws) has the fields restored before it put back from a copy taken first,
 * so a refused snapshot changes nothing. `prefix` (default none) is put before the names of
 * refused values in the messages (e.g. `cell0.` for a trainer's cell).
 * @throws CinderArgumentError naming the first field that is missing, the first value that is
 * not a finite number or differs from a configuration field's own, or passed on from a part that
 * refuses its values
 */
export function restoreFields(obj: object, snapshot: Snapshot, depth = 3, prefix = ''): void {
  // first pass: find the targets without writing anything
  const parts: { x: Snapshottable; path: string; sub: Snapshot }[] = [];
  const numbers: { owner: Record<string, unknown>; key: string; value: number }[] = [];
  const used = new Set<string>();
  walkFields(obj, depth, {
    snapshottable: (x, path) => {
      const sub = subSnapshot(snapshot, path);
      for (const k of Object.keys(sub.tensors)) used.add(`t:${path}.${k}`);
      for (const k of Object.keys(sub.values)) used.add(`v:${path}.${k}`);
      parts.push({ x, path, sub });
    },
    number: (owner, key, path, current, config) => {
      if (!(path in snapshot.values)) return;
      const v = snapshot.values[path];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new CinderArgumentError(`snapshot value ${prefix}${path}`, v, 'a finite number');
      if (config) {
        if (v !== current) throw new CinderArgumentError(`snapshot value ${prefix}${path}`, v, `${current} (a setting the object was built with: a snapshot restores state, not settings)`);
      } else {
        numbers.push({ owner, key, value: v });
      }
      used.add(`v:${path}`);
    },
  });
  for (const k of Object.keys(snapshot.tensors)) if (!used.has(`t:${k}`)) throw new CinderArgumentError('snapshot tensor', k, 'a field of the target object');
  for (const k of Object.keys(snapshot.values)) if (!used.has(`v:${k}`)) throw new CinderArgumentError('snapshot value', k, 'a field of the target object');
  // second pass: the parts (which may refuse their values; the earlier ones are then put back),
  // then the numbers (which cannot fail)
  const done: { x: Snapshottable; backup: Snapshot }[] = [];
  try {
    for (const { x, sub } of parts) {
      const backup = x.snapshotState();
      try {
        x.restoreState(sub);
      } catch (err) {
        disposeSnapshot(backup);
        throw err;
      }
      done.push({ x, backup });
    }
  } catch (err) {
    for (const { x, backup } of done.reverse()) x.restoreState(backup);
    throw err;
  } finally {
    for (const { backup } of done) disposeSnapshot(backup);
  }
  for (const { owner, key, value } of numbers) owner[key] = value;
}

/** Writes the `extras()` of `module` and every descendant into `out`, keyed by dotted path (`""` = `module`). */
export function collectExtras(module: { extras(): Record<string, unknown>; children(): [string, unknown][] }, prefix: string, out: Record<string, Record<string, unknown>>): void {
  out[prefix] = JSON.parse(JSON.stringify(module.extras())) as Record<string, unknown>;
  for (const [name, child] of module.children()) collectExtras(child as typeof module, prefix ? `${prefix}.${name}` : name, out);
}
