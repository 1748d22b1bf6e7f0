// A batch that an e-prop iteration rejects changes nothing: weights, Adam's moments, step counter and
// bias-correction powers, the trainer's iteration count, and the number of live tensors are the same
// before and after, for the js and tf kernels and the synchronous and asynchronous methods.
import { describe, expect, it, vi } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { EProp, EPropReadout, EPropRecurrent, type EPropBatch } from '../../../src/learn/eprop/index.js';
import { Adam } from '../../../src/learn/optimizers/index.js';

const nIn = 3, n = 4, nOut = 2, T = 20, B = 2, nLw = 5;

function build(kernel: 'js' | 'tf', loss: 'cross_entropy' | 'mean_squared_error') {
  const recurrent = new EPropRecurrent({ nIn, nLif: 2, nAlif: 2, rng: new Rng(2), wIn: new Rng(7).normalArray(n * nIn, 0, 1.5) });
  const readout = new EPropReadout({ nRec: n, nOut, loss, rng: new Rng(3) });
  const optimizer = new Adam({ learningRate: 0.01, epsilon: 1e-8, wMin: -100, wMax: 100 });
  const trainer = new EProp({ recurrent, readout, optimizer, learningWindow: nLw, cReg: 30, kernel });
  const x = new Float32Array(B * T * nIn);
  for (let i = 0; i < x.length; i++) x[i] = (i * 7919) % 3 === 0 ? 1 : 0;
  return { recurrent, readout, optimizer, trainer, x };
}

type Net = ReturnType<typeof build>;

/** Every number an iteration may change. */
function state(net: Net): string {
  const names = new Map<tf.Variable, string>([
    [net.recurrent.wIn.variable, 'wIn'], [net.recurrent.wRec.variable, 'wRec'], [net.readout.wOut.variable, 'wOut'],
  ]);
  const s = net.optimizer.snapshotState(names);
  const moments = Object.fromEntries(Object.entries(s.tensors).map(([k, t]) => [k, Array.from(t.dataSync())]));
  tf.dispose(Object.values(s.tensors));
  return JSON.stringify({
    wIn: Array.from(net.recurrent.wIn.value.dataSync()),
    wRec: Array.from(net.recurrent.wRec.value.dataSync()),
    wOut: Array.from(net.readout.wOut.value.dataSync()),
    adam: s.values,
    moments,
    iterations: net.trainer.iterations,
  });
}

const bad: { name: string; loss: 'cross_entropy' | 'mean_squared_error'; message: RegExp; batch: (x: Float32Array) => EPropBatch }[] = [
  { name: 'a NaN input', loss: 'cross_entropy', message: /invalid batch\.inputs\[1\]\[3\]\[2\]: got NaN, expected a spike \(0 or 1\)/,
    batch: (x) => { const d = x.slice(); d[(1 * T + 3) * nIn + 2] = NaN; return { inputs: tf.tensor3d(d, [B, T, nIn]), labels: [0, 1] }; } },
  { name: 'an input of 2', loss: 'cross_entropy', message: /invalid batch\.inputs\[0\]\[7\]\[1\]: got 2, expected a spike/,
    batch: (x) => { const d = x.slice(); d[7 * nIn + 1] = 2; return { inputs: tf.tensor3d(d, [B, T, nIn]), labels: [0, 1] }; } },
  { name: 'disposed inputs', loss: 'cross_entropy', message: /invalid batch\.inputs: got "a disposed tensor"/,
    batch: (x) => { const t = tf.tensor3d(x, [B, T, nIn]); t.dispose(); return { inputs: t, labels: [0, 1] }; } },
  { name: 'a class index out of range', loss: 'cross_entropy', message: /invalid batch\.labels\[1\]: got 2, expected an integer in \[0, 2\)/,
    batch: (x) => ({ inputs: tf.tensor3d(x, [B, T, nIn]), labels: [0, 2] }) },
  { name: 'a NaN target', loss: 'mean_squared_error', message: /invalid batch\.targets\[1\]\[2\]\[1\]: got NaN, expected a finite number/,
    batch: (x) => { const s = new Float64Array(B * nLw * nOut).fill(0.2); s[(1 * nLw + 2) * nOut + 1] = NaN; return { inputs: tf.tensor3d(x, [B, T, nIn]), targets: s }; } },
  { name: 'an empty batch (B = 0)', loss: 'cross_entropy', message: /invalid batch\.inputs: got "a tensor of shape \[0, 20, 3\]", expected at least 1 sequence of at least 1 step/,
    batch: () => ({ inputs: tf.zeros([0, T, nIn]), labels: [] }) },
];

describe('e-prop: a rejected batch changes no state', () => {
  for (const kernel of ['js', 'tf'] as const) {
    for (const mode of ['step', 'stepAsync'] as const) {
      for (const c of bad) {
        it(`${kernel} kernel, ${mode}, ${c.name}: CinderArgumentError, state and tensor count unchanged`, async () => {
          const net = build(kernel, c.loss);
          const good: EPropBatch = c.loss === 'cross_entropy'
            ? { inputs: tf.tensor3d(net.x, [B, T, nIn]), labels: [1, 0] }
            : { inputs: tf.tensor3d(net.x, [B, T, nIn]), targets: new Float64Array(B * nLw * nOut).fill(0.3) };
          net.trainer.step(good); // moments exist and are nonzero
          const batch = c.batch(net.x);
          const before = state(net);
          const n0 = tf.memory().numTensors;
          let error: unknown;
          try {
            if (mode === 'step') net.trainer.step(batch);
            else await net.trainer.stepAsync(batch);
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(CinderArgumentError);
          expect((error as Error).message).toMatch(c.message);
          expect(tf.memory().numTensors).toBe(n0);
          expect(state(net)).toBe(before);
          // the trainer still works, and the failed batch did not count
          net.trainer.step(good);
          expect(net.trainer.iterations).toBe(2);
          expect(net.optimizer.iterations).toBe(2);
          tf.dispose([good.inputs, batch.inputs]);
          net.trainer.dispose();
          net.recurrent.dispose();
          net.readout.dispose();
          net.optimizer.dispose();
        });
      }
    }
  }
});

describe('e-prop: a gradient that is not finite in float32 is refused before the update', () => {
  // Targets of 1e100 are finite numbers (accepted), and so are the float64 loss (≈ 1e200) and the
  // js kernel's float64 gradients (≈ 1e100 × ψ·…), but the gradients are applied as float32
  // tensors, where they are ±∞ (tf kernel: ∞ and NaN after the float32 matrix products): Adam's
  // m/(√v + ε) = ∞/∞ = NaN. Without the check a weight jumped to a bound (−100) in one step.
  for (const kernel of ['js', 'tf'] as const) {
    for (const mode of ['step', 'stepAsync'] as const) {
      it(`${kernel} kernel, ${mode}: NonFiniteError naming a gradient, state and tensor count unchanged`, async () => {
        const net = build(kernel, 'mean_squared_error');
        const good: EPropBatch = { inputs: tf.tensor3d(net.x, [B, T, nIn]), targets: new Float64Array(B * nLw * nOut).fill(0.3) };
        net.trainer.step(good);
        const huge: EPropBatch = { inputs: tf.tensor3d(net.x, [B, T, nIn]), targets: new Float64Array(B * nLw * nOut).fill(1e100) };
        // the float64 gradient (gradients() returns it unapplied) is finite, its float32 rounding is not
        const g = net.trainer.gradients(huge).gradients;
        const all = [...g.input, ...g.recurrent, ...g.readout];
        if (kernel === 'js') expect(all.every((v) => Number.isFinite(v))).toBe(true);
        expect(all.some((v) => !Number.isFinite(Math.fround(v)))).toBe(true);
        const before = state(net);
        const n0 = tf.memory().numTensors;
        let error: unknown;
        try {
          if (mode === 'step') net.trainer.step(huge);
          else await net.trainer.stepAsync(huge);
        } catch (e) {
          error = e;
        }
        expect((error as Error)?.name).toBe('NonFiniteError');
        expect((error as Error).message).toMatch(/non-finite value \(NaN or Inf\) in gradient of the (input|recurrent|readout) weights at batch 1/);
        expect(tf.memory().numTensors).toBe(n0);
        expect(state(net)).toBe(before);
        // targets of 1e30: float32 gradients, a step is taken
        const big: EPropBatch = { inputs: tf.tensor3d(net.x, [B, T, nIn]), targets: new Float64Array(B * nLw * nOut).fill(1e30) };
        if (mode === 'step') net.trainer.step(big);
        else await net.trainer.stepAsync(big);
        expect(net.trainer.iterations).toBe(2);
        const w = [...net.recurrent.wIn.value.dataSync(), ...net.recurrent.wRec.value.dataSync(), ...net.readout.wOut.value.dataSync()];
        expect(w.every((v) => Number.isFinite(v) && Math.abs(v) < 100)).toBe(true);
        tf.dispose([good.inputs, huge.inputs, big.inputs]);
        net.trainer.dispose();
        net.recurrent.dispose();
        net.readout.dispose();
        net.optimizer.dispose();
      });
    }
  }
});

describe('e-prop options: bad values fail with CinderArgumentError and leave no tensors', () => {
  it('EProp and EPropRecurrent reject a negative target rate and non-boolean switches', () => {
    const recurrent = new EPropRecurrent({ nIn: 2, nLif: 2 });
    const readout = new EPropReadout({ nRec: 2, nOut: 2 });
    const optimizer = new Adam();
    const make = (o: object) => () => new EProp({ recurrent, readout, optimizer, ...o });
    expect(make({ fTarget: -5 })).toThrow('invalid fTarget: got -5, expected a finite number >= 0');
    expect(make({ averageGradient: 'no' })).toThrow('invalid averageGradient: got "no", expected true or false');
    expect(make({ train: { inputs: false } })).toThrow('invalid train.inputs: got false, expected one of the cells input, recurrent, readout');
    expect(make({ train: { readout: 0 } })).toThrow('invalid train.readout: got 0, expected true or false');
    expect(() => new EPropRecurrent({ nIn: 2, nLif: 2, regularSpikeArrival: 'false' as never })).toThrow('invalid regularSpikeArrival: got "false", expected true or false');
    // fTarget = 0 is a valid target (silence)
    expect(make({ fTarget: 0 })().fTarget).toBe(0);
    // the fused webgpu kernel off the webgpu backend: refused here, not at the first stepAsync
    const n0 = tf.memory().numTensors;
    expect(make({ kernel: 'webgpu' })).toThrow(`invalid kernel: got "webgpu", expected js, tf or auto on the ${tf.getBackend()} backend (the fused webgpu kernel runs only on the webgpu backend)`);
    expect(tf.memory().numTensors).toBe(n0);
    recurrent.dispose();
    readout.dispose();
    optimizer.dispose();
  });

  it('initial weights beyond float32 (stored as ±∞) are refused by EPropRecurrent and EPropReadout, nothing left behind', () => {
    const n0 = tf.memory().numTensors;
    const w = (size: number, at: number, v: number) => Array.from({ length: size }, (_, i) => (i === at ? v : 0.1));
    const msg = (p: string, v: string) => new RegExp(`invalid ${p}: got ${v}, expected a number that is finite in float32`);
    expect(() => new EPropRecurrent({ nIn: 2, nLif: 2, wIn: w(4, 3, 1e39) })).toThrow(msg('wIn\\[3\\]', '1e\\+39'));
    expect(() => new EPropRecurrent({ nIn: 2, nLif: 2, wRec: w(4, 1, -4e38) })).toThrow(msg('wRec\\[1\\]', '-4e\\+38'));
    expect(() => new EPropReadout({ nRec: 2, nOut: 2, wOut: w(4, 0, 1e300) })).toThrow(msg('wOut\\[0\\]', '1e\\+300'));
    // the fixed feedback weights are never checked later (they are not trained): a B of ±∞ would
    // make every learning signal and gradient non-finite
    expect(() => new EPropReadout({ nRec: 2, nOut: 2, feedbackWeights: w(4, 2, 1e39) })).toThrow(msg('feedbackWeights\\[2\\]', '1e\\+39'));
    expect(tf.memory().numTensors).toBe(n0);
    // the largest float32 is kept as it is
    const r = new EPropRecurrent({ nIn: 2, nLif: 2, wIn: w(4, 3, 3.4028234663852886e38) });
    expect(r.wIn.value.dataSync()[3]).toBe(3.4028234663852886e38);
    r.dispose();
  });

  it('buildEvidenceNetwork and trainEvidence: a rejected setting frees what was built', async () => {
    const { buildEvidenceNetwork, trainEvidence } = await import('../../../examples/eprop-evidence/training.js');
    const { EvidenceTask } = await import('../../../examples/eprop-evidence/task.js');
    const n0 = tf.memory().numTensors;
    expect(() => buildEvidenceNetwork({ nLif: 2, nAlif: 2, cReg: -1 })).toThrow(/invalid cReg: got -1/);
    expect(() => buildEvidenceNetwork({ nLif: 2, nAlif: 2, feedback: 'x' as never })).toThrow(/invalid feedback/);
    expect(tf.memory().numTensors).toBe(n0);
    const task = new EvidenceTask({ nCues: 1, cueSteps: 2, spacingSteps: 0, delaySteps: 0, recallSteps: 2 });
    for (const [o, msg] of [[{ evaluationAdvancesOptimizer: 'yes' }, /invalid evaluationAdvancesOptimizer: got "yes"/], [{ prefetch: 'no' }, /invalid prefetch: got "no", expected true or false/]] as const) {
      await expect(trainEvidence({ ...o, nLif: 2, nAlif: 2, task, iterations: 0, testBatches: 1, batchSize: 1 } as never)).rejects.toThrow(msg);
      expect(tf.memory().numTensors).toBe(n0);
    }
  });
});

describe('e-prop: an empty batch is refused by every method (no NaN loss, no TypeError)', () => {
  for (const kernel of ['js', 'tf'] as const) {
    it(`${kernel} kernel: B = 0 and T = 0 (whole-sequence window) give CinderArgumentError, nothing left behind`, async () => {
      const recurrent = new EPropRecurrent({ nIn, nLif: 2, nAlif: 2, rng: new Rng(2) });
      const readout = new EPropReadout({ nRec: n, nOut, rng: new Rng(3) });
      const optimizer = new Adam({ learningRate: 0.01 });
      const trainer = new EProp({ recurrent, readout, optimizer, kernel }); // n_lw = T
      for (const shape of [[0, T, nIn], [B, 0, nIn]] as [number, number, number][]) {
        const inputs = tf.zeros(shape);
        const batch: EPropBatch = { inputs, labels: new Array<number>(shape[0]).fill(0) };
        const n0 = tf.memory().numTensors;
        const calls: [string, () => unknown][] = [
          ['step', () => trainer.step(batch)], ['evaluate', () => trainer.evaluate(batch)], ['gradients', () => trainer.gradients(batch)],
          ['stepAsync', () => trainer.stepAsync(batch)], ['evaluateAsync', () => trainer.evaluateAsync(batch)], ['gradientsAsync', () => trainer.gradientsAsync(batch)],
        ];
        for (const [name, call] of calls) {
          let error: unknown;
          try {
            await call();
          } catch (e) {
            error = e;
          }
          expect(error, `${name} ${JSON.stringify(shape)}`).toBeInstanceOf(CinderArgumentError);
          expect((error as Error).message).toContain(`got "a tensor of shape [${shape.join(', ')}]", expected at least 1 sequence of at least 1 step`);
        }
        expect(tf.memory().numTensors).toBe(n0);
        expect(trainer.iterations).toBe(0);
        expect(optimizer.iterations).toBe(0);
        inputs.dispose();
      }
      trainer.dispose();
      recurrent.dispose();
      readout.dispose();
      optimizer.dispose();
    });
  }
});

describe('e-prop: recordSequence names a missing batch', () => {
  it('null, a number and an object without inputs give CinderArgumentError (batch / batch.inputs), sync and async', async () => {
    const recurrent = new EPropRecurrent({ nIn, nLif: 2, nAlif: 2, rng: new Rng(2) });
    const readout = new EPropReadout({ nRec: n, nOut, rng: new Rng(3) });
    const optimizer = new Adam({ learningRate: 0.01 });
    const trainer = new EProp({ recurrent, readout, optimizer, kernel: 'js' });
    for (const [batch, name] of [[null, /invalid batch: got null/], [3, /invalid batch: got 3/], [{ labels: [0] }, /invalid batch\.inputs/]] as const) {
      expect(() => trainer.recordSequence(batch as unknown as EPropBatch, 0)).toThrow(CinderArgumentError);
      expect(() => trainer.recordSequence(batch as unknown as EPropBatch, 0)).toThrow(name);
      await expect(trainer.recordSequenceAsync(batch as unknown as EPropBatch, 0)).rejects.toThrow(name);
    }
    trainer.dispose();
    recurrent.dispose();
    readout.dispose();
    optimizer.dispose();
  });
});

describe('gradientsAsync when a gradient read fails (tf kernel)', () => {
  it('rethrows and frees every gradient tensor, the unread ones too', async () => {
    const net = build('tf', 'cross_entropy');
    const inputs = tf.tensor3d(net.x, [B, T, nIn]);
    const batch: EPropBatch = { inputs, labels: [0, 1] };
    try {
      const realData = tf.Tensor.prototype.data;
      const isInputGradShape = (t: tf.Tensor) => t.shape.length === 2 && t.shape[0] === n && t.shape[1] === nIn;
      // a first call counts the reads of [n, nIn] tensors (w_in may be read too): the last is the input gradient's
      /** Spies Tensor.data: `fails(t)` true makes that read reject. */
      const spyReads = (fails: (t: tf.Tensor) => boolean) =>
        vi.spyOn(tf.Tensor.prototype, 'data').mockImplementation(function (this: tf.Tensor) {
          return (fails(this) ? Promise.reject(new Error('read failed')) : realData.call(this)) as ReturnType<typeof realData>;
        });
      let reads = 0;
      const counter = spyReads((t) => (isInputGradShape(t) && reads++, false));
      try {
        await net.trainer.gradientsAsync(batch);
      } finally {
        counter.mockRestore();
      }
      expect(reads).toBeGreaterThanOrEqual(1);
      const before = tf.memory().numTensors;
      // the input gradient is read first: its read fails, the recurrent and readout gradients are not read
      let k = 0;
      const spy = spyReads((t) => isInputGradShape(t) && ++k === reads);
      try {
        await expect(net.trainer.gradientsAsync(batch)).rejects.toThrow('read failed');
      } finally {
        spy.mockRestore();
      }
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      inputs.dispose();
    }
  });
});
