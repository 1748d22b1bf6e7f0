/**
 * One batch of lanes (seeds) of `cinder lateral-line` through training and test: checkpoints, PV
 * metrics during training, the test sweep with its PV metrics (TS and LL) and FWHM tuning widths
 * (LL, MON, TS), artifacts and figures. Runs in the main thread or in a worker thread (`worker.ts`),
 * writing through a {@link BatchContext}.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Params, RunContext } from '../../src/cli/example.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { writeNpz, type NpyEntry } from '../../src/io/npy.js';
import { LateralLineModel, modelParams } from './model.js';
import { pvMapQuality } from './pv.js';
import { tuningFwhmCm, type TuningWidths } from './tuning.js';
import {
  driveHeatmapFigure, learningCurvesFigure, receptiveFieldsFigure, summaryFigure, testPhaseFigure,
  tsSpikesVsXFigure, weightProfileFigure, type LearningSeries, type SeedFigureData,
} from './figures.js';

/** What a batch needs of the run context (a worker thread gets a proxy of it). */
export type BatchContext = Pick<RunContext, 'params' | 'outDir' | 'signal' | 'log' | 'progress' | 'checkpoint' | 'figure' | 'artifactJson' | 'artifactPath'>;

/** Timing of one batch. */
export interface BatchTiming {
  wallTrain: number;
  cpuTrain: number;
  wallTest: number;
  trialsRun: number;
  lanes: number;
}

/** Writes `artifacts/<name>.npz` atomically, entry by entry. */
function writeNpzArtifact(ctx: BatchContext, name: string, arrays: Record<string, NpyEntry>): Promise<void> {
  return writeNpz(ctx.artifactPath(`${name}.npz`), arrays);
}

const f64 = (a: ArrayLike<number>): NpyEntry => ({ data: Float64Array.from(a), shape: [a.length] });
const i32 = (a: ArrayLike<number>): NpyEntry => ({ data: Int32Array.from(a), shape: [a.length] });
const scalar = (x: number): NpyEntry => ({ data: Float64Array.of(x), shape: [] });
/** A metric for JSON: the number, or null where it is undefined (NaN; the original writes NaN). */
const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

type Series = LearningSeries;

function meanStd(w: Float32Array): [number, number] {
  let s = 0;
  for (let k = 0; k < w.length; k++) s += w[k]!;
  const m = s / Math.max(1, w.length);
  let v = 0;
  for (let k = 0; k < w.length; k++) v += (w[k]! - m) ** 2;
  return [m, Math.sqrt(v / Math.max(1, w.length))];
}

/** The seeds of a run. */
export function seedsOf(p: Params, ctxSeed: number): number[] {
  const start = Number(p.seedStart) >= 0 ? Number(p.seedStart) : ctxSeed;
  return Array.from({ length: Number(p.multiSeed) }, (_, k) => start + k);
}

/**
 * Trained weights loaded for an extract-mode evaluation (`--extract-from`), per lane: the MON→TS
 * weights and, with `--extract-ll-mon-weights trained`, the LL→MON weights (null: keep the weights
 * the network is built with, i.e. the initial ones), with the connectivity they belong to.
 */
export interface LoadedWeights {
  /** The run folder the weights come from (for messages). */
  from: string;
  lanes: { monTsW: ArrayLike<number>; monTsI: ArrayLike<number>; monTsJ: ArrayLike<number>; llMonW: ArrayLike<number> | null; llMonI: ArrayLike<number>; llMonJ: ArrayLike<number> }[];
}

function sameIndices(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * Runs one batch of lanes (seeds) through training and test; per-seed results and the batch's timing
 * ([] when interrupted). With `load` (extract mode) the freshly built network gets the loaded weights
 * and only the test sweep runs, from the state and random draws of a run without training.
 */
export async function runBatch(ctx: BatchContext, seeds: number[], resume: Record<string, ArrayLike<number>> | null, batchIndex: number, nBatches: number, load: LoadedWeights | null = null): Promise<{ results: Record<string, unknown>[]; timing: BatchTiming }> {
  // extract mode builds the network exactly as a run without training does
  const p = load ? { ...ctx.params, nTrainingTrials: 0 } : ctx.params;
  const mp = modelParams(p);
  const dtS = Number(p.dtS);
  const nTrials = Number(p.nTrainingTrials);
  const model = new LateralLineModel(mp, seeds);
  const B = seeds.length;
  if (load) {
    if (resume) throw new Error('runBatch: resume and extract-mode weights are exclusive');
    if (load.lanes.length !== B) throw new Error(`runBatch: ${load.lanes.length} loaded lanes for ${B} seeds`);
    // check every lane before changing any weight
    load.lanes.forEach((L, b) => {
      const mt = model.monTs.lanes[b]!;
      const ll = model.llMon.lanes[b]!;
      if (!sameIndices(L.monTsI, mt.pre) || !sameIndices(L.monTsJ, mt.post) || L.monTsW.length !== mt.w.length) {
        throw new CinderArgumentError('--extract-from', load.from, `a run of the same network parameters and seeds (seed ${seeds[b]}: its MON→TS connectivity differs from this run's)`);
      }
      if (L.llMonW && (!sameIndices(L.llMonI, ll.pre) || !sameIndices(L.llMonJ, ll.post) || L.llMonW.length !== ll.w.length)) {
        throw new CinderArgumentError('--extract-from', load.from, `a run of the same network parameters and seeds (seed ${seeds[b]}: its LL→MON connectivity differs from this run's)`);
      }
    });
    load.lanes.forEach((L, b) => {
      model.monTs.lanes[b]!.w.set(L.monTsW);
      if (L.llMonW) model.llMon.lanes[b]!.w.set(L.llMonW);
    });
  }
  const series: Series[] = seeds.map(() => ({ ckptT: [], wMean: [], wStd: [], tsRate: [], pvT: [], pvSigma: [], pvDeltaTrial: [] }));
  const wBefore = model.monTs.lanes.map((L) => L.w.slice());
  let kStart = 0;
  if (resume) {
    model.restore(resume);
    kStart = Number(resume.trial![0]) + 1;
    const wb = resume;
    model.monTs.lanes.forEach((_, b) => wBefore[b]!.set(wb[`w_before_${b}`] as ArrayLike<number>));
    const sj = JSON.parse(new TextDecoder().decode(Uint8Array.from(resume.series as ArrayLike<number>))) as Series[];
    sj.forEach((s, b) => Object.assign(series[b]!, s));
    ctx.log(`resumed at trial ${kStart} of ${nTrials}`);
  } else {
    series.forEach((s, b) => {
      const [m, sd] = meanStd(model.monTs.lanes[b]!.w);
      s.ckptT.push(0);
      s.wMean.push(m);
      s.wStd.push(sd);
    });
  }
  const ckTrials = Number(p.checkpointTrials);
  const trialS = model.trialSteps * dtS;
  model.ts.recording = true;
  let windowX: Float64Array[][] = seeds.map(() => []);
  let windowStart = kStart * trialS;
  let windowStartStep = kStart * model.trialSteps; // the PV bins of a window count steps from here
  let tsCountStart = Float64Array.from(model.ts.spikeCounts);
  const progress = ctx.progress(nTrials - kStart, `trials${nBatches > 1 ? ` (batch ${batchIndex + 1}/${nBatches})` : ''}`);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let done = 0;
  for (let k = kStart; k < nTrials; k++) {
    if (ctx.signal.aborted) break;
    const xs = model.trainTrial(k);
    xs.forEach((x, b) => windowX[b]!.push(x));
    done++;
    if ((k + 1) % ckTrials === 0 || k + 1 === nTrials) {
      const tCur = (k + 1) * trialS;
      for (let b = 0; b < B; b++) {
        const s = series[b]!;
        const rec = model.ts.takeRecording(b);
        const nNew = model.ts.spikeCounts[b]! - tsCountStart[b]!;
        s.tsRate.push(nNew / Math.max(1e-9, mp.nTs * (tCur - windowStart)));
        if (s.tsRate.length % Number(p.pvEvalEveryCheckpoints) === 0) {
          const x = concat(windowX[b]!);
          const pv = pvMapQuality({ spikeStep: Int32Array.from(rec.step, (st) => st - windowStartStep), spikeI: rec.index, n: mp.nTs, nT: x.length, xCm: x, dtS });
          s.pvT.push(tCur);
          s.pvSigma.push(pv.sigmaThetaRad);
          s.pvDeltaTrial.push(pv.deltaTrialRad);
        }
        const [m, sd] = meanStd(model.monTs.lanes[b]!.w);
        s.ckptT.push(tCur);
        s.wMean.push(m);
        s.wStd.push(sd);
      }
      tsCountStart = Float64Array.from(model.ts.spikeCounts);
      windowX = seeds.map(() => []);
      windowStart = tCur;
      windowStartStep = (k + 1) * model.trialSteps;
    }
    model.homeostasis(k);
    if ((k + 1) % ckTrials === 0 && k + 1 < nTrials) {
      const nCk = series[0]!.ckptT.length - 1;
      if (nCk % Number(p.checkpointSaveEveryN) === 0) {
        await saveCheckpoint(ctx, checkpointName(batchIndex, nBatches), model, k, wBefore, series);
        ctx.log(`checkpoint saved at trial ${k + 1}`);
      }
      await ctx.checkpoint({ trials_done: k + 1, last_pv_sigma_theta_rad: series.map((s) => s.pvSigma[s.pvSigma.length - 1] ?? null) });
    }
    progress.tick(1, `TS ${(series[0]!.tsRate[series[0]!.tsRate.length - 1] ?? 0).toFixed(1)} Hz`);
    if (done % 5 === 0) await new Promise((r) => setImmediate(r)); // let signals through
  }
  progress.done();
  const wallTrain = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  if (ctx.signal.aborted) {
    ctx.log(`interrupted: ${checkpointName(batchIndex, nBatches)}.npz (the last checkpoint) is resumed by \`cinder lateral-line --resume ${ctx.outDir}\``);
    return { results: [], timing: { wallTrain, cpuTrain: (cpu.user + cpu.system) / 1e6, trialsRun: done, wallTest: 0, lanes: B } };
  }
  // test
  model.freezeForTest();
  const sweeps = model.testSweeps();
  const trainS = nTrials * trialS;
  model.ts.takeRecording(0);
  for (let b = 0; b < B; b++) model.ts.takeRecording(b);
  model.mon.recording = true;
  for (let b = 0; b < B; b++) model.ll.takeRecording(b);
  model.ll.recording = true; // the LL layer's test spikes, for its PV metrics and tuning widths
  const tsBefore = Float64Array.from(model.ts.spikeCounts);
  const trainCounts = [model.ll, model.mon, model.ts].map((g) => Float64Array.from(g.spikeCounts));
  const trainRunS = nTrials * trialS; // counts are restored on resume: they cover the whole training
  const tTest0 = performance.now();
  const testStep0 = model.net.step;
  model.runTest(sweeps);
  const wallTest = (performance.now() - tTest0) / 1000;
  const out: Record<string, unknown>[] = [];
  const evalWin = Number(p.evalXMinCm) < Number(p.evalXMaxCm);
  for (let b = 0; b < B; b++) {
    const seed = seeds[b]!;
    const sw = sweeps[b]!;
    const ts = model.ts.takeRecording(b);
    const mon = model.mon.takeRecording(b);
    const llSp = model.ll.takeRecording(b);
    // steps counted from the first test step, once per layer (metrics, artifacts, figures)
    const rel = (sp: { step: Int32Array }): Int32Array => Int32Array.from(sp.step, (st) => st - testStep0);
    const steps = { ts: rel(ts), mon: rel(mon), ll: rel(llSp) };
    const times = (st: Int32Array): Float64Array => Float64Array.from(st, (k) => trainS + k * dtS);
    const tsT = times(steps.ts);
    const nT = sw.tS.length;
    const win = evalWin ? { evalXMinCm: Number(p.evalXMinCm), evalXMaxCm: Number(p.evalXMaxCm) } : {};
    // spikes binned by their test step (float times trainS + k·dt would put about half of them
    // into bin k − 1)
    const pv = pvMapQuality({ spikeStep: steps.ts, spikeI: ts.index, n: mp.nTs, nT, xCm: sw.xCm, dtS, ...win });
    // the original's LL-layer PV (`pvq_ll`): the same function on the LL test spikes, φ_k = 2πk/n_ll,
    // min(100, n_ll) position bins, the same θ_true and evaluation window
    const pvLl = pvMapQuality({ spikeStep: steps.ll, spikeI: llSp.index, n: mp.nLl, nT, xCm: sw.xCm, dtS, ...win });
    // tuning widths of the three layers over the whole test sweep (no evaluation window), 50 bins
    const fwhm = (spikeStep: Int32Array, spikeI: Int32Array, n: number): TuningWidths => tuningFwhmCm({ spikeStep, spikeI, n, xCm: sw.xCm, dtS });
    const tw = { ll: fwhm(steps.ll, llSp.index, mp.nLl), mon: fwhm(steps.mon, mon.index, mp.nMon), ts: fwhm(steps.ts, ts.index, mp.nTs) };
    const mt = model.monTs.lanes[b]!;
    const ll = model.llMon.lanes[b]!;
    const tag = `${p.saveTag}_seed_${seed}`;
    await writeNpzArtifact(ctx, tag, {
      mon_ts_w: f64(mt.w), mon_ts_i: i32(mt.pre), mon_ts_j: i32(mt.post), ll_mon_i: i32(ll.pre), ll_mon_j: i32(ll.post), ll_mon_w_mV: f64(ll.w),
    });
    const np = networkParams(p, seed);
    await ctx.artifactJson(`${tag}_params.json`, {
      mode: readParamsFile(ctx).mode ?? null, n_ll: mp.nLl, n_mon: mp.nMon, n_ts: mp.nTs, speed_cm_s: p.speedCmS, distance_cm: p.distanceCm, direction: p.direction,
      training_noise_scale_early: p.trainingNoiseEarly, training_noise_scale_late: p.trainingNoiseLate, mon_ts_apre: np.mon_ts_apre, mon_ts_apost: np.mon_ts_apost, mon_ts_wmax: p.monTsWmax,
      seed, network_params: np,
    });
    await writeNpzArtifact(ctx, `test_ts_spikes_seed_${seed}`, {
      t_s: f64(tsT), i: i32(ts.index), step: i32(steps.ts), test_t_s: f64(sw.tS), test_x_cm: f64(sw.xCm), test_start_s: scalar(trainS), dt_s: scalar(dtS),
      n_ts: { data: Int32Array.of(mp.nTs), shape: [] }, n_pos_bins: { data: Int32Array.of(Math.min(100, mp.nTs)), shape: [] },
      eval_x_min_cm: scalar(evalWin ? Number(p.evalXMinCm) : NaN), eval_x_max_cm: scalar(evalWin ? Number(p.evalXMaxCm) : NaN),
    });
    // the LL and MON test spikes (the original keeps them only in memory): step within the test
    // (0 = first test step) and cell, so the LL PV and the LL/MON widths can be recomputed
    await writeNpzArtifact(ctx, `test_ll_mon_spikes_seed_${seed}`, {
      ll_step: i32(steps.ll), ll_i: i32(llSp.index), mon_step: i32(steps.mon), mon_i: i32(mon.index),
      n_ll: { data: Int32Array.of(mp.nLl), shape: [] }, n_mon: { data: Int32Array.of(mp.nMon), shape: [] },
      test_x_cm: f64(sw.xCm), test_start_s: scalar(trainS), dt_s: scalar(dtS),
    });
    // the PV decode of the test (what the summary figure's decode panel and the ts-spikes-vs-x bias
    // panel draw): per test step θ̂ (NaN where nothing decodes) and θ true (NaN outside the
    // evaluation window) at test_t_s = k·dt, per position bin its centre and the bias (NaN: empty)
    await writeNpzArtifact(ctx, `test_pv_decode_seed_${seed}`, {
      test_t_s: f64(sw.tS), theta_hat_rad: f64(pv.thetaHat), theta_true_rad: f64(pv.thetaTrue),
      theta_bins_rad: f64(pv.thetaBins), bias_rad: f64(pv.bias), dt_s: scalar(dtS),
    });
    // the original's per-seed results file (its schema; an undefined width, NaN there, is null here)
    await ctx.artifactJson(`seed_${seed}_results.json`, {
      seed, distance_cm: Number(p.distanceCm), test_ll_noise_hz: Number(p.testLlNoiseHz),
      sigma_theta_rad: pv.sigmaThetaRad, valid_fraction: pv.validFraction, delta_trial_rad: pv.deltaTrialRad,
      sigma_theta_ll_rad: pvLl.sigmaThetaRad, delta_trial_ll_rad: pvLl.deltaTrialRad,
      sigma_w_ll_cm: orNull(tw.ll.meanCm), sigma_w_mon_cm: orNull(tw.mon.meanCm), sigma_w_ts_cm: orNull(tw.ts.meanCm),
    });
    const s = series[b]!;
    const fd: SeedFigureData = {
      seed, nMon: mp.nMon, nTs: mp.nTs, mtPre: mt.pre, mtPost: mt.post, wBefore: wBefore[b]!, wAfter: mt.w,
      tsStep: steps.ts, tsIndex: ts.index, monStep: steps.mon, monIndex: mon.index,
      testX: sw.xCm, testRaw: sw.rawRates, nLl: mp.nLl, dtS, thetaHat: pv.thetaHat, thetaTrue: pv.thetaTrue, bias: pv.bias, thetaBins: pv.thetaBins,
      ...s, sigmaTheta: pv.sigmaThetaRad, validFraction: pv.validFraction,
    };
    if (b === 0 && batchIndex === 0) {
      await ctx.figure('summary', summaryFigure(fd));
      await ctx.figure('test-phase', testPhaseFigure(fd));
      await ctx.figure('learning-curves', learningCurvesFigure(fd));
      await ctx.figure('mon-ts-weight-profile', weightProfileFigure(fd));
      await ctx.figure('mon-ts-receptive-fields', receptiveFieldsFigure(fd));
      await ctx.figure('ts-spikes-vs-x', tsSpikesVsXFigure(fd));
      await ctx.figure('mon-ts-drive-heatmap', driveHeatmapFigure(fd));
    }
    const nTsTest = model.ts.spikeCounts[b]! - tsBefore[b]!;
    out.push({
      seed,
      ts_spikes_during_test_window: nTsTest,
      pv_map_quality: { sigma_theta_rad: pv.sigmaThetaRad, delta_trial_rad: pv.deltaTrialRad, valid_fraction: pv.validFraction },
      pv_vs_training_time: { t_s: s.pvT, sigma_theta_rad: s.pvSigma, delta_trial_rad: s.pvDeltaTrial },
      pv_ll_map_quality: { sigma_theta_rad: pvLl.sigmaThetaRad, delta_trial_rad: pvLl.deltaTrialRad, valid_fraction: pvLl.validFraction },
      ...Object.fromEntries(Object.entries(tw).flatMap(([layer, w]) => [
        [`tuning_fwhm_${layer}_cm_mean`, orNull(w.meanCm)], [`tuning_fwhm_${layer}_cm_sd`, orNull(w.sdCm)], [`tuning_fwhm_${layer}_n_valid`, w.nValid],
      ])),
      mon_ts_w_mean_final: meanStd(mt.w)[0],
      mon_ts_w_std: { before: meanStd(wBefore[b]!)[1], after: meanStd(mt.w)[1] },
      mean_rate_hz: Object.fromEntries([model.ll, model.mon, model.ts].map((g, gi) => [g.name, {
        train: trainRunS > 0 ? trainCounts[gi]![b]! / (g.n * trainRunS) : null,
        test: (g.spikeCounts[b]! - trainCounts[gi]![b]!) / (g.n * nT * dtS),
      }])),
    });
  }
  return { results: out, timing: { wallTrain, cpuTrain: (cpu.user + cpu.system) / 1e6, trialsRun: done, wallTest, lanes: B } };
}

function concat(parts: Float64Array[]): Float64Array {
  const n = parts.reduce((s, a) => s + a.length, 0);
  const out = new Float64Array(n);
  let o = 0;
  for (const a of parts) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

/**
 * The artifact name (without `.npz`) of a batch's resumable checkpoint: `mid_checkpoint` when the
 * seeds run as one batch (the original's name), `mid_checkpoint_batch_<i>` for batch i of several
 * (`--workers`, `--batch-lanes`).
 */
export function checkpointName(batchIndex: number, nBatches: number): string {
  return nBatches === 1 ? 'mid_checkpoint' : `mid_checkpoint_batch_${batchIndex}`;
}

async function saveCheckpoint(ctx: BatchContext, name: string, model: LateralLineModel, k: number, wBefore: Float32Array[], series: Series[]): Promise<void> {
  const arrays: Record<string, NpyEntry> = {};
  for (const [name, a] of Object.entries(model.state())) arrays[name] = { data: a, shape: [a.length] };
  arrays.trial = { data: Int32Array.of(k), shape: [1] };
  wBefore.forEach((w, b) => (arrays[`w_before_${b}`] = { data: w, shape: [w.length] }));
  const json = new TextEncoder().encode(JSON.stringify(series));
  arrays.series = { data: json, shape: [json.length] };
  await writeNpzArtifact(ctx, name, arrays);
}

/** The run's params.json as written so far. */
export function readParamsFile(ctx: Pick<RunContext, 'outDir'>): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(join(ctx.outDir, 'params.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * The original's `NetworkParams` field of each option that has one, in the dataclass's order (the
 * flag names differ from the field names for about half of them: `--ll-mon-topo` sets
 * `ll_to_mon_topography_strength`, `--mon-global-inh-mv` sets `global_inh_to_mon_mV`, …).
 */
const NETWORK_PARAM_FIELDS: readonly (readonly [string, string])[] = [
  ['nLl', 'n_ll'], ['nMon', 'n_mon'], ['nTs', 'n_ts'],
  ['dtS', 'dt_s'], ['trialDurationS', 'trial_duration_s'], ['nTrainingTrials', 'n_training_trials'], ['checkpointTrials', 'checkpoint_trials'],
  ['pvEvalEveryCheckpoints', 'pv_eval_every_checkpoints'], ['checkpointSaveEveryN', 'checkpoint_save_every_n_checkpoints'],
  ['trainingPositionHoldS', 'training_position_hold_s'], ['trainingNoiseEarly', 'training_noise_scale_early'], ['trainingNoiseLate', 'training_noise_scale_late'],
  ['testLlNoiseHz', 'test_ll_noise_hz'], ['trainingNoiseSwitch', 'training_noise_switch_fraction'], ['trainingOrderedSweeps', 'training_ordered_sweeps'],
  ['trainingFixedDistance', 'training_fixed_distance'], ['trainingBidirectional', 'training_bidirectional'],
  ['trainingDistanceMinCm', 'training_distance_min_cm'], ['trainingDistanceMaxCm', 'training_distance_max_cm'],
  ['speedCmS', 'speed_cm_s'], ['distanceCm', 'distance_cm'], ['direction', 'direction'], ['sphereRadiusCm', 'sphere_radius_cm'],
  ['llRateMode', 'll_rate_mode'], ['llBaselineSubtractHz', 'll_rate_baseline_subtract_hz'], ['llRateGain', 'll_rate_gain'],
  ['llBodyLengthCm', 'll_body_length_cm'], ['testPathCm', 'test_path_cm'], ['evalXMinCm', 'eval_x_min_cm'], ['evalXMaxCm', 'eval_x_max_cm'],
  ['', 'seed'],
  ['vthMv', 'vth_mV'], ['vresetMv', 'vreset_mV'], ['elMv', 'el_mV'], ['tauRefMs', 'tau_ref_ms'], ['tauMMs', 'tau_m_ms'], ['tauSMs', 'tau_s_ms'],
  ['pLlToMon', 'p_ll_to_mon'], ['llMonInDegree', 'll_to_mon_in_degree'], ['llMonSigma', 'll_to_mon_sigma'], ['llMonTopo', 'll_to_mon_topography_strength'],
  ['llMonWMeanMv', 'll_mon_w_mean_mV'], ['llMonWJitterMv', 'll_mon_w_jitter_mV'],
  ['useLlMonStdp', 'll_mon_use_stdp'], ['llMonApre', 'll_mon_apre'], ['llMonApost', 'll_mon_apost'], ['llMonWmaxMv', 'll_mon_wmax_mV'],
  ['llMonWInitMv', 'll_mon_w_init_mV'], ['llMonWJitterStdpMv', 'll_mon_w_jitter_stdp_mV'], ['llMonHomeoEta', 'll_mon_homeo_eta'],
  ['llMonHomeoEveryTrials', 'll_mon_homeo_every_trials'],
  ['monTsOutDegree', 'mon_to_ts_out_degree'], ['monTsSigma', 'mon_to_ts_sigma'], ['monTsTopo', 'mon_to_ts_topography_strength'],
  ['monTsApre', 'mon_ts_apre'], ['monTsApost', 'mon_ts_apost'], ['monTsWmax', 'mon_ts_wmax'], ['monTsWInit', 'mon_ts_w_init'], ['monTsWJitter', 'mon_ts_w_jitter'],
  ['monTsHomeoEta', 'mon_ts_homeo_eta'], ['monTsHomeoEveryTrials', 'mon_ts_homeo_every_trials'], ['monTsGainMv', 'mon_ts_gain_mV'],
  ['keepMonTsStdpDuringTest', 'keep_mon_ts_stdp_during_test'], ['', 'test_using_held_snapshots'],
  ['monGlobalInhP', 'mon_to_global_inh_p'], ['monGlobalInhDriveMv', 'mon_to_global_inh_drive_mV'], ['monGlobalInhMv', 'global_inh_to_mon_mV'],
  ['tsLateralRadius', 'ts_lateral_radius'], ['tsLocalInhPeakMv', 'ts_local_inh_peak_mV'],
  ['useTsFeedbackInh', 'use_ts_feedback_inh'], ['tsFeedbackP', 'ts_to_global_inh_p'], ['tsFeedbackDriveMv', 'ts_to_global_inh_drive_mV'], ['tsFeedbackInhMv', 'global_inh_to_ts_mV'],
  ['bgRateMonHz', 'bg_rate_mon_hz'], ['bgRateTsHz', 'bg_rate_ts_hz'], ['bgWMonMv', 'bg_w_mon_mV'], ['bgWTsMv', 'bg_w_ts_mV'],
];

/**
 * The original's `network_params` (its `NetworkParams` as a dict: its field names, in its order)
 * for one seed, as the original's CLI would have resolved these options: no evaluation window is
 * `eval_x_min_cm = eval_x_max_cm = null`; `--disable-all-stdp` appears as the four STDP amplitudes
 * set to 0 (the original has no field for it); `test_using_held_snapshots` is false (not
 * implemented). Cinder-only options (seeds, workers, save tag, …) are in params.json's `params`.
 */
export function networkParams(p: Params, seed: number): Record<string, unknown> {
  const window = Number(p.evalXMinCm) < Number(p.evalXMaxCm);
  const off = Boolean(p.disableAllStdp);
  const out: Record<string, unknown> = {};
  for (const [opt, field] of NETWORK_PARAM_FIELDS) {
    if (field === 'seed') out.seed = seed;
    else if (field === 'test_using_held_snapshots') out[field] = false;
    else if (field === 'eval_x_min_cm' || field === 'eval_x_max_cm') out[field] = window ? p[opt] : null;
    else if (off && /^(ll_mon|mon_ts)_ap(re|ost)$/.test(field)) out[field] = 0;
    else out[field] = p[opt];
  }
  return out;
}

