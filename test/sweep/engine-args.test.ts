// The engines' numeric arguments are checked when they are made (CinderArgumentError, "invalid X:
// got Y, expected Z"): LocalEngine(NaN) used to be accepted and its run() started no job at all
// (Array.from({ length: max(1, min(NaN, n)) }) has no lanes) and resolved, so a sweep given it
// ended "stopped" with every run waiting; BullmqEngine's pollMs NaN, 0 or past setTimeout's range
// polled Redis every millisecond, and lostMs NaN never gave up on an unreachable Redis.
import { describe, expect, it } from 'vitest';
import { CinderArgumentError } from '../../src/core/errors.js';
import { BullmqEngine, LocalEngine } from '../../src/sweep/engines.js';

const address = { host: '127.0.0.1', port: 6379, db: 0 };

describe('engine arguments', () => {
  it('LocalEngine: workers is an integer >= 1', () => {
    for (const bad of [NaN, 0, -1, 1.5, Infinity]) {
      expect(() => new LocalEngine(bad)).toThrow(CinderArgumentError);
    }
    expect(() => new LocalEngine(NaN)).toThrow('invalid workers: got NaN, expected an integer >= 1');
    expect(new LocalEngine(3).workers).toBe(3);
  });

  it('BullmqEngine: pollMs in [1, 2^31 - 1] (setTimeout\'s range), lostMs a finite number >= 0', () => {
    for (const bad of [NaN, 0, -5, 0.5, 2 ** 31, Infinity]) {
      expect(() => new BullmqEngine(address, 's', 'q', bad)).toThrow(CinderArgumentError);
    }
    expect(() => new BullmqEngine(address, 's', 'q', NaN)).toThrow('invalid pollMs: got NaN, expected a number in [1, 2147483647]');
    for (const bad of [NaN, -1, Infinity]) {
      expect(() => new BullmqEngine(address, 's', 'q', 200, bad)).toThrow(CinderArgumentError);
    }
    expect(() => new BullmqEngine(address, 's', 'q', 200, NaN)).toThrow('invalid lostMs: got NaN, expected a finite number >= 0');
    const e = new BullmqEngine(address, 's', 'q', 2 ** 31 - 1, 0);
    expect([e.pollMs, e.lostMs]).toEqual([2 ** 31 - 1, 0]);
    expect([new BullmqEngine(address, 's').pollMs, new BullmqEngine(address, 's').lostMs]).toEqual([200, 60_000]);
  });
});
