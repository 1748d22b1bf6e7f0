/**
 * The trainers' toolkit: the trainer base and cell registry, trace pairs, receptive contractions,
 * sign splitting and reward modulation. A new learning rule is a short class built from these.
 * @module
 */
export * from './trainable-cell.js';
export * from './trainer.js';
export * from './sign.js';
export * from './contraction.js';
export * from './pair-traces.js';
export * from './modulation.js';
