// The fused WGSL e-prop kernels (src/kernels/webgpu/eprop.ts) against the JavaScript kernel on the
// same backend, and against NEST's losses (the b1 fixture) — on webgpu, SwiftShader in CI.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadEPropFixture } from '../../examples/eprop-evidence/nest-fixture.js';
import { buildEvidenceNetwork, runFixtureParity } from '../../examples/eprop-evidence/training.js';
import { EvidenceTask } from '../../examples/eprop-evidence/task.js';
import { Rng } from '../../src/core/random.js';
import type { EPropBatch, EPropKernel } from '../../src/learn/eprop/index.js';
import { onBackend, webgpuForTests } from './gpu.js';

const gpu = await webgpuForTests();
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixturePath = [resolve(root, 'test', 'fixtures', 'eprop-nest-b1-i5.json'), resolve(root, '..', '..', 'shared', 'fixtures', 'eprop-nest-b1-i5.json'), '/work/shared/fixtures/eprop-nest-b1-i5.json'].find((p) => existsSync(p));

// A short evidence task (T = 4·(10 + 12) + 30 + 30 = 148 steps), n = 100 neurons (two per invocation).
const task = new EvidenceTask({ cueSteps: 12, spacingSteps: 10, delaySteps: 30, recallSteps: 30 });

async function train(kernel: EPropKernel, batchSize: number, iterations: number) {
  const net = buildEvidenceNetwork({ kernel, seed: 3, learningWindow: 30 });
  const rng = new Rng(11);
  const loss: number[] = [];
  const grads: Float64Array[] = [];
  try {
    for (let it = 0; it < iterations; it++) {
      const b = task.batch(batchSize, rng) as EPropBatch;
      try {
        if (it === 0) {
          const g = await net.trainer.gradientsAsync(b);
          grads.push(g.gradients.input, g.gradients.recurrent, g.gradients.readout);
        }
        loss.push((await net.trainer.stepAsync(b)).loss);
      } finally {
        b.inputs.dispose();
      }
    }
    return { loss, grads, kernel: net.trainer.kernel };
  } finally {
    net.dispose();
  }
}

function relMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  return worst;
}

describe.skipIf(!gpu.ok)(`fused e-prop kernel on webgpu (${gpu.detail})`, () => {
  for (const B of [1, 32]) {
    it(`B = ${B}: losses over 5 iterations within rtol 1e-4 of the JS kernel, gradients within 1e-4`, async () => {
      const js = await onBackend('webgpu', () => train('js', B, 5));
      const wg = await onBackend('webgpu', () => train('auto', B, 5));
      expect(wg.kernel).toBe('webgpu');
      for (let i = 0; i < 5; i++) expect(Math.abs(wg.loss[i]! - js.loss[i]!) / Math.abs(js.loss[i]!)).toBeLessThan(1e-4);
      // Gradients: max error relative to the largest entry of each gradient matrix.
      for (let k = 0; k < 3; k++) expect(relMax(wg.grads[k]!, js.grads[k]!)).toBeLessThan(1e-4);
      expect(js.grads[0]!.some((v) => v !== 0)).toBe(true);
    });
  }

  it('the synchronous methods refuse webgpu with a pointer to their async forms, before any state changes', async () => {
    await onBackend('webgpu', async () => {
      for (const kernel of ['webgpu', 'js'] as const) {
        const net = buildEvidenceNetwork({ kernel, nLif: 3, nAlif: 3, learningWindow: 5 });
        const b = new EvidenceTask({ cueSteps: 2, spacingSteps: 1, delaySteps: 2, recallSteps: 5 }).batch(1, new Rng(1)) as EPropBatch;
        expect(() => net.trainer.step(b)).toThrow(/Async/);
        expect(() => net.trainer.recordSequence(b)).toThrow(/recordSequenceAsync/);
        expect(net.trainer.iterations).toBe(0);
        b.inputs.dispose();
        net.dispose();
      }
    });
  });

  it.skipIf(!fixturePath)("NEST b1 fixture: every loss within rtol 1e-4 of NEST's with the fused kernel", async () => {
    const f = loadEPropFixture(fixturePath!);
    const r = await onBackend('webgpu', () => runFixtureParity(f, { kernel: 'webgpu' }));
    expect(r.loss).toHaveLength(f.nIter);
    for (let i = 0; i < f.nIter; i++) expect(Math.abs(r.loss[i]! - f.loss[i]!) / Math.abs(f.loss[i]!)).toBeLessThan(1e-4);
  });
});
