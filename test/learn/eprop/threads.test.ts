import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { EProp, EPROP_SLICE, epropAdjoint, forwardJs, gradientsJs, readoutPass, sliceJobs } from '../../../src/learn/eprop/index.js';
import { EPropThreads } from '../../../src/learn/eprop/threads.node.js';
import { EvidenceTask } from '../../../examples/eprop-evidence/task.js';
import { buildEvidenceNetwork } from '../../../examples/eprop-evidence/training.js';

// The JavaScript kernel in slices of EPROP_SLICE sequences: the same bits on one thread and on
// worker threads, and within float64 rounding of one unsliced pass over the batch.
const task = new EvidenceTask({ cueSteps: 8, spacingSteps: 4, delaySteps: 30, recallSteps: 10 });
const B = 2 * EPROP_SLICE + 3; // three slices, the last one short
const net = (threads?: EPropThreads) => buildEvidenceNetwork({ nLif: 8, nAlif: 8, learningWindow: task.recallSteps, kernel: 'js', seed: 5, threads });

describe('e-prop JavaScript kernel on worker threads', () => {
  let threads: EPropThreads;
  beforeAll(async () => {
    threads = await EPropThreads.create(2);
  });
  afterAll(async () => {
    await threads.close();
  });

  it('three Adam steps on 2 threads give the same losses, rates, predictions and weights as on this thread, bit for bit', async () => {
    const one = net();
    const two = net(threads);
    let before = 0;
    try {
      for (let it = 0; it < 3; it++) {
        if (it === 1) before = tf.memory().numTensors; // after Adam made its moments
        const b = task.batch(B, new Rng(20 + it));
        const r1 = await one.trainer.stepAsync(b);
        const r2 = await two.trainer.stepAsync(b);
        b.inputs.dispose();
        expect(r2.loss).toBe(r1.loss);
        expect(r2.recallError).toBe(r1.recallError);
        expect(Array.from(r2.ratesHz)).toEqual(Array.from(r1.ratesHz));
        expect(Array.from(r2.prediction)).toEqual(Array.from(r1.prediction));
      }
      for (let c = 0; c < 3; c++) {
        const w1 = await one.trainer.cells[c]!.weight.value.data();
        const w2 = await two.trainer.cells[c]!.weight.value.data();
        expect(Array.from(w2)).toEqual(Array.from(w1));
      }
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  it('the sliced gradients equal one unsliced pass over the batch within 1e-13 relative', async () => {
    const n = net(threads);
    const b = task.batch(B, new Rng(7));
    try {
      const sliced = await n.trainer.gradientsAsync(b);
      // one pass over all B sequences with the kernel's own functions
      const c = n.recurrent.constants();
      const wIn = (await n.recurrent.wIn.value.data()) as Float32Array;
      const wRec = (await n.recurrent.wRec.value.data()) as Float32Array;
      const wOut = (await n.readout.wOut.value.data()) as Float32Array;
      const fb = (await n.readout.feedbackWeights.value.data()) as Float32Array;
      const input = { batch: B, steps: task.steps, nIn: task.nIn, data: (await b.inputs.data()) as Float32Array };
      const rec = forwardJs(c, wIn, wRec, input);
      const nLw = task.recallSteps;
      const ro = readoutPass(rec.z, { batch: B, steps: task.steps, n: c.n, nOut: 2, nLw }, wOut, n.readout.kappa, 'cross_entropy', { labels: b.labels });
      const adj = epropAdjoint(rec, c, ro.err, { nLw, kappa: n.readout.kappa, nOut: 2, feedback: fb, cReg: 300, f0: 0.01, averageGradient: true });
      const whole = gradientsJs(input, rec, adj, 2);
      expect(sliced.result.loss).toBeCloseTo(ro.loss, 14);
      expect(Array.from(sliced.result.prediction)).toEqual(Array.from(ro.prediction));
      for (const k of ['input', 'recurrent', 'readout'] as const) {
        const scale = Math.max(...whole[k].map(Math.abs));
        expect(scale).toBeGreaterThan(0);
        for (let i = 0; i < whole[k].length; i++) expect(Math.abs(sliced.gradients[k][i]! - whole[k][i]!)).toBeLessThanOrEqual(1e-13 * scale);
      }
    } finally {
      b.inputs.dispose();
      n.dispose();
    }
  });

  it('cuts a batch into slices of EPROP_SLICE sequences with their own labels and inputs', () => {
    const data = new Float32Array(B * 3 * 2).map((_, i) => i);
    const common = {} as Parameters<typeof sliceJobs>[0];
    const labels = Array.from({ length: B }, (_, i) => i % 2);
    const jobs = sliceJobs({ ...common, adjoint: { nLw: 1, nOut: 2 } as never }, { batch: B, steps: 3, nIn: 2, data }, { labels });
    expect(jobs.map((j) => j.input.batch)).toEqual([EPROP_SLICE, EPROP_SLICE, 3]);
    expect(jobs[1]!.input.data[0]).toBe(EPROP_SLICE * 6);
    expect(Array.from(jobs[2]!.labels!)).toEqual(labels.slice(2 * EPROP_SLICE));
  });

  it('rejects a bad thread count, threads with another kernel, and a closed pool', async () => {
    await expect(EPropThreads.create(0)).rejects.toThrow(/invalid threads: got 0/);
    const n = buildEvidenceNetwork({ nLif: 2, nAlif: 2, learningWindow: 5 });
    try {
      expect(() => new EProp({ recurrent: n.recurrent, readout: n.readout, optimizer: n.optimizer, kernel: 'tf', threads })).toThrow(/invalid threads: .* expected the js kernel/);
      expect(() => new EProp({ recurrent: n.recurrent, readout: n.readout, optimizer: n.optimizer, threads: {} as never })).toThrow(/invalid threads/);
    } finally {
      n.dispose();
    }
    const closed = await EPropThreads.create(1);
    await closed.close();
    await expect(closed.run([])).rejects.toThrow(/invalid threads: got "closed"/);
  });

  it('a slice that fails rejects the run with its error and leaves the pool unusable', async () => {
    const pool = await EPropThreads.create(1);
    try {
      await expect(pool.run([{ bogus: true } as never])).rejects.toThrow(/e-prop worker thread, slice 0/);
      await expect(pool.run([])).rejects.toThrow(/invalid threads/);
    } finally {
      await pool.close();
    }
    // a job that reaches the thread and throws there
    const other = await EPropThreads.create(1);
    try {
      const job = { input: { batch: 1, steps: 1, nIn: 1, data: new Float32Array(1) } } as never;
      await expect(other.run([job])).rejects.toThrow(/e-prop worker thread, slice 0: TypeError/);
      await expect(other.run([])).rejects.toThrow(/invalid threads: got "broken/);
    } finally {
      await other.close();
    }
  });
});
