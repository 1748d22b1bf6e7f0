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

/** Number of neurons whose voltage the `voltage` figure shows (at most). */
const VOLTAGE_PANELS = 3;

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
  },
  async run(ctx: RunContext): Promise<Record<string, unknown>> {
    const p = ctx.params;
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
    const lif = new LIF([nOut], dt, {
      restV: Number(p.restV), resetV: Number(p.resetV), threshV: Number(p.threshV), refracT: Number(p.refracT), tauM: Number(p.tauM),
    });
    const layer = new Serial(
      new LinearDense([nIn], [nOut], dt, { synapse: DeltaCurrent.factory(), weightInit: uniformInit(rng.fork(), 0, 2 * meanWeight) }),
      lif,
    );
    layer.eval();
    const silent = tf.zeros([1, nIn]);
    let input: tf.Tensor = silent;
    const inRec = new Recorder(() => input, { capacity: steps });
    const outRec = new Recorder(() => lif.spike, { capacity: steps });
    const vRec = new Recorder(() => lif.voltage, { capacity: steps });
    layer.attach(inRec);
    layer.attach(outRec);
    layer.attach(vRec);
    const encoder = new HomogeneousPoissonEncoder({ steps, dt, frequency: Number(p.maxRate), rng: rng.fork() });
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
    try {
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
        }
        done += k;
        progress.tick(k);
        await ctx.checkpoint(await metrics());
        await ctx.keepResponsive();
      }
      progress.done();
      const inSpikes = await inRec.toArrayAsync();
      const outSpikes = await outRec.toArrayAsync();
      const volts = await vRec.toArrayAsync();
      const perNeuron = new Float64Array(nOut);
      for (let k = 0; k < done; k++) for (let j = 0; j < nOut; j++) perNeuron[j]! += outSpikes.data[k * nOut + j]!;
      let vSum = 0;
      for (const v of volts.data) vSum += v;
      const shown = Array.from({ length: Math.min(VOLTAGE_PANELS, nOut) }, (_, j) => j);
      const rec = { steps: inRec.recordedSteps() };
      await ctx.figure('raster', rasterFromRecordings(`lif-demo: spikes (${done} steps, seed ${ctx.seed})`, [
        { name: `inputs (${nIn})`, spikes: { ...inSpikes, ...rec } },
        { name: `LIF (${nOut})`, spikes: { ...outSpikes, ...rec } },
      ], { dt }));
      await ctx.figure('voltage', tracesFromRecordings('lif-demo: membrane voltage', shown.map((j) => ({
        recording: { ...volts, ...rec }, neurons: [j], title: `LIF neuron ${j}`, yTitle: 'V (mV)', prefix: 'V of neuron',
        reference: { name: 'threshold', value: Number(p.threshV) },
      })), { dt }));
      const shape3 = (r: { shape: number[] }): number[] => [r.shape[0]!, r.shape[2]!];
      await writeNpzArtifact(ctx, 'recordings', {
        input_spikes: { data: Uint8Array.from(inSpikes.data), shape: shape3(inSpikes) },
        output_spikes: { data: Uint8Array.from(outSpikes.data), shape: shape3(outSpikes) },
        voltage_mv: { data: volts.data, shape: shape3(volts) },
        time_ms: { data: Float32Array.from(inRec.recordedSteps(), (s) => s * dt), shape: [done] },
      });
      await writeModuleArtifacts(ctx, 'layer', layer);
      const final = {
        ...(await metrics()),
        active_fraction: perNeuron.filter((c) => c > 0).length / nOut,
        mean_voltage_mv: done ? vSum / volts.data.length : Number(p.restV),
      };
      ctx.log(`output rate ${(final.output_rate_hz as number).toFixed(2)} Hz, input rate ${(final.input_rate_hz as number).toFixed(2)} Hz`);
      return final;
    } finally {
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
