// The RESP client BullMQ runs on, against a real redis-server: replies in ioredis' shapes (what
// BullMQ expects), scripts with the NOSCRIPT fallback, MULTI/EXEC with a failing command inside,
// blocking reads on a duplicate, and a closed connection failing pending commands.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RespRedisClient, parseRedisUrl } from '../../src/sweep/redis-client.js';
import { startRedis, type RedisServer } from './fixtures/redis.js';

describe('RespRedisClient', () => {
  let redis: RedisServer;
  let c: RespRedisClient;
  beforeAll(async () => {
    redis = await startRedis();
    c = new RespRedisClient(parseRedisUrl(redis.url));
    await c.connect();
  });
  afterAll(async () => {
    await c?.quit();
    await redis?.stop();
  });

  it('strings, numbers, nil, hashes, sorted sets, binary-safe arguments', async () => {
    expect(await c.set('k', 'vä\r\nl')).toBe('OK');
    expect(await c.get('k')).toBe('vä\r\nl');
    expect(await c.get('missing')).toBeNull();
    expect(await c.incrby('n', 41)).toBe(41);
    expect(await c.hset('h', { a: '1', b: 2 })).toBe(2);
    expect(await c.hgetall('h')).toEqual({ a: '1', b: '2' });
    expect(await c.hmget('h', 'a', 'zz')).toEqual(['1', null]);
    expect(await c.zadd('z', 2, 'two', 1, 'one')).toBe(2);
    expect(await c.zrange('z', 0, -1, { WITHSCORES: true })).toEqual(['one', '1', 'two', '2']);
    await c.call('SET', 'bin', Buffer.from([0, 255, 10]));
    expect(await c.call('STRLEN', 'bin')).toBe(3);
  });

  it('scripts: EVALSHA after SCRIPT LOAD, EVAL when the server forgot the script', async () => {
    c.defineCommand('sum2', { numberOfKeys: 1, lua: "return redis.call('INCRBY', KEYS[1], ARGV[1]) + ARGV[2]" });
    expect(await c.runCommand('sum2', ['s', 5, 100])).toBe(105);
    await c.call('SCRIPT', 'FLUSH');
    expect(await c.runCommand('sum2', [['s', 1, 0]])).toBe(6);
  });

  it('MULTI/EXEC: one reply pair per command, an error stays in its slot', async () => {
    const r = await c.multi().hset('t', { x: '1' }).hgetall('t').runCommand('sum2', ['t', 1, 0]).llen('t').exec();
    expect(r![0]).toEqual([null, 1]);
    expect(r![1]).toEqual([null, { x: '1' }]);
    expect(r![2]![0]).toBeInstanceOf(Error); // INCRBY on a hash: WRONGTYPE inside the transaction
    expect(r![3]![0]).toBeInstanceOf(Error);
  });

  it('blocking BZPOPMIN and XREAD on a duplicate connection', async () => {
    const d = c.duplicate();
    await d.connect();
    const popped = d.bzpopmin('q', 2);
    await c.zadd('q', 3, 'job');
    expect(await popped).toEqual(['q', 'job', '3']);
    const id = await c.xadd('st', '*', { event: 'done', n: 1 });
    expect(await d.xread([{ key: 'st', id: '0' }], { COUNT: 10 })).toEqual([['st', [[id, ['event', 'done', 'n', '1']]]]]);
    const pending = d.bzpopmin('never', 5);
    d.disconnect();
    await expect(pending).resolves.toBeNull();
    expect(d.status).toBe('end');
  });
});
