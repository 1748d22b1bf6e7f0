// Cinder's connections against Inferno on the same inputs (fixture inferno-connections.json, made by
// inferno-connections.py): dense / one-to-one / lateral forwards with per-edge delays over 8 steps at
// batch 2, delayed synspike, Conv2D forwards (padding, stride, dilation), and Hebbian STDP on Conv2D
// against a float64 reference built on Inferno's own unfold (Inferno's Conv2D.presyn_receptive fails
// on an einops pattern, so its trainer cannot run on a convolution: the reference applies the
// documented contraction Σ_L unfold(x_pre)·post, batch mean, to Inferno's like_synaptic).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Conv2D, LinearDense, LinearDirect, LinearLateral } from '../../../src/neural/connections/index.js';
import { DeltaCurrent } from '../../../src/neural/synapses/delta.js';
import { STDP } from '../../../src/learn/trainers/index.js';
import { ForcedNeurons, TestLayer } from '../../learn/trainers/harness.js';
import { expectAllClose, vals } from './helpers.js';

interface ConvCase {
  name: string; H: number; W: number; C: number; F: number; kernel: [number, number]; stride: number; padding: number; dilation: [number, number];
  OH: number; OW: number; weight: number[]; bias: number[]; lrPost: number; lrPre: number; tauPre: number; tauPost: number; y: number[][]; stdpWeight: number[][];
}
const fx = JSON.parse(readFileSync(new URL('../../fixtures/inferno-connections.json', import.meta.url), 'utf8')) as {
  dense: { dt: number; charge: number; maxDelay: number; weight: number[]; bias: number[]; delay: number[]; y: number[][]; synspike: number[][] };
  direct: { dt: number; charge: number; maxDelay: number; weight: number[]; bias: number[]; delay: number[]; y: number[][]; synspike: number[][] };
  lateral: { dt: number; charge: number; maxDelay: number; weightIn: number[]; weight: number[]; delay: number[]; y: number[][] };
  conv: ConvCase[];
};
const T = 8;
/** The fixture's spike rule: s[k] = ((7t + 3k + 5·salt) mod 11) < 4 over a flat batch-major shape. */
const spikes = (t: number, n: number, salt: number) => Array.from({ length: n }, (_, k) => (((7 * t + 3 * k + 5 * salt) % 11) < 4 ? 1 : 0));
const init = (v: number[]) => (s: readonly number[]) => tf.tensor(v, [...s]);

describe('connections against Inferno (same weights, delays and spikes, batch 2)', () => {
  it('LinearDense with per-edge delays (fractional, previous interp, dt 0.5): outputs and delayed synspike every step', () => {
    const f = fx.dense;
    const c = new LinearDense([3], [2], f.dt, { batchSize: 2, bias: true, maxDelay: f.maxDelay, delayTolerance: 0, synapse: DeltaCurrent.factory({ charge: f.charge }), weightInit: init(f.weight), biasInit: init(f.bias), delayInit: init(f.delay) });
    let before = 0;
    for (let t = 0; t < T; t++) {
      if (t === 1) before = tf.memory().numTensors; // after the first forward built the cached kernel
      tf.tidy(() => {
        expectAllClose(vals(c.forward(tf.tensor(spikes(t, 6, 0), [2, 3]))), f.y[t]!, 1e-6, 1e-6);
        expect(vals(c.synspike)).toEqual(f.synspike[t]);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    c.dispose();
  });

  it('LinearDirect with per-unit delays: outputs and delayed synspike every step', () => {
    const f = fx.direct;
    const c = new LinearDirect([4], f.dt, { batchSize: 2, bias: true, maxDelay: f.maxDelay, delayTolerance: 0, synapse: DeltaCurrent.factory({ charge: f.charge }), weightInit: init(f.weight), biasInit: init(f.bias), delayInit: init(f.delay) });
    for (let t = 0; t < T; t++) {
      tf.tidy(() => {
        expectAllClose(vals(c.forward(tf.tensor(spikes(t, 8, 1), [2, 4]))), f.y[t]!, 1e-6, 1e-6);
        expect(vals(c.synspike)).toEqual(f.synspike[t]);
      });
    }
    c.dispose();
  });

  it('LinearLateral with delays: the diagonal is masked as in Inferno and outputs agree every step', () => {
    const f = fx.lateral;
    const c = new LinearLateral([4], f.dt, { batchSize: 2, maxDelay: f.maxDelay, delayTolerance: 0, synapse: DeltaCurrent.factory({ charge: f.charge }), weightInit: init(f.weightIn), delayInit: init(f.delay) });
    expect(vals(c.weight)).toEqual(f.weight);
    for (let t = 0; t < T; t++) tf.tidy(() => expectAllClose(vals(c.forward(tf.tensor(spikes(t, 8, 2), [2, 4]))), f.y[t]!, 1e-6, 1e-6));
    c.dispose();
  });

  for (const k of fx.conv) {
    it(`Conv2D (${k.name}): forward equals Inferno's, and Hebbian STDP equals the float64 reference on Inferno's unfold`, () => {
      const conv = new Conv2D([k.H, k.W, k.C], k.F, k.kernel, 1, { stride: k.stride, padding: k.padding, dilation: k.dilation, batchSize: 2, bias: true, synapse: DeltaCurrent.factory({ charge: 0.75 }), weightInit: init(k.weight), biasInit: init(k.bias) });
      expect(conv.outShape).toEqual([k.OH, k.OW, k.F]);
      const layer = new TestLayer(conv, new ForcedNeurons([k.OH, k.OW, k.F], 2));
      const stdp = new STDP({ lrPost: k.lrPost, lrPre: k.lrPre, tauPre: k.tauPre, tauPost: k.tauPost });
      stdp.register(layer.cell);
      const nIn = 2 * k.H * k.W * k.C;
      const nOut = 2 * k.OH * k.OW * k.F;
      for (let t = 0; t < T; t++) {
        // the forward's output as Inferno computes it (weight of this step, before its update)
        const y = tf.tidy(() => vals(conv.forward(tf.tensor(spikes(t, nIn, 3), [2, k.H, k.W, k.C]))));
        expectAllClose(y, k.y[t]!, 1e-5, 1e-6);
        layer.neuron.set(spikes(t, nOut, 4));
        for (const o of layer.observers) o.observe();
        stdp.step();
        conv.update();
        expectAllClose(vals(conv.weight), k.stdpWeight[t]!, 1e-5, 1e-6);
      }
      stdp.dispose();
      layer.dispose();
    });
  }
});
