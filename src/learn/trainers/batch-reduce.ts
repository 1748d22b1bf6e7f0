/**
 * @module
 */
export { reduceOverBatch } from '../toolkit/contraction.js';
