// BullmqEngine gives up when Redis stays unreachable for lostMs. That time used to be measured with
// Date.now, so a step of the wall clock (NTP, resume from suspend, a date set by hand) changed it: a
// jump ahead during one failed poll ended the sweep at once, a jump back kept it waiting for the
// jump's length. It is measured by the monotonic clock now. A real redis-server holds the queue; the
// failing polls are made exact by making the engine's job-state look (Queue#getJobState) throw, and
// Date.now is made to jump right after the engine first reads it in a failure.
import { join } from 'node:path';
import { QueueGetters } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BullmqEngine, type EngineJob } from '../../src/sweep/engines.js';
import { parseRedisUrl } from '../../src/sweep/redis.js';
import { startRedis, type RedisServer } from './fixtures/redis.js';
import { tempFolders } from './fixtures/procs.js';

const { tmp, cleanup } = tempFolders();
let redis: RedisServer;
beforeEach(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await redis.stop();
  cleanup();
});

/** Date.now: the real clock until armed; once armed, its first call is real and later ones are off by `jumpMs`. */
function jumpingDateNow(jumpMs: number): { arm(): void } {
  const realNow = Date.now.bind(Date);
  let armed = false;
  let calls = 0;
  vi.spyOn(Date, 'now').mockImplementation(() => (armed && calls++ > 0 ? realNow() + jumpMs : realNow()));
  return { arm: () => void (armed = true) };
}

const hooks = { onStart: () => {}, onResult: () => {} };
const job = (): EngineJob => ({ name: 'a', args: ['sweep-fake'], outDir: join(tmp(), 'a') });

describe('BullmqEngine: the lost-Redis timeout is timed by the monotonic clock', () => {
  it('a wall clock that jumps an hour ahead during a failed poll does not end the sweep', async () => {
    const engine = new BullmqEngine(parseRedisUrl(redis.url), 'clock-ahead', 'cinder-test-clock', 5, 60_000);
    const clock = jumpingDateNow(3_600_000);
    let polls = 0;
    vi.spyOn(QueueGetters.prototype, 'getJobState').mockImplementation(async () => {
      polls++;
      if (polls === 1) {
        clock.arm();
        throw new Error('fake: connection lost');
      }
      engine.stop(); // the second poll answers: the sweep goes on (and is stopped here, its job waiting)
      return 'waiting';
    });
    await expect(engine.run([job()], hooks)).resolves.toBeUndefined();
    expect(polls).toBe(2);
  });

  it('a wall clock that jumps an hour back does not stretch it: the sweep fails once lostMs have passed', async () => {
    // lostMs 50, polls at least 5 ms apart: by the monotonic clock it fails after a dozen or so
    // failed polls; the old code (Date.now an hour behind) polled on until stopped at the 200th
    const engine = new BullmqEngine(parseRedisUrl(redis.url), 'clock-back', 'cinder-test-clock', 5, 50);
    const clock = jumpingDateNow(-3_600_000);
    let polls = 0;
    vi.spyOn(QueueGetters.prototype, 'getJobState').mockImplementation(async () => {
      polls++;
      if (polls === 1) clock.arm();
      if (polls >= 200) engine.stop();
      throw new Error('fake: connection lost');
    });
    await expect(engine.run([job()], hooks)).rejects.toThrow(`Redis at 127.0.0.1:${redis.port} unreachable for 0 s`);
    expect(polls).toBeLessThan(200);
  });
});
