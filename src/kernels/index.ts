/**
 * Kernels per backend: `js/` runs on typed arrays (event-driven and fused kernels for the CPU
 * backends), `webgpu/` holds WGSL programs run through tfjs's webgpu backend.
 * @module
 */
export * from './js/index.js';
// webgpu: the switches and the dispatch counter of the fused step programs (the programs run by themselves)
export { setStepPrograms, stepProgramsOn, countPrograms, type ProgramCount } from './webgpu/step-program.js';
export { setMultiOutput, multiOutputAvailable } from './webgpu/step-dispatch.js';
export { maxBindingBytes } from './webgpu/limits.js';
