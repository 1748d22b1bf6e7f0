/**
 * Post-update hooks: transforms of a parameter or state applied after a connection's update or a
 * layer's step ({@link Clamping}, {@link Normalization}).
 * @module
 */
export * from './tensor-hook.js';
export * from './clamping.js';
export * from './normalization.js';
