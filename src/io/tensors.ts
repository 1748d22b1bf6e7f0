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
 * rename), then the manifest is swapped in by one atomic rename, then the old weights are deleted.
 * A process killed at any moment leaves the previous save or the new one, both loadable.
 *
 * Reading checks the manifest checksum, the byte length and the weights checksum before anything is
 * decoded: a flipped byte in either file is reported, never loaded.
 * @module
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { tf } from '../core/tf.js';
import { CinderArgumentError, numel } from '../core/errors.js';
import { ensureWritableDir, toJson, writeFileAtomic } from './atomic.js';
import { crc32 } from './npy.js';

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

/** Downloads tensors to host arrays (one `await data()` each; call outside step loops). */
export async function toHost(tensors: Record<string, tf.Tensor>, group: TensorGroup = 'tensor'): Promise<Record<string, HostTensor>> {
  const out: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') {
      throw new CinderArgumentError(`dtype of tensor "${name}"`, t.dtype, 'float32, int32 or bool');
    }
    const d = await t.data();
    const data = t.dtype === 'int32' ? Int32Array.from(d as Int32Array) : t.dtype === 'bool' ? Uint8Array.from(d as Uint8Array) : Float32Array.from(d as Float32Array);
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
  const view = new DataView(weightData.buffer, weightData.byteOffset, weightData.byteLength);
  const out: Record<string, HostTensor> = {};
  let off = 0;
  for (const s of specs) {
    const n = numel(s.shape);
    const data = s.dtype === 'int32' ? new Int32Array(n) : s.dtype === 'bool' ? new Uint8Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (s.dtype === 'float32') data[i] = view.getFloat32(off, true);
      else if (s.dtype === 'int32') data[i] = view.getInt32(off, true);
      else data[i] = view.getUint8(off);
      off += BYTES[s.dtype];
    }
    if (s.name in out) throw new CinderArgumentError('tensor name in the file', s.name, 'each name listed once');
    out[s.name] = { data, shape: [...s.shape], dtype: s.dtype, group: s.group ?? 'tensor' };
  }
  return out;
}

/** The manifest's text with its checksum: JSON of the manifest without the key, CRC-32 of that, then the key added. */
function manifestText(manifest: TensorsManifest): string {
  const { manifestChecksum: _drop, ...rest } = manifest;
  const body = toJson(rest);
  return toJson({ ...rest, manifestChecksum: hex(crc32(Buffer.from(body, 'utf8'))) });
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some file systems cannot fsync a directory; the renames are still atomic
  }
}

/**
 * Writes artifacts into folder `dir` (created if needed, see {@link ensureWritableDir}) as one
 * atomic save: weights under their checksum name, then the manifest by rename, then old weights
 * files and stale temporary files are removed.
 */
export async function writeTensorFolder(dir: string, artifacts: TensorsArtifacts): Promise<void> {
  await ensureWritableDir(dir);
  checkArtifacts(artifacts);
  const file = weightsFileName(artifacts.manifest.weightsChecksum);
  const manifest: TensorsManifest = { ...artifacts.manifest, weightsManifest: artifacts.manifest.weightsManifest.map((g) => ({ ...g, paths: [file] })) };
  await writeFileAtomic(join(dir, file), artifacts.weightData);
  fsyncDir(dir);
  await writeFileAtomic(join(dir, MANIFEST_FILE), manifestText(manifest));
  fsyncDir(dir);
  for (const name of await readdir(dir)) {
    const stale = (/^weights-[0-9a-f]{8}\.bin$/.test(name) && name !== file) || (/^\.(model\.json|weights-[0-9a-f]{8}\.bin)\..*\.tmp$/.test(name) && !name.includes(`.${process.pid}.`));
    if (stale) await rm(join(dir, name), { force: true });
  }
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
    const expected = manifestText(manifest);
    if (expected !== text) {
      throw new CinderArgumentError(`${join(dir, MANIFEST_FILE)} checksum`, manifest.manifestChecksum, 'the checksum of its content (the manifest is damaged)');
    }
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
