import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { EvidenceTask } from '../../../examples/eprop-evidence/task.js';
import { trainEvidence, type EvidenceTrainingHooks } from '../../../examples/eprop-evidence/training.js';

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

  it('stops at the first validation below stopError when the confirmation batches agree', async () => {
    const { log, hooks } = logged();
    const r = await trainEvidence({ ...small, task: task(), iterations: 5, validateEvery: 2, stopError: 1, confirmBatches: 2 }, hooks);
    expect(r.validation[0]!.error).toBeLessThan(1);
    expect(r.stoppedEarly).toBe(true);
    expect(r.iterations).toBe(0);
    expect(log).toEqual(['validation 0', 'trained 0 true', 'end']);
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
      const whole = await trainEvidence(opts);
      let n = 0;
      // stopped at an iteration boundary with the next batch already drawn
      const part = await trainEvidence({ ...opts, checkpointDir: dir }, { shouldStop: () => n >= 4, onIteration: () => void n++ });
      expect(part.iterations).toBe(4);
      const resumed = await trainEvidence({ ...opts, checkpointDir: dir, resume: true });
      expect(resumed.iterations).toBe(7);
      expect(resumed.loss).toEqual(whole.loss);
      expect(resumed.validation).toEqual(whole.validation);
      expect(resumed.testError).toBe(whole.testError);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
