// A run whose folder's lock is taken over while it runs (another process's `--resume` judged it
// dead: stopped, or cut off from the shared file system, past its lease) stops writing the folder:
// its example is stopped, every later write refuses with RunLockLostError, no final status is
// written, the new owner's lock and files stay untouched, and `cinder` exits 1 saying who holds it.
// Loss is simulated by replacing `.lock` with another owner's text while the run runs with a small
// lease (CINDER_LOCK_LEASE_MS=90: refreshed every 30 ms).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backendInfo } from '../../src/core/backend.js';
import type { ExampleSpec, RunContext } from '../../src/cli/example.js';
import { Terminal } from '../../src/cli/progress.js';
import { RunLockLostError } from '../../src/cli/run-lock.js';
import * as nodeEntry from '../../src/node.js';
import { startRun } from '../../src/cli/runner.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import { FOREIGN_LOCK, tmpFiles } from '../helpers/run-lock.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'cinder-lock-lost-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const other = FOREIGN_LOCK;

/** Replaces the lock of `dir` by another owner's (as a takeover does: the old file goes, a new one comes). */
function takeOver(dir: string): void {
  rmSync(join(dir, '.lock'));
  writeFileSync(join(dir, '.lock'), other);
}


/**
 * An example that, until it is stopped, writes a checkpoint, an artifact and a log line every
 * 5 ms, for at most 4000 steps. `seen` records what it saw.
 */
function writer(seen: { steps: number; signal?: AbortSignal; error?: unknown }): ExampleSpec {
  return {
    name: 'writer', description: 'writes until stopped', options: [], presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: ['k'], figures: [],
    async run(ctx: RunContext) {
      seen.signal = ctx.signal;
      try {
        for (let k = 1; k <= 4000 && !ctx.signal.aborted; k++) {
          await ctx.checkpoint({ k });
          await ctx.artifactJson('progress', { k });
          ctx.log(`step ${k}`);
          seen.steps = k;
          await sleep(5);
        }
      } catch (err) {
        seen.error = err;
        throw err;
      }
      return { k: seen.steps };
    },
  };
}

const start = (spec: ExampleSpec, outDir: string, seeds = 1) => startRun({
  spec, params: {}, mode: 'tiny', seed: 0, seeds, outDir, backend: backendInfo()!, backendRequest: 'auto', quiet: true,
  signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
});

/** Polls until `dir/run_summary.json` says at least `k` checkpoints. */
async function untilCheckpoints(dir: string, k: number): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      if (Number(JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8')).checkpoints) >= k) return;
    } catch {
      // not there yet
    }
    if (Date.now() > end) throw new Error(`no ${k} checkpoints in ${dir}`);
    await sleep(5);
  }
}

describe('a run whose folder lock is taken over', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  beforeEach(() => {
    vi.stubEnv('CINDER_LOCK_LEASE_MS', '90');
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    process.off('warning', onWarning);
  });

  it('one seed: the example is stopped, nothing more is written, the outcome is failed with RunLockLostError', async () => {
    const out = join(tmp, 'single');
    const seen: { steps: number; signal?: AbortSignal; error?: unknown } = { steps: 0 };
    const run = start(writer(seen), out);
    await untilCheckpoints(out, 3);
    // the new owner takes the folder and writes its own files (one synchronous block: the old
    // holder runs no code in between)
    takeOver(out);
    const mine = { status: 'running', owner: 'new' };
    writeFileSync(join(out, 'run_summary.json'), JSON.stringify(mine));
    writeFileSync(join(out, 'log.txt'), 'new owner\n');
    writeFileSync(join(out, 'artifacts', 'progress.json'), '{"owner":"new"}');
    const stepsAtLoss = seen.steps;
    const outcome = await run.done;
    // the example was stopped at its next write (or its signal), not after its 4000 steps
    expect(seen.steps).toBeLessThanOrEqual(stepsAtLoss + 1);
    // (stopped by its signal when the refresh timer found the loss first, else by a refused write)
    if (seen.error !== undefined) expect(seen.error).toBeInstanceOf(RunLockLostError);
    expect(seen.signal!.aborted).toBe(true);
    expect(seen.signal!.reason).toBeInstanceOf(RunLockLostError);
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBeInstanceOf(RunLockLostError);
    // library users can tell it apart by class, from the node entry
    expect(outcome.error).toBeInstanceOf(nodeEntry.RunLockLostError);
    const e = outcome.error as RunLockLostError;
    expect(e.dir).toBe(resolve(out));
    expect(e.holder).toEqual(JSON.parse(other));
    expect(e.message).toBe(`lost the lock of run folder ${resolve(out)} (${join(resolve(out), '.lock')}): process 4242 on elsewhere.invalid holds it now (since 2026-01-01T00:00:00.000Z); this run stopped and writes nothing more into the folder`);
    expect(outcome.summary).toMatchObject({ status: 'failed', error: e.message });
    // nothing of the new owner's was overwritten or removed (its lock included), no temporary file left
    expect(readFileSync(join(out, 'run_summary.json'), 'utf8')).toBe(JSON.stringify(mine));
    expect(readFileSync(join(out, 'log.txt'), 'utf8')).toBe('new owner\n');
    expect(readFileSync(join(out, 'artifacts', 'progress.json'), 'utf8')).toBe('{"owner":"new"}');
    expect(readFileSync(join(out, '.lock'), 'utf8')).toBe(other);
    expect(tmpFiles(out)).toEqual([]);
    await sleep(10); // (warnings are emitted on the next tick)
    expect(warnings.map((w) => (w as Error & { code?: string }).code)).toEqual(['CINDER_LOCK_LOST']);
  });

  it("three seeds, the top folder's lock lost during seed 0: the run stops, neither the seed nor the top folder is written", async () => {
    const out = join(tmp, 'seeds');
    const seen: { steps: number; signal?: AbortSignal; error?: unknown } = { steps: 0 };
    const run = start(writer(seen), out, 3);
    await untilCheckpoints(join(out, 'seed-0'), 3);
    takeOver(out);
    const top = '{"status":"running","owner":"new"}';
    const seed = '{"status":"running","owner":"new","seed":0}';
    writeFileSync(join(out, 'run_summary.json'), top);
    writeFileSync(join(out, 'log.txt'), 'new owner\n');
    writeFileSync(join(out, 'seed-0', 'run_summary.json'), seed);
    writeFileSync(join(out, 'seed-0', 'log.txt'), 'new owner\n');
    const outcome = await run.done;
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBeInstanceOf(RunLockLostError);
    expect((outcome.error as RunLockLostError).dir).toBe(resolve(out));
    expect(outcome.summary).toMatchObject({ status: 'failed', error: (outcome.error as Error).message });
    expect(readFileSync(join(out, 'run_summary.json'), 'utf8')).toBe(top);
    expect(readFileSync(join(out, 'log.txt'), 'utf8')).toBe('new owner\n');
    expect(readFileSync(join(out, 'seed-0', 'run_summary.json'), 'utf8')).toBe(seed);
    expect(readFileSync(join(out, 'seed-0', 'log.txt'), 'utf8')).toBe('new owner\n');
    expect(readFileSync(join(out, '.lock'), 'utf8')).toBe(other);
    // seed 0's own lock was this run's: released; no later seed was started
    expect(existsSync(join(out, 'seed-0', '.lock'))).toBe(false);
    expect(existsSync(join(out, 'seed-1'))).toBe(false);
    expect(tmpFiles(out)).toEqual([]);
  });

  it("three seeds, the top folder's lock lost: an example's own write into the top folder is refused too (its write guard)", async () => {
    const out = join(tmp, 'seeds-guard');
    const shared = join(out, 'shared.json');
    const seen: { steps: number; error?: unknown } = { steps: 0 };
    const spec: ExampleSpec = {
      ...writer(seen),
      async run(ctx: RunContext) {
        try {
          for (let k = 1; k <= 4000; k++) {
            await ctx.checkpoint({ k });
            seen.steps = k;
            await sleep(5);
            // once the top folder was taken over (seen here before any timer could tell), a file of
            // its own in the top folder, through no RunFolder method
            if (readFileSync(join(ctx.outDir, '..', '.lock'), 'utf8') === other) {
              await writeJsonAtomic(join(ctx.outDir, '..', 'shared.json'), { k });
              break;
            }
          }
        } catch (err) {
          seen.error = err;
          throw err;
        }
        return { k: seen.steps };
      },
    };
    const run = start(spec, out, 3);
    await untilCheckpoints(join(out, 'seed-0'), 3);
    takeOver(out);
    writeFileSync(shared, '{"owner":"new"}');
    const outcome = await run.done;
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBeInstanceOf(RunLockLostError);
    // refused by the top folder's guard (before it, the example overwrote the new owner's file)
    expect(readFileSync(shared, 'utf8')).toBe('{"owner":"new"}');
    expect(tmpFiles(out)).toEqual([]);
  });

  it("three seeds, only seed 0's own lock lost: that seed stops unwritten, the run (still owning the top folder) ends failed and says why", async () => {
    const out = join(tmp, 'seed-only');
    const seen: { steps: number; signal?: AbortSignal; error?: unknown } = { steps: 0 };
    const run = start(writer(seen), out, 3);
    await untilCheckpoints(join(out, 'seed-0'), 3);
    // another process takes over seed 0's folder alone (`--resume DIR/seed-0`)
    takeOver(join(out, 'seed-0'));
    const seed = '{"status":"running","owner":"new","seed":0}';
    writeFileSync(join(out, 'seed-0', 'run_summary.json'), seed);
    const outcome = await run.done;
    expect(outcome.status).toBe('failed');
    const e = outcome.error as RunLockLostError;
    expect(e).toBeInstanceOf(RunLockLostError);
    expect(e.dir).toBe(resolve(out, 'seed-0'));
    expect(readFileSync(join(out, 'seed-0', 'run_summary.json'), 'utf8')).toBe(seed);
    expect(readFileSync(join(out, 'seed-0', '.lock'), 'utf8')).toBe(other);
    // the top folder is still this run's: its summary says failed with the seed's reason, its lock is gone
    const topSummary = JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8'));
    expect(topSummary).toMatchObject({ status: 'failed', error: `seed 0: ${e.message}` });
    expect(topSummary.runs).toEqual([expect.objectContaining({ seed: 0, status: 'failed' })]);
    expect(existsSync(join(out, '.lock'))).toBe(false);
    expect(existsSync(join(out, 'seed-1'))).toBe(false);
  });
});

describe('cinder <example> whose run folder lock is taken over', () => {
  it('exits 1 with a message naming the lock and its holder; the new owner\'s files stay; the process exits on its own', async () => {
    const out = join(tmp, 'cli');
    const script = join(root, 'test', 'cli', 'fixtures', 'fake-cli.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, 'fake', '--steps', '80', '--delay-ms', '25', '--out', out], {
      cwd: root, env: { ...process.env, CINDER_LOCK_LEASE_MS: '90' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await untilCheckpoints(out, 3);
    takeOver(out);
    // the holder finds out at its next write (it looks at the lock before each) or refresh (30 ms)
    await sleep(60);
    const mine = '{"status":"running","owner":"new"}';
    writeFileSync(join(out, 'run_summary.json'), mine);
    writeFileSync(join(out, 'log.txt'), 'new owner\n');
    const code = await exited;
    expect(code).toBe(1);
    expect(stderr).toContain(`cinder fake stopped: lost the lock of run folder ${out} (${join(out, '.lock')}): process 4242 on elsewhere.invalid holds it now`);
    expect(readFileSync(join(out, 'run_summary.json'), 'utf8')).toBe(mine);
    expect(readFileSync(join(out, 'log.txt'), 'utf8')).toBe('new owner\n');
    expect(readFileSync(join(out, '.lock'), 'utf8')).toBe(other);
    expect(existsSync(join(out, 'figures', 'curve.html'))).toBe(false);
    expect(tmpFiles(out)).toEqual([]);
  }, 60_000);
});
