export * from './reducer.js';
export * from './trace-options.js';
export * from './trace.js';
export * from './passthrough.js';
export * from './event.js';
export * from './ema.js';
export * from './ca.js';
export * from './fold-function.js';
