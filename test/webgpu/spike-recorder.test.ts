// webgpu: SpikeRecorder reads only asynchronously (webgpu in Node has no synchronous reads: a
// `dataSync` in observe, flush, snapshot or restore would throw here). A LIF layer's events over 300
// steps (chunk 64) equal a per-step reference read with `await data()`; a snapshot taken through
// Network.exportState with records pending restores into a rebuilt network that records on exactly
// as the original; streamed to a SpikeFileSink they are the same events. The chunks are packed into
// 24-bit float32 words on the device: exact on webgpu too (events equal a host loop over random
// sparse and dense patterns, float32 with NaN/Infinity/-0, int32, bool, a neuron subset, a snapshot
// unpacked on the device), reading 4 · steps · B · ceil(N / 24) bytes.
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
import { SpikeRecorder, type RecordedSpikes } from '../../src/observe/index.js';
import { SpikeFileSink, readSpikeFile } from '../../src/observe/monitors/spike-file.node.js';
import { webgpuForTests, type WebgpuStatus } from './gpu.js';
import { disposeSnapshot } from '../../src/core/snapshot.js';
import { list as listOf, pattern, readSpy, referenceEvents, tensorAt } from '../observe/spike-patterns.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-wgpu-spikes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let gpu: WebgpuStatus = { ok: false, detail: 'not probed' };
beforeAll(async () => {
  gpu = await webgpuForTests();
});

const B = 2;
const N_IN = 12;
const N = 6;

function build(file?: string) {
  const init = new Rng(3);
  const layer = new Serial(
    new LinearDense([N_IN], [N], 1, { synapse: SingleExponentialCurrent.factory({ charge: 30, tau: 5 }), batchSize: B, weightInit: uniformInit(init, 0, 1) }),
    new LIF([N], 1, { restV: -65, resetV: -65, threshV: -56, refracT: 2, tauM: 10, batchSize: B }),
  );
  const net = new Network();
  net.addLayer('layer', layer);
  const rng = net.addRng('input', new Rng('input'));
  const sink = file ? SpikeFileSink.open(file, { mode: 'continue' }) : null;
  const rec = net.addMonitor('spikes', new SpikeRecorder(() => layer.neuron.spike, { chunkSteps: 64, onChunk: sink?.onChunk }));
  layer.attach(rec);
  return { net, layer, rng, rec, sink };
}
type Built = ReturnType<typeof build>;

/** One step; the step's spikes as (step, sample, neuron) events, read with `await data()`. */
async function step(b: Built, t: number, out: number[][]): Promise<void> {
  const x = tf.tensor2d(Array.from({ length: B * N_IN }, () => (b.rng.uniform() < 0.35 ? 1 : 0)), [B, N_IN]);
  const y = b.net.step(x);
  const d = await y.data();
  for (let s = 0; s < B; s++) for (let i = 0; i < N; i++) if (d[s * N + i] !== 0) out.push([t, s, i]);
  tf.dispose([x, y]);
}
const list = (e: RecordedSpikes) => Array.from(e.step, (s, k) => [s, e.sample[k]!, e.neuron[k]!]);

describe('webgpu: SpikeRecorder', () => {
  it('records exactly the per-step events; a mid-run exportState (records pending) continues identically in a rebuilt network; a file sink holds the same events', async (ctx) => {
    if (!gpu.ok) return ctx.skip();
    const ref: number[][] = [];
    const a = build();
    for (let t = 1; t <= 300; t++) await step(a, t, ref);
    await a.rec.flush();
    expect(ref.length).toBeGreaterThan(50);
    expect(list(a.rec.events())).toEqual(ref);

    // 130 steps (2 chunks read or in flight, 2 records unstacked), export, rebuild, import, continue
    const file = join(root, 'spikes.npy');
    const b = build(file);
    const seen: number[][] = [];
    for (let t = 1; t <= 130; t++) await step(b, t, seen);
    const state = b.net.exportState();
    await b.rec.flush();
    b.sink!.close();
    b.net.dispose();
    const c = build(file);
    c.net.importState(state);
    disposeNetworkState(state);
    for (let t = 131; t <= 300; t++) await step(c, t, seen);
    await c.rec.flush();
    c.sink!.close();
    expect(seen).toEqual(ref);
    expect(list(readSpikeFile(file))).toEqual(ref);
    expect(Array.from(c.rec.count())).toEqual(Array.from(a.rec.count()));
    a.net.dispose();
    c.net.dispose();
  });

  it('packed chunks are exact: events equal a host loop over random patterns; the read is one float32 word per 24 neurons', async (ctx) => {
    if (!gpu.ok) return ctx.skip();
    const cases = [
      { shape: [2, 3, 50], dtype: 'float32', p: 0.05, T: 70, chunkSteps: 16 },
      { shape: [3, 97], dtype: 'float32', p: 0.6, T: 40, chunkSteps: 9, neurons: [96, 0, 23, 24, 47, 48, 72] },
      { shape: [2, 4, 6], dtype: 'int32', p: 0.5, T: 30, chunkSteps: 7 },
      { shape: [4, 24], dtype: 'bool', p: 0.9, T: 25, chunkSteps: 5 },
      { shape: [1, 2000], dtype: 'float32', p: 0.01, T: 20, chunkSteps: 8 },
    ] as const;
    for (const [k, c] of cases.entries()) {
      const pat = pattern(50 + k, [...c.shape], c.dtype, c.T, c.p);
      const neurons = 'neurons' in c ? [...c.neurons] : undefined;
      const ref = referenceEvents(pat, neurons);
      const B = c.shape[0];
      const N = pat.values[0]!.length / B;
      const clock = { t: 0 };
      const make = () => new SpikeRecorder(() => tensorAt(pat, clock.t), { chunkSteps: c.chunkSteps, neurons });
      const rec = make();
      const spy = readSpy();
      try {
        for (clock.t = 1; clock.t <= c.T; clock.t++) tf.tidy(() => rec.observe());
        await rec.flush();
      } finally {
        spy.stop();
      }
      expect(listOf(rec.events()), `case ${k}`).toEqual(ref);
      expect(spy.bytes(), `case ${k}`).toBe(4 * c.T * B * Math.ceil(N / 24));
      // a snapshot with packed chunks pending (unpacked on the device), restored and continued
      const a = make();
      const half = Math.floor(c.T / 2);
      for (clock.t = 1; clock.t <= half; clock.t++) tf.tidy(() => a.observe());
      const snap = a.snapshotState();
      const b = make();
      b.restoreState(snap);
      disposeSnapshot(snap);
      for (clock.t = half + 1; clock.t <= c.T; clock.t++) tf.tidy(() => b.observe());
      await b.flush();
      expect(listOf(b.events()), `case ${k} resumed`).toEqual(ref);
      for (const r of [rec, a, b]) r.dispose();
    }
  });
});
