/**
 * Where a step program's products run: inside Cinder's own programs (the drive program's dense sums
 * `Σ_i s[b, i]·W[o, i]`, the update program's batch sums `Σ_b post[b, p]·pre[b, q]`), or in tfjs's
 * tiled matrix product first, whose result the program then reads (one more dispatch per product,
 * far fewer loads per multiply-add).
 *
 * A step is launch-bound while its products are small: each dispatch costs ≈ 38 µs on a GPU, more
 * than the products' own time. So on a hardware adapter a product of up to
 * {@link OWN_PRODUCT_MAX_WORK_GPU} multiply-adds (B·O·I for a drive, B·P·Q for an update) stays in
 * Cinder's program at any batch. Measured on an H200 (quickstart + STDP, 784 → 100, `bench/webgpu.ts`
 * `routes`): B = 256 (20 M multiply-adds per product) 0.71 ms per step in Cinder's programs against
 * 1.10 ms through the matrix products, B = 1024 (80 M) 0.75 against 1.08. A larger product takes the
 * matrix product, whose tiling pays once the work outweighs the launches. On a software adapter
 * (SwiftShader), where an invocation's serial loop is slow, and below any work limit, the products stay
 * in Cinder's programs up to {@link OWN_PRODUCT_MAX_BATCH} samples only.
 * @module
 */
import { backendInfo } from '../../core/backend.js';

/** Largest batch whose products Cinder's programs compute on any adapter. */
export const OWN_PRODUCT_MAX_BATCH = 32;
/** Most multiply-adds of one product that Cinder's programs compute on a hardware adapter, at any batch. */
export const OWN_PRODUCT_MAX_WORK_GPU = 2 ** 27;

/** Whether the webgpu backend runs on a software adapter (SwiftShader); false for a GPU or an adapter `initBackend` did not describe. */
export function softwareAdapter(): boolean {
  const info = backendInfo();
  return info?.name === 'webgpu' && info.adapter?.software === true;
}

/**
 * Whether a product of `work` multiply-adds over a batch of B samples runs in Cinder's program (see
 * the module text); `maxBatch`, where a test or bench set one, replaces the rule by `B ≤ maxBatch`.
 */
export function ownProductRoute(B: number, work: number, maxBatch: number | null): boolean {
  if (maxBatch !== null) return B <= maxBatch;
  if (B <= OWN_PRODUCT_MAX_BATCH) return true;
  return !softwareAdapter() && work <= OWN_PRODUCT_MAX_WORK_GPU;
}
