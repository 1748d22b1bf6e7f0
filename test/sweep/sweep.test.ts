// Acceptance of `cinder sweep` / `cinder worker`: real processes, a real redis-server, tiny runs.
// - BullMQ: two workers, one SIGKILLed during a job; all 12 results arrive once and summary.json
//   equals the local engine's for the same seeds.
// - SIGINT and re-run: the second invocation runs exactly the runs the first did not complete.
// - Bad input exits 2 before anything runs.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { lifDemoExample } from '../../examples/lif-demo/index.js';
import { freePort, startRedis, type RedisServer } from './fixtures/redis.js';
import { bin, cinder, fakeBin, json, resultLines, tempFolders, until } from './fixtures/procs.js';

const { tmp, cleanup } = tempFolders();
afterAll(cleanup);

describe('cinder sweep on BullMQ with a worker killed mid-job', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('12 runs, each recorded once; summary.json equals the local engine\'s', async () => {
    const base = tmp();
    const sweepArgs = ['sweep', 'lif-demo', '--mode', 'tiny', '--grid', 'drive=10,20,30', '--seeds', '1..4', '--backend', 'cpu'];
    const w1 = cinder(bin, ['worker', '--redis', redis.url, '--lock-ms', '2000']);
    const w2 = cinder(bin, ['worker', '--redis', redis.url, '--lock-ms', '2000', '--concurrency', '2']);
    await until('workers', () => w1.out().includes('cinder worker:') && w2.out().includes('cinder worker:'));
    const sweep = cinder(bin, [...sweepArgs, '--engine', 'bullmq', '--redis', redis.url, '--out', join(base, 'bullmq')]);
    await until('a job on worker 1', () => /start (\S+)/.test(w1.out()));
    w1.child.kill('SIGKILL');
    const killedJob = /start (\S+)/.exec(w1.out())![1]!;
    const code = await sweep.exited;
    w2.child.kill('SIGINT');
    await Promise.all([w1.exited, w2.exited]);
    expect(code, sweep.out()).toBe(0);
    // every run reported exactly once, the killed one included (run again by worker 2)
    const lines = resultLines(sweep.out());
    expect(lines).toHaveLength(12);
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBe(12);
    expect(w1.out()).not.toMatch(new RegExp(`completed ${killedJob}`));
    expect(w2.out()).toMatch(new RegExp(`completed ${killedJob.replace(/[.+]/g, '\\$&')}`));
    const file = json(join(base, 'bullmq', 'sweep.json'));
    expect(file.runs.map((r: { status: string }) => r.status)).toEqual(Array(12).fill('completed'));
    expect(json(join(base, 'bullmq', 'runs', killedJob, 'run_summary.json')).status).toBe('completed');
    // the killed worker's run process stopped by itself (orphan guard): its attempt folder, if it
    // got that far, is not left "running"
    for (const n of readdirSync(join(base, 'bullmq', 'runs')).filter((x) => x.startsWith('.attempt-'))) {
      const p = join(base, 'bullmq', 'runs', n, 'run_summary.json');
      if (existsSync(p)) expect(json(p).status).not.toBe('running');
    }

    const local = cinder(bin, [...sweepArgs, '--engine', 'local', '--workers', '2', '--out', join(base, 'local')]);
    expect(await local.exited, local.out()).toBe(0);
    const a = json(join(base, 'bullmq', 'summary.json'));
    const b = json(join(base, 'local', 'summary.json'));
    expect(a).toEqual(b);
    // the grid parameter changes a metric: more drive, more output spikes
    const rate = a.points.map((p: { metrics: Record<string, { mean: number }> }) => p.metrics.output_rate_hz!.mean);
    expect(rate[0]).toBeLessThan(rate[2]);
    expect(a.runs_completed).toBe(12);
    expect(existsSync(join(base, 'local', 'figures', 'summary.html'))).toBe(true);
  });
});

describe('interrupting and continuing a sweep', () => {
  it('SIGINT, then the same command runs only the missing runs', async () => {
    const base = tmp();
    const counter = join(base, 'counter.txt');
    const args = ['sweep', 'sweep-fake', '--sleep-ms', '800', '--grid', 'value=1,2,3', '--seeds', '1..2', '--workers', '2', '--out', join(base, 's')];
    const first = cinder(fakeBin, args, { FAKE_SWEEP_COUNTER: counter });
    await until('two results', () => resultLines(first.out()).length >= 2);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(130);
    const after1 = json(join(base, 's', 'sweep.json'));
    const done1 = after1.runs.filter((r: { status: string }) => r.status === 'completed').map((r: { seed: number; point: { value: number } }) => `${r.seed} ${r.point.value}`);
    expect(done1.length).toBeGreaterThanOrEqual(2);
    expect(done1.length).toBeLessThan(6);
    const executed1 = readFileSync(counter, 'utf8').trim().split('\n').length;

    const second = cinder(fakeBin, args, { FAKE_SWEEP_COUNTER: counter });
    expect(await second.exited, second.out()).toBe(0);
    const all = readFileSync(counter, 'utf8').trim().split('\n');
    const executed2 = all.slice(executed1);
    expect(executed2).toHaveLength(6 - done1.length);
    for (const d of done1) expect(executed2).not.toContain(d);
    const s = json(join(base, 's', 'summary.json'));
    expect(s.runs_completed).toBe(6);
    // score = 10 value + seed over seeds 1 and 2
    expect(s.points.map((p: { metrics: { score: { mean: number } } }) => p.metrics.score.mean)).toEqual([11.5, 21.5, 31.5]);
    const status = cinder(fakeBin, ['sweep', 'status', join(base, 's')]);
    expect(await status.exited).toBe(0);
    expect(status.out()).toMatch(/done 6, running 0, failed 0, waiting 0/);
  });
});

describe('bad input: exit 2 before anything runs', () => {
  const run = async (args: string[]) => {
    let err = '';
    const out = join(tmp(), 'never');
    const code = await runCli(['sweep', 'lif-demo', '--mode', 'tiny', ...args, '--out', out], {
      examples: [lifDemoExample], out: { write: () => true }, err: { write: (s: string) => (err += s) }, handleSignals: false,
    });
    return { code, err, created: existsSync(out) };
  };
  it('malformed --grid, a grid name that is not a flag, an empty --seeds range', async () => {
    for (const [args, msg] of [
      [['--grid', 'drive'], /invalid --grid: got "drive", expected name=v1,v2/],
      [['--grid', 'speed=1,2'], /invalid --grid: got "speed=1,2", expected a name that is a flag of lif-demo/],
      [['--grid', 'drive=1', '--seeds', '5..2'], /invalid --seeds: got "5..2", expected a non-empty range/],
    ] as const) {
      const r = await run([...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.created).toBe(false);
    }
  });
  it('unreachable Redis: refused at once, silent server within 5 s', async () => {
    const port = await freePort();
    const refused = await run(['--grid', 'drive=1', '--engine', 'bullmq', '--redis', `redis://127.0.0.1:${port}`]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/invalid --redis: .* expected a reachable Redis server/);
    expect(refused.created).toBe(false);
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const t0 = Date.now();
    const r = await run(['--grid', 'drive=1', '--engine', 'bullmq', '--redis', `redis://127.0.0.1:${(silent.address() as { port: number }).port}`]);
    const ms = Date.now() - t0;
    silent.close();
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/expected a reachable Redis server \(no answer within 4 s\)/);
    expect(ms).toBeLessThan(5000);
    expect(r.created).toBe(false);
  });
});
