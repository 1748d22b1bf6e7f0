/**
 * Backend choice. Cinder runs on any registered tfjs backend; {@link initBackend} picks the best
 * one available, in this order: native TensorFlow with a GPU (`@tensorflow/tfjs-node-gpu`),
 * WebGPU on a hardware adapter (`@tensorflow/tfjs-backend-webgpu`; in Node through Dawn's binding,
 * the optional package `webgpu`; in a browser through `navigator.gpu`), native TensorFlow on CPU
 * (`@tensorflow/tfjs-node`), WebAssembly (`@tensorflow/tfjs-backend-wasm`), plain JavaScript
 * (`@tensorflow/tfjs-backend-cpu`). A software WebGPU adapter (SwiftShader, llvmpipe or any
 * adapter reporting `isFallbackAdapter`) is never chosen by `auto`, only when `webgpu` is asked for
 * by name. Every candidate that was not used is reported with its reason.
 *
 * The choice can be forced with the `backend` option or the `CINDER_BACKEND` environment variable
 * (`tensorflow`, `webgpu`, `wasm` or `cpu`; `auto` means the order above). The option wins over the
 * variable. The webgpu backend has no synchronous reads in Node: read tensors with `await t.data()`.
 * @module
 */
import { tf } from './tf.js';
import { CinderArgumentError } from './errors.js';
import { watchDeviceErrors } from './device-errors.js';

/** Names accepted by {@link initBackend}. */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
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
  /** tfjs backend name in use (`tensorflow`, `webgpu`, `wasm` or `cpu`). */
  name: string;
  /** True when the backend runs on a GPU (TensorFlow on CUDA, or WebGPU on a hardware adapter). */
  gpu: boolean;
  /** The WebGPU adapter (webgpu backend only). */
  adapter?: WebGpuAdapterInfo;
  /** Package that provided the backend. */
  package: string;
  /** Where the request came from. */
  requestedBy: 'option' | 'CINDER_BACKEND' | 'auto';
  /** Candidates tried before the chosen one, with the reason they were not used. */
  skipped: SkippedBackend[];
}

/** What a WebGPU adapter says about itself. */
export interface WebGpuAdapterInfo {
  /** Vendor, e.g. `nvidia` or `google`. */
  vendor: string;
  /** Architecture, e.g. `hopper` or `swiftshader`. */
  architecture: string;
  /** Device name (may be empty). */
  device: string;
  /** Driver description (may be empty). */
  description: string;
  /** True for a software rasteriser (SwiftShader, llvmpipe, lavapipe) or a fallback adapter. */
  software: boolean;
}

let current: BackendInfo | null = null;

async function importOptional(name: string): Promise<unknown> {
  // A variable specifier keeps TypeScript and bundlers from resolving optional packages.
  const spec: string = name;
  return import(spec);
}

async function tryTensorflow(skipped: BackendInfo['skipped'], which: 'gpu' | 'cpu' | 'both' = 'both'): Promise<BackendInfo | null> {
  const candidates = ([
    ['@tensorflow/tfjs-node-gpu', true],
    ['@tensorflow/tfjs-node', false],
  ] as const).filter(([, gpu]) => which === 'both' || gpu === (which === 'gpu'));
  for (const [pkg, gpu] of candidates) {
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

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info?: Record<string, unknown>;
  isFallbackAdapter?: boolean;
}

let nodeGpu: GpuLike | null = null;

/**
 * The `navigator.gpu` of this process: the browser's own, or in Node the one created from Dawn's
 * binding (the optional package `webgpu`), installed as `globalThis.navigator.gpu` together with the
 * WebGPU globals (`GPUBufferUsage`, …) that tfjs's webgpu backend expects.
 */
async function webgpuEntry(): Promise<GpuLike> {
  const g = globalThis as { navigator?: { gpu?: GpuLike } };
  if (g.navigator?.gpu) return g.navigator.gpu;
  if (!nodeGpu) {
    const mod = (await importOptional('webgpu')) as { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> };
    for (const [k, v] of Object.entries(mod.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
    nodeGpu = mod.create([]);
  }
  if (g.navigator) {
    // Node ≥ 21 has a read-only navigator without gpu: add the property.
    Object.defineProperty(g.navigator, 'gpu', { value: nodeGpu, configurable: true, writable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: nodeGpu }, configurable: true, writable: true });
  }
  return nodeGpu;
}

/** Describes an adapter; `software` for SwiftShader, llvmpipe, lavapipe or a fallback adapter. */
function describeAdapter(adapter: AdapterLike): WebGpuAdapterInfo {
  const info = adapter.info ?? {};
  const str = (k: string) => (typeof info[k] === 'string' ? (info[k] as string) : '');
  const out = { vendor: str('vendor'), architecture: str('architecture'), device: str('device'), description: str('description') };
  const text = `${out.vendor} ${out.architecture} ${out.device} ${out.description}`.toLowerCase();
  const software = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|software/.test(text);
  return { ...out, software };
}

/** What {@link probeWebGpu} found: an adapter, or the reason there is none. */
export type WebGpuProbe = WebGpuFound | WebGpuMissing;

/** An adapter was found. */
export interface WebGpuFound {
  /** Its description. */
  adapter: WebGpuAdapterInfo;
}

/** No adapter. */
export interface WebGpuMissing {
  /** Why (package missing, no Vulkan loader or driver, …). */
  reason: string;
}

/**
 * Looks for a WebGPU adapter without initialising any backend: the adapter's description, or the
 * reason there is none (package missing, no Vulkan loader or driver, …).
 */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  try {
    const gpu = await webgpuEntry();
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { reason: 'no WebGPU adapter found (on Linux: Vulkan loader libvulkan.so.1 and a Vulkan driver are needed; see VK_DRIVER_FILES in docs/backends.md)' };
    return { adapter: describeAdapter(adapter) };
  } catch (err) {
    return { reason: firstLine(err) };
  }
}

/**
 * Refuses a synchronous read (`dataSync`/`arraySync`) of device results where the backend has none:
 * webgpu in Node (its read would fail deep inside tfjs with "OffscreenCanvas is not defined"). Call
 * it first in every public method that reads results synchronously, so that it fails before any
 * state changes, naming its asynchronous form `instead`.
 * @throws CinderArgumentError ("invalid backend: got "webgpu", expected a backend with synchronous
 * reads for <method> (webgpu in Node has none): use <instead>")
 */
export function checkSyncReads(method: string, instead: string): void {
  if (tf.getBackend() === 'webgpu' && typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas === 'undefined') {
    throw new CinderArgumentError('backend', 'webgpu', `a backend with synchronous reads for ${method} (webgpu in Node has none): use ${instead}`);
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

/**
 * Node's `fs` when running in Node on Linux, or null (browsers, other systems, Node older than
 * 20.16): got through `process.getBuiltinModule`, which reads the file system without an import
 * that a browser bundle would have to resolve. The Vulkan checks below assume present where it is
 * null, and let Dawn decide.
 */
function linuxNodeFs<T>(): T | null {
  if (typeof process === 'undefined' || !process.versions?.node || process.platform !== 'linux') return null;
  try {
    const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    return typeof getBuiltin === 'function' ? (getBuiltin('fs') as T) : null;
  } catch {
    return null;
  }
}

/**
 * In Node on Linux, whether a Vulkan loader (`libvulkan.so.1`) is on the library path; Dawn needs it
 * and prints a warning when it is missing, so `auto` skips webgpu quietly without one. True
 * elsewhere (browsers, other systems), where the adapter request itself decides.
 */
function vulkanLoaderPresent(): boolean {
  const fs = linuxNodeFs<{ existsSync(p: string): boolean; readFileSync(p: string, enc: 'latin1'): string }>();
  if (fs === null) return true;
  try {
    const dirs = [
      ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== ''),
      '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib64', '/lib', '/usr/local/lib',
    ];
    if (dirs.some((d) => fs.existsSync(`${d}/libvulkan.so.1`))) return true;
    const cache = fs.existsSync('/etc/ld.so.cache') ? fs.readFileSync('/etc/ld.so.cache', 'latin1') : '';
    return cache.includes('libvulkan.so.1');
  } catch {
    return true;
  }
}

/** The environment variables that name Vulkan drivers directly (the loader then needs no manifest folder). */
const VULKAN_DRIVER_VARS = ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES', 'VK_ADD_DRIVER_FILES'];

/**
 * The folders where the Linux Vulkan loader looks for driver manifests (`*.json`), in `env`:
 * `$XDG_CONFIG_HOME` (default ~/.config), `$XDG_CONFIG_DIRS` (default /etc/xdg), `systemRoots`
 * (default /etc and /usr/local/etc), `$XDG_DATA_HOME` (default ~/.local/share) and `$XDG_DATA_DIRS`
 * (default /usr/local/share:/usr/share), each followed by `/vulkan/icd.d`.
 */
export function vulkanDriverFolders(env: Record<string, string | undefined>, systemRoots: readonly string[] = ['/etc', '/usr/local/etc']): string[] {
  const home = env.HOME ?? '';
  const list = (v: string | undefined, fallback: string) => (v && v !== '' ? v : fallback).split(':').filter((d) => d !== '');
  const roots = [
    ...list(env.XDG_CONFIG_HOME, `${home}/.config`), ...list(env.XDG_CONFIG_DIRS, '/etc/xdg'), ...systemRoots,
    ...list(env.XDG_DATA_HOME, `${home}/.local/share`), ...list(env.XDG_DATA_DIRS, '/usr/local/share:/usr/share'),
  ];
  return [...new Set(roots.map((r) => `${r}/vulkan/icd.d`))];
}

/**
 * In Node on Linux, whether the Vulkan loader will find a driver: a variable of
 * `VK_DRIVER_FILES` / `VK_ICD_FILENAMES` / `VK_ADD_DRIVER_FILES` is set, or a manifest (`*.json`)
 * is in one of {@link vulkanDriverFolders} (`systemRoots` as there). With a loader but no driver (a server without a GPU
 * stack) Dawn prints "vkCreateInstance: Found no drivers!" with a stack line to stderr, so `auto`
 * and `listBackends` skip webgpu quietly then. True elsewhere, or where the folders cannot be read.
 */
export function vulkanDriverPresent(env: Record<string, string | undefined> = typeof process === 'undefined' ? {} : process.env, systemRoots?: readonly string[]): boolean {
  const fs = linuxNodeFs<{ readdirSync(p: string): string[] }>();
  if (fs === null) return true;
  if (VULKAN_DRIVER_VARS.some((k) => (env[k] ?? '') !== '')) return true;
  try {
    return vulkanDriverFolders(env, systemRoots).some((d) => {
      try {
        return fs.readdirSync(d).some((f) => f.endsWith('.json'));
      } catch {
        return false; // no such folder
      }
    });
  } catch {
    return true;
  }
}

/** Why webgpu is not tried on this machine without asking (no Vulkan loader, or no driver), or null. */
function vulkanMissing(): string | null {
  if (!vulkanLoaderPresent()) return 'no Vulkan loader (libvulkan.so.1) on the library path; see docs/backends.md';
  if (!vulkanDriverPresent()) return 'no Vulkan driver (no manifest in /etc/vulkan/icd.d, /usr/share/vulkan/icd.d, … and no VK_DRIVER_FILES); see docs/backends.md';
  return null;
}

async function tryWebgpu(skipped: BackendInfo['skipped'], allowSoftware: boolean): Promise<BackendInfo | null> {
  const missing = allowSoftware ? null : vulkanMissing();
  if (missing !== null) {
    skipped.push({ name: 'webgpu', reason: missing });
    return null;
  }
  const probe = await probeWebGpu();
  if ('reason' in probe) {
    skipped.push({ name: 'webgpu', reason: probe.reason });
    return null;
  }
  const adapter = probe.adapter;
  if (adapter.software && !allowSoftware) {
    skipped.push({ name: 'webgpu', reason: `software adapter (${adapter.vendor} ${adapter.architecture}); used only with --backend webgpu / CINDER_BACKEND=webgpu` });
    return null;
  }
  try {
    const mod = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as { WebGPUBackend?: WebGpuBackendClass };
    if (mod.WebGPUBackend) registerWebgpuBackend(mod.WebGPUBackend);
    const ok = await tf.setBackend('webgpu');
    if (!ok) throw new Error('tf.setBackend("webgpu") returned false');
    watchDeviceErrors(tf.backend());
    return { name: 'webgpu', gpu: !adapter.software, package: '@tensorflow/tfjs-backend-webgpu', adapter, requestedBy: 'auto', skipped };
  } catch (err) {
    skipped.push({ name: 'webgpu', reason: firstLine(err) });
    return null;
  }
}

/** The constructor of tfjs's `WebGPUBackend` (device, adapter info). */
type WebGpuBackendClass = new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;

/** The parts of a WebGPU adapter the backend factory reads. */
interface GpuAdapterLike {
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  info?: unknown;
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<unknown>;
}

/**
 * Registers the `webgpu` backend factory again (unless the backend already exists), asking the
 * device for the adapter's `maxStorageBuffersPerShaderStage` besides what tfjs's own factory asks
 * for (its features, and the adapter's workgroup, dispatch and buffer-size limits). tfjs leaves
 * that limit at WebGPU's default, 8 storage buffers per program, which splits a neuron step with
 * conductances or adaptation into 2–4 programs (each state, input current, θ and conductance is a
 * binding; see `src/kernels/webgpu/step-neuron.ts`) and caps how many connections a fused layer
 * step takes; adapters allow more (SwiftShader 12). Everything else is as tfjs's factory.
 */
function registerWebgpuBackend(Backend: WebGpuBackendClass): void {
  if (tf.findBackend('webgpu')) return; // made already: its device is fixed
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(o: { powerPreference: string }): Promise<GpuAdapterLike | null> } } }).navigator?.gpu;
  if (!gpu) return;
  tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      const adapter = await gpu.requestAdapter({ powerPreference: tf.env().getBool('WEBGPU_USE_LOW_POWER_GPU') ? 'low-power' : 'high-performance' });
      if (!adapter) throw new Error('no WebGPU adapter');
      const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) => adapter.features.has(f));
      const names = ['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage'];
      const requiredLimits: Record<string, number> = {};
      for (const n of names) if (typeof adapter.limits[n] === 'number') requiredLimits[n] = adapter.limits[n];
      const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
      return new Backend(device, adapter.info);
    },
    3,
  );
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
 * @param options.backend `auto` (default), `tensorflow`, `webgpu`, `wasm` or `cpu`. Overrides `CINDER_BACKEND`.
 * @throws CinderArgumentError for an unknown name; Error when an explicitly requested backend cannot load.
 */
export async function initBackend(options: { backend?: string } = {}): Promise<BackendInfo> {
  const fromOption = options.backend !== undefined && options.backend !== '';
  const env = typeof process === 'undefined' ? undefined : process.env?.CINDER_BACKEND;
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
    info =
      (await tryTensorflow(skipped, 'gpu')) ??
      (await tryWebgpu(skipped, false)) ??
      (await tryTensorflow(skipped, 'cpu')) ??
      (await tryWasm(skipped)) ??
      (await tryCpu(skipped));
  } else if (request === 'tensorflow') {
    info = await tryTensorflow(skipped);
  } else if (request === 'webgpu') {
    info = await tryWebgpu(skipped, true);
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

/** One line of {@link listBackends}. */
export interface BackendAvailability {
  /** Backend name as accepted by {@link initBackend}. */
  name: string;
  /** Whether it can be initialised here (for webgpu: an adapter was found, software or not). */
  available: boolean;
  /** Package, adapter or the reason it is unavailable. */
  detail: string;
  /** The WebGPU adapter, for webgpu. */
  adapter?: WebGpuAdapterInfo;
}

/**
 * Which backends this process could use, in `auto` order, without switching the current one: the
 * native TensorFlow packages and wasm are imported, webgpu asks for an adapter. A software WebGPU
 * adapter is listed as available (it is used only when asked for by name).
 */
export async function listBackends(): Promise<BackendAvailability[]> {
  const out: BackendAvailability[] = [];
  const tryImport = async (name: string, pkg: string) => {
    try {
      await importOptional(pkg);
      out.push({ name, available: true, detail: pkg });
    } catch (err) {
      out.push({ name, available: false, detail: `${pkg}: ${firstLine(err)}` });
    }
  };
  await tryImport('tensorflow', '@tensorflow/tfjs-node-gpu');
  const missing = vulkanMissing();
  if (missing !== null) {
    out.push({ name: 'webgpu', available: false, detail: missing });
  } else {
    const probe = await probeWebGpu();
    if ('reason' in probe) out.push({ name: 'webgpu', available: false, detail: probe.reason });
    else {
      const a = probe.adapter;
      out.push({ name: 'webgpu', available: true, adapter: a, detail: `${a.software ? 'software' : 'hardware'} adapter: vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'}, device ${a.device || '?'}${a.description ? ` (${a.description})` : ''}` });
    }
  }
  await tryImport('tensorflow', '@tensorflow/tfjs-node');
  await tryImport('wasm', '@tensorflow/tfjs-backend-wasm');
  out.push({ name: 'cpu', available: true, detail: '@tensorflow/tfjs-backend-cpu' });
  return out;
}
