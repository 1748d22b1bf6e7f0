export * from './tf.js';
export * from './errors.js';
export * from './backend.js';
export * from './random.js';
export * from './state.js';
export * from './module.js';
export * from './scalars.js';
export * from './snapshot.js';
