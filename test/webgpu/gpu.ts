// Shared set-up of the webgpu suite: switches to the webgpu backend (a software adapter such as
// SwiftShader is fine: the suite checks numbers, not speed), or says why it cannot.
import { initBackend, probeWebGpu } from '../../src/core/backend.js';

/** Result of {@link webgpuForTests}: whether the suite can run, and the reason when not. */
export interface WebgpuStatus {
  ok: boolean;
  /** Adapter description, or why there is none. */
  detail: string;
}

/** Probes for an adapter and initialises the webgpu backend (then switch with {@link useBackend}). */
export async function webgpuForTests(): Promise<WebgpuStatus> {
  const probe = await probeWebGpu();
  if ('reason' in probe) {
    const detail = `no WebGPU adapter: ${probe.reason} (set VK_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json and LD_LIBRARY_PATH=/usr/lib/chromium, or run npm test)`;
    console.warn(`webgpu suite skipped: ${detail}`);
    return { ok: false, detail };
  }
  try {
    await initBackend({ backend: 'webgpu' });
  } catch (err) {
    const detail = `webgpu backend failed: ${(err as Error).message}`;
    console.warn(`webgpu suite skipped: ${detail}`);
    return { ok: false, detail };
  }
  const a = probe.adapter;
  return { ok: true, detail: `${a.vendor} ${a.architecture}${a.software ? ', software' : ''}` };
}

/**
 * Runs `fn` on a backend and returns its (plain) result. Tensors must not cross backends: tfjs
 * would move them with a synchronous read, which webgpu in Node cannot do.
 */
export async function onBackend<T>(name: 'cpu' | 'webgpu', fn: () => Promise<T> | T): Promise<T> {
  await initBackend({ backend: name });
  return fn();
}
