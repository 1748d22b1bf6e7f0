/**
 * `verify` lines of the webgpu bench: the equality checks of issue 8's acceptance, run on whatever
 * adapter the bench has (SwiftShader in CI's test suite; a real GPU when `bench/gpu-check.sh` runs on
 * the lent machine, where invocations really run in parallel and a missing barrier would show).
 *
 * - `webgpu-verify-eprop`: the fused e-prop kernels against the JavaScript kernel (float64 readout
 *   and backward pass on the host) on the same data: losses over `iters` iterations (largest
 *   relative difference), the three gradients of the first batch (largest difference over the
 *   largest entry of each matrix), predictions and recall errors. `ok` when losses and gradients are
 *   within 1e-4 and every prediction is equal — the thresholds of test/webgpu/eprop.test.ts.
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
import { buildEvidenceNetwork } from '../examples/eprop-evidence/training.js';
import { setStepPrograms } from '../src/kernels/webgpu/step-program.js';
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

/**
 * Trains the evidence network (seed 3, learning window = the task's recall) for `iters` iterations
 * at batch B on batches drawn from `Rng(11)`: each iteration's result, and the gradients of the
 * first batch (input, recurrent, readout). Also the comparison of test/webgpu/eprop.test.ts.
 */
export async function trainEProp(kernel: EPropKernel, task: EvidenceTask, B: number, iters: number) {
  const net = buildEvidenceNetwork({ kernel, seed: 3, learningWindow: task.recallSteps });
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

/** The fused e-prop kernels against the JavaScript kernel at batch B (see the module notes); prints and returns the line. */
export async function verifyEprop(task: EvidenceTask, B: number, iters: number): Promise<BenchLine> {
  const js = await trainEProp('js', task, B, iters);
  const wg = await trainEProp('auto', task, B, iters);
  let lossRel = 0;
  let predictionsDiffer = 0;
  let recallDiffer = 0;
  for (let i = 0; i < iters; i++) {
    const [a, e] = [wg.results[i]!, js.results[i]!];
    const r = Math.abs(a.loss - e.loss) / Math.abs(e.loss);
    lossRel = Number.isNaN(r) ? Infinity : Math.max(lossRel, r);
    for (let k = 0; k < e.prediction.length; k++) if (a.prediction[k] !== e.prediction[k]) predictionsDiffer++;
    if (a.recallError !== e.recallError) recallDiffer++;
  }
  const [gIn, gRec, gOut] = [0, 1, 2].map((k) => relMax(wg.grads[k]!, js.grads[k]!)) as [number, number, number];
  const gradRel = Math.max(gIn, gRec, gOut);
  return emitted({
    case: 'webgpu-verify-eprop', batch: B, steps: task.steps, iterations: iters, kernel: wg.kernel,
    loss_rel_max: sig(lossRel), grad_rel_input: sig(gIn), grad_rel_recurrent: sig(gRec), grad_rel_readout: sig(gOut),
    predictions_differ: predictionsDiffer, recall_errors_differ: recallDiffer,
    ok: wg.kernel === 'webgpu' && lossRel <= 1e-4 && gradRel <= 1e-4 && predictionsDiffer === 0,
  });
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
