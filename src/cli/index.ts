/**
 * The `cinder` command's building blocks: the example contract, run folders, atomic writes, NumPy
 * and tfjs artifact formats, progress output, and {@link runCli} itself.
 * @module
 */
export * from './example.js';
export * from './artifacts.js';
export * from './options.js';
export * from './progress.js';
export * from './run-folder.js';
export * from './runner.js';
export * from './program.js';
export * from './registry.js';
export * from './package-info.js';
export { RunLockError, RunLockLostError, type LockInfo } from './run-lock.js';
