// The shared set-up of the batch-size tests (batch-change, batch-restore): one trainer per family on
// a dense 4 → 3 layer with delays and LIF neurons, the inputs, a training step and the trainer's
// snapshot as plain numbers.
import { tf } from '../../../src/core/tf.js';
import { disposeSnapshot } from '../../../src/core/snapshot.js';
import { LinearDense } from '../../../src/neural/connections/linear-dense.js';
import { LIF } from '../../../src/neural/neurons/lif.js';
import { Serial } from '../../../src/neural/layers/serial.js';
import type { Initializer } from '../../../src/neural/connections/initializers.js';
import {
  DelayAdjustedKernelSTDP, DelayAdjustedMSTDP, DelayAdjustedSTDP, DelayAdjustedSTDPD, KernelSTDP, LinearHomeostasis, MSTDP, MSTDPET, STDP, TripletSTDP, VoltageSTDP,
  expStdpPostKernel, expStdpPreKernel,
} from '../../../src/learn/trainers/index.js';
import type { CellTrainer } from '../../../src/learn/toolkit/trainer.js';

export type AnyTrainer = CellTrainer<object, never> & { step(...a: unknown[]): void };
export type Model = Serial<LinearDense, LIF>;

export const I = 4;
export const O = 3;
export const pair = { lrPost: 0.05, lrPre: -0.04, tauPost: 10, tauPre: 7 };
export const delayed = { lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 };
export const kPost = expStdpPostKernel(0.1, 20);
export const kPre = expStdpPreKernel(-0.05, 20);
export const cases: [string, () => AnyTrainer, (t: AnyTrainer) => void][] = [
  ['STDP', () => new STDP(pair) as never, (t) => t.step()],
  ['STDP (nearest, delayed traces)', () => new STDP({ ...pair, traceMode: 'nearest', delayed: true }) as never, (t) => t.step()],
  ['MSTDP', () => new MSTDP(pair) as never, (t) => t.step(0.7)],
  ['MSTDPET', () => new MSTDPET({ ...pair, tauEligibility: 20 }) as never, (t) => t.step(-0.6)],
  ['MSTDPET (reduced eligibility)', () => new MSTDPET({ ...pair, tauEligibility: 20, reduceEligibility: true }) as never, (t) => t.step(0.9)],
  ['TripletSTDP', () => new TripletSTDP({ lrPostPair: 0.05, lrPostTriplet: 0.03, lrPrePair: -0.04, lrPreTriplet: 0.02, tauPostFast: 8, tauPostSlow: 30, tauPreFast: 10, tauPreSlow: 40 }) as never, (t) => t.step()],
  ['KernelSTDP', () => new KernelSTDP({ kernelPost: kPost, kernelPre: kPre }) as never, (t) => t.step()],
  ['DelayAdjustedKernelSTDP', () => new DelayAdjustedKernelSTDP({ kernelPost: kPost, kernelPre: kPre }) as never, (t) => t.step()],
  ['DelayAdjustedSTDP', () => new DelayAdjustedSTDP(delayed) as never, (t) => t.step()],
  ['DelayAdjustedSTDPD', () => new DelayAdjustedSTDPD(delayed) as never, (t) => t.step()],
  ['DelayAdjustedMSTDP', () => new DelayAdjustedMSTDP(delayed) as never, (t) => t.step(0.8)],
  ['LinearHomeostasis', () => new LinearHomeostasis({ plasticity: 0.1, target: 0.25 }) as never, (t) => t.step()],
  ['VoltageSTDP', () => new VoltageSTDP({ thetaLtd: -66, thetaLtp: -64.5, ltdHalf: -65, ltpHalf: -64 } as never) as never, (t) => t.step()],
];

export const from = (t: tf.Tensor): Initializer => () => t.clone();
export const pattern = (values: (k: number) => number): Initializer => (s) => tf.tensor(Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, k) => values(k)), [...s]);

/** A dense 4 → 3 layer with delays and LIF neurons that spike now and then. */
export function build(batch: number, weight: Initializer = pattern((k) => 2 + ((k * 7) % 5) * 0.5), delay: Initializer = pattern((k) => 0.25 + (k % 3) * 0.75)): Model {
  return new Serial(
    new LinearDense([I], [O], 1, { batchSize: batch, maxDelay: 2, weightInit: weight, delayInit: delay }),
    new LIF([O], 1, { restV: -65, resetV: -65, threshV: -64, refracT: 2, tauM: 10, batchSize: batch }),
  );
}

/** Input spikes of step t, sample b (distinct per sample and step). */
export const input = (t: number, batch: number): tf.Tensor => tf.tensor2d(Array.from({ length: batch * I }, (_, k) => ((t * 5 + k * 3 + (k >> 2)) % 7 < 3 ? 1 : 0)), [batch, I]);

/** One training step; returns the connection's weights (and delays) after the update. */
export function run(layer: Model, trainer: AnyTrainer, step: (t: AnyTrainer) => void, t: number): number[] {
  tf.tidy(() => void layer.forward(input(t, layer.batchSize)));
  step(trainer);
  layer.connection.update();
  return [...layer.connection.weight.dataSync(), ...(layer.connection.delay?.dataSync() ?? [])];
}

/** The trainer's snapshot as plain numbers (tensors by key, then the values). */
export function snapshot(trainer: AnyTrainer): Record<string, unknown> {
  const s = trainer.snapshotState();
  const out: Record<string, unknown> = { ...s.values };
  for (const [k, v] of Object.entries(s.tensors)) out[k] = { shape: v.shape, data: Array.from(v.dataSync()) };
  disposeSnapshot(s);
  return out;
}

/** A model at `batch` with a registered trainer of case `c`, stepped `steps` times from step `t0`. */
export function trained(c: (typeof cases)[number], batch: number, steps: number, t0 = 0, weight?: Initializer, delay?: Initializer): { layer: Model; trainer: AnyTrainer } {
  const layer = build(batch, weight, delay);
  const trainer = c[1]();
  built.push(trainer, layer);
  trainer.register(layer.cell('connection', 'neuron'));
  for (let t = t0; t < t0 + steps; t++) run(layer, trainer, c[2], t);
  return { layer, trainer };
}

/** Modules and trainers made by a test, freed by {@link disposeBuilt} (call it in `afterEach`). */
export const built: { dispose(): void }[] = [];

/** Frees what the last test pushed to {@link built}. */
export function disposeBuilt(): void {
  for (const m of built.splice(0)) m.dispose();
}
