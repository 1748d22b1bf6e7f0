/**
 * Cinder: spiking neural networks on TensorFlow.js. This entry is browser-safe (no Node built-ins);
 * files, the command line and HTML figures are in `cinder-snn/node`.
 * @module
 */
export * from './core/index.js';
export * from './neural/index.js';
export * from './observe/index.js';
export * from './learn/index.js';
export * from './viz/index.js';
export * from './kernels/index.js';
export * from './network/index.js';
