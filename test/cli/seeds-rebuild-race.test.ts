// rebuildSeedsSummary (`cinder status` of a crashed multi-seed run) rewrites the top run_summary.json
// from the seed folders. It used to read the top summary, look at the seed folders and then write
// unconditionally: a `--resume` that took the parent folder's lock in between and wrote its own top
// summary had it overwritten with the old one (status crashed, runs recomputed). The interleaving is
// made exact by a hook on the reads of the top run_summary.json (the resume runs right after the
// rebuild has read it), as in run-lock-race.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const hook = vi.hoisted(() => ({ top: '', onTop: [] as (() => void)[] }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((...args: Parameters<typeof fs.readFileSync>) => {
    const out = fs.readFileSync(...args);
    if (hook.top !== '' && String(args[0]) === hook.top) hook.onTop.shift()?.();
    return out;
  }) as typeof fs.readFileSync;
  return { ...fs, default: { ...fs, readFileSync }, readFileSync };
});

const { acquireLock, releaseLock } = await import('../../src/cli/run-lock.js');
const { rebuildSeedsSummary } = await import('../../src/cli/runner.js');
const { writeJsonAtomicSync } = await import('../../src/io/atomic.js');
const { tryLock } = await import('../../src/io/lock.js');
const { resumerAttempt } = await import('../helpers/run-lock.js');

const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;
const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/** The top summary a killed 3-seed run left: written after seed 0, before seeds 1 and 2. */
const leftTop = {
  status: 'crashed', example: 'x', seeds: [0, 1, 2], started_at: '2026-01-01T00:00:00.000Z', crashed_pid: 1,
  completed_seeds: 1, runs: [{ seed: 0, dir: 'seed-0', status: 'completed', score: 1 }], across_seeds: { score: { mean: 1, std: 0, min: 1, max: 1, n: 1 } },
};

/** A crashed 3-seed run: seeds 0 and 1 completed (score 1 and 3), seed 2 crashed; the parent's killed lock, or none. */
function crashedSeeds(withLock: boolean): { dir: string; top: string; lock?: Record<string, unknown> } {
  const dir = mkdtempSync(join(tmpdir(), 'cinder-seeds-race-'));
  writeFileSync(join(dir, 'params.json'), JSON.stringify({ format: 'cinder-run/1', example: 'x', seed: 0, seeds: 3 }));
  writeFileSync(join(dir, 'run_summary.json'), JSON.stringify(leftTop));
  const seeds = [
    { status: 'completed', example: 'x', seed: 0, score: 1 },
    { status: 'completed', example: 'x', seed: 1, score: 3 },
    { status: 'crashed', example: 'x', seed: 2, score: 7 },
  ];
  for (const s of seeds) {
    mkdirSync(join(dir, `seed-${s.seed}`));
    writeFileSync(join(dir, `seed-${s.seed}`, 'run_summary.json'), JSON.stringify(s));
  }
  const top = join(dir, 'run_summary.json');
  if (!withLock) return { dir, top };
  const lock = { pid: deadPid(), host: hostname(), started_at: '2026-01-01T00:00:00.000Z', lease_ms: 60_000 };
  writeFileSync(join(dir, '.lock'), JSON.stringify(lock));
  return { dir, top, lock };
}

describe("rebuildSeedsSummary never rewrites the top summary over a resume that took the parent folder", () => {
  for (const withLock of [true, false]) {
    const which = withLock ? "a killed run's lock" : 'no lock';

    it(`a resume takes the lock and writes its summary right after the rebuild read it (${which})`, () => {
      const { dir, top } = crashedSeeds(withLock);
      const resumed = { status: 'running', example: 'x', seeds: [0, 1, 2], started_at: '2026-02-02T00:00:00.000Z', completed_seeds: 2 };
      hook.top = top;
      hook.onTop.push(() => {
        acquireLock(dir, { takeOverCrashed: true });
        writeJsonAtomicSync(top, resumed);
      });
      try {
        const out = rebuildSeedsSummary(dir);
        expect(hook.onTop).toEqual([]); // (the resume ran)
        expect(json(top)).toEqual(resumed);
        expect(out).toBeNull();
      } finally {
        hook.top = '';
        hook.onTop.length = 0;
        releaseLock(dir);
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it(`a resume that has taken the lock but not yet written: the top summary stays as it was (${which})`, () => {
      const { dir, top } = crashedSeeds(withLock);
      hook.top = top;
      hook.onTop.push(() => void acquireLock(dir, { takeOverCrashed: true }));
      try {
        expect(rebuildSeedsSummary(dir)).toBeNull();
        expect(hook.onTop).toEqual([]);
        expect(json(top)).toEqual(leftTop);
      } finally {
        hook.top = '';
        hook.onTop.length = 0;
        releaseLock(dir);
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it(`without a resume it is rebuilt from the seed folders; while it is, nobody can take the lock (${which})`, () => {
      const { dir, top } = crashedSeeds(withLock);
      const lockText = withLock ? readFileSync(join(dir, '.lock'), 'utf8') : null;
      let attempt: unknown;
      hook.top = top;
      // the second read of the top summary is the one made while the lock cannot be taken
      hook.onTop.push(() => {}, () => {
        attempt = resumerAttempt(dir, tryLock);
      });
      try {
        const out = rebuildSeedsSummary(dir);
        expect(attempt).toMatchObject({ taken: false, alive: true });
        // seeds 0 and 1 completed with scores 1 and 3: mean 2, sample std sqrt(((1-2)² + (3-2)²) / 1)
        const want = {
          ...leftTop,
          completed_seeds: 2,
          runs: [{ seed: 0, dir: 'seed-0', status: 'completed', score: 1 }, { seed: 1, dir: 'seed-1', status: 'completed', score: 3 }, { seed: 2, dir: 'seed-2', status: 'crashed', score: 7 }],
          across_seeds: { score: { mean: 2, std: Math.sqrt(2), min: 1, max: 3, n: 2 } },
        };
        expect(out).toEqual(want);
        expect(json(top)).toEqual(want);
        // the killed run's lock (or none) is left as it was, without takeover files
        expect(readdirSync(dir).sort()).toEqual([...(withLock ? ['.lock'] : []), 'params.json', 'run_summary.json', 'seed-0', 'seed-1', 'seed-2']);
        if (withLock) expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(lockText);
      } finally {
        hook.top = '';
        hook.onTop.length = 0;
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("a live process's lock of the parent folder: nothing is rewritten", () => {
    const { dir, top } = crashedSeeds(false);
    acquireLock(dir);
    try {
      expect(rebuildSeedsSummary(dir)).toBeNull();
      expect(json(top)).toEqual(leftTop);
    } finally {
      releaseLock(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
