// `cinder sweep status` of a sweep whose coordinator's lease lock one look cannot judge (held by a
// process on another host, not yet watched by this one): it used to count that lock as held and say
// `running N` however long the lock had gone unrefreshed, with no way to find out. Now it says the
// runs are unconfirmed, in the words of `cinder status` (the shared unconfirmedLockNote: holder, lease,
// the lock's mtime age by this host's clock, the `now` of the command), and `--watch` watches the
// lock for up to its lease: interrupted (no cinder sweep holds it) when it stays unchanged, running
// when its holder refreshes it.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepCli } from '../../src/sweep/cli.js';
import { sweepLockHeld, sweepLockState } from '../../src/sweep/sweep.js';
import { createLockFile, holdLock } from '../../src/io/lock.js';

/** A lock of a coordinator on another host, lease 90 ms, as that host's Cinder writes it. */
const far = 'elsewhere.invalid 4242 2026-01-01T00:00:00.000Z,lease=90';
const farOwner = { host: 'elsewhere.invalid', pid: 4242, leaseMs: 90 };
const mtimeS = 1_800_000_000;

/** A sweep folder of 3 runs (1 completed, 2 running), with `far` as its lock (mtime `mtimeS`) unless `lock` is false. */
function sweepFolder(lock = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'cinder-sweep-status-lock-'));
  const run = (job: string, status: string) => ({ job, name: job, seed: 0, point: {}, args: [], status, dir: `runs/${job}`, attempts: 1 });
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify({
    format: 'cinder-sweep/1', id: 'x', plan: { example: 'toy', mode: 'tiny', flags: {}, grid: [], seeds: [0], pack: 1 },
    runs: [run('a', 'completed'), run('b', 'running'), run('c', 'running')], created_at: '', updated_at: '',
  }));
  if (lock) {
    writeFileSync(join(dir, '.sweep.lock'), far);
    utimesSync(join(dir, '.sweep.lock'), mtimeS, mtimeS);
  }
  return dir;
}

async function status(args: string[], nowMs?: number): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await sweepCli(['sweep', 'status', ...args], {
    examples: [], env: {}, out: { write: (s: string) => ((out += s), true) }, err: { write: (s: string) => ((err += s), true) },
    ...(nowMs !== undefined ? { now: () => new Date(nowMs) } : {}),
  });
  return { code, out, err };
}

describe('cinder sweep status of a lease lock one look cannot judge', () => {
  it('says the running runs are unconfirmed, with the lease and the mtime age by this host\'s clock', async () => {
    const dir = sweepFolder();
    expect(await status([dir], mtimeS * 1000 + 3_600_000)).toEqual({
      code: 0, err: '',
      out: "toy: 3 runs — done 1, running 2 (unconfirmed), failed 0, waiting 0; its cinder sweep: maybe running as process 4242 on elsewhere.invalid: its lock, lease 90 ms, last refreshed 3600 s ago by this host's clock, is judged by watching it for up to its lease; add --watch to wait for that\n",
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('sweepLockState: held but with leasePendingMs (the lease, at a first look); watchLease judges it', () => {
    const dir = sweepFolder();
    expect(sweepLockState(dir)).toEqual({ held: true, owner: farOwner, leasePendingMs: 90 });
    expect(sweepLockHeld(dir)).toBe(true);
    // watched (blocking, about 90 ms): not refreshed for its lease, so its coordinator is gone
    expect(sweepLockState(dir, { watchLease: true })).toEqual({ held: false, owner: farOwner });
    expect(() => sweepLockState(dir, { watch: true } as never)).toThrow(/invalid options key/);
    const none = sweepFolder(false);
    expect(sweepLockState(none)).toEqual({ held: false, owner: null });
    writeFileSync(join(none, '.sweep.lock'), 'damaged');
    expect(sweepLockState(none)).toEqual({ held: false, owner: null });
    for (const d of [dir, none]) rmSync(d, { recursive: true, force: true });
  });

  it('--watch: interrupted when the lock stays unchanged for its lease; running when its holder refreshes it', async () => {
    const dead = sweepFolder();
    expect(await status(['--watch', dead])).toEqual({
      code: 0, err: '',
      out: 'toy: 3 runs — done 1, running 0, failed 0, waiting 2 (2 interrupted); no cinder sweep holds the folder (its process is gone): continue it with the same command\n',
    });

    // a holder that refreshes it every 30 ms (here: this process, under another host's name; the
    // watch blocks the event loop but refreshes the leases this process holds)
    const live = sweepFolder(false);
    expect(createLockFile(join(live, '.sweep.lock'), far)).toBe(true);
    const hold = holdLock(join(live, '.sweep.lock'), far, 90);
    try {
      expect(await status([live, '--watch'])).toEqual({ code: 0, err: '', out: 'toy: 3 runs — done 1, running 2, failed 0, waiting 0\n' });
    } finally {
      hold.release();
    }
    expect((await status(['--wait', live])).code).toBe(2);
    for (const d of [dead, live]) rmSync(d, { recursive: true, force: true });
  });
});
