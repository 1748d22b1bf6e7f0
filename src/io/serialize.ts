/**
 * Saving and loading a module's parameters and state.
 *
 * A saved module is a directory with two files:
 * - `model.json`: the manifest — format name and version, the `extras()` of the module and of
 *   every descendant (keyed by dotted path, `""` for the root), and a tfjs-style
 *   `weightsManifest` listing every parameter and state (`name`, `shape`, `dtype`, `group`);
 * - `weights.bin`: the values, concatenated in manifest order, little-endian (float32 and int32
 *   as 4 bytes, bool as 1 byte).
 *
 * Each file is written to a temporary file in the same directory and renamed into place, so a
 * reader never sees a partially written file. The manifest also records the byte length and an
 * FNV-1a checksum of the weights, so a manifest paired with a different weights file is detected.
 * Loading checks the format, extras, names, shapes, dtypes and checksum before changing anything,
 * and restores the values bit for bit.
 * @module
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from '../core/tf.js';
import { CinderArgumentError, numel } from '../core/errors.js';
import type { Module } from '../core/module.js';
import type { Parameter, State } from '../core/state.js';

/** Format name written into every manifest. */
export const MODULE_FORMAT = 'cinder-module';
/** Current format version. */
export const MODULE_FORMAT_VERSION = 1;
/** File name of the manifest inside a saved module's directory. */
export const MANIFEST_FILE = 'model.json';
/** File name of the binary weights inside a saved module's directory. */
export const WEIGHTS_FILE = 'weights.bin';

/** Dtypes that can be saved. */
export type SavedDtype = 'float32' | 'int32' | 'bool';

/** One saved tensor. */
export interface WeightSpec {
  /** Dotted path of the parameter or state (as `namedParameters()` / `namedStates()`). */
  name: string;
  /** Shape of the tensor. */
  shape: number[];
  /** Element type. */
  dtype: SavedDtype;
  /** Whether it is a trainable parameter or a state. */
  group: 'parameter' | 'state';
}

/** One group of the tfjs-style weights manifest. */
export interface WeightGroup {
  /** Files holding the group's values (always `["weights.bin"]`). */
  paths: string[];
  /** The tensors, in storage order. */
  weights: WeightSpec[];
}

/** The JSON manifest of a saved module. */
export interface ModuleManifest {
  /** Always {@link MODULE_FORMAT}. */
  format: string;
  /** Format version ({@link MODULE_FORMAT_VERSION}). */
  version: number;
  /** `extras()` of the module and every descendant, keyed by dotted path (`""` = the module). */
  extras: Record<string, Record<string, unknown>>;
  /** tfjs-style weights manifest (one group, one file). */
  weightsManifest: WeightGroup[];
  /** Byte length of the weights. */
  weightsByteLength: number;
  /** FNV-1a (32-bit) checksum of the weights, hex. */
  weightsChecksum: string;
}

/** A saved module held in memory. */
export interface ModuleArtifacts {
  /** The manifest. */
  manifest: ModuleManifest;
  /** The weights (little-endian, manifest order). */
  weightData: Uint8Array;
}

const BYTES: Record<SavedDtype, number> = { float32: 4, int32: 4, bool: 1 };

type Entry = { spec: WeightSpec; target: Parameter | State };

function entries(module: Module): Entry[] {
  const out: Entry[] = [];
  for (const [name, p] of module.namedParameters()) out.push({ spec: spec(name, p.value, 'parameter'), target: p });
  for (const [name, s] of module.namedStates()) out.push({ spec: spec(name, s.value, 'state'), target: s });
  return out;
}

function spec(name: string, t: tf.Tensor, group: WeightSpec['group']): WeightSpec {
  if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') {
    throw new CinderArgumentError(`${group} "${name}" dtype`, t.dtype, 'float32, int32 or bool');
  }
  return { name, shape: [...t.shape], dtype: t.dtype, group };
}

function collectExtras(module: Module, prefix: string, out: Record<string, Record<string, unknown>>): void {
  out[prefix] = JSON.parse(JSON.stringify(module.extras())) as Record<string, unknown>;
  for (const [name, child] of module.children()) collectExtras(child, prefix ? `${prefix}.${name}` : name, out);
}

function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Serializes the module's parameters, state and extras into memory. */
export async function moduleToArtifacts(module: Module): Promise<ModuleArtifacts> {
  module.walk((m) => m.beforeSave());
  const list = entries(module);
  const total = list.reduce((n, e) => n + numel(e.spec.shape) * BYTES[e.spec.dtype], 0);
  const data = new Uint8Array(total);
  const view = new DataView(data.buffer);
  let off = 0;
  for (const { spec: s, target } of list) {
    const values = await target.value.data();
    for (let i = 0; i < values.length; i++) {
      const x = values[i] as number;
      if (s.dtype === 'float32') view.setFloat32(off, x, true);
      else if (s.dtype === 'int32') view.setInt32(off, x, true);
      else view.setUint8(off, x ? 1 : 0);
      off += BYTES[s.dtype];
    }
  }
  const extras: Record<string, Record<string, unknown>> = {};
  collectExtras(module, '', extras);
  return {
    manifest: {
      format: MODULE_FORMAT,
      version: MODULE_FORMAT_VERSION,
      extras,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: list.map((e) => e.spec) }],
      weightsByteLength: total,
      weightsChecksum: fnv1a(data),
    },
    weightData: data,
  };
}

function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(x) ?? 'undefined';
}

function checkExtras(saved: Record<string, Record<string, unknown>>, current: Record<string, Record<string, unknown>>): void {
  const paths = new Set([...Object.keys(saved), ...Object.keys(current)]);
  for (const path of paths) {
    const where = path === '' ? 'the module' : `module "${path}"`;
    const a = saved[path];
    const b = current[path];
    if (!a || !b) {
      throw new CinderArgumentError(`extras of ${where} in the file`, a ? canonical(a) : undefined, a ? 'no such module in the target' : 'the same module structure as the target');
    }
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (canonical(a[key]) !== canonical(b[key])) {
        const shown = (x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? canonical(x) : x);
        throw new CinderArgumentError(`extras.${key} of ${where} in the file`, shown(a[key]), `${canonical(b[key])} as in the target module`);
      }
    }
  }
}

/**
 * Restores parameters and state from in-memory artifacts. Everything is checked before any value
 * changes: format and version, extras, the set of names, shapes, dtypes, byte length, checksum.
 */
export function moduleFromArtifacts(module: Module, artifacts: ModuleArtifacts): void {
  const { manifest, weightData } = artifacts;
  if (!manifest || manifest.format !== MODULE_FORMAT) {
    throw new CinderArgumentError('manifest.format', manifest?.format, JSON.stringify(MODULE_FORMAT));
  }
  if (!Number.isInteger(manifest.version) || manifest.version < 1 || manifest.version > MODULE_FORMAT_VERSION) {
    throw new CinderArgumentError('manifest.version', manifest.version, `an integer in [1, ${MODULE_FORMAT_VERSION}]`);
  }
  const extras: Record<string, Record<string, unknown>> = {};
  collectExtras(module, '', extras);
  checkExtras(manifest.extras ?? {}, extras);

  const saved = (manifest.weightsManifest ?? []).flatMap((g) => g.weights ?? []);
  const list = entries(module);
  const byKey = new Map(list.map((e) => [`${e.spec.group}:${e.spec.name}`, e]));
  const seen = new Set<string>();
  for (const s of saved) {
    const key = `${s.group}:${s.name}`;
    const e = byKey.get(key);
    if (!e) {
      const names = list.filter((x) => x.spec.group === s.group).map((x) => x.spec.name);
      throw new CinderArgumentError(`${s.group} name in the file`, s.name, `a ${s.group} of the target module (${names.join(', ') || 'none'})`);
    }
    if (seen.has(key)) throw new CinderArgumentError(`${s.group} name in the file`, s.name, 'each name listed once');
    seen.add(key);
    if (canonical(s.shape) !== canonical(e.spec.shape)) {
      throw new CinderArgumentError(`shape of ${s.group} "${s.name}"`, s.shape, `[${e.spec.shape.join(', ')}] (the target's shape)`);
    }
    if (s.dtype !== e.spec.dtype) throw new CinderArgumentError(`dtype of ${s.group} "${s.name}"`, s.dtype, `"${e.spec.dtype}"`);
  }
  for (const e of list) {
    if (!seen.has(`${e.spec.group}:${e.spec.name}`)) {
      throw new CinderArgumentError(`${e.spec.group} "${e.spec.name}" in the file`, undefined, 'an entry for every parameter and state of the target module');
    }
  }
  const total = saved.reduce((n, s) => n + numel(s.shape) * BYTES[s.dtype], 0);
  if (weightData.byteLength !== total || manifest.weightsByteLength !== total) {
    throw new CinderArgumentError('weights byte length', weightData.byteLength, `${total} bytes as listed in the manifest`);
  }
  const sum = fnv1a(weightData);
  if (sum !== manifest.weightsChecksum) {
    throw new CinderArgumentError('weights checksum', sum, `${manifest.weightsChecksum} (weights do not belong to this manifest)`);
  }

  const view = new DataView(weightData.buffer, weightData.byteOffset, weightData.byteLength);
  let off = 0;
  for (const s of saved) {
    const n = numel(s.shape);
    const values = s.dtype === 'int32' ? new Int32Array(n) : s.dtype === 'bool' ? new Uint8Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (s.dtype === 'float32') values[i] = view.getFloat32(off, true);
      else if (s.dtype === 'int32') values[i] = view.getInt32(off, true);
      else values[i] = view.getUint8(off);
      off += BYTES[s.dtype];
    }
    const t = tf.tensor(values, s.shape, s.dtype);
    byKey.get(`${s.group}:${s.name}`)!.target.assign(t);
    t.dispose();
  }
  module.walk((m) => m.afterLoad());
}

async function writeAtomic(dir: string, name: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dir, `.${name}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, name));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Saves the module's parameters, state and extras into directory `dir` (created if needed). */
export async function saveModule(module: Module, dir: string): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError('dir', dir, 'a directory path');
  const { manifest, weightData } = await moduleToArtifacts(module);
  await mkdir(dir, { recursive: true });
  await writeAtomic(dir, WEIGHTS_FILE, weightData);
  await writeAtomic(dir, MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Loads a module saved by {@link saveModule} from `dir` into `module` (see {@link moduleFromArtifacts}). */
export async function loadModule(module: Module, dir: string): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError('dir', dir, 'a directory path');
  let text: string;
  let bytes: Uint8Array;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
    bytes = new Uint8Array(await readFile(join(dir, WEIGHTS_FILE)));
  } catch (err) {
    throw new CinderArgumentError('dir', dir, `a directory holding ${MANIFEST_FILE} and ${WEIGHTS_FILE} (${(err as Error).message})`);
  }
  let manifest: ModuleManifest;
  try {
    manifest = JSON.parse(text) as ModuleManifest;
  } catch (err) {
    throw new CinderArgumentError(MANIFEST_FILE, text.slice(0, 40), `valid JSON (${(err as Error).message})`);
  }
  moduleFromArtifacts(module, { manifest, weightData: bytes });
}
