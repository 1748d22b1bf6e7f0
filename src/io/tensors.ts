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
 * new one, both loadable. Saves running concurrently into one folder (in one process or several)
 * leave it holding one of them, loadable: a save deletes only the weights its own manifest swap
 * replaced (unless a manifest or a save in flight uses them again), weights files no manifest
 * names once they are 10 minutes old (left by a killed save), and temporary files only when the
 * process named in them has ended.
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
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { tf } from '../core/tf.js';
import { CinderArgumentError, numel } from '../core/errors.js';
import { ensureWritableDir, toJson, writeFileAtomic } from './atomic.js';
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
    out[name] = { data, shape: [...t.shape], dtype: t.dtype, group };
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
    if (!(h.dtype in BYTES)) throw new CinderArgumentError(`dtype of tensor "${name}"`, h.dtype, 'float32, int32 or bool');
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
    if (!s || typeof s.name !== 'string' || !(s.dtype in BYTES) || !Array.isArray(s.shape) || s.shape.some((d) => !Number.isInteger(d) || d < 0)) {
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
    if (s.name in out) throw new CinderArgumentError('tensor name in the file', s.name, 'each name listed once');
    out[s.name] = { data, shape: [...s.shape], dtype: s.dtype, group: s.group ?? 'tensor' };
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
const TEMP_NAME = /^\.(?:model\.json|weights-[0-9a-f]{8}\.bin)\.(\d+)\.\d+\.tmp$/;
/** Age after which a weights file that no manifest names is taken for the leftover of a killed save. */
const ORPHAN_AGE_MS = 10 * 60 * 1000;
/** Weights files (full paths) that saves of this process have written and not yet swapped in, with their counts. */
const inFlight = new Map<string, number>();
/** Weights files (full paths) that saves of this process have written (dropped once deleted or gone). */
const written = new Set<string>();

/** Name of the weights file the manifest in `dir` points to (undefined when there is none or it cannot be read). */
async function currentWeightsFile(dir: string): Promise<string | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as TensorsManifest;
    const f = m?.weightsManifest?.[0]?.paths?.[0];
    return typeof f === 'string' && WEIGHTS_NAME.test(f) ? f : undefined;
  } catch {
    return undefined;
  }
}


/**
 * Writes artifacts into folder `dir` (created if needed, see {@link ensureWritableDir}) as one
 * atomic save: weights under their checksum name, then the manifest by rename, then the weights
 * file of the replaced manifest is removed, and leftovers of killed saves (see the module notes).
 */
export async function writeTensorFolder(dir: string, artifacts: TensorsArtifacts): Promise<void> {
  await ensureWritableDir(dir);
  checkArtifacts(artifacts);
  const file = weightsFileName(artifacts.manifest.weightsChecksum);
  const manifest: TensorsManifest = { ...artifacts.manifest, weightsManifest: artifacts.manifest.weightsManifest.map((g) => ({ ...g, paths: [file] })) };
  const text = manifestText(manifest);
  const folder = resolve(dir);
  const own = join(folder, file);
  inFlight.set(own, (inFlight.get(own) ?? 0) + 1);
  let replaced: string | undefined;
  try {
    await writeFileAtomic(own, artifacts.weightData); // (each atomic write also flushes the folder)
    written.add(own);
    replaced = await currentWeightsFile(dir);
    await writeFileAtomic(join(dir, MANIFEST_FILE), text);
  } finally {
    const n = inFlight.get(own)! - 1;
    if (n > 0) inFlight.set(own, n);
    else inFlight.delete(own);
  }
  // Another save may have swapped its manifest in meanwhile, or be about to swap in weights of the
  // same name: what the manifest names now, and what saves of this process are writing, stay.
  // Weights no manifest names go when this save replaced them, when this process wrote them (a
  // concurrent save won), or when they are old (a killed save's leftover: a save renames its
  // manifest in right after its weights).
  const listing = await readdir(dir);
  for (const name of listing) {
    const path = join(folder, name);
    if (WEIGHTS_NAME.test(name)) {
      if (inFlight.has(path)) continue;
      let drop = name === replaced || written.has(path);
      if (!drop) {
        const st = await stat(path).catch(() => undefined);
        drop = st !== undefined && Date.now() - st.mtimeMs > ORPHAN_AGE_MS;
      }
      if (drop && !inFlight.has(path) && (await currentWeightsFile(dir)) !== name) {
        await rm(path, { force: true });
        written.delete(path);
      }
    } else {
      const pid = TEMP_NAME.exec(name)?.[1];
      if (pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid))) await rm(path, { force: true });
    }
  }
  for (const path of written) if (dirname(path) === folder && !listing.includes(basename(path))) written.delete(path);
}

/**
 * Reads a folder written by {@link writeTensorFolder}: checks the manifest checksum, then reads
 * the weights it names and checks their length and checksum.
 * @throws CinderArgumentError naming the folder and what is wrong (missing, damaged, other format)
 */
export async function readTensorFolder(dir: string): Promise<TensorsArtifacts> {
  if (typeof dir !== 'string' || dir === '') throw new CinderArgumentError('dir', dir, 'a directory path');
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    throw new CinderArgumentError('dir', dir, `a folder holding ${MANIFEST_FILE} and its weights file (${(err as Error).message})`);
  }
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
  const file = manifest.weightsManifest?.[0]?.paths?.[0];
  if (typeof file !== 'string' || basename(file) !== file) throw new CinderArgumentError(`${MANIFEST_FILE} weights path`, file, 'a file name in the same folder');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(join(dir, file)));
  } catch (err) {
    throw new CinderArgumentError('dir', dir, `a folder holding ${MANIFEST_FILE} and ${file} (${(err as Error).message})`);
  }
  const artifacts = { manifest, weightData: bytes };
  checkArtifacts(artifacts, `${basename(dir)}/${MANIFEST_FILE}`);
  return artifacts;
}

/** Saves named tensors (downloaded once each) with free-form metadata into folder `dir`, atomically. */
export async function saveTensors(dir: string, tensors: Record<string, tf.Tensor>, metadata: Record<string, unknown> = {}): Promise<void> {
  await writeTensorFolder(dir, encodeTensors(await toHost(tensors), { metadata }));
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
  for (const [n, h] of Object.entries(host)) tensors[n] = tf.tensor(h.data, h.shape, h.dtype);
  return { tensors, metadata: art.manifest.metadata ?? {} };
}
