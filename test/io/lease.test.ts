// Leases of lock files (src/io/lock.ts): a lock that declares a lease is dead once the reader has
// seen it unchanged for that long by its own clock (a fake clock here: no timing assertions); a
// refresh (its mtime changing) keeps it live; its holder's unref()ed timer refreshes it, notices a
// lost lock, stops at release and never keeps Node alive; a stopped (SIGSTOP) holder on this host
// loses its lock after the lease and, continued, finds out; a lock without a lease is read as before.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, futimesSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLockFile, DEFAULT_LEASE_MS, holdLock, lockLiveness, resolveLeaseMs, tryLock, type LockOwner } from '../../src/io/lock.js';
import { processStopped } from '../../src/io/process-alive.js';

const temp = (): string => mkdtempSync(join(tmpdir(), 'cinder-lease-'));
/** Lock texts of these tests: `host pid [lease]`. */
const ownerOf = (t: string): LockOwner | null => {
  const m = /^(\S+) (\d+)(?: (\d+))?$/.exec(t.trim());
  return m ? { host: m[1]!, pid: Number(m[2]), ...(m[3] ? { leaseMs: Number(m[3]) } : {}) } : null;
};
/** A refresh as a holder does it: a new mtime, the text unchanged. */
const touch = (path: string, sec: number): void => {
  const fd = openSync(path, 'r');
  futimesSync(fd, sec, sec);
  closeSync(fd);
};
const mtimeNs = (path: string): bigint => statSync(path, { bigint: true }).mtimeNs;
/** The takeover file of level `level` of lock text `text` (`<lock>.takeover-<16 hex of SHA-256>.<level>`, the module notes). */
const takeover = (path: string, text: string, level: number): string => `${path}.takeover-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.${level}`;
/** Waits (real time, at most `ms`) until `cond` holds. */
async function until(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

describe('lock leases', () => {
  it("another host's lease lock not refreshed for its lease is taken over; by the reader's own clock", () => {
    const dir = temp();
    const path = join(dir, '.l');
    const far = 'elsewhere.invalid 4242 1000';
    writeFileSync(path, far);
    touch(path, 4e9); // the other host's clock is far ahead: it does not matter
    let t = 0;
    const opts = { takeOverDead: true, unreadable: 'held', clock: () => t } as const;
    expect(tryLock(path, 'me', ownerOf, opts)).toEqual({ taken: false, text: far, owner: { host: 'elsewhere.invalid', pid: 4242, leaseMs: 1000 }, alive: true, leasePendingMs: 1000 });
    t = 999;
    expect(tryLock(path, 'me', ownerOf, opts)).toMatchObject({ taken: false, alive: true, leasePendingMs: 1 });
    t = 1000;
    expect(tryLock(path, 'me', ownerOf, { ...opts, takeOverDead: false })).toEqual({ taken: false, text: far, owner: ownerOf(far), alive: false });
    expect(tryLock(path, 'me', ownerOf, opts)).toEqual({ taken: true });
    expect(readFileSync(path, 'utf8')).toBe('me');
    rmSync(dir, { recursive: true, force: true });
  });

  it('a lease lock that keeps being refreshed is never taken over; one that stops is, a lease after its last refresh', () => {
    const dir = temp();
    const path = join(dir, '.l');
    const far = 'elsewhere.invalid 4242 1000';
    writeFileSync(path, far);
    let t = 0;
    const opts = { takeOverDead: true, unreadable: 'held', clock: () => t } as const;
    for (let i = 0; i < 10; i++) {
      t = i * 900; // refreshed every 900 ms of the reader's clock (never 1000 unchanged)
      touch(path, 1e9 + i);
      expect(tryLock(path, 'me', ownerOf, opts)).toMatchObject({ taken: false, alive: true });
    }
    // the last refresh was first seen at t = 8100: dead from 9100 on
    t = 9099;
    expect(tryLock(path, 'me', ownerOf, opts)).toMatchObject({ taken: false, alive: true, leasePendingMs: 1 });
    t = 9100;
    expect(tryLock(path, 'me', ownerOf, opts)).toEqual({ taken: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it("a lock without a lease (another host's: an older Cinder's) stays live however long it is unchanged", () => {
    const dir = temp();
    const path = join(dir, '.l');
    writeFileSync(path, 'elsewhere.invalid 4242');
    let t = 0;
    const opts = { takeOverDead: true, unreadable: 'held', clock: () => t } as const;
    expect(tryLock(path, 'me', ownerOf, opts)).toEqual({ taken: false, text: 'elsewhere.invalid 4242', owner: { host: 'elsewhere.invalid', pid: 4242 }, alive: true });
    t = 1e9;
    expect(tryLock(path, 'me', ownerOf, opts)).toEqual({ taken: false, text: 'elsewhere.invalid 4242', owner: { host: 'elsewhere.invalid', pid: 4242 }, alive: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it("a takeover file that another host's taker (or nobody readable) left half-way is passed by once seen unchanged for the lock's lease; a live local taker's is not", () => {
    const dir = temp();
    const path = join(dir, '.l');
    const far = 'elsewhere.invalid 4242 1000';
    writeFileSync(path, far);
    writeFileSync(takeover(path, far, 0), 'faraway.invalid 777'); // its taker died right after creating it
    let t = 0;
    const opts = { takeOverDead: true, unreadable: 'held', clock: () => t } as const;
    expect(tryLock(path, 'me', ownerOf, opts)).toMatchObject({ taken: false, alive: true, leasePendingMs: 1000 });
    t = 1000; // the lock is dead from now on; its takeover file is first seen now
    expect(tryLock(path, 'me', ownerOf, opts)).toMatchObject({ taken: false, text: far, alive: true });
    t = 1999;
    expect(tryLock(path, 'me', ownerOf, opts)).toMatchObject({ taken: false, text: far, alive: true });
    expect(readFileSync(path, 'utf8')).toBe(far);
    t = 2000; // seen unchanged for the lock's lease: abandoned, passed by to level 1
    expect(tryLock(path, 'me', ownerOf, opts)).toEqual({ taken: true });
    expect(readFileSync(path, 'utf8')).toBe('me');
    expect(readdirSync(dir)).toEqual(['.l']); // both takeover levels removed

    // a takeover file that names nobody (a file system without hard links: killed between create and write)
    writeFileSync(path, far);
    writeFileSync(takeover(path, far, 0), '');
    t = 10_000;
    expect(tryLock(path, 'me', ownerOf, opts)).toMatchObject({ taken: false, alive: true, leasePendingMs: 1000 });
    t = 11_000;
    expect(tryLock(path, 'me', ownerOf, opts)).toMatchObject({ taken: false, text: far, alive: true });
    t = 12_000;
    expect(tryLock(path, 'me', ownerOf, opts)).toEqual({ taken: true });
    expect(readdirSync(dir)).toEqual(['.l']);

    // a live taker of this host is checked by its pid: busy however long
    writeFileSync(path, far);
    writeFileSync(takeover(path, far, 0), `${hostname()} ${process.ppid}`);
    t = 20_000;
    tryLock(path, 'me', ownerOf, opts);
    t = 1e9;
    expect(tryLock(path, 'me', ownerOf, opts)).toMatchObject({ taken: false, text: far, alive: true });
    expect(readFileSync(path, 'utf8')).toBe(far);
    rmSync(dir, { recursive: true, force: true });
  });

  it("waitOutLease: a dead lease lock with another host's abandoned takeover file is taken over after both waits", () => {
    const dir = temp();
    const path = join(dir, '.l');
    const far = 'elsewhere.invalid 4242 60';
    writeFileSync(path, far);
    writeFileSync(takeover(path, far, 0), 'faraway.invalid 777');
    // a synchronous call: the lock watched for its lease (60 ms), then its takeover file as long
    expect(tryLock(path, 'me', ownerOf, { takeOverDead: true, unreadable: 'held', waitOutLease: true })).toEqual({ taken: true });
    expect(readFileSync(path, 'utf8')).toBe('me');
    expect(readdirSync(dir)).toEqual(['.l']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('waitOutLease: a taker watches a lock it has not seen before for up to its lease, then takes it', () => {
    const dir = temp();
    const path = join(dir, '.l');
    writeFileSync(path, 'elsewhere.invalid 4242 60');
    expect(tryLock(path, 'me', ownerOf, { takeOverDead: true, unreadable: 'held', waitOutLease: true })).toEqual({ taken: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it("a taker that waits out another lock's lease (blocking) keeps refreshing the leases this process holds", () => {
    // tryLock's waitOutLease blocks the event loop for up to the other lock's lease, so the
    // holdLock timers cannot fire meanwhile: this process's own lease locks must still be refreshed
    // (else another host sees them unchanged for their lease and takes them over from a live
    // process — e.g. a multi-seed run resuming a seed folder while it holds the parent's lock)
    const dir = temp();
    const mine = join(dir, '.mine');
    const text = `${hostname()} ${process.pid} 60`;
    expect(createLockFile(mine, text)).toBe(true);
    touch(mine, 1e9);
    const hold = holdLock(mine, text, 60); // refreshes every 20 ms
    const other = join(dir, '.other');
    writeFileSync(other, 'elsewhere.invalid 4242 300');
    // a synchronous call: at least 300 ms (the other lock must be seen unchanged that long)
    expect(tryLock(other, 'me', ownerOf, { takeOverDead: true, unreadable: 'held', waitOutLease: true })).toEqual({ taken: true });
    expect(mtimeNs(mine)).not.toBe(1_000_000_000_000_000_000n);
    expect(readFileSync(mine, 'utf8')).toBe(text);
    hold.release();
    expect(existsSync(mine)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it("the holder's timer refreshes the lock (mtime changes, text stays) and release stops it", async () => {
    const dir = temp();
    const path = join(dir, '.l');
    const text = 'elsewhere.invalid 4242 60';
    expect(createLockFile(path, text)).toBe(true);
    touch(path, 1e9);
    const hold = holdLock(path, text, 60); // refreshes every 20 ms
    expect(await until(() => mtimeNs(path) !== 1_000_000_000_000_000_000n)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(text);
    hold.release();
    expect(existsSync(path)).toBe(false);
    // the same text back at the same path: a timer still running would refresh it
    writeFileSync(path, text);
    touch(path, 1e9);
    await sleep(200); // 10 refresh intervals
    expect(mtimeNs(path)).toBe(1_000_000_000_000_000_000n);
    expect(hold.signal.aborted).toBe(false);
    // a refresh asked after the release (a guard still looking) neither touches a file nor reports a loss
    const warned: Error[] = [];
    const onWarning = (w: Error): void => void warned.push(w);
    process.on('warning', onWarning);
    try {
      rmSync(path);
      expect(hold.refresh()).toBe(true);
      await sleep(10); // (warnings are emitted on the next tick)
    } finally {
      process.off('warning', onWarning);
    }
    expect(hold.signal.aborted).toBe(false);
    expect(warned).toEqual([]);
    expect(existsSync(path)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a holder whose lock was taken over (or removed) finds out at its next refresh and never touches the new lock', async () => {
    const dir = temp();
    const path = join(dir, '.l');
    const text = 'elsewhere.invalid 4242 60';
    createLockFile(path, text);
    const lost: Error[] = [];
    const hold = holdLock(path, text, 60, (e) => lost.push(e));
    rmSync(path);
    createLockFile(path, 'other 1 60');
    touch(path, 1e9);
    expect(await until(() => hold.signal.aborted)).toBe(true);
    expect(lost.length).toBe(1);
    expect(lost[0]).toBe(hold.signal.reason);
    expect(lost[0]!.message).toBe(`lost lock ${path}: it was taken over (it now holds "other 1 60"); this process must stop writing what it guards`);
    await sleep(100);
    expect(readFileSync(path, 'utf8')).toBe('other 1 60');
    expect(mtimeNs(path)).toBe(1_000_000_000_000_000_000n);
    expect(hold.refresh()).toBe(false);
    hold.release(); // the new owner's lock stays
    expect(readFileSync(path, 'utf8')).toBe('other 1 60');

    rmSync(path);
    createLockFile(path, text);
    const hold2 = holdLock(path, text, 60, (e) => lost.push(e));
    rmSync(path);
    expect(await until(() => hold2.signal.aborted)).toBe(true);
    expect(lost[1]!.message).toBe(`lost lock ${path}: it was removed; this process must stop writing what it guards`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the refresh timer never keeps Node alive: a process that holds a lock and has nothing else to do exits', () => {
    const dir = temp();
    const path = join(dir, '.l');
    const script = join(import.meta.dirname, 'fixtures', 'lease-holder.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, path, '60000', 'exit'], { timeout: 30_000, encoding: 'utf8' });
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.status).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(`${hostname()} ${r.pid} 60000`);
    rmSync(dir, { recursive: true, force: true });
  }, 40_000);

  it('this host: a live running process keeps its lock however long unrefreshed; stopped (SIGSTOP), it loses it after the lease', async () => {
    if (process.platform !== 'linux') return; // stopped processes are seen in /proc
    const dir = temp();
    const path = join(dir, '.l');
    const kid = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const text = `${hostname()} ${kid.pid} 1000`;
      writeFileSync(path, text);
      let t = 0;
      const opts = { takeOverDead: true, unreadable: 'held', clock: () => t } as const;
      expect(tryLock(path, 'me', ownerOf, opts)).toEqual({ taken: false, text, owner: ownerOf(text), alive: true });
      t = 1e6;
      expect(tryLock(path, 'me', ownerOf, opts)).toEqual({ taken: false, text, owner: ownerOf(text), alive: true });
      expect(processStopped(kid.pid!)).toBe(false);
      kid.kill('SIGSTOP');
      expect(await until(() => processStopped(kid.pid!))).toBe(true);
      expect(tryLock(path, 'me', ownerOf, opts)).toMatchObject({ taken: false, alive: true, leasePendingMs: 1000 });
      t += 1000;
      expect(lockLiveness(path, text, ownerOf(text)!, () => t)).toEqual({ alive: false, leasePendingMs: 0 });
      expect(tryLock(path, 'me', ownerOf, opts)).toEqual({ taken: true });
    } finally {
      kid.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a stopped holder loses its lock to a taker after the lease, and once continued finds out', async () => {
    if (process.platform !== 'linux') return;
    const dir = temp();
    const path = join(dir, '.l');
    const script = join(import.meta.dirname, 'fixtures', 'lease-holder.ts');
    const kid: ChildProcess = fork(script, [path, '90'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    try {
      const messages: string[] = [];
      kid.on('message', (m) => messages.push(String(m)));
      expect(await until(() => messages.includes('held'), 20_000)).toBe(true);
      const text = readFileSync(path, 'utf8');
      expect(text).toBe(`${hostname()} ${kid.pid} 90`);
      kid.kill('SIGSTOP');
      expect(await until(() => processStopped(kid.pid!))).toBe(true);
      // a taker that watches it: no refresh for 90 ms of its own clock (real time here)
      expect(tryLock(path, 'me', ownerOf, { takeOverDead: true, unreadable: 'held', waitOutLease: true })).toEqual({ taken: true });
      kid.kill('SIGCONT');
      expect(await until(() => messages.length > 1, 20_000)).toBe(true);
      expect(messages[1]).toBe(`lost: lost lock ${path}: it was taken over (it now holds "me"); this process must stop writing what it guards`);
      expect(readFileSync(path, 'utf8')).toBe('me');
    } finally {
      kid.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('leases: option and CINDER_LOCK_LEASE_MS checked; 60 s by default', () => {
    expect(resolveLeaseMs(undefined, {})).toBe(DEFAULT_LEASE_MS);
    expect(DEFAULT_LEASE_MS).toBe(60_000);
    expect(resolveLeaseMs(undefined, { CINDER_LOCK_LEASE_MS: '5000' })).toBe(5000);
    expect(resolveLeaseMs(700, { CINDER_LOCK_LEASE_MS: '5000' })).toBe(700);
    expect(() => resolveLeaseMs(undefined, { CINDER_LOCK_LEASE_MS: '5s' })).toThrow('invalid CINDER_LOCK_LEASE_MS: got "5s", expected an integer number of ms from 30 to 86400000');
    expect(() => resolveLeaseMs(10)).toThrow('invalid leaseMs: got 10, expected an integer number of ms from 30 to 86400000');
    expect(() => resolveLeaseMs(Number.NaN)).toThrow('invalid leaseMs: got NaN');
    expect(() => holdLock('/nonexistent/.l', 'x', 1.5)).toThrow('invalid leaseMs: got 1.5');
    expect(() => tryLock('/nonexistent/.l', 'x', ownerOf, { takeOverDead: true, unreadable: 'held', wait: true } as never)).toThrow(/invalid options key/);
  });
});
