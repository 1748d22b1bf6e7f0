/**
 * `cinder lif-demo`: Poisson-encoded inputs → LinearDense (delta-current synapses) → LIF neurons.
 * Records input spikes, output spikes and membrane voltages; writes a raster and a voltage figure,
 * the recordings (`artifacts/recordings.npz`) and the layer's weights and state (tfjs + `.npz`).
 *
 * Each input i fires as a Poisson train at `maxRate · x_i` Hz with x_i uniform in [0, 1]. Weights
 * are uniform in [0, 2·w̄) with w̄ chosen so that the mean input current alone would hold the
 * membrane `drive` mV above rest (R = 1, charge 1: R·⟨I⟩ = w̄ · nIn · r̄ / 1000 with r̄ the mean
 * expected input rate in Hz). The run advances in chunks of `chunk` steps and checkpoints
 * run_summary.json after each chunk; on SIGINT/SIGTERM it stops within 256 steps (mid-chunk) and
 * checkpoints the steps done. It keeps no state between chunks: `--resume` reruns it from the start
 * (same seed, same result).
 *
 * The recordings are streamed ({@link LifDemoRecordings}): Recorders of at most 256 records are
 * read out whenever full and at every checkpoint, into append-only `.npy` files of the checkpoint
 * folder, and `recordings.npz` and the figures are built from those files, so the memory of the
 * run does not grow with `--steps` (Recorders of `--steps` records held 3·steps tensors: 896 MB of
 * RSS at 10⁵ steps).
 */
import type { ExampleSpec, RunContext } from '../../src/cli/example.js';
import { writeModuleArtifacts, writeNpzArtifact } from '../../src/cli/artifacts.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { LinearDense, uniformInit } from '../../src/neural/connections/index.js';
import { DeltaCurrent } from '../../src/neural/synapses/index.js';
import { Serial } from '../../src/neural/layers/index.js';
import { HomogeneousPoissonEncoder } from '../../src/neural/encoders/index.js';
import { Recorder } from '../../src/observe/index.js';
import { rasterFromRecordings, tracesFromRecordings } from '../../src/viz/index.js';
import { DEFAULT_MAX_POINTS } from '../../src/viz/decimate.js';
import { DEFAULT_MAX_SPIKES } from '../../src/viz/density.js';
import { openCheckpointSeries, type NpyAppendWriter } from '../../src/io/npy-append.js';
import type { NpyArray } from '../../src/io/npy.js';

/** Number of neurons whose voltage the `voltage` figure shows (at most). */
const VOLTAGE_PANELS = 3;

/** Most records a Recorder of the run holds before they go to the files. */
const RECORDER_SLOTS = 256;

/**
 * How `recordings.npz` reads the recordings back from their files: at most `pieceBytes` bytes
 * (whole rows; 64 MiB) per read, so writing it holds one piece in memory, never the whole
 * recording. A setting so that tests can use small pieces.
 */
export const LIF_DEMO_SERIES_READ = { pieceBytes: 64 * 2 ** 20 };

/**
 * Caps of the figures of long runs (the viz defaults): a raster of more than `maxSpikes` spikes
 * (inputs and outputs together) is drawn as spike counts per (time bin, neuron row), a voltage
 * trace of more than `maxPoints` steps as its min/max envelope; both say so in their titles. A
 * setting so that tests can use small caps.
 */
export const LIF_DEMO_FIGURE_CAPS = { maxSpikes: DEFAULT_MAX_SPIKES, maxPoints: DEFAULT_MAX_POINTS };

/**
 * The run's recordings in append-only `.npy` files of the checkpoint folder, one row per step:
 * `recording_input_spikes.npy` (uint8 [nIn], the input spikes as 0/1), `recording_output_spikes.npy`
 * (uint8 [nOut]), `recording_voltage_mv.npy` (float32 [nOut]) and `recording_time_ms.npy` (float32:
 * float32(s·dt) of step s = 1, 2, …). {@link LifDemoRecordings.drain} moves what the Recorders hold
 * into them (the Recorders are then cleared), and keeps the float64 statistics of the run's
 * summary: spikes per output neuron and the sum of the voltages, in record order (the sums of the
 * whole recording read at the end, term for term). The files are created anew by each run (the
 * example keeps no state between chunks: a resume reruns it).
 */
export class LifDemoRecordings {
  /** Spikes of each output neuron so far. */
  readonly perNeuron: Float64Array;
  /** Sum of every recorded voltage (mV), added record by record, neuron by neuron. */
  vSum = 0;

  private constructor(private readonly files: { input: NpyAppendWriter; output: NpyAppendWriter; voltage: NpyAppendWriter; time: NpyAppendWriter }, private readonly dt: number, nOut: number) {
    this.perNeuron = new Float64Array(nOut);
  }

  /** Creates the four files (empty) in `dir`. */
  static open(dir: string, nIn: number, nOut: number, dt: number): LifDemoRecordings {
    const [input, output, voltage, time] = openCheckpointSeries(dir, [
      { file: 'recording_input_spikes.npy', dtype: 'uint8', rowShape: [nIn] },
      { file: 'recording_output_spikes.npy', dtype: 'uint8', rowShape: [nOut] },
      { file: 'recording_voltage_mv.npy', dtype: 'float32', rowShape: [nOut] },
      { file: 'recording_time_ms.npy', dtype: 'float32', rowShape: [] },
    ], null);
    return new LifDemoRecordings({ input: input!, output: output!, voltage: voltage!, time: time! }, dt, nOut);
  }

  /** Steps in the files. */
  get rows(): number {
    return this.files.time.rows;
  }

  /**
   * Appends the records the three Recorders hold (the same steps in each: one `await data()` per
   * recorder) to the files and clears the Recorders. The input and output spikes are written as
   * `Uint8Array.from` of the recorded float32 values (0/1), the times as float32(s·dt) for the
   * steps s after those already in the files.
   */
  async drain(inRec: Recorder, outRec: Recorder, vRec: Recorder): Promise<void> {
    const n = inRec.size;
    if (n === 0) return;
    const [inp, out, volts] = [await inRec.toArrayAsync(), await outRec.toArrayAsync(), await vRec.toArrayAsync()];
    const nOut = this.perNeuron.length;
    for (let k = 0; k < n; k++) for (let j = 0; j < nOut; j++) this.perNeuron[j]! += out.data[k * nOut + j]!;
    for (const v of volts.data) this.vSum += v;
    const first = this.rows;
    this.files.input.append(Uint8Array.from(inp.data));
    this.files.output.append(Uint8Array.from(out.data));
    this.files.voltage.append(volts.data);
    this.files.time.append(Float32Array.from({ length: n }, (_, k) => (first + k + 1) * this.dt));
    inRec.clear();
    outRec.clear();
    vRec.clear();
  }

  /**
   * The rows of one file in pieces of at most {@link LIF_DEMO_SERIES_READ}`.pieceBytes` (whole rows),
   * each read when asked for; each call reads the file anew (writeNpz iterates twice).
   */
  *pieces(which: 'input' | 'output' | 'voltage' | 'time'): Generator<NpyArray> {
    const w = this.files[which];
    const rows = w.rows;
    const rowBytes = (w.rowShape[0] ?? 1) * (w.dtype === 'uint8' ? 1 : 4);
    const block = Math.max(1, Math.floor(LIF_DEMO_SERIES_READ.pieceBytes / rowBytes));
    for (let r0 = 0; r0 < rows; r0 += block) yield w.readRows(r0, Math.min(block, rows - r0));
  }

  /** A whole file (for the figures), read in pieces into one array of its dtype. */
  whole(which: 'input' | 'output' | 'voltage'): Uint8Array | Float32Array {
    const w = this.files[which];
    const out = w.dtype === 'uint8' ? new Uint8Array(w.rows * w.rowShape[0]!) : new Float32Array(w.rows * w.rowShape[0]!);
    let at = 0;
    for (const piece of this.pieces(which)) {
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  /** Closes the files. */
  close(): void {
    for (const w of Object.values(this.files)) if (!w.closed) w.close();
  }
}

/**
 * Refuses `--max-rate` at or above 1000/dt Hz: the Poisson encoder keeps a dead time of one step
 * between spikes and compensates the rate for it, so its mean interval 1000/maxRate must exceed dt
 * (it failed inside the run, folder written, with an error about the encoder's `refrac`, not an
 * option of this example).
 */
function checkMaxRate(p: Record<string, unknown>): void {
  const maxRate = Number(p.maxRate);
  const dt = Number(p.dt);
  if (!(dt < 1000 / maxRate)) throw new CinderArgumentError('--max-rate', maxRate, `< 1000/dt = ${1000 / dt} Hz (less than one spike per ${dt} ms step: the encoder's dead time is one step)`);
}

/** The `lif-demo` example. */
export const lifDemoExample: ExampleSpec = {
  name: 'lif-demo',
  description: 'Poisson inputs → LinearDense → LIF: spike raster and membrane voltages',
  options: [
    { name: 'nIn', type: 'int', description: 'input (Poisson) neurons', default: 100, min: 1 },
    { name: 'nOut', type: 'int', description: 'LIF neurons', default: 20, min: 1 },
    { name: 'steps', type: 'int', description: 'simulated steps', default: 1000, min: 1 },
    { name: 'dt', type: 'float', description: 'step length (ms)', default: 1, min: 0.001 },
    { name: 'maxRate', type: 'float', description: 'input rate (Hz) of an intensity of 1', default: 40, min: 0.001, max: 500 },
    { name: 'drive', type: 'float', description: 'mean depolarisation (mV) the inputs would cause without threshold; sets the weight scale', default: 20, min: 0 },
    { name: 'tauM', type: 'float', description: 'membrane time constant τ_m (ms)', default: 20, min: 0.001 },
    { name: 'restV', type: 'float', description: 'resting voltage (mV)', default: -65 },
    { name: 'resetV', type: 'float', description: 'reset voltage (mV)', default: -65 },
    { name: 'threshV', type: 'float', description: 'threshold (mV)', default: -50 },
    { name: 'refracT', type: 'float', description: 'absolute refractory period (ms)', default: 2, min: 0 },
    { name: 'chunk', type: 'int', description: 'steps between checkpoints', default: 250, min: 1 },
  ],
  presets: {
    tiny: { nIn: 20, nOut: 5, steps: 200, chunk: 50 },
    fast: {},
    full: { nIn: 500, nOut: 100, steps: 10_000, drive: 18, chunk: 1000 },
  },
  defaultMode: 'fast',
  summaryKeys: ['steps_done', 'duration_ms', 'input_spikes', 'output_spikes', 'input_rate_hz', 'expected_input_rate_hz', 'output_rate_hz', 'active_fraction', 'mean_voltage_mv', 'seconds'],
  volatileKeys: ['seconds'],
  figures: ['raster', 'voltage'],
  validate(p) {
    // The LIF's own checks (threshV above restV and resetV, …), before any folder is written.
    LIF.checkOptions({ restV: Number(p.restV), resetV: Number(p.resetV), threshV: Number(p.threshV), refracT: Number(p.refracT), tauM: Number(p.tauM) });
    checkMaxRate(p);
  },
  async run(ctx: RunContext): Promise<Record<string, unknown>> {
    const p = ctx.params;
    checkMaxRate(p); // as validate (a run started without it)
    const nIn = Number(p.nIn);
    const nOut = Number(p.nOut);
    const steps = Number(p.steps);
    const dt = Number(p.dt);
    const chunk = Number(p.chunk);
    const rng = new Rng(ctx.seed);
    const intensity = rng.uniformArray(nIn);
    const expectedInputRate = (Number(p.maxRate) * intensity.reduce((a, b) => a + b, 0)) / nIn;
    const meanWeight = expectedInputRate > 0 ? (Number(p.drive) * 1000) / (nIn * expectedInputRate) : 0;
    // the initial weights are uniform in [0, 2·w̄): 2·w̄ must be a float32 (the limit depends on this seed's input rates)
    const F32_MAX = 3.4028234663852886e38;
    if (2 * meanWeight > F32_MAX) {
      throw new CinderArgumentError('--drive', Number(p.drive), `at most ${(Number(p.drive) * F32_MAX / (2 * meanWeight)).toPrecision(4)} for seed ${ctx.seed} (the initial weights reach 2·w̄ = ${(2 * meanWeight).toPrecision(4)}, beyond the largest float32)`);
    }
    // the streams of the weights and of the encoder, forked in this order; the encoder built before
    // any tensor, so that a refused encoder option leaves nothing behind
    const weightRng = rng.fork();
    const encoder = new HomogeneousPoissonEncoder({ steps, dt, frequency: Number(p.maxRate), rng: rng.fork() });
    const lif = new LIF([nOut], dt, {
      restV: Number(p.restV), resetV: Number(p.resetV), threshV: Number(p.threshV), refracT: Number(p.refracT), tauM: Number(p.tauM),
    });
    const layer = new Serial(
      new LinearDense([nIn], [nOut], dt, { synapse: DeltaCurrent.factory(), weightInit: uniformInit(weightRng, 0, 2 * meanWeight) }),
      lif,
    );
    layer.eval();
    const silent = tf.zeros([1, nIn]);
    let input: tf.Tensor = silent;
    // read out into the files whenever full (and at every checkpoint): memory flat in --steps
    const slots = Math.min(steps, RECORDER_SLOTS);
    const inRec = new Recorder(() => input, { capacity: slots });
    const outRec = new Recorder(() => lif.spike, { capacity: slots });
    const vRec = new Recorder(() => lif.voltage, { capacity: slots });
    layer.attach(inRec);
    layer.attach(outRec);
    layer.attach(vRec);
    const intensities = tf.tensor(intensity, [1, nIn]);
    const stream = await encoder.streamAsync(intensities, { chunk });
    intensities.dispose();
    const outCount = tf.tidy(() => tf.variable(tf.zeros([]), false));
    const inCount = tf.tidy(() => tf.variable(tf.zeros([]), false));
    ctx.finite?.watch('layer', layer);
    const progress = ctx.progress(steps, 'lif-demo');
    const t0 = performance.now();
    let done = 0;
    const metrics = async () => {
      const [o, i] = [(await outCount.data())[0]!, (await inCount.data())[0]!];
      const ms = done * dt;
      return {
        steps_done: done, duration_ms: ms, input_spikes: i, output_spikes: o,
        input_rate_hz: done ? (1000 * i) / (nIn * ms) : 0, expected_input_rate_hz: expectedInputRate,
        output_rate_hz: done ? (1000 * o) / (nOut * ms) : 0, seconds: (performance.now() - t0) / 1000,
      };
    };
    ctx.log(`${nIn} Poisson inputs (mean expected rate ${expectedInputRate.toFixed(2)} Hz) → ${nOut} LIF neurons (mean weight ${meanWeight.toFixed(3)}), ${steps} steps of ${dt} ms`);
    let recordings: LifDemoRecordings | null = null;
    try {
      recordings = LifDemoRecordings.open(ctx.checkpointDir, nIn, nOut, dt);
      const files = recordings;
      while (done < steps && !ctx.signal.aborted) {
        const n = Math.min(chunk, steps - done);
        let k = 0;
        for (; k < n; k++) {
          if (k % 256 === 255) {
            await ctx.keepResponsive(); // let SIGINT/SIGTERM through within ~0.25 s
            if (ctx.signal.aborted) break;
          }
          input = stream.next();
          tf.tidy(() => {
            const s = layer.forward(input);
            outCount.assign(tf.add(outCount, tf.sum(s)));
            inCount.assign(tf.add(inCount, tf.sum(input)));
          });
          ctx.finite?.step(done + k);
          if (inRec.size === slots) await files.drain(inRec, outRec, vRec);
        }
        done += k;
        await files.drain(inRec, outRec, vRec); // (not flushed: nothing resumes from them)
        progress.tick(k);
        await ctx.checkpoint(await metrics());
        await ctx.keepResponsive();
      }
      progress.done();
      const { perNeuron, vSum } = files;
      const shown = Array.from({ length: Math.min(VOLTAGE_PANELS, nOut) }, (_, j) => j);
      // the figures from the files, read whole (records at steps 1 … done: the recordings' default); long runs: LIF_DEMO_FIGURE_CAPS
      await ctx.figure('raster', rasterFromRecordings(`lif-demo: spikes (${done} steps, seed ${ctx.seed})`, [
        { name: `inputs (${nIn})`, spikes: { data: files.whole('input'), shape: [done, 1, nIn] } },
        { name: `LIF (${nOut})`, spikes: { data: files.whole('output'), shape: [done, 1, nOut] } },
      ], { dt, maxSpikes: LIF_DEMO_FIGURE_CAPS.maxSpikes }));
      const volts = { data: files.whole('voltage'), shape: [done, 1, nOut] };
      await ctx.figure('voltage', tracesFromRecordings('lif-demo: membrane voltage', shown.map((j) => ({
        recording: volts, neurons: [j], title: `LIF neuron ${j}`, yTitle: 'V (mV)', prefix: 'V of neuron',
        reference: { name: 'threshold', value: Number(p.threshV) },
      })), { dt, maxPoints: LIF_DEMO_FIGURE_CAPS.maxPoints }));
      volts.data = new Float32Array(0); // (not held past its figure)
      // the recordings read from the files in pieces when written
      await writeNpzArtifact(ctx, 'recordings', {
        input_spikes: { dtype: 'uint8', shape: [done, nIn], pieces: () => files.pieces('input') },
        output_spikes: { dtype: 'uint8', shape: [done, nOut], pieces: () => files.pieces('output') },
        voltage_mv: { dtype: 'float32', shape: [done, nOut], pieces: () => files.pieces('voltage') },
        time_ms: { dtype: 'float32', shape: [done], pieces: () => files.pieces('time') },
      });
      await writeModuleArtifacts(ctx, 'layer', layer);
      const final = {
        ...(await metrics()),
        active_fraction: perNeuron.filter((c) => c > 0).length / nOut,
        mean_voltage_mv: done ? vSum / (done * nOut) : Number(p.restV),
      };
      ctx.log(`output rate ${(final.output_rate_hz as number).toFixed(2)} Hz, input rate ${(final.input_rate_hz as number).toFixed(2)} Hz`);
      return final;
    } finally {
      recordings?.close();
      stream.dispose();
      silent.dispose();
      inRec.dispose();
      outRec.dispose();
      vRec.dispose();
      outCount.dispose();
      inCount.dispose();
      layer.dispose();
    }
  },
};

export default lifDemoExample;
