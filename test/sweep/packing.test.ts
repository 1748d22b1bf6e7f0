// More of `cinder sweep` with real processes (tiny runs), next to sweep.test.ts so the two files run
// in parallel:
// - A run that SIGKILLs itself (as the OOM killer would) fails alone.
// - --pack: seeds batched into one run are split back per seed (closed-form scores), and the
//   lateral-line example's batched network gives the same summary.json as single-seed runs.
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, cinder, fakeBin, json, tempFolders } from './fixtures/procs.js';

const { tmp, cleanup } = tempFolders();
afterAll(cleanup);

describe('a crashing run', () => {
  it('costs only that run: the others complete, exit 1, status lists it as failed', async () => {
    const base = tmp();
    const p = cinder(fakeBin, ['sweep', 'sweep-fake', '--crash-at', '2', '--grid', 'value=1,2,3', '--workers', '2', '--out', join(base, 's')]);
    expect(await p.exited, p.out()).toBe(1);
    const file = json(join(base, 's', 'sweep.json'));
    expect(file.runs.map((r: { status: string }) => r.status)).toEqual(['completed', 'failed', 'completed']);
    expect(file.runs[1].error).toMatch(/SIGKILL/);
    expect(json(join(base, 's', 'summary.json')).points.map((x: { metrics: { score?: { mean: number } } }) => x.metrics.score?.mean)).toEqual([10, undefined, 30]);
    const status = cinder(fakeBin, ['sweep', 'status', join(base, 's')]);
    await status.exited;
    expect(status.out()).toMatch(/done 2, running 0, failed 1, waiting 0\n {2}failed: value=2_seed=0/);
    // a run recorded as running while no live cinder sweep holds the folder (its coordinator was
    // SIGKILLed) is reported as interrupted, not running; with a live lock it stays running
    const f = join(base, 's', 'sweep.json');
    const edited = json(f);
    edited.runs[1].status = 'running';
    writeFileSync(f, JSON.stringify(edited));
    const dead = cinder(fakeBin, ['sweep', 'status', join(base, 's')]);
    await dead.exited;
    expect(dead.out()).toMatch(/done 2, running 0, failed 0, waiting 1 \(1 interrupted\); no cinder sweep holds the folder/);
    writeFileSync(join(base, 's', '.sweep.lock'), `${hostname()} ${process.pid}`);
    const live = cinder(fakeBin, ['sweep', 'status', join(base, 's')]);
    await live.exited;
    expect(live.out()).toMatch(/done 2, running 1, failed 0, waiting 0\n/);
    rmSync(join(base, 's', '.sweep.lock'));
  });
});

describe('packing seeds into one run', () => {
  it('--pack 2: 4 processes for 8 runs, split back per seed', async () => {
    const base = tmp();
    const counter = join(base, 'counter.txt');
    const p = cinder(fakeBin, ['sweep', 'sweep-batch', '--grid', 'value=1,2', '--seeds', '1..4', '--pack', '2', '--workers', '2', '--out', join(base, 's')], { FAKE_SWEEP_COUNTER: counter });
    expect(await p.exited, p.out()).toBe(0);
    expect(readFileSync(counter, 'utf8').trim().split('\n').sort()).toEqual(['1 1 x2', '1 2 x2', '3 1 x2', '3 2 x2']);
    const file = json(join(base, 's', 'sweep.json'));
    expect(file.runs).toHaveLength(8);
    for (const r of file.runs) expect(r.summary.score).toBe(10 * r.point.value + r.seed);
    expect(readdirSync(join(base, 's', 'runs')).filter((n) => n.startsWith('value=')).sort()).toEqual(['value=1_seeds=1-2', 'value=1_seeds=3-4', 'value=2_seeds=1-2', 'value=2_seeds=3-4']);
    const s = json(join(base, 's', 'summary.json'));
    // scores 11..14: mean 12.5, sample std sqrt(5/3)
    expect(s.points[0].metrics.score.mean).toBe(12.5);
    expect(s.points[0].metrics.score.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
  });
});

describe('packing: a leftover job of one seed', () => {
  it('--pack 2 over seeds 0..2: the one-seed job ran with the batch option and is split like the others (one metric, n = 3)', async () => {
    const base = tmp();
    const p = cinder(fakeBin, ['sweep', 'sweep-batch', '--grid', 'value=1', '--seeds', '0..2', '--pack', '2', '--workers', '1', '--out', join(base, 's')]);
    expect(await p.exited, p.out()).toBe(0);
    const file = json(join(base, 's', 'sweep.json'));
    for (const r of file.runs) expect(r.summary).toMatchObject({ score: 10 + r.seed });
    const m = json(join(base, 's', 'summary.json')).points[0].metrics;
    expect(Object.keys(m)).toEqual(['score']);
    expect(m.score.n).toBe(3);
    expect([m.score.min, m.score.max]).toEqual([10, 12]);
    expect(m.score.mean).toBe(11);
  });
});

describe('packing a real example: lateral-line --multi-seed', () => {
  it('seeds 1..2 as one batched run give the summary.json of two single-seed runs', async () => {
    const base = tmp();
    const args = ['sweep', 'lateral-line', '--mode', 'tiny', '--seeds', '1..2', '--workers', '2', '-q'];
    const single = cinder(bin, [...args, '--out', join(base, 'single')]);
    expect(await single.exited, single.out()).toBe(0);
    const packed = cinder(bin, [...args, '--pack', '2', '--out', join(base, 'packed')]);
    expect(await packed.exited, packed.out()).toBe(0);
    // (the run folders only; runs may share one plotly.min.js in their parent folder)
    expect(readdirSync(join(base, 'packed', 'runs')).filter((n) => n.startsWith('seed'))).toEqual(['seeds=1-2']);
    const a = json(join(base, 'single', 'summary.json'));
    expect(json(join(base, 'packed', 'summary.json'))).toEqual(a);
    // the seeds differ, so the equality is not trivial
    expect(Object.values(a.points[0].metrics as Record<string, { std: number }>).some((m) => m.std > 0)).toBe(true);
  });
});
