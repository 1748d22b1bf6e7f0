/**
 * When a monitor acts: every n-th `observe()` call, optionally in training mode only.
 * @module
 */
import { checkInteger, optionKeys } from '../../core/errors.js';

/** Options shared by monitors and recorders. */
export interface ObserveOptions {
  /** Act on every n-th `observe()` call (the n-th, 2n-th, …; integer >= 1, default 1). */
  every?: number;
  /** When true the layer calls `observe()` only in training mode. */
  trainOnly?: boolean;
}

/** The keys of {@link ObserveOptions}. */
export const OBSERVE_OPTION_KEYS = optionKeys<ObserveOptions>()(['every', 'trainOnly']);

/** Counts `observe()` calls and says which ones act. */
export class Schedule {
  /** Act on every n-th call. */
  readonly every: number;
  private calls = 0;

  /** @param every act on every n-th call (integer >= 1) */
  constructor(every = 1) {
    this.every = checkInteger('every', every, 1);
  }

  /** True when the next call acts (without registering it: a monitor registers a call with {@link tick} once it succeeded). */
  get due(): boolean {
    return (this.calls + 1) % this.every === 0;
  }

  /** Registers one call; true when this call acts. */
  tick(): boolean {
    this.calls++;
    return this.calls % this.every === 0;
  }

  /** Number of calls since construction or the last reset. */
  get count(): number {
    return this.calls;
  }

  /** Restarts counting (from `calls`, default 0: a restored checkpoint passes its count). */
  reset(calls = 0): void {
    this.calls = calls;
  }
}
