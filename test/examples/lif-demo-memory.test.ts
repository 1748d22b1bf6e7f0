// `cinder lif-demo`: the recordings are streamed to append-only .npy files of the checkpoint folder
// (Recorders of at most 256 records, read out when full and at every checkpoint), and
// recordings.npz and the figures are built from those files read in pieces. The artifacts and the
// figure data equal, byte for byte, those built from the whole recording of the same chain run
// here step by step (what the old code held in Recorders of --steps records); the tensors the run
// holds do not grow with --steps (the old Recorders reserved 3·steps tensors).
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { backendInfo } from '../../src/core/backend.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { startRun } from '../../src/cli/runner.js';
import { Terminal } from '../../src/cli/progress.js';
import { RunFolder } from '../../src/cli/run-folder.js';
import { NpyAppendWriter } from '../../src/io/npy-append.js';
import { readNpz, writeNpz } from '../../src/io/npy.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { LinearDense, uniformInit } from '../../src/neural/connections/index.js';
import { DeltaCurrent } from '../../src/neural/synapses/index.js';
import { Serial } from '../../src/neural/layers/index.js';
import { HomogeneousPoissonEncoder } from '../../src/neural/encoders/index.js';
import { rasterFromRecordings, tracesFromRecordings } from '../../src/viz/index.js';
import type { Figure } from '../../src/viz/figure.js';
import { LIF_DEMO_FIGURE_CAPS, LIF_DEMO_SERIES_READ, lifDemoExample } from '../../examples/lif-demo/index.js';
import { expectEnvelope } from '../helpers/envelope.js';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-lif-memory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SEED = 6;
const BASE = { nIn: 20, nOut: 5, chunk: 100, drive: 25 };

/** Runs lif-demo in-process; records tf.memory().numTensors at every checkpoint and the figures written. */
async function runLif(name: string, extra: Record<string, number>) {
  const out = join(tmp, name);
  const params: Record<string, number | string | boolean> = {};
  for (const o of lifDemoExample.options) params[o.name] = o.default as number;
  Object.assign(params, BASE, extra);
  const tensors: number[] = [];
  const figures = new Map<string, Figure>();
  const checkpoint = RunFolder.prototype.checkpoint;
  const cpSpy = vi.spyOn(RunFolder.prototype, 'checkpoint').mockImplementation(function (this: RunFolder, summary: Record<string, unknown>) {
    tensors.push(tf.memory().numTensors);
    return checkpoint.call(this, summary);
  });
  const figure = RunFolder.prototype.figure;
  const figSpy = vi.spyOn(RunFolder.prototype, 'figure').mockImplementation(function (this: RunFolder, n: string, f: Figure) {
    figures.set(n, f);
    return figure.call(this, n, f);
  });
  try {
    const run = startRun({
      spec: lifDemoExample, params, mode: 'fast', seed: SEED, seeds: 1, outDir: out, backend: backendInfo()!, backendRequest: 'auto',
      quiet: true, signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }), resume: false,
    });
    const r = await run.done;
    return { out, status: r.status, tensors, figures, summary: JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8')) as Record<string, unknown> };
  } finally {
    cpSpy.mockRestore();
    figSpy.mockRestore();
  }
}

/** The example's chain (same draws, in the same order) run step by step, every record downloaded and kept. */
async function reference(steps: number, chunk: number) {
  const { nIn, nOut, drive } = BASE;
  const dt = 1, maxRate = 40;
  const rng = new Rng(SEED);
  const intensity = rng.uniformArray(nIn);
  const rate = (maxRate * intensity.reduce((a, b) => a + b, 0)) / nIn;
  const wBar = (drive * 1000) / (nIn * rate);
  const lif = new LIF([nOut], dt, { restV: -65, resetV: -65, threshV: -50, refracT: 2, tauM: 20 });
  const layer = new Serial(new LinearDense([nIn], [nOut], dt, { synapse: DeltaCurrent.factory(), weightInit: uniformInit(rng.fork(), 0, 2 * wBar) }), lif);
  layer.eval();
  const encoder = new HomogeneousPoissonEncoder({ steps, dt, frequency: maxRate, rng: rng.fork() });
  const x = tf.tensor(intensity, [1, nIn]);
  const stream = await encoder.streamAsync(x, { chunk });
  x.dispose();
  const input = new Float32Array(steps * nIn), spikes = new Float32Array(steps * nOut), volts = new Float32Array(steps * nOut);
  for (let k = 0; k < steps; k++) {
    const s = stream.next();
    tf.tidy(() => { layer.forward(s); });
    input.set((await s.data()) as Float32Array, k * nIn);
    spikes.set(Float32Array.from(await lif.spike.data()), k * nOut);
    volts.set((await lif.voltage.data()) as Float32Array, k * nOut);
  }
  stream.dispose();
  layer.dispose();
  return { input, spikes, volts };
}

describe('cinder lif-demo: recordings streamed to files', () => {
  it('long runs: above maxSpikes the raster is spike-count heatmaps whose cells sum to recordings.npz\'s spikes; above maxPoints each voltage is the min/max envelope of voltage_mv at time_ms', async () => {
    const steps = 777;
    const caps = { maxSpikes: 100, maxPoints: 50 };
    const saved = { ...LIF_DEMO_FIGURE_CAPS };
    let run: Awaited<ReturnType<typeof runLif>>;
    try {
      Object.assign(LIF_DEMO_FIGURE_CAPS, caps);
      run = await runLif('long-figures', { steps });
    } finally {
      Object.assign(LIF_DEMO_FIGURE_CAPS, saved);
    }
    expect(run.status).toBe('completed');
    const a = readNpz(join(run.out, 'artifacts', 'recordings.npz'));
    const { nOut } = BASE;
    const sum = (d: ArrayLike<number>) => Array.from(d).reduce((x, v) => x + v, 0);
    const inSpikes = sum(a.input_spikes!);
    const outSpikes = sum(a.output_spikes!);
    expect(inSpikes + outSpikes).toBeGreaterThan(caps.maxSpikes);
    const raster = run.figures.get('raster')!;
    expect(raster.title).toContain(`${inSpikes + outSpikes} spikes, more than maxSpikes = ${caps.maxSpikes}`);
    const cells = raster.data as { type: string; z: number[][] }[];
    expect(cells.map((t) => t.type)).toEqual(['heatmap', 'heatmap']);
    expect(cells.map((t) => t.z.flat().reduce((x, v) => x + v, 0))).toEqual([inSpikes, outSpikes]);
    // the voltages: ≤ 50 points each, every bucket's extremes kept, each point voltage_mv at its time_ms
    const voltage = run.figures.get('voltage')!;
    expect(voltage.title).toBe(`lif-demo: membrane voltage (6 of 6 lines decimated to ≤ ${caps.maxPoints} points: min/max per bucket)`);
    const time = Array.from(a.time_ms!);
    const v = a.voltage_mv!;
    for (let j = 0; j < 3; j++) {
      const t = (voltage.data as { name: string; x: ArrayLike<number>; y: ArrayLike<number> }[]).find((tr) => tr.name.startsWith(`V of neuron ${j} `))!;
      expectEnvelope(t, `V of neuron ${j}`, time, Array.from({ length: steps }, (_, k) => v[k * nOut + j]!), caps.maxPoints);
    }
  }, 120_000);

  it('recordings.npz (read from the files in pieces), the figures and the summary equal those of the whole recording; tensors held do not grow with --steps', async () => {
    const steps = 777;
    const reads: { file: string; bytes: number }[] = [];
    const readRows = NpyAppendWriter.prototype.readRows;
    const spy = vi.spyOn(NpyAppendWriter.prototype, 'readRows').mockImplementation(function (this: NpyAppendWriter, first: number, count: number) {
      const r = readRows.call(this, first, count);
      reads.push({ file: this.path, bytes: r.byteLength });
      return r;
    });
    const saved = LIF_DEMO_SERIES_READ.pieceBytes;
    let run: Awaited<ReturnType<typeof runLif>>;
    try {
      LIF_DEMO_SERIES_READ.pieceBytes = 3 * 20 + 1; // 3 input rows, 15 output rows, 3 voltage rows, 15 times per read
      run = await runLif('short', { steps });
    } finally {
      LIF_DEMO_SERIES_READ.pieceBytes = saved;
      spy.mockRestore();
    }
    expect(run.status).toBe('completed');
    expect(reads.length).toBeGreaterThan(0);
    expect(Math.max(...reads.map((r) => r.bytes))).toBeLessThanOrEqual(61);
    const ref = await reference(steps, 100);
    const { nIn, nOut } = BASE;
    const outSpikes = ref.spikes.reduce((a, b) => a + b, 0);
    expect(outSpikes).toBeGreaterThan(50); // the output neurons fire
    // the artifact: the whole recording written eagerly, as the old code did
    const want = join(tmp, 'reference-recordings.npz');
    await writeNpz(want, {
      input_spikes: { data: Uint8Array.from(ref.input), shape: [steps, nIn] },
      output_spikes: { data: Uint8Array.from(ref.spikes), shape: [steps, nOut] },
      voltage_mv: { data: ref.volts, shape: [steps, nOut] },
      time_ms: { data: Float32Array.from({ length: steps }, (_, k) => (k + 1) * 1), shape: [steps] },
    });
    expect(readFileSync(join(run.out, 'artifacts', 'recordings.npz')).equals(readFileSync(want))).toBe(true);
    // the figures: those of the whole recording (records at steps 1 … T)
    const rec = { steps: Array.from({ length: steps }, (_, k) => k + 1) };
    const raster = rasterFromRecordings(`lif-demo: spikes (${steps} steps, seed ${SEED})`, [
      { name: `inputs (${nIn})`, spikes: { data: ref.input, shape: [steps, 1, nIn], ...rec } },
      { name: `LIF (${nOut})`, spikes: { data: ref.spikes, shape: [steps, 1, nOut], ...rec } },
    ], { dt: 1 });
    expect(JSON.stringify(run.figures.get('raster'))).toBe(JSON.stringify(raster));
    const voltage = tracesFromRecordings('lif-demo: membrane voltage', [0, 1, 2].map((j) => ({
      recording: { data: ref.volts, shape: [steps, 1, nOut], ...rec }, neurons: [j], title: `LIF neuron ${j}`, yTitle: 'V (mV)', prefix: 'V of neuron',
      reference: { name: 'threshold', value: -50 },
    })), { dt: 1 });
    expect(JSON.stringify(run.figures.get('voltage'))).toBe(JSON.stringify(voltage));
    // the summary's statistics: float64 sums over the whole recording, in record order
    let vSum = 0;
    for (const v of ref.volts) vSum += v;
    expect(run.summary.mean_voltage_mv).toBe(vSum / ref.volts.length);
    const active = Array.from({ length: nOut }, (_, j) => ref.spikes.filter((s, q) => q % nOut === j && s > 0).length > 0).filter(Boolean).length;
    expect(run.summary.active_fraction).toBe(active / nOut);
    expect(run.summary.output_spikes).toBe(outSpikes);
    // tensors at the checkpoints: the same at 777 and at 3·777 steps (the old code held 3 per step: 4662 more)
    const long = await runLif('long', { steps: 3 * steps });
    expect(long.status).toBe('completed');
    expect(long.tensors.length).toBe(Math.ceil((3 * steps) / 100));
    expect(Math.max(...long.tensors)).toBe(Math.max(...run.tensors));
  }, 120_000);
});
