/**
 * Errors a WebGPU device reports on the side, turned into a thrown error at the next read.
 *
 * WebGPU does not throw when a call fails on the device: a buffer larger than the adapter allows,
 * an invalid dispatch, running out of device memory or losing the device are reported as an
 * `uncapturederror` event (or the `device.lost` promise), the failed work is skipped, and a read of
 * its result gives zeros — a believable number, not an error. {@link watchDeviceErrors} (installed by
 * `initBackend` on the webgpu backend) listens for these reports and makes the next read of any
 * tensor (`await tensor.data()`, which every simulation and training path uses to read back) reject
 * with a {@link DeviceError} carrying the device's messages. The messages of one report are consumed
 * by the error that carries them: reads after it work again (the device itself is still usable after
 * a validation or out-of-memory error; after `device lost` every later read fails again).
 *
 * The device delivers a report before it resolves a later read (its callbacks run in order), so
 * the read that follows a failed dispatch is the one that rejects.
 * @module
 */

/** The device reported errors since the previous read: the results of that work are not valid. */
export class DeviceError extends Error {
  /** @param messages the device's messages, oldest first */
  constructor(
    /** The device's messages, oldest first (each its first two lines). */
    readonly messages: readonly string[],
  ) {
    const more = messages.length > 1 ? ` (and ${messages.length - 1} more)` : '';
    super(`webgpu device error: ${messages[0] ?? 'unknown'}${more}; the results computed since the previous read are not valid`);
    this.name = 'DeviceError';
  }
}

interface DeviceLike {
  addEventListener(type: 'uncapturederror', listener: (event: { error?: { message?: string } }) => void): void;
  lost?: Promise<{ reason?: string; message?: string }>;
}

interface ReadingBackend {
  device?: Partial<DeviceLike>;
  read(dataId: object): Promise<unknown>;
}

const watched = new WeakSet<object>();

/** The first two lines of a device message, joined (Dawn's second line names the failed call). */
function brief(message: string): string {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(0, 2)
    .join(' ');
}

/**
 * Makes reads on a webgpu backend reject with a {@link DeviceError} after the device reported an
 * error (see the module text). Idempotent per backend.
 *
 * @param backend the tfjs backend object (`tf.backend()` while webgpu is active)
 * @returns false when `backend` has no WebGPU device to watch (nothing is changed)
 */
export function watchDeviceErrors(backend: unknown): boolean {
  const b = backend as Partial<ReadingBackend> | null;
  if (!b || typeof b.read !== 'function' || !b.device || typeof b.device.addEventListener !== 'function') return false;
  if (watched.has(b)) return true;
  watched.add(b);
  const reports: string[] = [];
  let lost: string | null = null;
  b.device.addEventListener('uncapturederror', (event) => reports.push(brief(String(event?.error?.message ?? event))));
  b.device.lost?.then(
    (info) => {
      // tfjs destroys its device when the backend is disposed: that is not a failure.
      if (info?.reason !== 'destroyed') lost = brief(`device lost${info?.reason ? ` (${info.reason})` : ''}: ${info?.message ?? ''}`);
    },
    () => undefined,
  );
  const read = b.read.bind(b);
  (b as ReadingBackend).read = async (dataId: object) => {
    const values = await read(dataId);
    if (reports.length > 0 || lost !== null) throw new DeviceError([...reports.splice(0), ...(lost === null ? [] : [lost])]);
    return values;
  };
  return true;
}
