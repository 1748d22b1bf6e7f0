// `npm run bench` checks its arguments before the backend starts and before any case runs: a typo
// costs no half-run (before: `lif-dense nosuch` ran lif-dense, then failed; `--help` started the
// whole bench; a bad --backend printed a stack trace).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bench = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });

describe('npm run bench: arguments', () => {
  it('--help prints the usage and every case, each a module in bench/, and runs nothing', () => {
    const r = bench('--help');
    expect(r.status).toBe(0);
    const cases = /cases: ([^(]+)\(/.exec(r.stdout)?.[1]?.split(',').map((c) => c.trim()).filter(Boolean) ?? [];
    expect(cases).toContain('quickstart');
    for (const c of cases) expect(existsSync(join(root, 'bench', `${c}.ts`)), c).toBe(true);
    expect(r.stdout).not.toMatch(/^\{/m);
    expect(r.stderr).not.toMatch(/# backend/);
  });

  it.each([
    [['lif-dense', 'nosuch'], /invalid bench case: got "nosuch", expected one of lif-dense, /],
    [['--fast'], /invalid option: got "--fast", expected --backend <name> or --help/],
    [['--backend'], /invalid --backend: got nothing, expected a backend name/],
    [['lif-dense', '--backend', 'nosuch'], /^invalid backend: got "nosuch", expected one of auto, /m],
  ])('%j exits 2 with the reason, before any case runs', (args, reason) => {
    const r = bench(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(reason);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stdout).toBe(''); // no JSON line: lif-dense did not run
  });

  it('a reader that closes the pipe (`npm run bench | true`) stops the bench quietly, exit 0', () => {
    // `true` exits at once, so the first JSON line meets a closed pipe (EPIPE); before: a stack
    // trace and exit 1
    const r = spawnSync('bash', ['-c', 'node --import tsx bench/run.ts lif-dense --backend cpu | true; echo "exit ${PIPESTATUS[0]}" >&2'], {
      cwd: root, encoding: 'utf8', timeout: 120_000,
    });
    expect(r.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(r.stderr).toMatch(/^# backend cpu$/m); // it did start and run
    expect(r.stderr.trim().split('\n').pop()).toBe('exit 0');
  }, 120_000);
});
