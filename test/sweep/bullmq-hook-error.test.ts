// BullmqEngine.run and the errors of its hooks. An onResult that throws (sweep.json cannot be
// written, say) used to be caught as if Redis were unreachable: the same result was offered again
// at every poll and, if the hook recovered, the job was removed from Redis while the first failure
// went unreported — or, if it did not, the sweep failed after lostMs saying Redis was unreachable.
// As LocalEngine does, run() now rejects at once with the hook's own error, and the job stays in
// Redis (completed) for the next cinder sweep to collect. A real redis-server and an in-process
// BullMQ worker that completes the job with a known result.
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobResult } from '../../src/sweep/child.js';
import { BullmqEngine, type EngineJob, type SweepJobReturn } from '../../src/sweep/engines.js';
import { parseRedisUrl, redisConnection } from '../../src/sweep/redis.js';
import { startRedis, type RedisServer } from './fixtures/redis.js';
import { tempFolders } from './fixtures/procs.js';

const { tmp, cleanup } = tempFolders();
let redis: RedisServer;
beforeEach(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await redis.stop();
  cleanup();
});

const QUEUE = 'cinder-test-hook-error';
const result: JobResult = { status: 'completed', exitCode: 0, summary: { score: 34 }, ms: 7 };

describe('BullmqEngine: an error of onResult', () => {
  it('rejects run() at once with that error; the job stays in Redis and a later run collects it', async () => {
    const address = parseRedisUrl(redis.url);
    const conn = redisConnection(address);
    const worker = new Worker<unknown, SweepJobReturn>(QUEUE, async () => ({ result, worker: 'test-worker' }), { connection: conn, drainDelay: 1 });
    const job: EngineJob = { name: 'value=3_seed=4', args: ['sweep-fake'], outDir: join(tmp(), 'a') };
    try {
      const calls: string[] = [];
      // lostMs 1000: the old code offered the result again at every poll and failed after 1 s
      const engine = new BullmqEngine(address, 'hook-error', QUEUE, 20, 1000);
      const failing = engine.run([job], {
        onStart: () => {},
        onResult: (name) => {
          calls.push(name);
          throw new Error('cannot write sweep.json: EACCES (test)');
        },
      });
      await expect(failing).rejects.toThrow(/^cannot write sweep\.json: EACCES \(test\)$/);
      expect(calls).toEqual(['value=3_seed=4']);
      // still in Redis, completed, with its result
      const queue = new Queue(QUEUE, { connection: redisConnection(address) });
      try {
        expect(await queue.getJobState('hook-error~value=3_seed=4')).toBe('completed');
      } finally {
        await queue.close();
      }
      // the next coordinator (the same sweep run again) records it and removes it
      const got: [string, JobResult, string][] = [];
      await new BullmqEngine(address, 'hook-error', QUEUE, 20, 1000).run([job], { onStart: () => {}, onResult: (n, r, w) => void got.push([n, r, w]) });
      expect(got).toEqual([['value=3_seed=4', result, 'test-worker']]);
      const q2 = new Queue(QUEUE, { connection: redisConnection(address) });
      try {
        expect(await q2.getJobState('hook-error~value=3_seed=4')).toBe('unknown');
      } finally {
        await q2.close();
      }
    } finally {
      await worker.close();
      await conn.quit().catch(() => conn.disconnect());
    }
  }, 30_000);
});
