/**
 * Benchmark `eprop`: seconds per e-prop training iteration on NEST's evidence-accumulation task
 * (batch 32, 50 LIF + 50 ALIF, 2250 steps), after one warm-up iteration, with the tensor count
 * before and after to show that memory stays flat. Prints one JSON line per kernel. `cpu_s_per_iter`
 * (process CPU time per iteration) is less sensitive to other load on the machine than wall time.
 *
 * Environment: `EPROP_BENCH_KERNELS` (comma list of `auto`, `js`, `tf`, `webgpu`; default `auto`),
 * `EPROP_BENCH_ITERS` (timed iterations, default 3), `EPROP_BENCH_BATCH` (default 32),
 * `EPROP_BENCH_THREADS` (worker-thread counts of the js kernel, default `1,<cores>`).
 * Standalone: `npx tsx bench/eprop.ts`.
 */
import { tf } from '../src/core/tf.js';
import { initBackend } from '../src/core/backend.js';
import { Rng } from '../src/core/random.js';
import { availableParallelism } from 'node:os';
import { EProp, EPropReadout, EPropRecurrent, resolveEPropKernel, type EPropKernel } from '../src/learn/eprop/index.js';
import { EPropThreads } from '../src/learn/eprop/threads.node.js';
import { EvidenceTask } from '../examples/eprop-evidence/task.js';
import { Adam } from '../src/learn/optimizers/index.js';
import { emit, sig } from './harness.js';

/**
 * Times `iters` e-prop iterations (after one warm-up) at batch `batch` on `task` with `kernel`;
 * returns the fields of one bench line.
 */
export async function measureEprop(kernel: EPropKernel, batch: number, iters: number, task: EvidenceTask = new EvidenceTask(), threads?: EPropThreads): Promise<Record<string, unknown>> {
  const rng = new Rng(1);
  const rec = new EPropRecurrent({ nIn: task.nIn, nLif: 50, nAlif: 50, rng });
  const ro = new EPropReadout({ nRec: 100, nOut: 2, rng });
  const opt = new Adam({ learningRate: 5e-3, epsilon: 1e-8, wMin: -100, wMax: 100 });
  const trainer = new EProp({ recurrent: rec, readout: ro, optimizer: opt, learningWindow: task.recallSteps, cReg: 300, fTarget: 10, averageGradient: true, kernel, threads });
  const data = new Rng(2);
  const cpu: number[] = [];
  const once = async () => {
    const b = task.batch(batch, data);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await trainer.stepAsync(b);
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
    b.inputs.dispose();
    return { s, loss: r.loss };
  };
  await once(); // warm-up
  const before = tf.memory().numTensors;
  const times: number[] = [];
  let loss = NaN;
  for (let i = 0; i < iters; i++) {
    const r = await once();
    times.push(r.s);
    loss = r.loss;
  }
  const after = tf.memory().numTensors;
  times.sort((a, b) => a - b);
  rec.dispose();
  ro.dispose();
  opt.dispose();
  return {
    kernel: trainer.kernel,
    threads: threads?.threads ?? 1,
    batch,
    n_rec: 100,
    steps: task.steps,
    iterations: iters,
    s_per_iter: sig(times.reduce((a, b) => a + b, 0) / iters),
    s_per_iter_median: sig(times[Math.floor(iters / 2)]!),
    cpu_s_per_iter: sig(cpu.slice(1).reduce((a, b) => a + b, 0) / iters),
    last_loss: sig(loss),
    num_tensors_before: before,
    num_tensors_after: after,
  };
}

/** Runs the e-prop benchmark and prints its lines. */
export async function run(): Promise<void> {
  const kernels = (process.env.EPROP_BENCH_KERNELS ?? 'auto').split(',') as EPropKernel[];
  const iters = Number(process.env.EPROP_BENCH_ITERS ?? 3);
  const batch = Number(process.env.EPROP_BENCH_BATCH ?? 32);
  const cores = availableParallelism();
  const counts = [...new Set((process.env.EPROP_BENCH_THREADS ?? `1,${cores}`).split(',').map(Number))];
  for (const kernel of kernels) {
    const js = resolveEPropKernel(kernel) === 'js';
    for (const t of js ? counts : [1]) {
      const threads = t > 1 ? await EPropThreads.create(t) : undefined;
      try {
        emit({ case: 'eprop-evidence', ...(await measureEprop(kernel, batch, iters, undefined, threads)), cores, nest_s_per_iter: 16 });
      } finally {
        await threads?.close();
      }
    }
  }
}

// Standalone only as the entry file itself (not when bundled into another bench entry).
if (/eprop\.ts$/.test(process.argv[1] ?? '')) {
  await initBackend();
  await run();
}
