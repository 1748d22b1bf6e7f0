import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { EvidenceTask } from '../../../examples/eprop-evidence/task.js';
import { buildEvidenceNetwork, stepWithoutLearning, trainEvidence, type EvidenceTrainingHooks } from '../../../examples/eprop-evidence/training.js';
import { Rng } from '../../../src/core/random.js';
import type { EPropBatch } from '../../../src/learn/eprop/eprop.js';

// NEST's training protocol in `trainEvidence`: validation every `validateEvery` iterations from
// iteration 0; below `stopError`, `confirmBatches` more batches confirm the stop; `onTrained` comes
// once, after the loop and before the test batches.
const task = () => new EvidenceTask({ cueSteps: 4, spacingSteps: 2, delaySteps: 8, recallSteps: 6 });
const small = { nLif: 4, nAlif: 4, batchSize: 8, testBatches: 1, seed: 3 };

function logged(extra: EvidenceTrainingHooks = {}): { log: string[]; hooks: EvidenceTrainingHooks } {
  const log: string[] = [];
  const hooks: EvidenceTrainingHooks = {
    ...extra,
    onValidation: (it) => void log.push(`validation ${it}`),
    onIteration: (it) => void log.push(`iteration ${it}`),
    onTrained: (n, early) => void log.push(`trained ${n} ${early}`),
    onEnd: () => void log.push('end'),
  };
  return { log, hooks };
}

describe('trainEvidence protocol', () => {
  it('without a stop: validation at 0, k, 2k, …; every iteration trained; onTrained before the test', async () => {
    const before = tf.memory().numTensors;
    const { log, hooks } = logged();
    const r = await trainEvidence({ ...small, task: task(), iterations: 5, validateEvery: 2, stopError: 0 }, hooks);
    expect(r.iterations).toBe(5);
    expect(r.stoppedEarly).toBe(false);
    expect(r.validation.map((v) => v.iteration)).toEqual([0, 2, 4]);
    expect(r.loss).toHaveLength(5);
    expect(log).toEqual(['validation 0', 'iteration 0', 'iteration 1', 'validation 2', 'iteration 2', 'iteration 3', 'validation 4', 'iteration 4', 'trained 5 false', 'end']);
    expect(Number.isFinite(r.testError)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops at the first validation after iteration 0 below stopError when the confirmation batches agree', async () => {
    // NEST's example and the TF original check the stop criterion only for k_iter > 0: the
    // untrained network's validation (below stopError = 1 here) never ends training
    const { log, hooks } = logged();
    const r = await trainEvidence({ ...small, task: task(), iterations: 5, validateEvery: 2, stopError: 1, confirmBatches: 2 }, hooks);
    expect(r.validation[0]!.error).toBeLessThan(1);
    expect(r.validation[1]!.error).toBeLessThan(1);
    expect(r.stoppedEarly).toBe(true);
    expect(r.iterations).toBe(2);
    expect(log).toEqual(['validation 0', 'iteration 0', 'iteration 1', 'validation 2', 'trained 2 true', 'end']);
  });

  it('shouldStop ends training at the next iteration boundary, still before the test batches', async () => {
    let n = 0;
    const { log, hooks } = logged({ shouldStop: () => n >= 3 });
    const onIteration = hooks.onIteration!;
    hooks.onIteration = (...a) => { n++; return onIteration(...a); };
    const r = await trainEvidence({ ...small, task: task(), iterations: 10, validateEvery: 100, stopError: 0 }, hooks);
    expect(r.iterations).toBe(3);
    expect(r.stoppedEarly).toBe(false);
    expect(log.slice(-2)).toEqual(['trained 3 false', 'end']);
  });
});

describe('trainEvidence prefetch (the next batch drawn while an iteration runs)', () => {
  const opts = { ...small, task: task(), iterations: 7, validateEvery: 3, stopError: 0 };

  it('trains and evaluates on the same batches as drawing each batch when it is needed: equal results, no tensor left', async () => {
    const before = tf.memory().numTensors;
    // three test batches: the evaluation loop draws ahead too
    const on = await trainEvidence({ ...opts, testBatches: 3, prefetch: true });
    const off = await trainEvidence({ ...opts, testBatches: 3, prefetch: false });
    expect(on.loss).toHaveLength(7);
    expect(on.loss).toEqual(off.loss);
    expect(on.recallError).toEqual(off.recallError);
    expect(on.validation).toEqual(off.validation);
    expect(on.testError).toBe(off.testError);
    expect(on.testLoss).toBe(off.testLoss);
    // a different data seed gives different losses, so equal losses mean equal batches
    const other = await trainEvidence({ ...opts, dataSeed: 77 });
    expect(other.loss).not.toEqual(on.loss);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a checkpoint saves the position of the next batch, not of the batch drawn ahead: interrupted + resumed equals uninterrupted', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'cinder-evidence-'));
    try {
      const before = tf.memory().numTensors;
      let wholeBatches = -1;
      const whole = await trainEvidence(opts, { onEnd: (net) => void (wholeBatches = net.trainer.iterations) });
      let n = 0;
      // stopped at an iteration boundary with the next batch already drawn
      const part = await trainEvidence({ ...opts, checkpointDir: dir }, { shouldStop: () => n >= 4, onIteration: () => void n++ });
      expect(part.iterations).toBe(4);
      let resumedBatches = -1;
      const resumed = await trainEvidence({ ...opts, checkpointDir: dir, resume: true }, { onEnd: (net) => void (resumedBatches = net.trainer.iterations) });
      expect(resumed.iterations).toBe(7);
      // the trainer's batch count (named by a NonFiniteError) continues from the checkpoint
      expect(wholeBatches).toBeGreaterThanOrEqual(7);
      expect(resumedBatches).toBe(wholeBatches);
      expect(resumed.loss).toEqual(whole.loss);
      expect(resumed.validation).toEqual(whole.validation);
      expect(resumed.testError).toBe(whole.testError);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('EProp.iterations set on resume', () => {
  it('takes an integer >= 0 and refuses anything else, unchanged', () => {
    const t = task();
    const net = buildEvidenceNetwork({ nLif: 2, nAlif: 2, nIn: t.nIn, learningWindow: t.recallSteps, seed: 5 });
    try {
      net.trainer.iterations = 12;
      expect(net.trainer.iterations).toBe(12);
      for (const bad of [-1, 1.5, NaN]) {
        expect(() => {
          net.trainer.iterations = bad;
        }).toThrow(/invalid iterations: got .*, expected an integer/);
      }
      expect(net.trainer.iterations).toBe(12);
    } finally {
      net.dispose();
    }
  });
});

describe("NEST's evaluation through the optimizer with η = 0 (evaluationAdvancesOptimizer)", () => {
  it('an η = 0 step keeps the weights bit for bit and feeds its gradient into Adam: the next step is the closed form of two moments', async () => {
    const t = task();
    const net = buildEvidenceNetwork({ nLif: 4, nAlif: 4, nIn: t.nIn, learningWindow: t.recallSteps, seed: 5 });
    const rng = new Rng(17);
    const [b1, b2] = [t.batch(8, rng), t.batch(8, rng)];
    try {
      const read = async () => Promise.all(net.trainer.cells.map(async (c) => Float64Array.from(await c.weight.variable.data())));
      const w0 = await read();
      const g1 = (await net.trainer.gradientsAsync(b1 as EPropBatch)).gradients;
      const g2 = (await net.trainer.gradientsAsync(b2 as EPropBatch)).gradients;
      const eta = net.optimizer.learningRate;
      const r = await stepWithoutLearning(net, b1 as EPropBatch);
      expect(net.optimizer.learningRate).toBe(eta);
      expect(net.optimizer.iterations).toBe(1);
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(await read()).toEqual(w0);
      await net.trainer.stepAsync(b2 as EPropBatch);
      const w2 = await read();
      const { beta1: b1c, beta2: b2c, epsilon: eps } = net.optimizer;
      const alpha2 = (eta * Math.sqrt(1 - b2c ** 2)) / (1 - b1c ** 2);
      const alpha1 = (eta * Math.sqrt(1 - b2c)) / (1 - b1c);
      let worst = 0;
      let apart = 0; // distance from what Adam would give had the η = 0 step not touched it
      net.trainer.cells.forEach((c, k) => {
        const [ga, gb] = [g1[c.kind], g2[c.kind]];
        for (let i = 0; i < ga.length; i++) {
          const m = b1c * (1 - b1c) * ga[i]! + (1 - b1c) * gb[i]!;
          const v = b2c * (1 - b2c) * ga[i]! ** 2 + (1 - b2c) * gb[i]! ** 2;
          const want = Math.min(100, Math.max(-100, w0[k]![i]! - (alpha2 * m) / (Math.sqrt(v) + eps)));
          const untouched = w0[k]![i]! - (alpha1 * (1 - b1c) * gb[i]!) / (Math.sqrt((1 - b2c) * gb[i]! ** 2) + eps);
          worst = Math.max(worst, Math.abs(w2[k]![i]! - want));
          apart = Math.max(apart, Math.abs(untouched - want));
        }
      });
      expect(worst).toBeLessThan(2e-6);
      expect(apart).toBeGreaterThan(1e-4);
    } finally {
      b1.inputs.dispose();
      b2.inputs.dispose();
      net.dispose();
    }
  });

  it('trainEvidence: validation, confirmation and test batches each take one Adam step; without the option none does', async () => {
    for (const advance of [false, true]) {
      let steps = -1;
      const r = await trainEvidence({ ...small, task: task(), iterations: 3, validateEvery: 2, stopError: 0, evaluationAdvancesOptimizer: advance }, {
        onEnd: (net) => void (steps = net.optimizer.iterations),
      });
      // 3 training iterations; validation at 0 and 2; 1 test batch
      expect(steps).toBe(advance ? 3 + 2 + 1 : 3);
      expect(r.validation).toHaveLength(2);
    }
    await expect(trainEvidence({ ...small, task: task(), iterations: 1, evaluationAdvancesOptimizer: 'yes' as unknown as boolean })).rejects.toThrow(/evaluationAdvancesOptimizer.*yes.*true or false/);
  });
});
