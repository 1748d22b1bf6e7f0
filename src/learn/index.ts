export * from './toolkit/index.js';
export * from './trainers/index.js';
export * from './optimizers/index.js';
export * from './eprop/index.js';
export * from './classifiers/index.js';
