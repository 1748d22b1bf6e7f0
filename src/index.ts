/**
 * Cinder: spiking neural networks on TensorFlow.js.
 * @module
 */
export * from './core/index.js';
export * from './neural/index.js';
export * from './observe/index.js';
export * from './learn/index.js';
export * from './extra/index.js';
export * from './viz/index.js';
export * from './cli/index.js';
