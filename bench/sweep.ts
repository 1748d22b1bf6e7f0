/**
 * Bench case `sweep`: overhead per run of `cinder sweep`, with an example that does nothing
 * (`empty`, bench/sweep-cinder.ts), one process at a time so the numbers are per run:
 * - `direct`: `cinder empty --out …` started N times in a row (the cost of one isolated process);
 * - `local`: `cinder sweep empty --seeds N --workers 1` (wall time / N);
 * - `bullmq`: the same with `--engine bullmq` and one `cinder worker --concurrency 1` (started and
 *   ready beforehand) on a fresh redis-server.
 * `ms_per_run` is wall time / N; `process_ms` the mean wall time of one run's process (for the
 * engines as recorded in sweep.json); `overhead_ms` = ms_per_run − process_ms: what the engine adds
 * per run (spawning, Redis round trips, polling, sweep.json writes, and the coordinator's own start
 * spread over the N runs); `overhead_ms_after_start` leaves out that start (`startup_ms`, the time of
 * `cinder sweep status`, which loads the same modules). Subtracting each sweep's own process times keeps the machine's load
 * (other processes) mostly out of the overhead. Sizes: BENCH_SWEEP_RUNS (default 8).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis } from '../test/sweep/fixtures/redis.js';
import { emit, sig } from './harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const script = join(root, 'bench', 'sweep-cinder.ts');

function cinder(args: string[]): { child: ChildProcess; done: Promise<number | null>; out: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env: { ...process.env, CINDER_BACKEND: 'cpu' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  return { child, done: new Promise((r) => child.once('exit', (c) => r(c))), out: () => text };
}

async function timed(args: string[]): Promise<number> {
  const t0 = performance.now();
  const p = cinder(args);
  const code = await p.done;
  if (code !== 0) throw new Error(`cinder ${args.join(' ')} exited ${code}: ${p.out()}`);
  return performance.now() - t0;
}

export async function run(): Promise<void> {
  const n = Number(process.env.BENCH_SWEEP_RUNS ?? 8);
  const dir = mkdtempSync(join(tmpdir(), 'cinder-bench-sweep-'));
  try {
    let direct = 0;
    for (let i = 0; i < n; i++) direct += await timed(['empty', '--seed', String(i), '--out', join(dir, `direct-${i}`), '--quiet']);
    const directMs = direct / n;
    emit({ case: 'sweep', engine: 'direct', runs: n, ms_per_run: sig(directMs), process_ms: sig(directMs), overhead_ms: 0 });
    const processMs = (name: string): number => {
      const f = JSON.parse(readFileSync(join(dir, name, 'sweep.json'), 'utf8')) as { runs: { ms: number }[] };
      return f.runs.reduce((a, r) => a + r.ms, 0) / f.runs.length;
    };
    const localMs = (await timed(['sweep', 'empty', '--seeds', String(n), '--workers', '1', '--out', join(dir, 'local'), '--quiet'])) / n;
    const startup = await timed(['sweep', 'status', join(dir, 'local')]);
    const line = (engine: string, perRun: number): void => {
      const p = processMs(engine);
      emit({ case: 'sweep', engine, runs: n, ms_per_run: sig(perRun), process_ms: sig(p), overhead_ms: sig(perRun - p), startup_ms: sig(startup), overhead_ms_after_start: sig(perRun - startup / n - p) });
    };
    line('local', localMs);
    const redis = await startRedis();
    const worker = cinder(['worker', '--redis', redis.url, '--concurrency', '1']);
    try {
      const t0 = Date.now();
      while (!worker.out().includes('cinder worker:')) {
        if (Date.now() - t0 > 60_000) throw new Error(`worker did not start: ${worker.out()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const bullMs = (await timed(['sweep', 'empty', '--seeds', String(n), '--engine', 'bullmq', '--redis', redis.url, '--out', join(dir, 'bullmq'), '--quiet'])) / n;
      line('bullmq', bullMs);
    } finally {
      worker.child.kill('SIGINT');
      await worker.done;
      await redis.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
