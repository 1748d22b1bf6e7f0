import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { EProp, EPropReadout, EPropRecurrent } from '../../../src/learn/eprop/index.js';
import { EvidenceTask } from '../../../examples/eprop-evidence/task.js';
import { buildEvidenceNetwork } from '../../../examples/eprop-evidence/training.js';
import { Adam, GradientDescent } from '../../../src/learn/optimizers/index.js';

describe('firing-rate regulariser (each sequence its own rate, as in NEST)', () => {
  it('G_in = (1/B)·Σ_b c_reg·(f_b − f0)/T · Σ_t ψ_t·x̄_t / n_lw when the learning signal is 0', () => {
    const T = 50, nLw = 10, cReg = 40, f0 = 0.02, w = Math.fround(0.45); // weights are stored in float32
    const pattern = [(t: number) => t % 2 === 0, (t: number) => t % 5 === 1];
    const data = new Float32Array(2 * T);
    pattern.forEach((p, b) => { for (let t = 0; t < T; t++) data[b * T + t] = p(t) ? 1 : 0; });
    const rec = new EPropRecurrent({ nIn: 1, nLif: 1, tRef: 2, wIn: [w], wRec: [0] });
    const ro = new EPropReadout({ nRec: 1, nOut: 2, wOut: [0.3, -0.2], feedbackWeights: [0, 0] });
    const trainer = new EProp({ recurrent: rec, readout: ro, optimizer: new GradientDescent(), learningWindow: nLw, cReg, fTarget: 20, averageGradient: true, kernel: 'js' });
    const inputs = tf.tensor3d(data, [2, T, 1]);
    const { gradients } = trainer.gradients({ inputs, labels: [0, 1] });
    inputs.dispose();
    // Closed form, computed here from the neuron equations.
    const alpha = Math.exp(-1 / 20);
    const perSeq: { f: number; sumE: number }[] = [];
    for (let b = 0; b < 2; b++) {
      let v = 0, z = 0, r = 0, xbar = 0, count = 0, sumE = 0;
      for (let t = 0; t < T; t++) {
        const x = data[b * T + t]!;
        v = alpha * v + w * x - 0.6 * z;
        if (r > 0) r--;
        const psi = r > 0 ? 0 : 0.5 * Math.max(0, 1 - Math.abs(v - 0.6) / 0.6);
        z = r === 0 && v >= 0.6 ? 1 : 0;
        if (z) r = 2;
        count += z;
        xbar = alpha * xbar + x;
        sumE += psi * xbar;
      }
      perSeq.push({ f: count / T, sumE });
    }
    expect(perSeq[0]!.f).not.toBeCloseTo(perSeq[1]!.f, 3);
    const nest = perSeq.reduce((s, p) => s + (cReg * (p.f - f0) / T) * p.sumE / nLw, 0) / 2;
    const fMean = (perSeq[0]!.f + perSeq[1]!.f) / 2;
    const tfForm = perSeq.reduce((s, p) => s + (cReg * (fMean - f0) / T) * p.sumE / nLw, 0) / 2;
    expect(gradients.input[0]).toBeCloseTo(nest, 12);
    expect(Math.abs(nest - tfForm)).toBeGreaterThan(1e-4 * Math.abs(nest));
    rec.dispose();
    ro.dispose();
  });
});

describe('EProp trainer', () => {
  it('validates batches', () => {
    const net = buildEvidenceNetwork({ nLif: 2, nAlif: 2, learningWindow: 5 });
    const x = tf.zeros([2, 8, 40]);
    const bad = tf.zeros([2, 8, 3]);
    const short = tf.zeros([2, 4, 40]);
    expect(() => net.trainer.step({ inputs: bad, labels: [0, 1] })).toThrow(/batch.inputs/);
    expect(() => net.trainer.step({ inputs: short, labels: [0, 1] })).toThrow(/learningWindow/);
    expect(() => net.trainer.step({ inputs: x, labels: [0] })).toThrow(/batch.labels/);
    expect(() => net.trainer.step({ inputs: x, labels: [0, 2] })).toThrow(/labels\[1\]/);
    expect(() => net.trainer.recordSequence({ inputs: x, labels: [0, 1] }, 2)).toThrow(/index/);
    tf.dispose([x, bad, short]);
    net.dispose();
    const rec = new EPropRecurrent({ nIn: 1, nLif: 3 });
    const ro = new EPropReadout({ nRec: 4, nOut: 2 });
    expect(() => new EProp({ recurrent: rec, readout: ro, optimizer: new Adam() })).toThrow(/nRec/);
    expect(() => new EPropReadout({ nRec: 3, nOut: 1 })).toThrow(/nOut/);
    expect(() => new EPropReadout({ nRec: 3, nOut: 2, loss: 'hinge' as never })).toThrow(/loss/);
    const ro3 = new EPropReadout({ nRec: 3, nOut: 2 });
    expect(() => new EProp({ recurrent: rec, readout: ro3, optimizer: new Adam(), cReg: -1 })).toThrow(/cReg/);
    expect(() => new EProp({ recurrent: rec, readout: ro3, optimizer: new Adam(), kernel: 'gpu' as never })).toThrow(/kernel/);
    const mse = new EPropReadout({ nRec: 3, nOut: 2, loss: 'mean_squared_error' });
    const t2 = new EProp({ recurrent: rec, readout: mse, optimizer: new Adam(), learningWindow: 2 });
    const x1 = tf.zeros([1, 4, 1]);
    expect(() => t2.step({ inputs: x1, targets: [1, 2, 3] })).toThrow(/batch.targets/);
    x1.dispose();
    for (const m of [rec, ro, ro3, mse]) m.dispose();
  });

  it('js and tf kernels train identically over several Adam steps; W_rec diagonal stays 0; memory is flat', () => {
    const task = new EvidenceTask({ cueSteps: 10, spacingSteps: 5, delaySteps: 20, recallSteps: 15 });
    const results: number[][] = [];
    const finals: Float32Array[] = [];
    for (const kernel of ['js', 'tf'] as const) {
      const net = buildEvidenceNetwork({ nLif: 6, nAlif: 6, learningWindow: 15, kernel, seed: 3 });
      const rng = new Rng(5);
      const losses: number[] = [];
      let n0 = -1;
      for (let i = 0; i < 4; i++) {
        const b = task.batch(3, rng);
        losses.push(net.trainer.step(b).loss);
        b.inputs.dispose();
        if (i === 0) n0 = tf.memory().numTensors;
      }
      expect(tf.memory().numTensors).toBe(n0);
      const w = net.recurrent.wRec.value.dataSync();
      for (let j = 0; j < 12; j++) expect(w[j * 12 + j]).toBe(0);
      results.push(losses);
      finals.push(Float32Array.from(net.recurrent.wIn.value.dataSync()));
      net.dispose();
    }
    for (let i = 0; i < 4; i++) expect(Math.abs(results[0]![i]! - results[1]![i]!) / results[0]![i]!).toBeLessThan(1e-5);
    for (let i = 0; i < finals[0]!.length; i++) expect(finals[1]![i]).toBeCloseTo(finals[0]![i]!, 4);
  });

  it('learns a short evidence task (training loss drops well below ln 2)', async () => {
    const task = new EvidenceTask({ nCues: 3, cueSteps: 30, spacingSteps: 10, delaySteps: 30, recallSteps: 30, cueProbability: 0.9 });
    const net = buildEvidenceNetwork({ nLif: 20, nAlif: 20, learningWindow: 30, learningRate: 0.01, seed: 2 });
    const rng = new Rng(9);
    const losses: number[] = [];
    for (let i = 0; i < 150; i++) {
      const b = task.batch(16, rng);
      losses.push(net.trainer.step(b).loss);
      b.inputs.dispose();
    }
    const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
    const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
    expect(first).toBeGreaterThan(0.6);
    expect(last).toBeLessThan(0.45);
    const evalB = task.batch(64, new Rng(99));
    const r = net.trainer.evaluate(evalB);
    evalB.inputs.dispose();
    expect(r.recallError).toBeLessThan(0.25);
    net.dispose();
  });
});

describe('EvidenceTask', () => {
  it('builds NEST-like sequences: timing, groups, rates, labels', () => {
    const task = new EvidenceTask();
    expect(task.steps).toBe(2250);
    expect(task.nIn).toBe(40);
    const B = 16;
    const b = task.batch(B, new Rng(4));
    const x = b.inputs.dataSync();
    const T = 2250;
    let recallCount = 0, noiseCount = 0;
    for (let s = 0; s < B; s++) {
      const right = Array.from(b.cues.subarray(s * 7, s * 7 + 7)).reduce((a, c) => a + c, 0);
      expect(b.labels[s]).toBe(right > 3 ? 1 : 0);
      for (let t = 0; t < T; t++) {
        const cycle = Math.floor(t / 150);
        const inCue = cycle < 7 && t % 150 >= 50;
        for (let i = 0; i < 40; i++) {
          const v = x[(s * T + t) * 40 + i]!;
          if (t === 0) expect(v).toBe(0);
          const g = Math.floor(i / 10);
          if (g < 2 && v) expect(inCue && b.cues[s * 7 + cycle] === g).toBe(true);
          if (g === 2 && v) { expect(t).toBeGreaterThanOrEqual(T - 150); recallCount++; }
          if (g === 3) noiseCount += v;
        }
      }
    }
    expect(recallCount / (B * 150 * 10)).toBeCloseTo(0.04, 2);
    expect(noiseCount / (B * (T - 1) * 10)).toBeCloseTo(0.01, 2);
    b.inputs.dispose();
    expect(() => new EvidenceTask({ nCues: 4 })).toThrow(/nCues/);
    expect(() => new EvidenceTask({ inputProbability: 2 })).toThrow(/inputProbability/);
    expect(() => task.batch(0, new Rng(1))).toThrow(/batchSize/);
  });
});

describe('JavaScript kernel scratch (ψ, z, D reused from batch to batch)', () => {
  const task = new EvidenceTask({ cueSteps: 6, spacingSteps: 3, delaySteps: 20, recallSteps: 8 });
  const run = async (surrogate: 'piecewise_linear' | 'exponential', before: number[], B: number) => {
    const net = buildEvidenceNetwork({ nLif: 6, nAlif: 6, learningWindow: task.recallSteps, surrogate, kernel: 'js', seed: 4 });
    const rng = new Rng(9);
    try {
      // earlier batches of other sizes and contents leave their values in the scratch arrays
      for (const b of before) {
        const x = task.batch(b, new Rng(100 + b));
        await net.trainer.gradientsAsync(x);
        x.inputs.dispose();
      }
      const x = task.batch(B, rng);
      const r = await net.trainer.gradientsAsync(x);
      x.inputs.dispose();
      return r;
    } finally {
      net.dispose();
    }
  };
  for (const surrogate of ['piecewise_linear', 'exponential'] as const) {
    it(`${surrogate}: after other batches, loss, rates and gradients equal a fresh trainer's bit for bit`, async () => {
      const fresh = await run(surrogate, [], 3);
      const reused = await run(surrogate, [3, 5, 3], 3);
      expect(fresh.result.rateHz).toBeGreaterThan(0);
      expect(reused.result.loss).toBe(fresh.result.loss);
      expect(Array.from(reused.result.ratesHz)).toEqual(Array.from(fresh.result.ratesHz));
      expect(Array.from(reused.result.prediction)).toEqual(Array.from(fresh.result.prediction));
      for (const k of ['input', 'recurrent', 'readout'] as const) {
        expect(Array.from(reused.gradients[k])).toEqual(Array.from(fresh.gradients[k]));
        expect(fresh.gradients[k].some((g) => g !== 0)).toBe(true);
      }
    });
  }
});
