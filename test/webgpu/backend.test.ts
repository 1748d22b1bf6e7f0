// Backend choice with a software WebGPU adapter present (SwiftShader in CI): `auto` skips it and
// says why, `webgpu` by name takes it and reports the adapter, and `cinder info` lists it.
import { describe, expect, it } from 'vitest';
import { initBackend, listBackends, probeWebGpu } from '../../src/core/backend.js';
import { runCli } from '../../src/cli/program.js';
import { tf } from '../../src/core/tf.js';

const probe = await probeWebGpu();
const software = 'adapter' in probe && probe.adapter.software;

describe.skipIf(!software)(`backend choice with a software adapter (${'adapter' in probe ? `${probe.adapter.vendor} ${probe.adapter.architecture}` : probe.reason})`, () => {
  it('auto skips the software adapter and gives the reason; webgpu by name uses it', async () => {
    const auto = await initBackend({ backend: 'auto' });
    expect(auto.name).not.toBe('webgpu');
    const skipped = auto.skipped.find((s) => s.name === 'webgpu');
    expect(skipped?.reason).toMatch(/software adapter \(google swiftshader\); used only with --backend webgpu/);
    const named = await initBackend({ backend: 'webgpu' });
    expect(named.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(named.gpu).toBe(false);
    expect(named.adapter).toMatchObject({ vendor: 'google', architecture: 'swiftshader', software: true });
    const back = await initBackend({ backend: 'cpu' });
    expect(back.name).toBe('cpu');
  });

  it('listBackends and cinder info name the adapter', async () => {
    const list = await listBackends();
    expect(list.map((b) => b.name)).toEqual(['tensorflow', 'webgpu', 'tensorflow', 'wasm', 'cpu']);
    const w = list.find((b) => b.name === 'webgpu')!;
    expect(w.available).toBe(true);
    expect(w.detail).toMatch(/^software adapter: vendor google, architecture swiftshader, device /);
    let text = '';
    const out = { write: (s: string) => ((text += s), true) };
    const code = await runCli(['info', '--backend', 'webgpu'], { out, err: out } as never);
    expect(code).toBe(0);
    expect(text).toMatch(/\+ webgpu +software adapter: vendor google, architecture swiftshader/);
    expect(text).toMatch(/selected: webgpu via @tensorflow\/tfjs-backend-webgpu \(option\)/);
    expect(text).toMatch(/adapter: vendor google, architecture swiftshader, device .* \(software\)/);
  });
});
