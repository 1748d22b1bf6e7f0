// NaN/Inf detection: FiniteChecker names the first non-finite tensor (module path + state name) and
// the step it was first seen at; hooks keep faults visible; e-prop reports NaN batches and weights.
// Every expectation is checked against the tensors themselves (read back here), not against the
// checker's own output.
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { FiniteChecker, NonFiniteError, assertFiniteMetrics, assertFiniteModules } from '../../src/core/finite.js';
import { Rng } from '../../src/core/random.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { LinearDense, constantInit } from '../../src/neural/connections/index.js';
import { DeltaCurrent } from '../../src/neural/synapses/index.js';
import { Serial } from '../../src/neural/layers/index.js';
import { Clamping, Normalization } from '../../src/neural/hooks/index.js';
import { MSTDP } from '../../src/learn/trainers/index.js';
import { EProp, EPropReadout, EPropRecurrent } from '../../src/learn/eprop/index.js';
import { Adam } from '../../src/learn/optimizers/index.js';

const P = { restV: -65, resetV: -65, threshV: -52, refracT: 2, tauM: 20 };
const made: { dispose(): void }[] = [];
afterEach(() => {
  for (const m of made.splice(0)) m.dispose();
});

function net(nIn = 4, nOut = 3): Serial<LinearDense, LIF> {
  const layer = new Serial(new LinearDense([nIn], [nOut], 1, { synapse: DeltaCurrent.factory(), weightInit: constantInit(0.5) }), new LIF([nOut], 1, P));
  made.push(layer);
  return layer;
}

/** Whether the tensor holds a NaN/±Inf (independent check, read back here). */
function holdsNonFinite(t: tf.Tensor): boolean {
  return Array.from(t.dataSync()).some((x) => !Number.isFinite(x));
}

/** The tensor at a dotted path of the layer (parameters and states). */
function tensorAt(layer: Serial<LinearDense, LIF>, path: string): tf.Tensor {
  const inner = path.replace(/^layer\./, '');
  const p = layer.namedParameters().find(([n]) => n === inner);
  const s = layer.namedStates().find(([n]) => n === inner);
  return (p?.[1] ?? s![1]).value;
}

describe('FiniteChecker', () => {
  it("'step' mode: a NaN input at step 5 is reported with its tensor and step 5; nothing before", async () => {
    const layer = net();
    const checker = new FiniteChecker('step').watch('layer', layer);
    for (let k = 0; k < 20; k++) tf.tidy(() => void layer.forward(tf.ones([1, 4]))); // warm-up: caches created by the first steps and spikes
    layer.clear();
    const before = tf.memory().numTensors;
    let caught: unknown;
    for (let t = 0; t < 10 && !caught; t++) {
      tf.tidy(() => {
        const x = t === 5 ? tf.tensor2d([[1, NaN, 0, 1]]) : tf.tensor2d([[1, 0, 1, 0]]);
        layer.forward(x);
      });
      try {
        checker.step(t);
        await checker.flush();
      } catch (e) {
        caught = e;
      }
      if (t === 4) expect(caught).toBeUndefined();
    }
    expect(caught).toBeInstanceOf(NonFiniteError);
    const err = caught as NonFiniteError;
    expect(err.step).toBe(5);
    expect(err.tensor.startsWith('layer.')).toBe(true);
    expect(holdsNonFinite(tensorAt(layer, err.tensor))).toBe(true);
    expect(err.message).toMatch(/non-finite value .* in layer\..* at step 5/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("'step' mode: a NaN written into the weights after step 3 is named layer.connection.weight at step 3", async () => {
    const layer = net();
    const checker = new FiniteChecker('step').watch('layer', layer);
    for (let t = 0; t < 6; t++) {
      tf.tidy(() => void layer.forward(tf.zeros([1, 4])));
      if (t === 3) layer.connection.weight = tf.tidy(() => tf.tensor2d([[0.5, 0.5, 0.5, 0.5], [0.5, Infinity, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]]));
      checker.step(t); // reads are queued; none is awaited inside the loop
    }
    const err = await checker.flush().then(() => null, (e: unknown) => e as NonFiniteError);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err!.tensor).toBe('layer.connection.weight');
    expect(err!.step).toBe(3);
    // after the failure, the next step() call raises it at once
    expect(() => checker.step(6)).toThrow(NonFiniteError);
  });

  it("'checkpoint' mode does nothing per step and finds the fault at the next checkpoint; 'off' never", async () => {
    const layer = net();
    const cp = new FiniteChecker('checkpoint').watch('layer', layer);
    const off = new FiniteChecker('off').watch('layer', layer);
    tf.tidy(() => void layer.forward(tf.zeros([1, 4]))); // warm-up
    const n0 = tf.memory().numTensors;
    tf.tidy(() => void layer.forward(tf.tensor2d([[NaN, 0, 0, 0]])));
    cp.step(0);
    off.step(0);
    expect(tf.memory().numTensors).toBe(n0); // no per-step work queued
    await expect(off.checkpoint(1)).resolves.toBeUndefined();
    const err = await cp.checkpoint(1).then(() => null, (e: unknown) => e as NonFiniteError);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err!.message).toMatch(/at checkpoint 1/);
    expect(holdsNonFinite(tensorAt(layer, err!.tensor))).toBe(true);
  });

  it("'step' mode flags spike states holding values other than 0 and 1", async () => {
    const layer = net();
    const checker = new FiniteChecker('step').watch('layer', layer);
    tf.tidy(() => void layer.forward(tf.tensor2d([[0.5, 0, 1, 0]])));
    checker.step(0);
    const err = await checker.flush().then(() => null, (e: unknown) => e as NonFiniteError);
    expect(err?.kind).toBe('not 0/1');
    expect(err!.tensor).toMatch(/^layer\.connection\.synapse\.spike/);
    const v = Array.from(tensorAt(layer, err!.tensor).dataSync());
    expect(v.some((x) => x !== 0 && x !== 1)).toBe(true);
  });

  it('assertFiniteModules and assertFiniteMetrics name the tensor or metric', async () => {
    const layer = net();
    await expect(assertFiniteModules(layer)).resolves.toBeUndefined();
    layer.namedStates().find(([n]) => n === 'neuron.voltage')![1].assign(tf.tidy(() => tf.tensor2d([[-65, -Infinity, -65]])));
    await expect(assertFiniteModules({ net: layer }, 7)).rejects.toThrow(/in net\.neuron\.voltage at step 7/);
    expect(() => assertFiniteMetrics({ a: 1, b: [2, { c: NaN }] }, 2)).toThrow(/metric b\[1\]\.c at checkpoint 2/);
    expect(() => assertFiniteMetrics({ a: 1, b: null, c: 'x' })).not.toThrow();
  });

  it('host arrays of an event-driven engine (watchArrays): checked every step in step mode, at checkpoints otherwise; off never', async () => {
    // a "engine" of typed arrays: v gets a NaN at step 4, g an Inf at step 6
    const v = new Float32Array(5);
    const g = new Float64Array(3);
    const run = (c: FiniteChecker, steps: number): unknown => {
      try {
        for (let t = 1; t <= steps; t++) {
          if (t === 4) v[2] = NaN;
          if (t === 6) g[1] = -Infinity;
          c.step(t);
        }
      } catch (e) {
        return e;
      }
      return null;
    };
    const step = new FiniteChecker('step').watchArrays('engine', () => ({ v, g }));
    const e = run(step, 8) as NonFiniteError;
    expect(e).toBeInstanceOf(NonFiniteError);
    expect([e.tensor, e.step, e.kind, e.unit]).toEqual(['engine.v[2]', 4, 'NaN', 'step']);
    await expect(step.checkpoint(1)).rejects.toThrow(/non-finite value \(NaN\) in engine\.v\[2\] at step 4/);
    v.fill(0);
    g.fill(0);
    const cp = new FiniteChecker('checkpoint').watchArrays('engine', () => ({ v, g }));
    expect(run(cp, 8)).toBeNull(); // nothing per step
    v[2] = 0; // only the Inf in g is left
    await expect(cp.checkpoint(3)).rejects.toThrow(/non-finite value \(Inf\) in engine\.g\[1\] at checkpoint 3/);
    const off = new FiniteChecker('off').watchArrays('engine', () => ({ v, g }));
    expect(run(off, 8)).toBeNull();
    await expect(off.checkpoint(3)).resolves.toBeUndefined();
    expect(() => cp.watchArrays('engine', () => ({}))).toThrow(/invalid name: got "engine", expected a name not already watched/);
    expect(() => cp.watchArrays('x', 3 as never)).toThrow(CinderArgumentError);
  });

  it('validates its arguments', () => {
    expect(() => new FiniteChecker('always' as never)).toThrow(CinderArgumentError);
    expect(() => new FiniteChecker().watch('', net())).toThrow(/name/);
    expect(() => new FiniteChecker().watch('x', {} as never)).toThrow(/a Module/);
  });
});

describe('hooks never launder NaN/Inf', () => {
  it('Clamping keeps NaN and ±Inf entries as they are and clamps the rest', () => {
    const layer = net(3, 1);
    const hook = new Clamping(layer.connection.weightParameter, { min: 0, max: 1 });
    made.push(hook);
    layer.connection.weight = tf.tidy(() => tf.tensor2d([[NaN, Infinity, 2]]));
    hook.run();
    const w = Array.from(layer.connection.weight.dataSync());
    expect(Number.isNaN(w[0])).toBe(true);
    expect(w[1]).toBe(Infinity);
    expect(w[2]).toBe(1);
  });

  it('Normalization turns a group with a non-finite norm into NaN (an Inf no longer zeroes its neighbours)', () => {
    const layer = net(3, 2);
    const hook = new Normalization(layer.connection.weightParameter, { dims: 1 });
    made.push(hook);
    layer.connection.weight = tf.tidy(() => tf.tensor2d([[3, Infinity, 4], [3, 0, 4]]));
    hook.run();
    const w = Array.from(layer.connection.weight.dataSync());
    expect(w.slice(0, 3).every((x) => Number.isNaN(x))).toBe(true);
    expect(w[3]).toBeCloseTo(0.6, 6);
    expect(w[5]).toBeCloseTo(0.8, 6);
  });
});

describe('rewards and e-prop batches', () => {
  it('MSTDP refuses a NaN reward before any update', () => {
    const layer = net();
    const rule = new MSTDP({ lrPost: 1, lrPre: -1, tauPost: 20, tauPre: 20 });
    made.push(rule);
    rule.register(layer.cell('connection', 'neuron'));
    tf.tidy(() => void layer.forward(tf.ones([1, 4])));
    expect(() => rule.step(NaN)).toThrow(/reward.*NaN/);
  });

  it("a NaN in a per-sample reward tensor is reported under 'step' as the weight it corrupted, at that step", async () => {
    const layer = new Serial(new LinearDense([4], [3], 1, { synapse: DeltaCurrent.factory(), weightInit: constantInit(0.5), batchSize: 2 }), new LIF([3], 1, { ...P, batchSize: 2 }));
    made.push(layer);
    const rule = new MSTDP({ lrPost: 1, lrPre: -1, tauPost: 20, tauPre: 20 });
    made.push(rule);
    rule.register(layer.cell('connection', 'neuron'));
    const checker = new FiniteChecker('step').watch('layer', layer);
    for (let t = 0; t < 8; t++) {
      tf.tidy(() => {
        layer.forward(tf.ones([2, 4]));
        rule.step(t === 6 ? tf.tensor1d([1, NaN]) : tf.tensor1d([1, 1]));
        layer.connection.update();
      });
      checker.step(t);
    }
    const err = await checker.flush().then(() => null, (e: unknown) => e as NonFiniteError);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err!.step).toBe(6);
    expect(err!.tensor).toBe('layer.connection.weight');
    expect(holdsNonFinite(layer.connection.weight)).toBe(true);
  });

  function eprop(): { trainer: EProp; rec: EPropRecurrent; ro: EPropReadout } {
    const rng = new Rng(3);
    const rec = new EPropRecurrent({ nIn: 3, nLif: 3, nAlif: 2, rng });
    const ro = new EPropReadout({ nRec: 5, nOut: 2, rng });
    const opt = new Adam({ learningRate: 0.01 });
    made.push(rec, ro, opt);
    return { trainer: new EProp({ recurrent: rec, readout: ro, optimizer: opt, kernel: 'js' }), rec, ro };
  }

  it('a NaN in an e-prop batch is reported with its index, and the weights are left unchanged', () => {
    const { trainer, rec } = eprop();
    const x = new Float32Array(2 * 10 * 3);
    x[1 * 30 + 4 * 3 + 2] = NaN;
    const inputs = tf.tensor3d(x, [2, 10, 3]);
    const w0 = Array.from(rec.wIn.value.dataSync());
    expect(() => trainer.step({ inputs, labels: [0, 1] })).toThrow(/batch\.inputs\[1\]\[4\]\[2\].*NaN.*spike/);
    expect(Array.from(rec.wIn.value.dataSync())).toEqual(w0);
    inputs.dispose();
  });

  it('NaN weights left by an earlier batch are reported (not a believable ln 2 loss)', () => {
    const { trainer, rec } = eprop();
    const w = Array.from(rec.wRec.value.dataSync());
    w[7] = NaN;
    rec.wRec.assign(tf.tidy(() => tf.tensor2d(w, rec.wRec.shape as [number, number])));
    const inputs = tf.tidy(() => tf.zeros([2, 10, 3]));
    expect(() => trainer.step({ inputs, labels: [0, 1] })).toThrow(NonFiniteError);
    expect(() => trainer.step({ inputs, labels: [0, 1] })).toThrow(/recurrent\.wRec at step 0/);
    inputs.dispose();
  });
});
