// BullMQ sweeps when things go wrong while everything is still alive (real processes, a real
// redis-server):
// - a worker stopped (SIGSTOP) past its lock: another worker runs the job; when the first resumes
//   it kills its own run and discards its attempt, so the job never runs twice at once;
// - Redis emptied mid-sweep: the coordinator puts the lost jobs back and the worker that was
//   running one stops it; every run is recorded once;
// - Redis gone for good: the coordinator fails with a clear error instead of waiting for ever;
// - attempt folders: only those of dead processes on this host are removed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { attemptOwner, removeStaleAttempts } from '../../src/sweep/child.js';
import { BullmqEngine } from '../../src/sweep/engines.js';
import { runSweep } from '../../src/sweep/sweep.js';
import { Terminal } from '../../src/cli/progress.js';
import type { ExampleSpec } from '../../src/cli/example.js';
import { parseRedisUrl } from '../../src/sweep/redis.js';
import { startRedis, type RedisServer } from './fixtures/redis.js';
import { cinder, fakeBin, json, resultLines, tempFolders, until, type Proc } from './fixtures/procs.js';

const { tmp, cleanup } = tempFolders();
/** The plan side of fake-cinder's sweep-fake (the coordinator only expands and names its runs). */
const fakeSpec: ExampleSpec = {
  name: 'sweep-fake', description: 'fake', options: [{ name: 'value', type: 'float', description: 'v', default: 1 }],
  presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: [], figures: [], run: async () => ({}),
};
afterAll(cleanup);

let redis: RedisServer;
const procs: Proc[] = [];
beforeEach(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  for (const p of procs.splice(0)) {
    p.child.kill('SIGCONT');
    p.child.kill('SIGKILL');
    await p.exited;
  }
  await redis.stop();
});
const start = (args: string[], env: Record<string, string> = {}): Proc => {
  const p = cinder(fakeBin, args, env);
  procs.push(p);
  return p;
};
const attempts = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.attempt-')) : []);
const starts = (counter: string): string[] => (existsSync(counter) ? readFileSync(counter, 'utf8').trim().split('\n').filter(Boolean) : []);

describe('a worker that loses its lock while alive', () => {
  it('SIGSTOP past --lock-ms: the other worker runs the job, the resumed one kills its run and removes its attempt', async () => {
    const base = tmp();
    const counter = join(base, 'counter.txt');
    const out = join(base, 's');
    const env = { FAKE_SWEEP_COUNTER: counter };
    const w1 = start(['worker', '--redis', redis.url, '--lock-ms', '1000'], env);
    const w2 = start(['worker', '--redis', redis.url, '--lock-ms', '1000'], env);
    await until('workers', () => w1.out().includes('cinder worker:') && w2.out().includes('cinder worker:'));
    const sweep = start(['sweep', 'sweep-fake', '--value', '3', '--sleep-ms', '8000', '--seed', '4', '--engine', 'bullmq', '--redis', redis.url, '--out', out], env);
    await until('the job started', () => starts(counter).length === 1);
    const [a, b] = w1.out().includes('start ') ? [w1, w2] : [w2, w1];
    a.child.kill('SIGSTOP');
    // a's lock expires after 1 s; b's stalled-job check hands b the job
    await until('the job on the other worker', () => b.out().includes('start ') && starts(counter).length === 2, 30_000);
    a.child.kill('SIGCONT');
    await until('the resumed worker notices', () => a.out().includes('lost the lock of'), 30_000);
    // its run is gone (attempt removed) while the other worker's run still runs
    await until('its attempt removed', () => !attempts(join(out, 'runs')).some((n) => n.includes(`~${a.child.pid}~`)), 10_000);
    expect(resultLines(sweep.out())).toHaveLength(0);
    expect(attempts(join(out, 'runs')).filter((n) => n.includes(`~${b.child.pid}~`))).toHaveLength(1);
    expect(await sweep.exited, sweep.out()).toBe(0);
    const lines = resultLines(sweep.out());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/completed/);
    expect(a.out()).not.toMatch(/completed /);
    expect(b.out()).toMatch(/completed /);
    expect(starts(counter)).toEqual(['4 3', '4 3']);
    // score = 10 value + seed
    const file = json(join(out, 'sweep.json'));
    expect(file.runs[0].summary.score).toBe(34);
    expect(json(join(out, 'runs', file.runs[0].job, 'run_summary.json')).score).toBe(34);
    expect(attempts(join(out, 'runs'))).toEqual([]);
  }, 90_000);
});

describe('Redis emptied during a sweep', () => {
  it('the coordinator resubmits the lost jobs; the worker running one stops it; each run recorded once', async () => {
    const base = tmp();
    const counter = join(base, 'counter.txt');
    const out = join(base, 's');
    const env = { FAKE_SWEEP_COUNTER: counter };
    const w = start(['worker', '--redis', redis.url, '--lock-ms', '1000'], env);
    await until('worker', () => w.out().includes('cinder worker:'));
    const sweep = start(['sweep', 'sweep-fake', '--sleep-ms', '2500', '--grid', 'value=1,2', '--seeds', '1', '--engine', 'bullmq', '--redis', redis.url, '--out', out], env);
    await until('a job started', () => starts(counter).length === 1);
    const client = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1 });
    expect(await client.flushall()).toBe('OK');
    client.disconnect();
    expect(await sweep.exited, sweep.out()).toBe(0);
    expect(w.out()).toMatch(/lost the lock of value=1_seed=0/);
    const lines = resultLines(sweep.out());
    expect(lines).toHaveLength(2);
    expect(new Set(lines.map((l) => l.split(' ')[1]))).toEqual(new Set(['value=1_seed=0:', 'value=2_seed=0:']));
    // the first job started twice (the stopped attempt and the resubmitted job), the second once
    expect(starts(counter).sort()).toEqual(['0 1', '0 1', '0 2']);
    const s = json(join(out, 'summary.json'));
    expect(s.points.map((p: { metrics: { score: { mean: number } } }) => p.metrics.score.mean)).toEqual([10, 20]);
    expect(attempts(join(out, 'runs'))).toEqual([]);
  }, 90_000);
});

describe('Redis gone for good', () => {
  it('the coordinator fails after lostMs with an error naming the server, instead of hanging; sweep.json keeps the runs', async () => {
    const address = parseRedisUrl(redis.url);
    const out = join(tmp(), 's');
    const running = runSweep({
      spec: fakeSpec, plan: { example: 'sweep-fake', mode: 'tiny', flags: {}, grid: [], seeds: [1, 2], pack: 1 }, outDir: out,
      engine: (id) => new BullmqEngine(address, id, 'cinder-test-lost', 50, 1500), terminal: new Terminal({ mode: 'quiet' }),
    });
    const outcome = running.then(() => 'resolved', (e: Error) => e.message);
    await until('jobs submitted', () => existsSync(join(out, 'sweep.json')));
    await new Promise((r) => setTimeout(r, 300));
    await redis.stop();
    const t0 = Date.now();
    const message = await outcome;
    expect(message).toMatch(new RegExp(`Redis at 127\\.0\\.0\\.1:${redis.port} unreachable for 2 s .*run the same cinder sweep again`));
    expect(Date.now() - t0).toBeLessThan(10_000);
    const file = json(join(out, 'sweep.json'));
    expect(file.runs.map((r: { seed: number; status: string }) => `${r.seed} ${r.status}`)).toEqual(['1 waiting', '2 waiting']);
    redis = await startRedis(); // for afterEach
  }, 30_000);
});

describe('attempt folders', () => {
  it('names carry host and pid; only dead processes\' attempts on this host are removed', async () => {
    const runs = join(tmp(), 'runs');
    const host = hostname().replace(/[^A-Za-z0-9._-]/g, '_');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const names = {
      live: `.attempt-value=1_seed=0~${host}~${process.pid}~0123abcd`,
      dead: `.attempt-value=1_seed=0~${host}~${dead}~0123abcd`,
      deadOther: `.attempt-value=2_seed=0~${host}~${dead}~89abcdef`,
      remote: `.attempt-value=1_seed=0~some-other-host~${dead}~0123abcd`,
      legacyDead: `.attempt-value=1_seed=0-${dead}-deadbeef`,
      legacyLive: `.attempt-value=1_seed=0-${process.pid}-deadbeef`,
    };
    for (const n of Object.values(names)) mkdirSync(join(runs, n), { recursive: true });
    mkdirSync(join(runs, 'value=1_seed=0'));
    expect(attemptOwner(names.remote)).toEqual({ job: 'value=1_seed=0', host: 'some-other-host', pid: dead });
    expect(attemptOwner(names.legacyDead)).toEqual({ job: 'value=1_seed=0', host, pid: dead });
    expect(attemptOwner('value=1_seed=0')).toBeUndefined();
    // one job's: the other job's dead attempt stays
    const one = await removeStaleAttempts(runs, 'value=1_seed=0');
    expect(one.removed.sort()).toEqual([names.dead, names.legacyDead].sort());
    expect(one.otherHosts).toEqual([names.remote]);
    expect(existsSync(join(runs, names.deadOther))).toBe(true);
    const all = await removeStaleAttempts(runs);
    expect(all.removed).toEqual([names.deadOther]);
    expect(readdirSync(runs).sort()).toEqual([names.legacyLive, names.live, names.remote, 'value=1_seed=0'].sort());
  });
});
