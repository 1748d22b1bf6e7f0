// The `cinder` command in-process with the fake example: list, help, validation (exit 2, nothing
// written), the run folder's files, --params round trip, --seeds with the summary across seeds.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, defaultOutDir, type CliOptions } from '../../src/cli/program.js';
import { aggregateSeeds } from '../../src/cli/runner.js';
import { fakeExample } from './fixtures/fake-example.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { Sink } from './fixtures/sink.js';
import type { RunContext } from '../../src/cli/example.js';
import { learningCurves } from '../../src/viz/curves.js';

async function cli(args: string[], extra: Partial<CliOptions> = {}): Promise<{ code: number; out: string; err: string }> {
  const out = new Sink();
  const err = new Sink();
  const code = await runCli(args, { examples: [fakeExample], out, err, isTTY: false, env: {}, handleSignals: false, ...extra });
  return { code, out: out.text, err: err.text };
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'cinder-cli-'));
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8'));
const closed = (steps: number, gain: number, seed: number) => ({ total: (gain * steps * (steps + 1)) / 2 + 1000 * seed, squares: (steps * (steps + 1) * (2 * steps + 1)) / 6 });

describe('cinder list / help', () => {
  it('lists the examples with their descriptions', async () => {
    const r = await cli(['list']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('fake  test example with closed-form metrics\n');
  });

  it('--help shows the flags, defaults and presets; exit 0', async () => {
    const r = await cli(['fake', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['--steps <value>', 'default 10', '--no-loud', '--mode <preset>', '--seeds <k>', '--out <dir>', '--backend <name>', 'tiny: steps=3', 'full (default): steps=20, gain=0.5']) {
      expect(r.out).toContain(s);
    }
  });

  it('no arguments or an unknown command: usage, exit 2', async () => {
    expect((await cli([])).code).toBe(2);
    const r = await cli(['nope']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cinder: invalid command: got "nope", expected a command listed by `cinder --help` or an example listed by `cinder list`\n/);
    expect((await cli(['fakee'])).err).toMatch(/^cinder: invalid command: got "fakee", expected .* \(did you mean fake\?\)\n/);
  });
});

describe("commander's usage errors in the house form, exit 2, nothing written", () => {
  it('an option without its value; status without or with too many folders', async () => {
    const dir = tmp();
    const out = join(dir, 'run');
    const r = await cli(['fake', '--out', out, '--steps']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cinder fake: invalid --steps: got no value, expected a value after --steps\n\(add --help for the options\)\n$/);
    expect(existsSync(out)).toBe(false);
    const s = await cli(['status']);
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/^cinder status: invalid <dir>: got nothing, expected a value\n/);
    const t = await cli(['status', dir, dir]);
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/^cinder status: invalid arguments: got 2, expected at most 1\n/);
    for (const e of [r, s, t]) expect(e.err).not.toMatch(/^error: /m);
  });
});

describe('bad values: clear message, exit 2, nothing written', () => {
  // every value error in the house form "cinder fake: invalid FLAG: got VALUE, expected WHAT", as
  // the library's errors and the sweep command word them (not commander's "error: option … is invalid")
  const cases: [string[], RegExp][] = [
    [['--steps', '2.5'], /^cinder fake: invalid --steps: got "2\.5", expected an integer in \[1, 100000\]\n/],
    [['--steps', '0'], /^cinder fake: invalid --steps: got "0", expected an integer in \[1, 100000\]\n/],
    [['--steps', '1e20'], /^cinder fake: invalid --steps: got "1e20", expected an integer >= 1 and <= 100000\n/],
    [['--gain', 'abc'], /^cinder fake: invalid --gain: got "abc", expected a finite number\n/],
    [['--label', 'zzz'], /^cinder fake: invalid --label: got "zzz", expected one of "a", "b"\n/],
    [['--loud', 'maybe'], /^cinder fake: invalid --loud: got "maybe", expected true or false\n/],
    [['--seed', '-1'], /^cinder fake: invalid --seed: got "-1", expected an integer >= 0\n/],
    [['--seed', '1.5'], /^cinder fake: invalid --seed: got "1\.5", expected an integer >= 0\n/],
    [['--seeds', '0'], /^cinder fake: invalid --seeds: got "0", expected an integer >= 1 and <= 100000\n/],
    [['--seeds', '100001'], /^cinder fake: invalid --seeds: got "100001", expected an integer >= 1 and <= 100000\n/],
    [['--mode', 'huge'], /^cinder fake: invalid --mode: got "huge", expected one of tiny, full\n/],
    [['--backend', 'gpu'], /^cinder fake: invalid --backend: got "gpu", expected one of auto, tensorflow, webgpu, wasm, cpu\n/],
    [['--check-finite', 'always'], /^cinder fake: invalid --check-finite: got "always", expected one of off, checkpoint, step\n/],
    [['--bogus', '1'], /^cinder fake: invalid option: got "--bogus", expected an option listed by `cinder fake --help`\n/],
    [['--loudd'], /^cinder fake: invalid option: got "--loudd", expected an option listed by `cinder fake --help` \(did you mean --loud\?\)\n/],
    [['extra'], /^cinder fake: invalid arguments: got 1, expected at most 0\n/],
    [['--params', '/nonexistent/params.json'], /--params.*readable JSON file/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const dir = tmp();
      const out = join(dir, 'run');
      const r = await cli(['fake', ...args, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/^error: option/m);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  it('cinder info --backend with a bad name: house form, exit 2', async () => {
    const r = await cli(['info', '--backend', 'gpu']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cinder info: invalid --backend: got "gpu", expected one of auto, tensorflow, webgpu, wasm, cpu\n/);
    expect(r.out).toBe('');
  });

  it('a flag given twice is refused (also --x with --no-x, -q with --quiet), not silently the last value', async () => {
    const cases: [string[], RegExp][] = [
      [['--seed', '1', '--seed', '2'], /^cinder fake: invalid --seed: got \["1","2"\], expected the flag at most once/],
      [['--steps', '3', '--steps=4'], /invalid --steps: got \["3","4"\], expected the flag at most once/],
      [['--seeds', '2', '--seeds', '1'], /invalid --seeds: got \["2","1"\]/],
      [['--mode', 'tiny', '--mode', 'full'], /invalid --mode: got \["tiny","full"\]/],
      [['--loud', '--no-loud'], /invalid --loud: got \["--loud","--no-loud"\], expected the flag at most once/],
      [['-q', '--quiet'], /invalid --quiet: got \["--quiet","--quiet"\]/],
      [['--out', 'elsewhere'], /invalid --out: got \[".*","elsewhere"\]/],
    ];
    for (const [args, message] of cases) {
      const dir = tmp();
      const out = join(dir, 'run');
      const r = await cli(['fake', '--out', out, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
      expect(readdirSync(dir)).toEqual([]);
    }
    // and a single one of each still runs
    const out = join(tmp(), 'run');
    expect((await cli(['fake', '--mode', 'tiny', '--seed', '1', '-q', '--no-loud', '--out', out])).code).toBe(0);
  });

  it('--seed S --seeds K whose last seed S + K − 1 passes 2^53 − 1 is refused before anything is written', async () => {
    const dir = tmp();
    const out = join(dir, 'run');
    const r = await cli(['fake', '--mode', 'tiny', '--seed', String(Number.MAX_SAFE_INTEGER - 1), '--seeds', '3', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/invalid --seeds: got 3, expected at most 2 with --seed 9007199254740990 \(the last seed must stay <= 9007199254740991\)/);
    expect(readdirSync(dir)).toEqual([]);
    // the largest seed itself, alone, is fine
    const ok = await cli(['fake', '--mode', 'tiny', '--quiet', '--seed', String(Number.MAX_SAFE_INTEGER - 1), '--seeds', '2', '--out', out]);
    expect(ok.code).toBe(0);
    expect(json(join(out, 'run_summary.json')).seeds).toEqual([Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER]);
  });

  it('a non-empty --out folder is refused', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'keep.txt'), 'x');
    const r = await cli(['fake', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--out.*holds files already/);
    expect(readdirSync(dir)).toEqual(['keep.txt']);
  });

  it('a params.json of another example is refused', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'params.json'), JSON.stringify({ example: 'other', params: {} }));
    const r = await cli(['fake', '--params', join(dir, 'params.json'), '--out', join(dir, 'run')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/params.json of fake \(this one is for other\)/);
  });

  it('--resume of a folder without a (readable) params.json names --resume, not --params', async () => {
    const dir = tmp();
    const r = await cli(['fake', '--resume', join(dir, 'nothere')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cinder fake: invalid --resume: got ".*nothere[/\\]params\.json", expected a readable JSON file \(ENOENT/);
    writeFileSync(join(dir, 'params.json'), JSON.stringify({ params: {} }));
    const r2 = await cli(['fake', '--resume', dir]);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/^cinder fake: invalid --resume: got ".*params\.json", expected a params\.json written by a cinder run/);
    expect(readdirSync(dir)).toEqual(['params.json']);
  });

  it('a damaged seed, seed count or mode in a saved params.json is refused by name, not read as seed 0', async () => {
    for (const [bad, message] of [[{ seed: '7' }, /"seed" in .*params\.json: got "7", expected an integer >= 0/], [{ seeds: 2.5 }, /"seeds" in .*: got 2\.5, expected an integer >= 1/], [{ seeds: 1e9 }, /"seeds" in .*: got 1000000000, expected an integer >= 1 and <= 100000/], [{ seed: -1 }, /"seed" in .*: got -1/], [{ mode: 3 }, /"mode" in .*: got 3, expected a preset name/]] as const) {
      const dir = tmp();
      writeFileSync(join(dir, 'params.json'), JSON.stringify({ example: 'fake', params: {}, ...bad }));
      const r = await cli(['fake', '--params', join(dir, 'params.json'), '--out', join(dir, 'run')]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(readdirSync(dir)).toEqual(['params.json']);
    }
  });

  it("a check on the selected backend (validateOnBackend) refuses a run before anything is written; a folder it did not make stays", async () => {
    const seen: string[] = [];
    const picky = {
      ...fakeExample,
      validateOnBackend(p: Record<string, unknown>, b: { name: string }) {
        seen.push(b.name);
        if (Number(p.steps) > 5) throw new CinderArgumentError('--steps', p.steps, `at most 5 on the ${b.name} backend`);
      },
    };
    const dir = tmp();
    const out = join(dir, 'run');
    const r = await cli(['fake', '--steps', '6', '--backend', 'cpu', '--out', out], { examples: [picky] });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cinder fake: invalid --steps: got 6, expected at most 5 on the cpu backend/);
    expect(seen).toEqual(['cpu']);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    // an empty folder given with --out is the user's: it stays, empty
    const again = await cli(['fake', '--steps', '6', '--backend', 'cpu', '--out', dir], { examples: [picky] });
    expect(again.code).toBe(2);
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    const ok = await cli(['fake', '--steps', '5', '--backend', 'cpu', '--quiet', '--out', out], { examples: [picky] });
    expect(ok.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8'))).toMatchObject({ status: 'completed', ...closed(5, 0.5, 0) });
  });
});

describe('a run folder', () => {
  it('holds params.json, run_summary.json, log.txt, figures and artifacts', async () => {
    const out = join(tmp(), 'run');
    const r = await cli(['fake', '--mode', 'tiny', '--gain', '1.5', '--label', 'b', '--loud', '--seed', '2', '--out', out]);
    expect(r.code).toBe(0);
    const params = json(join(out, 'params.json'));
    expect(params).toMatchObject({
      format: 'cinder-run/1', example: 'fake', mode: 'tiny', seed: 2, seeds: 1,
      params: { steps: 3, gain: 1.5, label: 'b', loud: true, delayMs: 0, ignoreSignal: false },
      package: { name: 'cinder-snn' },
    });
    expect((params.backend as { name: string }).name).toMatch(/^(cpu|wasm|tensorflow)$/);
    expect(Date.parse(params.started_at as string)).not.toBeNaN();
    const s = json(join(out, 'run_summary.json'));
    expect(s).toMatchObject({ status: 'completed', example: 'fake', seed: 2, checkpoints: 3, ...closed(3, 1.5, 2), label: 'b', loud: true, steps_done: 3 });
    for (const k of fakeExample.summaryKeys) expect(s).toHaveProperty(k);
    expect(readdirSync(join(out, 'figures')).sort()).toEqual(['curve.html', 'figures.json']);
    expect(existsSync(join(out, '..', 'plotly.min.js'))).toBe(true); // one shared copy per parent folder
    expect(readFileSync(join(out, 'figures', 'curve.html'), 'utf8')).toContain('<script src="../../plotly.min.js"></script>');
    expect(json(join(out, 'figures', 'figures.json'))).toEqual({ curve: { title: 'fake curve', panels: 1, traces: 1, file: 'curve.html' } });
    expect(readdirSync(join(out, 'artifacts')).sort()).toEqual(['curve.npy', 'info.json']);
    expect(readFileSync(join(out, 'log.txt'), 'utf8')).toMatch(/done after 3 steps/);
    // plain progress on stderr (not a TTY), log lines on stdout
    expect(r.err).toMatch(/fake: 3\/3 \(100 %\)/);
    expect(r.out).toMatch(/completed: /);
  });

  it('--quiet prints nothing but still writes log.txt', async () => {
    const out = join(tmp(), 'run');
    const r = await cli(['fake', '--mode', 'tiny', '--quiet', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out + r.err).toBe('');
    expect(readFileSync(join(out, 'log.txt'), 'utf8')).toMatch(/done after 3 steps/);
  });

  it('re-running a saved params.json reproduces the run; flags override it', async () => {
    const dir = tmp();
    expect((await cli(['fake', '--mode', 'tiny', '--gain', '0.25', '--seed', '4', '--out', join(dir, 'a')])).code).toBe(0);
    expect((await cli(['fake', '--params', join(dir, 'a', 'params.json'), '--out', join(dir, 'b')])).code).toBe(0);
    const a = json(join(dir, 'a', 'run_summary.json'));
    const b = json(join(dir, 'b', 'run_summary.json'));
    for (const k of fakeExample.summaryKeys) expect(b[k]).toEqual(a[k]);
    expect(json(join(dir, 'b', 'params.json'))).toMatchObject({ mode: 'tiny', seed: 4, params: json(join(dir, 'a', 'params.json')).params as object });
    expect((await cli(['fake', '--params', join(dir, 'a', 'params.json'), '--steps', '6', '--out', join(dir, 'c')])).code).toBe(0);
    expect(json(join(dir, 'c', 'run_summary.json'))).toMatchObject(closed(6, 0.25, 4));
  });

  it('--seeds K: one sub-folder per seed and mean/std across seeds', async () => {
    const out = join(tmp(), 'multi');
    const r = await cli(['fake', '--mode', 'tiny', '--seed', '1', '--seeds', '3', '--out', out]);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['log.txt', 'params.json', 'plotly.min.js', 'run_summary.json', 'seed-1', 'seed-2', 'seed-3']);
    for (const seed of [1, 2, 3]) {
      expect(json(join(out, `seed-${seed}`, 'run_summary.json'))).toMatchObject({ status: 'completed', seed, ...closed(3, 2, seed) });
      expect(json(join(out, `seed-${seed}`, 'params.json'))).toMatchObject({ seed, seeds: 1 });
    }
    const s = json(join(out, 'run_summary.json'));
    expect(s).toMatchObject({ status: 'completed', seeds: [1, 2, 3], completed_seeds: 3 });
    // totals 1012, 2012, 3012: mean 2012, sample std 1000
    expect(s.across_seeds).toMatchObject({ total: { mean: 2012, std: 1000, min: 1012, max: 3012, n: 3 }, squares: { mean: 14, std: 0, n: 3 } });
    expect((s.runs as { dir: string }[]).map((x) => x.dir)).toEqual(['seed-1', 'seed-2', 'seed-3']);
    expect(json(join(out, 'params.json'))).toMatchObject({ seed: 1, seeds: 3 });
  });

  it('--seeds K: label keys of the example stay in each run but are not averaged across seeds', async () => {
    const labelled = { ...fakeExample, labelKeys: ['squares'] };
    const out = join(tmp(), 'multi');
    expect((await cli(['fake', '--mode', 'tiny', '--seed', '1', '--seeds', '2', '--out', out], { examples: [labelled] })).code).toBe(0);
    const s = json(join(out, 'run_summary.json'));
    expect(Object.keys(s.across_seeds as object).sort()).toEqual(['steps_done', 'total']);
    expect((s.runs as { squares: number }[]).map((x) => x.squares)).toEqual([14, 14]);
  });

  it('a figure that cannot be written is refused and never listed in figures/figures.json', async () => {
    const errors: string[] = [];
    const drawing = {
      ...fakeExample,
      name: 'drawing',
      run: async (ctx: RunContext) => {
        const bad = { title: 'bad', data: [], layout: {}, panels: 0 };
        try {
          await ctx.figure('bad', bad);
        } catch (e) {
          errors.push((e as Error).message);
        }
        await ctx.figure('good', learningCurves('good', [{ curves: [{ name: 'y', y: [1, 2] }] }]));
        return {};
      },
    };
    const out = join(tmp(), 'run');
    expect((await cli(['drawing', '--mode', 'tiny', '--quiet', '--out', out], { examples: [drawing] })).code).toBe(0);
    expect(errors).toEqual(['invalid figure.panels: got 0, expected an integer >= 1']);
    expect(readdirSync(join(out, 'figures')).sort()).toEqual(['figures.json', 'good.html']);
    expect(json(join(out, 'figures', 'figures.json'))).toEqual({ good: { title: 'good', panels: 1, traces: 1, file: 'good.html' } });
  });

  it('a failing example: status failed with the error, exit 1', async () => {
    const failing = { ...fakeExample, name: 'boom', run: async () => { throw new Error('kaboom'); } };
    const out = join(tmp(), 'run');
    const r = await cli(['boom', '--mode', 'tiny', '--out', out], { examples: [failing] });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/boom failed: kaboom/);
    expect(json(join(out, 'run_summary.json'))).toMatchObject({ status: 'failed', error: 'kaboom' });
    expect(readFileSync(join(out, 'log.txt'), 'utf8')).toMatch(/Error: kaboom/);
  });
});

describe('helpers', () => {
  it('default folder runs/<example>-<timestamp>, suffixed when taken', () => {
    const cwd = tmp();
    const d = new Date(2024, 0, 2, 3, 4, 5);
    expect(defaultOutDir('fake', d, cwd)).toBe(join(cwd, 'runs', 'fake-20240102-030405'));
  });

  it('aggregateSeeds: sample statistics of finite numeric scalars only', () => {
    const a = aggregateSeeds([{ x: 1, y: 'a', z: [1] }, { x: 3, w: NaN }, { x: 8 }]);
    expect(Object.keys(a)).toEqual(['x']);
    expect(a.x!.mean).toBe(4);
    expect(a.x!.std).toBeCloseTo(Math.sqrt(13), 12);
  });

  // plain float64 reference, written out here: mean = Σx/n, sample std = sqrt(Σ(x − mean)² / (n − 1))
  const plainStats = (xs: number[]): { mean: number; std: number } => {
    let sum = 0;
    for (const x of xs) sum += x;
    const mean = sum / xs.length;
    let ss = 0;
    for (const x of xs) ss += (x - mean) ** 2;
    return { mean, std: Math.sqrt(ss / (xs.length - 1)) };
  };

  it('aggregateSeeds near the float64 range: no overflow of the sum or the squares (it gave mean Infinity)', () => {
    // two metrics of 1e308: mean 1e308, std 0 (the plain sum is 2e308 = Infinity)
    expect(aggregateSeeds([{ x: 1e308 }, { x: 1e308 }]).x).toEqual({ mean: 1e308, std: 0, min: 1e308, max: 1e308, n: 2 });
    // x = a · 2^1021 with a = 5, 6, 7 (each below 2^1024, the sum 18 · 2^1021 above): scaling by a
    // power of two is exact, so mean and std are exactly 2^1021 times those of a: 6 · 2^1021, 2^1021
    const c = 2 ** 1021;
    const a = [5, 6, 7];
    const ref = plainStats(a);
    const big = aggregateSeeds(a.map((v) => ({ x: v * c }))).x!;
    expect(big.mean).toBe(ref.mean * c);
    expect(big.std).toBe(ref.std * c);
    expect(big.mean).toBe(6 * c);
    expect(big.std).toBe(c);
    // ±1e308: the sum is fine, the squared deviations overflow: mean 0, std = sqrt(2 · 1e616 / 1) = √2 · 1e308
    const pm = aggregateSeeds([{ x: 1e308 }, { x: -1e308 }]).x!;
    expect(pm.mean).toBe(0);
    expect(Math.abs(pm.std / (Math.SQRT2 * 1e308) - 1)).toBeLessThan(4e-16);
    // 1.5e308, 1.7e308, 1.6e308: mean 1.6e308, deviations ±1e307 → std = 1e307
    const three = aggregateSeeds([{ x: 1.5e308 }, { x: 1.7e308 }, { x: 1.6e308 }]).x!;
    expect(Math.abs(three.mean / 1.6e308 - 1)).toBeLessThan(4e-16);
    expect(Math.abs(three.std / 1e307 - 1)).toBeLessThan(1e-14);
  });

  it('aggregateSeeds near underflow: squared deviations below 1e-308 are not lost (std was 0)', () => {
    // 1e-200, 3e-200: mean 2e-200, deviations ±1e-200 whose squares (1e-400) underflow to 0: std √2 · 1e-200
    const t = aggregateSeeds([{ x: 1e-200 }, { x: 3e-200 }]).x!;
    expect(Math.abs(t.mean / 2e-200 - 1)).toBeLessThan(4e-16);
    expect(Math.abs(t.std / (Math.SQRT2 * 1e-200) - 1)).toBeLessThan(1e-15);
    // a · 2^-700 with a = 1, 3, 8: exactly 2^-700 times the statistics of a
    const c = 2 ** -700;
    const ref = plainStats([1, 3, 8]);
    const tiny = aggregateSeeds([1, 3, 8].map((v) => ({ x: v * c }))).x!;
    expect(tiny.mean).toBe(ref.mean * c);
    expect(tiny.std).toBe(ref.std * c);
  });

  it('aggregateSeeds on ordinary data: bit for bit the plain float64 formulas', () => {
    let s = 12345;
    const rand = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 1e3;
    for (const n of [2, 3, 10, 1000]) {
      const xs = Array.from({ length: n }, rand);
      const ref = plainStats(xs);
      const got = aggregateSeeds(xs.map((x) => ({ x }))).x!;
      expect(got.mean).toBe(ref.mean);
      expect(got.std).toBe(ref.std);
    }
    expect(aggregateSeeds([{ x: 0.1 }, { x: 0.1 }, { x: 0.1 }]).x).toMatchObject(plainStats([0.1, 0.1, 0.1])); // its rounding too (std ≈ 2.4e-17, not 0)
    expect(aggregateSeeds([{ x: 0 }, { x: 0 }]).x).toMatchObject({ mean: 0, std: 0 });
    expect(aggregateSeeds([{ x: 1e308 }]).x).toEqual({ mean: 1e308, std: 0, min: 1e308, max: 1e308, n: 1 });
  });

  it('aggregateSeeds over 200 000 summaries (twice MAX_RUNS): closed forms, no spread of the values', () => {
    // x_i = 3 i − 7 for i = 1 … N, shuffled so min and max are not at the ends:
    // mean = 3 (N + 1)/2 − 7, sample std = 3 sqrt(N (N + 1) / 12), min = −4, max = 3 N − 7.
    // Math.min(...values) overflowed the call stack at this length ("Maximum call stack size exceeded").
    const N = 200_000;
    const xs = Array.from({ length: N }, (_, i) => 3 * (i + 1) - 7);
    for (let i = N - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    const a = aggregateSeeds(xs.map((x) => ({ x })));
    expect(a.x!.n).toBe(N);
    expect(a.x!.min).toBe(-4);
    expect(a.x!.max).toBe(3 * N - 7);
    expect(a.x!.mean).toBe((3 * (N + 1)) / 2 - 7); // integer sums below 2^53: exact
    // the sum of squared deviations reaches ~6e15 (ulp 1): N roundings of at most 0.5 each bound its
    // relative error by 2e5 · 0.5 / 6e15 ≈ 1.7e-11, the std's by half that
    const rel = a.x!.std / (3 * Math.sqrt((N * (N + 1)) / 12)) - 1;
    expect(Math.abs(rel)).toBeLessThan(1e-10);
  });
});
