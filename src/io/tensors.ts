/**
 * The one tensor format of Cinder (module saves, network checkpoints, run artifacts), and the one
 * loader that reads it.
 *
 * A saved set of tensors is a folder with two files:
 * - `model.json`: the manifest — `format: "cinder-tensors"`, `version`, `extras` (per-module
 *   settings of a saved module, `{}` otherwise), `metadata` (free JSON), a tfjs-style
 *   `weightsManifest` (`name`, `shape`, `dtype`, `group` of every tensor, in storage order), the
 *   byte length and CRC-32 of the weights, and `manifestChecksum`, the CRC-32 of the manifest's
 *   own JSON text without that key;
 * - `weights-<crc32>.bin`: the values concatenated in manifest order, little-endian (float32 and
 *   int32 as 4 bytes, bool as 1 byte). tfjs's `tf.io.decodeWeights` reads it with the manifest.
 *
 * The weights file is named by its checksum, so saving over an existing folder never touches the
 * file the current manifest points to: the new weights are written (temporary file, fsync,
 * rename), then the manifest is swapped in by one atomic rename, then the weights file of the
 * manifest it replaced is deleted. A process killed at any moment leaves the previous save or the
 * new one, both loadable.
 *
 * Saves into one folder take turns: a save holds the folder's lock file `.save.lock` (`host pid`
 * of the saving process, created exclusively; see `lock.ts`) from writing its weights to its last
 * clean-up, and waits while another save holds it — of another process, or of this one — looking
 * every 20 ms, up to `lockTimeoutMs` (30 s by default), then gives up with an error naming the
 * folder and the holder. A lock whose process has ended on this host (a killed save) is taken
 * over, race-free among any number of waiting saves; a lock held from another host (a shared file
 * system) cannot be checked and is waited for. Holding the lock, a save removes every weights
 * file its manifest does not name (the replaced save's, and leftovers of killed saves: no other
 * save can be writing one) and temporary files of processes that have ended. So saves running at
 * the same time, in one process or several, identical or not, leave the folder holding the last
 * of them and its one weights file.
 *
 * Readers take no lock. A reader that read the previous manifest just before a save swapped in
 * the next may find its weights file removed: {@link readTensorFolder} then reads the new manifest
 * and its weights (again while the manifest keeps changing under it, up to 10 times), so a read
 * running alongside saves returns one complete save, checked, never a mix (as before the lock),
 * and no longer fails for a weights file removed under it. A weights file already opened is read
 * to the end even if it is removed meanwhile (POSIX). Only saves through this module take the
 * lock: a program writing the folder otherwise (or an older Cinder) is not kept out.
 *
 * JSON has no NaN or Infinity: a non-finite number in the manifest (in `metadata` or `extras`) is
 * written as the string `"NaN"`, `"Infinity"` or `"-Infinity"`, and its key path is listed in the
 * manifest's `nonFinite` (e.g. `[["metadata", "loss"]]`); reading turns exactly those entries back
 * into numbers (a string that merely reads "NaN" stays a string) and drops `nonFinite`.
 *
 * Reading checks the manifest checksum, the byte length and the weights checksum before anything is
 * decoded: a flipped byte in either file is reported, never loaded.
 * @module
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { tf } from '../core/tf.js';
import { CinderArgumentError, numel } from '../core/errors.js';
import { ensureWritableDir, toJson, writeFileAtomic } from './atomic.js';
import { hostPidOwner, hostPidText, releaseLockFile, removeLockLeftovers, waitForLock, type LockAttempt } from './lock.js';
import { crc32, LITTLE_ENDIAN_HOST } from './npy.js';
import { processAlive } from './process-alive.js';

/** Format name written into every manifest. */
export const TENSORS_FORMAT = 'cinder-tensors';
/** Current version (1 was the unchecked run-artifact format, no longer read). */
export const TENSORS_FORMAT_VERSION = 2;
/** File name of the manifest inside a saved folder. */
export const MANIFEST_FILE = 'model.json';

/** Dtypes that can be saved. */
export type SavedDtype = 'float32' | 'int32' | 'bool';

/** What a tensor is: a module's trainable parameter, a module's state, or any other tensor. */
export type TensorGroup = 'parameter' | 'state' | 'tensor';

/** One saved tensor in the manifest. */
export interface WeightSpec {
  /** Name (for a module: the dotted path of the parameter or state). */
  name: string;
  /** Shape. */
  shape: number[];
  /** Element type. */
  dtype: SavedDtype;
  /** Kind of tensor. */
  group: TensorGroup;
}

/** One group of the tfjs-style weights manifest. */
export interface WeightGroup {
  /** Files holding the group's values (one file, `weights-<crc32>.bin`). */
  paths: string[];
  /** The tensors, in storage order. */
  weights: WeightSpec[];
}

/** The JSON manifest `model.json`. */
export interface TensorsManifest {
  /** Always {@link TENSORS_FORMAT}. */
  format: string;
  /** {@link TENSORS_FORMAT_VERSION}. */
  version: number;
  /** `extras()` of a saved module and its descendants by dotted path (`""` = the module); `{}` otherwise. */
  extras: Record<string, Record<string, unknown>>;
  /** Free-form JSON saved with the tensors. */
  metadata: Record<string, unknown>;
  /** tfjs-style weights manifest (one group, one file). */
  weightsManifest: WeightGroup[];
  /** Byte length of the weights. */
  weightsByteLength: number;
  /** CRC-32 of the weights, 8 hex digits. */
  weightsChecksum: string;
  /** CRC-32 of this manifest's JSON text without this key (written by {@link writeTensorFolder}). */
  manifestChecksum?: string;
}

/** One host array with its shape and dtype. */
export interface HostTensor {
  /** Row-major values (bool as 0/1 bytes). */
  data: Float32Array | Int32Array | Uint8Array;
  /** Shape. */
  shape: number[];
  /** Element type. */
  dtype: SavedDtype;
  /** Kind of tensor (default `tensor`). */
  group?: TensorGroup;
}

/** A saved set of tensors held in memory. */
export interface TensorsArtifacts {
  /** The manifest. */
  manifest: TensorsManifest;
  /** The weights (little-endian, manifest order). */
  weightData: Uint8Array;
}

const BYTES: Record<SavedDtype, number> = { float32: 4, int32: 4, bool: 1 };

/** Name of the weights file for weights with checksum `sum`. */
export function weightsFileName(sum: string): string {
  return `weights-${sum}.bin`;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** A copy of `d` as a `Ctor` array: a byte copy when `d` already is one. */
function copyAs<T extends Float32Array | Int32Array | Uint8Array>(Ctor: { new (n: number): T; from(x: ArrayLike<number>): T }, d: ArrayLike<number>): T {
  if (d instanceof Ctor) {
    const out = new Ctor(d.length);
    out.set(d as unknown as ArrayLike<number>); // same type: TypedArray#set copies the bytes
    return out;
  }
  return Ctor.from(d);
}

/** Writes the 4-byte items of `values` little-endian into `out` at `off`, bit for bit. */
function putLittleEndian32(out: Uint8Array, off: number, values: Float32Array | Int32Array): void {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  out.set(bytes, off);
  if (!LITTLE_ENDIAN_HOST) for (let p = off; p < off + bytes.length; p += 4) out.subarray(p, p + 4).reverse();
}

/** Reads little-endian 4-byte items from `bytes` into `out`, bit for bit. */
function getLittleEndian32(out: Float32Array | Int32Array, bytes: Uint8Array): void {
  const dst = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  dst.set(bytes);
  if (!LITTLE_ENDIAN_HOST) for (let p = 0; p < dst.length; p += 4) dst.subarray(p, p + 4).reverse();
}

/**
 * Sets own property `key` of `o` (also for names that an object inherits, such as `constructor`,
 * `toString` or `__proto__`, which plain assignment or `in` would mistake).
 */
function setOwn<T>(o: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Downloads tensors to host arrays (one `await data()` each; call outside step loops). */
export async function toHost(tensors: Record<string, tf.Tensor>, group: TensorGroup = 'tensor'): Promise<Record<string, HostTensor>> {
  const out: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') {
      throw new CinderArgumentError(`dtype of tensor "${name}"`, t.dtype, 'float32, int32 or bool');
    }
    const d = await t.data();
    // copies of the same type copy bytes (`from` would pass each value through a JS number)
    const data = t.dtype === 'int32' ? copyAs(Int32Array, d) : t.dtype === 'bool' ? copyAs(Uint8Array, d) : copyAs(Float32Array, d);
    setOwn(out, name, { data, shape: [...t.shape], dtype: t.dtype, group });
  }
  return out;
}

/** Encodes host arrays into a manifest and weights (in the order of `tensors`). */
export function encodeTensors(
  tensors: Record<string, HostTensor>,
  info: { extras?: Record<string, Record<string, unknown>>; metadata?: Record<string, unknown> } = {},
): TensorsArtifacts {
  const specs: WeightSpec[] = [];
  let total = 0;
  for (const [name, h] of Object.entries(tensors)) {
    if (!Object.hasOwn(BYTES, h.dtype)) throw new CinderArgumentError(`dtype of tensor "${name}"`, h.dtype, 'float32, int32 or bool');
    if (numel(h.shape) !== h.data.length) throw new CinderArgumentError(`shape of tensor "${name}"`, h.shape, `a shape with ${h.data.length} elements`);
    specs.push({ name, shape: [...h.shape], dtype: h.dtype, group: h.group ?? 'tensor' });
    total += h.data.length * BYTES[h.dtype];
  }
  const data = new Uint8Array(total);
  const view = new DataView(data.buffer);
  let off = 0;
  for (const s of specs) {
    const values = tensors[s.name]!.data;
    const raw = s.dtype === 'float32' ? values instanceof Float32Array : s.dtype === 'int32' ? values instanceof Int32Array : false;
    if (raw) {
      // the bytes themselves, not the values through JS numbers (which would quiet a signalling NaN)
      putLittleEndian32(data, off, values as Float32Array | Int32Array);
      off += values.byteLength;
      continue;
    }
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      if (s.dtype === 'float32') view.setFloat32(off, x, true);
      else if (s.dtype === 'int32') view.setInt32(off, x, true);
      else view.setUint8(off, x ? 1 : 0);
      off += BYTES[s.dtype];
    }
  }
  const sum = hex(crc32(data));
  return {
    manifest: {
      format: TENSORS_FORMAT,
      version: TENSORS_FORMAT_VERSION,
      extras: info.extras ?? {},
      metadata: info.metadata ?? {},
      weightsManifest: [{ paths: [weightsFileName(sum)], weights: specs }],
      weightsByteLength: total,
      weightsChecksum: sum,
    },
    weightData: data,
  };
}

/**
 * Checks format, version, byte length and checksum of the weights (not of the manifest text; see
 * {@link readTensorFolder}). Throws before anything is decoded.
 */
export function checkArtifacts(artifacts: TensorsArtifacts, where = 'manifest'): WeightSpec[] {
  const { manifest, weightData } = artifacts;
  if (!manifest || manifest.format !== TENSORS_FORMAT) {
    throw new CinderArgumentError(`${where}.format`, manifest?.format, JSON.stringify(TENSORS_FORMAT));
  }
  if (manifest.version !== TENSORS_FORMAT_VERSION) {
    throw new CinderArgumentError(`${where}.version`, manifest.version, `${TENSORS_FORMAT_VERSION} (the version this build reads)`);
  }
  const specs = (manifest.weightsManifest ?? []).flatMap((g) => g.weights ?? []);
  for (const s of specs) {
    if (!s || typeof s.name !== 'string' || !Object.hasOwn(BYTES, s.dtype) || !Array.isArray(s.shape) || s.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new CinderArgumentError(`${where} tensor entry`, s, '{ name, shape, dtype: float32|int32|bool }');
    }
  }
  const total = specs.reduce((n, s) => n + numel(s.shape) * BYTES[s.dtype], 0);
  if (weightData.byteLength !== total || manifest.weightsByteLength !== total) {
    throw new CinderArgumentError('weights byte length', weightData.byteLength, `${total} bytes as listed in the manifest (the file is truncated or damaged)`);
  }
  const sum = hex(crc32(weightData));
  if (sum !== manifest.weightsChecksum) {
    throw new CinderArgumentError('weights checksum', sum, `${manifest.weightsChecksum} as in the manifest (the weights are damaged or belong to another save)`);
  }
  return specs;
}

/** Decodes checked artifacts into host arrays by name (see {@link checkArtifacts}). */
export function decodeTensors(artifacts: TensorsArtifacts): Record<string, HostTensor> {
  const specs = checkArtifacts(artifacts);
  const { weightData } = artifacts;
  const out: Record<string, HostTensor> = {};
  let off = 0;
  for (const s of specs) {
    const n = numel(s.shape);
    const data = s.dtype === 'int32' ? new Int32Array(n) : s.dtype === 'bool' ? new Uint8Array(n) : new Float32Array(n);
    // byte copies (values through JS numbers would quiet a signalling NaN)
    if (s.dtype === 'bool') data.set(weightData.subarray(off, off + n));
    else getLittleEndian32(data as Float32Array | Int32Array, weightData.subarray(off, off + 4 * n));
    off += n * BYTES[s.dtype];
    if (Object.hasOwn(out, s.name)) throw new CinderArgumentError('tensor name in the file', s.name, 'each name listed once');
    setOwn(out, s.name, { data, shape: [...s.shape], dtype: s.dtype, group: s.group ?? 'tensor' });
  }
  return out;
}

type KeyPath = (string | number)[];

/**
 * `value` as JSON would see it (`toJSON` applied, typed arrays as arrays) with every non-finite
 * number replaced by `"NaN"`, `"Infinity"` or `"-Infinity"`; the key paths replaced go to `paths`.
 */
function encodeNonFinite(value: unknown, key: string, path: KeyPath, paths: KeyPath[], ancestors: Set<unknown>): unknown {
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON(k: string): unknown }).toJSON(key);
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return v;
    paths.push(path);
    return String(v);
  }
  if (v === null || typeof v !== 'object' || ancestors.has(v)) return v; // a cycle: toJson reports it
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) v = Array.from(v as unknown as ArrayLike<number>);
  ancestors.add(v);
  let out: unknown;
  if (Array.isArray(v)) out = v.map((x, i) => encodeNonFinite(x, String(i), [...path, i], paths, ancestors));
  else {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = encodeNonFinite(x, k, [...path, k], paths, ancestors);
    out = o;
  }
  ancestors.delete(v);
  return out;
}

/** JSON text of a manifest (without its checksum key) with `manifestChecksum` added: the CRC-32 of the text without it. */
function checksummedText(rest: Record<string, unknown>): string {
  const body = toJson(rest);
  return toJson({ ...rest, manifestChecksum: hex(crc32(Buffer.from(body, 'utf8'))) });
}

/** The manifest's text as written: non-finite numbers as strings listed in `nonFinite` (see the module notes), then the checksum. */
function manifestText(manifest: TensorsManifest): string {
  const { manifestChecksum: _drop, nonFinite: _old, ...rest } = manifest as TensorsManifest & { nonFinite?: unknown };
  const paths: KeyPath[] = [];
  const encoded = encodeNonFinite(rest, '', [], paths, new Set()) as Record<string, unknown>;
  return checksummedText(paths.length > 0 ? { ...encoded, nonFinite: paths } : encoded);
}

/** Turns the entries listed in a read manifest's `nonFinite` back into numbers and drops the list. */
function restoreNonFinite(manifest: TensorsManifest, where: string): void {
  const m = manifest as TensorsManifest & { nonFinite?: unknown };
  if (!('nonFinite' in m)) return;
  const list = m.nonFinite;
  const expected = 'a list of key paths of "NaN", "Infinity" and "-Infinity" strings (the manifest is damaged)';
  if (!Array.isArray(list)) throw new CinderArgumentError(`${where} nonFinite`, list, expected);
  for (const path of list) {
    if (!Array.isArray(path) || path.length === 0 || path.some((k) => typeof k !== 'string' && !(Number.isInteger(k) && (k as number) >= 0))) {
      throw new CinderArgumentError(`${where} nonFinite`, path, expected);
    }
    let holder: unknown = m;
    for (const k of path.slice(0, -1)) holder = holder !== null && typeof holder === 'object' && Object.hasOwn(holder, k as PropertyKey) ? (holder as Record<string, unknown>)[k as string] : undefined;
    const last = path[path.length - 1] as string;
    const v = holder !== null && typeof holder === 'object' && Object.hasOwn(holder, last) ? (holder as Record<string, unknown>)[last] : undefined;
    if (v !== 'NaN' && v !== 'Infinity' && v !== '-Infinity') throw new CinderArgumentError(`${where} nonFinite`, path, expected);
    (holder as Record<string, unknown>)[last] = Number(v);
  }
  delete m.nonFinite;
}

const WEIGHTS_NAME = /^weights-[0-9a-f]{8}\.bin$/;
/** Temporary file of an atomic write: `.<name>.<pid>.<threadId>.<counter>.tmp` (an older Cinder's has no thread id). */
const TEMP_NAME = /^\.(?:model\.json|weights-[0-9a-f]{8}\.bin)\.(\d+)(?:\.\d+)?\.\d+\.tmp$/;
/** File name of the lock a save holds in its folder (see the module notes). */
export const SAVE_LOCK_FILE = '.save.lock';
/** How long a save waits by default for the folder's lock held by another save (ms). */
export const SAVE_LOCK_TIMEOUT_MS = 30_000;
/** How often a waiting save looks at the lock again (ms). */
const SAVE_LOCK_POLL_MS = 20;

/** Options of {@link writeTensorFolder} and {@link saveTensors}. */
export interface TensorFolderWriteOptions {
  /** How long to wait for the folder's lock while another save holds it (ms, default {@link SAVE_LOCK_TIMEOUT_MS}). */
  lockTimeoutMs?: number;
}

/** Who holds a save lock, in words. */
function holderText(got: Extract<LockAttempt, { taken: false }>): string {
  return got.owner ? `process ${got.owner.pid} on ${got.owner.host}` : `a lock naming no process (${JSON.stringify(got.text.slice(0, 40))})`;
}

/**
 * Writes artifacts into folder `dir` (created if needed, see {@link ensureWritableDir}) as one
 * atomic save, holding the folder's lock: weights under their checksum name, then the manifest by
 * rename, then every weights file the manifest does not name, and temporary files of ended
 * processes, are removed (see the module notes).
 * @throws CinderArgumentError naming `dir` when another save holds its lock for longer than
 * `lockTimeoutMs`, or the lock cannot be created; and, before the folder is created, for
 * artifacts that fail {@link checkArtifacts} or metadata/extras that are not JSON (a cycle)
 */
export async function writeTensorFolder(dir: string, artifacts: TensorsArtifacts, options: TensorFolderWriteOptions = {}): Promise<void> {
  const timeoutMs = options.lockTimeoutMs ?? SAVE_LOCK_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || timeoutMs === Infinity) throw new CinderArgumentError('lockTimeoutMs', timeoutMs, 'a finite number of milliseconds >= 0');
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError('dir', dir, 'a directory path');
  // everything that can refuse the input runs before the folder is created
  checkArtifacts(artifacts);
  const file = weightsFileName(artifacts.manifest.weightsChecksum);
  const manifest: TensorsManifest = { ...artifacts.manifest, weightsManifest: artifacts.manifest.weightsManifest.map((g) => ({ ...g, paths: [file] })) };
  let text: string;
  try {
    text = manifestText(manifest);
  } catch (err) {
    throw new CinderArgumentError('metadata', manifest.metadata, `JSON-serializable metadata and extras (${(err as Error).message.split('\n')[0]})`);
  }
  await ensureWritableDir(dir);
  const folder = resolve(dir);
  const lock = join(folder, SAVE_LOCK_FILE);
  const me = hostPidText();
  let got: LockAttempt;
  try {
    got = await waitForLock(lock, me, hostPidOwner, { timeoutMs, pollMs: SAVE_LOCK_POLL_MS, unreadable: 'held' });
  } catch (err) {
    throw new CinderArgumentError('dir', dir, `a folder in which the save lock ${lock} can be created (${(err as Error).message})`);
  }
  if (!got.taken) {
    throw new CinderArgumentError('dir', dir, `a tensor folder no other save is writing (${holderText(got)} has held ${lock} for the ${timeoutMs} ms waited; remove the lock if no save is running)`);
  }
  try {
    removeLockLeftovers(lock);
    await writeFileAtomic(join(folder, file), artifacts.weightData); // (each atomic write also flushes the folder)
    await writeFileAtomic(join(folder, MANIFEST_FILE), text);
    // No other save runs here now: weights the manifest does not name are the replaced save's or
    // a killed save's. Temporary files go when the process named in them has ended.
    for (const name of await readdir(folder)) {
      if (WEIGHTS_NAME.test(name)) {
        if (name !== file) await rm(join(folder, name), { force: true });
        continue;
      }
      const pid = TEMP_NAME.exec(name)?.[1];
      if (pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid))) await rm(join(folder, name), { force: true });
    }
  } finally {
    releaseLockFile(lock, me);
  }
}

/**
 * Reads a folder written by {@link writeTensorFolder}: checks the manifest checksum, then reads
 * the weights it names and checks their length and checksum.
 * @throws CinderArgumentError naming the folder and what is wrong (missing, damaged, other format)
 */
export async function readTensorFolder(dir: string): Promise<TensorsArtifacts> {
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError('dir', dir, 'a directory path');
  // A save may remove the weights the manifest just read names (it swapped in a new manifest
  // meanwhile): then manifest and weights are read again, 10 times at most. Again even when the
  // manifest reads the same as before: a later save of the same tensors may have swapped the same
  // manifest back in and written its weights again (A → B → A) after the first read failed.
  for (let attempt = 0; ; attempt++) {
    const text = await readManifestText(dir);
    const manifest = parseManifest(dir, text);
    const file = manifest.weightsManifest?.[0]?.paths?.[0];
    if (typeof file !== 'string' || basename(file) !== file) throw new CinderArgumentError(`${MANIFEST_FILE} weights path`, file, 'a file name in the same folder');
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(join(dir, file)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 10) continue;
      throw new CinderArgumentError('dir', dir, `a folder holding ${MANIFEST_FILE} and ${file} (${(err as Error).message})`);
    }
    const artifacts = { manifest, weightData: bytes };
    checkArtifacts(artifacts, `${basename(dir)}/${MANIFEST_FILE}`);
    return artifacts;
  }
}

async function readManifestText(dir: string): Promise<string> {
  try {
    return await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    throw new CinderArgumentError('dir', dir, `a folder holding ${MANIFEST_FILE} and its weights file (${(err as Error).message})`);
  }
}

/** The manifest in `text` (of folder `dir`), its checksum checked and non-finite numbers restored. */
function parseManifest(dir: string, text: string): TensorsManifest {
  let manifest: TensorsManifest;
  try {
    manifest = JSON.parse(text) as TensorsManifest;
  } catch (err) {
    throw new CinderArgumentError(`${basename(dir)}/${MANIFEST_FILE}`, text.slice(0, 40), `valid JSON (${(err as Error).message}; the file is damaged)`);
  }
  if (manifest === null || typeof manifest !== 'object') throw new CinderArgumentError(`${basename(dir)}/${MANIFEST_FILE}`, manifest, 'a manifest object');
  if (manifest.format === TENSORS_FORMAT && manifest.version === TENSORS_FORMAT_VERSION) {
    const { manifestChecksum: _sum, ...rest } = manifest;
    if (checksummedText(rest) !== text) {
      throw new CinderArgumentError(`${join(dir, MANIFEST_FILE)} checksum`, manifest.manifestChecksum, 'the checksum of its content (the manifest is damaged)');
    }
    restoreNonFinite(manifest, join(dir, MANIFEST_FILE));
  } else {
    checkArtifacts({ manifest, weightData: new Uint8Array(0) }, `${basename(dir)}/${MANIFEST_FILE}`);
  }
  return manifest;
}

/**
 * Saves named tensors (downloaded once each) with free-form metadata into folder `dir`,
 * atomically, holding the folder's save lock (see {@link writeTensorFolder}).
 */
export async function saveTensors(dir: string, tensors: Record<string, tf.Tensor>, metadata: Record<string, unknown> = {}, options: TensorFolderWriteOptions = {}): Promise<void> {
  await writeTensorFolder(dir, encodeTensors(await toHost(tensors), { metadata }), options);
}

/** Tensors read back by {@link loadTensors}. */
export interface LoadedTensors {
  /** The tensors by name (owned by the caller). */
  tensors: Record<string, tf.Tensor>;
  /** The metadata saved with them. */
  metadata: Record<string, unknown>;
}

/** Loads every tensor of a saved folder (checked, see {@link readTensorFolder}); the caller owns them. */
export async function loadTensors(dir: string): Promise<LoadedTensors> {
  const art = await readTensorFolder(dir);
  const host = decodeTensors(art);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [n, h] of Object.entries(host)) setOwn(tensors, n, tf.tensor(h.data, h.shape, h.dtype));
  return { tensors, metadata: art.manifest.metadata ?? {} };
}
