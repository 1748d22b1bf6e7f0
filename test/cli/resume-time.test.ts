// A resumed run's time bookkeeping: `started_at` restarted at the resume (the first attempt's start
// was lost), and `elapsed_s` counted only the last attempt (a 10-hour run resumed for its last
// 5 minutes said elapsed_s 300). Now `started_at` stays the first attempt's start, `elapsed_s` is
// the compute time summed over all attempts (the time the run sat stopped or crashed in between is
// not counted; a crashed attempt counts up to its last summary write), and `resumed_at` lists the
// start of each resumption. The same for the top summary of a multi-seed run, whose crashed
// attempt ends at the latest summary write of its seed folders.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backendInfo } from '../../src/core/backend.js';
import type { ExampleSpec } from '../../src/cli/example.js';
import { Terminal } from '../../src/cli/progress.js';
import { RunFolder } from '../../src/cli/run-folder.js';
import { inspectRunFolder } from '../../src/cli/run-lock.js';
import { startRun } from '../../src/cli/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-resume-time-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (s: number): Date => new Date(T0 + s * 1000);
const iso = (s: number): string => at(s).toISOString();

/** A RunFolder of `dir` whose clock reads the seconds after T0 that `clock.s` holds. */
function open(dir: string, clock: { s: number }, resume: boolean): Promise<RunFolder> {
  return RunFolder.create({
    outDir: dir, example: 'timed', params: {}, seed: 0, backend: backendInfo()!, quiet: true, signal: new AbortController().signal,
    terminal: new Terminal({ mode: 'quiet' }), paramsFile: { format: 'cinder-run/1' }, now: () => at(clock.s), resume,
  });
}

describe('a resumed run folder', () => {
  it('interrupted, resumed twice: started_at stays the first start, elapsed_s sums the attempts, resumed_at lists each resumption', async () => {
    const dir = join(tmp, 'interrupted');
    mkdirSync(dir);
    const clock = { s: 0 };
    // attempt 1: 0 s … 120 s
    const a = await open(dir, clock, false);
    clock.s = 100;
    await a.checkpoint({ step: 1 });
    clock.s = 120;
    await a.finish('interrupted');
    expect(json(join(dir, 'run_summary.json'))).toMatchObject({ started_at: iso(0), elapsed_s: 120 });
    // stopped for 880 s; attempt 2: 1000 s … 1030 s
    clock.s = 1000;
    const b = await open(dir, clock, true);
    expect(json(join(dir, 'run_summary.json'))).toMatchObject({ status: 'running', started_at: iso(0), updated_at: iso(1000), elapsed_s: 120, resumed: 1, resumed_at: [iso(1000)] });
    clock.s = 1030;
    await b.finish('interrupted');
    // attempt 3: 5000 s … 5045.5 s
    clock.s = 5000;
    const c = await open(dir, clock, true);
    clock.s = 5045.5;
    const s = await c.finish('completed', { step: 3 });
    const want = { status: 'completed', started_at: iso(0), updated_at: iso(5045.5), finished_at: iso(5045.5), elapsed_s: 120 + 30 + 45.5, resumed: 2, resumed_at: [iso(1000), iso(5000)], step: 3 };
    expect(s).toMatchObject(want);
    expect(json(join(dir, 'run_summary.json'))).toMatchObject(want);
    // params.json: written once, by the first attempt
    expect(json(join(dir, 'params.json')).started_at).toBe(iso(0));
  });

  it('crashed: the attempt counts up to its last summary write (its last checkpoint)', async () => {
    const dir = join(tmp, 'crashed');
    mkdirSync(dir);
    const clock = { s: 0 };
    const a = await open(dir, clock, false);
    clock.s = 50;
    await a.checkpoint({ step: 1 });
    // killed at 70 s (no final summary); `cinder status` then records it crashed
    void a;
    expect(inspectRunFolder(dir).status).toBe('crashed');
    expect(json(join(dir, 'run_summary.json'))).toMatchObject({ status: 'crashed', updated_at: iso(50), elapsed_s: 50 });
    clock.s = 600;
    const b = await open(dir, clock, true);
    const running = json(join(dir, 'run_summary.json'));
    expect(running).toMatchObject({ status: 'running', started_at: iso(0), elapsed_s: 50, resumed: 1, resumed_at: [iso(600)] });
    // the bookkeeping of the crash is not carried on
    expect(running.crashed_detected_at).toBeUndefined();
    clock.s = 610;
    expect(await b.finish('completed')).toMatchObject({ started_at: iso(0), elapsed_s: 60, resumed: 1 });
  });
});

/** One checkpoint { x: seed } per seed; `stop` aborts the run's signal in seed 1 (after its checkpoint). */
function spec(stop: (() => void) | null): ExampleSpec {
  return {
    name: 'timed', description: 'timed', options: [], presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: ['x'], figures: [],
    run: async (ctx) => {
      await ctx.checkpoint({ x: ctx.seed });
      if (ctx.seed === 1 && stop) {
        stop();
        if (ctx.signal.aborted) return { x: ctx.seed };
      }
      return { x: ctx.seed };
    },
  };
}

async function seedsRun(outDir: string, resume: boolean): Promise<{ summary: Record<string, unknown>; from: number; to: number }> {
  const controller = new AbortController();
  const from = Date.now();
  const r = await startRun({
    spec: spec(resume ? null : () => controller.abort('SIGINT')), params: {}, mode: 'tiny', seed: 0, seeds: 2, outDir, backend: backendInfo()!,
    backendRequest: 'auto', quiet: true, signal: controller.signal, terminal: new Terminal({ mode: 'quiet' }), resume,
  }).done;
  const to = Date.now();
  expect(r.status).toBe(resume ? 'completed' : 'interrupted');
  return { summary: r.summary, from, to };
}

/** Rewrites keys of the JSON file `p`. */
function edit(p: string, keys: Record<string, unknown>): void {
  writeFileSync(p, JSON.stringify({ ...json(p), ...keys }));
}

describe('a resumed multi-seed run: the top summary', () => {
  it('interrupted: started_at stays the first start, elapsed_s goes on from the first attempt’s', async () => {
    const dir = join(tmp, 'seeds-interrupted');
    await seedsRun(dir, false);
    // the first attempt as if it had run from 10:00:00 for an hour
    edit(join(dir, 'run_summary.json'), { started_at: iso(0), updated_at: iso(3600), finished_at: iso(3600), elapsed_s: 3600 });
    const { summary, from, to } = await seedsRun(dir, true);
    const top = json(join(dir, 'run_summary.json'));
    expect(top).toEqual(summary);
    expect(top).toMatchObject({ status: 'completed', started_at: iso(0), resumed: 1, completed_seeds: 2 });
    // 3600 s + this attempt's wall time, which lies within the time the resume call took
    const e = top.elapsed_s as number;
    expect(e).toBeGreaterThanOrEqual(3600);
    expect(e).toBeLessThanOrEqual(3600 + (to - from) / 1000);
    const resumedAt = top.resumed_at as string[];
    expect(resumedAt).toHaveLength(1);
    expect(Date.parse(resumedAt[0]!)).toBeGreaterThanOrEqual(from);
    expect(Date.parse(resumedAt[0]!)).toBeLessThanOrEqual(to);
  });

  it('across_seeds: statistics of the metrics only, not of the bookkeeping (a resumed seed’s `resumed`)', async () => {
    // seed 1 was interrupted and resumed: its summary has resumed 1, seed 0's none. across_seeds
    // had { resumed: { mean: 1, std: 0, min: 1, max: 1, n: 1 } } beside x
    const dir = join(tmp, 'seeds-aggregate');
    await seedsRun(dir, false);
    await seedsRun(dir, true);
    expect(json(join(dir, 'seed-1', 'run_summary.json')).resumed).toBe(1);
    const top = json(join(dir, 'run_summary.json'));
    expect(top.across_seeds).toEqual({ x: { mean: 0.5, std: Math.sqrt(0.5), min: 0, max: 1, n: 2 } });
    // the per-seed list keeps each seed's scalars, bookkeeping included
    expect((top.runs as Record<string, unknown>[]).map((r) => r.resumed)).toEqual([undefined, 1]);
  });

  it('crashed: the attempt counts up to the latest summary write of its seed folders', async () => {
    const dir = join(tmp, 'seeds-crashed');
    await seedsRun(dir, false);
    // as if killed: the top summary last rewritten at 3600 s (running), seed 0 completed at 3000 s,
    // seed 1's last checkpoint at 4200 s
    edit(join(dir, 'run_summary.json'), { status: 'crashed', started_at: iso(0), updated_at: iso(3600), elapsed_s: 3600, finished_at: undefined });
    edit(join(dir, 'seed-0', 'run_summary.json'), { updated_at: iso(3000) });
    edit(join(dir, 'seed-1', 'run_summary.json'), { status: 'crashed', updated_at: iso(4200) });
    const { from, to } = await seedsRun(dir, true);
    const top = json(join(dir, 'run_summary.json'));
    expect(top).toMatchObject({ status: 'completed', started_at: iso(0), resumed: 1 });
    const e = top.elapsed_s as number;
    expect(e).toBeGreaterThanOrEqual(4200);
    expect(e).toBeLessThanOrEqual(4200 + (to - from) / 1000);
  });
});
