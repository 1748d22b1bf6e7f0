export * from './synapse.js';
export * from './delta.js';
export * from './exponential.js';
export * from './double-exponential.js';
