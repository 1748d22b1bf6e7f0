// Test helper: the `cinder` command as a child process (from source, through tsx), a run
// folder's run_summary.json as it is on disk at this moment, and the figures an in-process run writes.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import { RunFolder } from '../../src/cli/run-folder.js';
import type { Figure } from '../../src/viz/figure.js';

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A running `cinder` process: its exit code (null when killed by a signal) and its stderr so far. */
export interface CinderProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  err(): string;
}

/** Starts `cinder <args> --quiet` in the repository root with `env` added to this process's environment. */
export function startCinder(args: string[], env: Record<string, string> = {}): CinderProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bin', 'cinder.ts'), ...args, '--quiet'], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, err: () => err };
}

/** A run folder's run_summary.json, or {} while it is missing or half-written. */
export function runSummary(dir: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * Waits until run folder `dir` (written by `run`, started with `CINDER_TEST_HOLD_AT_CHECKPOINT`
 * = `hold`) has `hold` checkpoints, then sends SIGINT; resolves to the process's exit code.
 */
export async function interruptAtCheckpoint(run: CinderProcess, dir: string, hold: number): Promise<number | null> {
  const t0 = Date.now();
  while (Number(runSummary(dir).checkpoints ?? 0) < hold) {
    if (Date.now() - t0 > 120_000) throw new Error(`no checkpoint ${hold}: ${run.err()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  run.child.kill('SIGINT');
  return run.exited;
}

/** Captures, by name, the figures in-process runs write (through RunFolder.figure) until `restore()`. */
export function captureFigures(): { figures: Map<string, Figure>; restore: () => void } {
  const figures = new Map<string, Figure>();
  const original = RunFolder.prototype.figure;
  const spy = vi.spyOn(RunFolder.prototype, 'figure').mockImplementation(function (this: RunFolder, name: string, f: Figure) {
    figures.set(name, f);
    return original.call(this, name, f);
  });
  return { figures, restore: () => spy.mockRestore() };
}
