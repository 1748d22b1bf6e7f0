// The CLI side of issue 11: numerical faults fail a run with exit code 3 and `status: "failed"`
// naming the tensor; flags are refused by the library's own checks before any folder is written;
// `-q` silences tfjs's banner; the wasm glue no longer buries uncaught errors under its source.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../src/cli/program.js';
import { lifDemoExample } from '../../examples/lif-demo/index.js';
import { florianExample } from '../../examples/florian/index.js';
import { epropEvidenceExample } from '../../examples/eprop-evidence/index.js';
import { Sink } from '../cli/fixtures/sink.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const examples = [lifDemoExample, florianExample, epropEvidenceExample];

async function cli(args: string[]): Promise<{ code: number; out: string; err: string; dir: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'cinder-safety-')), 'run');
  const out = new Sink();
  const err = new Sink();
  const code = await runCli([...args, '--out', dir], { examples, out, err, handleSignals: false });
  return { code, out: out.text, err: err.text, dir };
}

const summary = (dir: string) => JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8')) as Record<string, unknown>;

describe('cinder: numerical faults fail the run (exit 3)', () => {
  it('florian --lr-post 3e38 --lr-pre -3e38 (within float32, overflowing in the run) fails instead of completing with null metrics', async () => {
    const r = await cli(['florian', '--lr-post', '3e38', '--lr-pre', '-3e38', '-q']);
    expect(r.code).toBe(EXIT.nonFinite);
    expect(EXIT.nonFinite).toBe(3);
    const s = summary(r.dir);
    expect(s.status).toBe('failed');
    expect(String(s.error)).toMatch(/non-finite value .* in metric final_weight_\w+ at checkpoint \d+/);
  });

  it('lif-demo --mode tiny --drive 1e37 (weights up to 4.7e37, whose float32 sum overflows: reported as a fault) names the tensor, at the checkpoint (default) and at the step (--check-finite step)', async () => {
    const a = await cli(['lif-demo', '--mode', 'tiny', '--drive', '1e37', '-q']);
    expect(a.code).toBe(3);
    expect(summary(a.dir).status).toBe('failed');
    expect(String(summary(a.dir).error)).toMatch(/in layer\.connection\.weight at checkpoint 1/);
    const b = await cli(['lif-demo', '--mode', 'tiny', '--drive', '1e37', '--check-finite', 'step', '-q']);
    expect(b.code).toBe(3);
    expect(String(summary(b.dir).error)).toMatch(/in layer\.connection\.weight at step 0/);
    const c = await cli(['lif-demo', '--mode', 'tiny', '--steps', '50', '--drive', '1e37', '--check-finite', 'off', '-q']);
    expect(c.code).toBe(0); // off: the run completes as before
  });

  it('lif-demo --drive 1e38: initial weights beyond float32 are refused naming --drive and its limit for the seed (none become ±Infinity)', async () => {
    const r = await cli(['lif-demo', '--mode', 'tiny', '--drive', '1e38', '-q']);
    expect(r.code).not.toBe(0);
    expect(summary(r.dir).status).toBe('failed');
    // w̄ = drive·1000/(nIn·r̄): the limit is drive·f32max/(2·w̄), below 1e38 and above 1e37 for seed 0
    const m = /invalid --drive: got 1e\+38, expected at most ([0-9.e+]+) for seed 0 \(the initial weights reach 2·w̄ = ([0-9.e+]+), beyond the largest float32\)/.exec(String(summary(r.dir).error));
    expect(m).toBeTruthy();
    const [limit, top] = [Number(m![1]), Number(m![2])];
    expect(top).toBeGreaterThan(3.4028234663852886e38);
    expect(limit).toBeCloseTo((1e38 * 3.4028234663852886e38) / top, -34);
    expect(limit).toBeGreaterThan(1e37);
  });

  it('--check-finite takes only off, checkpoint, step', async () => {
    const r = await cli(['lif-demo', '--mode', 'tiny', '--check-finite', 'sometimes']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toMatch(/off, checkpoint, step/);
    expect(existsSync(r.dir)).toBe(false);
  });
});

describe('cinder: flags are checked by the library before anything is written', () => {
  it('lif-demo --thresh-v -70 fails with exit 2 and no run folder', async () => {
    const r = await cli(['lif-demo', '--mode', 'tiny', '--thresh-v', '-70']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toMatch(/invalid resetV: got -65, expected a number < threshV \(-70\)/); // restV may lie above threshV (a tonic cell), resetV not
    expect(existsSync(r.dir)).toBe(false);
  });

  it('eprop-evidence --learning-rate 0 is refused by the same check the library applies', async () => {
    const r = await cli(['eprop-evidence', '--mode', 'tiny', '--learning-rate', '0']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toContain('cinder eprop-evidence: invalid --learning-rate: got "0", expected a finite number > 0');
    expect(existsSync(r.dir)).toBe(false);
  });
});

describe('user-facing output', () => {
  const tsx = ['--import', 'tsx'];

  it('-q silences the tfjs console banner of the cpu backend (which is printed without -q)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-quiet-'));
    const run = (extra: string[]) =>
      spawnSync(process.execPath, [...tsx, 'bin/cinder.ts', 'lif-demo', '--mode', 'tiny', '--steps', '20', '--backend', 'cpu', '--out', join(dir, extra.join('') || 'loud'), ...extra], {
        cwd: root, encoding: 'utf8', env: { ...process.env, CI: '1' },
      });
    const loud = run([]);
    expect(loud.status).toBe(0);
    expect(loud.stdout + loud.stderr).toMatch(/looks like you are running TensorFlow\.js in Node\.js/);
    const quiet = run(['-q']);
    expect(quiet.status).toBe(0);
    expect(quiet.stdout + quiet.stderr).toBe('');
  });

  it('an uncaught error in user code on wasm prints the error, not the wasm glue source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-uncaught-'));
    const script = join(dir, 'user.mts');
    writeFileSync(script, [
      `import { initBackend } from ${JSON.stringify(join(root, 'src', 'index.ts'))};`,
      `await initBackend({ backend: 'wasm' });`,
      `setTimeout(() => { throw new Error('user bug 4217'); }, 0);`,
    ].join('\n'));
    let stderr = '';
    try {
      execFileSync(process.execPath, [...tsx, script], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      stderr = String((e as { stderr?: string }).stderr ?? '');
    }
    expect(stderr).toMatch(/user bug 4217/);
    expect(stderr.length).toBeLessThan(4000); // was ~38 KB of minified emscripten source
  });

  it('a reader that closes the pipe early (`cinder … | true`) neither crashes the command nor loses the run', () => {
    // `true` exits before node has started, so every write to stdout meets a closed pipe (EPIPE);
    // before the fix: a stack trace, exit 1, and a run folder left with status "running"
    const dir = join(mkdtempSync(join(tmpdir(), 'cinder-epipe-')), 'run');
    const piped = (args: string) =>
      spawnSync('bash', ['-c', `node --import tsx bin/cinder.ts ${args} | true; echo "exit \${PIPESTATUS[0]}" >&2`], {
        cwd: root, encoding: 'utf8', env: { ...process.env, CI: '1' },
      });
    const list = piped('list');
    expect(list.stderr).not.toMatch(/EPIPE|Error/);
    expect(list.stderr.trim()).toBe('exit 0');
    const run = piped(`lif-demo --mode tiny --steps 40 --backend cpu --out ${dir}`);
    expect(run.stderr).not.toMatch(/EPIPE|Error/);
    expect(run.stderr.trim().split('\n').pop()).toBe('exit 0');
    expect(summary(dir).status).toBe('completed');
    expect(summary(dir).steps_done).toBe(40);
    expect(readFileSync(join(dir, 'log.txt'), 'utf8')).toMatch(/completed; tensors alive: 0/);
  });
});
