// A run whose folder's files fail to be created (an I/O error: disk full) writes the failure into
// the folder — its log and a `failed` run_summary.json — only while the folder is still its own. The
// runner used to write them without looking at the lock again: a takeover not yet noticed (the lock
// is refreshed every lease/3; a --resume on another host took it while this process was stopped,
// say) had the new owner's summary overwritten with this run's failure. Here the takeover happens
// right before the write of params.json fails (a mock of writeJsonAtomic).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const hook = vi.hoisted(() => ({ onParams: null as null | ((path: string) => void) }));
vi.mock('../../src/io/atomic.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/io/atomic.js')>();
  return {
    ...m,
    writeJsonAtomic: async (path: string, value: unknown, o?: Parameters<typeof m.writeJsonAtomic>[2]) => {
      if (path.endsWith('params.json') && hook.onParams) {
        const f = hook.onParams;
        hook.onParams = null;
        f(path);
      }
      return m.writeJsonAtomic(path, value, o);
    },
  };
});

const { backendInfo } = await import('../../src/core/backend.js');
const { Terminal } = await import('../../src/cli/progress.js');
const { startRun } = await import('../../src/cli/runner.js');
const { RunLockLostError } = await import('../../src/cli/run-lock.js');

const tmp = mkdtempSync(join(tmpdir(), 'cinder-seed-failed-lock-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("a run whose folder's files cannot be created after its lock was taken over", () => {
  it("writes nothing: the new owner's summary stays, the outcome is failed with the RunLockLostError", async () => {
    const outDir = join(tmp, 'run');
    const newOwner = { status: 'running', example: 'trivial', seed: 0, resumed: 1, owner: 'the resume' };
    const theirLock = { pid: 4242, host: 'elsewhere.invalid', started_at: '2026-01-01T00:00:00.000Z', lease_ms: 90 };
    hook.onParams = () => {
      // a --resume on another host takes the folder and writes its summary; then this write fails
      writeFileSync(join(outDir, '.lock'), `${JSON.stringify(theirLock)}\n`);
      writeFileSync(join(outDir, 'run_summary.json'), JSON.stringify(newOwner));
      throw new Error('ENOSPC: no space left on device (test)');
    };
    mkdirSync(outDir);
    const outcome = await startRun({
      spec: { name: 'trivial', description: 't', options: [], presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: [], figures: [], run: async () => ({}) },
      params: {}, mode: 'tiny', seed: 0, seeds: 1, outDir, backend: backendInfo()!, backendRequest: 'auto', quiet: true,
      signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
    }).done;
    expect(hook.onParams).toBeNull(); // (the takeover ran)
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBeInstanceOf(RunLockLostError);
    expect(JSON.parse(readFileSync(join(outDir, 'run_summary.json'), 'utf8'))).toEqual(newOwner);
    expect(existsSync(join(outDir, 'log.txt')) ? readFileSync(join(outDir, 'log.txt'), 'utf8') : '').not.toContain('ENOSPC');
    expect(JSON.parse(readFileSync(join(outDir, '.lock'), 'utf8'))).toEqual(theirLock);
  });
});
