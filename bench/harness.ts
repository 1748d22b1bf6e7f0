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
 * Returns ms per step (median of `repeats` runs) and the tensor count drift.
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

/**
 * Times two step functions side by side: their repeats alternate (A, B, A, B, …), so load changes on
 * a shared machine hit both alike; the ratio of the medians is the comparable figure.
 */
export async function timeStepsPair(
  a: { step: (i: number) => tf.Tensor | void; sync?: () => tf.Tensor },
  b: { step: (i: number) => tf.Tensor | void; sync?: () => tf.Tensor },
  opts: { steps: number; warmup?: number; repeats?: number },
): Promise<[{ msPerStep: number; runs: number[]; tensorDrift: number }, { msPerStep: number; runs: number[]; tensorDrift: number }]> {
  const warm = opts.warmup ?? Math.min(50, opts.steps);
  const sides = [a, b];
  for (const s of sides) {
    for (let i = 0; i < warm; i++) tf.tidy(() => { s.step(i); });
    await flush(s.sync);
  }
  const runs: number[][] = [[], []];
  const n0 = tf.memory().numTensors;
  for (let r = 0; r < (opts.repeats ?? 5); r++) {
    for (let k = 0; k < 2; k++) {
      const s = sides[k]!;
      const t0 = performance.now();
      for (let i = 0; i < opts.steps; i++) tf.tidy(() => { s.step(i); });
      await flush(s.sync);
      runs[k]!.push((performance.now() - t0) / opts.steps);
    }
  }
  const drift = tf.memory().numTensors - n0;
  return runs.map((rs) => {
    const sorted = [...rs].sort((x, y) => x - y);
    return { msPerStep: sorted[Math.floor(sorted.length / 2)]!, runs: rs, tensorDrift: drift };
  }) as [{ msPerStep: number; runs: number[]; tensorDrift: number }, { msPerStep: number; runs: number[]; tensorDrift: number }];
}
