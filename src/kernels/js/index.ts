/**
 * Event-driven and fused kernels on typed arrays (no tfjs op per step).
 * @module
 */
export * from './event-stdp.js';
export * from './sparse-homeostasis.js';
export * from './voltage-stdp.js';
export * from './culture.js';
