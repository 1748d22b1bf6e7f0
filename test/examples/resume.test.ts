// Acceptance (issue 11): for each long example in `tiny` mode, SIGINT mid-run (held at a known
// checkpoint with CINDER_TEST_HOLD_AT_CHECKPOINT) → exit 130 within 2 s with the summary,
// figures, artifacts and a checkpoint written; then `--resume` finishes with artifacts
// byte-identical to an uninterrupted run (same backend).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { folderBytes } from '../helpers/files.js';
import { runSummary, startCinder } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-ex-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const start = (args: string[], env: Record<string, string> = {}) => startCinder([...args], { CINDER_BACKEND: 'cpu', ...env });
const summary = runSummary;

const CASES: { example: string; args: string[]; hold: number }[] = [
  { example: 'florian', args: ['--mode', 'tiny'], hold: 3 },
  { example: 'song2000', args: ['--mode', 'tiny'], hold: 3 },
  { example: 'song2000', args: ['--mode', 'tiny', '--engine', 'tfjs'], hold: 3 },
  { example: 'quickstart', args: ['--mode', 'tiny'], hold: 1 },
  { example: 'eprop-evidence', args: ['--mode', 'tiny'], hold: 1 },
];

describe('SIGINT then --resume: byte-identical artifacts', () => {
  for (const c of CASES) {
    it(`${c.example} (${c.args.join(' ')})`, async () => {
      const slug = `${c.example}${c.args.join('')}`.replace(/[^A-Za-z0-9]/g, '');
      const full = join(tmp, `${slug}-full`);
      const a = start([c.example, ...c.args, '--out', full]);
      expect(await a.exited, a.err()).toBe(0);

      const part = join(tmp, `${slug}-part`);
      const b = start([c.example, ...c.args, '--out', part], { CINDER_TEST_HOLD_AT_CHECKPOINT: String(c.hold) });
      const t0 = Date.now();
      while (Number(summary(part).checkpoints ?? 0) < c.hold) {
        if (Date.now() - t0 > 120_000) throw new Error(`no checkpoint ${c.hold}: ${b.err()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const t1 = Date.now();
      b.child.kill('SIGINT');
      expect(await b.exited, b.err()).toBe(130);
      expect(Date.now() - t1).toBeLessThan(2000);
      expect(summary(part).status).toBe('interrupted');
      expect(readdirSync(join(part, 'checkpoint')).length).toBeGreaterThan(0); // a checkpoint was saved
      expect(readdirSync(join(part, 'artifacts')).length).toBeGreaterThan(0);
      expect(readdirSync(join(part, 'figures')).some((f) => f.endsWith('.html'))).toBe(true);

      const r = start([c.example, '--resume', part]);
      expect(await r.exited, r.err()).toBe(0);
      expect(summary(part).status).toBe('completed');
      // the resumed run frees what it loaded (the last line is the resumed run's)
      const ends = readFileSync(join(part, 'log.txt'), 'utf8').match(/tensors alive: \d+ \([+-]\d+\)/g) ?? [];
      expect(ends.at(-1)).toMatch(/\(\+0\)$/);
      const fa = folderBytes(join(full, 'artifacts'));
      const fb = folderBytes(join(part, 'artifacts'));
      expect([...fb.keys()].sort()).toEqual([...fa.keys()].sort());
      for (const [k, v] of fa) expect(fb.get(k) === v, `artifacts/${k} byte-identical`).toBe(true);
    }, 180_000);
  }
});
