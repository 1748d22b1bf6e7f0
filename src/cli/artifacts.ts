/**
 * Tensor artifacts in two formats: TensorFlow.js's weights format (`model.json` with a
 * `weightsManifest` plus `weights.bin`, readable with `tf.io.decodeWeights`) and NumPy's `.npz`.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from '../core/tf.js';
import { CinderArgumentError } from '../core/errors.js';
import type { Module } from '../core/module.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import type { RunContext } from './example.js';
import { encodeNpz, type NpyEntry } from '../io/npy.js';
import { packageInfo } from './package-info.js';

/** Format tag written into `model.json` by {@link saveTensors}. */
export const TENSORS_FORMAT = 'cinder-tensors';

/** One group of a tfjs weights manifest: binary files and the tensors they hold, in order. */
export interface WeightsGroup {
  /** Binary files (relative to model.json), concatenated. */
  paths: string[];
  /** Name, shape and dtype of each tensor. */
  weights: tf.io.WeightsManifestEntry[];
}

/** Tensors read back by {@link loadTensors}. */
export interface LoadedTensors {
  /** The tensors by name (owned by the caller). */
  tensors: Record<string, tf.Tensor>;
  /** The metadata saved with them. */
  metadata: Record<string, unknown>;
}

/** The content of a `model.json` written by {@link saveTensors}. */
export interface TensorsManifest {
  /** Always {@link TENSORS_FORMAT}. */
  format: string;
  /** Package and version that wrote the file. */
  generatedBy: string;
  /** tfjs weights manifest: one group stored in `weights.bin`. */
  weightsManifest: WeightsGroup[];
  /** Free-form metadata (e.g. a module's extras). */
  userDefinedMetadata: Record<string, unknown>;
}

/** Host arrays of tensors (downloads each once; call outside step loops). */
export function tensorsToNpy(tensors: Record<string, tf.Tensor>): Record<string, NpyEntry> {
  const out: Record<string, NpyEntry> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const d = t.dataSync();
    const data = t.dtype === 'int32' ? Int32Array.from(d as Int32Array) : t.dtype === 'bool' ? Uint8Array.from(d as Uint8Array) : Float32Array.from(d as Float32Array);
    out[name] = { data, shape: t.shape };
  }
  return out;
}

/**
 * Saves named tensors in tfjs's weights format: `<dir>/model.json` and `<dir>/weights.bin`
 * (atomically, the binary first).
 */
export async function saveTensors(dir: string, tensors: Record<string, tf.Tensor>, metadata: Record<string, unknown> = {}): Promise<void> {
  const named = Object.entries(tensors).map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  await writeFileAtomic(join(dir, 'weights.bin'), new Uint8Array(data as ArrayBuffer));
  const info = packageInfo();
  const manifest: TensorsManifest = {
    format: TENSORS_FORMAT,
    generatedBy: `${info.name} ${info.version}`,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
    userDefinedMetadata: metadata,
  };
  await writeJsonAtomic(join(dir, 'model.json'), manifest);
}

/**
 * Loads tensors saved by {@link saveTensors}. The caller owns (and disposes) the tensors.
 * @throws CinderArgumentError when `model.json` is not a Cinder tensors manifest
 */
export async function loadTensors(dir: string): Promise<LoadedTensors> {
  const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as TensorsManifest;
  if (manifest.format !== TENSORS_FORMAT || !Array.isArray(manifest.weightsManifest)) {
    throw new CinderArgumentError(`${dir}/model.json format`, manifest.format, `"${TENSORS_FORMAT}"`);
  }
  const tensors: Record<string, tf.Tensor> = {};
  for (const group of manifest.weightsManifest) {
    const buffers = await Promise.all(group.paths.map((p) => readFile(join(dir, p))));
    const bytes = Buffer.concat(buffers);
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    Object.assign(tensors, tf.io.decodeWeights(ab, group.weights));
  }
  return { tensors, metadata: manifest.userDefinedMetadata ?? {} };
}

/**
 * Writes tensors as run artifacts: `artifacts/<name>/model.json` + `weights.bin` (tfjs) and
 * `artifacts/<name>.npz` (NumPy).
 */
export async function writeTensorArtifacts(ctx: RunContext, name: string, tensors: Record<string, tf.Tensor>, metadata: Record<string, unknown> = {}): Promise<void> {
  const dir = ctx.artifactPath(name);
  await saveTensors(dir, tensors, metadata);
  await writeFileAtomic(`${dir}.npz`, encodeNpz(tensorsToNpy(tensors)));
}

/**
 * Writes a module's parameters and states (dotted names, e.g. `connection.weight`) as run
 * artifacts in both formats; the module's `extras()` go into the tfjs metadata.
 */
export async function writeModuleArtifacts(ctx: RunContext, name: string, module: Module): Promise<void> {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [n, p] of module.namedParameters()) tensors[n] = p.value;
  for (const [n, s] of module.namedStates()) tensors[n] = s.value;
  await writeTensorArtifacts(ctx, name, tensors, { extras: module.extras() });
}

/** Writes `artifacts/<name>.npz` holding several named arrays (see {@link encodeNpz}). */
export async function writeNpzArtifact(ctx: RunContext, name: string, arrays: Record<string, NpyEntry>): Promise<void> {
  const path = ctx.artifactPath(name.endsWith('.npz') ? name : `${name}.npz`);
  await writeFileAtomic(path, encodeNpz(arrays));
}
