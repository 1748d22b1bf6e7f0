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

describe('the Vulkan driver check (Linux): webgpu is skipped quietly where the loader would find no driver', () => {
  it('a manifest in one of the loader\'s folders, or a driver variable, counts; none does not', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { vulkanDriverFolders, vulkanDriverPresent } = await import('../../src/core/backend.js');
    const root = mkdtempSync(join(tmpdir(), 'cinder-vk-'));
    try {
      const env = { HOME: join(root, 'home'), XDG_CONFIG_DIRS: join(root, 'cfg'), XDG_DATA_DIRS: `${join(root, 'a')}:${join(root, 'b')}` };
      expect(vulkanDriverFolders(env, [])).toEqual([
        join(root, 'home/.config/vulkan/icd.d'), join(root, 'cfg/vulkan/icd.d'), join(root, 'home/.local/share/vulkan/icd.d'), join(root, 'a/vulkan/icd.d'), join(root, 'b/vulkan/icd.d'),
      ]);
      expect(vulkanDriverFolders({ HOME: '/h' })).toEqual(['/h/.config/vulkan/icd.d', '/etc/xdg/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/etc/vulkan/icd.d', '/h/.local/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d']);
      if (process.platform !== 'linux') return; // elsewhere the adapter request decides (true)
      // an empty folder (as the loader's package leaves /etc/vulkan/icd.d) and another file are no driver
      mkdirSync(join(root, 'b/vulkan/icd.d'), { recursive: true });
      writeFileSync(join(root, 'b/vulkan/icd.d/readme.txt'), 'x');
      expect(vulkanDriverPresent(env, [])).toBe(false);
      expect(vulkanDriverPresent({ ...env, VK_DRIVER_FILES: '/x/nvidia_icd.json' }, [])).toBe(true);
      expect(vulkanDriverPresent({ ...env, VK_ICD_FILENAMES: '/x/icd.json' }, [])).toBe(true);
      expect(vulkanDriverPresent({ ...env, VK_DRIVER_FILES: '' }, [])).toBe(false);
      writeFileSync(join(root, 'b/vulkan/icd.d/nvidia_icd.json'), '{}');
      expect(vulkanDriverPresent(env, [])).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
