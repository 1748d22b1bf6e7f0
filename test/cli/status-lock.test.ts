// `cinder status` of a run whose lease lock one look cannot judge (held by a process on another host,
// not yet watched by this one): it used to say `running (running as process …)` however long the lock
// had gone unrefreshed. Now it says `unconfirmed`, with the lock's lease and the age of its mtime by
// this host's clock (the `now` of runCli), and `--watch` watches the lock for up to its lease: crashed
// when it stays unchanged, running when its holder refreshes it.
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { inspectRunFolder } from '../../src/cli/run-lock.js';
import { createLockFile, holdLock } from '../../src/io/lock.js';

/** A lock of a run on another host, lease 90 ms, as that host's Cinder writes it. */
const far = { pid: 4242, host: 'elsewhere.invalid', started_at: '2026-01-01T00:00:00.000Z', lease_ms: 90 };

async function status(args: string[], nowMs?: number): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['status', ...args], {
    examples: [], out: { write: (s: string) => ((out += s), true) }, err: { write: (s: string) => ((err += s), true) },
    ...(nowMs !== undefined ? { now: () => new Date(nowMs) } : {}),
  });
  return { code, out, err };
}

/** A run folder whose summary says running and whose lock is `far`, with mtime `mtimeS` (s since 1970). */
function farRun(mtimeS: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'cinder-status-lock-'));
  writeFileSync(join(dir, 'run_summary.json'), JSON.stringify({ status: 'running', example: 'x' }));
  writeFileSync(join(dir, '.lock'), JSON.stringify(far));
  utimesSync(join(dir, '.lock'), mtimeS, mtimeS);
  return dir;
}

describe('cinder status of a lease lock one look cannot judge', () => {
  it('says unconfirmed, with the lease and the mtime age by this host\'s clock; the summary stays running', async () => {
    const mtimeS = 1_800_000_000;
    const dir = farRun(mtimeS);
    const r = await status([dir], mtimeS * 1000 + 3_600_000); // this host's clock: one hour after the last refresh
    expect(r).toEqual({
      code: 0, err: '',
      out: "unconfirmed (maybe running as process 4242 on elsewhere.invalid: its lock, lease 90 ms, last refreshed 3600 s ago by this host's clock, is judged by watching it for up to its lease; add --watch to wait for that)\n",
    });
    expect(JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8')).status).toBe('running');
    // a clock behind the holder's: the age is shown as such
    const dir2 = farRun(mtimeS);
    expect((await status([dir2], mtimeS * 1000 - 5000)).out).toMatch(/, last refreshed 5 s in the future by this host's clock, /);
    for (const d of [dir, dir2]) rmSync(d, { recursive: true, force: true });
  });

  it('inspectRunFolder: busy but with leasePendingMs (the lease, at a first look); watchLease judges it', () => {
    const dir = farRun(1_800_000_000);
    expect(inspectRunFolder(dir)).toEqual({ status: 'running', lock: far, busy: true, leasePendingMs: 90 });
    // watched (blocking, about 90 ms): not refreshed for its lease, so its run crashed
    expect(inspectRunFolder(dir, { watchLease: true })).toEqual({ status: 'crashed', lock: far, busy: false });
    expect(JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8'))).toMatchObject({ status: 'crashed', crashed_pid: 4242, crashed_host: 'elsewhere.invalid' });
    expect(() => inspectRunFolder(dir, { watch: true } as never)).toThrow(/invalid options key/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('--watch: crashed when the lock stays unchanged for its lease; running when its holder refreshes it', async () => {
    const dead = farRun(1_800_000_000);
    expect(await status(['--watch', dead])).toEqual({ code: 0, err: '', out: 'crashed (was process 4242 on elsewhere.invalid)\n' });
    expect(JSON.parse(readFileSync(join(dead, 'run_summary.json'), 'utf8')).status).toBe('crashed');

    // a holder that refreshes it every 30 ms (here: this process, under another host's name; the
    // watch blocks the event loop but refreshes the leases this process holds)
    const live = mkdtempSync(join(tmpdir(), 'cinder-status-lock-'));
    writeFileSync(join(live, 'run_summary.json'), JSON.stringify({ status: 'running', example: 'x' }));
    const text = JSON.stringify(far);
    expect(createLockFile(join(live, '.lock'), text)).toBe(true);
    const hold = holdLock(join(live, '.lock'), text, 90);
    try {
      expect(await status(['--watch', live])).toEqual({ code: 0, err: '', out: 'running (running as process 4242 on elsewhere.invalid)\n' });
    } finally {
      hold.release();
    }
    expect(JSON.parse(readFileSync(join(live, 'run_summary.json'), 'utf8')).status).toBe('running');
    for (const d of [dead, live]) rmSync(d, { recursive: true, force: true });
  });
});
