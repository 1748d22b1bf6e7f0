/**
 * `cinder eprop-evidence`: e-prop training of a recurrent network of 50 LIF and 50 ALIF neurons on
 * NEST's evidence-accumulation task (40 inputs in 4 groups, 2 readouts, 2250-step sequences with 7
 * cues and a 150-step recall window, batch 32, Adam η 5e-3), validation every 10 iterations with
 * early stop at 7 % error, then 4 test batches.
 *
 * Parity mode (`--fixture FILE`): runs exactly the fixture's inputs, initial weights, batch size and
 * iterations with NEST's settings and writes the per-iteration losses to run_summary.json.
 */
import { availableParallelism } from 'node:os';
import type { ExampleSpec, Params, RunContext } from '../../src/cli/example.js';
import { Rng } from '../../src/core/random.js';
import { tf } from '../../src/core/tf.js';
import {
  EPROP_KERNELS, EPROP_SLICE, FEEDBACK_MODES, SURROGATE_NAMES, checkWebgpuBatch, resolveEPropKernel,
  type EPropKernel, type EPropSequenceRecord, type FeedbackMode, type SurrogateName,
} from '../../src/learn/eprop/index.js';
import { EvidenceTask } from './task.js';
import { loadEPropFixture } from './nest-fixture.js';
import { EVIDENCE_LEARNING_RATE, checkEvidenceLearningRate, runFixtureParity, trainEvidence, type EvidenceNetwork, type EvidenceTrainingResult } from './training.js';
import { EPropThreads } from '../../src/learn/eprop/threads.node.js';
import { learningCurves, sequenceFigure, weightsFigure, weightTracesFigure } from './figures.js';

type Matrices = Record<string, { data: Float32Array; rows: number; cols: number }>;

async function snapshot(net: EvidenceNetwork): Promise<Matrices> {
  const m: Matrices = {};
  for (const c of net.trainer.cells) m[`W_${c.kind}`] = { data: ((await c.weight.value.data()) as Float32Array).slice(), rows: c.nPost, cols: c.nPre };
  return m;
}

/**
 * The worker threads of `--threads` (0: all cores; at most one per slice of EPROP_SLICE sequences),
 * or none: one thread asked for, or a kernel other than js.
 */
async function startThreads(ctx: RunContext, asked: number, kernel: EPropKernel, batchSize: number): Promise<EPropThreads | undefined> {
  if (asked === 1) return undefined;
  const resolved = resolveEPropKernel(kernel);
  if (resolved !== 'js') {
    ctx.log(`--threads ${asked}: the ${resolved} kernel runs on the backend; the threads are for the js kernel, not started`);
    return undefined;
  }
  const n = Math.min(asked === 0 ? availableParallelism() : asked, Math.ceil(batchSize / EPROP_SLICE));
  if (n <= 1) return undefined;
  ctx.log(`js kernel on ${n} worker threads`);
  return EPropThreads.create(n);
}

async function runParity(ctx: RunContext, path: string, kernel: EPropKernel): Promise<Record<string, unknown>> {
  const f = loadEPropFixture(path);
  ctx.log(`parity run: ${path} (batch ${f.batchSize}, ${f.nIter} iterations)`);
  const r = await runFixtureParity(f, { kernel });
  const rel = r.loss.map((l, i) => Math.abs(l - f.loss[i]!) / Math.abs(f.loss[i]!));
  r.loss.forEach((l, i) => ctx.log(`iteration ${i + 1}: loss ${l.toPrecision(12)}  NEST ${f.loss[i]!.toPrecision(12)}  rel. diff ${rel[i]!.toExponential(2)}`));
  await ctx.figure('learning-curves', learningCurves({ loss: r.loss, recallError: r.recallError, validation: [], reference: f.loss }));
  const summary = {
    mode: 'parity', fixture: path, loss: r.loss, recall_error: r.recallError, nest_loss: f.loss,
    max_rel_loss_error: Math.max(...rel), seconds_per_iteration: r.secondsPerIteration,
  };
  await ctx.checkpoint(summary);
  return summary;
}

/** The task of the run's parameters. */
function taskOf(p: Params): EvidenceTask {
  return new EvidenceTask({ cueSteps: Number(p.cueSteps), spacingSteps: Number(p.spacingSteps), delaySteps: Number(p.delaySteps), recallSteps: Number(p.recallSteps) });
}

/** The `eprop-evidence` example. */
export const epropEvidenceExample: ExampleSpec = {
  name: 'eprop-evidence',
  description: 'e-prop (50 LIF + 50 ALIF) on the evidence-accumulation task, as in NEST; --fixture for NEST parity',
  options: [
    { name: 'batchSize', type: 'int', description: 'sequences per batch', default: 32, min: 1 },
    { name: 'iterations', type: 'int', description: 'maximum training iterations', default: 2000, min: 0 },
    { name: 'nLif', type: 'int', description: 'LIF neurons', default: 50, min: 0 },
    { name: 'nAlif', type: 'int', description: 'ALIF neurons', default: 50, min: 0 },
    { name: 'learningRate', type: 'float', description: 'Adam learning rate η (> 0)', default: EVIDENCE_LEARNING_RATE, check: (v) => checkEvidenceLearningRate(v as number) },
    { name: 'validateEvery', type: 'int', description: 'validate every N iterations', default: 10, min: 1 },
    { name: 'stopError', type: 'float', description: 'early-stop validation error', default: 0.07, min: 0, max: 1 },
    { name: 'testBatches', type: 'int', description: 'test batches at the end', default: 4, min: 1 },
    { name: 'cueSteps', type: 'int', description: 'steps per cue', default: 100, min: 1 },
    { name: 'spacingSteps', type: 'int', description: 'quiet steps before each cue', default: 50, min: 0 },
    { name: 'delaySteps', type: 'int', description: 'delay before the recall period', default: 1050, min: 0 },
    { name: 'recallSteps', type: 'int', description: 'recall period = learning window', default: 150, min: 1 },
    { name: 'feedback', type: 'string', description: 'learning-signal feedback weights', default: 'random', choices: FEEDBACK_MODES },
    { name: 'surrogate', type: 'string', description: 'surrogate gradient', default: 'piecewise_linear', choices: SURROGATE_NAMES },
    { name: 'kernel', type: 'string', description: 'scan kernel (auto: js on wasm/cpu, fused webgpu on webgpu, tf otherwise)', default: 'auto', choices: EPROP_KERNELS },
    { name: 'threads', type: 'int', description: 'worker threads for the js kernel (0: all cores; results are the same bits for any number)', default: 1, min: 0 },
    { name: 'evaluationAdvancesOptimizer', type: 'bool', description: "validation and test batches go through Adam with η = 0 (NEST's example: m, v and the step counter move, weights do not)", default: false },
    { name: 'fixture', type: 'string', description: "NEST fixture JSON for parity mode ('' = train)", default: '' },
  ],
  presets: {
    tiny: { batchSize: 2, iterations: 2, nLif: 10, nAlif: 10, cueSteps: 20, spacingSteps: 10, delaySteps: 40, recallSteps: 30, validateEvery: 1, testBatches: 1 },
    nest: { iterations: 50, evaluationAdvancesOptimizer: true },
    full: {},
  },
  defaultMode: 'full',
  summaryKeys: ['loss', 'recall_error', 'rate_hz', 'seconds_per_iteration', 'mean_seconds_per_iteration', 'validation', 'test_error', 'test_loss', 'iterations', 'stopped_early'],
  volatileKeys: ['seconds_per_iteration', 'mean_seconds_per_iteration'],
  figures: ['learning-curves', 'sequence-early', 'sequence-late', 'weights', 'weight-traces'],
  // The fused webgpu kernels hold every step of a batch in one device buffer each: a batch the
  // adapter cannot hold is refused here, before the run folder is written.
  validateOnBackend(p, backend) {
    const kernel = String(p.kernel ?? 'auto') as EPropKernel;
    if (p.fixture || resolveEPropKernel(kernel, backend.name) !== 'webgpu') return;
    const task = taskOf(p);
    checkWebgpuBatch(Number(p.batchSize), task.steps, Number(p.nLif) + Number(p.nAlif), task.nIn, 2, '--batch-size');
  },
  async run(ctx: RunContext): Promise<Record<string, unknown>> {
    const p = ctx.params;
    const kernel = String(p.kernel ?? 'auto') as EPropKernel;
    if (p.fixture) return runParity(ctx, String(p.fixture), kernel);
    const task = taskOf(p);
    const iterations = Number(p.iterations);
    const nLif = Number(p.nLif);
    const visBatch = task.batch(1, new Rng(`${ctx.seed}/figures`));
    const visInput = ((await visBatch.inputs.data()) as Float32Array).slice();
    let early: EPropSequenceRecord | undefined;
    let late: EPropSequenceRecord | undefined;
    let before: Matrices = {};
    let after: Matrices = {};
    const traced: { name: string; cell: number; index: number; values: number[] }[] = [];
    let tracedAt: tf.Tensor | undefined; // the traced weights' positions in all weights, flattened in cell order
    const progress = ctx.progress(iterations, 'e-prop training');
    const hist = { loss: [] as number[], recall_error: [] as number[], rate_hz: [] as number[], seconds_per_iteration: [] as number[] };
    const validation: { iteration: number; error: number; loss: number }[] = [];
    const batchSize = Number(p.batchSize);
    const threads = await startThreads(ctx, Number(p.threads), kernel, batchSize);
    let res: EvidenceTrainingResult;
    try {
      res = await trainEvidence(
        {
          batchSize, iterations, nLif, nAlif: Number(p.nAlif), learningRate: Number(p.learningRate),
          validateEvery: Number(p.validateEvery), stopError: Number(p.stopError), testBatches: Number(p.testBatches), task,
          feedback: String(p.feedback) as FeedbackMode, surrogate: String(p.surrogate) as SurrogateName, kernel, seed: ctx.seed, threads,
          checkpointDir: ctx.checkpointDir, resume: ctx.resumed, evaluationAdvancesOptimizer: p.evaluationAdvancesOptimizer === true,
        },
        {
          onStart: async (net) => {
            ctx.log(`kernel ${net.trainer.kernel}, backend ${ctx.backend.name}, T = ${task.steps} steps, n = ${net.recurrent.n}`);
            before = await snapshot(net);
            early = await net.trainer.recordSequenceAsync({ inputs: visBatch.inputs, labels: visBatch.labels }, 0);
            const rng = new Rng(`${ctx.seed}/traced`);
            net.trainer.cells.forEach((c, ci) => {
              for (let k = 0; k < 2; k++) {
                let idx = rng.int(c.nPost * c.nPre);
                if (c.kind === 'recurrent' && Math.floor(idx / c.nPre) === idx % c.nPre) idx = (idx + 1) % (c.nPost * c.nPre);
                traced.push({ name: `W_${c.kind}[${Math.floor(idx / c.nPre)}, ${idx % c.nPre}]`, cell: ci, index: idx, values: [before[`W_${c.kind}`]!.data[idx]!] });
              }
            });
            const offsets = net.trainer.cells.map((_, ci) => net.trainer.cells.slice(0, ci).reduce((a, c) => a + c.nPost * c.nPre, 0));
            tracedAt = tf.keep(tf.tensor1d(traced.map((t) => offsets[t.cell]! + t.index), 'int32'));
          },
          onIteration: async (it, r, _b, net) => {
            hist.loss.push(r.loss);
            hist.recall_error.push(r.recallError);
            hist.rate_hz.push(r.rateHz);
            hist.seconds_per_iteration.push(r.seconds);
            // the traced weights only, in one read (not every weight matrix)
            const at = tracedAt!;
            const picked = tf.tidy(() => tf.gather(tf.concat(net.trainer.cells.map((c) => tf.reshape(c.weight.value, [-1]))), at));
            const w = await picked.data();
            picked.dispose();
            traced.forEach((t, i) => t.values.push(w[i]!));
            progress.tick(1, `loss ${r.loss.toFixed(4)} err ${(100 * r.recallError).toFixed(0)} % ${r.rateHz.toFixed(1)} Hz ${r.seconds.toFixed(2)} s`);
            if ((it + 1) % Math.min(10, Number(p.validateEvery)) === 0) await ctx.checkpoint({ ...hist, validation });
          },
          onValidation: (it, error, loss) => {
            validation.push({ iteration: it, error, loss });
            ctx.log(`validation at iteration ${it}: error ${(100 * error).toFixed(1)} %, loss ${loss.toFixed(4)}`);
          },
          onEnd: async (net, model) => {
            after = await snapshot(net);
            late = await net.trainer.recordSequenceAsync({ inputs: visBatch.inputs, labels: visBatch.labels }, 0);
            await model.save(ctx.artifactPath('network')); // the trained weights, Adam moments and data generators (Network.loadFrom)
          },
          shouldStop: () => ctx.signal.aborted,
          checkpointExtra: () => ({ hist, validation, traced: traced.map((t) => t.values) }),
          onResume: (extra, it) => {
            const e = extra as { hist: typeof hist; validation: typeof validation; traced: number[][] };
            Object.assign(hist, e.hist);
            validation.splice(0, validation.length, ...e.validation);
            e.traced.forEach((v, i) => (traced[i]!.values = v));
            progress.tick(it);
            ctx.log(`resumed after iteration ${it}`);
          },
        },
      );
    } finally {
      tracedAt?.dispose();
      await threads?.close();
    }
    progress.done();
    visBatch.inputs.dispose();
    ctx.log(`trained ${res.iterations} iterations${res.stoppedEarly ? ' (early stop)' : ''}; test error ${(100 * res.testError).toFixed(1)} %, test loss ${res.testLoss.toFixed(4)}`);
    await ctx.figure('learning-curves', learningCurves({ loss: res.loss, recallError: res.recallError, validation: res.validation }));
    await ctx.figure('sequence-early', sequenceFigure('one sequence before training', early!, visInput, task.nIn, nLif));
    await ctx.figure('sequence-late', sequenceFigure(`the same sequence after ${res.iterations} iterations`, late!, visInput, task.nIn, nLif));
    await ctx.figure('weights', weightsFigure(before, after));
    await ctx.figure('weight-traces', weightTracesFigure(traced));
    const secs = res.secondsPerIteration;
    const summary = {
      loss: res.loss, recall_error: res.recallError, rate_hz: res.rateHz, seconds_per_iteration: secs,
      mean_seconds_per_iteration: secs.length ? secs.reduce((a, b) => a + b, 0) / secs.length : null,
      validation: res.validation, test_error: res.testError, test_loss: res.testLoss, iterations: res.iterations, stopped_early: res.stoppedEarly,
    };
    await ctx.checkpoint(summary);
    return summary;
  },
};

export default epropEvidenceExample;
