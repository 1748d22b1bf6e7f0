/**
 * Tensor artifacts of a run, in the one checksummed tensor format of `src/io/tensors.ts`
 * (`artifacts/<name>/model.json` + `weights-<crc32>.bin`, read back with `loadTensors` or
 * `loadModule`) and as NumPy `.npz` for Python.
 * @module
 */
import { share, tf } from '../core/tf.js';
import type { Module } from '../core/module.js';
import type { RunContext } from './example.js';
import { writeNpz, type NpyArray, type NpyEntry, type NpyLazyEntry, type NpzEntry } from '../io/npy.js';
import { saveTensors, toHost, type HostTensor } from '../io/tensors.js';
import { saveModule } from '../io/serialize.js';

function npyOf(host: Record<string, HostTensor>): Record<string, NpyEntry> {
  const out: Record<string, NpyEntry> = {};
  for (const [n, h] of Object.entries(host)) out[n] = { data: h.data, shape: h.shape };
  return out;
}

/** Host arrays of tensors (downloads each once; call outside step loops). All are held in memory at once. */
export async function tensorsToNpy(tensors: Record<string, tf.Tensor>): Promise<Record<string, NpyEntry>> {
  return npyOf(await toHost(tensors));
}

/** The typed array and npz dtype each saved tensor dtype is written as (bool as 0/1 bytes, `|u1`), as {@link toHost} gives them. */
const NPZ_OF = { float32: [Float32Array, 'float32'], int32: [Int32Array, 'int32'], bool: [Uint8Array, 'uint8'] } as const;

/**
 * Own handles (see `share`: no copy) on named tensors, taken now, or undefined when one is not a
 * live float32/int32/bool tensor (the save running alongside refuses it with its own error).
 */
function hold(named: [string, unknown][]): [string, tf.Tensor][] | undefined {
  if (!named.every(([, t]) => t instanceof tf.Tensor && !t.isDisposed && Object.hasOwn(NPZ_OF, t.dtype))) return undefined;
  return named.map(([n, t]) => [n, tf.keep(share(t as tf.Tensor))]);
}

/**
 * Lazy npz entries of held tensors: each is downloaded (one `await data()`) when its entry is
 * written, its handle released then, its host array dropped once written (the download itself
 * where the backend returns the stored type, else a converted copy).
 */
function lazyEntries(held: [string, tf.Tensor][]): Record<string, NpyLazyEntry> {
  const out: Record<string, NpyLazyEntry> = {};
  for (const [name, t] of held) {
    const [Ctor, dtype] = NPZ_OF[t.dtype as keyof typeof NPZ_OF];
    const entry: NpyLazyEntry = {
      dtype,
      shape: [...t.shape],
      data: async (): Promise<NpyArray> => {
        const d = await t.data();
        t.dispose(); // the device buffer, where no other handle holds it
        return d instanceof Ctor ? d : (Ctor as typeof Float32Array).from(d as ArrayLike<number>);
      },
    };
    Object.defineProperty(out, name, { value: entry, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A context that writes npz artifacts itself (a `RunFolder`: its lock is checked right before the rename). */
interface NpzWritingContext {
  artifactNpz(name: string, arrays: Record<string, NpzEntry>): Promise<void>;
}

/**
 * Writes `artifacts/<file>` (`file` ends in `.npz`) through the context's own `artifactNpz` where
 * it has one (a run folder, whose lock-lost guard is then asked right before the rename, as for
 * its other writes), else with `writeNpz` at `ctx.artifactPath(file)`.
 */
function writeNpzVia(ctx: RunContext, file: string, arrays: Record<string, NpzEntry>): Promise<void> {
  const own = (ctx as Partial<NpzWritingContext>).artifactNpz;
  if (typeof own === 'function') return own.call(ctx, file, arrays);
  return writeNpz(ctx.artifactPath(file), arrays);
}

/**
 * Waits for `saving` (a tensor-folder save of the same tensors, started just before), then writes
 * `artifacts/<file>` streamed from the handles `held`, released in any case.
 */
async function saveThenNpz(saving: Promise<void>, held: [string, tf.Tensor][] | undefined, ctx: RunContext, file: string): Promise<void> {
  try {
    await saving;
    if (held === undefined) throw new Error('internal: the tensors to write as npz were not held');
    await writeNpzVia(ctx, file, lazyEntries(held));
  } finally {
    for (const [, t] of held ?? []) t.dispose(); // (no-op for those released already)
  }
}

/**
 * Writes tensors as run artifacts: `artifacts/<name>/` (the checksummed tensor format, saved
 * atomically) and `artifacts/<name>.npz` (NumPy: float32 as `<f4`, int32 as `<i4`, bool as `|u1`
 * 0/1). Both are streamed: one tensor is downloaded at a time (one `await data()` each per file),
 * written and dropped before the next, so the host memory added is about one tensor. Both hold the
 * tensors' values at the call (own handles taken then, see `share`), even if the caller disposes
 * or replaces them while the writes run.
 */
export async function writeTensorArtifacts(ctx: RunContext, name: string, tensors: Record<string, tf.Tensor>, metadata: Record<string, unknown> = {}): Promise<void> {
  const dir = ctx.artifactPath(name);
  // the save checks the tensors and takes its handles synchronously, and so do we
  const saving = saveTensors(dir, tensors, metadata);
  const held = tensors !== null && typeof tensors === 'object' ? hold(Object.entries(tensors)) : undefined;
  await saveThenNpz(saving, held, ctx, `${name}.npz`);
}

/**
 * Writes a module's parameters and states (dotted names, e.g. `connection.weight`) as run
 * artifacts: `artifacts/<name>/` loadable with `loadModule` into an identically built module, and
 * `artifacts/<name>.npz` (parameters, then states). Streamed as {@link writeTensorArtifacts}: one
 * tensor in host memory at a time, the values at the call (after `beforeSave()`).
 */
export async function writeModuleArtifacts(ctx: RunContext, name: string, module: Module): Promise<void> {
  const dir = ctx.artifactPath(name);
  // saveModule runs beforeSave() and takes its handles synchronously; the handles here are taken
  // right after, on the same values
  const saving = saveModule(module, dir);
  let held: [string, tf.Tensor][] | undefined;
  try {
    held = hold([...module.namedParameters(), ...module.namedStates()].map(([n, p]) => [n, p.value]));
  } catch {
    held = undefined; // (not a module: the save refuses it)
  }
  await saveThenNpz(saving, held, ctx, `${name}.npz`);
}

/**
 * Writes `artifacts/<name>.npz` holding several named arrays, eager or lazy (see {@link writeNpz}:
 * streamed, atomic, zip64 where needed). In a run folder (a context with its own `artifactNpz`)
 * the folder's lock is looked at again right before the rename: a lock lost meanwhile replaces
 * nothing and rejects with the `RunLockLostError`.
 */
export async function writeNpzArtifact(ctx: RunContext, name: string, arrays: Record<string, NpzEntry>): Promise<void> {
  await writeNpzVia(ctx, name.endsWith('.npz') ? name : `${name}.npz`, arrays);
}
