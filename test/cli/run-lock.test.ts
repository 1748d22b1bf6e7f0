// The run-folder lock: two resumers taking over a crashed run's lock at the same moment never both
// get it (child processes released together, many times); a live owner's lock is never taken.
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { acquireLock, inspectRunFolder, readLock, releaseLock, runLockSignal, RunLockError } from '../../src/cli/run-lock.js';

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

  it("a damaged lock naming pid 0 or -1 of this host is a crashed run's (kill(0|-1, 0) succeeds: not a liveness check)", () => {
    for (const pid of [0, -1]) {
      const dir = mkdtempSync(join(tmpdir(), 'cinder-lock-'));
      const bad = { pid, host: hostname(), started_at: '2026-01-01T00:00:00.000Z' };
      writeFileSync(join(dir, '.lock'), JSON.stringify(bad));
      writeFileSync(join(dir, 'run_summary.json'), JSON.stringify({ status: 'running', example: 'x' }));
      expect(inspectRunFolder(dir)).toEqual({ status: 'crashed', lock: bad, busy: false });
      expect(acquireLock(dir, { takeOverCrashed: true }).pid).toBe(process.pid);
      releaseLock(dir);
      rmSync(dir, { recursive: true, force: true });
    }
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

  it('leases: the lock declares lease_ms and is refreshed while held; the refresh stops at release', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-lock-'));
    const path = join(dir, '.lock');
    const got = acquireLock(dir, { leaseMs: 60 });
    expect(got.lease_ms).toBe(60);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(got);
    utimesSync(path, 1e9, 1e9);
    const end = Date.now() + 2000;
    while (statSync(path).mtimeMs === 1e12 && Date.now() < end) await sleep(5);
    expect(statSync(path).mtimeMs).not.toBe(1e12);
    expect(runLockSignal(dir)!.aborted).toBe(false);
    releaseLock(dir);
    expect(existsSync(path)).toBe(false);
    expect(runLockSignal(dir)).toBeUndefined();
    expect(acquireLock(dir).lease_ms).toBe(60_000); // the default
    releaseLock(dir);
    expect(() => acquireLock(dir, { leaseMs: 5 })).toThrow('invalid leaseMs: got 5, expected an integer number of ms from 30 to 86400000');
    expect(() => acquireLock(dir, { lease: 100 } as never)).toThrow(/invalid options key/);
    expect(existsSync(path)).toBe(false); // refused before anything was written
    rmSync(dir, { recursive: true, force: true });
  });

  it("a run on another host whose lease lock is not refreshed: crashed after its lease (status, --resume); an older Cinder's lock stays busy", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-lock-'));
    const far = { pid: 4242, host: 'elsewhere.invalid', started_at: '2026-01-01T00:00:00.000Z', lease_ms: 100 };
    writeFileSync(join(dir, '.lock'), JSON.stringify(far));
    writeFileSync(join(dir, 'run_summary.json'), JSON.stringify({ status: 'running', example: 'x' }));
    // a first look cannot tell yet: busy, unconfirmed for its lease
    expect(inspectRunFolder(dir)).toEqual({ status: 'running', lock: far, busy: true, leasePendingMs: 100 });
    expect(() => acquireLock(dir)).toThrow(`${dir} is in use by process 4242 on elsewhere.invalid (since 2026-01-01T00:00:00.000Z); if that process is gone, --resume takes the folder over once its lock has gone 100 ms without a refresh`);
    await sleep(250); // no refresh for longer than its lease, by this process's clock
    expect(inspectRunFolder(dir)).toEqual({ status: 'crashed', lock: far, busy: false });
    expect(JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8'))).toMatchObject({ status: 'crashed', crashed_pid: 4242, crashed_host: 'elsewhere.invalid' });
    expect(acquireLock(dir, { takeOverCrashed: true }).pid).toBe(process.pid);
    releaseLock(dir);

    // a resumer that has never seen the lock watches it for its lease, then takes it over
    const dir2 = mkdtempSync(join(tmpdir(), 'cinder-lock-'));
    writeFileSync(join(dir2, '.lock'), JSON.stringify(far));
    expect(acquireLock(dir2, { takeOverCrashed: true }).pid).toBe(process.pid);
    releaseLock(dir2);

    // without lease_ms (an older Cinder's lock) another host's lock is live, however long
    const old = { pid: 4242, host: 'elsewhere.invalid', started_at: '2026-01-01T00:00:00.000Z' };
    writeFileSync(join(dir2, '.lock'), JSON.stringify(old));
    expect(readLock(dir2)).toEqual(old);
    await sleep(150);
    expect(inspectRunFolder(dir2).busy).toBe(true);
    expect(() => acquireLock(dir2, { takeOverCrashed: true })).toThrow(RunLockError);
    expect(readLock(dir2)).toEqual(old);
    for (const d of [dir, dir2]) rmSync(d, { recursive: true, force: true });
  });

  it("--resume of a run on another host whose own earlier resumer (another host's) died half-way through its takeover", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-lock-'));
    const far = JSON.stringify({ pid: 4242, host: 'elsewhere.invalid', started_at: '2026-01-01T00:00:00.000Z', lease_ms: 60 });
    writeFileSync(join(dir, '.lock'), far);
    const marker = `${join(dir, '.lock')}.takeover-${createHash('sha256').update(far).digest('hex').slice(0, 16)}.0`;
    writeFileSync(marker, 'faraway.invalid 777');
    // the lock is watched for its lease (60 ms), then the takeover file as long: passed by
    expect(acquireLock(dir, { takeOverCrashed: true }).pid).toBe(process.pid);
    expect(readdirSync(dir)).toEqual(['.lock']);
    releaseLock(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a holder whose run-folder lock was taken over: its signal aborts and a CINDER_LOCK_LOST warning is emitted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-lock-'));
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      acquireLock(dir, { leaseMs: 60 });
      const other = JSON.stringify({ pid: 4242, host: 'elsewhere.invalid', started_at: '2026-01-01T00:00:00.000Z', lease_ms: 60 });
      rmSync(join(dir, '.lock'));
      writeFileSync(join(dir, '.lock'), other);
      const signal = runLockSignal(dir)!;
      const end = Date.now() + 2000;
      while (!signal.aborted && Date.now() < end) await sleep(5);
      expect(signal.aborted).toBe(true);
      await sleep(10);
      expect(warnings.map((w) => (w as Error & { code?: string }).code)).toEqual(['CINDER_LOCK_LOST']);
      expect(warnings[0]!.message).toBe((signal.reason as Error).message);
      releaseLock(dir);
      expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(other); // the new owner's lock stays
    } finally {
      process.off('warning', onWarning);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('releaseLock leaves a lock that replaced this process\'s, even one naming this same host and pid', () => {
    const d = mkdtempSync(join(tmpdir(), 'cinder-lock-'));
    acquireLock(d, { leaseMs: 60_000 });
    // a new owner on another machine sharing the folder whose process has the same host name and pid
    // (containers), after a takeover
    const same = JSON.stringify({ pid: process.pid, host: hostname(), started_at: '2030-01-01T00:00:00.000Z', lease_ms: 60_000 });
    rmSync(join(d, '.lock'));
    writeFileSync(join(d, '.lock'), same);
    releaseLock(d);
    expect(readFileSync(join(d, '.lock'), 'utf8')).toBe(same);
    rmSync(d, { recursive: true, force: true });
  });
});
