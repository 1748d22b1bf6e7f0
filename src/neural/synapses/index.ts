export * from './synapse.js';
export * from './delta-current.js';
export * from './delta-plus-current.js';
export * from './single-exponential-current.js';
export * from './double-exponential-current.js';
export * from './exponential-conductance.js';
export * from './double-exponential-conductance.js';
