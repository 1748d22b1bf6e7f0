// LocalEngine when the sweep fails under it: a hook that throws (onResult could not write
// sweep.json) used to reject the pool at once while the other lanes' run processes (detached, each
// its own process group) went on running, and those lanes went on starting jobs. Now the running
// jobs are given up (process group killed, attempt folder removed, result `interrupted`), no job
// starts after the failure, and run() rejects with the hook's error once every process has ended.
// Real processes: sh stand-ins for the run (`slow` starts a grandchild `sleep` and waits for it).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobResult } from '../../src/sweep/child.js';
import { LocalEngine } from '../../src/sweep/engines.js';
import { running, until } from './fixtures/procs.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-local-engine-'));
const leftovers: number[] = [];
afterAll(() => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL'); // only on a failure of this test: processes it started
    } catch {
      // gone
    }
  }
  rmSync(root, { recursive: true, force: true });
});

describe('LocalEngine: a hook that throws', () => {
  it('kills the other lanes\' process groups, starts no further job, and rejects once they have ended', async () => {
    const started = join(root, 'started.txt');
    const pids = join(root, 'slow.pids');
    const script = join(root, 'run.sh');
    writeFileSync(script, [
      'kind="$1"; out=""; while [ $# -gt 0 ]; do if [ "$1" = "--out" ]; then out="$2"; fi; shift; done',
      `echo "$kind" >> '${started}'`,
      'mkdir -p "$out"',
      `if [ "$kind" = slow ]; then sleep 60 & echo "$$ $!" > '${pids}'; wait; exit 0; fi`,
      'printf \'{"status":"completed"}\' > "$out/run_summary.json"; exit 0',
      '',
    ].join('\n'));
    const runs = join(root, 'runs');
    const jobs = ['slow', 'quick', 'later1', 'later2'].map((name, i) => ({ name, args: [i === 0 ? 'slow' : 'quick'], outDir: join(runs, name) }));
    const results: [string, JobResult][] = [];
    let rejectedWhile: boolean[] = [];
    const engine = new LocalEngine(2, ['/bin/sh', script]);
    const outcome = engine.run(jobs, {
      onStart: () => {},
      async onResult(name, result) {
        results.push([name, result]);
        if (name !== 'quick') return;
        // the other lane's run is under way (its grandchild sleeping) when the hook fails
        await until('the slow run', () => existsSync(pids) && readFileSync(pids, 'utf8').endsWith('\n'), 20_000);
        leftovers.push(...readFileSync(pids, 'utf8').trim().split(' ').map(Number));
        throw new Error('could not write sweep.json (EISDIR)');
      },
    }).then(
      () => 'resolved',
      (e: Error) => {
        rejectedWhile = leftovers.map(running);
        return e.message;
      },
    );
    expect(await outcome).toBe('could not write sweep.json (EISDIR)');
    // the run process and its grandchild had ended before run() rejected
    expect(leftovers.length).toBe(2);
    expect(rejectedWhile).toEqual([false, false]);
    // no job started after the failure; the given-up job was reported interrupted, its attempt removed
    expect(readFileSync(started, 'utf8').trim().split('\n').sort()).toEqual(['quick', 'slow']);
    expect(results.map(([n, r]) => `${n} ${r.status}`)).toEqual(['quick completed', 'slow interrupted']);
    expect(results[1]![1].error).toBe('stopped: the sweep failed (could not write sweep.json (EISDIR))');
    expect(readdirSync(runs)).toEqual(['quick']);
  }, 60_000);
});
