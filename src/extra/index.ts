export * from './exact-neuron.js';
