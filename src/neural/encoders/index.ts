/**
 * Spike encoders: rate encoders (Poisson, Bernoulli, BindsNET intervals), inhomogeneous Poisson
 * trains, deterministic spike generators, and the per-step {@link SpikeStream}.
 * @module
 */
export * from './source.js';
export * from './spike-stream.js';
export * from './encoder.js';
export * from './homogeneous-poisson.js';
export * from './poisson-approx.js';
export * from './poisson-interval.js';
export * from './inhomogeneous-poisson.js';
export * from './spike-generator.js';
