/**
 * Training protocols on the evidence-accumulation task: the NEST network built with
 * {@link buildEvidenceNetwork}, the training loop with validation and early stop
 * ({@link trainEvidence}), and the parity run on a NEST fixture ({@link runFixtureParity}).
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Network } from '../../src/network/index.js';
import '../../src/network/files.js';
import { CinderArgumentError, checkInteger, checkPositive, checkRange } from '../../src/core/errors.js';
import { Rng } from '../../src/core/random.js';
import { Adam } from '../../src/learn/optimizers/adam.js';
import { EPropRecurrent } from '../../src/learn/eprop/recurrent.js';
import { EPropReadout, type FeedbackMode } from '../../src/learn/eprop/readout.js';
import { EProp, type EPropBatch, type EPropKernel, type EPropStepResult } from '../../src/learn/eprop/eprop.js';
import { EvidenceTask, type EvidenceBatch } from './task.js';
import { fixtureBatch, type EPropFixture } from './nest-fixture.js';
import type { SurrogateName } from '../../src/learn/eprop/surrogate.js';
import type { EPropSliceRunner } from '../../src/learn/eprop/js-batch.js';

/** Initial weights given explicitly (row-major, rows = postsynaptic). */
export interface EvidenceInitialWeights {
  /** W_in [n·nIn]. */
  wIn: ArrayLike<number>;
  /** W_rec [n·n]. */
  wRec: ArrayLike<number>;
  /** W_out [nOut·n]. */
  wOut: ArrayLike<number>;
  /** Feedback B [n·nOut]. */
  feedback: ArrayLike<number>;
}

/** One validation point. */
export interface ValidationPoint {
  /** Iteration before which it was taken. */
  iteration: number;
  /** Recall error. */
  error: number;
  /** Loss. */
  loss: number;
}

/** Per-iteration results of {@link runFixtureParity}. */
export interface FixtureParityResult {
  /** Loss per iteration. */
  loss: number[];
  /** Recall error per iteration. */
  recallError: number[];
  /** Seconds per iteration. */
  secondsPerIteration: number[];
}

/** Network and learning settings (defaults: NEST's evidence-accumulation example). */
export interface EvidenceNetworkOptions {
  /** Inputs (default 40). */
  nIn?: number;
  /** LIF neurons (default 50). */
  nLif?: number;
  /** ALIF neurons (default 50). */
  nAlif?: number;
  /** Learning window = recall steps (default 150). */
  learningWindow?: number;
  /** Adam learning rate (default 5e-3). */
  learningRate?: number;
  /** Regularisation c_reg (default 300). */
  cReg?: number;
  /** Target rate in Hz (default 10). */
  fTarget?: number;
  /** Feedback mode (default `random`). */
  feedback?: FeedbackMode;
  /** Surrogate (default `piecewise_linear`). */
  surrogate?: SurrogateName;
  /** Scan kernel (default `auto`). */
  kernel?: EPropKernel;
  /** Worker threads for the `js` kernel (e.g. `await EPropThreads.create(4)`; default this thread). */
  threads?: EPropSliceRunner;
  /** Seed of the initial weights (default 1). */
  seed?: number;
  /** Initial weights (e.g. from a fixture) instead of random ones. */
  weights?: EvidenceInitialWeights;
}

/** A built network with its trainer. */
export interface EvidenceNetwork {
  /** Recurrent population. */
  recurrent: EPropRecurrent;
  /** Readout. */
  readout: EPropReadout;
  /** Optimizer (Adam, NEST settings). */
  optimizer: Adam;
  /** Trainer. */
  trainer: EProp;
  /** Frees all tensors. */
  dispose(): void;
}

/** Adam learning rate η of NEST's evidence-accumulation example: the one default of the API and the CLI. */
export const EVIDENCE_LEARNING_RATE = 5e-3;

/** The one check of η for this task (the API and the CLI's `--learning-rate`): a finite number > 0. */
export function checkEvidenceLearningRate(lr: number): number {
  return checkPositive('learningRate', lr);
}

/** Builds NEST's evidence-accumulation network and an e-prop trainer for it. */
export function buildEvidenceNetwork(o: EvidenceNetworkOptions = {}): EvidenceNetwork {
  const rng = new Rng(o.seed ?? 1);
  const nIn = o.nIn ?? 40;
  const recurrent = new EPropRecurrent({
    nIn, nLif: o.nLif ?? 50, nAlif: o.nAlif ?? 50, surrogate: o.surrogate, rng, wIn: o.weights?.wIn, wRec: o.weights?.wRec,
  });
  let readout: EPropReadout | undefined;
  let optimizer: Adam | undefined;
  let trainer: EProp;
  try {
    readout = new EPropReadout({
      nRec: recurrent.n, nOut: 2, feedback: o.feedback, rng, wOut: o.weights?.wOut, feedbackWeights: o.weights?.feedback,
    });
    optimizer = new Adam({ learningRate: checkEvidenceLearningRate(o.learningRate ?? EVIDENCE_LEARNING_RATE), beta1: 0.9, beta2: 0.999, epsilon: 1e-8, wMin: -100, wMax: 100 });
    trainer = new EProp({
      recurrent, readout, optimizer, learningWindow: o.learningWindow ?? 150, cReg: o.cReg ?? 300, fTarget: o.fTarget ?? 10,
      averageGradient: true, kernel: o.kernel, threads: o.threads,
    });
  } catch (e) {
    // a rejected setting leaves no tensors behind
    optimizer?.dispose();
    readout?.dispose();
    recurrent.dispose();
    throw e;
  }
  const ro = readout;
  const opt = optimizer;
  return {
    recurrent, readout: ro, optimizer: opt, trainer,
    dispose() {
      trainer.dispose();
      recurrent.dispose();
      ro.dispose();
      opt.dispose();
    },
  };
}

/** Runs a NEST fixture exactly (its inputs, weights, batch size, iterations) and returns the losses. */
export async function runFixtureParity(f: EPropFixture, options: { kernel?: EPropKernel } = {}): Promise<FixtureParityResult> {
  const net = buildEvidenceNetwork({
    nIn: f.nIn, nLif: f.nLif, nAlif: f.nAlif, learningWindow: f.learningWindow, kernel: options.kernel,
    weights: { wIn: f.wIn, wRec: f.wRec, wOut: f.wOut, feedback: f.feedback },
  });
  const loss: number[] = [];
  const recallError: number[] = [];
  const secondsPerIteration: number[] = [];
  try {
    for (let it = 0; it < f.nIter; it++) {
      const b = fixtureBatch(f, it);
      try {
        const r = await net.trainer.stepAsync(b);
        loss.push(r.loss);
        recallError.push(r.recallError);
        secondsPerIteration.push(r.seconds);
      } finally {
        b.inputs.dispose();
      }
    }
  } finally {
    net.dispose();
  }
  return { loss, recallError, secondsPerIteration };
}

/** Settings of {@link trainEvidence}. */
export interface EvidenceTrainingOptions extends EvidenceNetworkOptions {
  /** Sequences per batch (default 32). */
  batchSize?: number;
  /** Maximum training iterations (default 2000). */
  iterations?: number;
  /** Validate every this many iterations (default 10). */
  validateEvery?: number;
  /** Early-stop error (default 0.07); checked at every validation except the first (iteration 0). */
  stopError?: number;
  /** Extra validation batches that confirm an early stop (default 8). */
  confirmBatches?: number;
  /** Test batches at the end (default 4). */
  testBatches?: number;
  /** Task (default NEST's). */
  task?: EvidenceTask;
  /** Seed of the task data (default seed + 1000). */
  dataSeed?: number;
  /**
   * Folder of a checkpoint saved after every iteration (network, Adam moments, data generators,
   * histories); with `resume`, training continues from the checkpoint found there.
   */
  checkpointDir?: string;
  /** Continue from the checkpoint in `checkpointDir` when there is one. */
  resume?: boolean;
  /**
   * Draw the next training, confirmation or test batch while the current one runs on the device
   * (webgpu) or on worker threads (default true). The batches, and so every result, are the same either way;
   * only the wall time differs.
   */
  prefetch?: boolean;
  /**
   * Run validation, confirmation and test batches through the optimizer with η = 0, as NEST's
   * e-prop example does (default false, as the TF original: evaluation never touches the optimizer).
   * The weights stay the same; Adam's m, v and step counter take each evaluation batch's gradient,
   * so the following training steps differ.
   */
  evaluationAdvancesOptimizer?: boolean;
}

/** Hooks called during {@link trainEvidence}. */
export interface EvidenceTrainingHooks {
  /** Before the first iteration, with the network (e.g. to snapshot weights). */
  onStart?(net: EvidenceNetwork): void | Promise<void>;
  /** After each training iteration, with the batch it trained on (disposed afterwards). */
  onIteration?(iteration: number, result: EPropStepResult, batch: EvidenceBatch, net: EvidenceNetwork): void | Promise<void>;
  /** After each validation. */
  onValidation?(iteration: number, error: number, loss: number): void | Promise<void>;
  /** After the training loop ends (early stop, the iteration limit or `shouldStop`), before the test batches. */
  onTrained?(iterations: number, stoppedEarly: boolean): void | Promise<void>;
  /** After the test batches, before the network is disposed (e.g. to record or save the final weights); `model` holds the whole trained state. */
  onEnd?(net: EvidenceNetwork, model: Network): void | Promise<void>;
  /** The caller's own JSON state saved with every checkpoint. */
  checkpointExtra?(): Record<string, unknown>;
  /** Called after a checkpoint was loaded (with what `checkpointExtra` returned then). */
  onResume?(extra: Record<string, unknown>, iteration: number): void | Promise<void>;
  /** Return true to stop training at the next iteration boundary. */
  shouldStop?(): boolean;
}

/** What {@link trainEvidence} returns. */
export interface EvidenceTrainingResult {
  /** Training loss per iteration. */
  loss: number[];
  /** Training recall error per iteration. */
  recallError: number[];
  /** Mean firing rate per iteration (Hz). */
  rateHz: number[];
  /** Seconds per iteration. */
  secondsPerIteration: number[];
  /** Validation points. */
  validation: ValidationPoint[];
  /** Mean test error and loss over the test batches. */
  testError: number;
  /** Mean test loss. */
  testLoss: number;
  /** Iterations trained. */
  iterations: number;
  /** Whether the early-stop criterion was met. */
  stoppedEarly: boolean;
}

/**
 * `draw()` while `pending` (a batch already started) runs: one macrotask later its work is queued
 * (webgpu dispatches at once; the js kernel posts its slices to the worker threads after its
 * reads), then draw. The caller awaits `pending` afterwards; it is marked handled here, so a
 * failure meanwhile is not an unhandled rejection.
 */
async function drawWhile<T>(pending: Promise<unknown>, draw: () => T): Promise<T> {
  pending.catch(() => undefined);
  await new Promise<void>((resolve) => setImmediate(resolve));
  return draw();
}

/**
 * Mean error and loss over `batches` evaluation batches. With `advanceOptimizer` each batch also goes
 * through the optimizer with η = 0, as NEST's example runs validation and test: its gradient moves
 * Adam's m, v and step counter while w ← clip(w − 0·…) stays the same.
 */
async function meanEval(net: EvidenceNetwork, task: EvidenceTask, batches: number, batchSize: number, rng: Rng, prefetch: boolean, advanceOptimizer: boolean): Promise<{ error: number; loss: number }> {
  let error = 0;
  let loss = 0;
  let ahead: EvidenceBatch | undefined; // the next batch, drawn while this one is evaluated
  try {
    for (let i = 0; i < batches; i++) {
      const b = ahead ?? task.batch(batchSize, rng);
      ahead = undefined;
      try {
        const pending = advanceOptimizer ? stepWithoutLearning(net, b as EPropBatch) : net.trainer.evaluateAsync(b as EPropBatch);
        if (prefetch && i + 1 < batches) ahead = await drawWhile(pending, () => task.batch(batchSize, rng));
        const r = await pending;
        error += r.recallError;
        loss += r.loss;
      } finally {
        b.inputs.dispose();
      }
    }
  } finally {
    ahead?.inputs.dispose();
  }
  return { error: error / batches, loss: loss / batches };
}

/** One optimizer step with η = 0 on `batch` (the optimizer's η is restored afterwards, also on failure). */
export async function stepWithoutLearning(net: EvidenceNetwork, batch: EPropBatch): Promise<EPropStepResult> {
  const eta = net.optimizer.learningRate;
  net.optimizer.learningRate = 0;
  try {
    return await net.trainer.stepAsync(batch);
  } finally {
    net.optimizer.learningRate = eta;
  }
}

/**
 * Trains on the evidence-accumulation task: validation every `validateEvery` iterations (including
 * iteration 0); from the second validation on (iteration > 0, as NEST's example and the TF original),
 * when the validation error is below `stopError`, `confirmBatches` more batches are
 * evaluated and training stops if their mean error is below it too; finally `testBatches` test
 * batches. Validation and test leave the optimizer alone, or with `evaluationAdvancesOptimizer` run
 * through it with η = 0 as NEST does. Yields to the event loop once per
 * iteration, so hooks may do asynchronous I/O and signals are seen.
 */
export async function trainEvidence(options: EvidenceTrainingOptions = {}, hooks: EvidenceTrainingHooks = {}): Promise<EvidenceTrainingResult> {
  const batchSize = checkInteger('batchSize', options.batchSize ?? 32, 1);
  const iterations = checkInteger('iterations', options.iterations ?? 2000, 0);
  const validateEvery = checkInteger('validateEvery', options.validateEvery ?? 10, 1);
  const stopError = checkRange('stopError', options.stopError ?? 0.07, 0, 1);
  const confirmBatches = checkInteger('confirmBatches', options.confirmBatches ?? 8, 0);
  const testBatches = checkInteger('testBatches', options.testBatches ?? 4, 1);
  const task = options.task ?? new EvidenceTask();
  if (options.learningWindow !== undefined && options.learningWindow !== task.recallSteps) {
    throw new CinderArgumentError('learningWindow', options.learningWindow, `the task's recall length ${task.recallSteps}`);
  }
  checkEvidenceLearningRate(options.learningRate ?? EVIDENCE_LEARNING_RATE);
  const prefetch = options.prefetch ?? true;
  if (typeof prefetch !== 'boolean') throw new CinderArgumentError('prefetch', prefetch, 'true or false');
  const advance = options.evaluationAdvancesOptimizer ?? false;
  if (typeof advance !== 'boolean') throw new CinderArgumentError('evaluationAdvancesOptimizer', advance, 'true or false');
  const net = buildEvidenceNetwork({ ...options, nIn: task.nIn, learningWindow: task.recallSteps });
  const seed = options.seed ?? 1;
  const trainRng = new Rng(options.dataSeed ?? seed + 1000);
  const evalRng = trainRng.fork();
  // Where the next training batch starts in trainRng's stream. With prefetch trainRng runs one
  // batch ahead; checkpoints save this position, so a resumed run draws the same batches.
  const trainCursor = new Rng(trainRng.seed);
  trainCursor.setState(trainRng.getState());
  const out: EvidenceTrainingResult = {
    loss: [], recallError: [], rateHz: [], secondsPerIteration: [], validation: [], testError: NaN, testLoss: NaN, iterations: 0, stoppedEarly: false,
  };
  // the complete training state as a Network (weights, Adam, data generators) for checkpoints
  const model = new Network();
  model.add('recurrent', net.recurrent);
  model.add('readout', net.readout);
  model.addOptimizer('adam', net.optimizer);
  model.addRng('train_data', trainCursor);
  model.addRng('eval_data', evalRng);
  const dir = options.checkpointDir;
  let ahead: EvidenceBatch | undefined; // the next iteration's batch, drawn during this one
  try {
    await hooks.onStart?.(net);
    let first = 0;
    if (dir !== undefined && options.resume && existsSync(join(dir, 'model.json'))) {
      const m = (await model.loadFrom(dir)) as { out: EvidenceTrainingResult; next: number; trainerBatches?: number; extra: Record<string, unknown> };
      Object.assign(out, m.out);
      first = m.next;
      if (m.trainerBatches !== undefined) net.trainer.iterations = m.trainerBatches; // (checkpoints before it: 0, as before)
      trainRng.setState(trainCursor.getState());
      await hooks.onResume?.(m.extra ?? {}, first);
    }
    for (let it = first; it < iterations; it++) {
      await new Promise<void>((resolve) => setImmediate(resolve)); // let signals and I/O through
      if (hooks.shouldStop?.()) break;
      if (it % validateEvery === 0) {
        const v = await meanEval(net, task, 1, batchSize, evalRng, prefetch, advance);
        out.validation.push({ iteration: it, ...v });
        await hooks.onValidation?.(it, v.error, v.loss);
        // as NEST's example and the TF original (`k_iter > 0 and error < stop_crit`): the validation
        // of the untrained network (iteration 0) never stops training
        if (it > 0 && v.error < stopError) {
          const c = confirmBatches > 0 ? await meanEval(net, task, confirmBatches, batchSize, evalRng, prefetch, advance) : v;
          if (c.error < stopError) {
            out.stoppedEarly = true;
            break;
          }
        }
      }
      const b = ahead ?? task.batch(batchSize, trainRng);
      ahead = undefined;
      trainCursor.setState(trainRng.getState()); // after b: where the next batch starts
      try {
        const pending = net.trainer.stepAsync(b as EPropBatch);
        if (prefetch && it + 1 < iterations) ahead = await drawWhile(pending, () => task.batch(batchSize, trainRng));
        const r = await pending;
        out.loss.push(r.loss);
        out.recallError.push(r.recallError);
        out.rateHz.push(r.rateHz);
        out.secondsPerIteration.push(r.seconds);
        out.iterations = it + 1;
        await hooks.onIteration?.(it, r, b, net);
      } finally {
        b.inputs.dispose();
      }
      if (dir !== undefined) await model.save(dir, { out, next: it + 1, trainerBatches: net.trainer.iterations, extra: hooks.checkpointExtra?.() ?? {} });
    }
    await hooks.onTrained?.(out.iterations, out.stoppedEarly);
    const t = await meanEval(net, task, testBatches, batchSize, evalRng, prefetch, advance);
    out.testError = t.error;
    out.testLoss = t.loss;
    await hooks.onEnd?.(net, model);
  } finally {
    ahead?.inputs.dispose();
    net.dispose();
  }
  return out;
}
