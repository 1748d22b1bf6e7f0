export * from './schedule.js';
export * from './state-monitor.js';
export * from './multi-state-monitor.js';
export * from './recorder.js';
export * from './spike-recorder.js';
