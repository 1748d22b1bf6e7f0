/**
 * Saving and loading a module's parameters and state, in the one tensor format of `tensors.ts`
 * (`model.json` + one or more `weights-<crc32>.bin`, checksummed, saved atomically as a whole).
 *
 * The manifest's `extras` hold the `extras()` of the module and of every descendant (keyed by
 * dotted path, `""` for the root); each tensor is listed with its dotted path and its group
 * (`parameter` or `state`). Loading checks the format, extras, names, shapes, dtypes and checksums
 * before changing anything, and restores the values bit for bit.
 * @module
 */
import { tf } from '../core/tf.js';
import { CinderArgumentError, numel } from '../core/errors.js';
import type { Module } from '../core/module.js';
import { collectExtras } from '../core/snapshot.js';
import { canonicalJson, isRecord } from '../core/json.js';
import type { Parameter, State } from '../core/state.js';
import {
  checkArtifacts,
  decodeTensors,
  encodeTensors,
  MANIFEST_FILE,
  readHostTensors,
  toHost,
  writeTensors,
  type HostTensor,
  type TensorsArtifacts,
  type TensorsManifest,
  type TensorToSave,
} from './tensors.js';

export { MANIFEST_FILE };
/** @deprecated alias of {@link TensorsManifest} (one format for modules and tensors). */
export type ModuleManifest = TensorsManifest;
/** A saved module held in memory (the one tensor format's artifacts). */
export type ModuleArtifacts = TensorsArtifacts;

type Entry = { name: string; group: 'parameter' | 'state'; target: Parameter | State };

function entries(module: Module): Entry[] {
  const out: Entry[] = [];
  for (const [name, p] of module.namedParameters()) out.push({ name, group: 'parameter', target: p });
  for (const [name, s] of module.namedStates()) out.push({ name, group: 'state', target: s });
  return out;
}

/** The module's parameters and states as host arrays keyed by dotted path (after `beforeSave()`; one download each). */
export async function moduleTensors(module: Module): Promise<Record<string, HostTensor>> {
  module.walk((m) => m.beforeSave());
  const out: Record<string, HostTensor> = {};
  for (const e of entries(module)) {
    const h = (await toHost({ [e.name]: e.target.value }, e.group))[e.name]!;
    out[e.name] = h;
  }
  return out;
}

/** Serializes the module's parameters, state and extras into memory. */
export async function moduleToArtifacts(module: Module, metadata: Record<string, unknown> = {}): Promise<ModuleArtifacts> {
  const extras: Record<string, Record<string, unknown>> = {};
  collectExtras(module, '', extras);
  return encodeTensors(await moduleTensors(module), { extras, metadata });
}

function checkExtras(saved: Record<string, Record<string, unknown>>, current: Record<string, Record<string, unknown>>): void {
  const paths = new Set([...Object.keys(saved), ...Object.keys(current)]);
  for (const path of paths) {
    const where = path === '' ? 'the module' : `module "${path}"`;
    const a = saved[path];
    const b = current[path];
    if (!a || !b) {
      throw new CinderArgumentError(`extras of ${where} in the file`, a ? canonicalJson(a) : undefined, a ? 'no such module in the target' : 'the same module structure as the target');
    }
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (canonicalJson(a[key]) !== canonicalJson(b[key])) {
        throw new CinderArgumentError(`extras.${key} of ${where} in the file`, isRecord(a[key]) ? canonicalJson(a[key]) : a[key], `${canonicalJson(b[key])} as in the target module`);
      }
    }
  }
}

function checkFormat(manifest: TensorsManifest): void {
  checkArtifacts({ manifest: { ...manifest, weightsManifest: [], weightsByteLength: 0, weightsChecksum: '00000000' }, weightData: new Uint8Array(0) });
}

/**
 * Checks that saved tensor specs fit `module`: every parameter and state listed once, with the
 * target's shape and dtype, and (when given) equal extras.
 */
function checkSpecs(module: Module, specs: readonly { name: string; shape: number[]; dtype: string; group?: string }[], extras?: Record<string, Record<string, unknown>>): Map<string, Entry> {
  if (extras !== undefined) {
    const current: Record<string, Record<string, unknown>> = {};
    collectExtras(module, '', current);
    checkExtras(extras, current);
  }
  const list = entries(module);
  const byKey = new Map(list.map((e) => [`${e.group}:${e.name}`, e]));
  const seen = new Set<string>();
  for (const s of specs) {
    const group = s.group === 'state' ? 'state' : 'parameter';
    const key = `${group}:${s.name}`;
    const e = byKey.get(key);
    if (!e) {
      const names = list.filter((x) => x.group === group).map((x) => x.name);
      throw new CinderArgumentError(`${group} name in the file`, s.name, `a ${group} of the target module (${names.join(', ') || 'none'})`);
    }
    if (seen.has(key)) throw new CinderArgumentError(`${group} name in the file`, s.name, 'each name listed once');
    seen.add(key);
    const shape = e.target.value.shape;
    if (canonicalJson(s.shape) !== canonicalJson(shape)) {
      throw new CinderArgumentError(`shape of ${group} "${s.name}"`, s.shape, `[${shape.join(', ')}] (the target's shape)`);
    }
    if (s.dtype !== e.target.value.dtype) throw new CinderArgumentError(`dtype of ${group} "${s.name}"`, s.dtype, `"${e.target.value.dtype}"`);
  }
  for (const e of list) {
    if (!seen.has(`${e.group}:${e.name}`)) {
      throw new CinderArgumentError(`${e.group} "${e.name}" in the file`, undefined, 'an entry for every parameter and state of the target module');
    }
  }
  return byKey;
}

/**
 * Assigns checked values, then runs every module's `afterLoad`. A module may refuse a loaded value
 * there (e.g. a ring position out of range): the values from before the call are then put back
 * (written out by `beforeSave` first, so the modules' bookkeeping is restored with them) and the
 * error passed on.
 */
function assignAll(module: Module, byKey: Map<string, Entry>, saved: Record<string, HostTensor>): void {
  const targets = Object.entries(saved).map(([name, s]) => byKey.get(`${s.group === 'state' ? 'state' : 'parameter'}:${name}`)!.target);
  module.walk((m) => m.beforeSave());
  const backup = targets.map((t) => tf.clone(t.value));
  try {
    Object.values(saved).forEach((s, i) => {
      const t = tf.tensor(s.data, s.shape, s.dtype);
      targets[i]!.assign(t);
      t.dispose();
    });
    module.walk((m) => m.afterLoad());
  } catch (err) {
    targets.forEach((t, i) => t.assign(backup[i]!));
    module.walk((m) => m.afterLoad());
    throw err;
  } finally {
    tf.dispose(backup);
  }
}

/**
 * Checks that saved host tensors fit `module` (the same parameter and state names, shapes and
 * dtypes; `extras`, when given, equal to the module's; each `data` a typed array of
 * `prod(shape)` values) and assigns them. Nothing changes unless every check passes.
 * @throws CinderArgumentError naming the first mismatch, before any value changes
 */
export function restoreModuleTensors(module: Module, saved: Record<string, HostTensor>, extras?: Record<string, Record<string, unknown>>): void {
  if (saved === null || typeof saved !== 'object') throw new CinderArgumentError('saved', saved, 'host tensors by name ({ data, shape, dtype, group })');
  for (const [name, h] of Object.entries(saved)) {
    // the data must fill the shape (tf.tensor would refuse it only while assigning, after the
    // tensors before it had changed)
    const ok = h !== null && typeof h === 'object' && Array.isArray(h.shape) && (h.data instanceof Float32Array || h.data instanceof Int32Array || h.data instanceof Uint8Array);
    if (!ok) throw new CinderArgumentError(`saved tensor "${name}"`, h, '{ data: Float32Array | Int32Array | Uint8Array, shape, dtype, group }');
    if (h.data.length !== numel(h.shape)) throw new CinderArgumentError(`data length of saved tensor "${name}"`, h.data.length, `${numel(h.shape)} values for shape [${h.shape.join(', ')}]`);
  }
  const specs = Object.entries(saved).map(([name, h]) => ({ name, shape: h.shape, dtype: h.dtype, group: h.group }));
  assignAll(module, checkSpecs(module, specs, extras), saved);
}

/**
 * Restores parameters and state from in-memory artifacts. Everything is checked before any value
 * changes: format and version, extras, the set of names, shapes, dtypes, byte length, checksum.
 */
export function moduleFromArtifacts(module: Module, artifacts: ModuleArtifacts): void {
  const { manifest } = artifacts;
  if (!manifest || typeof manifest !== 'object') throw new CinderArgumentError('manifest', manifest, 'a manifest object');
  checkFormat(manifest);
  const byKey = checkSpecs(module, (manifest.weightsManifest ?? []).flatMap((g) => g.weights ?? []), manifest.extras ?? {});
  assignAll(module, byKey, decodeTensors(artifacts));
}

/**
 * Saves the module's parameters, state and extras into folder `dir` (created if needed), as one
 * atomic save: a process killed at any moment leaves the previous save or the new one. Streamed
 * as `writeTensors` streams (after `beforeSave()`): one parameter or state is downloaded at a
 * time, written and dropped before the next, so the host memory a save adds is about one tensor;
 * the values saved are those at the call, even if a training step assigns them while the save
 * runs. The files are those `writeHostTensors` writes for {@link moduleTensors}, byte for byte.
 */
export async function saveModule(module: Module, dir: string, metadata: Record<string, unknown> = {}): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError('dir', dir, 'a directory path');
  const extras: Record<string, Record<string, unknown>> = {};
  collectExtras(module, '', extras);
  module.walk((m) => m.beforeSave());
  // (fromEntries defines own properties, whatever the names)
  const tensors: Record<string, TensorToSave> = Object.fromEntries(entries(module).map((e) => [e.name, { tensor: e.target.value, group: e.group }]));
  await writeTensors(dir, tensors, { extras, metadata });
}

/**
 * Loads a module saved by {@link saveModule} from `dir` into `module`, with the checks of
 * {@link moduleFromArtifacts}: format, extras, names, shapes and dtypes before any weights are
 * read, checksums before any value changes. The weights are read tensor by tensor (see
 * `readHostTensors`), so saves of any size load.
 */
export async function loadModule(module: Module, dir: string): Promise<void> {
  const { manifest, tensors } = await readHostTensors(dir, {
    check: (m) => {
      checkSpecs(module, (m.weightsManifest ?? []).flatMap((g) => g.weights ?? []), m.extras ?? {});
    },
  });
  restoreModuleTensors(module, tensors, manifest.extras ?? {});
}
