/**
 * `verify` lines of the webgpu bench: the equality checks of issue 8's acceptance, run on whatever
 * adapter the bench has (SwiftShader in CI's test suite; a real GPU when `bench/gpu-check.sh` runs on
 * the lent machine, where invocations really run in parallel and a missing barrier would show).
 *
 * - `webgpu-verify-eprop`: the fused e-prop kernels against the JavaScript kernel on the same data.
 *   The JavaScript scan runs in float64, the fused one in float32 (and a GPU compiler may contract
 *   a·b + c into one rounding), so a spike flips where a voltage lies within rounding of the
 *   threshold, and from then on that sequence's recurrent dynamics differ (chaotically: every later
 *   spike, the sequence's share of the gradients and, through Adam's normalised steps, the next
 *   iterations' weights). At NEST's T = 2250 and B ≥ 32 a real GPU shows such flips. The line
 *   therefore checks each part where it is defined: (1) the first batch's spike trains, sequence by
 *   sequence (`sequences_equal` of `batch`; for each sequence that differs, the float64 margin
 *   |v − A| at its first flip, over V_th: `flip_margin_max`, which must be ≤ {@link FLIP_MARGIN});
 *   (2) on the sequences whose spike trains are equal, the loss and the three gradients of both
 *   kernels (largest difference over the largest entry of each matrix; within 1e-4, the thresholds
 *   of test/webgpu/eprop.test.ts) and every prediction. The training comparison over `iters`
 *   iterations is reported too (`train_loss_rel_max`, `train_predictions_differ`), not judged.
 * - `webgpu-verify-quickstart`: the quickstart network with STDP, Cinder's fused WGSL step programs
 *   against the tfjs op path (both on this backend, same weights and input spikes) over `steps`
 *   steps: excitatory spikes that differ, and the largest difference of the trained input weights
 *   and of the voltages over their largest entry. `ok` when no spike differs and both are within
 *   1e-5 (test/webgpu/step-drive.test.ts). A spike can flip legitimately when a voltage lies within
 *   a float32 rounding of the threshold; the line then says how many did.
 * @module
 */
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/random.js';
import type { EPropBatch, EPropKernel, EPropStepResult } from '../src/learn/eprop/index.js';
import { QuickstartNetwork } from '../examples/quickstart/network.js';
import type { EvidenceTask } from '../examples/eprop-evidence/task.js';
import { buildEvidenceNetwork, type EvidenceNetwork } from '../examples/eprop-evidence/training.js';
import { setStepPrograms } from '../src/kernels/webgpu/step-program.js';
import { epropScanWebgpu } from '../src/kernels/webgpu/eprop.js';
import { forwardJs } from '../src/learn/eprop/forward-js.js';
import { emit, sig, type BenchLine } from './harness.js';

/** Largest |a − b| over the largest |b| (Infinity on a length mismatch or a NaN). */
export function relMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let scale = 1e-30;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst / scale;
}

function emitted(line: BenchLine): BenchLine {
  emit(line);
  return line;
}

/** The evidence network every comparison here starts from: seed 3, learning window = the task's recall. */
function evidenceNetwork(kernel: EPropKernel, task: EvidenceTask): EvidenceNetwork {
  return buildEvidenceNetwork({ kernel, seed: 3, learningWindow: task.recallSteps });
}

/**
 * Trains the evidence network (seed 3, learning window = the task's recall) for `iters` iterations
 * at batch B on batches drawn from `Rng(11)`: each iteration's result, and the gradients of the
 * first batch (input, recurrent, readout). Also the comparison of test/webgpu/eprop.test.ts.
 */
export async function trainEProp(kernel: EPropKernel, task: EvidenceTask, B: number, iters: number) {
  const net = evidenceNetwork(kernel, task);
  const rng = new Rng(11);
  const results: EPropStepResult[] = [];
  const grads: Float64Array[] = [];
  try {
    for (let it = 0; it < iters; it++) {
      const b = task.batch(B, rng) as EPropBatch;
      try {
        if (it === 0) {
          const g = await net.trainer.gradientsAsync(b);
          grads.push(g.gradients.input, g.gradients.recurrent, g.gradients.readout);
        }
        results.push(await net.trainer.stepAsync(b));
      } finally {
        b.inputs.dispose();
      }
    }
    return { results, grads, kernel: net.trainer.kernel };
  } finally {
    net.dispose();
  }
}

/**
 * Largest float64 margin |v − A| / V_th at a sequence's first spike flip that {@link verifyEprop}
 * takes for float32 rounding. The float32 scan's voltage and threshold drift from the float64 ones by
 * the roundings accumulated over the membrane's and the adaptation's memory (τ_a = 2000 steps in
 * NEST's task): well below 1e-4 of V_th, while the margins of a scan with a real error are of the
 * order of the weights (≈ 1e-2 and more).
 */
export const FLIP_MARGIN = 1e-4;

/** The first batch's spike trains by both scans, compared sequence by sequence (see the module notes). */
async function scanAgreement(net: EvidenceNetwork, batch: EPropBatch) {
  const [B, T, nIn] = batch.inputs.shape as [number, number, number];
  const c = net.recurrent.constants();
  const n = c.n;
  const wIn = await net.recurrent.wIn.value.data();
  const wRec = await net.recurrent.wRec.value.data();
  const x = (await batch.inputs.data()) as Float32Array;
  const js = forwardJs(c, wIn, wRec, { batch: B, steps: T, nIn, data: x });
  const beta = tf.tensor1d(Float32Array.from(c.beta));
  const scan = epropScanWebgpu(c, net.recurrent.wIn.value, net.recurrent.wRec.value, batch.inputs, beta);
  let wg: Float32Array;
  try {
    wg = (await scan.data()) as Float32Array;
  } finally {
    tf.dispose([scan, beta]);
  }
  const equal: number[] = [];
  let spikesDiffer = 0;
  let spikes = 0;
  let marginMax = 0;
  for (let b = 0; b < B; b++) {
    let first = -1;
    for (let e = b * T * n; e < (b + 1) * T * n; e++) {
      spikes += js.z[e]!;
      if (js.z[e] !== wg[2 * e + 1]) {
        spikesDiffer++;
        if (first < 0) first = e - b * T * n;
      }
    }
    if (first < 0) {
      equal.push(b);
      continue;
    }
    // The float64 scan of this sequence alone, traced: v − A where the float32 scan first decided otherwise.
    const one = forwardJs(c, wIn, wRec, { batch: 1, steps: T, nIn, data: x.subarray(b * T * nIn, (b + 1) * T * nIn) }, 0);
    const margin = Math.abs(one.trace!.v[first]! - one.trace!.threshold[first]!) / c.vTh;
    marginMax = Math.max(marginMax, Number.isNaN(margin) ? Infinity : margin);
  }
  return { equal, spikes, spikesDiffer, marginMax };
}

/** The fused e-prop kernels against the JavaScript kernel at batch B (see the module notes); prints and returns the line. */
export async function verifyEprop(task: EvidenceTask, B: number, iters: number): Promise<BenchLine> {
  // (1) the first batch's spike trains
  const first = task.batch(B, new Rng(11)) as EPropBatch;
  let agreement: Awaited<ReturnType<typeof scanAgreement>>;
  let sub: EPropBatch | undefined;
  const net = evidenceNetwork('auto', task);
  try {
    agreement = await scanAgreement(net, first);
    const idx = agreement.equal;
    if (idx.length > 0) {
      sub = {
        inputs: tf.tidy(() => tf.gather(first.inputs, tf.tensor1d(idx, 'int32'))),
        labels: first.labels ? idx.map((b) => first.labels![b]!) : undefined,
        targets: first.targets ? subTargets(first.targets, idx, first.targets.length / B) : undefined,
      };
    }
  } finally {
    net.dispose();
    first.inputs.dispose();
  }
  // (2) loss, gradients and predictions on the sequences whose spike trains are equal
  let lossRel = Infinity;
  let grads = [Infinity, Infinity, Infinity];
  let predictionsDiffer = -1;
  let kernel = 'none';
  if (sub) {
    try {
      const [js, wg] = [await gradientsOf('js', task, sub), await gradientsOf('auto', task, sub)];
      kernel = wg.kernel;
      lossRel = Math.abs(wg.result.loss - js.result.loss) / Math.abs(js.result.loss);
      if (Number.isNaN(lossRel)) lossRel = Infinity;
      grads = [0, 1, 2].map((k) => relMax(wg.grads[k]!, js.grads[k]!));
      predictionsDiffer = 0;
      for (let k = 0; k < js.result.prediction.length; k++) if (wg.result.prediction[k] !== js.result.prediction[k]) predictionsDiffer++;
    } finally {
      sub.inputs.dispose();
    }
  }
  // the training comparison, reported
  const jsTrain = await trainEProp('js', task, B, iters);
  const wgTrain = await trainEProp('auto', task, B, iters);
  let trainLossRel = 0;
  let trainPredictionsDiffer = 0;
  for (let i = 0; i < iters; i++) {
    const [a, e] = [wgTrain.results[i]!, jsTrain.results[i]!];
    const r = Math.abs(a.loss - e.loss) / Math.abs(e.loss);
    trainLossRel = Number.isNaN(r) ? Infinity : Math.max(trainLossRel, r);
    for (let k = 0; k < e.prediction.length; k++) if (a.prediction[k] !== e.prediction[k]) trainPredictionsDiffer++;
  }
  const [gIn, gRec, gOut] = grads as [number, number, number];
  return emitted({
    case: 'webgpu-verify-eprop', batch: B, steps: task.steps, iterations: iters, kernel,
    spikes: agreement.spikes, spikes_differ: agreement.spikesDiffer, sequences_equal: agreement.equal.length,
    flip_margin_max: sig(agreement.marginMax),
    loss_rel: sig(lossRel), grad_rel_input: sig(gIn), grad_rel_recurrent: sig(gRec), grad_rel_readout: sig(gOut),
    predictions_differ: predictionsDiffer,
    train_loss_rel_max: sig(trainLossRel), train_predictions_differ: trainPredictionsDiffer,
    ok:
      kernel === 'webgpu' && agreement.equal.length > 0 && agreement.spikes > 0 && agreement.marginMax <= FLIP_MARGIN &&
      lossRel <= 1e-4 && Math.max(gIn, gRec, gOut) <= 1e-4 && predictionsDiffer === 0,
  });
}

/** Rows `idx` of per-sequence targets laid out [B, per]. */
function subTargets(t: ArrayLike<number>, idx: number[], per: number): number[] {
  return idx.flatMap((b) => Array.from({ length: per }, (_, k) => t[b * per + k]!));
}

/** The evidence network's (seed 3) metrics and gradients on one batch, by `kernel`. */
async function gradientsOf(kernel: EPropKernel, task: EvidenceTask, batch: EPropBatch) {
  const net = evidenceNetwork(kernel, task);
  try {
    const g = await net.trainer.gradientsAsync(batch);
    return { result: g.result, grads: [g.gradients.input, g.gradients.recurrent, g.gradients.readout], kernel: net.trainer.kernel };
  } finally {
    net.dispose();
  }
}

/** The fused quickstart step against the op path at batch B over `steps` steps (see the module notes); prints and returns the line. */
export async function verifyQuickstart(B: number, steps: number): Promise<BenchLine> {
  const rng = new Rng(5);
  const inputs = Array.from({ length: steps }, () => {
    const x = new Float32Array(B * 784);
    for (let k = 0; k < x.length; k++) x[k] = rng.uniform() < 0.1 ? 1 : 0;
    return tf.tensor2d(x, [B, 784]);
  });
  const was = setStepPrograms(true);
  const run = async (fused: boolean) => {
    const net = new QuickstartNetwork(B, new Rng(2));
    net.train(true);
    const spikes: tf.Tensor[] = [];
    try {
      for (const x of inputs) {
        setStepPrograms(fused);
        spikes.push(tf.tidy(() => tf.keep(net.step(x).exc.clone())));
      }
      const all = tf.stack(spikes);
      try {
        return {
          spikes: await all.data(),
          weights: await net.input.weight.data(),
          voltage: await net.exc.voltage.data(),
        };
      } finally {
        all.dispose();
      }
    } finally {
      tf.dispose(spikes);
      net.dispose();
    }
  };
  try {
    const ops = await run(false);
    const fused = await run(true);
    let differ = 0;
    let count = 0;
    for (let i = 0; i < ops.spikes.length; i++) {
      if (fused.spikes[i] !== ops.spikes[i]) differ++;
      count += ops.spikes[i]!;
    }
    const wRel = relMax(fused.weights, ops.weights);
    const vRel = relMax(fused.voltage, ops.voltage);
    return emitted({
      case: 'webgpu-verify-quickstart', batch: B, steps, spikes: count, spikes_differ: differ,
      weight_rel_max: sig(wRel), voltage_rel_max: sig(vRel), ok: differ === 0 && count > 0 && wRel <= 1e-5 && vRel <= 1e-5,
    });
  } finally {
    setStepPrograms(was);
    tf.dispose(inputs);
  }
}
