/**
 * Event-driven and fused kernels on typed arrays (no tfjs op per step).
 * @module
 */
export * from './event-stdp.js';
export * from './sparse-homeostasis.js';
export * from './voltage-stdp.js';
export * from './culture.js';
export * from './fused-memory.js';
export * from './fused-neuron.js';
export * from './fused-outer-update.js';
export * from './fused-sparse-matmul.js';
export * from './fused-sparse-list.js';
export { setSimdLoops } from './fused-simd.js';
