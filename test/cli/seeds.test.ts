// Multi-seed runs (`--seeds K`) at scale and when things go wrong outside the example's own run:
// the top run_summary.json is rewritten at a bounded pace (not after every seed: quadratic in K),
// errors of the seed folders (created, locked, written) end the run as failed in house form with a
// truthful top summary, and `cinder status` tells (and, after a crash, rebuilds from the seed
// folders) a multi-seed folder in any state.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/program.js';
import { fakeExample } from './fixtures/fake-example.js';
import { Sink } from './fixtures/sink.js';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { backendInfo } from '../../src/core/backend.js';
import type { ExampleSpec } from '../../src/cli/example.js';
import { Terminal } from '../../src/cli/progress.js';
import { startRun } from '../../src/cli/runner.js';
import { acquireLock, releaseLock } from '../../src/cli/run-lock.js';

// every JSON write of the run folders, counted by path (bytes as written)
const writes = vi.hoisted(() => new Map<string, { count: number; bytes: number }>());
vi.mock('../../src/io/atomic.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/io/atomic.js')>();
  const note = (path: string, value: unknown): void => {
    const w = writes.get(path) ?? { count: 0, bytes: 0 };
    w.count++;
    w.bytes += Buffer.byteLength(m.toJson(value));
    writes.set(path, w);
  };
  return {
    ...m,
    writeJsonAtomic: async (path: string, value: unknown, o?: Parameters<typeof m.writeJsonAtomic>[2]) => (note(path, value), m.writeJsonAtomic(path, value, o)),
    writeJsonAtomicSync: (path: string, value: unknown) => (note(path, value), m.writeJsonAtomicSync(path, value)),
  };
});

const tmp = mkdtempSync(join(tmpdir(), 'cinder-seeds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeEach(() => writes.clear());
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

/** An example that writes nothing itself: metrics x = seed, y = 1 (closed forms over any seed range). */
const trivial: ExampleSpec = {
  name: 'trivial', description: 'trivial', options: [], presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: ['x', 'y'], figures: [],
  run: async (ctx) => ({ x: ctx.seed, y: 1 }),
};

function run(spec: ExampleSpec, outDir: string, seeds: number, extra: Record<string, unknown> = {}) {
  return startRun({
    spec, params: {}, mode: 'tiny', seed: 0, seeds, outDir, backend: backendInfo()!, backendRequest: 'auto', quiet: true,
    signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }), ...extra,
  }).done;
}

describe('the top run_summary.json of K seeds', () => {
  it('K = 2000 trivial seeds: the top summary is written a bounded number of times, not after every seed; its final content is exact', async () => {
    const K = 2000;
    const out = join(tmp, 'many');
    const outcome = await run(trivial, out, K, { clock: () => 0 }); // a clock that never advances: no rewrite is due before the end
    expect(outcome.status).toBe('completed');
    const top = join(out, 'run_summary.json');
    const final = readFileSync(top, 'utf8');
    const w = writes.get(top)!;
    // the start (status running) and the end: the old code rewrote it after each of the 2000 seeds
    // (2001 writes, ~K/2 times the final size in bytes)
    expect(w.count).toBe(2);
    expect(w.bytes).toBeLessThan(1.1 * Buffer.byteLength(final)); // the first lists the seeds, no runs yet
    const s = JSON.parse(final) as Record<string, unknown>;
    expect(s).toMatchObject({ status: 'completed', completed_seeds: K });
    expect((s.runs as unknown[]).length).toBe(K);
    // x = 0 … K − 1: mean (K − 1)/2, sample std sqrt(K (K + 1) / 12)
    const x = (s.across_seeds as Record<string, { mean: number; std: number; min: number; max: number; n: number }>).x!;
    expect(x).toMatchObject({ mean: (K - 1) / 2, min: 0, max: K - 1, n: K });
    expect(Math.abs(x.std / Math.sqrt((K * (K + 1)) / 12) - 1)).toBeLessThan(1e-13);
  }, 300_000);
});

describe('the top run_summary.json of K seeds, paced', () => {
  it('slow seeds (the clock passes 61 s per seed): each seed sees the top summary list all the seeds before it', async () => {
    let t = 0;
    const seen: unknown[] = [];
    const probe: ExampleSpec = {
      ...trivial,
      run: async (ctx) => {
        seen.push(json(join(dirname(ctx.outDir), 'run_summary.json')).completed_seeds);
        return { x: ctx.seed, y: 1 };
      },
    };
    const out = join(tmp, 'slow');
    expect((await run(probe, out, 4, { clock: () => (t += 61_000) })).status).toBe('completed');
    expect(seen).toEqual([0, 1, 2, 3]);
  });
});

async function cli(args: string[], examples: ExampleSpec[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Sink();
  const err = new Sink();
  const code = await runCli(args, { examples, out, err, isTTY: false, env: {}, handleSignals: false });
  return { code, out: out.text, err: err.text };
}

/** A house-form failure on stderr: one line `cinder <name> failed: …`, no stack trace. */
function expectHouseFailure(err: string, name: string, message: RegExp): void {
  expect(err).toMatch(new RegExp(`^cinder ${name} failed: `, 'm'));
  expect(err).toMatch(message);
  expect(err).not.toMatch(/^\s+at /m);
}

describe('errors outside the example\'s run end the run as failed, in house form, with a truthful top summary', () => {
  it("a seed folder locked by another live process: exit 1, the top summary says failed with the message, the seed folder is left alone", async () => {
    const other = { pid: process.ppid, host: hostname(), started_at: '2025-01-01T00:00:00.000Z' };
    const locker: ExampleSpec = {
      ...trivial,
      name: 'locker',
      run: async (ctx) => {
        // another process (our parent, alive) holds the next seed's folder
        mkdirSync(join(dirname(ctx.outDir), 'seed-1'));
        writeFileSync(join(dirname(ctx.outDir), 'seed-1', '.lock'), `${JSON.stringify(other)}\n`);
        return { x: ctx.seed, y: 1 };
      },
    };
    const out = join(tmp, 'locked');
    const r = await cli(['locker', '--quiet', '--seeds', '3', '--out', out], [locker]);
    expect(r.code).toBe(1);
    expectHouseFailure(r.err, 'locker', /seed-1 is in use by process \d+ on /);
    const s = json(join(out, 'run_summary.json'));
    expect(s).toMatchObject({ status: 'failed', completed_seeds: 1, across_seeds: { x: { mean: 0, n: 1 } } });
    expect(s.error).toMatch(/^seed 1: .*seed-1 is in use by process \d+ on /);
    expect((s.runs as { seed: number; status: string }[]).map((x) => [x.seed, x.status])).toEqual([[0, 'completed'], [1, 'failed']]);
    expect(existsSync(join(out, '.lock'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'seed-1', '.lock'), 'utf8'))).toEqual(other); // not ours: untouched
    expect(existsSync(join(out, 'seed-1', 'run_summary.json'))).toBe(false);
    expect(readFileSync(join(out, 'log.txt'), 'utf8')).toMatch(/seed 1: failed: .*in use by process/);
    expect((await cli(['status', out], [locker])).out).toBe('failed\n');
  });

  it("a seed folder whose files cannot be written (RunFolder.create fails): exit 1, seed and top summaries say failed", async () => {
    const breaker: ExampleSpec = {
      ...trivial,
      name: 'breaker',
      run: async (ctx) => {
        // the next seed's run_summary.json cannot be written: a folder (not empty) holds its name
        mkdirSync(join(dirname(ctx.outDir), 'seed-1', 'run_summary.json', 'x'), { recursive: true });
        return { x: ctx.seed, y: 1 };
      },
    };
    const out = join(tmp, 'broken');
    const r = await cli(['breaker', '--quiet', '--seeds', '2', '--out', out], [breaker]);
    expect(r.code).toBe(1);
    expectHouseFailure(r.err, 'breaker', /run_summary\.json/);
    const s = json(join(out, 'run_summary.json'));
    expect(s).toMatchObject({ status: 'failed', completed_seeds: 1 });
    expect(s.error).toMatch(/^seed 1: .*run_summary\.json/);
    expect((s.runs as { status: string }[]).map((x) => x.status)).toEqual(['completed', 'failed']);
    expect(existsSync(join(out, '.lock'))).toBe(false);
    expect(existsSync(join(out, 'seed-1', '.lock'))).toBe(false);
    expect(readFileSync(join(out, 'seed-1', 'log.txt'), 'utf8')).toMatch(/error: .*run_summary\.json/);
  });

  it('one seed: RunFolder.create failing ends the run failed (the promise does not reject)', async () => {
    const out = join(tmp, 'single');
    mkdirSync(join(out, 'run_summary.json', 'x'), { recursive: true });
    const o = await run(trivial, out, 1);
    expect(o.status).toBe('failed');
    expect(String((o.error as Error).message)).toMatch(/run_summary\.json/);
    expect(readFileSync(join(out, 'log.txt'), 'utf8')).toMatch(/error: .*run_summary\.json/);
  });

  it('K seeds: the top folder itself failing (its params.json cannot be written) ends the run failed with the message', async () => {
    const out = join(tmp, 'top-broken');
    mkdirSync(join(out, 'params.json', 'x'), { recursive: true });
    const o = await run(trivial, out, 3);
    expect(o.status).toBe('failed');
    const s = json(join(out, 'run_summary.json'));
    expect(s).toMatchObject({ status: 'failed', completed_seeds: 0, runs: [] });
    expect(s.error).toMatch(/params\.json/);
  });
});

describe('cinder status of a multi-seed folder in every state', () => {
  const status = async (dir: string, examples: ExampleSpec[] = [trivial]) => (await cli(['status', dir], examples)).out;

  it('completed, interrupted and (while it runs) running', async () => {
    const done = join(tmp, 'st-done');
    expect((await cli(['trivial', '--quiet', '--seeds', '2', '--out', done], [trivial])).code).toBe(0);
    expect(await status(done)).toBe('completed\n');

    const controller = new AbortController();
    const live: string[] = [];
    const stopper: ExampleSpec = {
      ...trivial,
      run: async (ctx) => {
        live.push(await status(dirname(ctx.outDir)));
        if (ctx.seed === 1) controller.abort('SIGINT'); // arrives while seed 1 ends: seed 2 never starts
        return { x: ctx.seed, y: 1 };
      },
    };
    const stopped = join(tmp, 'st-stopped');
    mkdirSync(stopped);
    acquireLock(stopped); // as the CLI does
    const o = await run(stopper, stopped, 4, { signal: controller.signal });
    releaseLock(stopped);
    expect(o.status).toBe('interrupted');
    expect(live).toEqual([`running (running as process ${process.pid} on ${hostname()})\n`, `running (running as process ${process.pid} on ${hostname()})\n`]);
    expect(await status(stopped)).toBe('interrupted\n');
    expect(json(join(stopped, 'run_summary.json'))).toMatchObject({ status: 'interrupted', completed_seeds: 2 });
  });

  it('killed (SIGKILL) while a seed ran: crashed, and the top summary is rebuilt from the seed folders; --resume completes it', async () => {
    // the state a kill -9 during seed 2 leaves with a paced top summary: the top one as written at
    // the start (no seeds yet), seed 2 running, both locks naming the dead process
    let first: Record<string, unknown> | null = null;
    const keeper: ExampleSpec = {
      ...trivial,
      run: async (ctx) => {
        first ??= json(join(dirname(ctx.outDir), 'run_summary.json'));
        return { x: ctx.seed, y: 1 };
      },
    };
    const dir = join(tmp, 'st-killed');
    expect((await run(keeper, dir, 4, { clock: () => 0 })).status).toBe('completed');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const lock = `${JSON.stringify({ pid: dead, host: hostname(), started_at: '2025-01-01T00:00:00.000Z' })}\n`;
    expect(first).toMatchObject({ status: 'running', runs: [] });
    writeFileSync(join(dir, 'run_summary.json'), JSON.stringify(first));
    writeFileSync(join(dir, '.lock'), lock);
    const s2 = json(join(dir, 'seed-2', 'run_summary.json'));
    writeFileSync(join(dir, 'seed-2', 'run_summary.json'), JSON.stringify({ ...s2, status: 'running', x: undefined, y: undefined, finished_at: undefined }));
    writeFileSync(join(dir, 'seed-2', '.lock'), lock);
    rmSync(join(dir, 'seed-3'), { recursive: true });

    expect(await status(dir)).toBe(`crashed (was process ${dead} on ${hostname()})\n`);
    const s = json(join(dir, 'run_summary.json'));
    expect(s).toMatchObject({ status: 'crashed', crashed_pid: dead, completed_seeds: 2, seeds: [0, 1, 2, 3] });
    expect((s.runs as { seed: number; status: string }[]).map((x) => [x.seed, x.status])).toEqual([[0, 'completed'], [1, 'completed'], [2, 'crashed']]);
    // x = 0, 1: mean 1/2, sample std sqrt(1/2)
    expect(s.across_seeds).toEqual({ x: { mean: 0.5, std: Math.sqrt(0.5), min: 0, max: 1, n: 2 }, y: { mean: 1, std: 0, min: 1, max: 1, n: 2 } });
    expect(json(join(dir, 'seed-2', 'run_summary.json')).status).toBe('crashed');
    expect(await status(dir)).toBe(`crashed (was process ${dead} on ${hostname()})\n`); // again: the same
    expect(json(join(dir, 'run_summary.json')).runs).toEqual(s.runs);

    expect((await cli(['trivial', '--resume', dir, '--quiet'], [trivial])).code).toBe(0);
    expect(await status(dir)).toBe('completed\n');
    const r = json(join(dir, 'run_summary.json'));
    expect(r).toMatchObject({ status: 'completed', completed_seeds: 4 });
    // x = 0 … 3: mean 3/2, sample std sqrt(5/3)
    expect((r.across_seeds as Record<string, unknown>).x).toEqual({ mean: 1.5, std: Math.sqrt(5 / 3), min: 0, max: 3, n: 4 });
  });
});

describe('a real kill -9 of a multi-seed run', () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  it('cinder status rebuilds the top summary (seed 1 completed, seed 2 crashed); --resume ends with the closed forms', async () => {
    const dir = join(tmp, 'kill9');
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test', 'cli', 'fixtures', 'fake-cli.ts'), 'fake', '--quiet', '--steps', '3', '--gain', '1', '--delay-ms', '150', '--seed', '1', '--seeds', '3', '--out', dir], { cwd: root, stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    const t0 = Date.now();
    const seed2 = (): Record<string, unknown> => {
      try {
        return json(join(dir, 'seed-2', 'run_summary.json'));
      } catch {
        return {};
      }
    };
    while (!(Number(seed2().checkpoints ?? 0) >= 1)) {
      if (Date.now() - t0 > 60_000) throw new Error('seed 2 never started');
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await exited;
    expect(await status(dir)).toMatch(/^crashed \(was process \d+ on /);
    const s = json(join(dir, 'run_summary.json'));
    expect((s.runs as { seed: number; status: string }[]).map((x) => [x.seed, x.status])).toEqual([[1, 'completed'], [2, 'crashed']]);
    // total = steps (steps + 1)/2 + 1000 seed = 6 + 1000 for seed 1 alone
    expect((s.across_seeds as Record<string, unknown>).total).toEqual({ mean: 1006, std: 0, min: 1006, max: 1006, n: 1 });
    expect((await cli(['fake', '--resume', dir, '--quiet'], [fakeExample])).code).toBe(0);
    const r = json(join(dir, 'run_summary.json'));
    expect(r).toMatchObject({ status: 'completed', completed_seeds: 3 });
    expect((r.across_seeds as Record<string, unknown>).total).toEqual({ mean: 2006, std: 1000, min: 1006, max: 3006, n: 3 });
  }, 90_000);

  async function status(dir: string): Promise<string> {
    return (await cli(['status', dir], [fakeExample])).out;
  }
});
