/**
 * File storage of {@link Network} saves (Node only; installed by importing `cinder-snn/node`).
 *
 * A network save is one folder in the checksummed tensor format of `src/io/tensors.ts`, written
 * atomically as a whole: module parameters and states under their dotted paths (groups
 * `parameter`/`state`), extra state (trainers' monitors, optimizer moments) under `snapshot.…`
 * (group `tensor`, which tells them apart from the tensors of a module whose path starts with
 * `snapshot.`), and in the manifest's metadata `network` = `{ steps, rngs, values }` (the
 * snapshot's JSON values) next to the caller's own metadata. A save streams: it downloads one
 * tensor at a time (`writeTensors`), so it adds about one tensor to host memory, never the model.
 * @module
 */
import { tf } from '../core/tf.js';
import { CinderArgumentError } from '../core/errors.js';
import { readHostTensors, writeTensors, type TensorToSave, type TensorsManifest } from '../io/tensors.js';
import { setNetworkStorage, type NetworkState, type NetworkStorage, type StoredNetworkState } from './network.js';

const SNAP = 'snapshot.';

/**
 * Writes a network state into folder `dir` (see the module notes).
 * @throws CinderArgumentError, before anything is written, when `metadata` is not a plain object
 * or uses the key `network` (where the network's own state is kept)
 */
export async function writeNetworkState(dir: string, state: NetworkState, metadata: Record<string, unknown> = {}): Promise<void> {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata) || ArrayBuffer.isView(metadata)) {
    throw new CinderArgumentError('metadata', metadata, 'a plain object of JSON values');
  }
  if (Object.hasOwn(metadata, 'network')) throw new CinderArgumentError('metadata key', 'network', 'another key (metadata.network holds the saved network state)');
  const entries: Record<string, TensorToSave> = {};
  for (const [n, { tensor, group }] of Object.entries(state.tensors)) entries[n] = { tensor, group };
  for (const n of Object.keys(state.snapshot.tensors)) {
    // (module paths may start with `snapshot.` too, e.g. a layer named "snapshot": told apart by group)
    if (Object.hasOwn(entries, SNAP + n)) throw new CinderArgumentError('module path', SNAP + n, `a path other than that of the saved snapshot tensor ${n} (rename the module)`);
  }
  for (const [n, t] of Object.entries(state.snapshot.tensors)) entries[SNAP + n] = { tensor: t, group: 'tensor' };
  const network = { steps: state.steps, rngs: state.rngs, values: state.snapshot.values };
  // one tensor in host memory at a time (writeTensors), the values at this call
  await writeTensors(dir, entries, { extras: state.extras, metadata: { ...metadata, network } });
}

/** Reads a network state written by {@link writeNetworkState} (tensors owned by the caller). */
export async function readNetworkState(dir: string): Promise<StoredNetworkState> {
  const networkOf = (m: TensorsManifest): { steps?: unknown; rngs?: unknown; values?: unknown } => {
    const info = (m.metadata as Record<string, unknown> | undefined)?.network as { steps?: unknown; rngs?: unknown; values?: unknown } | undefined;
    const record = (x: unknown): boolean => x !== null && typeof x === 'object' && !Array.isArray(x);
    if (!record(info) || !record(info!.rngs) || !record(info!.values) || !Number.isInteger(info!.steps) || (info!.steps as number) < 0) {
      throw new CinderArgumentError(`${dir} metadata.network`, info, 'a network save ({ steps, rngs, values }) written by Network.save');
    }
    return info!;
  };
  // (the network's entry is checked before the weights are read)
  const { manifest, tensors: host } = await readHostTensors(dir, { check: networkOf });
  const { network: _network, ...metadata } = (manifest.metadata ?? {}) as Record<string, unknown>;
  const info = networkOf(manifest);
  const state: NetworkState = { tensors: {}, snapshot: { tensors: {}, values: info.values as Record<string, unknown> }, rngs: info.rngs as NetworkState['rngs'], extras: manifest.extras ?? {}, steps: info.steps as number };
  for (const [n, h] of Object.entries(host)) {
    const t = tf.tensor(h.data, h.shape, h.dtype);
    // snapshot tensors are the group `tensor` (module paths may start with `snapshot.` too)
    if (h.group === 'tensor' && n.startsWith(SNAP)) state.snapshot.tensors[n.slice(SNAP.length)] = t;
    else state.tensors[n] = { tensor: t, group: h.group === 'state' ? 'state' : 'parameter' };
  }
  return { state, metadata };
}

/** The storage `cinder-snn/node` installs. */
export const networkFileStorage: NetworkStorage = { write: writeNetworkState, read: readNetworkState };

setNetworkStorage(networkFileStorage);
