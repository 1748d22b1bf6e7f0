// Sweep-folder locks with leases (lockSweep, sweepLockHeld; src/io/lock.ts): the lock declares its
// lease glued to the start time (an older Cinder still reads the owner), is refreshed while held,
// and a lock of another host that is not refreshed for its lease counts as gone — for
// `cinder sweep status` (sweepLockHeld) once this process has watched it that long, and for a new
// `cinder sweep`, which watches it for up to its lease and takes it over. An older Cinder's lock
// (no lease) of another host stays held.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { lockSweep, sweepLockHeld } from '../../src/sweep/sweep.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'cinder-sweep-lease-'));

describe('sweep lock leases', () => {
  it('the lock names host, pid, start time and lease, readable by the older three-field reader; refreshed until released', async () => {
    const dir = tmp();
    const path = join(dir, '.sweep.lock');
    const release = lockSweep(dir, { leaseMs: 60 });
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(new RegExp(`^${hostname()} ${process.pid} \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z,lease=60$`));
    // the reader of Cinder before leases: host, pid and one more field
    expect(/^(\S+) (\d+)(?: \S+)?\s*$/.exec(text)?.slice(1, 3)).toEqual([hostname(), String(process.pid)]);
    utimesSync(path, 1e9, 1e9);
    const end = Date.now() + 2000;
    while (statSync(path).mtimeMs === 1e12 && Date.now() < end) await sleep(5);
    expect(statSync(path).mtimeMs).not.toBe(1e12);
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(release.signal.aborted).toBe(false);
    release();
    expect(existsSync(path)).toBe(false);
    expect(() => lockSweep(dir, { leaseMs: 1 })).toThrow('invalid leaseMs: got 1, expected an integer number of ms from 30 to 86400000');
    expect(() => lockSweep(dir, { lease: 60 } as never)).toThrow(/invalid options key/);
    expect(existsSync(path)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it("another host's lease lock not refreshed: held at first sight, gone after its lease; a new sweep takes it over", async () => {
    const dir = tmp();
    const path = join(dir, '.sweep.lock');
    writeFileSync(path, 'elsewhere.invalid 4242 2026-01-01T00:00:00.000Z,lease=100');
    expect(sweepLockHeld(dir)).toBe(true);
    await sleep(250);
    expect(sweepLockHeld(dir)).toBe(false);
    // a sweep that has never seen it watches it for its lease, then coordinates
    const dir2 = tmp();
    writeFileSync(join(dir2, '.sweep.lock'), 'elsewhere.invalid 4242 2026-01-01T00:00:00.000Z,lease=100');
    const release = lockSweep(dir2);
    expect(readFileSync(join(dir2, '.sweep.lock'), 'utf8')).toMatch(new RegExp(`^${hostname()} ${process.pid} .*,lease=60000$`));
    release();
    for (const d of [dir, dir2]) rmSync(d, { recursive: true, force: true });
  });

  it("another host's lock without a lease (an older Cinder's) stays held", async () => {
    const dir = tmp();
    const old = 'elsewhere.invalid 4242 2026-01-01T00:00:00.000Z';
    writeFileSync(join(dir, '.sweep.lock'), old);
    expect(sweepLockHeld(dir)).toBe(true);
    await sleep(150);
    expect(sweepLockHeld(dir)).toBe(true);
    expect(() => lockSweep(dir)).toThrow(`invalid --out: got ${JSON.stringify(dir)}, expected a sweep folder no other cinder sweep is running on (elsewhere.invalid pid 4242 holds ${join(dir, '.sweep.lock')})`);
    expect(readFileSync(join(dir, '.sweep.lock'), 'utf8')).toBe(old);
    rmSync(dir, { recursive: true, force: true });
  });
});
