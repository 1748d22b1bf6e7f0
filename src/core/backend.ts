/**
 * Backend choice. Cinder runs on any registered tfjs backend; {@link initBackend} picks the best
 * one available, in this order: native TensorFlow with a GPU (`@tensorflow/tfjs-node-gpu`),
 * native TensorFlow on CPU (`@tensorflow/tfjs-node`), WebAssembly (`@tensorflow/tfjs-backend-wasm`),
 * plain JavaScript (`@tensorflow/tfjs-backend-cpu`).
 *
 * The choice can be forced with the `backend` option or the `CINDER_BACKEND` environment variable
 * (`tensorflow`, `wasm` or `cpu`; `auto` means the order above). The option wins over the variable.
 * @module
 */
import { tf } from './tf.js';
import { CinderArgumentError } from './errors.js';

/** Names accepted by {@link initBackend}. */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
/** A backend request: `auto` or one backend name. */
export type BackendRequest = (typeof BACKEND_NAMES)[number];

/** A backend candidate that was not used. */
export interface SkippedBackend {
  /** The candidate (and package). */
  name: string;
  /** Why it was not used (first line of the error). */
  reason: string;
}

/** What {@link initBackend} chose, and why the better candidates were skipped. */
export interface BackendInfo {
  /** tfjs backend name in use (`tensorflow`, `wasm` or `cpu`). */
  name: string;
  /** True when the native TensorFlow backend runs on a CUDA device. */
  gpu: boolean;
  /** Package that provided the backend. */
  package: string;
  /** Where the request came from. */
  requestedBy: 'option' | 'CINDER_BACKEND' | 'auto';
  /** Candidates tried before the chosen one, with the reason they were not used. */
  skipped: SkippedBackend[];
}

let current: BackendInfo | null = null;

async function importOptional(name: string): Promise<unknown> {
  // A variable specifier keeps TypeScript and bundlers from resolving optional packages.
  const spec: string = name;
  return import(spec);
}

async function tryTensorflow(skipped: BackendInfo['skipped']): Promise<BackendInfo | null> {
  for (const [pkg, gpu] of [
    ['@tensorflow/tfjs-node-gpu', true],
    ['@tensorflow/tfjs-node', false],
  ] as const) {
    try {
      if (gpu && process.env.TF_FORCE_GPU_ALLOW_GROWTH === undefined) process.env.TF_FORCE_GPU_ALLOW_GROWTH = 'true';
      await importOptional(pkg);
      if (!tf.findBackend('tensorflow')) throw new Error(`${pkg} loaded but registered no "tensorflow" backend into this copy of tfjs-core (version mismatch?)`);
      const ok = await tf.setBackend('tensorflow');
      if (!ok) throw new Error('tf.setBackend("tensorflow") returned false');
      return { name: 'tensorflow', gpu, package: pkg, requestedBy: 'auto', skipped };
    } catch (err) {
      skipped.push({ name: `tensorflow (${pkg})`, reason: firstLine(err) });
    }
  }
  return null;
}

/** The process-wide error events the emscripten glue of the wasm backend listens to in Node. */
const GLUE_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/**
 * Runs `init` and then removes the `uncaughtException` / `unhandledRejection` listeners it added:
 * the wasm glue installs handlers that rethrow from inside its minified source, so any uncaught
 * error in user code was printed after ~38 KB of emscripten code. Without them Node reports the
 * user's error as usual. A no-op outside Node.
 */
async function withoutGlueHandlers<T>(init: () => Promise<T>): Promise<T> {
  type Emitter = { listeners(event: string): unknown[]; removeListener(event: string, listener: (...args: unknown[]) => void): unknown };
  const proc = (globalThis as { process?: Emitter }).process;
  if (!proc || typeof proc.listeners !== 'function') return init();
  const before = GLUE_EVENTS.map((e) => new Set(proc.listeners(e)));
  try {
    return await init();
  } finally {
    GLUE_EVENTS.forEach((e, i) => {
      for (const l of proc.listeners(e)) if (!before[i]!.has(l)) proc.removeListener(e, l as (...args: unknown[]) => void);
    });
  }
}

/**
 * Silences tfjs's one-time console banner of the plain-JavaScript CPU backend in Node ("Hi, looks
 * like you are running TensorFlow.js in Node.js …"), for `cinder -q`. Harmless when that backend
 * is not registered.
 */
export function silenceTfjsBanner(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

async function tryWasm(skipped: BackendInfo['skipped']): Promise<BackendInfo | null> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    const ok = await withoutGlueHandlers(() => tf.setBackend('wasm'));
    if (!ok) throw new Error('tf.setBackend("wasm") returned false');
    return { name: 'wasm', gpu: false, package: '@tensorflow/tfjs-backend-wasm', requestedBy: 'auto', skipped };
  } catch (err) {
    skipped.push({ name: 'wasm', reason: firstLine(err) });
    return null;
  }
}

async function tryCpu(skipped: BackendInfo['skipped']): Promise<BackendInfo | null> {
  await import('@tensorflow/tfjs-backend-cpu');
  const ok = await tf.setBackend('cpu');
  if (!ok) {
    skipped.push({ name: 'cpu', reason: 'tf.setBackend("cpu") returned false' });
    return null;
  }
  return { name: 'cpu', gpu: false, package: '@tensorflow/tfjs-backend-cpu', requestedBy: 'auto', skipped };
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 200);
}

/**
 * Selects and initialises the tfjs backend. Safe to call repeatedly: a later call with the same
 * request returns the cached choice; a different explicit request switches backend.
 *
 * @param options.backend `auto` (default), `tensorflow`, `wasm` or `cpu`. Overrides `CINDER_BACKEND`.
 * @throws CinderArgumentError for an unknown name; Error when an explicitly requested backend cannot load.
 */
export async function initBackend(options: { backend?: string } = {}): Promise<BackendInfo> {
  const fromOption = options.backend !== undefined && options.backend !== '';
  const env = process.env.CINDER_BACKEND;
  const fromEnv = !fromOption && env !== undefined && env !== '';
  const request = (fromOption ? options.backend : fromEnv ? env : 'auto')!.toLowerCase();
  if (!(BACKEND_NAMES as readonly string[]).includes(request)) {
    throw new CinderArgumentError(fromOption ? 'backend' : 'CINDER_BACKEND', request, `one of ${BACKEND_NAMES.join(', ')}`);
  }
  const requestedBy: BackendInfo['requestedBy'] = fromOption ? 'option' : fromEnv ? 'CINDER_BACKEND' : 'auto';
  if (current && (request === 'auto' ? current.requestedBy === 'auto' || requestedBy === 'auto' : current.name === request) && tf.getBackend() === current.name) {
    return current;
  }
  const skipped: BackendInfo['skipped'] = [];
  let info: BackendInfo | null = null;
  if (request === 'auto') {
    info = (await tryTensorflow(skipped)) ?? (await tryWasm(skipped)) ?? (await tryCpu(skipped));
  } else if (request === 'tensorflow') {
    info = await tryTensorflow(skipped);
  } else if (request === 'wasm') {
    info = await tryWasm(skipped);
  } else {
    info = await tryCpu(skipped);
  }
  if (!info) {
    throw new Error(`backend "${request}" could not be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
  }
  info.requestedBy = requestedBy;
  await tf.ready();
  current = info;
  return info;
}

/** The backend chosen by the last {@link initBackend} call, or null before the first call. */
export function backendInfo(): BackendInfo | null {
  return current;
}
