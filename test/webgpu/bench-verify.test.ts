// The `verify` lines of the webgpu bench (bench/webgpu-verify.ts), which bench/gpu-check.sh runs on
// the lent GPU: here on SwiftShader at small sizes, so the check itself cannot rot unnoticed, and its
// comparison measure on arrays whose answer is known.
import { describe, expect, it, vi } from 'vitest';
import { EvidenceTask } from '../../examples/eprop-evidence/task.js';
import { relMax, verifyEprop, verifyQuickstart } from '../../bench/webgpu-verify.js';
import { onBackend, webgpuForTests } from './gpu.js';

const gpu = await webgpuForTests();

describe('relMax', () => {
  it('is the largest difference over the largest reference entry; NaN or a length mismatch is Infinity', () => {
    expect(relMax([1, 2, 4.5], [1, 2, 4])).toBeCloseTo(0.5 / 4, 15);
    expect(relMax([0, -3], [0, -2])).toBeCloseTo(1 / 2, 15);
    expect(relMax([1, NaN], [1, 2])).toBe(Infinity);
    expect(relMax([1], [1, 2])).toBe(Infinity);
    expect(relMax([0, 0], [0, 0])).toBe(0);
  });
});

describe.skipIf(!gpu.ok)(`bench verify lines on webgpu (${gpu.detail})`, () => {
  it('fused quickstart step = op path, fused e-prop = JS kernel: every line ok, with spikes and gradients to compare', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const q = await onBackend('webgpu', () => verifyQuickstart(2, 20));
      expect(q).toMatchObject({ case: 'webgpu-verify-quickstart', batch: 2, steps: 20, spikes_differ: 0, ok: true });
      expect(q.spikes as number).toBeGreaterThan(0);
      const task = new EvidenceTask({ cueSteps: 4, spacingSteps: 2, delaySteps: 10, recallSteps: 10 });
      const e = await onBackend('webgpu', () => verifyEprop(task, 3, 2));
      // At this length no spike flips: all three sequences are compared, and training too.
      expect(e).toMatchObject({ case: 'webgpu-verify-eprop', batch: 3, iterations: 2, kernel: 'webgpu', spikes_differ: 0, sequences_equal: 3, flip_margin_max: 0, predictions_differ: 0, train_predictions_differ: 0, ok: true });
      expect(e.spikes as number).toBeGreaterThan(0);
      expect(e.grad_rel_recurrent as number).toBeLessThan(1e-4);
      expect(e.train_loss_rel_max as number).toBeLessThan(1e-4);
      // What was printed is what was returned.
      expect(log.mock.calls.map((c) => JSON.parse(String(c[0])).case)).toEqual(['webgpu-verify-quickstart', 'webgpu-verify-eprop']);
    } finally {
      log.mockRestore();
    }
  }, 120_000);
});
