// `cinder florian`: a checkpoint holds the network and the steps done, not the recorded series (9
// values per step): those go to the append-only checkpoint/series.npy, one append per chunk of 25
// steps. The file holds exactly the run's series (trajectories.json and the spike trains), and rows
// beyond the length a checkpoint records (a run killed between the append and the checkpoint) are
// cut off on resume.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readNpy } from '../../src/io/npy.js';
import { NpyAppendWriter } from '../../src/io/npy-append.js';
import { folderBytes } from '../helpers/files.js';
import { runSummary, startCinder } from '../helpers/cli.js';

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
  const t0 = Date.now();
  while (Number(runSummary(part).checkpoints ?? 0) < 3) {
    if (Date.now() - t0 > 120_000) throw new Error(`no checkpoint 3: ${b.err()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  b.child.kill('SIGINT');
  expect(await b.exited, b.err()).toBe(130);
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
  const fa = folderBytes(join(full, 'artifacts'));
  const fb = folderBytes(join(part, 'artifacts'));
  expect([...fb.keys()].sort()).toEqual([...fa.keys()].sort());
  for (const [k, v] of fa) expect(fb.get(k) === v, `artifacts/${k} byte-identical`).toBe(true);
  // and the series file is the uninterrupted run's (a later resume reads it back)
  expect(readFileSync(join(part, 'checkpoint', 'series.npy')).equals(readFileSync(join(full, 'checkpoint', 'series.npy'))), 'checkpoint/series.npy byte-identical').toBe(true);
}, 180_000);
