import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { backendInfo } from '../../src/core/backend.js';
import { startRun } from '../../src/cli/runner.js';
import { Terminal } from '../../src/cli/progress.js';
import { quickstartExample } from '../../examples/quickstart/index.js';
import { QuickstartNetwork } from '../../examples/quickstart/network.js';
import { HandQuickstart } from '../../examples/quickstart/hand.js';
import { QUICKSTART as Q } from '../../examples/quickstart/params.js';
import { gatherImages, loadDigits, splitDigits, DIGIT_PIXELS } from '../../examples/quickstart/digits.js';
import { HomogeneousPoissonEncoder } from '../../src/neural/encoders/index.js';
import type { RunContext } from '../../src/cli/example.js';
import { disposeNetworkState } from '../../src/network/index.js';
import { readNetworkState } from '../../src/network/files.js';
import { initialState, referenceStep } from './quickstart-reference.js';

function randomSpikes(steps: number, n: number, p: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: steps * n }, () => (rng.uniform() < p ? 1 : 0));
}

describe('quickstart network vs a float64 recursion', () => {
  for (const learn of [true, false]) {
    it(`matches voltages, spikes, θ and weights over the first steps (${learn ? 'STDP on' : 'no learning'})`, () => {
      const B = 2;
      const steps = 25;
      const net = new QuickstartNetwork(B, new Rng(3));
      net.train(learn);
      const w0 = net.input.weight.dataSync();
      // the constructor normalized every neuron's input weights to an L1 norm of 78.4
      for (let j = 0; j < 100; j += 33) {
        let s = 0;
        for (let i = 0; i < 784; i++) s += w0[j * 784 + i]!;
        expect(s).toBeCloseTo(Q.normScale, 2);
      }
      const st = initialState(B, w0);
      const x = randomSpikes(steps, B * 784, 0.05, 9);
      let excSpikes = 0;
      let inhSpikes = 0;
      for (let t = 0; t < steps; t++) {
        const xs = x.subarray(t * B * 784, (t + 1) * B * 784);
        const xt = tf.tensor2d(xs, [B, 784]);
        const out = tf.tidy(() => {
          const o = net.step(xt);
          return [o.exc, o.inh];
        });
        const ref = referenceStep(st, xs, learn);
        expect(Array.from(out[0]!.dataSync())).toEqual(Array.from(ref.exc));
        expect(Array.from(out[1]!.dataSync())).toEqual(Array.from(ref.inh));
        excSpikes += ref.exc.reduce((a, b) => a + b, 0);
        inhSpikes += ref.inh.reduce((a, b) => a + b, 0);
        const ve = net.exc.voltage.dataSync();
        const vi = net.inh.voltage.dataSync();
        for (let k = 0; k < B * 100; k++) {
          // float32 vs float64: inhibition swings voltages by hundreds of mV
          expect(Math.abs(ve[k]! - st.ve[k]!)).toBeLessThan(1e-5 * (100 + Math.abs(st.ve[k]!)));
          expect(Math.abs(vi[k]! - st.vi[k]!)).toBeLessThan(1e-5 * (100 + Math.abs(st.vi[k]!)));
        }
        out.forEach((o) => o.dispose());
        xt.dispose();
      }
      expect(excSpikes).toBeGreaterThan(10);
      expect(inhSpikes).toBeGreaterThan(10);
      const w = net.input.weight.dataSync();
      let maxDiff = 0;
      let maxChange = 0;
      for (let k = 0; k < w.length; k++) {
        maxDiff = Math.max(maxDiff, Math.abs(w[k]! - st.w[k]!));
        maxChange = Math.max(maxChange, Math.abs(st.w[k]! - w0[k]!));
      }
      expect(maxDiff).toBeLessThan(1e-6);
      if (learn) expect(maxChange).toBeGreaterThan(1e-4);
      else expect(maxChange).toBe(0);
      net.dispose();
    });
  }

  it('steps the excitatory group exactly once per time step', () => {
    const net = new QuickstartNetwork(1, new Rng(1));
    let excCalls = 0;
    let inhCalls = 0;
    const fe = net.exc.forward.bind(net.exc);
    const fi = net.inh.forward.bind(net.inh);
    net.exc.forward = (...a: Parameters<typeof fe>) => (excCalls++, fe(...a));
    net.inh.forward = (...a: Parameters<typeof fi>) => (inhCalls++, fi(...a));
    const x = tf.tensor2d(randomSpikes(1, 784, 0.1, 2), [1, 784]);
    for (let t = 0; t < 12; t++) tf.tidy(() => void net.step(x));
    expect(excCalls).toBe(12);
    expect(inhCalls).toBe(12);
    expect(net.excitatorySteps).toBe(12);
    x.dispose();
    net.dispose();
  });

  it('the hand-written tfjs loop (benchmark baseline) computes the same spikes and weights', () => {
    const B = 3;
    const net = new QuickstartNetwork(B, new Rng(4));
    const hand = new HandQuickstart(B, net.input.weight.dataSync() as Float32Array);
    const x = randomSpikes(30, B * 784, 0.05, 5);
    for (let t = 0; t < 30; t++) {
      const xt = tf.tensor2d(x.subarray(t * B * 784, (t + 1) * B * 784), [B, 784]);
      const [a, b] = tf.tidy(() => [net.step(xt).exc, hand.step(xt, true)]);
      expect(Array.from(a!.dataSync())).toEqual(Array.from(b!.dataSync()));
      a!.dispose();
      b!.dispose();
      xt.dispose();
    }
    const w = net.input.weight.dataSync();
    const wt = tf.tidy(() => tf.transpose(hand.wT));
    const h = wt.dataSync();
    for (let k = 0; k < w.length; k += 7) expect(Math.abs(w[k]! - h[k]!)).toBeLessThan(1e-6);
    wt.dispose();
    hand.dispose();
    net.dispose();
  });

  it('memory stays flat over training steps', () => {
    const net = new QuickstartNetwork(2, new Rng(1));
    const x = tf.tensor2d(randomSpikes(1, 2 * 784, 0.05, 2), [2, 784]);
    for (let t = 0; t < 5; t++) tf.tidy(() => void net.step(x));
    net.clear();
    net.normalize();
    const n0 = tf.memory().numTensors;
    for (let t = 0; t < 100; t++) tf.tidy(() => void net.step(x));
    net.clear();
    net.normalize();
    expect(tf.memory().numTensors).toBe(n0);
    x.dispose();
    net.dispose();
  });
});

describe('quickstart digits', () => {
  it('loads the 10,000 digits of the mnist package with gray levels in [0, 1]', () => {
    const set = loadDigits();
    expect(set.count).toBe(10_000);
    expect(set.images.length).toBe(10_000 * DIGIT_PIXELS);
    const perClass = new Array(10).fill(0);
    for (const l of set.labels) perClass[l]++;
    for (const c of perClass) expect(c).toBeGreaterThan(800);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < set.images.length; i += 97) {
      lo = Math.min(lo, set.images[i]!);
      hi = Math.max(hi, set.images[i]!);
    }
    expect(lo).toBe(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(hi).toBeGreaterThan(0.9);
  });

  it('splits into disjoint, seeded training and test sets', () => {
    const set = loadDigits();
    const a = splitDigits(set, 9000, 1000, new Rng(1));
    const b = splitDigits(set, 9000, 1000, new Rng(1));
    expect(Array.from(a.train.subarray(0, 50))).toEqual(Array.from(b.train.subarray(0, 50)));
    const seen = new Set(a.train);
    for (const k of a.test) expect(seen.has(k)).toBe(false);
    expect(new Set([...a.train, ...a.test]).size).toBe(10_000);
    const img = gatherImages(set, [a.test[0]!]);
    expect(Array.from(img)).toEqual(Array.from(set.images.subarray(a.test[0]! * 784, a.test[0]! * 784 + 784)));
    expect(() => splitDigits(set, 9500, 1000, new Rng(1))).toThrow(/nTrain \+ nTest/);
    expect(() => splitDigits(set, -1, 10, new Rng(1))).toThrow(/nTrain/);
  });

  it('the tiny preset writes the documented summary keys and figures', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cinder-qs-')), 'run');
    const params: Record<string, number | string | boolean> = {};
    for (const o of quickstartExample.options) params[o.name] = o.default;
    Object.assign(params, quickstartExample.presets.tiny);
    const run = startRun({
      spec: quickstartExample, params, mode: 'tiny', seed: 1, seeds: 1, outDir: out, backend: backendInfo()!, backendRequest: 'auto',
      quiet: true, signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
    });
    const r = await run.done;
    expect(r.status).toBe('completed');
    const s = JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8'));
    for (const k of quickstartExample.summaryKeys) expect(s).toHaveProperty(k);
    expect(s.digits_trained).toBe(20);
    expect(s.digits_tested).toBe(10);
    expect(s.excitatory_steps_per_step).toBe(1);
    expect(s.ms_per_digit).toBeCloseTo((s.ms_per_step * 50) / 10, 6); // 50 steps per batch of 10 digits
    for (const f of quickstartExample.figures) expect(existsSync(join(out, 'figures', `${f}.html`))).toBe(true);
  });

  it('--train-digits 0 (allowed) tests the untrained network: no training metrics, the online classifier as readout', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cinder-qs0-')), 'run');
    const params: Record<string, number | string | boolean> = {};
    for (const o of quickstartExample.options) params[o.name] = o.default;
    Object.assign(params, quickstartExample.presets.tiny, { trainDigits: 0, testDigits: 10, steps: 20 });
    const run = startRun({
      spec: quickstartExample, params, mode: 'tiny', seed: 4, seeds: 1, outDir: out, backend: backendInfo()!, backendRequest: 'auto',
      quiet: true, signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
    });
    const r = await run.done;
    expect(r.error).toBeUndefined(); // was: TypeError (null.toFixed) in the final log line, status failed
    expect(r.status).toBe('completed');
    const s = JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8'));
    expect(s).toMatchObject({ digits_trained: 0, train_accuracy: null, ms_per_digit: null, digits_tested: 10, accuracy_curve: [] });
    // a classifier that has seen no labels assigns every neuron to class 0: accuracy = share of 0s
    const set = loadDigits();
    const rng = new Rng(4);
    const split = splitDigits(set, 0, 10, rng.fork());
    const zeros = Array.from(split.test, (i) => set.labels[i]!).filter((l) => l === 0).length;
    expect(s.accuracy).toBe(zeros / 10);
    expect(s.accuracy_online_classifier).toBe(s.accuracy);
  });

  it('a last batch smaller than --batch-size is presented as that many digits: no padded copies in STDP, θ, the classifier or the accuracies', async () => {
    // 5 training digits in batches of 3 + 2, 2 test digits in one batch of 2 (B = 3)
    const opts = { nTrain: 5, nTest: 2, B: 3, steps: 20, seed: 7 };
    const { s, weights } = await runQuickstart(opts);
    const ref = referenceRun(opts, true);
    let maxDiff = 0;
    let maxChange = 0;
    for (let k = 0; k < ref.w.length; k++) {
      maxDiff = Math.max(maxDiff, Math.abs(weights[k]! - ref.w[k]!));
      maxChange = Math.max(maxChange, Math.abs(ref.w[k]! - ref.w0[k]!));
    }
    expect(maxChange).toBeGreaterThan(1e-4); // STDP did change the weights
    expect(maxDiff).toBeLessThan(1e-5);
    expect(s.digits_trained).toBe(opts.nTrain);
    expect(s.digits_tested).toBe(opts.nTest);
    expect(s.train_accuracy).toBe(ref.trainCorrect / opts.nTrain);
    expect(s.accuracy).toBe(ref.testCorrect / opts.nTest);
    expect(s.accuracy_online_classifier).toBe(ref.testCorrect / opts.nTest);
  });

  it("the readout is Inferno's MaxRateClassifier as its quickstart calls it: proportional weighting (Inferno's default)", async () => {
    const opts = { nTrain: 30, nTest: 20, B: 10, steps: 60, seed: 2, classifyEvery: 1 };
    const { s } = await runQuickstart(opts);
    const ref = referenceRun(opts, true);
    const plain = referenceRun(opts, false);
    // the two weightings disagree on these digits, so the run tells them apart
    expect([plain.trainCorrect, plain.testCorrect]).not.toEqual([ref.trainCorrect, ref.testCorrect]);
    expect(s.train_accuracy).toBe(ref.trainCorrect / opts.nTrain);
    expect(s.accuracy).toBe(ref.testCorrect / opts.nTest);
    expect(s.accuracy_online_classifier).toBe(ref.testCorrect / opts.nTest);
  });

  it("training digits are classified and folded into the classifier in groups of --classify-every batches (Inferno's classify_interval), a last shorter group included", async () => {
    // 50 digits in batches of 10, groups of 2 batches: [1, 2], [3, 4], then the last batch alone
    const opts = { nTrain: 50, nTest: 20, B: 10, steps: 60, seed: 2, classifyEvery: 2 };
    const { s } = await runQuickstart(opts);
    const ref = referenceRun(opts, true);
    const perBatch = referenceRun({ ...opts, classifyEvery: 1 }, true);
    // grouping changes what the classifier has seen (and its class means), so the run tells them apart
    expect([perBatch.trainCorrect, perBatch.testCorrect]).not.toEqual([ref.trainCorrect, ref.testCorrect]);
    expect(s.digits_trained).toBe(opts.nTrain);
    expect(s.train_accuracy).toBe(ref.trainCorrect / opts.nTrain);
    expect(s.accuracy).toBe(ref.testCorrect / opts.nTest);
    expect(quickstartExample.options.find((o) => o.name === 'classifyEvery')!.default).toBe(10); // Inferno's classify_interval
  });
});

describe('quickstart interrupted part-way through a training batch', () => {
  it('writes the artifacts of the last completed batch (as the summary and the checkpoint), not the abandoned part-batch', async () => {
    // batches of 3 digits, 70 steps each: the presentation awaits keepResponsive at step 63 (call 1),
    // the loop after the batch (call 2), then step 63 of batch 2 (call 3) — the abort lands there,
    // after 63 steps of STDP on batch 2 and before its normalization
    const opts = { nTrain: 9, nTest: 2, B: 3, steps: 70, seed: 5 };
    const cut = await runQuickstart({ ...opts, abortAtCall: 3 });
    expect(cut.s.digits_trained).toBe(3);
    // independent reference: the float64 recursion over the first batch only, normalized after it
    const ref = referenceRun({ ...opts, nTrain: 3 }, true);
    let maxDiff = 0;
    let maxChange = 0;
    for (let k = 0; k < ref.w.length; k++) {
      maxDiff = Math.max(maxDiff, Math.abs(cut.weights[k]! - ref.w[k]!));
      maxChange = Math.max(maxChange, Math.abs(ref.w[k]! - ref.w0[k]!));
    }
    expect(maxChange).toBeGreaterThan(1e-4); // batch 1 did learn
    expect(maxDiff).toBeLessThan(1e-5); // was 3.2e-3: 63 steps of batch 2's STDP kept, unnormalized
    // each neuron's input weights carry the L1 norm of the per-batch normalization
    for (let j = 0; j < 100; j += 11) {
      let l1 = 0;
      for (let i = 0; i < 784; i++) l1 += Math.abs(cut.weights[j * 784 + i]!);
      expect(Math.abs(l1 - Q.normScale)).toBeLessThan(1e-3);
    }
    // the same run, uninterrupted, stopped after those 3 digits: identical weights
    const whole = await runQuickstart({ ...opts, nTrain: 3 });
    expect(Array.from(cut.weights)).toEqual(Array.from(whole.weights));
    // interrupted in the first batch (no checkpoint yet): the initial, normalized weights
    const first = await runQuickstart({ ...opts, abortAtCall: 1 });
    expect(first.s.digits_trained).toBe(0);
    expect(Array.from(first.weights)).toEqual(Array.from(ref.w0));
    // the network artifact holds the checkpoint's state: every tensor and the generators' positions
    const saved = await readNetworkState(join(cut.dir, 'network'));
    const ckpt = await readNetworkState(join(cut.dir, 'checkpoint'));
    try {
      expect(saved.state.rngs).toEqual(ckpt.state.rngs);
      expect(Object.keys(saved.state.tensors).sort()).toEqual(Object.keys(ckpt.state.tensors).sort());
      for (const [n, { tensor }] of Object.entries(ckpt.state.tensors)) {
        expect(Array.from(saved.state.tensors[n]!.tensor.dataSync()), n).toEqual(Array.from(tensor.dataSync()));
      }
      expect(Array.from(ckpt.state.tensors['exc.input.weight']!.tensor.dataSync())).toEqual(Array.from(cut.weights));
    } finally {
      disposeNetworkState(saved.state);
      disposeNetworkState(ckpt.state);
    }
  });
});

describe('quickstart interrupted: the summary counts what ran', () => {
  // keepResponsive is awaited at step 63 of every 70-step presentation and after every training,
  // label and test batch; each case aborts at one of those calls, mid-presentation
  it('label_digits is the digits folded into the refit classifier, and one excitatory step per network step', async () => {
    const base = { nTrain: 6, nTest: 6, B: 3, steps: 70, seed: 5, classifyEvery: 1, labelDigits: 6 };
    // calls: train 1 (1, 2), train 2 (3, 4), label 1 (5, 6), label 2 (7 = abort): one label batch folded
    const inLabel = await runQuickstart({ ...base, abortAtCall: 7 });
    expect(inLabel.s).toMatchObject({ digits_trained: 6, label_digits: 3, digits_tested: 0 }); // was label_digits 6
    expect(inLabel.s.excitatory_steps_per_step).toBe(1); // was 273 / 280
    // abort in training batch 2: no label phase ran
    const inTrain = await runQuickstart({ ...base, abortAtCall: 3 });
    expect(inTrain.s).toMatchObject({ digits_trained: 3, label_digits: 0, digits_tested: 0 }); // was label_digits 3
    expect(inTrain.s.excitatory_steps_per_step).toBe(1); // was 0.5 (133 / 140 before the mid-batch fix)
    // abort in test batch 2 (no label phase): calls train 1 (1, 2), test 1 (3, 4), test 2 (5 = abort)
    const inTest = await runQuickstart({ ...base, nTrain: 3, labelDigits: 0, abortAtCall: 5 });
    expect(inTest.s).toMatchObject({ digits_trained: 3, label_digits: 0, digits_tested: 3 });
    expect(inTest.s.excitatory_steps_per_step).toBe(1); // was 203 / 140
    // uninterrupted: every label digit folded, every step counted
    const whole = await runQuickstart(base);
    expect(whole.s).toMatchObject({ digits_trained: 6, label_digits: 6, digits_tested: 6, excitatory_steps_per_step: 1 });
  });
});

interface RunOptions {
  nTrain: number;
  nTest: number;
  B: number;
  steps: number;
  seed: number;
  /** Training batches per classification (default: the option's default). */
  classifyEvery?: number;
  /** Digits of the label phase (default 0: the online classifier is the readout). */
  labelDigits?: number;
  /** Aborts the run's signal at this call of `ctx.keepResponsive` (1-based; the presentation awaits it every 64 steps). */
  abortAtCall?: number;
}

/** Runs `cinder quickstart` in memory (online classifier as the readout); returns the summary, the trained input weights and the run's folder. */
async function runQuickstart(o: RunOptions): Promise<{ s: Record<string, unknown>; weights: Float32Array; dir: string }> {
  const params: Record<string, number | string | boolean> = {};
  for (const opt of quickstartExample.options) params[opt.name] = opt.default;
  Object.assign(params, { trainDigits: o.nTrain, testDigits: o.nTest, batchSize: o.B, steps: o.steps, curveEvery: o.nTrain, labelDigits: o.labelDigits ?? 0 });
  if (o.classifyEvery !== undefined) params.classifyEvery = o.classifyEvery;
  const dir = mkdtempSync(join(tmpdir(), 'cinder-qs-ref-'));
  const npy = new Map<string, Float32Array>();
  const abort = new AbortController();
  let calls = 0;
  const keepResponsive = async (): Promise<void> => {
    if (++calls === o.abortAtCall) abort.abort();
  };
  const ctx = {
    outDir: dir, resumed: false, checkpointDir: join(dir, 'checkpoint'), artifactPath: (n: string) => join(dir, n), params, seed: o.seed, quiet: true,
    signal: abort.signal, keepResponsive, log: () => {}, progress: () => ({ tick: () => {}, done: () => {} }),
    checkpoint: async () => {}, figure: async () => {}, artifactJson: async () => {},
    artifactNpy: async (name: string, data: Float32Array) => void npy.set(name, Float32Array.from(data)),
  } as unknown as RunContext;
  const s = await quickstartExample.run(ctx);
  return { s, weights: npy.get('input_weights')!, dir };
}

/**
 * The run of {@link runQuickstart} recomputed independently: the same digits and spike trains (the
 * run's seeded forks) through the float64 recursion with the batch size each batch really has and
 * normalization after every training presentation, read out by Inferno's MaxRateClassifier written
 * out in plain loops (rates ← e^{−λ b_k}·rates + class means; every neuron assigned to its argmax
 * class; logit_k = Σ_{n assigned to k} x_n·w_n / #assigned with w_n = rates[n,k]/Σ_j rates[n,j]
 * (`proportional`) or 1; argmax, ties to the lowest class). As Inferno's quickstart, the digits of
 * every `classifyEvery` training batches are classified together and then folded in as one batch
 * (a last, shorter group too).
 */
function referenceRun(o: RunOptions, proportional: boolean): { w0: Float64Array; w: Float64Array; trainCorrect: number; testCorrect: number } {
  const { nTrain, nTest, B, steps, seed } = o;
  const every = o.classifyEvery ?? 10;
  const set = loadDigits();
  const rng = new Rng(seed);
  const split = splitDigits(set, nTrain, nTest, rng.fork());
  const init = new QuickstartNetwork(B, rng.fork());
  const w0 = Float64Array.from(init.input.weight.dataSync());
  init.dispose();
  let w: Float64Array = w0;
  const encoder = new HomogeneousPoissonEncoder({ steps, dt: Q.dt, frequency: Q.frequency, rng: rng.fork(), start: Q.encoderStart });
  let theta: Float64Array = new Float64Array(100);
  const presentRef = (idx: ArrayLike<number>, learn: boolean): Float64Array => {
    const n = idx.length;
    const x = encoder.encodeArray(gatherImages(set, idx));
    const st = initialState(n, w);
    st.theta.set(theta);
    const counts = new Float64Array(n * 100);
    for (let t = 0; t < steps; t++) {
      const r = referenceStep(st, x.subarray(t * n * 784, (t + 1) * n * 784), learn);
      for (let k = 0; k < n * 100; k++) counts[k]! += r.exc[k]!;
    }
    if (learn) {
      for (let j = 0; j < 100; j++) {
        let l1 = 0;
        for (let i = 0; i < 784; i++) l1 += Math.abs(st.w[j * 784 + i]!);
        for (let i = 0; i < 784; i++) st.w[j * 784 + i]! *= Q.normScale / l1;
      }
      w = st.w;
      theta = st.theta;
    }
    return counts;
  };
  const rates = new Float64Array(100 * 10);
  const predict = (counts: Float64Array, n: number): number[] => {
    const assign = Array.from({ length: 100 }, (_, j) => {
      let best = 0;
      for (let k = 1; k < 10; k++) if (rates[j * 10 + k]! > rates[j * 10 + best]!) best = k;
      return best;
    });
    const weight = assign.map((k, j) => {
      if (!proportional) return 1;
      let total = 0;
      for (let c = 0; c < 10; c++) total += rates[j * 10 + c]!;
      return rates[j * 10 + k]! / Math.max(total, 1e-12);
    });
    return Array.from({ length: n }, (_, b) => {
      const sum = new Float64Array(10);
      const num = new Float64Array(10);
      assign.forEach((k, j) => ((sum[k]! += counts[b * 100 + j]! * weight[j]!), (num[k]! += 1)));
      let best = 0;
      const logit = (k: number) => (num[k]! > 0 ? sum[k]! / num[k]! : 0);
      for (let k = 1; k < 10; k++) if (logit(k) > logit(best)) best = k;
      return best;
    });
  };
  const fit = (counts: Float64Array, labels: number[]): void => {
    for (let k = 0; k < 10; k++) {
      const members = labels.flatMap((l, b) => (l === k ? [b] : []));
      if (members.length === 0) continue;
      for (let j = 0; j < 100; j++) {
        let m = 0;
        for (const b of members) m += counts[b * 100 + j]!;
        rates[j * 10 + k] = Math.exp(-Q.classifierDecay * members.length) * rates[j * 10 + k]! + m / members.length;
      }
    }
  };
  let trainCorrect = 0;
  const batches: number[][] = [];
  for (let k = 0; k < nTrain; k += B) batches.push(Array.from(split.train.subarray(k, Math.min(k + B, nTrain))));
  for (let g = 0; g < batches.length; g += every) {
    const group = batches.slice(g, g + every);
    const counts = Float64Array.from(group.flatMap((idx) => Array.from(presentRef(idx, true))));
    const labels = group.flat().map((i) => set.labels[i]!);
    trainCorrect += predict(counts, labels.length).filter((p, b) => p === labels[b]).length;
    fit(counts, labels);
  }
  let testCorrect = 0;
  for (let k = 0; k < nTest; k += B) {
    const idx = split.test.subarray(k, Math.min(k + B, nTest));
    const labels = Array.from(idx, (i) => set.labels[i]!);
    testCorrect += predict(presentRef(idx, false), idx.length).filter((p, b) => p === labels[b]).length;
  }
  return { w0, w, trainCorrect, testCorrect };
}
