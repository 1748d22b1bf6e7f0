// The coordinator without processes: an in-memory engine delivers results, so recording (once per
// job), packing splits, continuing a sweep and the terminal output are checked exactly and fast.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExampleSpec } from '../../src/cli/example.js';
import { Terminal } from '../../src/cli/progress.js';
import type { JobResult } from '../../src/sweep/child.js';
import type { EngineHooks, EngineJob, SweepEngine } from '../../src/sweep/engines.js';
import type { SweepPlan } from '../../src/sweep/plan.js';
import { runSweep, scalarSummary } from '../../src/sweep/sweep.js';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { summaryFigure } from '../../src/sweep/store.js';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { fork, spawnSync, type ChildProcess } from 'node:child_process';

const spec: ExampleSpec = {
  name: 'toy',
  description: 'toy',
  options: [
    { name: 'value', type: 'float', description: 'v', default: 1 },
    { name: 'batch', type: 'int', description: 'seeds per run', default: 1, min: 1 },
  ],
  presets: { tiny: {} },
  defaultMode: 'tiny',
  summaryKeys: ['score'],
  volatileKeys: ['seconds'],
  figures: [],
  seedBatch: { option: 'batch', splitSummary: (s, seeds) => seeds.map((_, i) => ({ score: (s.scores as number[])[i] })) },
  async run() {
    return {};
  },
};

/** Reads value and seed(s) from the job's arguments and answers score = 10 value + seed. */
class ToyEngine implements SweepEngine {
  seen: string[] = [];
  constructor(private readonly fail: (name: string) => boolean = () => false, private readonly twice = false) {}
  async run(jobs: readonly EngineJob[], hooks: EngineHooks): Promise<void> {
    for (const j of jobs) {
      this.seen.push(j.name);
      hooks.onStart(j.name, 'toy');
      const arg = (flag: string) => j.args.find((a) => a.startsWith(`${flag}=`))?.split('=')[1];
      const value = Number(arg('--value'));
      const seed = Number(j.args[j.args.indexOf('--seed') + 1]);
      const batch = Number(arg('--batch') ?? 1);
      const scores = Array.from({ length: batch }, (_, i) => 10 * value + seed + i);
      const result: JobResult = this.fail(j.name)
        ? { status: 'failed', exitCode: 1, summary: {}, error: 'boom', ms: 5 }
        : { status: 'completed', exitCode: 0, summary: arg('--batch') !== undefined ? { scores, score: scores[0] } : { score: scores[0], seconds: Math.random(), status: 'completed' }, ms: 5 }; // with the batch option (any K) the batch format
      await hooks.onResult(j.name, result, 'toy');
      if (this.twice) await hooks.onResult(j.name, { ...result, summary: { score: -1 } }, 'toy');
    }
  }
  stop(): void {}
}

const plan = (extra: Partial<SweepPlan> = {}): SweepPlan => ({ example: 'toy', mode: 'tiny', flags: {}, grid: [{ name: 'value', values: [1, 2] }], seeds: [1, 2], pack: 1, ...extra });
const quiet = () => new Terminal({ mode: 'quiet' });
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const made: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'cinder-coord-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe('runSweep', () => {
  it('records each job once, even if its result is delivered twice', async () => {
    const dir = tmp();
    const engine = new ToyEngine(() => false, true);
    const o = await runSweep({ spec, plan: plan(), outDir: dir, engine: () => engine, terminal: quiet() });
    expect(o.counts.completed).toBe(4);
    const f = json(join(dir, 'sweep.json'));
    expect(f.runs.map((r: { summary: { score: number } }) => r.summary.score)).toEqual([11, 12, 21, 22]);
    expect(f.runs.every((r: { attempts: number; summary: Record<string, unknown> }) => r.attempts === 1 && !('status' in r.summary))).toBe(true);
    const s = json(join(dir, 'summary.json'));
    expect(s.points[1].metrics).toEqual({ score: { mean: 21.5, std: Math.SQRT1_2, min: 21, max: 22, n: 2 } });
  });

  it('a failed run is redone by the next invocation, and only it', async () => {
    const dir = tmp();
    const first = new ToyEngine((n) => n === 'value=2_seed=1');
    const o1 = await runSweep({ spec, plan: plan(), outDir: dir, engine: () => first, terminal: quiet() });
    expect(o1.counts).toMatchObject({ completed: 3, failed: 1 });
    expect(json(join(dir, 'sweep.json')).runs[2]).toMatchObject({ status: 'failed', error: 'boom', exit_code: 1 });
    const second = new ToyEngine();
    const o2 = await runSweep({ spec, plan: plan(), outDir: dir, engine: () => second, terminal: quiet() });
    expect(second.seen).toEqual(['value=2_seed=1']);
    expect(o2.counts.completed).toBe(4);
    const r = json(join(dir, 'sweep.json')).runs[2];
    expect(r.status).toBe('completed');
    expect(r.attempts).toBe(2);
    expect(r.error).toBeUndefined();
  });

  it('a different plan on the same folder is refused before anything runs', async () => {
    const dir = tmp();
    await runSweep({ spec, plan: plan(), outDir: dir, engine: () => new ToyEngine(), terminal: quiet() });
    const engine = new ToyEngine();
    await expect(runSweep({ spec, plan: plan({ seeds: [1, 2, 3] }), outDir: dir, engine: () => engine, terminal: quiet() })).rejects.toThrow(/invalid --out: .* holds a different sweep of toy/);
    expect(engine.seen).toEqual([]);
  });

  it('packed jobs are split per seed; a split of the wrong length fails the job', async () => {
    const dir = tmp();
    const engine = new ToyEngine();
    await runSweep({ spec, plan: plan({ seeds: [1, 2, 3], pack: 2 }), outDir: dir, engine: () => engine, terminal: quiet() });
    expect(engine.seen).toEqual(['value=1_seeds=1-2', 'value=1_seed=3', 'value=2_seeds=1-2', 'value=2_seed=3']);
    const f = json(join(dir, 'sweep.json'));
    expect(f.runs.map((r: { seed: number; summary: { score: number }; dir: string }) => [r.seed, r.summary.score, r.dir])).toEqual([
      [1, 11, 'runs/value=1_seeds=1-2'], [2, 12, 'runs/value=1_seeds=1-2'], [3, 13, 'runs/value=1_seed=3'],
      [1, 21, 'runs/value=2_seeds=1-2'], [2, 22, 'runs/value=2_seeds=1-2'], [3, 23, 'runs/value=2_seed=3'],
    ]);
    const bad = { ...spec, seedBatch: { option: 'batch', splitSummary: () => [{ score: 0 }] } };
    const dir2 = tmp();
    const o = await runSweep({ spec: bad, plan: plan({ seeds: [1, 2], pack: 2 }), outDir: dir2, engine: () => new ToyEngine(), terminal: quiet() });
    expect(o.counts.failed).toBe(4);
    expect(json(join(dir2, 'sweep.json')).runs[0].error).toBe('toy seedBatch.splitSummary returned 1 summaries for 2 seeds');
  });

  it('terminal: one line per finished run above a bar with the ETA', async () => {
    const dir = tmp();
    let out = '';
    let err = '';
    let t = 0;
    const terminal = new Terminal({ mode: 'tty', out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) }, now: () => (t += 100) });
    await runSweep({ spec, plan: plan(), outDir: dir, engine: () => new ToyEngine(), terminal });
    const lines = out.split('\n').filter((l) => l.startsWith('['));
    expect(lines).toEqual(['[1/4] value=1_seed=1: completed (0.0 s, toy)', '[2/4] value=1_seed=2: completed (0.0 s, toy)', '[3/4] value=2_seed=1: completed (0.0 s, toy)', '[4/4] value=2_seed=2: completed (0.0 s, toy)']);
    expect(err).toMatch(/sweep █+░* 1\/4 .*ETA/);
    expect(err).toMatch(/sweep █{30} 4\/4/);
  });

  it('figure: each metric against each grid parameter, one mean ± std line per value of the others', async () => {
    const dir = tmp();
    const p = plan({ grid: [{ name: 'value', values: [1, 2, 3] }, { name: 'batch', values: [1, 2] }], seeds: [1, 2] });
    // (without seedBatch, `batch` is just a second axis; the toy answers score = 10 value + seed)
    const o = await runSweep({ spec: { ...spec, seedBatch: undefined }, plan: p, outDir: dir, engine: () => new ToyEngine(), terminal: quiet() });
    expect(existsSync(join(dir, 'figures', 'summary.html'))).toBe(true);
    const fig = summaryFigure(json(join(dir, 'sweep.json')), o.summary);
    expect(fig.panels).toBe(2); // score vs value, score vs batch
    const means = fig.data.filter((t) => t.mode === 'lines+markers');
    // vs value: one line per batch value (2); vs batch: one line per value (3)
    expect(means.map((t) => t.name)).toEqual(['batch=1', 'batch=2', 'value=1', 'value=2', 'value=3']);
    expect(means[0]!.x).toEqual([1, 2, 3]);
    expect(means[0]!.y).toEqual([11.5, 21.5, 31.5]);
    expect(means[1]!.y).toEqual([11.5, 21.5, 31.5]);
    expect(means[2]!.x).toEqual([1, 2]);
    expect((means[0]!.error_y as { array: number[] }).array).toEqual([Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2]);
    const dots = fig.data.filter((t) => t.mode === 'markers');
    expect((dots[0]!.y as number[]).sort()).toEqual([11, 12, 21, 22, 31, 32]);
  });

  it('nested summary objects become dotted keys; arrays and bookkeeping are left out', () => {
    expect(scalarSummary({ status: 'completed', a: 1, q: { sigma: 0.5, deep: { x: 2, deeper: { y: 3 } }, list: [1] }, runs: [{ a: 1 }], ok: true })).toEqual({
      a: 1, 'q.sigma': 0.5, 'q.deep.x': 2, ok: true,
    });
  });

  it('one coordinator per folder: a live lock holder is refused, a dead one is taken over', async () => {
    const dir = tmp();
    writeFileSync(join(dir, '.sweep.lock'), `${hostname()} ${process.ppid}`);
    const engine = new ToyEngine();
    await expect(runSweep({ spec, plan: plan(), outDir: dir, engine: () => engine, terminal: quiet() })).rejects.toThrow(/no other cinder sweep is running on .* pid \d+ holds/);
    expect(engine.seen).toEqual([]);
    writeFileSync(join(dir, '.sweep.lock'), `${hostname()} 2147483646`);
    const o = await runSweep({ spec, plan: plan(), outDir: dir, engine: () => engine, terminal: quiet() });
    expect(o.counts.completed).toBe(4);
    expect(existsSync(join(dir, '.sweep.lock'))).toBe(false);
  });

  it('four cinder sweeps started at once on a folder with a dead lock: exactly one coordinates, 30 times', async () => {
    const script = join(import.meta.dirname, 'fixtures', 'sweep-lock-race.ts');
    const kids: ChildProcess[] = [0, 1, 2, 3].map(() => fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
    try {
      await Promise.all(kids.map((k) => new Promise((r) => k.once('message', r))));
      const dead = `${hostname()} ${spawnSync(process.execPath, ['-e', '']).pid} 2026-01-01T00:00:00.000Z`;
      const outcomes: Record<string, number> = {};
      for (let i = 0; i < 30; i++) {
        const dir = tmp();
        writeFileSync(join(dir, '.sweep.lock'), dead);
        const at = Date.now() + 25;
        const res = await Promise.all(kids.map((k) => new Promise<string>((r) => { k.once('message', (m) => r(String(m))); k.send({ dir, at }); })));
        const key = [...res].sort().join('+');
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        const winner = kids[res.indexOf('got')];
        if (winner) expect(readFileSync(join(dir, '.sweep.lock'), 'utf8')).toMatch(new RegExp(`^${hostname()} ${winner.pid}( |$)`));
        expect(readdirSync(dir)).toEqual(['.sweep.lock']); // no takeover or private file left
      }
      expect(outcomes).toEqual({ 'got+refused+refused+refused': 30 });
    } finally {
      kids.forEach((k) => k.kill());
    }
  }, 60_000);
});

// When the engine fails (Redis gone for good, sweep.json not writable), summary.json used to keep
// the previous invocation's content, and a sweep.json write that failed after onStart was an
// unhandled rejection (it ends a Node process). Now what is recorded goes to sweep.json and
// summary.json, and the engine's error is reported.
describe('runSweep when the engine fails', () => {
  /** Runs the first job with the given result, then fails like a BullMQ coordinator losing Redis. */
  class FailingEngine implements SweepEngine {
    constructor(private readonly before: (hooks: EngineHooks, job: EngineJob) => Promise<void>) {}
    async run(jobs: readonly EngineJob[], hooks: EngineHooks): Promise<void> {
      await this.before(hooks, jobs[0]!);
      throw new Error('Redis at 127.0.0.1:6399 unreachable for 60 s');
    }
    stop(): void {}
  }

  it('summary.json is rewritten from the recorded runs', async () => {
    const dir = tmp();
    await runSweep({ spec, plan: plan(), outDir: dir, engine: () => new ToyEngine((n) => n === 'value=2_seed=1'), terminal: quiet() });
    expect(json(join(dir, 'summary.json')).points[1].metrics.score).toEqual({ mean: 22, std: 0, min: 22, max: 22, n: 1 });
    // the next invocation completes the failed run (score 10·2 + 1), then the engine fails
    const engine = new FailingEngine(async (hooks, job) => {
      hooks.onStart(job.name, 'bullmq');
      await hooks.onResult(job.name, { status: 'completed', exitCode: 0, summary: { score: 21, status: 'completed' }, ms: 5 }, 'host:1');
    });
    await expect(runSweep({ spec, plan: plan(), outDir: dir, engine: () => engine, terminal: quiet() })).rejects.toThrow(/^Redis at 127\.0\.0\.1:6399 unreachable/);
    expect(json(join(dir, 'sweep.json')).runs[2]).toMatchObject({ status: 'completed', summary: { score: 21 }, attempts: 2 });
    expect(json(join(dir, 'summary.json')).points[1].metrics.score).toEqual({ mean: 21.5, std: Math.SQRT1_2, min: 21, max: 22, n: 2 });
  });

  it('a sweep.json that cannot be written: the write error is reported, not left unhandled; summary.json still written', async () => {
    const dir = tmp();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    let err = '';
    const terminal = new Terminal({ mode: 'quiet', err: { write: (s: string) => (err += s) } });
    try {
      const engine = new FailingEngine(async (hooks, job) => {
        // sweep.json becomes a folder (with a file in it): every write of it fails
        rmSync(join(dir, 'sweep.json'));
        mkdirSync(join(dir, 'sweep.json', 'x'), { recursive: true });
        hooks.onStart(job.name, 'local');
        await new Promise((r) => setTimeout(r, 300)); // the write after onStart has failed by now
        await hooks.onResult(job.name, { status: 'completed', exitCode: 0, summary: { score: 11 }, ms: 5 }, 'local');
      });
      await expect(runSweep({ spec, plan: plan(), outDir: dir, engine: () => engine, terminal })).rejects.toThrow(/sweep\.json/);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(err).toMatch(/cinder sweep: could not write .*sweep\.json: /);
    expect(json(join(dir, 'summary.json')).points[0].metrics.score).toEqual({ mean: 11, std: 0, min: 11, max: 11, n: 1 });
  });
});
