// The rule of src/kernels/webgpu/step-route.ts (where a step program's products run), as a pure
// function of the batch, the work and the adapter: here on the default suite's CPU backend, where no
// software adapter is described, so the GPU rule applies; the SwiftShader suite
// (test/webgpu/step-kernels.test.ts) sees the software adapter's B ≤ 32.
import { describe, expect, it } from 'vitest';
import { backendInfo } from '../../src/core/backend.js';
import { OWN_PRODUCT_MAX_BATCH, OWN_PRODUCT_MAX_WORK_GPU, ownProductRoute, softwareAdapter } from '../../src/kernels/webgpu/step-route.js';

describe('ownProductRoute', () => {
  it('a set maxBatch decides alone: B ≤ maxBatch', () => {
    expect(ownProductRoute(32, 1e12, 32)).toBe(true);
    expect(ownProductRoute(33, 1, 32)).toBe(false);
    expect(ownProductRoute(1, 1, 0)).toBe(false);
  });

  it('without a software adapter: any product up to 32 samples, above only up to 2^27 multiply-adds', () => {
    expect(backendInfo()?.name).not.toBe('webgpu');
    expect(softwareAdapter()).toBe(false);
    expect(OWN_PRODUCT_MAX_BATCH).toBe(32);
    expect(ownProductRoute(32, 1e12, null)).toBe(true);
    // the quickstart's 784 → 100 products: own programs at B = 256 and 1024 (20 M and 80 M)
    expect(ownProductRoute(256, 256 * 784 * 100, null)).toBe(true);
    expect(ownProductRoute(1024, 1024 * 784 * 100, null)).toBe(true);
    expect(ownProductRoute(4096, 4096 * 784 * 100, null)).toBe(false);
    expect(ownProductRoute(33, OWN_PRODUCT_MAX_WORK_GPU, null)).toBe(true);
    expect(ownProductRoute(33, OWN_PRODUCT_MAX_WORK_GPU + 1, null)).toBe(false);
  });
});
