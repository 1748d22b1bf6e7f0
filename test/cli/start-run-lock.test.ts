// startRun (the library API) takes the run folder's lock itself: a concurrent `cinder status`
// (inspectRunFolder) used to rewrite a live run's summary to `crashed` because no lock was there.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backendInfo } from '../../src/core/backend.js';
import type { ExampleSpec } from '../../src/cli/example.js';
import { Terminal } from '../../src/cli/progress.js';
import { acquireLock, inspectRunFolder, readLock, releaseLock, RunLockError } from '../../src/cli/run-lock.js';
import { startRun } from '../../src/cli/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-startrun-lock-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An example whose run waits until `open()` is called, then returns { x: 1 }. */
function gated(): { spec: ExampleSpec; open: () => void; started: Promise<void> } {
  let open!: () => void;
  let markStarted!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const started = new Promise<void>((r) => (markStarted = r));
  const spec: ExampleSpec = {
    name: 'gated', description: 'waits for the test', options: [], presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: ['x'], figures: [],
    async run() {
      markStarted();
      await gate;
      return { x: 1 };
    },
  };
  return { spec, open, started };
}

const start = (spec: ExampleSpec, outDir: string, seeds = 1, resume = false) => startRun({
  spec, params: {}, mode: 'tiny', seed: 0, seeds, outDir, backend: backendInfo()!, backendRequest: 'auto', quiet: true,
  signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }), resume,
});

describe('startRun holds the run folder lock while it runs', () => {
  for (const seeds of [1, 3]) {
    it(`${seeds} seed(s): status of a live run stays running; a second run into the folder is refused; the lock goes at the end`, async () => {
      const out = join(tmp, `live-${seeds}`);
      const g = gated();
      const run = start(g.spec, out, seeds);
      await g.started;
      // what `cinder status DIR` does: a running summary without a live lock became `crashed`
      const top = inspectRunFolder(out);
      expect(top.status).toBe('running');
      expect(top.busy).toBe(true);
      expect(readLock(out)).toMatchObject({ pid: process.pid, host: hostname() });
      expect(JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8')).status).toBe('running');
      // another run into the same folder (another process's would hold its own lock) is refused:
      // here a lock of a live process that is not this one (pid 1) stands for it
      const other = join(tmp, `other-${seeds}`);
      mkdirSync(other);
      writeFileSync(join(other, '.lock'), JSON.stringify({ pid: 1, host: hostname(), started_at: '2026-01-01T00:00:00.000Z' }));
      const refused = await start(gated().spec, other, seeds).done;
      expect(refused.status).toBe('failed');
      expect(refused.error).toBeInstanceOf(RunLockError);
      expect((refused.error as RunLockError).reason).toBe('busy');
      expect(readdirSync(other)).toEqual(['.lock']); // nothing written
      g.open();
      const r = await run.done;
      expect(r.status).toBe('completed');
      expect(readLock(out)).toBeNull();
      expect(existsSync(join(out, '.lock'))).toBe(false);
      expect(inspectRunFolder(out).status).toBe('completed');
    });
  }

  it('a lock this process holds (the CLI takes it first) is used as is and left to its holder', async () => {
    const out = join(tmp, 'cli');
    mkdirSync(out);
    const lock = acquireLock(out);
    const g = gated();
    const run = start(g.spec, out);
    await g.started;
    g.open();
    expect((await run.done).status).toBe('completed');
    expect(readLock(out)).toEqual(lock);
    releaseLock(out);
  });

  it('a crashed run\'s lock: refused without resume, taken over with it', async () => {
    const out = join(tmp, 'crashed');
    mkdirSync(out);
    const dead = { pid: 2 ** 22 + 12345, host: hostname(), started_at: '2026-01-01T00:00:00.000Z' };
    writeFileSync(join(out, '.lock'), JSON.stringify(dead));
    const g = gated();
    g.open();
    const refused = await start(g.spec, out).done;
    expect(refused.status).toBe('failed');
    expect((refused.error as RunLockError).reason).toBe('crashed');
    expect(readLock(out)).toEqual(dead);
    const resumed = await start(g.spec, out, 1, true).done;
    expect(resumed.status).toBe('completed');
    expect(readLock(out)).toBeNull();
  });
});
