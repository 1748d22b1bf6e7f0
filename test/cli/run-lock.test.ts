// The run-folder lock: two resumers taking over a crashed run's lock at the same moment never both
// get it (child processes released together, many times); a live owner's lock is never taken.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, readLock, releaseLock, RunLockError } from '../../src/cli/run-lock.js';

const deadLock = (): string => JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), started_at: '2026-01-01T00:00:00.000Z' });

describe('run-folder lock', () => {
  it('a crashed run is taken over once; a live lock is refused as busy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-lock-'));
    writeFileSync(join(dir, '.lock'), deadLock());
    expect(() => acquireLock(dir)).toThrow(RunLockError);
    const got = acquireLock(dir, { takeOverCrashed: true });
    expect(readLock(dir)).toEqual(got);
    expect(got.pid).toBe(process.pid);
    releaseLock(dir);
    expect(readLock(dir)).toBeNull();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two resumers released at the same moment: exactly one gets the lock, 200 times', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cinder-lock-race-'));
    const script = join(import.meta.dirname, 'fixtures', 'lock-taker.ts');
    const kids: ChildProcess[] = [0, 1].map(() => fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
    try {
      await Promise.all(kids.map((k) => new Promise((r) => k.once('message', r))));
      const outcomes: Record<string, number> = {};
      for (let i = 0; i < 200; i++) {
        const dir = join(root, `r${i}`);
        mkdirSync(dir);
        writeFileSync(join(dir, '.lock'), deadLock());
        const at = Date.now() + 25;
        const res = await Promise.all(kids.map((k) => new Promise<string>((r) => { k.once('message', (m) => r(String(m))); k.send({ dir, at }); })));
        const key = [...res].sort().join('+');
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        // the lock on disk is the winner's
        if (key === 'got+refused') expect(readLock(dir)!.pid).toBe(kids[res.indexOf('got')]!.pid);
      }
      expect(outcomes).toEqual({ 'got+refused': 200 });
    } finally {
      kids.forEach((k) => k.kill());
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
