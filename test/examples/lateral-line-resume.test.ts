// Issue 9 item 4: an interrupted lateral-line run resumes (`--resume DIR`) to the same result —
// one batch, and two batches in worker threads (each batch continues from its own checkpoint).
// SIGINT is sent while the run is held at a known checkpoint (CINDER_TEST_HOLD_AT_CHECKPOINT; in
// worker mode the worker waits for the main thread's acknowledgement of each checkpoint).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { folderBytes } from '../helpers/files.js';
import { runSummary, startCinder } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-ll-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const start = (args: string[], env: Record<string, string> = {}) => startCinder(['lateral-line', ...args], env);
const summary = runSummary;

/**
 * The summary without wall/CPU times and run bookkeeping (`resumed`, `resumed_at`, the checkpoint count). The
 * progress fields stay: the final summary states them for the whole run.
 */
function results(dir: string): unknown {
  const { timing: _t, started_at: _s, updated_at: _u, finished_at: _f, elapsed_s: _e, checkpoints: _c, status: _st, resumed: _r, resumed_at: _ra, ...rest } = summary(dir);
  return rest;
}

const CASES = [
  { name: 'one batch', args: ['--mode', 'tiny', '--multi-seed', '2'], files: ['mid_checkpoint.npz'] },
  { name: 'two workers', args: ['--mode', 'tiny', '--multi-seed', '2', '--workers', '2'], files: ['mid_checkpoint_batch_0.npz', 'mid_checkpoint_batch_1.npz'] },
];

describe('lateral-line: SIGINT at a checkpoint, then --resume gives the uninterrupted result', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const slug = c.name.replace(/\W/g, '');
      const full = join(tmp, `${slug}-full`);
      const a = start([...c.args, '--out', full]);
      expect(await a.exited, a.err()).toBe(0);
      // the final summary's progress fields cover the whole run (before: those of the last
      // checkpoint, trial 2 of 4), one σθ per seed: the last point of its PV-vs-training curve
      const fin = summary(full) as { trials_done: number; last_pv_sigma_theta_rad: number[]; runs: { pv_vs_training_time: { sigma_theta_rad: number[] } }[] };
      expect(fin.trials_done).toBe(4);
      expect(fin.last_pv_sigma_theta_rad).toEqual(fin.runs.map((r) => r.pv_vs_training_time.sigma_theta_rad.at(-1)));
      // the LL-layer PV and FWHM tuning widths are there (and so compared below)
      for (const r of fin.runs as unknown as Record<string, unknown>[]) {
        expect(Number.isFinite((r.pv_ll_map_quality as { sigma_theta_rad: number }).sigma_theta_rad)).toBe(true);
        expect(Number.isFinite(r.tuning_fwhm_ll_cm_mean)).toBe(true);
        expect(Number(r.tuning_fwhm_ts_n_valid)).toBeGreaterThan(0);
      }

      const part = join(tmp, `${slug}-part`);
      // checkpoint 1 is the header; 2 is the first trial checkpoint (after its npz is written)
      const b = start([...c.args, '--out', part], { CINDER_TEST_HOLD_AT_CHECKPOINT: '2' });
      const t0 = Date.now();
      while (Number(summary(part).checkpoints ?? 0) < 2) {
        if (Date.now() - t0 > 120_000) throw new Error(`no checkpoint 2: ${b.err()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      b.child.kill('SIGINT');
      expect(await b.exited, b.err()).toBe(130);
      expect(summary(part).status).toBe('interrupted');
      // the held batch stopped at its checkpoint: at least one batch's npz is there to resume from
      expect(c.files.some((f) => existsSync(join(part, 'artifacts', f)))).toBe(true);

      const r = start(['--resume', part]);
      expect(await r.exited, r.err()).toBe(0);
      expect(summary(part).status).toBe('completed');
      // continued from a checkpoint (a fresh rerun would also reach the same numbers)
      expect(readFileSync(join(part, 'log.txt'), 'utf8')).toMatch(/resumed at trial 2 of 4/);
      expect(results(part)).toEqual(results(full));
      const fa = folderBytes(join(full, 'artifacts'));
      const fb = folderBytes(join(part, 'artifacts'));
      expect([...fb.keys()].sort()).toEqual([...fa.keys()].sort());
      for (const [k, v] of fa) expect(fb.get(k) === v, `artifacts/${k} byte-identical`).toBe(true);
    }, 240_000);
  }
});
