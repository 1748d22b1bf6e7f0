// Killing a run half-way: SIGINT → exit 130, SIGTERM → 143, both leave valid JSON with status
// "interrupted" and the data of the completed checkpoints. A second signal (or an example that
// ignores the first beyond the grace period) ends the process at once, still with valid files.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { fakeExample } from './fixtures/fake-example.js';
import { Sink } from './fixtures/sink.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'test', 'cli', 'fixtures', 'fake-cli.ts');

function readJson(p: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch {
    return null;
  }
}

async function interrupt(args: string[], signals: NodeJS.Signals[], waitFor: (s: Record<string, unknown>, out: string) => boolean, env: Record<string, string> = {}) {
  const out = join(mkdtempSync(join(tmpdir(), 'cinder-sig-')), 'run');
  const child = spawn(process.execPath, ['--import', 'tsx', script, 'fake', ...args, '--out', out], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const summaryPath = join(out, 'run_summary.json');
  const t0 = Date.now();
  for (;;) {
    // Every read during the run must be valid JSON (atomic writes).
    if (existsSync(summaryPath)) {
      const s = readJson(summaryPath);
      expect(s, 'run_summary.json is valid JSON at every moment').not.toBeNull();
      if (waitFor(s!, out)) break;
    }
    if (Date.now() - t0 > 60_000) throw new Error(`run did not reach the checkpoint: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const [i, sig] of signals.entries()) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    child.kill(sig);
  }
  const code = await exited;
  return { code, out, stderr, summary: readJson(summaryPath)!, params: readJson(join(out, 'params.json'))! };
}

describe('interrupting a run', () => {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${sig}: exit ${code}, status interrupted, completed checkpoints kept`, async () => {
      const r = await interrupt(['--steps', '100000', '--delay-ms', '20', '--gain', '1'], [sig], (s) => Number(s.steps_done ?? 0) >= 5);
      expect(r.code).toBe(code);
      expect(r.summary.status).toBe('interrupted');
      const k = r.summary.steps_done as number;
      expect(k).toBeGreaterThanOrEqual(5);
      expect(k).toBeLessThan(100000);
      // The metrics match the closed form for the k steps that completed.
      expect(r.summary.total).toBe((k * (k + 1)) / 2);
      expect(r.summary.squares).toBe((k * (k + 1) * (2 * k + 1)) / 6);
      expect(r.params).toMatchObject({ example: 'fake', params: { steps: 100000 } });
      // The example stopped at its next checkpoint and still wrote its figure and artifacts.
      expect(readdirSync(join(r.out, 'figures'))).toContain('curve.html');
      expect(readdirSync(join(r.out, 'artifacts')).sort()).toEqual(['curve.npy', 'info.json']);
      expect(r.stderr).toContain(`${sig}: stopping at the next safe point`);
      expect(readdirSync(r.out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('SIGINT then SIGTERM on an example that ignores the signal: immediate exit, valid files', async () => {
    const r = await interrupt(['--mode', 'tiny', '--steps', '100000', '--delay-ms', '30', '--ignore-signal'], ['SIGINT', 'SIGTERM'], (s) => Number(s.steps_done ?? 0) >= 3);
    expect(r.code).toBe(130);
    expect(r.summary.status).toBe('interrupted');
    const k = r.summary.steps_done as number;
    expect(r.summary.total).toBe(k * (k + 1)); // tiny preset: gain 2 → 2·k(k+1)/2
  });

  it('--seeds K, second signal: the running seed folder keeps its data, says interrupted and is unlocked', async () => {
    const r = await interrupt(['--mode', 'tiny', '--steps', '100000', '--delay-ms', '30', '--ignore-signal', '--seeds', '2'], ['SIGINT', 'SIGTERM'], (_s, out) => {
      const seed = readJson(join(out, 'seed-0', 'run_summary.json'));
      return Number(seed?.steps_done ?? 0) >= 3;
    });
    expect(r.code).toBe(130);
    expect(r.summary).toMatchObject({ status: 'interrupted', completed_seeds: 0 });
    const seed0 = join(r.out, 'seed-0');
    const s = readJson(join(seed0, 'run_summary.json'))!;
    expect(s.status).toBe('interrupted');
    const k = s.steps_done as number;
    expect(s.total).toBe(k * (k + 1));
    // the seed folder's lock goes with the process, as the top folder's does
    expect(existsSync(join(r.out, '.lock'))).toBe(false);
    expect(existsSync(join(seed0, '.lock'))).toBe(false);
  });

  it('an example that ignores the signal is stopped after the grace period', async () => {
    const r = await interrupt(['--mode', 'tiny', '--steps', '100000', '--delay-ms', '30', '--ignore-signal'], ['SIGTERM'], (s) => Number(s.steps_done ?? 0) >= 3, { GRACE_MS: '500' });
    expect(r.code).toBe(143);
    expect(r.summary.status).toBe('interrupted');
    expect(r.stderr).toMatch(/did not stop within 0.5 s/);
    const k = r.summary.steps_done as number;
    expect(r.summary.total).toBe(k * (k + 1)); // tiny preset: gain 2 → 2·k(k+1)/2
  });

  it('in process: a run that stopped in time leaves no grace timer behind to exit the process later', async () => {
    // The grace timer of the first signal was never cleared: graceMs after a run that had stopped
    // and returned 130, it called process.exit (and rewrote the summary) in whatever process
    // called runCli. Here exit is stubbed, and the grace period is long enough for the fake
    // example (1 ms steps) to stop on its own.
    const graceMs = 1500;
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const listeners = process.listenerCount('SIGINT');
    try {
      const out = join(mkdtempSync(join(tmpdir(), 'cinder-sig-')), 'run');
      const done = runCli(['fake', '--mode', 'tiny', '--steps', '100000', '--delay-ms', '1', '--quiet', '--out', out], {
        examples: [fakeExample], out: new Sink(), err: new Sink(), isTTY: false, env: {}, handleSignals: true, interruptGraceMs: graceMs,
      });
      const t0 = Date.now();
      while (Number(readJson(join(out, 'run_summary.json'))?.steps_done ?? 0) < 2) {
        if (Date.now() - t0 > 60_000) throw new Error('run did not reach step 2');
        await new Promise((r) => setTimeout(r, 5));
      }
      process.emit('SIGINT', 'SIGINT');
      expect(await done).toBe(130);
      const summary = readFileSync(join(out, 'run_summary.json'), 'utf8');
      expect(JSON.parse(summary).status).toBe('interrupted');
      await new Promise((r) => setTimeout(r, graceMs + 500));
      expect(exit).not.toHaveBeenCalled();
      expect(readFileSync(join(out, 'run_summary.json'), 'utf8')).toBe(summary);
      expect(process.listenerCount('SIGINT')).toBe(listeners);
    } finally {
      exit.mockRestore();
    }
  });
});
