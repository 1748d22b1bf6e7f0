export * from './types.js';
export * from './updater.js';
export * from './neurons/index.js';
export * from './synapses/index.js';
export * from './connections/index.js';
export * from './layers/index.js';
export * from './encoders/index.js';
