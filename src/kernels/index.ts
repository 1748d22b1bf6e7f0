/**
 * Kernels per backend: `js/` runs on typed arrays (event-driven and fused kernels for the CPU
 * backends), `webgpu/` holds WGSL programs run through tfjs's webgpu backend.
 * @module
 */
export * from './js/index.js';
