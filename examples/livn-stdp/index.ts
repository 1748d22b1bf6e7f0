/**
 * `cinder livn-stdp`: livn's STDP training example on an EI culture (see `systems.ts`): a 200 ms
 * baseline without learning, 1,000 ms with voltage-gated STDP and `normalizeWeights()` every
 * 100 ms, then a 200 ms evaluation with plasticity off; weights recorded every 1 ms.
 *
 * Summary: plastic synapse count, the peak deviation of any weight from 1 during training, the
 * largest per-neuron |mean weight − 1| right after each normalisation, synapses that drifted during
 * the evaluation (must be 0), Δw statistics, and rates per phase and population.
 *
 * Artifacts: `weights.npz` — `key_gid`, `key_syn`, `key_mech` (codes, legend in
 * `weights_legend.json`), `key_culture`, `w_before`, `w_after_training`, `w_final`, `w_rec`
 * [T, columns] (the first `--record-synapses` synapses in key order, all when 0), `w_rec_index`,
 * `w_rec_t_ms`; `spikes.npz` — `t_ms`, `gid`, `phase` (0 baseline, 1 training, 2 evaluation).
 * @module
 */
import type { ExampleSpec, Params, RunContext } from '../../src/cli/example.js';
import { kebabCase } from '../../src/cli/options.js';
import { writeNpzArtifact } from '../../src/cli/artifacts.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { DT, EI_SYSTEMS, buildCultures, type EiSystem } from './systems.js';
import { livnStdpFigure, PHASES } from './figures.js';

/** Largest |mean − 1| of the plastic weights onto each postsynaptic neuron (gids sorted). */
export function maxPostMeanError(gid: Int32Array, w: Float32Array, target = 1): number {
  let worst = 0;
  let start = 0;
  while (start < gid.length) {
    let end = start;
    let sum = 0;
    while (end < gid.length && gid[end] === gid[start]) sum += w[end++]!;
    worst = Math.max(worst, Math.abs(sum / (end - start) - target));
    start = end;
  }
  return worst;
}

/** Refuses a duration option that is not a whole number of {@link DT} steps, naming its flag. */
function checkDurations(q: Params): void {
  for (const name of ['baselineMs', 'trainMs', 'evalMs', 'normalizeEveryMs', 'recordEveryMs']) {
    const ms = Number(q[name]);
    const steps = ms / DT;
    if (Math.abs(steps - Math.round(steps)) > 1e-9 * Math.max(1, steps)) throw new CinderArgumentError(`--${kebabCase(name)}`, ms, `a whole number of ${DT} ms steps`);
  }
}

/** The `livn-stdp` example. */
export const livnStdpExample: ExampleSpec = {
  name: 'livn-stdp',
  description: "livn's STDP training loop on an EI culture: baseline, voltage-gated STDP with weight normalisation, frozen evaluation",
  options: [
    { name: 'system', type: 'string', description: 'EI culture (10 / 100 / 1,000 / 10,000 neurons)', default: 'EI3', choices: Object.keys(EI_SYSTEMS) },
    { name: 'batch', type: 'int', description: 'independent cultures simulated at once (different seeds)', default: 1, min: 1 },
    { name: 'baselineMs', type: 'float', description: 'baseline without plasticity (ms)', default: 200, min: 0 },
    { name: 'trainMs', type: 'float', description: 'training with plasticity (ms)', default: 1000, min: 0 },
    { name: 'normalizeEveryMs', type: 'float', description: 'normalizeWeights() after every chunk of this length (ms)', default: 100, min: 0.1 },
    { name: 'evalMs', type: 'float', description: 'evaluation with plasticity off (ms)', default: 200, min: 0 },
    { name: 'recordEveryMs', type: 'float', description: 'weight recording interval (ms)', default: 1, min: 0.1 },
    { name: 'recordSynapses', type: 'int', description: 'columns of w_rec: the first N synapses in key order (0: all)', default: 2000, min: 0 },
  ],
  presets: {
    tiny: { system: 'EI1', recordSynapses: 0 },
    fast: { system: 'EI2', recordSynapses: 0 },
    full: {},
  },
  defaultMode: 'full',
  summaryKeys: [
    'system', 'batch', 'neurons', 'plastic_synapses', 'peak_deviation_from_1_training', 'max_post_mean_error_after_normalize', 'normalizations',
    'synapses_drifted_evaluation', 'max_abs_drift_evaluation', 'dw_mean', 'dw_std', 'dw_min', 'dw_max', 'dw_fraction_potentiated', 'dw_fraction_depressed',
    'rate_baseline_exc_hz', 'rate_baseline_inh_hz', 'rate_training_exc_hz', 'rate_training_inh_hz', 'rate_evaluation_exc_hz', 'rate_evaluation_inh_hz',
    'simulated_ms', 'wall_seconds', 'ms_per_simulated_second',
  ],
  volatileKeys: ['wall_seconds', 'ms_per_simulated_second'],
  figures: ['livn-stdp'],
  validate: checkDurations,
  async run(ctx: RunContext): Promise<Record<string, unknown>> {
    const q = ctx.params;
    const system = String(q.system) as EiSystem;
    const batch = Number(q.batch);
    const every = Number(q.normalizeEveryMs);
    const recEvery = Number(q.recordEveryMs);
    const durations = [Number(q.baselineMs), Number(q.trainMs), Number(q.evalMs)];
    checkDurations(q); // validate() did it for the CLI; again for a run started as a library call
    const built = buildCultures(system, batch, ctx.seed);
    const net = built.network;
    const m = net.synapseCount;
    const cols = Number(q.recordSynapses) === 0 ? m : Math.min(m, Number(q.recordSynapses));
    ctx.log(`${system} × ${batch}: ${net.size} neurons, ${m} plastic synapses; phases ${durations.join(' / ')} ms`);
    net.recordSpikes();
    net.recordWeights(recEvery, Array.from({ length: cols }, (_, k) => k));
    const spikeT: number[] = [], spikeGid: number[] = [], spikePhase: number[] = [];
    const counts = PHASES.map(() => [0, 0]);
    const phaseMs = PHASES.map(() => 0); // time each phase ran (less than asked when interrupted)
    const isExc = (g: number) => g % built.size < built.nExc;
    /**
     * `total` ms cut into chunks of `size` ms (the last one shorter), in ms. Counted in whole steps
     * (both are whole numbers of DT steps, checked above): subtracting `size` repeatedly in double
     * drifted (10,000 × 0.1 ms from 1000 ms left a last chunk of 0.09999999984 ms, refused by run()).
     */
    const chunksOf = (total: number, size: number) => {
      const out: number[] = [];
      const per = Math.round(size / DT);
      for (let left = Math.round(total / DT); left > 0; left -= per) out.push(Math.min(per, left) * DT);
      return out;
    };
    /** Runs `ms` of `phase` in chunks of the recording interval, letting signals through in between; `after` runs after each chunk. */
    const simulate = async (ms: number, phase: number, after?: () => void): Promise<void> => {
      for (const sub of chunksOf(ms, recEvery)) {
        await ctx.keepResponsive();
        if (ctx.signal.aborted) return;
        const t0 = net.timeMs;
        const r = net.run(sub);
        phaseMs[phase]! += sub;
        for (let k = 0; k < r.spikeGids.length; k++) {
          const g = r.spikeGids[k]!;
          spikeT.push(t0 + r.spikeTimes[k]!);
          spikeGid.push(g);
          spikePhase.push(phase);
          counts[phase]![isExc(g) ? 0 : 1]!++;
        }
        after?.();
      }
    };
    const trainChunks = chunksOf(durations[1]!, every);
    const progress = ctx.progress(2 + trainChunks.length, 'phases');
    const wall0 = performance.now();
    if (durations[0]! > 0) await simulate(durations[0]!, 0);
    progress.tick(1, 'baseline');
    const keys = net.getWeights();
    const before = keys.w;
    net.enablePlasticity();
    let peak = 0;
    let postMeanError = 0;
    let normalizations = 0;
    for (const chunk of trainChunks) {
      await simulate(chunk, 1, () => (peak = Math.max(peak, net.weightDeviation(1))));
      if (ctx.signal.aborted) break; // a chunk cut short is not normalised
      net.normalizeWeights();
      normalizations++;
      postMeanError = Math.max(postMeanError, maxPostMeanError(keys.gid, net.getWeights().w));
      progress.tick(1, `peak |w − 1| ${peak.toExponential(2)}`);
    }
    const after = net.getWeights().w;
    net.disablePlasticity();
    if (durations[2]! > 0 && !ctx.signal.aborted) await simulate(durations[2]!, 2);
    progress.tick(1, 'evaluation');
    progress.done();
    const wallMs = performance.now() - wall0;
    const final = net.getWeights().w;
    let drifted = 0, maxDrift = 0;
    for (let k = 0; k < m; k++) {
      const d = Math.abs(final[k]! - after[k]!);
      if (d !== 0) drifted++;
      maxDrift = Math.max(maxDrift, d);
    }
    let s1 = 0, s2 = 0, lo = Infinity, hi = -Infinity, up = 0, down = 0;
    for (let k = 0; k < m; k++) {
      const d = after[k]! - before[k]!;
      s1 += d; s2 += d * d; lo = Math.min(lo, d); hi = Math.max(hi, d);
      if (d > 0) up++; else if (d < 0) down++;
    }
    const mean = m ? s1 / m : 0;
    const nExc = built.nExc * batch, nInh = (built.size - built.nExc) * batch;
    const rates: Record<string, number> = {};
    PHASES.forEach((name, p) => {
      const sec = phaseMs[p]! / 1000;
      rates[`rate_${name}_exc_hz`] = sec > 0 ? counts[p]![0]! / nExc / sec : 0;
      rates[`rate_${name}_inh_hz`] = sec > 0 && nInh > 0 ? counts[p]![1]! / nInh / sec : 0;
    });
    const simulated = net.timeMs;
    const summary: Record<string, unknown> = {
      system, batch, neurons: net.size, plastic_synapses: m,
      peak_deviation_from_1_training: peak,
      max_post_mean_error_after_normalize: postMeanError,
      normalizations,
      synapses_drifted_evaluation: drifted,
      max_abs_drift_evaluation: maxDrift,
      dw_mean: mean, dw_std: m ? Math.sqrt(Math.max(0, s2 / m - mean * mean)) : 0,
      dw_min: m ? lo : 0, dw_max: m ? hi : 0,
      dw_fraction_potentiated: m ? up / m : 0, dw_fraction_depressed: m ? down / m : 0,
      ...rates,
      simulated_ms: simulated,
      wall_seconds: wallMs / 1000,
      ms_per_simulated_second: simulated > 0 ? wallMs / (simulated / 1000) : null,
    };
    ctx.log(`Δw mean ${mean.toExponential(3)} (min ${summary.dw_min as number}, max ${summary.dw_max as number}); rates exc/inh: ${PHASES.map((p) => `${p} ${rates[`rate_${p}_exc_hz`]!.toFixed(2)}/${rates[`rate_${p}_inh_hz`]!.toFixed(2)} Hz`).join(', ')}; drifted in evaluation: ${drifted}`);
    const rec = net.weightRecording();
    const culture = Int32Array.from(keys.gid, (g) => net.culture[g]!);
    await writeNpzArtifact(ctx, 'weights', {
      key_gid: { data: keys.gid, shape: [m] },
      key_syn: { data: keys.syn, shape: [m] },
      key_mech: { data: keys.mech, shape: [m] },
      key_culture: { data: culture, shape: [m] },
      w_before: { data: before, shape: [m] },
      w_after_training: { data: after, shape: [m] },
      w_final: { data: final, shape: [m] },
      w_rec: { data: rec.w, shape: [rec.tMs.length, rec.synapses] },
      w_rec_index: { data: rec.index, shape: [rec.synapses] },
      w_rec_t_ms: { data: rec.tMs, shape: [rec.tMs.length] },
    });
    await ctx.artifactJson('weights_legend.json', {
      key_mech: Object.fromEntries(keys.mechanisms.map((n, i) => [i, n])),
      key_order: 'post gid, then mechanism code, then synapse id (the presynaptic gid); gids are global: culture·size + local gid',
      groups: { EXC: ['AMPA', 'NMDA'], INH: ['GABA_A'] },
      culture_size: built.size,
      excitatory_per_culture: built.nExc,
    });
    await writeNpzArtifact(ctx, 'spikes', {
      t_ms: { data: Float64Array.from(spikeT), shape: [spikeT.length] },
      gid: { data: Int32Array.from(spikeGid), shape: [spikeGid.length] },
      phase: { data: Int32Array.from(spikePhase), shape: [spikePhase.length] },
    });
    const ends: [number, number, number] = [durations[0]!, durations[0]! + durations[1]!, durations[0]! + durations[1]! + durations[2]!];
    await ctx.figure('livn-stdp', livnStdpFigure(`livn STDP on ${system}${batch > 1 ? ` × ${batch}` : ''}`, {
      tMs: rec.tMs, wRec: rec.w, columns: rec.synapses, phaseEnds: ends, before, after, spikeT, spikeGid, spikePhase,
    }));
    await ctx.checkpoint(summary);
    return summary;
  },
};
