// A coordinator reads sweep.json only once it holds the sweep lock. It used to read the file first:
// a coordinator that finished between that read and the lock (its last sweep.json write, then its
// lock released) was followed by one working from the stale file, which ran the finished jobs again
// and overwrote their records. The interleaving is made exact by a hook on reading sweep.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const hook: { onSweepJson?: () => void } = {};
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((...args: Parameters<typeof fs.readFileSync>) => {
    const out = fs.readFileSync(...args);
    if (String(args[0]).endsWith('sweep.json') && hook.onSweepJson) {
      const h = hook.onSweepJson;
      hook.onSweepJson = undefined;
      h();
    }
    return out;
  }) as typeof fs.readFileSync;
  return { ...fs, default: { ...fs, readFileSync }, readFileSync };
});

const { Terminal } = await import('../../src/cli/progress.js');
const { runSweep, openSweep } = await import('../../src/sweep/sweep.js');
type Engine = import('../../src/sweep/engines.js').SweepEngine;
type Spec = import('../../src/cli/example.js').ExampleSpec;
type Plan = import('../../src/sweep/plan.js').SweepPlan;

const spec: Spec = {
  name: 'toy', description: 'toy', options: [{ name: 'value', type: 'float', description: 'v', default: 1 }],
  presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: ['score'], figures: [], async run() { return {}; },
};
const plan: Plan = { example: 'toy', mode: 'tiny', flags: {}, grid: [{ name: 'value', values: [1, 2] }], seeds: [0], pack: 1 };
const root = mkdtempSync(join(tmpdir(), 'cinder-sweep-open-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('runSweep reads sweep.json under the lock', () => {
  it('a coordinator that finishes while another starts: nothing is run twice, its records stay', async () => {
    const dir = join(root, 's');
    // the other coordinator's state mid-sweep: value=1 done, value=2 running; it holds the lock
    mkdirSync(dir);
    const file = openSweep(spec, plan, dir);
    file.runs[0]!.status = 'completed';
    file.runs[0]!.summary = { score: 10 };
    file.runs[0]!.attempts = 1;
    file.runs[1]!.status = 'running';
    file.runs[1]!.attempts = 1;
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(file));
    const lock = join(dir, '.sweep.lock');
    writeFileSync(lock, `${hostname()} ${process.ppid}`); // a live process
    // … which, right after this sweep.json is read, records value=2 and releases the lock
    const final = structuredClone(file);
    final.runs[1]!.status = 'completed';
    final.runs[1]!.summary = { score: 20 };
    hook.onSweepJson = () => {
      writeFileSync(join(dir, 'sweep.json'), JSON.stringify(final));
      rmSync(lock);
    };
    const seen: string[] = [];
    const engine: Engine = {
      async run(jobs, hooks) {
        for (const j of jobs) {
          seen.push(j.name);
          hooks.onStart(j.name, 'toy');
          await hooks.onResult(j.name, { status: 'completed', exitCode: 0, summary: { status: 'completed', score: -1 }, ms: 1 }, 'toy');
        }
      },
      stop() {},
    };
    let outcome: unknown;
    try {
      outcome = await runSweep({ spec, plan, outDir: dir, engine: () => engine, terminal: new Terminal({ mode: 'quiet' }) });
    } catch (e) {
      outcome = e;
    }
    // refused: the other coordinator still held the folder when this one started; no job runs again
    // and both records keep their scores (old code: value=2 ran again and was recorded with score -1)
    expect(seen).toEqual([]);
    const runs = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')).runs as { status: string; summary?: { score: number } }[];
    expect(runs.filter((r) => r.status === 'completed').map((r) => r.summary!.score)).not.toContain(-1);
    expect(outcome).toBeInstanceOf(Error);
    expect(String((outcome as Error).message)).toMatch(/no other cinder sweep is running on/);
  });
});
