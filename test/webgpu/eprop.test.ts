// The fused WGSL e-prop kernels (src/kernels/webgpu/eprop.ts: scan; eprop-readout.ts: readout, loss,
// backward factors, gradients, summary) against the JavaScript kernel on the same backend (float64
// readout and backward pass on the host, an independent implementation), against NEST's losses (the
// b1 fixture), and what an iteration reads back from the device — on webgpu, SwiftShader in CI.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadEPropFixture } from '../../examples/eprop-evidence/nest-fixture.js';
import { buildEvidenceNetwork, runFixtureParity } from '../../examples/eprop-evidence/training.js';
import { EvidenceTask } from '../../examples/eprop-evidence/task.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { NonFiniteError } from '../../src/core/finite.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { EProp, EPropReadout, EPropRecurrent, type EPropBatch, type EPropKernel } from '../../src/learn/eprop/index.js';
import { Adam } from '../../src/learn/optimizers/index.js';
import { onBackend, webgpuForTests } from './gpu.js';
import { relMax, trainEProp } from '../../bench/webgpu-verify.js';

const gpu = await webgpuForTests();
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixturePath = [resolve(root, 'test', 'fixtures', 'eprop-nest-b1-i5.json'), resolve(root, '..', '..', 'shared', 'fixtures', 'eprop-nest-b1-i5.json'), '/work/shared/fixtures/eprop-nest-b1-i5.json'].find((p) => existsSync(p));

// A short evidence task (T = 4·(10 + 12) + 30 + 30 = 148 steps), n = 100 neurons (two per invocation).
const task = new EvidenceTask({ cueSteps: 12, spacingSteps: 10, delaySteps: 30, recallSteps: 30 });

// The evidence network on `task` (learning window 30 = its recall), seed 3, batches from Rng(11).
const train = (kernel: EPropKernel, batchSize: number, iterations: number) => trainEProp(kernel, task, batchSize, iterations);

describe.skipIf(!gpu.ok)(`fused e-prop kernel on webgpu (${gpu.detail})`, () => {
  for (const B of [1, 32]) {
    it(`B = ${B}: losses over 5 iterations within rtol 1e-4 of the JS kernel, gradients within 1e-4`, async () => {
      const js = await onBackend('webgpu', () => train('js', B, 5));
      const wg = await onBackend('webgpu', () => train('auto', B, 5));
      expect(wg.kernel).toBe('webgpu');
      for (let i = 0; i < 5; i++) expect(Math.abs(wg.results[i]!.loss - js.results[i]!.loss) / Math.abs(js.results[i]!.loss)).toBeLessThan(1e-4);
      // Gradients: max error relative to the largest entry of each gradient matrix.
      for (let k = 0; k < 3; k++) expect(relMax(wg.grads[k]!, js.grads[k]!)).toBeLessThan(1e-4);
      expect(js.grads[0]!.some((v) => v !== 0)).toBe(true);
      // Recall error, predictions and rates come from the device summary: the same spikes, so equal.
      for (let i = 0; i < 5; i++) {
        const [a, e] = [wg.results[i]!, js.results[i]!];
        expect(a.recallError).toBe(e.recallError);
        expect(Array.from(a.prediction)).toEqual(Array.from(e.prediction));
        expect(a.rateHz).toBeCloseTo(e.rateHz, 9);
        for (let j = 0; j < e.ratesHz.length; j++) expect(a.ratesHz[j]).toBeCloseTo(e.ratesHz[j]!, 9);
      }
    });
  }

  it('mean squared error, symmetric feedback, no gradient averaging, a short window: losses and gradients equal the JS kernel', async () => {
    const T = 40;
    const nLw = 13;
    const nOut = 3;
    const B = 3;
    const run = async (kernel: EPropKernel) => {
      const rng = new Rng(5);
      const recurrent = new EPropRecurrent({ nIn: 7, nLif: 6, nAlif: 5, rng, tRef: 2 });
      const readout = new EPropReadout({ nRec: recurrent.n, nOut, loss: 'mean_squared_error', feedback: 'symmetric', rng });
      const optimizer = new Adam({ learningRate: 1e-2 });
      const trainer = new EProp({ recurrent, readout, optimizer, learningWindow: nLw, cReg: 50, fTarget: 20, averageGradient: false, kernel });
      const data = new Rng(9);
      const loss: number[] = [];
      const grads: Float64Array[] = [];
      try {
        for (let it = 0; it < 3; it++) {
          const x = new Float32Array(B * T * 7).map(() => (data.uniform() < 0.3 ? 1 : 0));
          const targets = new Float64Array(B * nLw * nOut).map(() => data.normal());
          const batch: EPropBatch = { inputs: tf.tensor3d(x, [B, T, 7]), targets };
          try {
            if (it === 1) {
              const g = await trainer.gradientsAsync(batch);
              grads.push(g.gradients.input, g.gradients.recurrent, g.gradients.readout);
              loss.push((await trainer.evaluateAsync(batch)).loss);
            }
            const r = await trainer.stepAsync(batch);
            expect(r.recallError).toBeNaN();
            expect(Array.from(r.prediction)).toEqual([-1, -1, -1]);
            loss.push(r.loss);
          } finally {
            batch.inputs.dispose();
          }
        }
        return { loss, grads, kernel: trainer.kernel };
      } finally {
        recurrent.dispose();
        readout.dispose();
        optimizer.dispose();
      }
    };
    const js = await onBackend('webgpu', () => run('js'));
    const wg = await onBackend('webgpu', () => run('webgpu'));
    expect(wg.kernel).toBe('webgpu');
    expect(wg.loss).toHaveLength(4);
    for (let i = 0; i < 4; i++) expect(Math.abs(wg.loss[i]! - js.loss[i]!) / Math.abs(js.loss[i]!)).toBeLessThan(1e-4);
    for (let k = 0; k < 3; k++) {
      expect(js.grads[k]!.some((v) => v !== 0)).toBe(true);
      expect(relMax(wg.grads[k]!, js.grads[k]!)).toBeLessThan(1e-4);
    }
  });

  it('an iteration reads back only the batch summary (3 + 7n + B floats), whatever the sequence length, and never synchronously', async () => {
    await onBackend('webgpu', async () => {
      const backend = tf.backend() as unknown as { read: (id: object) => Promise<ArrayBufferView>; readSync: (id: object) => unknown };
      const read = backend.read;
      const readSync = backend.readSync;
      const reads: number[] = [];
      let syncReads = 0;
      backend.read = async function (this: unknown, id: object) {
        const v = await read.call(this, id);
        reads.push(v.byteLength);
        return v;
      };
      backend.readSync = function (this: unknown, id: object) {
        syncReads++;
        return readSync.call(this, id);
      };
      try {
        const B = 4;
        for (const recallSteps of [5, 60]) {
          const shortTask = new EvidenceTask({ cueSteps: 2, spacingSteps: 1, delaySteps: 3, recallSteps });
          const net = buildEvidenceNetwork({ kernel: 'webgpu', nLif: 4, nAlif: 4, learningWindow: recallSteps, seed: 2 });
          const b = shortTask.batch(B, new Rng(4)) as EPropBatch;
          try {
            await net.trainer.stepAsync(b); // compiles the programs
            reads.length = 0;
            const before = tf.memory().numTensors;
            for (let it = 0; it < 2; it++) await net.trainer.stepAsync(b);
            expect(tf.memory().numTensors).toBe(before);
            const n = net.recurrent.n;
            expect(reads).toEqual([4 * (3 + 7 * n + B), 4 * (3 + 7 * n + B)]);
          } finally {
            b.inputs.dispose();
            net.dispose();
          }
        }
        expect(syncReads).toBe(0);
      } finally {
        backend.read = read;
        backend.readSync = readSync;
      }
    });
  });

  it('a non-finite weight is reported from the summary before the update; nothing changes', async () => {
    await onBackend('webgpu', async () => {
      const net = buildEvidenceNetwork({ kernel: 'webgpu', nLif: 3, nAlif: 3, learningWindow: 5 });
      const b = new EvidenceTask({ cueSteps: 2, spacingSteps: 1, delaySteps: 2, recallSteps: 5 }).batch(2, new Rng(1)) as EPropBatch;
      try {
        await net.trainer.evaluateAsync(b); // caches β on the device
        const w = Float32Array.from(await net.recurrent.wRec.value.data());
        w[7] = NaN;
        const bad = tf.tensor2d(w, [6, 6]);
        net.recurrent.wRec.variable.assign(bad);
        bad.dispose();
        const wIn = Float32Array.from(await net.recurrent.wIn.value.data());
        const before = tf.memory().numTensors;
        const err = await net.trainer.stepAsync(b).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(NonFiniteError);
        expect((err as NonFiniteError).tensor).toBe('recurrent.wRec');
        expect(net.trainer.iterations).toBe(0);
        expect(Array.from(await net.recurrent.wIn.value.data())).toEqual(Array.from(wIn));
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        b.inputs.dispose();
        net.dispose();
      }
    });
  });

  // As test/learn/eprop/failures.test.ts for the js and tf kernels: a mean-squared-error readout with
  // targets of 1e15 and random feedback weights of 1e30 (finite in float32): the loss (≈ 1e30, through
  // W_out only) and the weights stay finite, the learning signal B·Ê (≈ 1e45) and so the input and
  // recurrent gradients do not. The fused kernel counts the gradients' non-finite entries in its
  // summary; without that count Adam's step turned the weights to NaN.
  for (const kernel of ['js', 'webgpu'] as const) {
    it(`${kernel} kernel: a gradient beyond float32 with a finite loss: NonFiniteError naming it, nothing changes`, async () => {
      await onBackend('webgpu', async () => {
        const [T, nLw, nOut, B] = [30, 10, 2, 2];
        const rng = new Rng(5);
        const recurrent = new EPropRecurrent({ nIn: 7, nLif: 4, nAlif: 4, rng });
        const readout = new EPropReadout({
          nRec: recurrent.n, nOut, loss: 'mean_squared_error', feedback: 'random', rng, feedbackWeights: new Float64Array(recurrent.n * nOut).fill(1e30),
        });
        const optimizer = new Adam({ learningRate: 1e-2 });
        const trainer = new EProp({ recurrent, readout, optimizer, learningWindow: nLw, kernel });
        const data = new Rng(9);
        const x = new Float32Array(B * T * 7).map(() => (data.uniform() < 0.3 ? 1 : 0));
        const batch: EPropBatch = { inputs: tf.tensor3d(x, [B, T, 7]), targets: new Float64Array(B * nLw * nOut).fill(1e15) };
        try {
          expect(trainer.kernel).toBe(kernel);
          const ev = await trainer.evaluateAsync(batch);
          expect(Number.isFinite(Math.fround(ev.loss))).toBe(true);
          if (kernel === 'js') {
            // the float64 gradients the js kernel returns: input and recurrent beyond float32, readout not
            const g = (await trainer.gradientsAsync(batch)).gradients;
            expect([...g.input, ...g.recurrent].some((v) => !Number.isFinite(Math.fround(v)))).toBe(true);
            expect([...g.readout].every((v) => Number.isFinite(Math.fround(v)))).toBe(true);
          }
          const weights = async () => [...(await recurrent.wIn.value.data()), ...(await recurrent.wRec.value.data()), ...(await readout.wOut.value.data())];
          const w0 = await weights();
          const before = tf.memory().numTensors;
          const err = await trainer.stepAsync(batch).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(NonFiniteError);
          expect((err as Error).message).toMatch(/non-finite value \(NaN or Inf\) in gradient of the (input|recurrent) weights at batch 0/);
          expect(trainer.iterations).toBe(0);
          expect(optimizer.iterations).toBe(0);
          expect(await weights()).toEqual(w0);
          expect(tf.memory().numTensors).toBe(before);
        } finally {
          batch.inputs.dispose();
          trainer.dispose();
          recurrent.dispose();
          readout.dispose();
          optimizer.dispose();
        }
      });
    });
  }

  // As test/learn/eprop/failures.test.ts for the js and tf kernels: a batch with an input other than
  // 0 or 1 is refused naming it, and changes no weight, Adam moment, counter or tensor count.
  for (const [what, value, at] of [['NaN', NaN, [1, 3, 2]], ['2', 2, [0, 7, 1]], ['0.5', 0.5, [1, 19, 0]], ['-Infinity', -Infinity, [0, 0, 0]]] as const) {
    it(`an input of ${what}: CinderArgumentError naming it, no state changes, tensor count flat; -0 is a spike`, async () => {
      await onBackend('webgpu', async () => {
        const [B, T, nIn] = [2, 20, 3];
        const recurrent = new EPropRecurrent({ nIn, nLif: 2, nAlif: 2, rng: new Rng(2), wIn: new Rng(7).normalArray(4 * nIn, 0, 1.5) });
        const readout = new EPropReadout({ nRec: 4, nOut: 2, rng: new Rng(3) });
        const optimizer = new Adam({ learningRate: 0.01 });
        const trainer = new EProp({ recurrent, readout, optimizer, learningWindow: 5, cReg: 30, kernel: 'webgpu' });
        const x = new Float32Array(B * T * nIn).map((_, i) => ((i * 7919) % 3 === 0 ? 1 : 0));
        const names = new Map<tf.Variable, string>([[recurrent.wIn.variable, 'wIn'], [recurrent.wRec.variable, 'wRec'], [readout.wOut.variable, 'wOut']]);
        const state = async () => {
          const snap = optimizer.snapshotState(names);
          const moments: Record<string, number[]> = {};
          for (const [k, t] of Object.entries(snap.tensors)) moments[k] = Array.from(await t.data());
          tf.dispose(Object.values(snap.tensors));
          const w = await Promise.all([recurrent.wIn.value.data(), recurrent.wRec.value.data(), readout.wOut.value.data()]);
          return JSON.stringify({ w: w.map((a) => Array.from(a)), adam: snap.values, moments, iterations: trainer.iterations });
        };
        const good: EPropBatch = { inputs: tf.tensor3d(x, [B, T, nIn]), labels: [1, 0] };
        const d = x.slice();
        d[(at[0] * T + at[1]) * nIn + at[2]] = value;
        d[(0 * T + 1) * nIn + 1] = -0; // a spike, as in the other kernels
        const bad: EPropBatch = { inputs: tf.tensor3d(d, [B, T, nIn]), labels: [1, 0] };
        try {
          await trainer.stepAsync(good); // moments exist and are nonzero
          const before = await state();
          const n0 = tf.memory().numTensors;
          for (const method of ['stepAsync', 'evaluateAsync', 'gradientsAsync'] as const) {
            const err = await trainer[method](bad).then(() => undefined, (e: unknown) => e);
            expect(err).toBeInstanceOf(CinderArgumentError);
            expect((err as Error).message).toBe(`invalid batch.inputs[${at[0]}][${at[1]}][${at[2]}]: got ${what}, expected a spike (0 or 1)`);
            expect(tf.memory().numTensors).toBe(n0);
          }
          expect(await state()).toBe(before);
          await trainer.stepAsync(good);
          expect(trainer.iterations).toBe(2);
          expect(optimizer.iterations).toBe(2);
        } finally {
          tf.dispose([good.inputs, bad.inputs]);
          trainer.dispose();
          recurrent.dispose();
          readout.dispose();
          optimizer.dispose();
        }
      });
    });
  }

  it('the synchronous methods refuse webgpu with a pointer to their async forms, before any state changes', async () => {
    await onBackend('webgpu', async () => {
      for (const kernel of ['webgpu', 'js'] as const) {
        const net = buildEvidenceNetwork({ kernel, nLif: 3, nAlif: 3, learningWindow: 5 });
        const b = new EvidenceTask({ cueSteps: 2, spacingSteps: 1, delaySteps: 2, recallSteps: 5 }).batch(1, new Rng(1)) as EPropBatch;
        expect(() => net.trainer.step(b)).toThrow(/Async/);
        expect(() => net.trainer.recordSequence(b)).toThrow(/recordSequenceAsync/);
        expect(net.trainer.iterations).toBe(0);
        b.inputs.dispose();
        net.dispose();
      }
    });
  });

  // A small network of n neurons (n − ⌊n/2⌋ LIF, ⌊n/2⌋ ALIF) trained on B sequences of T steps from
  // seeded spikes; `inputs` makes the batch's input tensor from its 0/1 values.
  const small = async (kernel: EPropKernel, o: { n: number; B: number; T: number; nIn: number; inputs?: (x: Float32Array, shape: [number, number, number]) => tf.Tensor }) => {
    const { n, B, T, nIn } = o;
    const rng = new Rng(21);
    const recurrent = new EPropRecurrent({ nIn, nLif: n - Math.floor(n / 2), nAlif: Math.floor(n / 2), rng, tRef: 3, wIn: new Rng(8).normalArray(n * nIn, 0, 1.5) });
    const readout = new EPropReadout({ nRec: n, nOut: 2, rng });
    const optimizer = new Adam({ learningRate: 1e-2 });
    const trainer = new EProp({ recurrent, readout, optimizer, learningWindow: Math.min(T, 11), cReg: 10, kernel });
    const data = new Rng(13);
    const loss: number[] = [];
    const grads: Float64Array[] = [];
    let spikes = 0;
    try {
      for (let it = 0; it < 2; it++) {
        const x = new Float32Array(B * T * nIn).map(() => (data.uniform() < 0.3 ? 1 : 0));
        const inputs = (o.inputs ?? ((d, sh) => tf.tensor3d(d, sh)))(x, [B, T, nIn]);
        const batch: EPropBatch = { inputs, labels: Array.from({ length: B }, (_, b) => (b + it) % 2) };
        try {
          if (it === 1) {
            const g = await trainer.gradientsAsync(batch);
            grads.push(g.gradients.input, g.gradients.recurrent, g.gradients.readout);
          }
          const r = await trainer.stepAsync(batch);
          loss.push(r.loss);
          spikes += r.rateHz;
        } finally {
          inputs.dispose();
        }
      }
      return { loss, grads, spikes, kernel: trainer.kernel };
    } finally {
      trainer.dispose();
      recurrent.dispose();
      readout.dispose();
      optimizer.dispose();
    }
  };

  // n = 1, 65 and 257 are not multiples of the scan's 64 invocations (n = 257: 5 neurons per invocation,
  // the last of them only in invocation 0); B·T = 291 rows make two gradient
  // chunks of 146 and 145 rows.
  for (const o of [{ n: 1, B: 1, T: 41, nIn: 3 }, { n: 65, B: 3, T: 97, nIn: 5 }, { n: 257, B: 2, T: 23, nIn: 4 }]) {
    it(`n = ${o.n}, B = ${o.B}, T = ${o.T}: losses and gradients within rtol 1e-4 of the JS kernel`, async () => {
      const js = await onBackend('webgpu', () => small('js', o));
      const wg = await onBackend('webgpu', () => small('webgpu', o));
      expect(wg.kernel).toBe('webgpu');
      expect(js.spikes).toBeGreaterThan(0);
      for (let i = 0; i < 2; i++) expect(Math.abs(wg.loss[i]! - js.loss[i]!) / Math.abs(js.loss[i]!)).toBeLessThan(1e-4);
      for (let k = 0; k < 3; k++) {
        if (k !== 1 || o.n > 1) expect(js.grads[k]!.some((v) => v !== 0)).toBe(true); // n = 1: W_rec is its diagonal
        expect(relMax(wg.grads[k]!, js.grads[k]!)).toBeLessThan(1e-4);
      }
      if (o.n === 1) expect(Array.from(wg.grads[1]!)).toEqual([0]);
    });
  }

  it('inputs cast from bool (kept by tfjs in an int32 buffer) give the same losses and gradients as float32 inputs', async () => {
    const o = { n: 6, B: 2, T: 19, nIn: 4 };
    const fromBool = (x: Float32Array, shape: [number, number, number]) => tf.tidy(() => tf.cast(tf.greater(tf.tensor3d(x, shape), 0.5), 'float32'));
    const plain = await onBackend('webgpu', () => small('webgpu', o));
    const cast = await onBackend('webgpu', () => small('webgpu', { ...o, inputs: fromBool }));
    expect(cast.loss).toEqual(plain.loss);
    for (let k = 0; k < 3; k++) expect(Array.from(cast.grads[k]!)).toEqual(Array.from(plain.grads[k]!));
    expect(plain.grads[0]!.some((v) => v !== 0)).toBe(true);
  });

  // A weight variable assigned a tensor cast from int32 shares its int32 buffer (tfjs's webgpu cast
  // to a wider type copies nothing), which the programs declare array<i32>: the scan's
  // 'ζ·wIn' and the readout's 'u + wOut' failed WGSL validation before (DeviceError, no result).
  it('weights assigned from int32 casts give the same losses and gradients as the same float32 weights', async () => {
    const [B, T, nIn, n, nOut] = [3, 17, 3, 5, 3];
    const run = (cast: boolean) =>
      onBackend('webgpu', async () => {
        const recurrent = new EPropRecurrent({ nIn, nLif: 3, nAlif: 2, rng: new Rng(2), tRef: 2 });
        const readout = new EPropReadout({ nRec: n, nOut, rng: new Rng(3), feedback: 'symmetric' });
        const optimizer = new Adam({ learningRate: 0.01 });
        const trainer = new EProp({ recurrent, readout, optimizer, learningWindow: 6, cReg: 5, kernel: 'webgpu' });
        const set = (v: tf.Variable, f: (i: number) => number) => {
          const values = Int32Array.from({ length: v.size }, (_, i) => f(i));
          const t = cast ? tf.tidy(() => tf.cast(tf.tensor(values, v.shape, 'int32'), 'float32')) : tf.tensor(Float32Array.from(values), v.shape);
          v.assign(t);
          t.dispose();
        };
        set(recurrent.wIn.variable, (i) => (i * 7) % 3);
        set(recurrent.wRec.variable, (i) => (i % (n + 1) === 0 ? 0 : ((i * 5) % 3) - 1));
        set(readout.wOut.variable, (i) => ((i * 11) % 3) - 1);
        const x = new Float32Array(B * T * nIn).map((_, i) => ((i * 7919) % 5 < 2 ? 1 : 0));
        const inputs = tf.tensor3d(x, [B, T, nIn]);
        try {
          const batch: EPropBatch = { inputs, labels: [1, 0, 2] };
          const g = await trainer.gradientsAsync(batch);
          const r = await trainer.stepAsync(batch);
          return { loss: r.loss, rate: r.rateHz, grads: [g.gradients.input, g.gradients.recurrent, g.gradients.readout].map((a) => Array.from(a)) };
        } finally {
          inputs.dispose();
          trainer.dispose();
          recurrent.dispose();
          readout.dispose();
          optimizer.dispose();
        }
      });
    const plain = await run(false);
    const cast = await run(true);
    expect(plain.rate).toBeGreaterThan(0);
    expect(plain.grads[0]!.some((v) => v !== 0)).toBe(true);
    expect(cast).toEqual(plain);
  });

  it.skipIf(!fixturePath)("NEST b1 fixture: every loss within rtol 1e-4 of NEST's with the fused kernel", async () => {
    const f = loadEPropFixture(fixturePath!);
    const r = await onBackend('webgpu', () => runFixtureParity(f, { kernel: 'webgpu' }));
    expect(r.loss).toHaveLength(f.nIter);
    for (let i = 0; i < f.nIter; i++) expect(Math.abs(r.loss[i]! - f.loss[i]!) / Math.abs(f.loss[i]!)).toBeLessThan(1e-4);
  });
});
