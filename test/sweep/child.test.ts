// One job's process (startJob) with stand-in commands (sh scripts that write what a run would):
// exit 0 counts as completed only with a completed run's run_summary.json; a process that exits 0
// without one (no folder, no summary, garbage, a JSON array, a summary still saying running) fails
// the job with the reason instead of recording a completed run without results, which a continued
// sweep would then skip for good.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startJob } from '../../src/sweep/child.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-child-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** Runs `body` as the job's command (sh; `$out` is the attempt folder given as --out). */
async function job(body: string) {
  const dir = join(root, `j${n++}`);
  const script = `${dir}.sh`;
  writeFileSync(script, `out=""; while [ $# -gt 0 ]; do if [ "$1" = "--out" ]; then out="$2"; fi; shift; done\n${body}\n`);
  const outDir = join(dir, 'runs', 'value=1_seed=0');
  const r = await startJob({ args: ['sweep-fake'], outDir }, { command: ['/bin/sh', script] }).done;
  return { ...r, outDir };
}

const writeSummary = (text: string) => `mkdir -p "$out"; printf '%s' '${text}' > "$out/run_summary.json"`;

describe('startJob: what exit 0 must leave', () => {
  it('a completed run\'s summary: completed, with its metrics', async () => {
    const r = await job(`${writeSummary('{"status":"completed","score":12.5}')}; exit 0`);
    expect(r.status).toBe('completed');
    expect(r.error).toBeUndefined();
    expect(r.summary).toEqual({ status: 'completed', score: 12.5 });
    expect(JSON.parse(readFileSync(join(r.outDir, 'run_summary.json'), 'utf8')).score).toBe(12.5);
  });

  const bad: [string, string, RegExp][] = [
    ['no run folder', 'exit 0', /exit code 0, but it wrote no run folder/],
    ['no run_summary.json', 'mkdir -p "$out"; exit 0', /exit code 0, but it wrote no .*run_summary\.json/],
    ['garbage', `${writeSummary('{"status":"completed","score":1')}; exit 0`, /exit code 0, but .*run_summary\.json is not readable JSON/],
    ['a JSON array', `${writeSummary('[5,6]')}; exit 0`, /exit code 0, but .*run_summary\.json is not a JSON object/],
    ['a summary still saying running', `${writeSummary('{"status":"running","score":1}')}; exit 0`, /exit code 0, but .*run_summary\.json says status "running", not "completed"/],
  ];
  for (const [what, body, error] of bad) {
    it(`${what}: failed, saying so`, async () => {
      const r = await job(body);
      expect(r.exitCode).toBe(0);
      expect(r.status).toBe('failed');
      expect(r.error).toMatch(error);
      expect(Array.isArray(r.summary)).toBe(false);
    });
  }

  it('a crash keeps its own reason (stderr), with or without a summary', async () => {
    const r = await job('echo "Error: out of cheese" >&2; exit 3');
    expect(r).toMatchObject({ status: 'failed', exitCode: 3, error: 'Error: out of cheese' });
    const s = await job(`${writeSummary('{"status":"failed","error":"diverged at step 7"}')}; exit 1`);
    expect(s).toMatchObject({ status: 'failed', exitCode: 1, error: 'diverged at step 7' });
  });
});
