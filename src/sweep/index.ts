/**
 * Sweeps (Node only): grid × seeds plans, the sweep folder, the local and BullMQ engines, the
 * `cinder sweep` / `cinder worker` commands, and the small Redis client BullMQ runs on.
 * @module
 */
export * from './plan.js';
export * from './store.js';
export * from './child.js';
export * from './engines.js';
export * from './sweep.js';
export * from './cli.js';
export * from './redis.js';
