// Writes through the RunContext that outlive the run. Once a run has ended its folder's write
// guard is unregistered and its lock released: a figure or artifact the example started without
// awaiting it, landing afterwards, was written unchecked — into a folder another process may own
// by then — and one started after the end was written as well. Now the run's end waits for the
// writes still under way (they land under the lock, before the final summary), a write started
// after the end is refused ("the run has ended"), and one under way when the run is ended
// synchronously (a forced exit) is refused before its rename.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backendInfo } from '../../src/core/backend.js';
import type { ExampleSpec, RunContext } from '../../src/cli/example.js';
import { Terminal } from '../../src/cli/progress.js';
import { RunFolder } from '../../src/cli/run-folder.js';
import { startRun } from '../../src/cli/runner.js';
import type { NpzEntry } from '../../src/io/npy.js';
import { learningCurves } from '../../src/viz/curves.js';
import { readNpz } from './fixtures/npz-read.js';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-late-writes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

/** An npz entry `a` (float32 [3]: 1.5, -2, 0.25) whose data is produced only once `gate` resolves. */
function gatedEntry(gate: Promise<void>): Record<string, NpzEntry> {
  return { a: { dtype: 'float32', shape: [3], data: async () => (await gate, Float32Array.from([1.5, -2, 0.25])) } };
}

function spec(run: ExampleSpec['run']): ExampleSpec {
  return { name: 'late', description: 'late writes', options: [], presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: ['x'], figures: [], run };
}

function start(name: string, s: ExampleSpec) {
  const outDir = join(tmp, name);
  const run = startRun({
    spec: s, params: {}, mode: 'tiny', seed: 0, seeds: 1, outDir, backend: backendInfo()!, backendRequest: 'auto', quiet: true,
    signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
  });
  return { outDir, run };
}

describe('a write the example started and did not await', () => {
  it('lands before the run ends (under the lock, before the final summary), not after', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const { outDir, run } = start('unawaited', spec(async (ctx) => {
      void (ctx as RunFolder).artifactNpz('late', gatedEntry(gate)); // fired, not awaited (the runner's context is a RunFolder)
      return { x: 1 };
    }));
    let ended = false;
    const done = run.done.then((o) => ((ended = true), o));
    // the write's data comes once the run has ended (the old end did not wait for it), or else
    // after a while (the run's end waits for it): either way the gate opens
    const fallback = setTimeout(open, 2000);
    void done.then(open);
    await gate;
    clearTimeout(fallback);
    expect(ended, 'the run ended while its write was still under way').toBe(false);
    const outcome = await done;
    expect(outcome.status).toBe('completed');
    // at the run's end the archive is in place, whole
    const arrays = readNpz(readFileSync(join(outDir, 'artifacts', 'late.npz')));
    expect(Array.from(arrays.a!.data)).toEqual([1.5, -2, 0.25]);
    expect(arrays.a!.shape).toEqual([3]);
    expect(json(join(outDir, 'run_summary.json'))).toMatchObject({ status: 'completed', x: 1 });
    expect(existsSync(join(outDir, '.lock'))).toBe(false);
    expect(readdirSync(join(outDir, 'artifacts')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('a write through the context after the run ended', () => {
  it('is refused with "the run has ended" and writes nothing', async () => {
    let kept!: RunContext;
    const { outDir, run } = start('after-end', spec(async (ctx) => {
      kept = ctx;
      return { x: 2 };
    }));
    expect((await run.done).status).toBe('completed');
    const summary = readFileSync(join(outDir, 'run_summary.json'), 'utf8');
    const log = readFileSync(join(outDir, 'log.txt'), 'utf8');
    const ended = /the run has ended/;
    expect(() => kept.artifactJson('after', { v: 1 })).toThrow(ended);
    expect(() => kept.artifactNpy('after', Float32Array.from([1]), [1])).toThrow(ended);
    expect(() => (kept as RunFolder).artifactNpz('after', { a: { data: Float32Array.from([1]), shape: [1] } })).toThrow(ended);
    expect(() => kept.figure('after', learningCurves('after', [{ curves: [{ name: 'y', y: [1, 2] }] }]))).toThrow(ended);
    expect(() => kept.artifactPath('after.bin')).toThrow(ended);
    expect(() => kept.checkpointDir).toThrow(ended);
    expect(() => kept.log('after')).toThrow(ended);
    await new Promise((r) => setTimeout(r, 50)); // (an asynchronous write, had one started, would have landed)
    expect(readdirSync(join(outDir, 'artifacts'))).toEqual([]);
    expect(readdirSync(join(outDir, 'figures'))).toEqual([]);
    expect(readFileSync(join(outDir, 'run_summary.json'), 'utf8')).toBe(summary);
    expect(readFileSync(join(outDir, 'log.txt'), 'utf8')).toBe(log);
  });
});

describe('a write under way when the run is ended synchronously (forced exit)', () => {
  it('is refused before its rename: the folder is left as the last word wrote it', async () => {
    const outDir = join(tmp, 'forced');
    mkdirSync(outDir);
    const f = await RunFolder.create({
      outDir, example: 'late', params: {}, seed: 0, backend: backendInfo()!, quiet: true, signal: new AbortController().signal,
      terminal: new Terminal({ mode: 'quiet' }), paramsFile: { format: 'cinder-run/1' },
    });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const write = f.artifactNpz('late', gatedEntry(gate));
    expect(f.finishSync('interrupted')).toMatchObject({ status: 'interrupted' });
    open();
    await expect(write).rejects.toThrow(/artifact late\.npz in .* refused: the run has ended/);
    expect(readdirSync(join(outDir, 'artifacts'))).toEqual([]); // neither the archive nor its temporary file
    expect(json(join(outDir, 'run_summary.json'))).toMatchObject({ status: 'interrupted' });
  });
});
