// Issue 11 regression: a signal that arrives after the example finished its work must not label
// the run "interrupted" (song2000 with long bins simulated the whole run after Ctrl-C and was then
// recorded as interrupted); one that the example acted on must.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backendInfo } from '../../src/core/backend.js';
import type { ExampleSpec, RunContext } from '../../src/cli/example.js';
import { Terminal } from '../../src/cli/progress.js';
import { startRun } from '../../src/cli/runner.js';
import { setTimeout as sleep } from 'node:timers/promises';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-status-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function spec(body: (ctx: RunContext, abort: () => void) => Promise<Record<string, unknown>>, abort: () => void): ExampleSpec {
  return {
    name: 'probe', description: 'probe', options: [], presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: [], figures: [],
    run: (ctx) => body(ctx, abort),
  };
}

async function runWith(body: (ctx: RunContext, abort: () => void) => Promise<Record<string, unknown>>, name: string) {
  const controller = new AbortController();
  const out = join(tmp, name);
  const run = startRun({
    spec: spec(body, () => controller.abort('SIGINT')), params: {}, mode: 'tiny', seed: 0, seeds: 1, outDir: out, backend: backendInfo()!,
    backendRequest: 'auto', quiet: true, signal: controller.signal, terminal: new Terminal({ mode: 'quiet' }),
  });
  const outcome = await run.done;
  return { outcome, summary: JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8')) as Record<string, unknown> };
}

describe('the final status tells what happened', () => {
  it('a signal after all the work was done: completed', async () => {
    const r = await runWith(async (_ctx, abort) => {
      let s = 0;
      for (let i = 1; i <= 100; i++) s += i;
      abort(); // arrives while the results are written
      return { s };
    }, 'late');
    expect(r.outcome.status).toBe('completed');
    expect(r.summary).toMatchObject({ status: 'completed', s: 5050 });
  });

  it('a signal the example acted on: interrupted, with what it computed', async () => {
    const r = await runWith(async (ctx, abort) => {
      let s = 0;
      let i = 1;
      for (; i <= 100 && !ctx.signal.aborted; i++) {
        s += i;
        if (i === 10) abort();
      }
      return { s, done: i - 1 };
    }, 'early');
    expect(r.outcome.status).toBe('interrupted');
    expect(r.summary).toMatchObject({ status: 'interrupted', s: 55, done: 10 });
  });

  it('a real error after the signal: failed, with its message (it was dropped as "interrupted")', async () => {
    const r = await runWith(async (ctx, abort) => {
      let s = 0;
      for (let i = 1; i <= 100 && !ctx.signal.aborted; i++) {
        s += i;
        if (i === 10) abort();
      }
      await ctx.checkpoint({ s });
      throw new Error(`kaboom after s = ${s}`);
    }, 'error-after-signal');
    expect(r.outcome.status).toBe('failed');
    expect((r.outcome.error as Error).message).toBe('kaboom after s = 55');
    expect(r.summary).toMatchObject({ status: 'failed', error: 'kaboom after s = 55', s: 55 });
  });

  it('the abort itself thrown (throwIfAborted, an AbortError): interrupted, no error recorded', async () => {
    const r = await runWith(async (ctx, abort) => {
      await ctx.checkpoint({ s: 6 });
      abort();
      ctx.signal.throwIfAborted();
      return {};
    }, 'abort-thrown');
    expect(r.outcome.status).toBe('interrupted');
    expect(r.summary).toMatchObject({ status: 'interrupted', s: 6 });
    expect(r.summary.error).toBeUndefined();
    const r2 = await runWith(async (ctx, abort) => {
      await ctx.checkpoint({ s: 10 });
      abort();
      await sleep(10_000, undefined, { signal: ctx.signal }); // rejects at once with an AbortError
      return {};
    }, 'abort-error');
    expect(r2.outcome.status).toBe('interrupted');
    expect(r2.summary).toMatchObject({ status: 'interrupted', s: 10 });
    expect(r2.summary.error).toBeUndefined();
  });
});
