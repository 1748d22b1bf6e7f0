// Test helper: the message of the CinderArgumentError a call throws (fails the test when it throws
// something else or nothing).
import { expect } from 'vitest';
import { CinderArgumentError } from '../../src/core/errors.js';

/** Runs `f`, expects a CinderArgumentError and returns its message. */
export function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(CinderArgumentError);
    return (err as Error).message;
  }
  throw new Error('no error thrown');
}
