// A forced exit (a second signal, or the grace period over) whose last write fails for a reason
// other than a lost lock: the error of Run.finishNow escaped the signal handler (or timer), so the
// process died of an uncaught exception (exit 1), never reached process.exit with the signal's
// code, and left its .lock behind (the folder then looked busy, later crashed). The last word
// now reports the failure on stderr, still releases the lock and exits with the signal's code.
//
// The final summary write is made to fail by putting a directory where run_summary.json is,
// while the example is in a long busy step (signals and timers are only handled between steps),
// so no checkpoint write runs between the change and the forced exit: two signals sent during the
// step, or (grace period) the signal sent one step earlier and the grace period run out when the
// step ends.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'test', 'cli', 'fixtures', 'fake-cli.ts');

function readJson(p: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** What the test does, in order: wait until the summary has `steps` checkpoints, break the summary, send a signal. */
type Action = { steps: number } | 'break' | NodeJS.Signals;

async function forcedExitWithBrokenSummary(extra: string[], summaryOf: (out: string) => string, actions: Action[], env: Record<string, string> = {}) {
  const out = join(mkdtempSync(join(tmpdir(), 'cinder-force-exit-')), 'run');
  // tiny preset (gain 2); every step is a 4 s busy loop after its checkpoint
  const child = spawn(process.execPath, ['--import', 'tsx', script, 'fake', '--mode', 'tiny', '--steps', '100000', '--delay-ms', '4000', '--ignore-signal', '--quiet', '--out', out, ...extra], {
    cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const summaryPath = summaryOf(out);
  let before: Record<string, unknown> | null = null;
  let signalled = false;
  for (const act of actions) {
    if (typeof act === 'object') {
      const t0 = Date.now();
      while (Number(readJson(summaryPath)?.steps_done ?? 0) < act.steps) {
        if (Date.now() - t0 > 60_000) throw new Error(`run did not reach checkpoint ${act.steps}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    } else if (act === 'break') {
      // the example is busy in the delay after its last checkpoint: its summary's place is taken by a folder
      before = readJson(summaryPath);
      rmSync(summaryPath);
      mkdirSync(summaryPath);
    } else {
      if (signalled) await new Promise((r) => setTimeout(r, 100));
      child.kill(act);
      signalled = true;
    }
  }
  const code = await exited;
  return { code, out, stderr, before: before! };
}

describe('forced exit whose last summary write fails', () => {
  it('second signal: the failure is reported, the lock released, exit with the first signal’s code', async () => {
    const r = await forcedExitWithBrokenSummary([], (out) => join(out, 'run_summary.json'), [{ steps: 1 }, 'break', 'SIGINT', 'SIGTERM']);
    expect(r.code).toBe(130); // SIGINT came first: 128 + 2
    expect(r.stderr).toContain('SIGINT: stopping at the next safe point');
    expect(r.stderr).toMatch(/cinder fake: the last write of the interrupted run failed: .*run_summary\.json/);
    expect(existsSync(join(r.out, '.lock'))).toBe(false);
    // what the run wrote before stays: its params, and the folder in the summary's place
    expect(readJson(join(r.out, 'params.json'))).toMatchObject({ example: 'fake', params: { steps: 100000 } });
    expect(statSync(join(r.out, 'run_summary.json')).isDirectory()).toBe(true);
    expect(r.before).toMatchObject({ status: 'running', steps_done: 1, total: 2 }); // gain 2 · 1
  }, 90_000);

  it('grace period over: the same, with the SIGTERM code', async () => {
    // the signal is handled when step 2's busy loop ends; the grace period (2 s) outlasts checkpoint
    // 2's write (300 ms once ran out during that write on a loaded machine, before the break) and
    // runs out in step 3's busy loop, so the forced exit comes when that loop ends, after the break
    const r = await forcedExitWithBrokenSummary([], (out) => join(out, 'run_summary.json'), [{ steps: 1 }, 'SIGTERM', { steps: 2 }, 'break'], { GRACE_MS: '2000' });
    expect(r.code).toBe(143); // 128 + 15
    expect(r.stderr).toMatch(/did not stop within 2 s/);
    expect(r.stderr).toMatch(/cinder fake: the last write of the interrupted run failed: .*run_summary\.json/);
    expect(existsSync(join(r.out, '.lock'))).toBe(false);
  }, 90_000);

  it('--seeds 2: a seed folder whose summary cannot be written still gets the top summary and both locks go', async () => {
    const r = await forcedExitWithBrokenSummary(['--seeds', '2'], (out) => join(out, 'seed-0', 'run_summary.json'), [{ steps: 1 }, 'break', 'SIGINT', 'SIGTERM']);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/cinder fake: the last write of the interrupted run failed: .*seed-0.*run_summary\.json/);
    expect(existsSync(join(r.out, '.lock'))).toBe(false);
    expect(existsSync(join(r.out, 'seed-0', '.lock'))).toBe(false);
    // the top summary still got the last word: interrupted, seed 0 listed with its checkpointed data
    const top = readJson(join(r.out, 'run_summary.json'))!;
    // (the step after the first may have begun before the second signal was handled: k >= 1)
    expect(top).toMatchObject({ status: 'interrupted', completed_seeds: 0, runs: [{ seed: 0, dir: 'seed-0', status: 'interrupted' }] });
    const k = (top.runs as { steps_done: number }[])[0]!.steps_done;
    expect(k).toBeGreaterThanOrEqual(1);
    expect((top.runs as { total: number }[])[0]!.total).toBe(k * (k + 1)); // tiny preset: gain 2 → 2·k(k+1)/2
  }, 90_000);
});
