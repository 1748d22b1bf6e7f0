/**
 * Module-level settings of Cinder's kernels: the switches between a fused kernel and the op path
 * (tests run both and compare them) and the batch sizes where a kernel changes route. Each kernel
 * module keeps one {@link KernelSetting} and exports a named setter (`setFusedKernels`,
 * `setSimdLoops`, `setStepPrograms`, …) that returns the previous value, so a test can restore it.
 * @module
 */

/** One changeable setting. */
export class KernelSetting<T> {
  /** @param value the initial value */
  constructor(private value: T) {}

  /** The current value. */
  get(): T {
    return this.value;
  }

  /** Sets the value; returns the previous one. */
  set(value: T): T {
    const was = this.value;
    this.value = value;
    return was;
  }
}

/**
 * A switch that starts on unless the environment variable `name` is `'0'` at start (read in Node
 * only; in a browser, where there is no `process`, it starts on).
 */
export function envSwitch(name: string): KernelSetting<boolean> {
  return new KernelSetting(typeof process === 'undefined' || process.env?.[name] !== '0');
}
