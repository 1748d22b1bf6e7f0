// An example that stops on an "abort" listener of ctx.signal (without reading `aborted`) was
// recorded "completed" (exit 0) although SIGINT/SIGTERM had cut it short: the run folder noted
// only reads of `signal.aborted` as the example having seen the interrupt. A listener it added
// being called (addEventListener or onabort), or a read of `signal.reason` once aborted, now
// counts as seeing it: the run is "interrupted".
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backendInfo } from '../../src/core/backend.js';
import type { ExampleSpec, RunContext } from '../../src/cli/example.js';
import { Terminal } from '../../src/cli/progress.js';
import { startRun } from '../../src/cli/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-abort-listener-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Runs an example that checkpoints steps 1, 2, … (summary `steps_done`) until `waitStop` resolves,
 * aborting the run's signal after checkpoint 2; returns the outcome and the summary on disk.
 */
async function runUntilAbort(name: string, waitStop: (ctx: RunContext) => { stopped: () => boolean; cleanup?: () => void }) {
  const controller = new AbortController();
  const spec: ExampleSpec = {
    name: 'listener', description: 'stops on an abort listener', options: [], presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: ['steps_done'], figures: [],
    run: async (ctx) => {
      const w = waitStop(ctx);
      let k = 0;
      while (!w.stopped()) {
        k++;
        await ctx.checkpoint({ steps_done: k });
        if (k === 2) controller.abort('SIGINT');
        await new Promise((r) => setImmediate(r));
      }
      w.cleanup?.();
      return { steps_done: k };
    },
  };
  const outDir = join(tmp, name);
  const outcome = await startRun({
    spec, params: {}, mode: 'tiny', seed: 0, seeds: 1, outDir, backend: backendInfo()!, backendRequest: 'auto', quiet: true,
    signal: controller.signal, terminal: new Terminal({ mode: 'quiet' }),
  }).done;
  return { outcome, summary: JSON.parse(readFileSync(join(outDir, 'run_summary.json'), 'utf8')) as Record<string, unknown> };
}

describe('an example that stops on the signal without reading `aborted`', () => {
  it('addEventListener("abort"): interrupted', async () => {
    const r = await runUntilAbort('listener', (ctx) => {
      let stop = false;
      const on = (): void => void (stop = true);
      ctx.signal.addEventListener('abort', on);
      return { stopped: () => stop, cleanup: () => ctx.signal.removeEventListener('abort', on) };
    });
    expect(r.outcome.status).toBe('interrupted');
    expect(r.summary).toMatchObject({ status: 'interrupted', steps_done: 2 });
  });

  it('an object listener with handleEvent: interrupted', async () => {
    const r = await runUntilAbort('handle-event', (ctx) => {
      const l = { stop: false, handleEvent(): void { this.stop = true; } };
      ctx.signal.addEventListener('abort', l, { once: true });
      return { stopped: () => l.stop };
    });
    expect(r.outcome.status).toBe('interrupted');
    expect(r.summary).toMatchObject({ status: 'interrupted', steps_done: 2 });
  });

  it('onabort: interrupted', async () => {
    const r = await runUntilAbort('onabort', (ctx) => {
      let stop = false;
      ctx.signal.onabort = () => void (stop = true);
      return { stopped: () => stop };
    });
    expect(r.outcome.status).toBe('interrupted');
    expect(r.summary).toMatchObject({ status: 'interrupted', steps_done: 2 });
  });

  it('a listener removed before the abort does not count: the run that finished its work is completed', async () => {
    const r = await runUntilAbort('removed', (ctx) => {
      let stop = false;
      const on = (): void => void (stop = true);
      ctx.signal.addEventListener('abort', on);
      ctx.signal.removeEventListener('abort', on);
      // stops by itself after 3 steps (the abort after step 2 is never looked at)
      let n = 0;
      return { stopped: () => stop || n++ >= 3 };
    });
    expect(r.outcome.status).toBe('completed');
    expect(r.summary).toMatchObject({ status: 'completed', steps_done: 3 });
  });
});

// An example that stops on a signal derived from ctx.signal (`AbortSignal.any([ctx.signal, …])`,
// e.g. with its own time budget `AbortSignal.timeout`) was recorded "completed" after SIGINT had
// cut it short at step 2: the derived signal follows ctx.signal inside Node (AbortSignal.any links
// it to the signal's sources), so reading it, or its listeners being called, never passed through
// the view that notes the interrupt being seen — and `cinder --resume` then refused the folder as
// completed. A run whose example derived a signal from ctx.signal, and whose signal was aborted
// before the example returned, is now "interrupted".
describe('an example that stops on a signal derived from ctx.signal', () => {
  it('AbortSignal.any([ctx.signal, its own]), reading `aborted` of the derived signal: interrupted', async () => {
    const r = await runUntilAbort('any-aborted', (ctx) => {
      const mine = new AbortController();
      const derived = AbortSignal.any([ctx.signal, mine.signal]);
      return { stopped: () => derived.aborted };
    });
    expect(r.outcome.status).toBe('interrupted');
    expect(r.summary).toMatchObject({ status: 'interrupted', steps_done: 2 });
  });

  it('AbortSignal.any([ctx.signal, AbortSignal.timeout(…)]), an abort listener on the derived signal: interrupted', async () => {
    const r = await runUntilAbort('any-timeout', (ctx) => {
      const derived = AbortSignal.any([ctx.signal, AbortSignal.timeout(3_600_000)]);
      let stop = false;
      derived.addEventListener('abort', () => void (stop = true), { once: true });
      return { stopped: () => stop };
    });
    expect(r.outcome.status).toBe('interrupted');
    expect(r.summary).toMatchObject({ status: 'interrupted', steps_done: 2 });
  });

  it('a derived signal and no abort: completed', async () => {
    const controller = new AbortController();
    const spec: ExampleSpec = {
      name: 'derived', description: 'derives a signal', options: [], presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: ['steps_done'], figures: [],
      run: async (ctx) => {
        const derived = AbortSignal.any([ctx.signal, new AbortController().signal]);
        let k = 0;
        while (!derived.aborted && k < 3) await ctx.checkpoint({ steps_done: ++k });
        return { steps_done: k };
      },
    };
    const outcome = await startRun({
      spec, params: {}, mode: 'tiny', seed: 0, seeds: 1, outDir: join(tmp, 'derived-no-abort'), backend: backendInfo()!, backendRequest: 'auto', quiet: true,
      signal: controller.signal, terminal: new Terminal({ mode: 'quiet' }),
    }).done;
    expect(outcome.status).toBe('completed');
    expect(outcome.summary).toMatchObject({ status: 'completed', steps_done: 3 });
  });
});
