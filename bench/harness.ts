/**
 * Shared helpers for benchmarks: timing with warm-up, and one JSON line per result on stdout.
 */
import { tf } from '../src/core/tf.js';
import { backendInfo } from '../src/core/backend.js';

/** One benchmark result line. */
export type BenchLine = Record<string, unknown> & { case: string };

/** Prints a result as one JSON line (backend added). */
export function emit(line: BenchLine): void {
  const b = backendInfo();
  console.log(JSON.stringify({ ...line, backend: b?.name ?? tf.getBackend() }));
}

/**
 * Times `steps` calls of `step` after `warmup` calls; each call is wrapped in tf.tidy. Forces the
 * queue to complete at the end by reading one value (the only sync), so the time covers the work.
 * Returns ms per step (median of `repeats` runs) and the tensor count drift. `sync` returns a live
 * tensor (a state the steps update) to read; the harness does not dispose it, so it must not be a
 * fresh tensor (a clone would count as drift).
 */
export async function timeSteps(
  step: (i: number) => tf.Tensor | void,
  opts: { steps: number; warmup?: number; repeats?: number; sync?: () => tf.Tensor },
): Promise<{ msPerStep: number; runs: number[]; tensorDrift: number }> {
  const warm = opts.warmup ?? Math.min(50, opts.steps);
  for (let i = 0; i < warm; i++) tf.tidy(() => { step(i); });
  await flush(opts.sync);
  const runs: number[] = [];
  const n0 = tf.memory().numTensors;
  for (let r = 0; r < (opts.repeats ?? 3); r++) {
    const t0 = performance.now();
    for (let i = 0; i < opts.steps; i++) tf.tidy(() => { step(i); });
    await flush(opts.sync);
    runs.push((performance.now() - t0) / opts.steps);
  }
  runs.sort((a, b) => a - b);
  return { msPerStep: runs[Math.floor(runs.length / 2)]!, runs, tensorDrift: tf.memory().numTensors - n0 };
}

async function flush(sync?: () => tf.Tensor): Promise<void> {
  if (!sync) return;
  const t = sync();
  await t.data();
}

/** Rounds to 4 significant digits for printing. */
export function sig(x: number): number {
  return Number(x.toPrecision(4));
}

/**
 * Kernels launched by one call of `step` (inside `tf.tidy`), counted with `tf.profile`: the
 * dispatch count that bounds a small network's step time on every backend.
 */
export async function kernelsPerStep(step: () => tf.Tensor | void): Promise<number> {
  const p = await tf.profile(() => {
    tf.tidy(() => {
      step();
    });
  });
  return p.kernels.length;
}

/** One side of {@link timeStepsPair}: wall and CPU (user + system) ms per step, medians. */
export interface PairTime {
  msPerStep: number;
  cpuMsPerStep: number;
  runs: number[];
  tensorDrift: number;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Times two step functions side by side: their repeats alternate (A, B, A, B, …), so load changes on
 * a shared machine hit both alike; the ratio of the medians is the comparable figure. CPU time
 * (this process's user + system time) is reported too: it does not count time the process waited
 * for a core, so it is the steadier figure on a loaded machine (the backends here are single-threaded).
 */
export async function timeStepsPair(
  a: { step: (i: number) => tf.Tensor | void; sync?: () => tf.Tensor },
  b: { step: (i: number) => tf.Tensor | void; sync?: () => tf.Tensor },
  opts: { steps: number; warmup?: number; repeats?: number },
): Promise<[PairTime, PairTime]> {
  const warm = opts.warmup ?? Math.min(50, opts.steps);
  const sides = [a, b];
  for (const s of sides) {
    for (let i = 0; i < warm; i++) tf.tidy(() => { s.step(i); });
    await flush(s.sync);
  }
  const runs: number[][] = [[], []];
  const cpu: number[][] = [[], []];
  const n0 = tf.memory().numTensors;
  for (let r = 0; r < (opts.repeats ?? 5); r++) {
    for (let k = 0; k < 2; k++) {
      const s = sides[k]!;
      const t0 = performance.now();
      const c0 = cpuMs();
      for (let i = 0; i < opts.steps; i++) tf.tidy(() => { s.step(i); });
      await flush(s.sync);
      runs[k]!.push((performance.now() - t0) / opts.steps);
      cpu[k]!.push((cpuMs() - c0) / opts.steps);
    }
  }
  const drift = tf.memory().numTensors - n0;
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return [0, 1].map((k) => ({ msPerStep: median(runs[k]!), cpuMsPerStep: median(cpu[k]!), runs: runs[k]!, tensorDrift: drift })) as [PairTime, PairTime];
}
