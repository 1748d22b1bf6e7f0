// A forced exit (Run.finishNow: a second SIGINT, or the grace period over) that comes while a run's
// final summary is being written (RunFolder.finish has decided the status, its write is pending):
// the synchronous last word used to overwrite that status with its own (`interrupted`), so a seed
// that had completed all its work was recorded interrupted — in its folder and in the top summary,
// whose statistics then left it out — and --resume ran it again. The status finish decided stays.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backendInfo } from '../../src/core/backend.js';
import type { ExampleSpec } from '../../src/cli/example.js';
import { Terminal } from '../../src/cli/progress.js';
import { RunFolder } from '../../src/cli/run-folder.js';
import { startRun, type Run } from '../../src/cli/runner.js';
import { registerWriteGuard } from '../../src/io/atomic.js';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-finish-now-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

/** Metrics x = seed, y = 1. */
const trivial: ExampleSpec = {
  name: 'trivial', description: 'trivial', options: [], presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: ['x', 'y'], figures: [],
  run: async (ctx) => ({ x: ctx.seed, y: 1 }),
};

async function folder(name: string): Promise<RunFolder> {
  const outDir = join(tmp, name);
  mkdirSync(outDir);
  return RunFolder.create({
    outDir, example: 'trivial', params: {}, seed: 3, backend: backendInfo()!, quiet: true, signal: new AbortController().signal,
    terminal: new Terminal({ mode: 'quiet' }), paramsFile: { format: 'cinder-run/1' },
  });
}

describe('RunFolder.finishSync during a pending finish', () => {
  it('keeps the status and metrics finish decided (completed), not its own (interrupted)', async () => {
    const f = await folder('pending');
    const finishing = f.finish('completed', { score: 5 });
    const s = f.finishSync('interrupted'); // the write of finish has not landed yet
    expect(s).toMatchObject({ status: 'completed', seed: 3, score: 5 });
    expect(await finishing).toMatchObject({ status: 'completed', score: 5 });
    expect(json(join(f.outDir, 'run_summary.json'))).toMatchObject({ status: 'completed', seed: 3, score: 5 });
    expect(json(join(f.outDir, 'run_summary.json')).error).toBeUndefined();
  });

  it('after a finish whose write failed, finishSync writes its own status and error', async () => {
    const f = await folder('failed-write');
    let refuse = true;
    const unguard = registerWriteGuard(f.outDir, () => {
      if (refuse) throw new Error('disk full (test)');
    });
    try {
      await expect(f.finish('completed', { score: 5 })).rejects.toThrow('disk full (test)');
      refuse = false;
      const s = f.finishSync('failed', new Error('disk full (test)'));
      expect(s).toMatchObject({ status: 'failed', score: 5, error: 'disk full (test)' });
      expect(json(join(f.outDir, 'run_summary.json'))).toMatchObject({ status: 'failed', score: 5, error: 'disk full (test)' });
    } finally {
      unguard();
    }
  });
});

describe('Run.finishNow while a seed of a multi-seed run writes its completed summary', () => {
  it('the seed stays completed in its folder and in the top summary; --resume keeps it', async () => {
    const outDir = join(tmp, 'seeds');
    const controller = new AbortController();
    const terminal = new Terminal({ mode: 'quiet' });
    let run: Run | null = null;
    const log = terminal.log.bind(terminal);
    terminal.log = (line: string) => {
      log(line);
      // seed 0 has completed and its folder is about to write its final summary: a second signal
      // (forced exit) lands right after that write was queued
      if (line.startsWith('completed; tensors alive')) {
        queueMicrotask(() => {
          controller.abort('SIGINT');
          run!.finishNow('interrupted');
        });
      }
    };
    run = startRun({
      spec: trivial, params: {}, mode: 'tiny', seed: 0, seeds: 2, outDir, backend: backendInfo()!, backendRequest: 'auto', quiet: true,
      signal: controller.signal, terminal,
    });
    await run.done;
    // what the forced exit left on disk (the process would have exited right after finishNow)
    expect(json(join(outDir, 'seed-0', 'run_summary.json'))).toMatchObject({ status: 'completed', x: 0, y: 1 });
    const top = json(join(outDir, 'run_summary.json'));
    expect(top).toMatchObject({ status: 'interrupted', completed_seeds: 1, runs: [{ seed: 0, status: 'completed', x: 0, y: 1 }] });
    expect(top.across_seeds).toEqual({ x: { mean: 0, std: 0, min: 0, max: 0, n: 1 }, y: { mean: 1, std: 0, min: 1, max: 1, n: 1 } });
    // --resume keeps seed 0 and runs seed 1: x = 0, 1 (mean 0.5, sample std sqrt(0.5))
    const lines: string[] = [];
    const t2 = new Terminal({ mode: 'quiet' });
    t2.log = (line: string) => void lines.push(line);
    const resumed = await startRun({
      spec: trivial, params: {}, mode: 'tiny', seed: 0, seeds: 2, outDir, backend: backendInfo()!, backendRequest: 'auto', quiet: true,
      signal: new AbortController().signal, terminal: t2, resume: true,
    }).done;
    expect(resumed.status).toBe('completed');
    expect(lines).toContain('seed 0: completed before, kept');
    expect(resumed.summary).toMatchObject({ completed_seeds: 2 });
    expect((resumed.summary.across_seeds as Record<string, unknown>).x).toEqual({ mean: 0.5, std: Math.sqrt(0.5), min: 0, max: 1, n: 2 });
  });
});

describe('Run.finishNow when the running seed’s summary cannot be written', () => {
  for (const both of [false, true]) it(both ? 'with the top summary failing too: both locks go, an AggregateError names both' : 'still writes the top summary and releases the seed folder’s lock and the run folder’s, then throws the error', async () => {
    const outDir = join(tmp, both ? 'both-writes-fail' : 'seed-write-fails');
    const controller = new AbortController();
    let reached!: () => void;
    const atCheckpoint = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // one checkpoint (x = 7·(seed + 1)), then it waits for the test
    const waiting: ExampleSpec = {
      ...trivial,
      run: async (ctx) => {
        await ctx.checkpoint({ x: 7 * (ctx.seed + 1) });
        reached();
        await held;
        return { x: 7 * (ctx.seed + 1), y: 1 };
      },
    };
    const run = startRun({
      spec: waiting, params: {}, mode: 'tiny', seed: 0, seeds: 2, outDir, backend: backendInfo()!, backendRequest: 'auto', quiet: true,
      signal: controller.signal, terminal: new Terminal({ mode: 'quiet' }),
    });
    await atCheckpoint;
    expect(existsSync(join(outDir, '.lock'))).toBe(true);
    expect(existsSync(join(outDir, 'seed-0', '.lock'))).toBe(true);
    const seedSummary = join(outDir, 'seed-0', 'run_summary.json');
    const topSummary = join(outDir, 'run_summary.json');
    const topBefore = readFileSync(topSummary, 'utf8');
    const unguard = registerWriteGuard(outDir, (path) => {
      if (path === seedSummary) throw new Error('disk full (test)');
      if (both && path === topSummary) throw new Error('top refused (test)');
    });
    try {
      controller.abort('SIGINT');
      let thrown: unknown;
      try {
        run.finishNow('interrupted');
      } catch (e) {
        thrown = e;
      }
      if (both) {
        expect(thrown).toBeInstanceOf(AggregateError);
        expect((thrown as AggregateError).errors.map((e: Error) => e.message)).toEqual(['disk full (test)', 'top refused (test)']);
        expect((thrown as Error).message).toBe('disk full (test); top refused (test)');
      } else expect((thrown as Error).message).toBe('disk full (test)');
    } finally {
      unguard();
    }
    if (both) {
      expect(readFileSync(topSummary, 'utf8')).toBe(topBefore);
      expect(existsSync(join(outDir, 'seed-0', '.lock'))).toBe(false);
      expect(existsSync(join(outDir, '.lock'))).toBe(false);
      release();
      await run.done;
      return;
    }
    // the seed folder keeps its last checkpoint; the top summary has the last word
    expect(json(seedSummary)).toMatchObject({ status: 'running', checkpoints: 1, x: 7 });
    expect(json(join(outDir, 'run_summary.json'))).toMatchObject({
      status: 'interrupted', completed_seeds: 0, runs: [{ seed: 0, dir: 'seed-0', status: 'interrupted', x: 7, checkpoints: 1 }],
    });
    expect(existsSync(join(outDir, 'seed-0', '.lock'))).toBe(false);
    expect(existsSync(join(outDir, '.lock'))).toBe(false);
    release();
    await run.done;
  });
});
