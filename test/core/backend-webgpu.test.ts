// `auto` and webgpu on any machine: either a hardware adapter was chosen, or webgpu is listed among
// the skipped candidates with its reason (no Vulkan loader, no adapter, a software adapter, …).
import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, initBackend } from '../../src/core/backend.js';

describe('webgpu in the auto order', () => {
  it('is chosen on a hardware adapter or skipped with a reason', async () => {
    expect(BACKEND_NAMES).toContain('webgpu');
    const before = (await initBackend()).name;
    const info = await initBackend({ backend: 'auto' });
    if (info.name === 'webgpu') {
      expect(info.adapter?.software).toBe(false);
      expect(info.gpu).toBe(true);
    } else {
      const w = info.skipped.find((s) => s.name === 'webgpu');
      expect(w, JSON.stringify(info.skipped)).toBeDefined();
      expect(w!.reason.length).toBeGreaterThan(10);
      // The order: tensorflow on GPU before webgpu, webgpu before tensorflow on CPU.
      const names = info.skipped.map((s) => s.name);
      const iw = names.indexOf('webgpu');
      const gpuTf = names.indexOf('tensorflow (@tensorflow/tfjs-node-gpu)');
      const cpuTf = names.indexOf('tensorflow (@tensorflow/tfjs-node)');
      if (gpuTf >= 0) expect(gpuTf).toBeLessThan(iw);
      if (cpuTf >= 0) expect(cpuTf).toBeGreaterThan(iw);
    }
    await initBackend({ backend: before });
  });
});
