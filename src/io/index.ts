/**
 * Files: atomic writes, NumPy `.npy`/`.npz`, the one checksummed tensor format, and module
 * save/load (Node only: reached through `cinder-snn/node`).
 * @module
 */
export * from './atomic.js';
export * from './npy.js';
export * from './npy-append.js';
export * from './tensors.js';
export * from './serialize.js';
