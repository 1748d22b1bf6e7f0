/**
 * Label-driven readouts of spiking activity.
 * @module
 */
export * from './max-rate-classifier.js';
