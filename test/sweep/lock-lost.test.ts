// A `cinder sweep` whose `.sweep.lock` is taken over while it runs (a new `cinder sweep` judged it
// dead: stopped, or cut off from the shared file system, past its lease) stops: its engine is
// abandoned (no job starts, local runs are killed and their attempt folders removed, never
// installed), no result is recorded, neither sweep.json nor summary.json is written, and it exits
// 1 saying who holds the folder. Loss is simulated by replacing the lock with another owner's text
// while the sweep runs with a small lease (CINDER_LOCK_LEASE_MS=90: refreshed every 30 ms).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExampleSpec } from '../../src/cli/example.js';
import { Terminal } from '../../src/cli/progress.js';
import { attemptOwner } from '../../src/sweep/child.js';
import { LocalEngine, type EngineHooks, type EngineJob, type SweepEngine } from '../../src/sweep/engines.js';
import { runSweep, SweepLockLostError } from '../../src/sweep/sweep.js';
import { cinder, fakeBin, running, tempFolders, until } from './fixtures/procs.js';

const { tmp, cleanup } = tempFolders();
afterAll(cleanup);

const other = 'elsewhere.invalid 4242 2026-01-01T00:00:00.000Z,lease=90';

/** Replaces the sweep lock of `dir` by another coordinator's (a takeover: the old file goes, a new one comes). */
function takeOver(dir: string): void {
  rmSync(join(dir, '.sweep.lock'));
  writeFileSync(join(dir, '.sweep.lock'), other);
}

const spec: ExampleSpec = {
  name: 'toy', description: 'toy', options: [{ name: 'value', type: 'float', description: 'v', default: 1 }],
  presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: ['score'], figures: [],
  async run() {
    return {};
  },
};

/** Starts the first job, then waits (at most 3 s) until abandoned or stopped, then delivers its result. */
class StallEngine implements SweepEngine {
  abandoned: string | undefined;
  stopped = false;
  resultError: unknown;
  async run(jobs: readonly EngineJob[], hooks: EngineHooks): Promise<void> {
    hooks.onStart(jobs[0]!.name, 'toy');
    const end = Date.now() + 3000;
    while (this.abandoned === undefined && !this.stopped && Date.now() < end) await sleep(5);
    try {
      await hooks.onResult(jobs[0]!.name, { status: 'completed', exitCode: 0, summary: { score: 1 }, ms: 1 }, 'toy');
    } catch (e) {
      this.resultError = e;
    }
  }
  stop(): void {
    this.stopped = true;
  }
  abandon(reason: string): void {
    this.abandoned = reason;
  }
}

describe('a sweep whose folder lock is taken over', () => {
  beforeEach(() => void vi.stubEnv('CINDER_LOCK_LEASE_MS', '90'));
  afterEach(() => void vi.unstubAllEnvs());

  it('runSweep: the engine is abandoned, the late result is refused, nothing is written, it rejects with SweepLockLostError', async () => {
    const dir = tmp();
    const engine = new StallEngine();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const done = runSweep({
        spec, plan: { example: 'toy', mode: 'tiny', flags: {}, grid: [{ name: 'value', values: [1, 2] }], seeds: [0], pack: 1 },
        outDir: dir, engine: () => engine, terminal: new Terminal({ mode: 'quiet' }),
      });
      done.catch(() => {});
      await until('a running job in sweep.json', () => {
        try {
          return JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')).runs.some((r: { status: string }) => r.status === 'running');
        } catch {
          return false;
        }
      });
      takeOver(dir);
      const mine = '{"owner":"new"}';
      writeFileSync(join(dir, 'sweep.json'), mine);
      const err = await done.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SweepLockLostError);
      const message = `lost the lock of sweep folder ${dir} (${join(dir, '.sweep.lock')}): elsewhere.invalid pid 4242 holds it now; this cinder sweep stopped its engine (its running local jobs were killed and discarded) and writes nothing more into the folder`;
      expect((err as Error).message).toBe(message);
      expect(engine.abandoned).toBe(`stopped: ${message}`);
      expect(engine.resultError).toBe(err);
      expect(readFileSync(join(dir, 'sweep.json'), 'utf8')).toBe(mine);
      expect(existsSync(join(dir, 'summary.json'))).toBe(false);
      expect(readFileSync(join(dir, '.sweep.lock'), 'utf8')).toBe(other);
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });

  it('a local job that ends after the takeover, before any refresh noticed it, is not installed over the new owner\'s run folder', async () => {
    // a long lease: the refresh timer (every 20 s) plays no part; the check before the install finds the loss
    vi.stubEnv('CINDER_LOCK_LEASE_MS', '60000');
    const dir = tmp();
    const go = join(dir, '..', `${Date.now()}-go`);
    const script = join(dir, '..', `${Date.now()}-job.sh`);
    // a run stand-in: makes its folder, waits for the test, then leaves a completed run and exits 0
    writeFileSync(script, [
      'out=""; while [ $# -gt 0 ]; do if [ "$1" = "--out" ]; then out="$2"; fi; shift; done',
      'mkdir -p "$out"',
      `while [ ! -e '${go}' ]; do sleep 0.02; done`,
      'printf \'{"status":"completed","score":1}\' > "$out/run_summary.json"; exit 0',
      '',
    ].join('\n'));
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const done = runSweep({
        spec, plan: { example: 'toy', mode: 'tiny', flags: {}, grid: [{ name: 'value', values: [1] }], seeds: [0], pack: 1 },
        outDir: dir, engine: () => new LocalEngine(1, ['/bin/sh', script]), terminal: new Terminal({ mode: 'quiet' }),
      });
      done.catch(() => {});
      const runs = join(dir, 'runs');
      await until('the job\'s attempt folder', () => existsSync(runs) && readdirSync(runs).some((n) => n.startsWith('.attempt-')));
      const job = attemptOwner(readdirSync(runs).find((n) => n.startsWith('.attempt-'))!)!.job;
      takeOver(dir);
      const mine = '{"owner":"new"}';
      writeFileSync(join(dir, 'sweep.json'), mine);
      mkdirSync(join(runs, job));
      writeFileSync(join(runs, job, 'run_summary.json'), '{"status":"running","owner":"new"}');
      writeFileSync(go, '');
      const err = await done.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SweepLockLostError);
      expect(readdirSync(runs)).toEqual([job]); // the attempt was discarded, not installed
      expect(readFileSync(join(runs, job, 'run_summary.json'), 'utf8')).toBe('{"status":"running","owner":"new"}');
      expect(readFileSync(join(dir, 'sweep.json'), 'utf8')).toBe(mine);
      expect(existsSync(join(dir, 'summary.json'))).toBe(false);
      expect(readFileSync(join(dir, '.sweep.lock'), 'utf8')).toBe(other);
    } finally {
      warn.mockRestore();
      rmSync(go, { force: true });
      rmSync(script, { force: true });
    }
  });

  it('cinder sweep (local engine): its run processes are killed and discarded, it exits 1 with the message, the folder stays the new owner\'s', async () => {
    const base = tmp();
    const dir = join(base, 's');
    const counter = join(base, 'counter.txt');
    const args = ['sweep', 'sweep-fake', '--sleep-ms', '6000', '--grid', 'value=1,2', '--seeds', '1', '--workers', '2', '--out', dir];
    const p = cinder(fakeBin, args, { FAKE_SWEEP_COUNTER: counter, CINDER_LOCK_LEASE_MS: '90' });
    // both runs started (each appends a line when its example begins)
    await until('two running runs', () => existsSync(counter) && readFileSync(counter, 'utf8').trim().split('\n').length >= 2);
    const runs = join(dir, 'runs');
    const attempts = readdirSync(runs).filter((n) => n.startsWith('.attempt-'));
    expect(attempts).toHaveLength(2);
    const pids = attempts.map((a) => JSON.parse(readFileSync(join(runs, a, '.lock'), 'utf8')).pid as number);
    expect(pids.every(running)).toBe(true);
    takeOver(dir);
    await sleep(60);
    const mine = '{"owner":"new"}';
    writeFileSync(join(dir, 'sweep.json'), mine);
    const code = await p.exited;
    expect(code, p.out()).toBe(1);
    expect(p.out()).toContain(`cinder sweep stopped: lost the lock of sweep folder ${dir} (${join(dir, '.sweep.lock')}): elsewhere.invalid pid 4242 holds it now`);
    expect(pids.some(running)).toBe(false);
    // no attempt installed as a run folder, the attempt folders removed, nothing of the new owner's touched
    expect(readdirSync(runs)).toEqual([]);
    expect(readFileSync(join(dir, 'sweep.json'), 'utf8')).toBe(mine);
    expect(existsSync(join(dir, 'summary.json'))).toBe(false);
    expect(existsSync(join(dir, 'figures'))).toBe(false);
    expect(readFileSync(join(dir, '.sweep.lock'), 'utf8')).toBe(other);
  }, 60_000);
});
