/**
 * `cinder florian`: Inferno's reproduction of Florian (2007), one synapse trained by STDP, MSTDP and
 * MSTDPET on fixed spike trains (presynaptic spikes at 10, 85, 115, 135 ms, postsynaptic at 15, 75,
 * 110, 140 ms, reward +1 up to 100 ms and −1 after; 200 steps of 1 ms). Each trainer has its own copy
 * of `Serial(LinearDirect([1]), ExactNeuron([1]))` with a delta synapse and initial weight 0.2; the
 * neuron's spikes are forced to the postsynaptic train.
 *
 * Per step: layer forward (traces fold), trainer step (MSTDPET folds its eligibility from the same
 * step's traces), `connection.update()`, record the weight.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExampleSpec, RunContext } from '../../src/cli/example.js';
import { Network } from '../../src/network/index.js';
import '../../src/network/files.js';
import { tf } from '../../src/core/tf.js';
import { LinearDirect } from '../../src/neural/connections/index.js';
import { DeltaCurrent } from '../../src/neural/synapses/index.js';
import { Serial } from '../../src/neural/layers/index.js';
import type { NeuronInput } from '../../src/neural/types.js';
import { ExactNeuron, type ExactNeuronStepOptions } from '../../src/neural/index.js';
import { MSTDP, MSTDPET, STDP } from '../../src/learn/trainers/index.js';
import { panelFigure, type Figure, type Trace } from '../../src/viz/index.js';
import { DEFAULT_MAX_POINTS, decimateLine, decimatedName, decimatedTitle } from '../../src/viz/decimate.js';
import { openCheckpointSeries, type NpyAppendWriter } from '../../src/io/npy-append.js';
import { CinderArgumentError } from '../../src/core/errors.js';

/** Settings of {@link runFlorian} (defaults: Inferno's demo). */
export interface FlorianSettings {
  /** Number of 1 ms steps (default 200). */
  steps?: number;
  /** Presynaptic spike times (ms, 1-based steps). */
  preTimes?: readonly number[];
  /** Postsynaptic spike times (ms). */
  postTimes?: readonly number[];
  /** Reward switches from +1 to −1 after this time (ms; default 100). */
  rewardSwitch?: number;
  /** Learning rate applied on postsynaptic spikes (default 0.2). */
  lrPost?: number;
  /** Learning rate applied on presynaptic spikes (default −0.2). */
  lrPre?: number;
  /** Trace time constant, pre and post (ms; default 20). */
  tauTrace?: number;
  /** Eligibility time constant (ms; default 25). */
  tauEligibility?: number;
  /** Initial weight (default 0.2). */
  weightInit?: number;
}

/** The recorded series: index 0 = before the first step, index t = after step t. */
export interface FlorianResult {
  stdp: number[];
  mstdp: number[];
  mstdpet: number[];
  /** Presynaptic trace x_pre(t) (amplitude |lrPost|); index 0 = 0. */
  trace_pre: number[];
  /** Postsynaptic trace x_post(t) (amplitude |lrPre|). */
  trace_post: number[];
  /** Net eligibility z_post(t) − z_pre(t) of the MSTDPET synapse. */
  eligibility: number[];
  /** Reward M(t) (index 0: 0). */
  reward: number[];
  /** Presynaptic spikes per step (index 0: 0). */
  pre: number[];
  /** Postsynaptic spikes per step (index 0: 0). */
  post: number[];
}

/** ExactNeuron whose spikes for the next step are set beforehand (Inferno's `override`). */
class ForcedExactNeuron extends ExactNeuron {
  /** Spikes the next `forward` emits (not owned). */
  next: tf.Tensor | null = null;

  override forward(input: tf.Tensor | NeuronInput, options: ExactNeuronStepOptions = {}): tf.Tensor {
    return super.forward(input, this.next ? { ...options, override: this.next } : options);
  }
}

function buildLayer(weight: number): Serial<LinearDirect, ForcedExactNeuron> {
  const conn = new LinearDirect([1], 1, { synapse: DeltaCurrent.factory(), weightInit: (s) => tf.fill(s as number[], weight) });
  const neuron = new ForcedExactNeuron([1], 1, { restV: -60, threshV: -50 });
  return new Serial(conn, neuron);
}

/** The demo as a {@link Network}: three layers, one trainer each, and the recorded series so far. */
export interface FlorianModel {
  /** The network (layers `stdp`, `mstdp`, `mstdpet` and their trainers). */
  net: Network;
  /** Number of steps to run. */
  steps: number;
  /** Steps done. */
  t: number;
  /** Recorded series (index 0 = before the first step). */
  out: FlorianResult;
  /** One step (t = 1-based index); returns the step's record row (weights, traces, eligibility). */
  step(t: number): tf.Tensor;
  /** Frees everything. */
  dispose(): void;
}

/** Builds the demo's network and the record of step 0. */
export function buildFlorian(settings: FlorianSettings = {}): FlorianModel {
  const steps = settings.steps ?? 200;
  const preTimes = new Set(settings.preTimes ?? [10, 85, 115, 135]);
  const postTimes = new Set(settings.postTimes ?? [15, 75, 110, 140]);
  const rewardSwitch = settings.rewardSwitch ?? 100;
  const w0 = settings.weightInit ?? 0.2;
  const hyper = { lrPost: settings.lrPost ?? 0.2, lrPre: settings.lrPre ?? -0.2, tauPost: settings.tauTrace ?? 20, tauPre: settings.tauTrace ?? 20 };

  const spike = tf.keep(tf.ones([1, 1]));
  const silent = tf.keep(tf.zeros([1, 1]));
  let post: tf.Tensor = silent;
  // one input (the presynaptic spike) drives the three layers, whose spikes are forced to the postsynaptic train
  const net = new Network({
    forward: (x, n) => {
      for (const l of n.layers.values()) {
        const layer = l as unknown as Serial<LinearDirect, ForcedExactNeuron>;
        layer.neuron.next = post;
        layer.forward(x as tf.Tensor);
      }
      return tf.zeros([1]);
    },
  });
  const layers = { stdp: net.addLayer('stdp', buildLayer(w0)), mstdp: net.addLayer('mstdp', buildLayer(w0)), mstdpet: net.addLayer('mstdpet', buildLayer(w0)) };
  const cells = { stdp: layers.stdp.cell('connection', 'neuron'), mstdp: layers.mstdp.cell('connection', 'neuron'), mstdpet: layers.mstdpet.cell('connection', 'neuron') };
  const stdp = new STDP(hyper);
  const mstdp = new MSTDP(hyper);
  const mstdpet = new MSTDPET({ ...hyper, tauEligibility: settings.tauEligibility ?? 25 });
  stdp.register(cells.stdp);
  mstdp.register(cells.mstdp);
  mstdpet.register(cells.mstdpet);
  net.addTrainer('stdp_trainer', stdp);
  net.addTrainer('mstdp_trainer', mstdp, (tr, info) => tr.step(info.reward!));
  net.addTrainer('mstdpet_trainer', mstdpet, (tr, info) => tr.step(info.reward!));

  const weightOf = (l: Serial<LinearDirect, ForcedExactNeuron>) => l.connection.weight;
  const out: FlorianResult = { stdp: [], mstdp: [], mstdpet: [], trace_pre: [0], trace_post: [0], eligibility: [0], reward: [0], pre: [0], post: [0] };
  const w = Float32Array.of(w0, w0, w0); // the initial weights as stored (float32), without a read-back
  out.stdp.push(w[0]!);
  out.mstdp.push(w[1]!);
  out.mstdpet.push(w[2]!);
  return {
    net,
    steps,
    t: 0,
    out,
    step(t: number): tf.Tensor {
      const pre = preTimes.has(t) ? spike : silent;
      post = postTimes.has(t) ? spike : silent;
      const reward = t <= rewardSwitch ? 1 : -1;
      net.step(pre, { reward }).dispose();
      const et = mstdpet.traces(cells.mstdpet);
      this.out.reward.push(reward);
      this.out.pre.push(preTimes.has(t) ? 1 : 0);
      this.out.post.push(postTimes.has(t) ? 1 : 0);
      this.t = t;
      return tf.tidy(() =>
        tf.concat([
          weightOf(layers.stdp),
          weightOf(layers.mstdp),
          weightOf(layers.mstdpet),
          tf.reshape(et.pair.tracePre.latest, [1]),
          tf.reshape(et.pair.tracePost.latest, [1]),
          tf.reshape(tf.sub(et.post.latest, et.pre.latest), [1]),
        ]),
      );
    },
    dispose(): void {
      spike.dispose();
      silent.dispose();
      net.dispose();
    },
  };
}

/** Appends downloaded record rows (6 values each) to the series. */
function appendRows(out: FlorianResult, data: Float32Array | Int32Array | Uint8Array): void {
  for (let r = 0; r < data.length / 6; r++) {
    const row = data.subarray(r * 6, r * 6 + 6);
    out.stdp.push(row[0]!);
    out.mstdp.push(row[1]!);
    out.mstdpet.push(row[2]!);
    out.trace_pre.push(row[3]!);
    out.trace_post.push(row[4]!);
    out.eligibility.push(row[5]!);
  }
}

/** Runs `n` more steps of the model (records kept on the device, downloaded once). */
async function advance(m: FlorianModel, n: number): Promise<void> {
  const record: tf.Tensor[] = [];
  const end = Math.min(m.steps, m.t + n);
  for (let t = m.t + 1; t <= end; t++) record.push(m.step(t));
  if (record.length === 0) return;
  const all = tf.stack(record);
  appendRows(m.out, await all.data());
  all.dispose();
  tf.dispose(record);
}

/** Runs the three trainers on the demo's spike trains and returns every recorded series. */
export async function runFlorian(settings: FlorianSettings = {}): Promise<FlorianResult> {
  const m = buildFlorian(settings);
  const record: tf.Tensor[] = [];
  try {
    for (let t = 1; t <= m.steps; t++) record.push(m.step(t));
    if (record.length > 0) {
      const all = tf.stack(record);
      try {
        appendRows(m.out, await all.data());
      } finally {
        all.dispose();
      }
    }
    return m.out;
  } finally {
    tf.dispose(record);
    m.dispose();
  }
}

/**
 * Cap of the figure's lines (the viz default): a line of more than `maxPoints` values (`--steps` + 1
 * of them) is drawn as its min/max envelope ({@link decimateLine}: every extreme kept at its own
 * time), named so, and the title says how many of the 7 lines were. The spike panels draw the fixed
 * spike trains (4 spikes each), whatever `--steps`. A setting so that tests can use a small cap.
 */
export const FLORIAN_FIGURE_CAPS = { maxPoints: DEFAULT_MAX_POINTS };

/**
 * The 8-panel figure of Inferno's demo: spikes, traces, reward, eligibility and the three weights
 * (lines of long runs: see {@link FLORIAN_FIGURE_CAPS}).
 */
export function florianFigure(r: FlorianResult): Figure {
  const time = r.stdp.map((_, t) => t);
  const maxPoints = FLORIAN_FIGURE_CAPS.maxPoints;
  let lines = 0;
  let decimated = 0;
  const spikes = (s: number[], color: string): Trace => {
    const ts = time.filter((t) => s[t] === 1);
    return { type: 'scatter', mode: 'markers', x: ts, y: ts.map(() => 1), marker: { symbol: 'line-ns-open', size: 18, color }, showlegend: false };
  };
  const line = (y: number[], name: string, color: string, shape = 'linear'): Trace => {
    const d = decimateLine(time, y, maxPoints); // (below the cap: the arrays themselves)
    lines++;
    if (d.buckets > 0) decimated++;
    return { type: 'scatter', mode: 'lines', x: d.x, y: d.y, name: d.buckets > 0 ? decimatedName(name, d.buckets, y.length) : name, line: { color, shape } };
  };
  const panels = [
    { title: 'presynaptic spikes', traces: [spikes(r.pre, '#1f77b4')], yTitle: 'spike', yaxis: { showticklabels: false, range: [0, 2] } },
    { title: 'postsynaptic spikes', traces: [spikes(r.post, '#d62728')], yTitle: 'spike', yaxis: { showticklabels: false, range: [0, 2] } },
    { title: 'traces', traces: [line(r.trace_pre, 'x_pre', '#1f77b4'), line(r.trace_post, 'x_post', '#d62728')], yTitle: 'trace (1)' },
    { title: 'reward', traces: [line(r.reward, 'M', '#2ca02c', 'hv')], yTitle: 'M (1)' },
    { title: 'eligibility z_post − z_pre', traces: [line(r.eligibility, 'z', '#9467bd')], yTitle: 'z (1)' },
    { title: 'weight (STDP)', traces: [line(r.stdp, 'STDP', '#ff7f0e')], yTitle: 'w (1)' },
    { title: 'weight (MSTDP)', traces: [line(r.mstdp, 'MSTDP', '#8c564b')], yTitle: 'w (1)' },
    { title: 'weight (MSTDPET)', traces: [line(r.mstdpet, 'MSTDPET', '#e377c2')], yTitle: 'w (1)', xTitle: 'time (ms)' },
  ];
  return panelFigure(decimatedTitle('Florian (2007): STDP, MSTDP and MSTDPET on one synapse', decimated, lines, maxPoints), panels);
}

/** The `florian` example. */
export const florianExample: ExampleSpec = {
  name: 'florian',
  description: "Florian (2007) STDP / MSTDP / MSTDPET on one synapse, as in Inferno's demo",
  options: [
    { name: 'steps', type: 'int', description: 'number of 1 ms steps', default: 200, min: 1 },
    { name: 'lrPost', type: 'float', description: 'learning rate on postsynaptic spikes', default: 0.2 },
    { name: 'lrPre', type: 'float', description: 'learning rate on presynaptic spikes', default: -0.2 },
    { name: 'tauTrace', type: 'float', description: 'trace time constant (ms)', default: 20, min: 1e-9 },
    { name: 'tauEligibility', type: 'float', description: 'eligibility time constant (ms)', default: 25, min: 1e-9 },
    { name: 'weightInit', type: 'float', description: 'initial weight', default: 0.2 },
  ],
  presets: { tiny: {}, full: {} },
  defaultMode: 'full',
  summaryKeys: ['final_weight_stdp', 'final_weight_mstdp', 'final_weight_mstdpet', 'steps', 'seconds'],
  volatileKeys: ['seconds'],
  figures: ['florian'],
  async run(ctx: RunContext): Promise<Record<string, unknown>> {
    const p = ctx.params;
    const t0 = performance.now();
    const m = buildFlorian({
      steps: Number(p.steps ?? 200),
      lrPost: Number(p.lrPost ?? 0.2),
      lrPre: Number(p.lrPre ?? -0.2),
      tauTrace: Number(p.tauTrace ?? 20),
      tauEligibility: Number(p.tauEligibility ?? 25),
      weightInit: Number(p.weightInit ?? 0.2),
    });
    let file: NpyAppendWriter | null = null;
    try {
      let meta: FlorianProgress | null = null;
      if (ctx.resumed && existsSync(join(ctx.checkpointDir, 'model.json'))) meta = (await m.net.loadFrom(ctx.checkpointDir)) as unknown as FlorianProgress;
      file = openSeriesFile(ctx.checkpointDir, m, meta);
      if (meta) ctx.log(`resumed after step ${m.t}`);
      // chunks of 25 steps: a checkpoint (network + series length) after each, signals seen in between
      while (m.t < m.steps && !ctx.signal.aborted) {
        await advance(m, 25);
        appendSeries(file, m.out);
        await m.net.save(ctx.checkpointDir, { t: m.t, seriesSaved: file.rows });
        await ctx.checkpoint({ steps_done: m.t });
        await ctx.keepResponsive();
      }
      const r = m.out;
      const seconds = (performance.now() - t0) / 1000;
      const n = r.stdp.length - 1;
      ctx.log(`final weights after ${n} steps: STDP ${r.stdp[n]!.toFixed(7)}, MSTDP ${r.mstdp[n]!.toFixed(7)}, MSTDPET ${r.mstdpet[n]!.toFixed(7)}`);
      const { pre: _pre, post: _post, ...series } = r;
      await ctx.artifactJson('trajectories.json', series);
      await m.net.save(ctx.artifactPath('network')); // the trained network (Network.load with buildFlorian)
      await ctx.figure('florian', florianFigure(r));
      const summary = { final_weight_stdp: r.stdp[n], final_weight_mstdp: r.mstdp[n], final_weight_mstdpet: r.mstdpet[n], steps: n, seconds };
      await ctx.checkpoint(summary);
      return summary;
    } finally {
      file?.close();
      m.dispose();
    }
  },
};

/**
 * What a checkpoint's `model.json` holds besides the network: the steps done and the rows of
 * `checkpoint/series.npy` that belong to it (`t + 1`: index 0 is the state before the first step).
 * Checkpoints written before the series file held the whole series here instead (`series`).
 */
interface FlorianProgress {
  t: number;
  seriesSaved?: number;
  series?: FlorianResult;
}

/** The columns of `checkpoint/series.npy`, in order. */
const SERIES_COLUMNS = ['stdp', 'mstdp', 'mstdpet', 'trace_pre', 'trace_post', 'eligibility', 'reward', 'pre', 'post'] as const;

/**
 * Opens the append-only `checkpoint/series.npy` (float32, rows of the 9 {@link SERIES_COLUMNS}, one
 * row per recorded index 0 … t) and, when resuming, puts the saved series back into `m.out`. Every
 * value is float32-exact (weights, traces and eligibility come from float32 tensors, the reward is
 * ±1, the spikes 0/1), so the rows hold the series bit for bit. Each checkpoint appends the rows
 * added since the last one and records the file's length (`seriesSaved`): the whole series, rewritten
 * into model.json every 25 steps, made a run of T steps cost O(T²) (20 000 steps: 43 s of
 * checkpoints for 50 s of wall time, model.json 3.2 MB). A resume cuts off rows a killed run
 * appended after its last checkpoint; a checkpoint of the older format (the series in model.json)
 * is resumed by writing its series to a new file.
 */
function openSeriesFile(dir: string, m: FlorianModel, meta: FlorianProgress | null): NpyAppendWriter {
  const spec = { file: 'series.npy', dtype: 'float32' as const, rowShape: [SERIES_COLUMNS.length] };
  if (meta === null) return openCheckpointSeries(dir, [spec], null)[0]!;
  m.t = meta.t;
  if (meta.series) {
    // older checkpoint: the series came with it
    m.out = meta.series;
    const w = openCheckpointSeries(dir, [spec], null)[0]!;
    appendSeries(w, m.out);
    return w;
  }
  const rows = meta.seriesSaved;
  if (rows !== meta.t + 1) throw new CinderArgumentError('checkpoint seriesSaved', rows, `${meta.t + 1} rows (steps 0 … ${meta.t})`);
  const w = openCheckpointSeries(dir, [spec], { 'series.npy': rows })[0]!;
  const data = w.readRows(0, rows);
  const out = Object.fromEntries(SERIES_COLUMNS.map((k) => [k, [] as number[]])) as unknown as FlorianResult;
  const cols = SERIES_COLUMNS.map((k) => out[k]);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols.length; c++) cols[c]!.push(data[r * cols.length + c]!);
  m.out = out;
  return w;
}

/** Appends the rows of `out` not yet in the file (then flushes it). */
function appendSeries(w: NpyAppendWriter, out: FlorianResult): void {
  const from = w.rows;
  const n = out.stdp.length - from;
  if (n <= 0) return;
  const rows = new Float32Array(n * SERIES_COLUMNS.length);
  SERIES_COLUMNS.forEach((k, c) => {
    const col = out[k];
    for (let r = 0; r < n; r++) rows[r * SERIES_COLUMNS.length + c] = col[from + r]!;
  });
  w.append(rows);
  w.flush();
}
