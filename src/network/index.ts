/**
 * The network floor: {@link Network} (named layers, connections, trainers, optimizers and
 * generators, stepped and saved as one). Browser-safe; file storage comes with `cinder-snn/node`.
 * @module
 */
export * from './network.js';
export * from './plasticity-network.js';
