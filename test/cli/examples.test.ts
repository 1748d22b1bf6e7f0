// Acceptance: every registered example runs in its `tiny` preset through the `cinder` command
// (a subprocess, `node --import tsx bin/cinder.ts`); the run folder has the documented summary
// keys and every figure; re-running with the saved params.json reproduces the summary metrics.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../examples/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function cinder(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/cinder.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8'));
/** The example names `cinder list` printed, one per line. */
const listed = (stdout: string): string[] => stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]!);

describe('cinder list', () => {
  it('names every registered example', () => {
    const r = cinder(['list']);
    expect(r.code).toBe(0);
    expect(listed(r.stdout)).toEqual(EXAMPLES.map((e) => e.name));
  });

  it('runs as the built command too (package.json bin, executed as `npx cinder` runs it, after npm install)', () => {
    const bin = (json(join(root, 'package.json')).bin as Record<string, string>).cinder;
    const file = join(root, bin);
    expect(existsSync(file), `${bin} is missing: npm install (prepare) or npm run build writes it`).toBe(true);
    // executed directly (its shebang), not through node: a checkout's tsc output must be executable
    const r = spawnSync(file, ['list'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.error?.message ?? null).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(listed(r.stdout)).toEqual(EXAMPLES.map((e) => e.name));
  });
});

describe.each(EXAMPLES.map((e) => [e.name, e] as const))('cinder %s --mode tiny', (name, spec) => {
  it('writes a complete run folder that its params.json reproduces, and frees every tensor it made', () => {
    const dir = mkdtempSync(join(tmpdir(), `cinder-${name}-`));
    const a = cinder([name, '--mode', 'tiny', '--seed', '3', '--quiet', '--out', join(dir, 'a')]);
    expect(a.code, a.stderr).toBe(0);
    // --quiet: nothing from cinder (tfjs's own cpu-backend banner may still reach stderr)
    expect(a.stdout).toBe('');
    expect(a.stderr).not.toMatch(/error|lif-demo:|\d+\/\d+/i);
    const summary = json(join(dir, 'a', 'run_summary.json'));
    expect(summary.status).toBe('completed');
    for (const k of spec.summaryKeys) expect(summary, `summary key ${k}`).toHaveProperty(k);
    const manifest = json(join(dir, 'a', 'figures', 'figures.json')) as Record<string, { panels: number; traces: number }>;
    for (const f of spec.figures) {
      expect(existsSync(join(dir, 'a', 'figures', `${f}.html`)), `figure ${f}`).toBe(true);
      expect(manifest[f]!.panels).toBeGreaterThanOrEqual(1);
    }
    expect(existsSync(join(dir, 'plotly.min.js'))).toBe(true); // one shared copy per parent folder
    expect(existsSync(join(dir, 'a', 'figures', 'plotly.min.js'))).toBe(false);
    // The runner logs the live tensors at the end against the count before the example started.
    expect(readFileSync(join(dir, 'a', 'log.txt'), 'utf8')).toMatch(/tensors alive: \d+ \(\+0\)/);
    const params = json(join(dir, 'a', 'params.json'));
    expect(params).toMatchObject({ example: name, mode: 'tiny', seed: 3, seeds: 1 });

    const b = cinder([name, '--params', join(dir, 'a', 'params.json'), '--quiet', '--out', join(dir, 'b')]);
    expect(b.code).toBe(0);
    expect(json(join(dir, 'b', 'params.json')).params).toEqual(params.params);
    const again = json(join(dir, 'b', 'run_summary.json'));
    const volatile = new Set(spec.volatileKeys ?? []);
    for (const k of spec.summaryKeys) {
      // Timing metrics cannot repeat; examples that predate `volatileKeys` name them "seconds".
      if (volatile.has(k) || /seconds/.test(k)) continue;
      expect(again[k], `summary key ${k} reproduced`).toEqual(summary[k]);
    }
  });
});
