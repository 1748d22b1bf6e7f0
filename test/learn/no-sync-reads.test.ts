// No synchronous reads in simulation and training paths (webgpu in Node has none): on the cpu
// backend, a spy on the backend's readSync records every call that does not come from an
// asynchronous read or a kernel's internals — each training loop below must make none. Set-up (building networks) is outside the spied region.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { LinearDense } from '../../src/neural/connections/index.js';
import {
  DelayAdjustedMSTDP, DelayAdjustedSTDP, KernelSTDP, LinearHomeostasis, MSTDP, MSTDPET, STDP, TripletSTDP, VoltageSTDP, expStdpPostKernel, expStdpPreKernel,
} from '../../src/learn/trainers/index.js';
import { MaxRateClassifier } from '../../src/learn/classifiers/index.js';
import { Recorder } from '../../src/observe/monitors/recorder.js';
import { runCli } from '../../src/cli/program.js';
import { EXAMPLES } from '../../examples/index.js';
import { buildEvidenceNetwork } from '../../examples/eprop-evidence/training.js';
import { EvidenceTask } from '../../examples/eprop-evidence/task.js';
import type { EPropBatch } from '../../src/learn/eprop/index.js';
import { ForcedNeurons, TestLayer } from './trainers/harness.js';

let previous = '';
beforeAll(async () => {
  previous = tf.getBackend();
  await initBackend({ backend: 'cpu' });
});
afterAll(async () => {
  if (previous && previous !== 'cpu') await initBackend({ backend: previous });
});

/**
 * Runs `fn` with the cpu backend's readSync spied and returns the stacks of the synchronous reads
 * made through tensors (`dataSync`, `arraySync`, `bufferSync`: they reach the backend through the
 * engine's readSync). The cpu backend also calls its own readSync inside some kernels (Tile, …)
 * and to serve `await t.data()`: those are not reads a webgpu backend would refuse, and are not counted.
 */
async function syncReadsDuring(fn: () => Promise<void> | void): Promise<string[]> {
  const b = tf.backend() as unknown as { readSync: (id: object) => unknown };
  const engine = tf.engine() as unknown as { readSync: (id: object) => unknown };
  const backendReadSync = b.readSync;
  const engineReadSync = engine.readSync;
  let viaEngine = 0;
  const calls: string[] = [];
  engine.readSync = function (this: unknown, id: object) {
    viaEngine++;
    try {
      return engineReadSync.call(this, id);
    } finally {
      viaEngine--;
    }
  };
  b.readSync = function (this: unknown, id: object) {
    if (viaEngine > 0) {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 40;
      calls.push(new Error('readSync').stack ?? 'readSync');
      Error.stackTraceLimit = limit;
    }
    return backendReadSync.call(this, id);
  };
  try {
    await fn();
  } finally {
    b.readSync = backendReadSync;
    engine.readSync = engineReadSync;
  }
  return calls;
}

function noSyncReads(calls: string[]) {
  expect(calls.length, `synchronous reads, first from:\n${calls[0] ?? ''}`).toBe(0);
}

const trains = (seed: number, steps: number, n: number, p: number) => {
  const rng = new Rng(seed);
  return Array.from({ length: steps }, () => Array.from({ length: n }, () => (rng.uniform() < p ? 1 : 0)));
};

type Trainer = { register(c: unknown): unknown; step(...a: unknown[]): void; dispose(): void };
const trainers: [string, () => Trainer, (t: Trainer) => void][] = [
  ['STDP', () => new STDP({ lrPost: 0.1, lrPre: -0.05, tauPost: 20, tauPre: 10 }) as unknown as Trainer, (t) => t.step()],
  ['MSTDP', () => new MSTDP({ lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 7 }) as unknown as Trainer, (t) => t.step(1)],
  ['MSTDPET', () => new MSTDPET({ lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 7, tauEligibility: 25 }) as unknown as Trainer, (t) => t.step(-1)],
  ['TripletSTDP', () => new TripletSTDP({ lrPostPair: 0.1, lrPostTriplet: 0.05, lrPrePair: -0.08, lrPreTriplet: 0.03, tauPostFast: 8, tauPostSlow: 30, tauPreFast: 10, tauPreSlow: 40 }) as unknown as Trainer, (t) => t.step()],
  ['KernelSTDP', () => new KernelSTDP({ kernelPost: expStdpPostKernel(0.1, 20), kernelPre: expStdpPreKernel(-0.05, 20) }) as unknown as Trainer, (t) => t.step()],
  ['DelayAdjustedSTDP', () => new DelayAdjustedSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 }) as unknown as Trainer, (t) => t.step()],
  ['DelayAdjustedMSTDP', () => new DelayAdjustedMSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 }) as unknown as Trainer, (t) => t.step(1)],
  ['LinearHomeostasis', () => new LinearHomeostasis({ plasticity: 0.1, target: 0.25 }) as unknown as Trainer, (t) => t.step()],
];

describe('no synchronous reads in training loops (cpu backend, readSync spied)', () => {
  for (const [name, make, step] of trainers) {
    it(`${name}: 20 steps of forward → step → update, weights read with await data()`, async () => {
      const c = new LinearDense([6], [4], 1, { batchSize: 2, ...(name.startsWith('DelayAdjusted') ? { maxDelay: 2 } : {}) });
      const l = new TestLayer(c, new ForcedNeurons([4], 2));
      const rule = make();
      rule.register(l.cell);
      const pre = trains(1, 20, 12, 0.3);
      const post = trains(2, 20, 8, 0.3);
      const calls = await syncReadsDuring(async () => {
        for (let k = 0; k < 20; k++) {
          l.step(pre[k]!, post[k]!);
          step(rule);
          c.update();
        }
        await c.weight.data();
      });
      rule.dispose();
      l.dispose();
      noSyncReads(calls);
    });
  }

  it('VoltageSTDP: 20 steps of forward → step → update (plasticity on, off, on), weights read with await data()', async () => {
    const c = new LinearDense([6], [4], 1, { batchSize: 2, weightInit: (s) => tf.ones(s as number[]) });
    const v = { t: tf.zeros([2, 4]) };
    const cell = { connection: c, neuron: { get voltage() { return v.t; }, get spike() { return v.t; }, training: true }, layer: { attach() {}, detach() {}, training: true } };
    const rule = new VoltageSTDP();
    rule.register(cell);
    const pre = trains(3, 20, 12, 0.3);
    const calls = await syncReadsDuring(async () => {
      for (let k = 0; k < 20; k++) {
        if (k === 8) rule.disable();
        if (k === 12) rule.enable();
        tf.tidy(() => void c.forward(tf.tensor2d(pre[k]!, [2, 6])));
        v.t.dispose();
        v.t = tf.fill([2, 4], -60 + 3 * k);
        rule.step();
        c.update();
      }
      await c.weight.data();
    });
    rule.dispose();
    c.dispose();
    v.t.dispose();
    noSyncReads(calls);
  });

  for (const kernel of ['js', 'tf'] as const) {
    it(`e-prop (${kernel} kernel): stepAsync, evaluateAsync, gradientsAsync, recordSequenceAsync`, async () => {
      const net = buildEvidenceNetwork({ kernel, nLif: 5, nAlif: 5, learningWindow: 10 });
      const task = new EvidenceTask({ cueSteps: 5, spacingSteps: 3, delaySteps: 10, recallSteps: 10 });
      const b = task.batch(2, new Rng(3)) as EPropBatch;
      const calls = await syncReadsDuring(async () => {
        const r = await net.trainer.stepAsync(b);
        expect(Number.isFinite(r.loss)).toBe(true);
        await net.trainer.evaluateAsync(b);
        await net.trainer.gradientsAsync(b);
        await net.trainer.recordSequenceAsync(b, 1);
      });
      b.inputs.dispose();
      net.dispose();
      noSyncReads(calls);
    });
  }

  it('MaxRateClassifier: updateAsync (tensor and array labels) and predict', async () => {
    const c = new MaxRateClassifier([3], 2, { decay: 0.1 });
    const calls = await syncReadsDuring(async () => {
      for (let k = 0; k < 5; k++) {
        const x = tf.tensor2d([[k, 1, 0], [0, 1, k]]);
        const y = tf.tensor1d([0, 1], 'int32');
        await c.updateAsync(x, y);
        await c.updateAsync(x, [1, 0]);
        const p = c.predict(x);
        await p.data();
        tf.dispose([x, y, p]);
      }
    });
    c.dispose();
    noSyncReads(calls);
  });

  it('Recorder: observe every step, toArrayAsync once', async () => {
    const v = tf.variable(tf.zeros([2, 3]));
    const rec = new Recorder(() => v, { capacity: 10 });
    const calls = await syncReadsDuring(async () => {
      for (let k = 0; k < 15; k++) {
        tf.tidy(() => v.assign(tf.add(v, 1)));
        rec.observe();
      }
      const a = await rec.toArrayAsync();
      expect(a.shape).toEqual([10, 2, 3]);
      expect(a.data[a.data.length - 1]).toBe(15);
    });
    rec.dispose();
    v.dispose();
    noSyncReads(calls);
  });

  describe('examples in tiny through the cinder command (run folder, checkpoints, artifacts, figures)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-nosync-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    for (const spec of EXAMPLES) {
      it(spec.name, async () => {
        const sink = { write: () => true } as unknown as NodeJS.WritableStream;
        let code = -1;
        const calls = await syncReadsDuring(async () => {
          code = await runCli([spec.name, '--mode', 'tiny', '--backend', 'cpu', '--quiet', '--out', join(dir, spec.name)], { out: sink, err: sink } as never);
        });
        expect(code).toBe(0);
        noSyncReads(calls);
      });
    }
  });
});
