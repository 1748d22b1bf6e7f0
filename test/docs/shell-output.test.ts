// Command lines the docs show together with their output, and the Python snippet that reads a run
// folder, run for real: the output shown is what the command prints, and the arrays have the
// shapes and dtypes the docs give them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../examples/index.js';
import { runCli } from '../../src/cli/program.js';
import { registeredExamples } from '../../src/cli/registry.js';
import { parseSweepArgs } from '../../src/sweep/cli.js';
import { expandPlan } from '../../src/sweep/plan.js';
import { codeBlocks } from './markdown.js';

const root = mkdtempSync(path.join(tmpdir(), 'cinder-docs-shell-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cinder(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: { write: (s: string) => ((out += s), true) }, err: { write: (s: string) => ((err += s), true) }, handleSignals: false, isTTY: false, env: { ...process.env, CI: '1' } });
  return { code, out, err };
}

/** The `$ npx cinder …` block of docs/examples.md whose command contains `text`: its arguments and the output lines shown. */
function shown(text: string): { args: string[]; output: string[] } {
  const b = codeBlocks('docs/examples.md').find((x) => x.code.startsWith('$ npx cinder') && x.code.split('\n')[0]!.includes(text));
  expect(b, text).toBeTruthy();
  const [cmd, ...output] = b!.code.split('\n').filter((l) => l.trim() !== '');
  return { args: cmd!.replace(/^\$ npx cinder /, '').split(/\s+/), output };
}

describe('docs command output', () => {
  it('examples.md: a bad value prints the flag, the value and what is accepted, exits 2 and writes nothing', async () => {
    const s = shown('--steps 2.5');
    const out = path.join(root, 'bad-steps');
    const r = await cinder([...s.args, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err.trimEnd().split('\n')).toEqual(s.output);
    expect(existsSync(out)).toBe(false); // nothing written
  });

  it('examples.md: --drive 1e37 fails with exit 3 and the message shown', async () => {
    const s = shown('--drive 1e37');
    const r = await cinder([...s.args, '--out', path.join(root, 'drive'), '--quiet']);
    expect(r.code).toBe(3);
    expect(s.output).toHaveLength(1);
    expect(r.err).toContain(s.output[0]);
  }, 120_000);

  it('run-folder.md: the Python snippet reads a lif-demo run with the shapes and dtypes the docs give', async () => {
    const dir = path.join(root, 'lif-demo-tiny');
    const r = await cinder(['lif-demo', '--mode', 'tiny', '--out', dir, '--quiet']);
    expect(r.code).toBe(0);
    const b = codeBlocks('docs/run-folder.md').find((x) => x.lang === 'python')!;
    expect(b.code).toContain('runs/lif-demo-…/');
    const check = `
print(json.dumps({"spikes": [list(spikes.shape), str(spikes.dtype)], "v": [list(v.shape), str(v.dtype)],
  "w": list(w.shape), "input": [list(rec["input_spikes"].shape), str(rec["input_spikes"].dtype)],
  "time": list(rec["time_ms"].shape), "status": summary["status"]}))`;
    const py = spawnSync('python3', ['-c', b.code.replaceAll('runs/lif-demo-…/', `${dir}/`) + check], { encoding: 'utf8' });
    expect(py.stderr).toBe('');
    const got = JSON.parse(py.stdout.trim().split('\n').pop()!);
    // tiny: nIn 20, nOut 5, 200 steps; examples.md: output_spikes [T, nOut] uint8, voltage_mv [T, nOut] float32, input_spikes [T, nIn] uint8, time_ms [T]
    expect(got).toEqual({ spikes: [[200, 5], 'uint8'], v: [[200, 5], 'float32'], w: [5, 20], input: [[200, 20], 'uint8'], time: [200], status: 'completed' });
  }, 120_000);

  it('sweeps.md: the grid sweep is the Cartesian product of its grid and seeds, and flags after -- go to the example', () => {
    const lines = codeBlocks('docs/sweeps.md').filter((b) => b.lang === 'sh').flatMap((b) => b.code.split('\n'));
    const grid = lines.find((l) => l.startsWith('cinder sweep lif-demo'))!.replace(/\s+#.*$/, '');
    const req = parseSweepArgs(grid.split(/\s+/).slice(2), registeredExamples());
    const { runs } = expandPlan(req.spec, req.plan);
    // --grid drive=10,20,30 --grid tau-m=10,20 --seeds 1..10: 3 × 2 × 10 runs, each a distinct point and seed
    expect(runs).toHaveLength(3 * 2 * 10);
    expect(new Set(runs.map((r) => `${r.point.drive}/${r.point.tauM}/${r.seed}`)).size).toBe(60);
    expect([...new Set(runs.map((r) => r.seed))]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // the `--` example: its flags after `--` are the example's, the sweep's --workers is the sweep's
    const text = readFileSync('docs/sweeps.md', 'utf8').replace(/\n\s*/g, ' ');
    const dashed = /`(cinder sweep [a-z0-9-]+ [^`]* -- [^`]*)`/.exec(text)![1]!;
    const args = dashed.split(/\s+/).slice(2);
    const r2 = parseSweepArgs(args, registeredExamples());
    const after = args.slice(args.indexOf('--') + 1);
    const before = args.slice(1, args.indexOf('--'));
    expect(r2.workers).toBe(Number(before[before.indexOf('--workers') + 1]));
    for (let i = 0; i < after.length; i += 2) {
      const option = r2.spec.options.find((o) => `--${o.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` === after[i])!;
      expect(option, after[i]).toBeTruthy();
      expect(String(r2.plan.flags[option.name])).toBe(after[i + 1]);
    }
  });
});
