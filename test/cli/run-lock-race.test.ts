// inspectRunFolder (`cinder status`, and every command that looks at a run folder first) rewrites a
// summary that says `running` while no live process holds the folder's lock to `crashed`. It used to
// write that rewrite from the summary it had read, whatever had happened since: a `--resume` that took
// the lock after the look and wrote its own summary had that summary overwritten with the old one,
// marked crashed (and the resumed run's status lost). The interleaving is made exact by a hook on the
// first read of run_summary.json (the resume runs right after inspectRunFolder has read the summary).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const hook = vi.hoisted(() => ({ onSummary: [] as (() => void)[] }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((...args: Parameters<typeof fs.readFileSync>) => {
    const out = fs.readFileSync(...args);
    if (String(args[0]).endsWith('run_summary.json')) hook.onSummary.shift()?.();
    return out;
  }) as typeof fs.readFileSync;
  return { ...fs, default: { ...fs, readFileSync }, readFileSync };
});

const { acquireLock, inspectRunFolder, releaseLock } = await import('../../src/cli/run-lock.js');
const { writeJsonAtomicSync } = await import('../../src/io/atomic.js');
const { tryLock } = await import('../../src/io/lock.js');
const { resumerAttempt } = await import('../helpers/run-lock.js');

const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;
const killed = { status: 'running', example: 'x', steps_done: 40 };
const summaryOf = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8')) as Record<string, unknown>;

/** A run folder whose summary says running, with the lock of a killed process of this host (or none). */
function killedRun(withLock: boolean): { dir: string; lock?: Record<string, unknown> } {
  const dir = mkdtempSync(join(tmpdir(), 'cinder-run-lock-race-'));
  writeFileSync(join(dir, 'run_summary.json'), JSON.stringify(killed));
  if (!withLock) return { dir };
  const lock = { pid: deadPid(), host: hostname(), started_at: '2026-01-01T00:00:00.000Z', lease_ms: 60_000 };
  writeFileSync(join(dir, '.lock'), JSON.stringify(lock));
  return { dir, lock };
}

describe('inspectRunFolder never rewrites a summary over a resume that took the folder', () => {
  for (const withLock of [true, false]) {
    it(`a resume takes the lock and writes its summary right after the look (${withLock ? "a killed run's lock" : 'no lock'})`, () => {
      const { dir } = killedRun(withLock);
      const resumed = { status: 'running', example: 'x', steps_done: 40, resumed_at: '2026-02-02T00:00:00.000Z' };
      hook.onSummary.push(() => {
        acquireLock(dir, { takeOverCrashed: true });
        writeJsonAtomicSync(join(dir, 'run_summary.json'), resumed);
      });
      try {
        const st = inspectRunFolder(dir);
        expect(hook.onSummary).toEqual([]); // (the resume ran)
        expect(summaryOf(dir)).toEqual(resumed);
        expect(st).toMatchObject({ status: 'running', busy: true, lock: { pid: process.pid, host: hostname() } });
      } finally {
        releaseLock(dir);
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it(`a resume that has taken the lock but not yet written: the summary stays as it was (${withLock ? "a killed run's lock" : 'no lock'})`, () => {
      const { dir } = killedRun(withLock);
      hook.onSummary.push(() => void acquireLock(dir, { takeOverCrashed: true }));
      try {
        expect(inspectRunFolder(dir)).toMatchObject({ status: 'running', busy: true });
        expect(summaryOf(dir)).toEqual(killed);
      } finally {
        releaseLock(dir);
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it(`without a resume it is rewritten crashed; while it is, nobody can take the lock (${withLock ? "a killed run's lock" : 'no lock'})`, () => {
      const { dir, lock } = killedRun(withLock);
      const lockText = withLock ? readFileSync(join(dir, '.lock'), 'utf8') : null;
      // the second read of the summary is the one made while the lock cannot be taken
      let attempt: unknown;
      hook.onSummary.push(() => {}, () => {
        attempt = resumerAttempt(dir, tryLock); // a resumer: takes over a dead owner's lock
      });
      try {
        expect(inspectRunFolder(dir)).toEqual({ status: 'crashed', lock: lock ?? null, busy: false });
        expect(attempt).toMatchObject({ taken: false, alive: true });
        expect(summaryOf(dir)).toMatchObject({ ...killed, status: 'crashed', ...(lock ? { crashed_pid: lock.pid, crashed_host: hostname() } : {}) });
        // the killed run's lock (or none) is left as it was, without takeover files
        expect(readdirSync(dir).sort()).toEqual(withLock ? ['.lock', 'run_summary.json'] : ['run_summary.json']);
        if (withLock) expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(lockText);
      } finally {
        hook.onSummary.length = 0;
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
