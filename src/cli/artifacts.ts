/**
 * Tensor artifacts of a run, in the one checksummed tensor format of `src/io/tensors.ts`
 * (`artifacts/<name>/model.json` + `weights-<crc32>.bin`, read back with `loadTensors` or
 * `loadModule`) and as NumPy `.npz` for Python.
 * @module
 */
import { tf } from '../core/tf.js';
import type { Module } from '../core/module.js';
import type { RunContext } from './example.js';
import { writeNpz, type NpyEntry } from '../io/npy.js';
import { saveTensors, toHost, type HostTensor } from '../io/tensors.js';
import { moduleTensors, saveModule } from '../io/serialize.js';

function npyOf(host: Record<string, HostTensor>): Record<string, NpyEntry> {
  const out: Record<string, NpyEntry> = {};
  for (const [n, h] of Object.entries(host)) out[n] = { data: h.data, shape: h.shape };
  return out;
}

/** Host arrays of tensors (downloads each once; call outside step loops). */
export async function tensorsToNpy(tensors: Record<string, tf.Tensor>): Promise<Record<string, NpyEntry>> {
  return npyOf(await toHost(tensors));
}

/**
 * Writes tensors as run artifacts: `artifacts/<name>/` (the checksummed tensor format, saved
 * atomically) and `artifacts/<name>.npz` (NumPy).
 */
export async function writeTensorArtifacts(ctx: RunContext, name: string, tensors: Record<string, tf.Tensor>, metadata: Record<string, unknown> = {}): Promise<void> {
  const dir = ctx.artifactPath(name);
  await saveTensors(dir, tensors, metadata);
  await writeNpz(`${dir}.npz`, await tensorsToNpy(tensors));
}

/**
 * Writes a module's parameters and states (dotted names, e.g. `connection.weight`) as run
 * artifacts: `artifacts/<name>/` loadable with `loadModule` into an identically built module, and
 * `artifacts/<name>.npz`.
 */
export async function writeModuleArtifacts(ctx: RunContext, name: string, module: Module): Promise<void> {
  const dir = ctx.artifactPath(name);
  await saveModule(module, dir);
  await writeNpz(`${dir}.npz`, npyOf(await moduleTensors(module)));
}

/** Writes `artifacts/<name>.npz` holding several named arrays (see {@link writeNpz}: streamed, atomic, zip64 where needed). */
export async function writeNpzArtifact(ctx: RunContext, name: string, arrays: Record<string, NpyEntry>): Promise<void> {
  const path = ctx.artifactPath(name.endsWith('.npz') ? name : `${name}.npz`);
  await writeNpz(path, arrays);
}
