// The song2000 example run three times in one folder: uninterrupted, stopped after a checkpoint,
// and that stopped run resumed (shared by the resume tests of its models).
import { join } from 'node:path';
import { vi } from 'vitest';
import { song2000Example } from '../../examples/song2000/index.js';
import { RunFolder } from '../../src/cli/run-folder.js';
import { startRun } from '../../src/cli/runner.js';
import { Terminal } from '../../src/cli/progress.js';
import { backendInfo } from '../../src/core/backend.js';

type Summary = Record<string, unknown>;

/**
 * Runs `params` with `seed` into `dir`/full, then into `dir`/part stopped (abort signal) right after
 * its `stopAfter`-th checkpoint, then resumes `dir`/part. Returns the three run summaries.
 */
export async function song2000Interrupted(params: Record<string, number | string | boolean>, seed: number, dir: string, stopAfter = 3): Promise<{ full: Summary; part: Summary; resumed: Summary }> {
  const run = async (out: string, signal: AbortSignal, resume = false): Promise<Summary> => {
    const r = startRun({
      spec: song2000Example, params, mode: 'tiny', seed, seeds: 1, outDir: join(dir, out), backend: backendInfo()!, backendRequest: 'auto',
      quiet: true, signal, terminal: new Terminal({ mode: 'quiet' }), resume,
    });
    return (await r.done).summary;
  };
  const original = RunFolder.prototype.checkpoint;
  let checkpoints = -Infinity; // counts from the interrupted run's start
  const ac = new AbortController();
  const hook = vi.spyOn(RunFolder.prototype, 'checkpoint').mockImplementation(async function (this: RunFolder, s: Record<string, unknown>) {
    await original.call(this, s);
    if (++checkpoints === stopAfter) ac.abort();
  });
  try {
    const full = await run('full', new AbortController().signal);
    checkpoints = 0;
    const part = await run('part', ac.signal);
    const resumed = await run('part', new AbortController().signal, true);
    return { full, part, resumed };
  } finally {
    hook.mockRestore();
  }
}
