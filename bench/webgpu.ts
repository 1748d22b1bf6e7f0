/**
 * Benchmark `webgpu`: the GPU lines of issue 8, on whatever backend is active (meant for
 * `--backend webgpu`): fp32 matMul rate (GFLOP/s), the quickstart network with STDP at B = 1, 20,
 * 256, 1024 (ms per step and WGSL programs per step, with Cinder's fused step programs and with the
 * op path side by side; the network of `examples/quickstart/network.ts`, unchanged), e-prop
 * on NEST's evidence-accumulation task at B = 32 and 256 (s per iteration, the default kernel of
 * the backend — on webgpu the fused WGSL kernels, which keep the whole iteration on the device and
 * read back only a summary), and the evidence-accumulation training at B = 64 to NEST's early-stop
 * protocol (here at validation error < 5 %: see {@link evidence}), then its test error (wall seconds, iterations per second; the H100
 * target is ≤ 7 % test error in 2 minutes).
 * Everything is read back with `await data()`. The matmul line also gives the device's largest
 * buffer (`max_binding_bytes`), the e-prop lines the largest batch of their T that fits it
 * (`max_batch`, `webgpuMaxBatch`).
 *
 * Environment: `WEBGPU_BENCH_MATMUL` (matrix size, default 2048), `WEBGPU_BENCH_STEPS` (timed
 * quickstart steps per repeat, default 200), `WEBGPU_BENCH_REPEATS` (alternating repeats of the fused
 * and op-path quickstart timings, default 3), `WEBGPU_BENCH_OP_PATH=0` (time the fused step only),
 * `WEBGPU_BENCH_BATCHES` (quickstart batches, default 1,20,256,1024), `WEBGPU_BENCH_EPROP_BATCHES` (default 32,256), `WEBGPU_BENCH_EPROP_ITERS`
 * (timed iterations, default 3), `WEBGPU_BENCH_EPROP_STEPS` (sequence length override: a shorter
 * evidence task for slow adapters; default NEST's 2250), `WEBGPU_BENCH_EVIDENCE_BATCH` (default 64),
 * `WEBGPU_BENCH_EVIDENCE_ITERS` (most training iterations, default 2000),
 * `WEBGPU_BENCH_EVIDENCE_SECONDS` (wall-time cap of the training line, default 480),
 * `WEBGPU_BENCH_EVIDENCE_STOP` (early-stop validation error, default 0.05; NEST's is 0.07, see
 * {@link evidence}),
 * `WEBGPU_BENCH_EVIDENCE_TEST_BATCHES` (test batches after training, default 16),
 * `WEBGPU_BENCH_CASES` (comma list of `matmul`, `quickstart`, `eprop`, `evidence`; default these
 * four; `verify` adds the equality checks of `./webgpu-verify.ts` — the fused quickstart step against
 * the op path over `WEBGPU_BENCH_VERIFY_STEPS` (default 50) steps at `WEBGPU_BENCH_VERIFY_BATCHES`
 * (default 1,20,256,1024), the fused e-prop kernels against the JavaScript kernel over
 * `WEBGPU_BENCH_VERIFY_ITERS` (default 5) iterations at `WEBGPU_BENCH_VERIFY_EPROP_BATCHES` (default
 * 1,32,256); for tuning the fused step's routes on a GPU, `routes` compares the large-batch routes at
 * `WEBGPU_BENCH_ROUTE_BATCHES` (default 256,1024) and `drive` the drive program's two ways of
 * summing at `WEBGPU_BENCH_DRIVE_BATCHES` (default 1,20)).
 * Standalone: `npx tsx bench/webgpu.ts [--backend webgpu]`.
 */
import { tf } from '../src/core/tf.js';
import { backendInfo, initBackend } from '../src/core/backend.js';
import { Rng } from '../src/core/random.js';
import { QuickstartNetwork } from '../examples/quickstart/network.js';
import { EvidenceTask } from '../examples/eprop-evidence/task.js';
import { trainEvidence } from '../examples/eprop-evidence/training.js';
import { emit, sig, timeSteps, timeStepsPair } from './harness.js';
import { countPrograms, setStepPrograms } from '../src/kernels/webgpu/step-program.js';
import { setDenseProgramMaxBatch, setDriveShareMinInputs } from '../src/kernels/webgpu/step-drive.js';
import { setOuterDirectMaxBatch } from '../src/kernels/webgpu/step-update.js';
import { measureEprop } from './eprop.js';
import { maxBindingBytes } from '../src/kernels/webgpu/limits.js';
import { storageBufferLimit } from '../src/kernels/webgpu/step-dispatch.js';
import { webgpuMaxBatch } from '../src/learn/eprop/kernels.js';
import { verifyEprop, verifyQuickstart } from './webgpu-verify.js';

const list = (v: string | undefined, d: number[]) => (v ? v.split(',').map(Number) : d);

/** Reference figures of issue 8 (one H100, 2026-11-28), printed beside the measurements. */
const H100_CINDER_BEFORE: Record<number, number> = { 1: 4.97, 20: 3.75, 256: 3.6, 1024: 3.42 };
const H100_INFERNO_CUDA: Record<number, number> = { 1: 5.21, 20: 4.23, 256: 6.09, 1024: 5.95 };

async function matmulRate(n: number): Promise<void> {
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  // `reps` products in a row, then one entry of the last read back: the time is the products', not
  // that of reading 4·n² bytes back (≈ 17 MB at n = 2048, which took most of a single product's time)
  const run = async (reps: number) => {
    let c: tf.Tensor | undefined;
    for (let i = 0; i < reps; i++) {
      const prev = c;
      c = tf.matMul(a, b);
      prev?.dispose();
    }
    const one = tf.slice(c!, [0, 0], [1, 1]);
    await one.data();
    tf.dispose([one, c!]);
  };
  await run(1);
  const reps = 10;
  const t0 = performance.now();
  await run(reps);
  const s = (performance.now() - t0) / 1000 / reps;
  tf.dispose([a, b]);
  emit({ case: 'webgpu-matmul', n, seconds: sig(s), gflops: sig((2 * n ** 3) / s / 1e9), adapter: backendInfo()?.adapter ?? null, max_binding_bytes: maxBindingBytes(), storage_buffers_per_program: storageBufferLimit() });
}

/**
 * Quickstart with STDP at batch B: ms per step with Cinder's fused WGSL step programs (neuron
 * groups with their connections and synapses folded in, traces, weight update:
 * `src/kernels/webgpu/step-*.ts`) and, side by side in alternating
 * repeats, with them off (the tfjs op path); WGSL programs dispatched per step for both
 * (`kernels_per_step`, `kernels_per_step_op_path`; counted at the backend's `runWebGPUProgram`, the
 * dispatch count that bounds a step on a GPU). `WEBGPU_BENCH_OP_PATH=0` skips the op-path timing.
 */
async function quickstart(B: number, steps: number, repeats: number): Promise<void> {
  const rng = new Rng(1);
  const pool = 16;
  const rates = rng.uniformArray(B * 784, 0, 0.25);
  const spikes = new Float32Array(pool * B * 784);
  for (let t = 0; t < pool; t++) for (let k = 0; k < B * 784; k++) spikes[t * B * 784 + k] = rng.uniform() < rates[k]! ? 1 : 0;
  const inputs = Array.from({ length: pool }, (_, t) => tf.keep(tf.tensor2d(spikes.subarray(t * B * 784, (t + 1) * B * 784), [B, 784])));
  const was = setStepPrograms(true);
  const fused = new QuickstartNetwork(B, new Rng(2));
  const ops = new QuickstartNetwork(B, new Rng(2));
  fused.train(true);
  ops.train(true);
  const sideOf = (net: QuickstartNetwork, on: boolean) => ({
    step: (i: number) => {
      setStepPrograms(on);
      net.step(inputs[i % pool]!);
    },
    sync: () => net.exc.voltage,
  });
  const count = async (net: QuickstartNetwork, on: boolean) => {
    const s = sideOf(net, on);
    for (let i = 0; i < 3; i++) tf.tidy(() => s.step(i)); // compile first
    return (await countPrograms(() => tf.tidy(() => s.step(3)))).programs;
  };
  try {
    const kFused = await count(fused, true);
    const kOps = await count(ops, false);
    const compare = process.env.WEBGPU_BENCH_OP_PATH !== '0';
    const warmup = Math.min(20, steps);
    let msFused: number;
    let msOps: number | null = null;
    let drift: number;
    if (compare) {
      const [a, b] = await timeStepsPair(sideOf(fused, true), sideOf(ops, false), { steps, warmup, repeats });
      msFused = a.msPerStep;
      msOps = b.msPerStep;
      drift = a.tensorDrift;
    } else {
      const r = await timeSteps(sideOf(fused, true).step, { steps, warmup, repeats, sync: () => fused.exc.voltage });
      msFused = r.msPerStep;
      drift = r.tensorDrift;
    }
    emit({
      case: 'webgpu-quickstart-stdp', batch: B, steps, cinder_ms_per_step: sig(msFused), op_path_ms_per_step: msOps === null ? null : sig(msOps),
      kernels_per_step: kFused, kernels_per_step_op_path: kOps,
      h100_cinder_before_ms_per_step: H100_CINDER_BEFORE[B] ?? null, h100_inferno_cuda_ms_per_step: H100_INFERNO_CUDA[B] ?? null,
      target_h100_ms_per_step: B === 1024 ? 1 : null, tensor_drift: drift,
    });
  } finally {
    setStepPrograms(was);
    fused.dispose();
    ops.dispose();
    tf.dispose(inputs);
  }
}

/**
 * Two routes of the fused step side by side (for tuning on a GPU), on the quickstart with STDP at
 * batch B: `configure(false)` / `configure(true)` set the route before every step of side A / B; ms
 * per step and programs per step of both, in alternating repeats.
 */
async function compareRoutes(name: string, B: number, steps: number, repeats: number, configure: (b: boolean) => void, restore: () => void): Promise<void> {
  const rng = new Rng(1);
  const pool = 8;
  const spikes = Float32Array.from({ length: pool * B * 784 }, () => (rng.uniform() < 0.12 ? 1 : 0));
  const inputs = Array.from({ length: pool }, (_, t) => tf.keep(tf.tensor2d(spikes.subarray(t * B * 784, (t + 1) * B * 784), [B, 784])));
  const was = setStepPrograms(true);
  const nets = [new QuickstartNetwork(B, new Rng(2)), new QuickstartNetwork(B, new Rng(2))];
  const sideOf = (k: number) => ({
    step: (i: number) => {
      configure(k === 1);
      nets[k]!.step(inputs[i % pool]!);
    },
    sync: () => nets[k]!.exc.voltage,
  });
  try {
    const counts: number[] = [];
    for (const k of [0, 1]) {
      nets[k]!.train(true);
      for (let i = 0; i < 3; i++) tf.tidy(() => sideOf(k).step(i));
      counts.push((await countPrograms(() => tf.tidy(() => sideOf(k).step(3)))).programs);
    }
    const [a, b] = await timeStepsPair(sideOf(0), sideOf(1), { steps, warmup: Math.min(20, steps), repeats });
    emit({
      case: name, batch: B, steps, a_ms_per_step: sig(a.msPerStep), b_ms_per_step: sig(b.msPerStep),
      kernels_per_step_a: counts[0], kernels_per_step_b: counts[1], tensor_drift: a.tensorDrift + b.tensorDrift,
    });
  } finally {
    setStepPrograms(was);
    restore();
    for (const n of nets) n.dispose();
    tf.dispose(inputs);
  }
}

/**
 * `routes`: at large B, (a) tfjs's matrix products feeding the drive and the update against (b)
 * Cinder's own drive and update programs (fewer dispatches, more serial work per invocation): the
 * measurement behind the rule of `src/kernels/webgpu/step-route.ts`.
 */
async function routes(B: number, steps: number, repeats: number): Promise<void> {
  const prevDense = setDenseProgramMaxBatch(null);
  const prevOuter = setOuterDirectMaxBatch(null);
  const configure = (own: boolean) => {
    setDenseProgramMaxBatch(own ? B : 0);
    setOuterDirectMaxBatch(own ? B : 0);
  };
  await compareRoutes('webgpu-quickstart-routes', B, steps, repeats, configure, () => {
    setDenseProgramMaxBatch(prevDense);
    setOuterDirectMaxBatch(prevOuter);
  });
}

/**
 * `drive`: the drive program's dense sums (a) by one invocation per element in order against (b)
 * shared among a workgroup of 64 per element (the GPU default; `step-drive.ts`).
 */
async function drive(B: number, steps: number, repeats: number): Promise<void> {
  const prev = setDriveShareMinInputs(null);
  await compareRoutes('webgpu-quickstart-drive-sums', B, steps, repeats, (shared) => void setDriveShareMinInputs(shared ? 0 : 1e9), () => void setDriveShareMinInputs(prev));
}

/** NEST's evidence task, or one of about `steps` steps with the same proportions (slow adapters). */
function evidenceTask(steps: number | undefined): EvidenceTask {
  return steps
    ? new EvidenceTask({ cueSteps: Math.max(1, Math.round(steps / 22.5)), spacingSteps: Math.round(steps / 45), delaySteps: Math.round(steps * 0.4667), recallSteps: Math.max(1, Math.round(steps / 15)) })
    : new EvidenceTask();
}

async function eprop(B: number, iters: number, steps: number | undefined): Promise<void> {
  const task = evidenceTask(steps);
  emit({ case: 'webgpu-eprop', ...(await measureEprop('auto', B, iters, task)), max_batch: webgpuMaxBatch(task.steps, 100, task.nIn, 2), target_h100_s_per_iter: B === 256 ? 0.2 : null });
}

/**
 * Evidence accumulation trained at batch B with NEST's protocol (validation every 10 iterations;
 * below `stopError`, 8 more batches confirm the stop), or until `maxIters` iterations or
 * `maxSeconds` of wall time; then `testBatches` test batches. Prints the wall seconds from the first
 * iteration to the end of training (validation and shader compilation included; the test batches
 * not), iterations per second and the test error. With 16 test batches of 64 (1,024 sequences) the
 * test error's standard error near 7 % is about 0.8 points; NEST's 4 test batches give 1.6. The
 * protocol's stop does not guarantee a test error ≤ 7 %: on the wasm backend at B = 64, NEST's stop
 * (0.07) came after 520 / 460 / 350 iterations for seeds 1–3, with 4-batch test errors of 7.4 / 7.0
 * / 8.6 % (seed 3 on 16 batches: 7.7 %). The default stop is therefore 0.05: seeds 1–3 then
 * stopped after 670 / 670 / 630 iterations with 6.9 / 5.2 / 5.1 % on 16 test batches. So
 * `met_7pct_in_120s` needs the stop, the test error and the time.
 */
async function evidence(B: number, maxIters: number, maxSeconds: number, steps: number | undefined, stopError: number, testBatches: number): Promise<void> {
  const task = evidenceTask(steps);
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  let trained = NaN;
  const r = await trainEvidence(
    { batchSize: B, iterations: maxIters, task, seed: 1, stopError, testBatches },
    { shouldStop: () => elapsed() > maxSeconds, onTrained: () => void (trained = elapsed()) },
  );
  const withTest = elapsed();
  const train = r.secondsPerIteration.reduce((a, b) => a + b, 0);
  const sorted = [...r.secondsPerIteration].sort((a, b) => a - b);
  emit({
    case: 'webgpu-eprop-evidence', batch: B, steps: task.steps, stop_error: stopError, iterations: r.iterations,
    stopped_early: r.stoppedEarly, seconds: sig(trained), seconds_with_test: sig(withTest),
    iters_per_s: sig(r.iterations / train), s_per_iter_median: r.iterations ? sig(sorted[Math.floor(sorted.length / 2)]!) : null,
    test_batches: testBatches, test_error: sig(r.testError), last_validation_error: r.validation.length ? sig(r.validation[r.validation.length - 1]!.error) : null,
    met_7pct_in_120s: r.stoppedEarly && r.testError <= 0.07 && trained <= 120,
    target_h100_seconds: 120,
  });
}

/** Runs the webgpu benchmark lines. */
export async function run(): Promise<void> {
  const env = process.env;
  const cases = new Set((env.WEBGPU_BENCH_CASES ?? 'matmul,quickstart,eprop,evidence').split(','));
  if (cases.has('matmul')) await matmulRate(Number(env.WEBGPU_BENCH_MATMUL ?? 2048));
  const steps = Number(env.WEBGPU_BENCH_STEPS ?? 200);
  if (cases.has('quickstart')) for (const B of list(env.WEBGPU_BENCH_BATCHES, [1, 20, 256, 1024])) await quickstart(B, steps, Number(env.WEBGPU_BENCH_REPEATS ?? 3));
  if (cases.has('routes')) for (const B of list(env.WEBGPU_BENCH_ROUTE_BATCHES, [256, 1024])) await routes(B, steps, Number(env.WEBGPU_BENCH_REPEATS ?? 3));
  if (cases.has('drive')) for (const B of list(env.WEBGPU_BENCH_DRIVE_BATCHES, [1, 20])) await drive(B, steps, Number(env.WEBGPU_BENCH_REPEATS ?? 3));
  const epropSteps = env.WEBGPU_BENCH_EPROP_STEPS ? Number(env.WEBGPU_BENCH_EPROP_STEPS) : undefined;
  if (cases.has('eprop')) for (const B of list(env.WEBGPU_BENCH_EPROP_BATCHES, [32, 256])) await eprop(B, Number(env.WEBGPU_BENCH_EPROP_ITERS ?? 3), epropSteps);
  if (cases.has('verify')) {
    for (const B of list(env.WEBGPU_BENCH_VERIFY_BATCHES, [1, 20, 256, 1024])) await verifyQuickstart(B, Number(env.WEBGPU_BENCH_VERIFY_STEPS ?? 50));
    for (const B of list(env.WEBGPU_BENCH_VERIFY_EPROP_BATCHES, [1, 32, 256])) await verifyEprop(evidenceTask(epropSteps), B, Number(env.WEBGPU_BENCH_VERIFY_ITERS ?? 5));
  }
  if (cases.has('evidence')) {
    const stopError = Number(env.WEBGPU_BENCH_EVIDENCE_STOP ?? 0.05);
    const testBatches = Number(env.WEBGPU_BENCH_EVIDENCE_TEST_BATCHES ?? 16);
    await evidence(Number(env.WEBGPU_BENCH_EVIDENCE_BATCH ?? 64), Number(env.WEBGPU_BENCH_EVIDENCE_ITERS ?? 2000), Number(env.WEBGPU_BENCH_EVIDENCE_SECONDS ?? 480), epropSteps, stopError, testBatches);
  }
}

// Standalone as the entry file, also when bundled into dist/bench-webgpu.mjs (docs/gpu-machine.md).
if (/(bench\/webgpu\.ts|bench-webgpu\.mjs)$/.test(process.argv[1] ?? '')) {
  const i = process.argv.indexOf('--backend');
  await initBackend({ backend: i >= 0 ? process.argv[i + 1] : undefined });
  await run();
}
