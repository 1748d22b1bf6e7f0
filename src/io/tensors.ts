/**
 * The one tensor format of Cinder (module saves, network checkpoints, run artifacts), and the one
 * loader that reads it.
 *
 * A saved set of tensors is a folder holding:
 * - `model.json`: the manifest — `format: "cinder-tensors"`, `version`, `extras` (per-module
 *   settings of a saved module, `{}` otherwise), `metadata` (free JSON), a tfjs-style
 *   `weightsManifest` (one group: `paths`, the weights files in order, and `weights`, the `name`,
 *   `shape`, `dtype`, `group` of every tensor in storage order), the byte length and CRC-32 of the
 *   weights (all files together), and `manifestChecksum`, the CRC-32 of the manifest's own JSON
 *   text without that key;
 * - the weights files (shards) `weights-<crc32>.bin`, each named by the CRC-32 of its own bytes:
 *   the values concatenated in manifest order, little-endian (float32 and int32 as 4 bytes, bool as
 *   1 byte), cut into files of `shardBytes` bytes each (1 GiB by default, {@link SHARD_BYTES}),
 *   the last shorter. A tensor may span two or more files: the cut ignores tensor boundaries, so
 *   every file but the last has the same size, and the concatenated files are the tfjs weights
 *   layout — `tf.io.decodeWeights` reads the concatenation of the files listed in `paths`, in
 *   order, with the manifest's `weights`. A save of at most `shardBytes` bytes is one file (an
 *   empty one for no bytes at all), exactly the layout of saves made before shards, which load as
 *   they always did. Two identical shards are one file, listed twice.
 *
 * Saves stream and reads use positioned reads, so a save may be of any size: a save writes its
 * tensors to the weights files one after another (views of their memory, or converted pieces of
 * at most 16 MiB), never building an array of the whole weights; a save of device tensors
 * ({@link writeTensors}, {@link saveTensors}) downloads each only when the one before it is
 * written, so it holds about one tensor in host memory; a read opens every weights file,
 * then reads each tensor's bytes straight into its own typed array in reads of at most 1 GiB. One
 * tensor is limited to the largest typed array of the Node.js version (`buffer.kMaxLength`
 * elements: 2^32 on Node 20), checked before anything is written or allocated.
 *
 * The weights files are named by their checksums, so saving over an existing folder never
 * replaces the content of a file the current manifest names: the new weights files are written
 * (temporary file, fsync, rename; the folder flushed after the last), then the manifest is swapped
 * in by one atomic rename, then every weights file of the manifest it replaced is deleted. A
 * process killed at any moment leaves the previous save or the new one, both loadable; a save
 * that fails (a full disk) removes the weights files it created and leaves the previous save; one
 * that fails after its manifest was renamed into place (the folder's fsync) keeps that manifest and
 * its weights files (the new save, loadable) and reports the error.
 *
 * A save asks the write guards of its folder (`registerWriteGuard`, see `atomic.ts`: e.g. a run
 * folder whose lock was lost) before it creates anything (the folder, its save lock), again right
 * before each weights file is renamed into place and right before the manifest swap: a guard that
 * throws fails the save as a write error does — its temporary file and the weights files it added
 * are removed (those the folder's manifest names were there before it and stay), the manifest is
 * not replaced, and the guard's error is passed on.
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
 * of them and its weights files.
 *
 * Readers take no lock. A reader that read the previous manifest just before a save swapped in
 * the next may find one of its weights files removed: {@link readHostTensors} (and
 * {@link readTensorFolder}) then reads the new manifest and its weights (again while the manifest
 * keeps changing under it, up to 10 times), so a read running alongside saves returns one
 * complete save, checked, never a mix, and does not fail for a weights file removed under it.
 * Every weights file is opened before any is read, and a file once opened is read to the end even
 * if it is removed meanwhile (POSIX). Only saves through this module take the lock: a program
 * writing the folder otherwise (or an older Cinder) is not kept out.
 *
 * JSON has no NaN or Infinity: a non-finite number in the manifest (in `metadata` or `extras`) is
 * written as the string `"NaN"`, `"Infinity"` or `"-Infinity"`, and its key path is listed in the
 * manifest's `nonFinite` (e.g. `[["metadata", "loss"]]`); reading turns exactly those entries back
 * into numbers (a string that merely reads "NaN" stays a string) and drops `nonFinite`.
 *
 * Reading checks the manifest checksum and the weights' byte length before any weights are read,
 * and the checksum of every weights file (against its name) and of the weights as a whole
 * (against the manifest) before anything is returned: a flipped byte in any file is reported,
 * never loaded.
 * @module
 */
import { kMaxLength } from 'node:buffer';
import { existsSync } from 'node:fs';
import { open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { share, tf } from '../core/tf.js';
import { CinderArgumentError, checkOptionKeys, numel, optionKeys } from '../core/errors.js';
import { AtomicFileWriter, ensureWritableDir, startGuardedWrite, syncFolder, toJson, type GuardedWrite } from './atomic.js';
import { hostPidOwner, hostPidText, releaseLockFile, removeLockLeftovers, waitForLock, type LockAttempt } from './lock.js';
import { crc32, crc32Combine, LITTLE_ENDIAN_HOST } from './npy.js';
import { processAlive } from './process-alive.js';

/** Format name written into every manifest. */
export const TENSORS_FORMAT = 'cinder-tensors';
/**
 * Newest version written: 3 when the weights are in several shards, 2 (the earlier layout, byte for
 * byte, readable by earlier builds) for one weights file or none. Both are read; 1 was the
 * unchecked run-artifact format, no longer read. A build that reads only 2 refuses a sharded save
 * with a clear version error instead of a wrong byte length.
 */
export const TENSORS_FORMAT_VERSION = 3;
/** Version of a save whose weights are one file (or none): the layout before sharding. */
export const TENSORS_FORMAT_VERSION_SINGLE = 2;
/** Whether `v` is a version this build reads. */
function readableVersion(v: unknown): boolean {
  return v === TENSORS_FORMAT_VERSION || v === TENSORS_FORMAT_VERSION_SINGLE;
}
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
  /** Files holding the group's values, concatenated in this order (`weights-<crc32>.bin` shards, see the module notes). */
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
  /** tfjs-style weights manifest (one group; one or more files). */
  weightsManifest: WeightGroup[];
  /** Byte length of the weights (all files together). */
  weightsByteLength: number;
  /** CRC-32 of the weights (all files concatenated), 8 hex digits. */
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

/** A saved set of tensors held in memory (as one array: limited to `buffer.kMaxLength` bytes; see {@link writeHostTensors} and {@link readHostTensors} for any size). */
export interface TensorsArtifacts {
  /** The manifest. */
  manifest: TensorsManifest;
  /** The weights (little-endian, manifest order). */
  weightData: Uint8Array;
}

const BYTES: Record<SavedDtype, number> = { float32: 4, int32: 4, bool: 1 };
const GROUPS: readonly TensorGroup[] = ['parameter', 'state', 'tensor'];

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

/**
 * Downloads tensors to host arrays (one `await data()` each, copied; call outside step loops). All
 * of them are held in host memory at once: to save tensors, {@link writeTensors} streams them.
 */
export async function toHost(tensors: Record<string, tf.Tensor>, group: TensorGroup = 'tensor'): Promise<Record<string, HostTensor>> {
  const out: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') {
      throw new CinderArgumentError(`dtype of tensor "${name}"`, t.dtype, 'float32, int32 or bool');
    }
    if (t.size > kMaxLength) throw new CinderArgumentError(`shape of tensor "${name}"`, t.shape, `at most ${kMaxLength} elements (the largest typed array of this Node.js)`);
  }
  for (const [name, t] of Object.entries(tensors)) {
    const d = await t.data();
    // copies of the same type copy bytes (`from` would pass each value through a JS number)
    const data = t.dtype === 'int32' ? copyAs(Int32Array, d) : t.dtype === 'bool' ? copyAs(Uint8Array, d) : copyAs(Float32Array, d);
    setOwn(out, name, { data, shape: [...t.shape], dtype: t.dtype as SavedDtype, group });
  }
  return out;
}

/**
 * Encodes host arrays into a manifest and weights (in the order of `tensors`), in memory: limited
 * to weights of `buffer.kMaxLength` bytes; {@link writeHostTensors} saves them without that limit.
 */
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
      version: TENSORS_FORMAT_VERSION_SINGLE,
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
 * Checks format, version, tensor entries, and (unless `withData` is false: the manifest alone)
 * byte length and checksum of the weights (not of the manifest text; see
 * {@link readTensorFolder}). Throws before anything is decoded.
 */
export function checkArtifacts(artifacts: TensorsArtifacts, where = 'manifest', withData = true): WeightSpec[] {
  const { manifest, weightData } = artifacts;
  if (!manifest || manifest.format !== TENSORS_FORMAT) {
    throw new CinderArgumentError(`${where}.format`, manifest?.format, JSON.stringify(TENSORS_FORMAT));
  }
  if (!readableVersion(manifest.version)) {
    throw new CinderArgumentError(`${where}.version`, manifest.version, `${TENSORS_FORMAT_VERSION_SINGLE} or ${TENSORS_FORMAT_VERSION} (the versions this build reads)`);
  }
  const shardCount = (manifest.weightsManifest ?? []).reduce((n, g) => n + (Array.isArray(g?.paths) ? g.paths.length : 0), 0);
  if (manifest.version === TENSORS_FORMAT_VERSION_SINGLE && shardCount > 1) {
    throw new CinderArgumentError(`${where}.version`, manifest.version, `${TENSORS_FORMAT_VERSION} for weights in ${shardCount} shards (version ${TENSORS_FORMAT_VERSION_SINGLE} has one weights file)`);
  }
  const specs = (manifest.weightsManifest ?? []).flatMap((g) => g.weights ?? []);
  for (const s of specs) {
    if (!s || typeof s.name !== 'string' || !Object.hasOwn(BYTES, s.dtype) || !Array.isArray(s.shape) || s.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new CinderArgumentError(`${where} tensor entry`, s, '{ name, shape, dtype: float32|int32|bool }');
    }
  }
  if (!withData) return specs;
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
/**
 * Temporary file of an atomic write: `.<name>.<pid>.<threadId>.<counter>.tmp` (an older Cinder's
 * has no thread id); a weights file being written, whose name is its checksum, is `.weights.bin.…`.
 */
const TEMP_NAME = /^\.(?:model\.json|weights(?:-[0-9a-f]{8})?\.bin)\.(\d+)(?:\.\d+)?\.\d+\.tmp$/;
/** File name of the lock a save holds in its folder (see the module notes). */
export const SAVE_LOCK_FILE = '.save.lock';
/** How long a save waits by default for the folder's lock held by another save (ms). */
export const SAVE_LOCK_TIMEOUT_MS = 30_000;
/** How often a waiting save looks at the lock again (ms). */
const SAVE_LOCK_POLL_MS = 20;
/** Default size of a weights file (shard) of a save: 1 GiB (see the module notes). */
export const SHARD_BYTES = 2 ** 30;
/** Largest single read, write or checksum call (file system calls take at most 2 GiB − 1 bytes). */
const IO_CHUNK = 2 ** 30;
/** Piece size of values converted to other bytes (another dtype, a big-endian host). */
const CONVERT_CHUNK = 2 ** 24;

/** Options of {@link writeTensorFolder}, {@link writeHostTensors} and {@link saveTensors}. */
export interface TensorFolderWriteOptions {
  /** How long to wait for the folder's lock while another save holds it (ms, default {@link SAVE_LOCK_TIMEOUT_MS}). */
  lockTimeoutMs?: number;
  /**
   * Size of each weights file in bytes (the last may be shorter; default {@link SHARD_BYTES});
   * an integer >= 1. Small values split even small saves into many files (tests).
   */
  shardBytes?: number;
}

/** The keys of {@link TensorFolderWriteOptions}: other keys are refused ("invalid options key"). */
export const TENSOR_FOLDER_WRITE_OPTION_KEYS = optionKeys<TensorFolderWriteOptions>()(['lockTimeoutMs', 'shardBytes']);

/** Who holds a save lock, in words. */
function holderText(got: Extract<LockAttempt, { taken: false }>): string {
  return got.owner ? `process ${got.owner.pid} on ${got.owner.host}` : `a lock naming no process (${JSON.stringify(got.text.slice(0, 40))})`;
}

/** The little-endian bytes of a 4-byte typed array's items `[from, to)`: a view on a little-endian host, a swapped copy otherwise. */
function rawBytes(values: Float32Array | Int32Array | Uint8Array, from: number, to: number): Uint8Array {
  const part = values.subarray(from, to);
  const view = new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
  if (LITTLE_ENDIAN_HOST || values.BYTES_PER_ELEMENT === 1) return view;
  const out = view.slice();
  for (let p = 0; p < out.length; p += 4) out.subarray(p, p + 4).reverse();
  return out;
}

/**
 * The stored bytes of one host tensor in pieces of at most 1 GiB: views of its own memory when
 * its typed array is of the stored kind (float32 as Float32Array, int32 as Int32Array) on a
 * little-endian host — bytes as they are, NaN payloads included — and converted copies of at most
 * 16 MiB otherwise (values through JS numbers; bool as 0/1).
 */
function* hostPieces(s: WeightSpec, values: HostTensor['data']): Generator<Uint8Array> {
  const raw = s.dtype === 'float32' ? values instanceof Float32Array : s.dtype === 'int32' ? values instanceof Int32Array : false;
  const size = BYTES[s.dtype];
  const step = (raw && LITTLE_ENDIAN_HOST ? IO_CHUNK : CONVERT_CHUNK) / size;
  for (let i = 0; i < values.length; i += step) {
    const end = Math.min(values.length, i + step);
    if (raw) {
      yield rawBytes(values, i, end);
      continue;
    }
    const out = new Uint8Array((end - i) * size);
    const view = new DataView(out.buffer);
    for (let j = i, off = 0; j < end; j++, off += size) {
      const x = values[j]!;
      if (s.dtype === 'float32') view.setFloat32(off, x, true);
      else if (s.dtype === 'int32') view.setInt32(off, x, true);
      else view.setUint8(off, x ? 1 : 0);
    }
    yield out;
  }
}

/**
 * Writes a save's weights, in the order given, as weights files of `shardBytes` bytes each (the
 * last shorter; a tensor may span two or more), each through a temporary file that is fsynced and
 * renamed to `weights-<crc32 of the file>.bin`; the folder is flushed once after the last.
 */
class ShardWriter {
  /** File names of the shards written, in order. */
  readonly paths: string[] = [];
  /** Shards this writer created (no file of that name existed): removed if the save fails. */
  readonly created: string[] = [];
  /** Bytes written in all. */
  total = 0;
  /** CRC-32 of all bytes written. */
  totalCrc = 0;
  private file: AtomicFileWriter | undefined;
  private crc = 0;

  constructor(
    private readonly folder: string,
    private readonly shardBytes: number,
    /** The save as the write guards see it: asked when each shard is opened and right before its rename. */
    private readonly guard: GuardedWrite,
  ) {}

  /** Appends `bytes` (at most 1 GiB), closing a shard whenever it is full. */
  async push(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length; ) {
      this.file ??= await this.open();
      const part = bytes.subarray(off, off + Math.min(bytes.length - off, this.shardBytes - this.file.bytesWritten));
      await this.file.write(part);
      this.crc = crc32(part, this.crc);
      off += part.length;
      if (this.file.bytesWritten === this.shardBytes) await this.close();
    }
  }

  private async close(): Promise<void> {
    const file = this.file!;
    this.file = undefined;
    const name = weightsFileName(hex(this.crc));
    const path = join(this.folder, name);
    const existed = existsSync(path);
    await file.commit(path, false);
    if (!existed && !this.created.includes(name)) this.created.push(name);
    this.paths.push(name);
    this.totalCrc = crc32Combine(this.totalCrc, this.crc, file.bytesWritten);
    this.total += file.bytesWritten;
    this.crc = 0;
  }

  /** Opens the next shard's temporary file, after asking the save's write guards. */
  private open(): Promise<AtomicFileWriter> {
    const path = join(this.folder, 'weights.bin');
    this.guard.check(path);
    return AtomicFileWriter.open(path, this.guard);
  }

  /** Closes the last shard (an empty one for weights of 0 bytes) and flushes the folder. */
  async finish(): Promise<void> {
    if (this.file === undefined && this.paths.length === 0) this.file = await this.open();
    if (this.file !== undefined) await this.close();
    await syncFolder(this.folder);
  }

  /** Removes the shard being written and the shards this writer created. */
  async abort(): Promise<void> {
    await this.file?.abort();
    this.file = undefined;
    for (const name of this.created) await rm(join(this.folder, name), { force: true }).catch(() => undefined);
  }
}

/** Checks the write options; returns the lock timeout and shard size. */
function writeOptions(options: TensorFolderWriteOptions): { timeoutMs: number; shardBytes: number } {
  if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, '{ lockTimeoutMs?, shardBytes? }');
  checkOptionKeys('options', options, TENSOR_FOLDER_WRITE_OPTION_KEYS);
  const timeoutMs = options.lockTimeoutMs ?? SAVE_LOCK_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || timeoutMs === Infinity) throw new CinderArgumentError('lockTimeoutMs', timeoutMs, 'a finite number of milliseconds >= 0');
  const shardBytes = options.shardBytes ?? SHARD_BYTES;
  if (!Number.isSafeInteger(shardBytes) || shardBytes < 1) throw new CinderArgumentError('shardBytes', shardBytes, 'an integer number of bytes >= 1');
  return { timeoutMs, shardBytes };
}

/**
 * The one save procedure (see the module notes): holding the folder's lock, writes the weights
 * `pieces` (in storage order, `total` bytes in all) as shards, swaps in the manifest `base` with
 * their paths, length and checksum, then removes every weights file it does not name and the
 * temporary files of ended processes. A failed save removes the shards it created and leaves the
 * folder's save as it was.
 */
async function writeFolder(
  dir: string,
  base: TensorsManifest,
  specs: WeightSpec[],
  total: number,
  pieces: () => Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  options: TensorFolderWriteOptions,
): Promise<void> {
  const { timeoutMs, shardBytes } = writeOptions(options);
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError('dir', dir, 'a directory path');
  const manifestOf = (paths: string[], sum: string): TensorsManifest => ({
    ...base,
    version: paths.length > 1 ? TENSORS_FORMAT_VERSION : TENSORS_FORMAT_VERSION_SINGLE,
    weightsManifest: [{ paths, weights: specs }],
    weightsByteLength: total,
    weightsChecksum: sum,
  });
  // everything that can refuse the input runs before the folder is created
  try {
    manifestText(manifestOf([], '00000000'));
  } catch (err) {
    throw new CinderArgumentError('metadata', base.metadata, `JSON-serializable metadata and extras (${(err as Error).message.split('\n')[0]})`);
  }
  // a write guard of the folder (see atomic.ts) that refuses: nothing created, not even the folder;
  // the save is begun with the guards that follow writes (a run folder waits for it) until it has ended
  const guard = startGuardedWrite(join(resolve(dir), MANIFEST_FILE));
  try {
    await writeFolderGuarded(dir, manifestOf, total, pieces, timeoutMs, shardBytes, guard);
  } finally {
    guard.end();
  }
}

/** The body of {@link writeFolder}, once its guards let it start. */
async function writeFolderGuarded(
  dir: string,
  manifestOf: (paths: string[], sum: string) => TensorsManifest,
  total: number,
  pieces: () => Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  timeoutMs: number,
  shardBytes: number,
  guard: GuardedWrite,
): Promise<void> {
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
    const shards = new ShardWriter(folder, shardBytes, guard);
    let text: string | undefined;
    try {
      for await (const piece of pieces()) await shards.push(piece);
      await shards.finish();
      if (shards.total !== total) throw new Error(`internal: ${shards.total} weight bytes written, ${total} expected`);
      // (the atomic write also flushes the folder)
      text = manifestText(manifestOf(shards.paths, hex(shards.totalCrc)));
      // (a part of this save: its guards, followed since it started, are asked before and right before the rename)
      guard.check(join(folder, MANIFEST_FILE));
      const manifest = await AtomicFileWriter.open(join(folder, MANIFEST_FILE), guard);
      try {
        await manifest.write(Buffer.from(text, 'utf8'));
      } catch (err) {
        await manifest.abort();
        throw err;
      }
      await manifest.commit(join(folder, MANIFEST_FILE));
    } catch (err) {
      // the manifest may be in place already (its rename went through, the folder's fsync after it
      // failed): then the shards it names stay, or the folder would name removed files
      const placed = text !== undefined && (await readFile(join(folder, MANIFEST_FILE), 'utf8').catch(() => null)) === text;
      if (!placed) await shards.abort();
      throw err;
    }
    // No other save runs here now: weights files the manifest does not name are the replaced
    // save's or a killed save's. Temporary files go when the process named in them has ended.
    const keep = new Set(shards.paths);
    for (const name of await readdir(folder)) {
      if (WEIGHTS_NAME.test(name)) {
        if (!keep.has(name)) await rm(join(folder, name), { force: true });
        continue;
      }
      const pid = TEMP_NAME.exec(name)?.[1];
      if (pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid))) await rm(join(folder, name), { force: true });
    }
  } finally {
    releaseLockFile(lock, me);
  }
}

/** The manifest fields other than the weights (kept in the order of `m`). */
function manifestBase(m: TensorsManifest): TensorsManifest {
  return { ...m, extras: m.extras ?? {}, metadata: m.metadata ?? {} };
}

/**
 * Writes artifacts into folder `dir` (created if needed, see {@link ensureWritableDir}) as one
 * atomic save, holding the folder's lock: the weights as shards named by their checksums, then the
 * manifest by rename, then every weights file the manifest does not name, and temporary files of
 * ended processes, are removed (see the module notes). For saves too large to hold as one array
 * see {@link writeHostTensors}.
 * @throws CinderArgumentError naming `dir` when another save holds its lock for longer than
 * `lockTimeoutMs`, or the lock cannot be created; and, before the folder is created, for
 * artifacts that fail {@link checkArtifacts}, metadata/extras that are not JSON (a cycle) or bad
 * options
 */
export async function writeTensorFolder(dir: string, artifacts: TensorsArtifacts, options: TensorFolderWriteOptions = {}): Promise<void> {
  writeOptions(options);
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError('dir', dir, 'a directory path');
  const specs = checkArtifacts(artifacts);
  const data = artifacts.weightData;
  await writeFolder(dir, manifestBase(artifacts.manifest), specs, data.length, function* () {
    for (let off = 0; off < data.length; off += IO_CHUNK) yield data.subarray(off, off + IO_CHUNK);
  }, options);
}

/**
 * Checks host tensors for saving (dtype, `data` a typed array of `prod(shape)` values, group) and returns
 * their manifest entries and byte length in all.
 */
function hostSpecs(tensors: Record<string, HostTensor>): { specs: WeightSpec[]; total: number } {
  if (tensors === null || typeof tensors !== 'object') throw new CinderArgumentError('tensors', tensors, 'host tensors by name ({ data, shape, dtype, group })');
  const specs: WeightSpec[] = [];
  let total = 0;
  for (const [name, h] of Object.entries(tensors)) {
    if (h === null || typeof h !== 'object' || !(h.data instanceof Float32Array || h.data instanceof Int32Array || h.data instanceof Uint8Array) || !Array.isArray(h.shape)) {
      throw new CinderArgumentError(`tensor "${name}"`, h, '{ data: Float32Array | Int32Array | Uint8Array, shape, dtype, group? }');
    }
    if (!Object.hasOwn(BYTES, h.dtype)) throw new CinderArgumentError(`dtype of tensor "${name}"`, h.dtype, 'float32, int32 or bool');
    if (h.shape.some((d) => !Number.isInteger(d) || d < 0) || numel(h.shape) !== h.data.length) throw new CinderArgumentError(`shape of tensor "${name}"`, h.shape, `a shape with ${h.data.length} elements`);
    const group = h.group ?? 'tensor';
    if (!GROUPS.includes(group)) throw new CinderArgumentError(`group of tensor "${name}"`, group, GROUPS.join(', '));
    specs.push({ name, shape: [...h.shape], dtype: h.dtype, group });
    total += h.data.length * BYTES[h.dtype];
  }
  return { specs, total };
}

/**
 * Saves host tensors (in the order of `tensors`) with `extras` and `metadata` into folder `dir`
 * like {@link writeTensorFolder}, streaming: the values go to the weights files tensor by tensor
 * (as views of their memory where the typed array is of the stored kind, in converted pieces of
 * 16 MiB otherwise), so no array of the whole weights is built and a save may be of any size.
 * @throws CinderArgumentError, before anything is written, for a bad tensor (dtype, shape, data, group),
 * metadata/extras that are not JSON, bad options; naming `dir` for a lock not obtained
 */
export async function writeHostTensors(
  dir: string,
  tensors: Record<string, HostTensor>,
  info: { extras?: Record<string, Record<string, unknown>>; metadata?: Record<string, unknown> } = {},
  options: TensorFolderWriteOptions = {},
): Promise<void> {
  writeOptions(options);
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError('dir', dir, 'a directory path');
  const { specs, total } = hostSpecs(tensors);
  const base = { format: TENSORS_FORMAT, version: TENSORS_FORMAT_VERSION_SINGLE, extras: info.extras ?? {}, metadata: info.metadata ?? {} } as TensorsManifest;
  await writeFolder(dir, base, specs, total, function* () {
    for (const s of specs) yield* hostPieces(s, tensors[s.name]!.data);
  }, options);
}

/** A device tensor to save with {@link writeTensors}, and its kind. */
export interface TensorToSave {
  /** The tensor (float32, int32 or bool; not disposed). */
  tensor: tf.Tensor;
  /** Kind of tensor (default `tensor`). */
  group?: TensorGroup;
}

/**
 * The host array whose stored bytes {@link hostPieces} writes for one downloaded tensor: the
 * download itself when it is of the stored kind (Float32Array for float32, Int32Array for int32,
 * Uint8Array for bool), else a converted copy, exactly as {@link toHost} converts it (so the bytes
 * written are those of `writeHostTensors(dir, await toHost(...))`).
 */
function storedArray(dtype: SavedDtype, d: ArrayLike<number>): HostTensor['data'] {
  const Ctor = dtype === 'int32' ? Int32Array : dtype === 'bool' ? Uint8Array : Float32Array;
  return d instanceof Ctor ? d : copyAs(Ctor as typeof Float32Array, d);
}

/**
 * Saves device tensors (in the order of `tensors`) with `extras` and `metadata` into folder `dir`
 * like {@link writeHostTensors} — the same files, byte for byte, as
 * `writeHostTensors(dir, await toHost(...))` — downloading them one at a time: each tensor is read
 * with one `await tensor.data()` only once the bytes of the tensor before it are in the weights
 * files, and its host values are dropped once written. So the host memory a save adds is about one
 * tensor (its download, plus a converted copy where the backend returns another array type), never
 * the sum of all: a save may be far larger than free host memory.
 *
 * The save takes its own handle on every tensor when called, before its first await (no copy:
 * tfjs tensors are immutable and handles share a buffer, see `share`), and releases each once
 * downloaded. What is saved is the tensors' values at the call, even if the caller disposes a
 * tensor or assigns a variable while the save runs (a training step meanwhile); the device memory
 * of a value so replaced stays held until the save has downloaded it. A download that fails
 * midway (a lost device) fails the save like a write error: the weights files it wrote are
 * removed, the folder's previous save stays, and the handles are released.
 * @throws CinderArgumentError, before anything is written, for an entry that is not
 * `{ tensor, group? }`, a disposed tensor, a dtype other than float32/int32/bool, a tensor of more
 * than `buffer.kMaxLength` elements, a group other than parameter/state/tensor, metadata/extras
 * that are not JSON, bad options; naming `dir` for a lock not obtained
 */
export async function writeTensors(
  dir: string,
  tensors: Record<string, TensorToSave>,
  info: { extras?: Record<string, Record<string, unknown>>; metadata?: Record<string, unknown> } = {},
  options: TensorFolderWriteOptions = {},
): Promise<void> {
  writeOptions(options);
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError('dir', dir, 'a directory path');
  if (tensors === null || typeof tensors !== 'object') throw new CinderArgumentError('tensors', tensors, 'tensors to save by name ({ tensor, group? })');
  const specs: WeightSpec[] = [];
  const sources: tf.Tensor[] = [];
  let total = 0;
  for (const [name, e] of Object.entries(tensors)) {
    const t = e !== null && typeof e === 'object' ? e.tensor : undefined;
    if (!(t instanceof tf.Tensor)) throw new CinderArgumentError(`tensor "${name}"`, e, '{ tensor: tf.Tensor, group? }');
    if (t.isDisposed) throw new CinderArgumentError(`tensor "${name}"`, 'a disposed tensor', 'a tensor not disposed (the save reads its values)');
    if (!Object.hasOwn(BYTES, t.dtype)) throw new CinderArgumentError(`dtype of tensor "${name}"`, t.dtype, 'float32, int32 or bool');
    if (t.size > kMaxLength) throw new CinderArgumentError(`shape of tensor "${name}"`, t.shape, `at most ${kMaxLength} elements (the largest typed array of this Node.js)`);
    const group = e.group ?? 'tensor';
    if (!GROUPS.includes(group)) throw new CinderArgumentError(`group of tensor "${name}"`, group, GROUPS.join(', '));
    specs.push({ name, shape: [...t.shape], dtype: t.dtype as SavedDtype, group });
    sources.push(t);
    total += t.size * BYTES[t.dtype as SavedDtype];
  }
  // own handles, taken now: the caller may dispose or replace its tensors while the save awaits
  const held: tf.Tensor[] = sources.map((t) => tf.keep(share(t)));
  const base = { format: TENSORS_FORMAT, version: TENSORS_FORMAT_VERSION_SINGLE, extras: info.extras ?? {}, metadata: info.metadata ?? {} } as TensorsManifest;
  try {
    await writeFolder(
      dir,
      base,
      specs,
      total,
      async function* () {
        for (let i = 0; i < specs.length; i++) {
          const s = specs[i]!;
          const d = await held[i]!.data();
          held[i]!.dispose(); // the device buffer, where no other handle holds it
          if (d.length !== numel(s.shape)) throw new Error(`internal: tensor "${s.name}" downloaded ${d.length} values, ${numel(s.shape)} expected`);
          yield* hostPieces(s, storedArray(s.dtype, d as ArrayLike<number>));
        }
      },
      options,
    );
  } finally {
    for (const t of held) t.dispose(); // (no-op for those released already)
  }
}

/** Options of {@link readHostTensors}. */
export interface TensorFolderReadOptions {
  /**
   * Called with the checked manifest before any weights are read (on every re-read: see the
   * module notes); throwing refuses the save before memory is allocated for it.
   */
  check?: (manifest: TensorsManifest) => void;
}

/** The keys of {@link TensorFolderReadOptions}: other keys are refused ("invalid options key"). */
export const TENSOR_FOLDER_READ_OPTION_KEYS = optionKeys<TensorFolderReadOptions>()(['check']);

/** A save read by {@link readHostTensors}. */
export interface HostTensorFolder {
  /** The manifest (checked). */
  manifest: TensorsManifest;
  /** The tensors by name, in storage order (checked). */
  tensors: Record<string, HostTensor>;
}

/** Where the bytes of a save go when read: byte ranges of fresh memory, in storage order. */
interface ReadPlan<T> {
  /** Lengths of the ranges (in all the weights' byte length). */
  sizes: number[];
  /** A view of bytes `[pos, pos + len)` of range `i` (len ≤ 1 GiB). */
  view(i: number, pos: number, len: number): Uint8Array;
  /** The result, once every byte is read and checked. */
  done(): T;
}

/** The manifest's tensor entries, checked as {@link checkArtifacts} checks them, and their byte length in all. */
function manifestSpecs(manifest: TensorsManifest, where: string): { specs: WeightSpec[]; total: number } {
  const specs = checkArtifacts({ manifest, weightData: new Uint8Array(0) }, where, false);
  let total = 0;
  const names = new Set<string>();
  for (const s of specs) {
    if (names.has(s.name)) throw new CinderArgumentError('tensor name in the file', s.name, 'each name listed once');
    names.add(s.name);
    const n = numel(s.shape);
    if (n > kMaxLength) throw new CinderArgumentError(`shape of tensor "${s.name}" in ${where}`, s.shape, `at most ${kMaxLength} elements (the largest typed array of this Node.js)`);
    total += n * BYTES[s.dtype];
  }
  if (manifest.weightsByteLength !== total) throw new CinderArgumentError(`${where} weightsByteLength`, manifest.weightsByteLength, `${total}, the bytes of the tensors it lists (the manifest is damaged)`);
  return { specs, total };
}

/** Fills `buf` from `fh` at byte `pos` (`path` names the file in errors). */
async function readAt(fh: FileHandle, buf: Uint8Array, pos: number, path: string): Promise<void> {
  for (let got = 0; got < buf.length; ) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, pos + got);
    if (bytesRead === 0) throw new CinderArgumentError(`weights file ${path}`, `the end of the file at byte ${pos + got}`, 'the length it had when opened (the file changed while being read)');
    got += bytesRead;
  }
}

/**
 * The one read procedure (see the module notes): the manifest (checksum checked), then its
 * weights files, all opened before any is read, into the memory `plan` gives, with positioned
 * reads of at most 1 GiB, checking every file's checksum against its name and the weights'
 * length and checksum against the manifest before returning `plan`'s result.
 */
async function readFolder<T>(dir: string, check: ((m: TensorsManifest) => void) | undefined, plan: (specs: WeightSpec[], total: number) => ReadPlan<T>): Promise<T> {
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError('dir', dir, 'a directory path');
  const where = `${basename(dir)}/${MANIFEST_FILE}`;
  // A save may remove the weights files the manifest just read names (it swapped in a new
  // manifest meanwhile): then manifest and weights are read again, 10 times at most. Again even
  // when the manifest reads the same as before: a later save of the same tensors may have swapped
  // the same manifest back in and written its weights again (A → B → A) after the first read
  // failed. Once every file is open, its removal no longer matters (POSIX).
  for (let attempt = 0; ; attempt++) {
    const manifest = parseManifest(dir, await readManifestText(dir));
    const { specs, total } = manifestSpecs(manifest, where);
    const paths = (manifest.weightsManifest ?? []).flatMap((g) => g.paths ?? []);
    if (paths.length === 0) throw new CinderArgumentError(`${MANIFEST_FILE} weights paths`, paths, 'one or more file names in the same folder');
    for (const file of paths) {
      if (typeof file !== 'string' || file === '' || basename(file) !== file) throw new CinderArgumentError(`${MANIFEST_FILE} weights path`, file, 'a file name in the same folder');
    }
    check?.(manifest);
    const files: FileHandle[] = [];
    let missing = false;
    try {
      for (const file of paths) {
        try {
          files.push(await open(join(dir, file), 'r'));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 10) {
            missing = true;
            break;
          }
          throw new CinderArgumentError('dir', dir, `a folder holding ${MANIFEST_FILE} and ${file} (${(err as Error).message})`);
        }
      }
      if (missing) continue;
      const sizes: number[] = [];
      for (const fh of files) sizes.push((await fh.stat()).size);
      const found = sizes.reduce((a, b) => a + b, 0);
      if (found !== total) throw new CinderArgumentError('weights byte length', found, `${total} bytes as listed in the manifest (a weights file is truncated or damaged)`);
      const into = plan(specs, total);
      const crcs = sizes.map(() => 0);
      let k = 0;
      let pos = 0;
      for (let i = 0; i < into.sizes.length; i++) {
        for (let done = 0; done < into.sizes[i]!; ) {
          while (pos === sizes[k]) [k, pos] = [k + 1, 0];
          const len = Math.min(IO_CHUNK, into.sizes[i]! - done, sizes[k]! - pos);
          const buf = into.view(i, done, len);
          await readAt(files[k]!, buf, pos, join(dir, paths[k]!));
          crcs[k] = crc32(buf, crcs[k]);
          pos += len;
          done += len;
        }
      }
      let sum = 0;
      const bad: string[] = [];
      paths.forEach((file, j) => {
        sum = crc32Combine(sum, crcs[j]!, sizes[j]!);
        if (WEIGHTS_NAME.test(file) && file !== weightsFileName(hex(crcs[j]!))) bad.push(`${file} has checksum ${hex(crcs[j]!)}`);
      });
      if (hex(sum) !== manifest.weightsChecksum || bad.length > 0) {
        const detail = bad.length > 0 ? `; ${bad.join(', ')}` : '';
        throw new CinderArgumentError('weights checksum', hex(sum), `${manifest.weightsChecksum} as in the manifest (the weights are damaged or belong to another save${detail})`);
      }
      return into.done();
    } finally {
      for (const fh of files) await fh.close().catch(() => undefined);
    }
  }
}

/**
 * Reads a folder written by {@link writeTensorFolder} or {@link writeHostTensors} into one host
 * array per tensor (checked as the module notes say: manifest checksum, then each weights file's
 * checksum and the weights' length and checksum, all before anything is returned). Memory holds
 * the tensors, never a whole weights file: each tensor may be as large as a typed array of this
 * Node.js allows (`buffer.kMaxLength` elements), the save of any size.
 * @throws CinderArgumentError naming the folder and what is wrong (missing, damaged, other format,
 * a tensor too large), or what `options.check` throws
 */
export async function readHostTensors(dir: string, options: TensorFolderReadOptions = {}): Promise<HostTensorFolder> {
  checkOptionKeys('options', options, TENSOR_FOLDER_READ_OPTION_KEYS);
  let manifest!: TensorsManifest;
  return readFolder(
    dir,
    (m) => {
      manifest = m;
      options.check?.(m);
    },
    (specs) => {
      const arrays = specs.map((s) => {
        const n = numel(s.shape);
        return s.dtype === 'int32' ? new Int32Array(n) : s.dtype === 'bool' ? new Uint8Array(n) : new Float32Array(n);
      });
      return {
        sizes: arrays.map((a) => a.byteLength),
        view: (i, pos, len) => new Uint8Array(arrays[i]!.buffer, pos, len),
        done: () => {
          const tensors: Record<string, HostTensor> = {};
          specs.forEach((s, i) => {
            const data = arrays[i]!;
            if (!LITTLE_ENDIAN_HOST && data.BYTES_PER_ELEMENT === 4) {
              for (let p = 0; p < data.byteLength; p += CONVERT_CHUNK) {
                const bytes = new Uint8Array(data.buffer, p, Math.min(CONVERT_CHUNK, data.byteLength - p));
                for (let q = 0; q < bytes.length; q += 4) bytes.subarray(q, q + 4).reverse();
              }
            }
            if (Object.hasOwn(tensors, s.name)) throw new CinderArgumentError('tensor name in the file', s.name, 'each name listed once');
            setOwn(tensors, s.name, { data, shape: [...s.shape], dtype: s.dtype, group: s.group ?? 'tensor' });
          });
          return { manifest, tensors };
        },
      };
    },
  );
}

/**
 * Reads a folder written by {@link writeTensorFolder} or {@link writeHostTensors} into one array of
 * the weights (checked as {@link readHostTensors} checks them). That array is limited to
 * `buffer.kMaxLength` bytes: larger saves are read with {@link readHostTensors} or {@link loadTensors}.
 * @throws CinderArgumentError naming the folder and what is wrong (missing, damaged, other format,
 * too large for one array)
 */
export async function readTensorFolder(dir: string): Promise<TensorsArtifacts> {
  let manifest!: TensorsManifest;
  return readFolder(
    dir,
    (m) => (manifest = m),
    (_specs, total) => {
      if (total > kMaxLength) throw new CinderArgumentError('weights byte length', total, `at most ${kMaxLength} bytes to read into one array (read larger saves with readHostTensors or loadTensors)`);
      const weightData = new Uint8Array(total);
      return { sizes: [total], view: (_i, pos, len) => weightData.subarray(pos, pos + len), done: () => ({ manifest, weightData }) };
    },
  );
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
  if (manifest.format === TENSORS_FORMAT && readableVersion(manifest.version)) {
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
 * Saves named tensors with free-form metadata into folder `dir`, atomically, holding the folder's
 * save lock (see {@link writeTensorFolder}): streamed as {@link writeTensors} streams them (one
 * `await data()` each, one tensor in host memory at a time; the values at the call are saved even
 * if the caller disposes or replaces the tensors meanwhile).
 * @throws CinderArgumentError, before anything is written, for a tensor that is not a tf.Tensor,
 * disposed, of another dtype than float32/int32/bool or too large for one typed array, metadata
 * that is not JSON, bad options
 */
export async function saveTensors(dir: string, tensors: Record<string, tf.Tensor>, metadata: Record<string, unknown> = {}, options: TensorFolderWriteOptions = {}): Promise<void> {
  if (tensors === null || typeof tensors !== 'object') throw new CinderArgumentError('tensors', tensors, 'tensors by name');
  const entries: Record<string, TensorToSave> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t instanceof tf.Tensor)) throw new CinderArgumentError(`tensor "${name}"`, t, 'a tf.Tensor');
    setOwn(entries, name, { tensor: t });
  }
  await writeTensors(dir, entries, { metadata }, options);
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
  const { manifest, tensors: host } = await readHostTensors(dir);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [n, h] of Object.entries(host)) setOwn(tensors, n, tf.tensor(h.data, h.shape, h.dtype));
  return { tensors, metadata: manifest.metadata ?? {} };
}
