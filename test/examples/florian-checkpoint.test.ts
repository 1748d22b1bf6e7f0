// `cinder florian`: a checkpoint holds the network and the steps done, not the recorded series (9
// values per step): those go to the append-only checkpoint/series.npy, one append per chunk of 25
// steps. The file holds exactly the run's series (trajectories.json and the spike trains), and rows
// beyond the length a checkpoint records (a run killed between the append and the checkpoint) are
// cut off on resume.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { backendInfo } from '../../src/core/backend.js';
import { Terminal } from '../../src/cli/progress.js';
import { RunFolder } from '../../src/cli/run-folder.js';
import { startRun } from '../../src/cli/runner.js';
import { buildFlorian, florianExample } from '../../examples/florian/index.js';
import { readNpy } from '../../src/io/npy.js';
import { NpyAppendWriter } from '../../src/io/npy-append.js';
import { expectSameFiles } from '../helpers/files.js';
import { interruptAtCheckpoint, runSummary, startCinder } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-florian-checkpoint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const args = ['florian', '--steps', '200'];
const COLUMNS = ['stdp', 'mstdp', 'mstdpet', 'trace_pre', 'trace_post', 'eligibility', 'reward', 'pre', 'post'];

it('the checkpoint does not rewrite the series: they are appended to checkpoint/series.npy, equal to the artifact', async () => {
  const out = join(tmp, 'full');
  const a = startCinder([...args, '--out', out], { CINDER_BACKEND: 'cpu' });
  expect(await a.exited, a.err()).toBe(0);
  const model = JSON.parse(readFileSync(join(out, 'checkpoint', 'model.json'), 'utf8')) as { metadata: Record<string, unknown> };
  expect(model.metadata.t).toBe(200);
  expect(model.metadata.series).toBeUndefined();
  expect(model.metadata.seriesSaved).toBe(201);
  const traj = JSON.parse(readFileSync(join(out, 'artifacts', 'trajectories.json'), 'utf8')) as Record<string, number[]>;
  const s = readNpy(join(out, 'checkpoint', 'series.npy'));
  expect(s.shape).toEqual([201, 9]);
  const col = (c: number) => Array.from({ length: 201 }, (_, r) => s.data[r * 9 + c]!);
  COLUMNS.forEach((k, c) => {
    if (k === 'pre' || k === 'post') return;
    expect(col(c), k).toEqual(traj[k]);
  });
  // the spike trains of the demo (1-based ms), independent of the code
  const ones = (c: number) => col(c).flatMap((v, t) => (v === 1 ? [t] : []));
  expect(ones(7)).toEqual([10, 85, 115, 135]);
  expect(ones(8)).toEqual([15, 75, 110, 140]);
}, 120_000);

it('resume cuts off series rows appended after the last checkpoint (a run killed in between): artifacts as uninterrupted', async () => {
  const full = join(tmp, 'full'); // written by the test above
  const part = join(tmp, 'part');
  const b = startCinder([...args, '--out', part], { CINDER_BACKEND: 'cpu', CINDER_TEST_HOLD_AT_CHECKPOINT: '3' });
  expect(await interruptAtCheckpoint(b, part, 3), b.err()).toBe(130);
  // rows a killed run could have appended before writing its next checkpoint
  const w = NpyAppendWriter.reopen(join(part, 'checkpoint', 'series.npy'), { dtype: 'float32', rowShape: [9] });
  const rows = w.rows;
  w.append(new Float32Array(27).fill(7));
  w.close();
  const model = JSON.parse(readFileSync(join(part, 'checkpoint', 'model.json'), 'utf8')) as { metadata: { t: number; seriesSaved: number } };
  expect(model.metadata.seriesSaved).toBe(rows);
  expect(model.metadata.t + 1).toBe(rows);
  const r = startCinder(['florian', '--resume', part], { CINDER_BACKEND: 'cpu' });
  expect(await r.exited, r.err()).toBe(0);
  expect(runSummary(part).status).toBe('completed');
  expectSameFiles(join(full, 'artifacts'), join(part, 'artifacts'));
  // and the series file is the uninterrupted run's (a later resume reads it back)
  expect(readFileSync(join(part, 'checkpoint', 'series.npy')).equals(readFileSync(join(full, 'checkpoint', 'series.npy'))), 'checkpoint/series.npy byte-identical').toBe(true);
}, 180_000);

/** Runs florian (200 steps) in-process into `out`; `stopAt`: interrupted at that call of keepResponsive (after that many chunks of 25 steps). */
async function runInProcess(out: string, resume: boolean, stopAt = 0) {
  const params: Record<string, number> = {};
  for (const o of florianExample.options) params[o.name] = o.default as number;
  const ac = new AbortController();
  let calls = 0;
  const spy = vi.spyOn(RunFolder.prototype, 'keepResponsive').mockImplementation(async () => {
    if (++calls === stopAt) ac.abort();
  });
  try {
    const run = startRun({
      spec: florianExample, params, mode: 'full', seed: 0, seeds: 1, outDir: out, backend: backendInfo()!, backendRequest: 'auto',
      quiet: true, signal: ac.signal, terminal: new Terminal({ mode: 'quiet' }), resume,
    });
    return await run.done;
  } finally {
    spy.mockRestore();
  }
}

it('a checkpoint of the older format (the series in model.json, no series.npy) resumes: series file and artifacts as uninterrupted', async () => {
  const full = join(tmp, 'old-full');
  expect((await runInProcess(full, false)).status).toBe('completed');
  const part = join(tmp, 'old-part');
  expect((await runInProcess(part, false, 3)).status).toBe('interrupted'); // after 3 chunks: t = 75
  // rewrite the checkpoint as the code before series.npy saved it: net.save(dir, { t, series })
  const cp = join(part, 'checkpoint');
  const t = (JSON.parse(readFileSync(join(cp, 'model.json'), 'utf8')) as { metadata: { t: number } }).metadata.t;
  expect(t).toBe(75);
  const s = readNpy(join(cp, 'series.npy'));
  const series = Object.fromEntries(COLUMNS.map((k, c) => [k, Array.from({ length: t + 1 }, (_, r) => s.data[r * 9 + c]!)]));
  const m = buildFlorian({});
  try {
    await m.net.loadFrom(cp);
    await m.net.save(cp, { t, series });
  } finally {
    m.dispose();
  }
  rmSync(join(cp, 'series.npy'));
  const old = JSON.parse(readFileSync(join(cp, 'model.json'), 'utf8')) as { metadata: Record<string, unknown> };
  expect(old.metadata.seriesSaved).toBeUndefined();
  expect((old.metadata.series as Record<string, number[]>).stdp.length).toBe(76);
  const r = await runInProcess(part, true);
  expect(r.status).toBe('completed');
  expect(readFileSync(join(part, 'log.txt'), 'utf8')).toMatch(/resumed after step 75/);
  expectSameFiles(join(full, 'artifacts'), join(part, 'artifacts'));
  // the series now in the new format: the file holds the whole run, model.json its length
  expect(existsSync(join(cp, 'series.npy'))).toBe(true);
  expect(readFileSync(join(cp, 'series.npy')).equals(readFileSync(join(full, 'checkpoint', 'series.npy'))), 'checkpoint/series.npy byte-identical').toBe(true);
  const now = JSON.parse(readFileSync(join(cp, 'model.json'), 'utf8')) as { metadata: Record<string, unknown> };
  expect([now.metadata.t, now.metadata.seriesSaved, now.metadata.series]).toEqual([200, 201, undefined]);
}, 60_000);
