// Sweep planning and the sweep folder's summary, checked against hand-computed expectations.
import { describe, expect, it } from 'vitest';
import type { ExampleSpec } from '../../src/cli/example.js';
import { expandPlan, parseGrid, parseSeeds, pointName } from '../../src/sweep/plan.js';
import { parseSweepArgs } from '../../src/sweep/cli.js';
import { summarize, type SweepFile } from '../../src/sweep/store.js';
import { parseRedisUrl } from '../../src/sweep/redis.js';

const spec: ExampleSpec = {
  name: 'demo',
  description: 'demo',
  options: [
    { name: 'tauM', type: 'float', description: 'tau', default: 20, min: 0.001 },
    { name: 'nOut', type: 'int', description: 'n', default: 5, min: 1 },
    { name: 'rule', type: 'string', description: 'rule', default: 'a', choices: ['a', 'b'] },
    { name: 'plastic', type: 'bool', description: 'b', default: true },
    { name: 'batch', type: 'int', description: 'seeds per run', default: 1, min: 1, max: 4 },
  ],
  presets: { tiny: { nOut: 2 }, full: {} },
  defaultMode: 'full',
  summaryKeys: [],
  volatileKeys: ['seconds', 'timing'],
  figures: [],
  seedBatch: { option: 'batch', splitSummary: (s, seeds) => seeds.map((_, i) => ({ x: s[`x${i}`] })) },
  async run() {
    return {};
  },
};
const noBatch: ExampleSpec = { ...spec, seedBatch: undefined };

describe('--grid and --seeds', () => {
  it('parses values with the option types, by flag or camelCase name', () => {
    expect(parseGrid(spec, 'tau-m=10,20.5')).toEqual({ name: 'tauM', values: [10, 20.5] });
    expect(parseGrid(spec, 'nOut=1,3')).toEqual({ name: 'nOut', values: [1, 3] });
    expect(parseGrid(spec, 'rule=a,b').values).toEqual(['a', 'b']);
    expect(parseGrid(spec, 'plastic=true,false').values).toEqual([true, false]);
  });
  it('rejects malformed grids, unknown names, bad and repeated values', () => {
    expect(() => parseGrid(spec, 'tau-m')).toThrow(/invalid --grid: got "tau-m", expected name=v1,v2/);
    expect(() => parseGrid(spec, 'tau-m=1,,2')).toThrow(/no empty values/);
    expect(() => parseGrid(spec, 'speed=1,2')).toThrow(/a name that is a flag of demo \(tau-m, n-out, rule, plastic, batch\)/);
    expect(() => parseGrid(spec, 'seed=1,2')).toThrow(/not a common flag/);
    expect(() => parseGrid(spec, 'n-out=1,x')).toThrow(/invalid --n-out: got "x", expected an integer >= 1/);
    expect(() => parseGrid(spec, 'rule=a,c')).toThrow(/invalid --rule/);
    expect(() => parseGrid(spec, 'n-out=2,2')).toThrow(/distinct values/);
  });
  it('seeds: inclusive ranges and counts from --seed; empty ranges rejected', () => {
    expect(parseSeeds('1..4')).toEqual([1, 2, 3, 4]);
    expect(parseSeeds('3..3')).toEqual([3]);
    expect(parseSeeds('3', 5)).toEqual([5, 6, 7]);
    expect(() => parseSeeds('5..4')).toThrow(/invalid --seeds: got "5..4", expected a non-empty range/);
    expect(() => parseSeeds('0')).toThrow(/count K >= 1/);
    expect(() => parseSeeds('1-3')).toThrow(/a range A..B/);
    // at most MAX_RUNS (100 000) seeds: refused before any array is made
    expect(parseSeeds('1..100000')).toHaveLength(100_000);
    expect(() => parseSeeds('0..100000')).toThrow(/invalid --seeds: got "0..100000", expected at most 100000 seeds \(this range has 100001\)/);
    expect(() => parseSeeds('1..9007199254740991')).toThrow(/at most 100000 seeds/);
    expect(() => parseSeeds('100001')).toThrow(/invalid --seeds: got "100001", expected at most 100000 seeds/);
    expect(() => parseSeeds('2', Number.MAX_SAFE_INTEGER)).toThrow(/last seed .* is a safe integer/);
  });
});

describe('expandPlan', () => {
  it('grid × seeds, first axis slowest, one job per run', () => {
    const plan = { example: 'demo', mode: 'tiny', flags: { rule: 'b' }, grid: [parseGrid(spec, 'tau-m=10,20'), parseGrid(spec, 'n-out=1,2,3')], seeds: [7, 8], pack: 1 };
    const { runs, jobs } = expandPlan(spec, plan);
    expect(runs).toHaveLength(2 * 3 * 2);
    expect(jobs).toHaveLength(12);
    expect(runs.map((r) => r.name).slice(0, 3)).toEqual(['tau-m=10_n-out=1_seed=7', 'tau-m=10_n-out=1_seed=8', 'tau-m=10_n-out=2_seed=7']);
    expect(new Set(runs.map((r) => r.name)).size).toBe(12);
    expect(jobs[0]!.args).toEqual(['demo', '--mode', 'tiny', '--rule=b', '--tau-m=10', '--n-out=1', '--seed', '7']);
  });
  it('packing: consecutive seeds of a point, at most K per job, the batch option set to the job size', () => {
    const plan = { example: 'demo', mode: 'tiny', flags: {}, grid: [parseGrid(spec, 'n-out=1,2')], seeds: [1, 2, 3, 5], pack: 2 };
    const { runs, jobs } = expandPlan(spec, plan);
    expect(runs).toHaveLength(8);
    expect(jobs.map((j) => j.seeds)).toEqual([[1, 2], [3], [5], [1, 2], [3], [5]]);
    expect(jobs[0]!.name).toBe('n-out=1_seeds=1-2');
    expect(jobs[0]!.args.slice(-3)).toEqual(['--seed', '1', '--batch=2']);
    expect(jobs[1]!.args.slice(-3)).toEqual(['--seed', '3', '--batch=1']);
    expect(runs.filter((r) => r.job === 'n-out=1_seeds=1-2').map((r) => r.seed)).toEqual([1, 2]);
  });
  it('names of odd values stay file-name safe', () => {
    expect(pointName({ rule: 'a b/c', tauM: -1.5 })).toBe('rule=a~b~c_tau-m=-1.5');
  });
});

describe('parseSweepArgs', () => {
  const parse = (...a: string[]) => parseSweepArgs(['demo', ...a], [spec]);
  it('splits sweep flags from example flags and validates both', () => {
    const r = parse('--mode', 'tiny', '--rule', 'b', '--no-plastic', '--grid', 'tau-m=5,6', '--seeds', '2', '--seed=10', '--out', '/tmp/x', '--workers', '3');
    expect(r.plan).toEqual({ example: 'demo', mode: 'tiny', flags: { rule: 'b', plastic: false }, grid: [{ name: 'tauM', values: [5, 6] }], seeds: [10, 11], pack: 1 });
    expect(r.workers).toBe(3);
    expect(r.engine).toBe('local');
  });
  it('bad input names the flag, the value and what was expected', () => {
    expect(() => parse('--grid', 'oops', '--out', '/tmp/x')).toThrow(/invalid --grid: got "oops"/);
    expect(() => parse('--grid', 'speed=1', '--out', '/tmp/x')).toThrow(/a name that is a flag of demo/);
    expect(() => parse('--seeds', '4..2', '--out', '/tmp/x')).toThrow(/invalid --seeds: got "4..2"/);
    expect(() => parse('--speed', '3', '--out', '/tmp/x')).toThrow(/invalid flag: got "--speed"/);
    expect(() => parse('--grid', 'tau-m=1')).toThrow(/invalid --out: got undefined/);
    expect(() => parse('--tau-m', '-1', '--out', '/tmp/x')).toThrow(/invalid --tau-m: got "-1", expected a finite number >= 0.001/);
    expect(() => parse('--grid', 'tau-m=1', '--tau-m', '2', '--out', '/tmp/x')).toThrow(/not also given as --tau-m/);
    expect(() => parse('--engine', 'spark', '--out', '/tmp/x')).toThrow(/invalid --engine: got "spark", expected "local" or "bullmq"/);
    expect(() => parse('--engine', 'bullmq', '--out', '/tmp/x')).toThrow(/invalid --redis: got undefined/);
    expect(() => parse('--engine', 'bullmq', '--redis', 'http://x', '--out', '/tmp/x')).toThrow(/invalid --redis: got "http:\/\/x", expected a Redis URL/);
    expect(() => parse('--pack', '5', '--out', '/tmp/x')).toThrow(/invalid --pack: got 5, expected at most 4/);
    expect(() => parseSweepArgs(['demo', '--pack', '2', '--out', '/tmp/x'], [noBatch])).toThrow(/does not simulate several seeds/);
    expect(() => parseSweepArgs(['nope'], [spec])).toThrow(/invalid example: got "nope", expected one of demo/);
  });
  it('every grid point is checked as a run would check it (the example validate), names are distinct, the batch option and --backend are checked', () => {
    const checked: ExampleSpec = { ...spec, options: [...spec.options, { name: 'tag', type: 'string', description: 't', default: 'x' }], validate: (p) => {
      if ((p.tauM as number) > 30 && p.plastic === true) throw new Error('invalid tauM: got a value > 30, expected ≤ 30 while plastic');
    } };
    const p2 = (...a: string[]) => parseSweepArgs(['demo', ...a], [checked]);
    expect(() => p2('--grid', 'tau-m=5,40', '--out', '/tmp/x')).toThrow(/invalid tauM: got a value > 30/);
    expect(p2('--grid', 'tau-m=5,40', '--no-plastic', '--out', '/tmp/x').plan.grid).toEqual([{ name: 'tauM', values: [5, 40] }]);
    expect(() => p2('--grid', 'tag=a/b,a:b', '--out', '/tmp/x')).toThrow(/invalid --grid: got .*a\/b.*a:b.*expected values with distinct run names \(both are named "tag=a~b"\)/);
    expect(() => parse('--batch', '2', '--out', '/tmp/x')).toThrow(/invalid --batch: got 2, expected not given to cinder sweep .*--pack/);
    expect(() => parse('--pack', '2', '--batch', '2', '--out', '/tmp/x')).toThrow(/invalid --batch/);
    expect(() => parse('--backend', 'gpu-typo', '--out', '/tmp/x')).toThrow(/invalid --backend: got "gpu-typo", expected one of auto, tensorflow, webgpu, wasm, cpu/);
    expect(parse('--backend', 'wasm', '--out', '/tmp/x').plan.backend).toBe('wasm');
  });
  it('with --pack, each grid point is checked with the seed counts its jobs will pass to the batch option (example flags checked against it pass or fail as the jobs would)', () => {
    // an example flag that may not exceed the seeds of one run, as lateral-line's --workers
    const lanes: ExampleSpec = { ...spec, options: [...spec.options, { name: 'lanes', type: 'int', description: 'l', default: 1, min: 1 }], validate: (p) => {
      if ((p.lanes as number) > (p.batch as number)) throw new Error(`invalid --lanes: got ${p.lanes}, expected at most --batch (${p.batch})`);
    } };
    const p3 = (...a: string[]) => parseSweepArgs(['demo', ...a], [lanes]);
    // seeds 1..8 in jobs of 4: every job runs --batch 4, so --lanes 2 is fine
    expect(p3('--seeds', '1..8', '--pack', '4', '--out', '/tmp/x', '--', '--lanes', '2').plan.flags).toEqual({ lanes: 2 });
    // without --pack every job is one seed
    expect(() => p3('--seeds', '1..8', '--out', '/tmp/x', '--', '--lanes', '2')).toThrow(/invalid --lanes: got 2, expected at most --batch \(1\)/);
    // seeds 1..9 in jobs of 4: the last job has one seed, and --lanes 2 would fail there
    expect(() => p3('--seeds', '1..9', '--pack', '4', '--out', '/tmp/x', '--', '--lanes', '2')).toThrow(/invalid --lanes: got 2, expected at most --batch \(1\)/);
  });
  it('at most 100 000 runs: grid points and grid points × seeds are counted before they are made', () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => i + 1).join(',');
    // 1000 × 1000 points: refused without building the million points
    expect(() => parse('--grid', `tau-m=${values(1000)}`, '--grid', `n-out=${values(1000)}`, '--out', '/tmp/x')).toThrow(/invalid --grid: got "tau-m × 1000, n-out × 1000", expected at most 100000 grid points \(these make 1000000\)/);
    expect(() => parse('--grid', `tau-m=${values(1000)}`, '--seeds', '101', '--out', '/tmp/x')).toThrow(/invalid --grid × --seeds: got "1000 points × 101 seeds", expected at most 100000 runs/);
    expect(parse('--grid', `n-out=${values(1000)}`, '--seeds', '100', '--out', '/tmp/x').plan.seeds).toHaveLength(100);
  });
  it('after --, every flag is the example\'s, also one named like a sweep flag', () => {
    const shadow: ExampleSpec = { ...spec, options: [...spec.options, { name: 'workers', type: 'int', description: 'threads', default: 1, min: 1 }] };
    const p3 = (...a: string[]) => parseSweepArgs(['demo', ...a], [shadow]);
    const before = p3('--workers', '3', '--out', '/tmp/x');
    expect(before.workers).toBe(3);
    expect(before.plan.flags).toEqual({});
    const after = p3('--workers', '2', '--out', '/tmp/x', '--', '--workers', '5', '--rule=b');
    expect(after.workers).toBe(2);
    expect(after.plan.flags).toEqual({ workers: 5, rule: 'b' });
    expect(expandPlan(shadow, after.plan).jobs[0]!.args).toContain('--workers=5');
    expect(() => p3('--out', '/tmp/x', '--', '--engine', 'bullmq')).toThrow(/invalid flag: got "--engine", expected a flag of demo after --/);
    expect(() => p3('--out', '/tmp/x', '--', '--workers', '0')).toThrow(/invalid --workers: got "0", expected an integer >= 1/);
  });
  it('redis URLs', () => {
    expect(parseRedisUrl('redis://h:7000/2')).toEqual({ host: 'h', port: 7000, db: 2 });
    expect(parseRedisUrl('127.0.0.1:6380')).toEqual({ host: '127.0.0.1', port: 6380, db: 0 });
    expect(parseRedisUrl('redis://:pw@h')).toMatchObject({ host: 'h', port: 6379, password: 'pw' });
  });
});

describe('summarize', () => {
  it('mean, sample std, min, max per grid point over completed seeds; volatile keys (and keys flattened from them) left out', () => {
    const plan = { example: 'demo', mode: 'tiny', flags: {}, grid: [{ name: 'nOut', values: [1, 2] }], seeds: [1, 2, 3], pack: 1 };
    const { runs } = expandPlan(spec, plan);
    const values: Record<string, number> = { 'n-out=1_seed=1': 1, 'n-out=1_seed=2': 2, 'n-out=1_seed=3': 6, 'n-out=2_seed=1': 10, 'n-out=2_seed=2': 20 };
    const file: SweepFile = {
      format: 'cinder-sweep/1', id: 'x', plan, created_at: '', updated_at: '',
      runs: runs.map((r) => ({
        ...r, dir: `runs/${r.job}`, attempts: 1,
        status: r.name in values ? 'completed' : 'failed',
        summary: r.name in values ? { y: values[r.name], seconds: Math.random(), 'timing.wall_s': Math.random(), elapsed_s: 1 } : {},
      })),
    };
    const s = summarize(spec, file);
    expect(s.runs_completed).toBe(5);
    expect(s.runs_failed).toBe(1);
    // (1, 2, 6): mean 3, sample variance ((−2)² + (−1)² + 3²) / 2 = 7
    expect(s.points[0]!.metrics).toEqual({ y: { mean: 3, std: Math.sqrt(7), min: 1, max: 6, n: 3 } });
    expect(s.points[1]!.seeds).toEqual([1, 2]);
    expect(s.points[1]!.metrics.y).toEqual({ mean: 15, std: Math.sqrt(50), min: 10, max: 20, n: 2 });
  });
  it('label keys of the example (lateral-line\'s seed_start, multi_seed) are not metrics', () => {
    const plan = { example: 'demo', mode: 'tiny', flags: {}, grid: [], seeds: [3, 4], pack: 1 };
    const { runs } = expandPlan(spec, plan);
    const file: SweepFile = {
      format: 'cinder-sweep/1', id: 'x', plan, created_at: '', updated_at: '',
      runs: runs.map((r) => ({ ...r, dir: `runs/${r.job}`, attempts: 1, status: 'completed', summary: { y: r.seed * 2, seed_start: r.seed, multi_seed: 1 } })),
    };
    expect(Object.keys(summarize(spec, file).points[0]!.metrics).sort()).toEqual(['multi_seed', 'seed_start', 'y']);
    const labelled = summarize({ ...spec, labelKeys: ['seed_start', 'multi_seed'] }, file).points[0]!.metrics;
    expect(labelled).toEqual({ y: { mean: 7, std: Math.SQRT2, min: 6, max: 8, n: 2 } });
  });
  it('a resumed or crash-recovered run\'s bookkeeping (resumed, crashed_pid, …) is not a metric: summary.json stays the same as without the resumption', () => {
    const plan = { example: 'demo', mode: 'tiny', flags: {}, grid: [], seeds: [3, 4], pack: 1 };
    const { runs } = expandPlan(spec, plan);
    const file = (extra: (seed: number) => Record<string, unknown>): SweepFile => ({
      format: 'cinder-sweep/1', id: 'x', plan, created_at: '', updated_at: '',
      runs: runs.map((r) => ({ ...r, dir: `runs/${r.job}`, attempts: 1, status: 'completed', summary: { y: r.seed * 2, ...extra(r.seed) } })),
    });
    const plain = summarize(spec, file(() => ({})));
    const resumed = summarize(spec, file((seed) => (seed === 3 ? { resumed: 2, crashed_pid: 4242, crashed_detected_at: 'x', crashed_host: 'h' } : {})));
    expect(resumed).toEqual(plain);
    expect(Object.keys(plain.points[0]!.metrics)).toEqual(['y']);
  });
});
