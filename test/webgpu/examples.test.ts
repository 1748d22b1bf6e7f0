// On webgpu: the Florian (2007) series equal the cpu backend's within 1e-6, and every registered
// example runs in its `tiny` preset through `cinder --backend webgpu` (which fails on any
// synchronous read: webgpu in Node has none).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../examples/index.js';
import { runFlorian, type FlorianResult } from '../../examples/florian/index.js';
import { onBackend, webgpuForTests } from './gpu.js';

const gpu = await webgpuForTests();
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe.skipIf(!gpu.ok)(`examples on webgpu (${gpu.detail})`, () => {
  it('Florian 2007: every series equals the cpu backend within 1e-6', async () => {
    const cpu = await onBackend('cpu', () => runFlorian());
    const wg = await onBackend('webgpu', () => runFlorian());
    const keys = ['stdp', 'mstdp', 'mstdpet', 'trace_pre', 'trace_post', 'eligibility'] as const;
    for (const k of keys) {
      const a = (cpu as FlorianResult)[k];
      const b = (wg as FlorianResult)[k];
      expect(b.length, k).toBe(a.length);
      expect(a.length, k).toBeGreaterThan(100);
      const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
      expect(worst, k).toBeLessThan(1e-6);
    }
    expect(Math.max(...cpu.mstdpet.map(Math.abs)), 'the weights move').toBeGreaterThan(1e-3);
  });

  describe.each(EXAMPLES.map((e) => [e.name, e] as const))('cinder %s --mode tiny --backend webgpu', (name, spec) => {
    it('completes with every summary key, without synchronous reads, and frees every tensor it made', () => {
      const dir = mkdtempSync(join(tmpdir(), `cinder-webgpu-${name}-`));
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/cinder.ts', name, '--mode', 'tiny', '--backend', 'webgpu', '--quiet', '--out', dir], {
        cwd: root, encoding: 'utf8', timeout: 240_000, env: { ...process.env, CINDER_BACKEND: 'webgpu' },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/synchronously reading|OffscreenCanvas/);
      const summary = JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8')) as Record<string, unknown>;
      expect(summary.status).toBe('completed');
      for (const k of spec.summaryKeys) expect(summary, `summary key ${k}`).toHaveProperty(k);
      const params = JSON.parse(readFileSync(join(dir, 'params.json'), 'utf8')) as { backend?: { name?: string } };
      expect(params.backend?.name).toBe('webgpu');
      // The runner logs the live tensors at the end against the count before the example started.
      expect(readFileSync(join(dir, 'log.txt'), 'utf8')).toMatch(/tensors alive: \d+ \(\+0\)/);
    }, 250_000);
  });
});
