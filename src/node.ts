/**
 * Cinder for Node.js: everything in the main entry plus files (atomic writes, NumPy, module
 * save/load), HTML figures and the `cinder` command's building blocks.
 * @module
 */
export * from './index.js';
export * from './io/index.js';
export * from './viz/html.js';
export * from './cli/index.js';
export * from './sweep/index.js';
export * from './network/files.js';
export * from './learn/eprop/threads.node.js';
export * from './observe/monitors/spike-file.node.js';
