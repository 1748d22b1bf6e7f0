// Lost-work regressions (issue 11): SIGINT mid-run stops within 2 s with everything written and
// `--resume` finishes byte-identically to an uninterrupted run; a run folder is locked while a run
// writes it (a second run is refused with exit 2 and overwrites nothing); a SIGKILLed run is
// reported as `crashed` (never `running` forever) and can be resumed; --out on a pseudo file
// system or a file fails fast with exit 2.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { folderBytes } from '../helpers/files.js';
import { runCli } from '../../src/cli/program.js';
import { fakeExample } from './fixtures/fake-example.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'test', 'cli', 'fixtures', 'fake-cli.ts');
const tmp = mkdtempSync(join(tmpdir(), 'cinder-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Child {
  exited: Promise<number | null>;
  kill(sig: NodeJS.Signals): void;
  stderr(): string;
  stdout(): string;
}

function start(args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr.on('data', (d) => (err += d));
  child.stdout.on('data', (d) => (out += d));
  return { exited: new Promise((r) => child.on('exit', (code, sig) => r(code ?? (sig ? -1 : null)))), kill: (s) => child.kill(s), stderr: () => err, stdout: () => out };
}

function json(p: string): Record<string, unknown> {
  return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
}

async function until(cond: () => boolean, what: string, child?: Child): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 60_000) throw new Error(`timed out waiting for ${what}: ${child?.stderr() ?? ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function checkpointsOf(dir: string): number {
  try {
    return Number(json(join(dir, 'run_summary.json')).checkpoints ?? 0);
  } catch {
    return 0;
  }
}

const RUN = ['fake', '--steps', '12', '--gain', '1', '--resumable', '--quiet'];
const HOLD = { CINDER_TEST_HOLD_AT_CHECKPOINT: '5' };


describe('resume, locks and crashes', () => {
  it('SIGINT mid-run: exit 130 within 2 s, everything written; --resume finishes with byte-identical artifacts', async () => {
    const full = join(tmp, 'full');
    const a = start([...RUN, '--out', full]);
    expect(await a.exited).toBe(0);

    const part = join(tmp, 'part');
    const b = start([...RUN, '--out', part], HOLD);
    await until(() => checkpointsOf(part) >= 5, 'checkpoint 5', b);
    const t0 = Date.now();
    b.kill('SIGINT');
    expect(await b.exited).toBe(130);
    expect(Date.now() - t0).toBeLessThan(2000);
    const s = json(join(part, 'run_summary.json'));
    expect(s).toMatchObject({ status: 'interrupted', steps_done: 5, total: 15 });
    expect(readdirSync(join(part, 'figures'))).toContain('curve.html');
    expect(readdirSync(join(part, 'artifacts')).sort()).toEqual(['curve.npy', 'info.json']);
    expect(existsSync(join(part, 'checkpoint', 'model.json'))).toBe(true);
    expect(existsSync(join(part, '.lock'))).toBe(false);

    const c = start(['fake', '--resume', part, '--quiet']);
    expect(await c.exited).toBe(0);
    const r = json(join(part, 'run_summary.json'));
    expect(r).toMatchObject({ status: 'completed', steps_done: 12, total: 78, squares: 650, resumed: 1 });
    const fa = folderBytes(join(full, 'artifacts'));
    const fb = folderBytes(join(part, 'artifacts'));
    expect([...fb.keys()].sort()).toEqual([...fa.keys()].sort());
    for (const [k, v] of fa) expect(fb.get(k), `artifacts/${k} byte-identical`).toBe(v);
    expect(readFileSync(join(part, 'log.txt'), 'utf8')).toMatch(/resumed after step 5/);
  }, 90_000);

  it('a second run into a folder in use is refused with exit 2 and overwrites nothing', async () => {
    const dir = join(tmp, 'busy');
    const a = start([...RUN, '--out', dir], HOLD);
    await until(() => checkpointsOf(dir) >= 5, 'checkpoint 5', a);
    const before = folderBytes(dir);
    const b = start([...RUN, '--out', dir]);
    expect(await b.exited).toBe(2);
    expect(b.stderr()).toMatch(/in use by process \d+ on /);
    const resumeAttempt = start(['fake', '--resume', dir]);
    expect(await resumeAttempt.exited).toBe(2);
    expect(folderBytes(dir)).toEqual(before);
    a.kill('SIGINT');
    expect(await a.exited).toBe(130);
  }, 90_000);

  it('a seed folder of a live multi-seed run is locked too: status says running, --resume of it alone is refused with exit 2', async () => {
    const dir = join(tmp, 'busy-seeds');
    const a = start([...RUN, '--seeds', '2', '--out', dir], HOLD);
    const seed0 = join(dir, 'seed-0');
    await until(() => checkpointsOf(seed0) >= 5, 'checkpoint 5 of seed 0', a);
    const st = start(['status', seed0]);
    expect(await st.exited).toBe(0);
    expect(st.stdout() + st.stderr()).toMatch(/running/);
    expect(json(join(seed0, 'run_summary.json')).status).toBe('running');
    const before = folderBytes(seed0);
    const resumeAttempt = start(['fake', '--resume', seed0]);
    expect(await resumeAttempt.exited).toBe(2);
    expect(resumeAttempt.stderr()).toMatch(/in use by process \d+ on /);
    expect(folderBytes(seed0)).toEqual(before);
    a.kill('SIGINT');
    expect(await a.exited).toBe(130);
    expect(existsSync(join(seed0, '.lock'))).toBe(false);
  }, 90_000);

  it('SIGKILL: the folder is reported crashed (status and run_summary), refused without --resume, and resumes to the full result', async () => {
    const dir = join(tmp, 'killed');
    const a = start([...RUN, '--out', dir], HOLD);
    await until(() => checkpointsOf(dir) >= 5, 'checkpoint 5', a);
    a.kill('SIGKILL');
    await a.exited;
    expect(json(join(dir, 'run_summary.json')).status).toBe('running'); // what the killed process left
    const out: string[] = [];
    expect(await runCli(['status', dir], { examples: [fakeExample], out: { write: (s: string) => out.push(s) }, err: { write: () => {} } })).toBe(0);
    expect(out.join('')).toMatch(/^crashed \(was process \d+ on /);
    expect(json(join(dir, 'run_summary.json'))).toMatchObject({ status: 'crashed', steps_done: 5 });
    const again = start([...RUN, '--out', dir]);
    expect(await again.exited).toBe(2);
    expect(again.stderr()).toMatch(/died \(crashed\); continue it with --resume/);
    const c = start(['fake', '--resume', dir, '--quiet']);
    expect(await c.exited).toBe(0);
    expect(json(join(dir, 'run_summary.json'))).toMatchObject({ status: 'completed', steps_done: 12, total: 78, squares: 650 });
  }, 90_000);

  it('--out on a pseudo file system or on a file fails fast with exit 2 and creates nothing', async () => {
    const err: string[] = [];
    const opts = { examples: [fakeExample], out: { write: () => {} }, err: { write: (s: string) => err.push(s) }, handleSignals: false };
    const t0 = Date.now();
    expect(await runCli(['fake', '--mode', 'tiny', '--out', '/proc/x/run'], opts)).toBe(2);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err.join('')).toMatch(/--out.*\/proc.*pseudo file system/);
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    err.length = 0;
    expect(await runCli(['fake', '--mode', 'tiny', '--out', file], opts)).toBe(2);
    expect(err.join('')).toMatch(/--out.*a folder \(this is a file\)/);
    err.length = 0;
    expect(await runCli(['fake', '--mode', 'tiny', '--out', join(file, 'sub')], opts)).toBe(2);
    expect(err.join('')).toMatch(/--out.*is a file/);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('--resume refuses flags that would change the run, and completed runs', async () => {
    const dir = join(tmp, 'done');
    const opts = { examples: [fakeExample], out: { write: () => {} }, err: { write: () => {} }, handleSignals: false };
    expect(await runCli(['fake', '--mode', 'tiny', '--quiet', '--out', dir], opts)).toBe(0);
    const err: string[] = [];
    const o2 = { ...opts, err: { write: (s: string) => err.push(s) } };
    expect(await runCli(['fake', '--resume', dir, '--steps', '4'], o2)).toBe(2);
    expect(err.join('')).toMatch(/--resume: got "--steps", expected no flags that change the run/);
    expect(await runCli(['fake', '--resume', dir], o2)).toBe(2);
    expect(err.join('')).toMatch(/this one completed/);
  });
});

describe('a run whose parent dies (npx killed with SIGTERM)', () => {
  it('notices it is orphaned, stops at the next safe point and records interrupted', async () => {
    const dir = join(tmp, 'orphan');
    // sh plays npx: it runs the command as a child and dies of the SIGTERM itself, without forwarding it
    const cmd = `"${process.execPath}" --import tsx "${script}" ${RUN.join(' ')} --out "${dir}" & wait`;
    const sh = spawn('/bin/sh', ['-c', cmd], { cwd: root, env: { ...process.env, ...HOLD }, stdio: 'ignore' });
    await until(() => checkpointsOf(dir) >= 5, 'checkpoint 5');
    const t0 = Date.now();
    sh.kill('SIGTERM');
    await until(() => {
      try {
        return json(join(dir, 'run_summary.json')).status === 'interrupted' && !existsSync(join(dir, '.lock'));
      } catch {
        return false;
      }
    }, 'interrupted status after the parent died');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(json(join(dir, 'run_summary.json'))).toMatchObject({ status: 'interrupted', steps_done: 5 });
    expect(readdirSync(join(dir, 'artifacts')).sort()).toEqual(['curve.npy', 'info.json']);
  }, 60_000);
});

describe('more lost-work regressions', () => {
  it('a second signal exits at once and deletes nothing already written', async () => {
    const dir = join(tmp, 'twice');
    const a = start([...RUN, '--ignore-signal', '--delay-ms', '30', '--out', dir], HOLD);
    await until(() => checkpointsOf(dir) >= 5, 'checkpoint 5', a);
    a.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 100));
    a.kill('SIGINT');
    expect(await a.exited).toBe(130);
    const s = json(join(dir, 'run_summary.json'));
    expect(s.status).toBe('interrupted');
    expect(Number(s.steps_done)).toBeGreaterThanOrEqual(5);
    expect(existsSync(join(dir, 'checkpoint', 'model.json'))).toBe(true);
    expect(existsSync(join(dir, 'params.json'))).toBe(true);
    expect(readFileSync(join(dir, 'log.txt'), 'utf8').length).toBeGreaterThan(0);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    // and it resumes from the checkpoint it left
    const c = start(['fake', '--resume', dir, '--quiet']);
    expect(await c.exited).toBe(0);
    expect(json(join(dir, 'run_summary.json'))).toMatchObject({ status: 'completed', steps_done: 12, total: 78 });
  }, 90_000);

  it('--seeds: an interrupted multi-seed run resumes the unfinished seed and runs the others; the result equals an uninterrupted run', async () => {
    const full = join(tmp, 'seeds-full');
    const a = start([...RUN, '--seeds', '3', '--seed', '1', '--out', full]);
    expect(await a.exited).toBe(0);
    const part = join(tmp, 'seeds-part');
    const b = start([...RUN, '--seeds', '3', '--seed', '1', '--out', part], HOLD);
    await until(() => checkpointsOf(join(part, 'seed-1')) >= 5, 'seed 1 checkpoint 5', b);
    b.kill('SIGINT');
    expect(await b.exited).toBe(130);
    expect(json(join(part, 'run_summary.json')).status).toBe('interrupted');
    const c = start(['fake', '--resume', part, '--quiet']);
    expect(await c.exited).toBe(0);
    const sa = json(join(full, 'run_summary.json'));
    const sb = json(join(part, 'run_summary.json'));
    expect(sb.status).toBe('completed');
    expect(sb.completed_seeds).toBe(3);
    const stats = (s: Record<string, unknown>) => (s.across_seeds as Record<string, unknown>).total;
    expect(stats(sb)).toEqual(stats(sa));
    for (const seed of [1, 2, 3]) {
      const fa = folderBytes(join(full, `seed-${seed}`, 'artifacts'));
      const fb = folderBytes(join(part, `seed-${seed}`, 'artifacts'));
      for (const [k, v] of fa) expect(fb.get(k) === v, `seed-${seed}/artifacts/${k}`).toBe(true);
    }
  }, 120_000);
});
