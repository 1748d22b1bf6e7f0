// webgpu: a Network with delayed connections (synapse history rings), STDP traces, Adam and a
// recorder, saved to a folder after N steps and loaded into a fresh build, continues exactly as the
// uninterrupted run on the same backend — with asynchronous reads only (webgpu in Node has no
// synchronous reads: a `dataSync` anywhere in save, load or step would throw here).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { Network, disposeNetworkState } from '../../src/network/index.js';
import { LinearDense } from '../../src/neural/connections/linear-dense.js';
import { uniformInit } from '../../src/neural/connections/initializers.js';
import { Serial } from '../../src/neural/layers/serial.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { SingleExponentialCurrent } from '../../src/neural/synapses/index.js';
import { STDP } from '../../src/learn/trainers/index.js';
import { Adam } from '../../src/learn/optimizers/adam.js';
import { Recorder } from '../../src/observe/monitors/recorder.js';
import { webgpuForTests, type WebgpuStatus } from './gpu.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-wgpu-net-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let gpu: WebgpuStatus = { ok: false, detail: 'not probed' };
beforeAll(async () => {
  gpu = await webgpuForTests();
});

const B = 2;
const N_IN = 10;
const N_OUT = 4;

function build(seed: number) {
  const init = new Rng(seed);
  // delays of 0..3 steps per edge: the synapse keeps a ring of 4 slots whose write position must survive the save
  const layer = new Serial(
    new LinearDense([N_IN], [N_OUT], 1, {
      synapse: SingleExponentialCurrent.factory({ charge: 40, tau: 5 }),
      batchSize: B,
      maxDelay: 3,
      weightInit: uniformInit(init, 0, 1),
      delayInit: uniformInit(init, 0, 3),
    }),
    new LIF([N_OUT], 1, { restV: -65, resetV: -65, threshV: -58, refracT: 2, tauM: 10, batchSize: B }),
  );
  const net = new Network();
  net.addLayer('layer', layer);
  const stdp = new STDP({ lrPost: 0.01, lrPre: -0.012, tauPre: 20, tauPost: 20 });
  stdp.register(layer.cell('connection', 'neuron'));
  net.addTrainer('stdp', stdp);
  const adam = net.addOptimizer('adam', new Adam({ learningRate: 1e-3 }));
  const rng = net.addRng('input', new Rng('input'));
  const rec = net.addMonitor('voltage', new Recorder(() => layer.neuron.voltage, { capacity: 16 }));
  layer.attach(rec);
  return { net, layer, adam, rng, rec };
}

type Built = ReturnType<typeof build>;

/** One step: rng-drawn input, a network step, an Adam step on the weights; the outputs as one async read. */
async function protocolStep(b: Built, t: number): Promise<Float32Array> {
  const x = tf.tensor2d(Array.from({ length: B * N_IN }, () => (b.rng.uniform() < 0.4 ? 1 : 0)), [B, N_IN]);
  const y = b.net.step(x);
  const w = b.layer.connection.weightParameter.variable;
  const g = tf.tidy(() => tf.sub(tf.mul(w, 0.1), tf.scalar(0.05 * Math.sin(t))));
  b.adam.apply([{ variable: w, gradient: g }]);
  const out = tf.tidy(() => tf.concat([tf.reshape(y, [-1]), tf.reshape(b.layer.neuron.voltage, [-1]), tf.reshape(w, [-1])]));
  const data = Float32Array.from((await out.data()) as Float32Array);
  tf.dispose([x, y, g, out]);
  return data;
}

describe('webgpu: Network save and load', () => {
  it('a delayed network saved after N steps and loaded into a fresh build continues as the uninterrupted run (rings, traces, Adam, recorder)', async (ctx) => {
    if (!gpu.ok) return ctx.skip();
    const N = 13; // not a multiple of the ring length 4: the write position is mid-ring at the save
    const M = 20;
    const ref = build(1);
    const refOut: Float32Array[] = [];
    for (let t = 0; t < N + M; t++) refOut.push(await protocolStep(ref, t));

    const a = build(1);
    for (let t = 0; t < N; t++) await protocolStep(a, t);
    const dir = join(root, 'save');
    await a.net.save(dir, { step: N });
    a.net.dispose();

    let loaded: Built | undefined;
    const { metadata } = await Network.load(dir, () => (loaded = build(2)).net);
    expect(metadata).toEqual({ step: N });
    let spikes = 0;
    for (let t = N; t < N + M; t++) {
      const o = await protocolStep(loaded!, t);
      expect(Array.from(o), `step ${t}`).toEqual(Array.from(refOut[t]!));
      spikes += o.subarray(0, B * N_OUT).reduce((s, v) => s + v, 0);
    }
    expect(spikes).toBeGreaterThan(0);
    const [x, y] = [await loaded!.rec.toArrayAsync(), await ref.rec.toArrayAsync()];
    expect(Array.from(x.data)).toEqual(Array.from(y.data));
    for (const b of [ref, loaded!]) {
      b.rec.dispose();
      b.net.dispose();
    }
  });

  it('exportState / importState in memory: the copy continues as the original', async (ctx) => {
    if (!gpu.ok) return ctx.skip();
    const a = build(1);
    for (let t = 0; t < 9; t++) await protocolStep(a, t);
    const state = a.net.exportState();
    const b = build(2);
    b.net.importState(state);
    disposeNetworkState(state);
    for (let t = 9; t < 20; t++) {
      const [p, q] = [await protocolStep(a, t), await protocolStep(b, t)];
      expect(Array.from(q), `step ${t}`).toEqual(Array.from(p));
    }
    for (const c of [a, b]) {
      c.rec.dispose();
      c.net.dispose();
    }
  });
});
