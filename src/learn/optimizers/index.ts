export * from './optimizer.js';
export * from './adam.js';
export * from './gradient-descent.js';
