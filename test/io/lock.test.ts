// Lock files (src/io/lock.ts): created by one process only, released only by their owner, and a
// dead owner's lock taken over by exactly one of any number of processes trying at the same moment
// (four child processes released together, 100 times), past takeovers killed half-way.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { processAlive } from '../../src/io/process-alive.js';
import { createLockFile, hostPidOwner, hostPidText, releaseLockFile, removeLockLeftovers, removeStaleLock, tryLock, waitForLock, whileLockUnchanged } from '../../src/io/lock.js';

const temp = (): string => mkdtempSync(join(tmpdir(), 'cinder-lockfile-'));
/** Pid of a process that has ended. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;
const takeover = (path: string, text: string, level: number): string => `${path}.takeover-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.${level}`;
const opts = { takeOverDead: true, unreadable: 'held' } as const;

describe('lock files', () => {
  it('one creation wins; the text is the owner; release removes only the own lock', () => {
    const dir = temp();
    const path = join(dir, '.l');
    expect(createLockFile(path, 'h 1')).toBe(true);
    expect(createLockFile(path, 'h 2')).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('h 1');
    expect(readdirSync(dir)).toEqual(['.l']); // the private file is gone
    releaseLockFile(path, 'h 2');
    expect(existsSync(path)).toBe(true);
    releaseLockFile(path, 'h 1');
    expect(existsSync(path)).toBe(false);
    expect(hostPidOwner(`${hostname()} 42\n`)).toEqual({ host: hostname(), pid: 42 });
    expect(hostPidOwner('h x')).toBeNull();
    // pids that name no one process: kill(0, 0) and kill(-1, 0) would succeed (own group, every process)
    for (const pid of [0, -1, -process.pid, 1.5, Number.NaN]) expect(processAlive(pid)).toBe(false);
    expect(processAlive(process.pid)).toBe(true);
  });

  it("a live owner's lock, another host's and an unreadable one are held; a dead owner's is taken over", () => {
    const dir = temp();
    const path = join(dir, '.l');
    const live = `${hostname()} ${process.ppid}`;
    writeFileSync(path, live);
    expect(tryLock(path, hostPidText(), hostPidOwner, opts)).toEqual({ taken: false, text: live, owner: { host: hostname(), pid: process.ppid }, alive: true });
    writeFileSync(path, `elsewhere.invalid ${deadPid()}`); // another host: cannot be checked
    expect(tryLock(path, hostPidText(), hostPidOwner, opts)).toMatchObject({ taken: false, alive: true });
    writeFileSync(path, 'garbage');
    expect(tryLock(path, hostPidText(), hostPidOwner, opts)).toMatchObject({ taken: false, owner: null, alive: true });
    expect(tryLock(path, hostPidText(), hostPidOwner, { ...opts, unreadable: 'dead' })).toEqual({ taken: true });
    const dead = `${hostname()} ${deadPid()}`;
    writeFileSync(path, dead);
    expect(tryLock(path, hostPidText(), hostPidOwner, { ...opts, takeOverDead: false })).toEqual({ taken: false, text: dead, owner: hostPidOwner(dead), alive: false });
    expect(tryLock(path, hostPidText(), hostPidOwner, opts)).toEqual({ taken: true });
    expect(readFileSync(path, 'utf8')).toBe(hostPidText());
    expect(readdirSync(dir)).toEqual(['.l']);
  });

  it('removeStaleLock: a takeover file of a killed taker is passed by, a live taker makes it wait, a changed lock stays', () => {
    const dir = temp();
    const path = join(dir, '.l');
    const dead = `${hostname()} ${deadPid()}`;
    writeFileSync(path, dead);
    writeFileSync(takeover(path, dead, 0), `${hostname()} ${process.ppid}`); // a live process is taking it over
    expect(removeStaleLock(path, dead)).toBe('busy');
    expect(readFileSync(path, 'utf8')).toBe(dead);
    writeFileSync(takeover(path, dead, 0), `${hostname()} ${deadPid()}`); // ... it was killed half-way
    expect(removeStaleLock(path, dead)).toBe('removed');
    expect(readdirSync(dir)).toEqual([]); // the lock and both levels of takeover files
    writeFileSync(path, hostPidText());
    expect(removeStaleLock(path, dead)).toBe('changed'); // read as dead, replaced since: not removed
    expect(readdirSync(dir)).toEqual(['.l']);
  });

  it('removeStaleLock: a taker whose takeover took half the lease or longer (by its clock) removes nothing and leaves its takeover file', () => {
    const dir = temp();
    const path = join(dir, '.l');
    const dead = `${hostname()} ${deadPid()}`;
    writeFileSync(path, dead);
    // the clock reads 0 as the taker begins and 500 (half the lease) when it would remove the lock:
    // another taker may have passed its takeover file by meanwhile (see the module notes)
    let calls = 0;
    const slow = (): number => (calls++ === 0 ? 0 : 500);
    expect(removeStaleLock(path, dead, { leaseMs: 1000, clock: slow })).toBe('busy');
    expect(readFileSync(path, 'utf8')).toBe(dead);
    expect(readFileSync(takeover(path, dead, 0), 'utf8')).toBe(hostPidText());
    // once its creator is gone, the next taker passes it by and removes the lock
    writeFileSync(takeover(path, dead, 0), `${hostname()} ${deadPid()}`);
    calls = 0;
    const quick = (): number => (calls++ === 0 ? 0 : 499);
    expect(removeStaleLock(path, dead, { leaseMs: 1000, clock: quick })).toBe('removed');
    expect(readdirSync(dir)).toEqual([]);
    expect(() => removeStaleLock(path, dead, { lease: 1000 } as never)).toThrow(/invalid options key/);
    expect(() => removeStaleLock(path, dead, { leaseMs: 10 })).toThrow('invalid leaseMs: got 10, expected an integer number of ms from 30 to 86400000');
    rmSync(dir, { recursive: true, force: true });
  });

  it('removeLockLeftovers removes private and takeover files of ended processes only', () => {
    const dir = temp();
    const path = join(dir, '.l');
    const gone = deadPid();
    const names = { deadNew: `.l.new-${gone}-${hostname()}`, liveNew: `.l.new-${process.ppid}-${hostname()}`, deadNewThread: `.l.new-${gone}.2-${hostname()}`, liveNewThread: `.l.new-${process.ppid}.1-${hostname()}`, farNew: `.l.new-${gone}-elsewhere.invalid`, deadTake: takeover(path, 'x', 0), liveTake: takeover(path, 'y', 1), other: '.lx' };
    for (const n of Object.values(names)) writeFileSync(n.startsWith(dir) ? n : join(dir, n), '');
    writeFileSync(names.deadTake, `${hostname()} ${gone}`);
    writeFileSync(names.liveTake, `${hostname()} ${process.ppid}`);
    removeLockLeftovers(path);
    expect(readdirSync(dir).sort()).toEqual([names.liveNew, names.liveNewThread, names.farNew, names.liveTake.slice(dir.length + 1), names.other].sort());
  });

  it("removeLockLeftovers removes takeover files of a lock text that is gone whoever created them; those of the lock's own text only when their creator ended", () => {
    const dir = temp();
    const path = join(dir, '.l');
    const mine = hostPidText();
    expect(createLockFile(path, mine)).toBe(true);
    const gone = deadPid();
    const files = {
      farOfGone: [takeover(path, 'elsewhere.invalid 4242 2026-01-01T00:00:00.000Z,lease=60000', 0), 'elsewhere.invalid 777'],
      farOfGone2: [takeover(path, 'elsewhere.invalid 4242 2026-01-01T00:00:00.000Z,lease=60000', 1), 'elsewhere.invalid 778'],
      unreadableOfGone: [takeover(path, 'x', 0), ''],
      liveOfGone: [takeover(path, 'y', 0), `${hostname()} ${process.ppid}`],
      farOfMine: [takeover(path, mine, 0), 'elsewhere.invalid 779'],
      liveOfMine: [takeover(path, mine, 1), `${hostname()} ${process.ppid}`],
      deadOfMine: [takeover(path, mine, 2), `${hostname()} ${gone}`],
    };
    for (const [f, text] of Object.values(files)) writeFileSync(f!, text!);
    removeLockLeftovers(path);
    expect(readdirSync(dir).sort()).toEqual(['.l', files.farOfMine[0]!, files.liveOfMine[0]!].map((f) => f.slice(f.lastIndexOf('/') + 1)).sort());
    expect(readFileSync(path, 'utf8')).toBe(mine);
    rmSync(dir, { recursive: true, force: true });
  });

  it('whileLockUnchanged runs its action only while the lock is as seen, and checks its options first', () => {
    const dir = temp();
    const path = join(dir, '.l');
    const dead = `${hostname()} ${deadPid()}`;
    let runs = 0;
    const act = () => ++runs;
    // no lock: created with the content for the action, removed after
    expect(whileLockUnchanged(path, null, hostPidText(), () => (act(), readFileSync(path, 'utf8')))).toEqual({ done: true, value: hostPidText() });
    expect(readdirSync(dir)).toEqual([]);
    // a lock is there now, or another text than seen: not run
    writeFileSync(path, dead);
    expect(whileLockUnchanged(path, null, hostPidText(), act)).toEqual({ done: false, why: 'changed' });
    expect(whileLockUnchanged(path, 'other', hostPidText(), act)).toEqual({ done: false, why: 'changed' });
    // as seen: run under its takeover file, the lock left as it was, the takeover file removed after
    expect(whileLockUnchanged(path, dead, hostPidText(), () => (act(), readdirSync(dir).length))).toEqual({ done: true, value: 2 });
    expect(readdirSync(dir)).toEqual(['.l']);
    // another live taker holds its takeover: busy
    writeFileSync(takeover(path, dead, 0), `${hostname()} ${process.ppid}`);
    expect(whileLockUnchanged(path, dead, hostPidText(), act)).toEqual({ done: false, why: 'busy' });
    expect(runs).toBe(2);
    expect(() => whileLockUnchanged(path, dead, '', act, { lease: 1 } as never)).toThrow(/invalid options key/);
    expect(() => whileLockUnchanged(path, dead, '', act, { leaseMs: 10 })).toThrow('invalid leaseMs: got 10, expected an integer number of ms from 30 to 86400000');
    expect(runs).toBe(2);
    rmSync(dir, { recursive: true, force: true });
  });

  it('waitForLock times its wait by the monotonic clock: a wall-clock jump does not end it', async () => {
    // a live process's lock (this process's parent) that goes away at the third look; the wall
    // clock jumps an hour ahead after the first look. The old wait (timed by Date.now) gave up
    // after one look; a 10 s wait by the monotonic clock polls on and takes the lock
    const dir = temp();
    const path = join(dir, '.l');
    writeFileSync(path, `${hostname()} ${process.ppid}`);
    let looks = 0;
    const ownerOf = (text: string) => {
      looks++;
      if (looks === 3) rmSync(path);
      return hostPidOwner(text);
    };
    const realNow = Date.now.bind(Date);
    let calls = 0;
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + (calls++ > 0 ? 3_600_000 : 0));
    try {
      const got = await waitForLock(path, hostPidText(), ownerOf, { timeoutMs: 10_000, pollMs: 5, unreadable: 'held' });
      expect(got).toEqual({ taken: true });
      expect(looks).toBe(3);
      expect(readFileSync(path, 'utf8')).toBe(hostPidText());
    } finally {
      spy.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('four processes taking over one dead lock at the same moment: exactly one gets it, 100 times', async () => {
    const root = temp();
    const script = join(import.meta.dirname, 'fixtures', 'lock-race.ts');
    const kids: ChildProcess[] = [0, 1, 2, 3].map(() => fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
    try {
      await Promise.all(kids.map((k) => new Promise((r) => k.once('message', r))));
      const dead = `${hostname()} ${deadPid()}`;
      const outcomes: Record<string, number> = {};
      for (let i = 0; i < 100; i++) {
        const path = join(root, `l${i}`);
        writeFileSync(path, dead);
        const at = Date.now() + 25;
        const res = await Promise.all(kids.map((k) => new Promise<string>((r) => { k.once('message', (m) => r(String(m))); k.send({ path, at }); })));
        const key = [...res].sort().join('+');
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        const winner = res.indexOf('got');
        if (winner >= 0) expect(readFileSync(path, 'utf8')).toBe(`${hostname()} ${kids[winner]!.pid}`);
      }
      expect(outcomes).toEqual({ 'got+refused+refused+refused': 100 });
      expect(readdirSync(root).filter((n) => n.includes('.'))).toEqual([]); // no takeover or private file left
    } finally {
      kids.forEach((k) => k.kill());
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
