/**
 * Observation: fold reducers (traces, averages, event timers, histories), monitors that read module
 * state through typed accessors, and recorders.
 * @module
 */
export * from './ring.js';
export * from './criterion.js';
export * from './reducers/index.js';
export * from './monitors/index.js';
