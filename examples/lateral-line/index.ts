/**
 * `cinder lateral-line`: the lateral-line model (Goulet's Brian2 LateralLine) — LL afferents driven
 * by the flow of a moving sphere → MON (LIF) → TS (LIF), global and lateral inhibition, background
 * input, multiplicative STDP on LL→MON (optional), additive STDP on MON→TS, homeostatic scaling,
 * and population-vector map-quality metrics of the test sweep — on Cinder's batched event-driven
 * engine (`src/kernels/js/event-network.ts`). `--multi-seed N --seed-start S` simulates the N seeds
 * as one batched network (one lane per seed).
 *
 * Run folder (the original's layout): params.json (+ mode, seed_start, multi_seed, run_folder,
 * network_params), run_summary.json (ll_mon_topo, mon_ts_topo, mon_ts_sigma, mon_ts_gain_mV and per
 * seed seed, ts_spikes_during_test_window, pv_map_quality; a `runs` list when N > 1), figures/,
 * artifacts/<save-tag>_seed_<seed>.npz + _params.json, artifacts/test_ts_spikes_seed_<seed>.npz,
 * artifacts/mid_checkpoint.npz (every --checkpoint-save-every-n checkpoints; `--resume-from DIR`
 * continues an interrupted run from it to the same result).
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ExampleSpec, Params, RunContext } from '../../src/cli/example.js';
import { writeNpzArtifact } from '../../src/cli/artifacts.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import type { NpyEntry } from '../../src/io/npy.js';
import { LATERAL_LINE_OPTIONS, LATERAL_LINE_PRESETS, validateLateralLine } from './params.js';
import { LateralLineModel, modelParams } from './model.js';
import { pvMapQuality } from './pv.js';
import { readNpz } from './checkpoint.js';
import {
  driveHeatmapFigure, learningCurvesFigure, multiSeedFigure, receptiveFieldsFigure, summaryFigure, testPhaseFigure,
  tsSpikesVsXFigure, weightProfileFigure, type SeedFigureData,
} from './figures.js';

const f64 = (a: ArrayLike<number>): NpyEntry => ({ data: Float64Array.from(a), shape: [a.length] });
const i32 = (a: ArrayLike<number>): NpyEntry => ({ data: Int32Array.from(a), shape: [a.length] });
const scalar = (x: number): NpyEntry => ({ data: Float64Array.of(x), shape: [] });

/** Learning-curve series of one seed. */
interface Series {
  ckptT: number[];
  wMean: number[];
  wStd: number[];
  tsRate: number[];
  pvT: number[];
  pvSigma: number[];
  pvDeltaTrial: number[];
}

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

/** Runs one batch of lanes (seeds) through training and test; returns per-seed results. */
async function runBatch(ctx: RunContext, seeds: number[], resume: Record<string, ArrayLike<number>> | null, batchIndex: number, nBatches: number): Promise<Record<string, unknown>[]> {
  const p = ctx.params;
  const mp = modelParams(p);
  const dtS = Number(p.dtS);
  const nTrials = Number(p.nTrainingTrials);
  const model = new LateralLineModel(mp, seeds);
  const B = seeds.length;
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
          const pv = pvMapQuality({ spikeT: Float64Array.from(rec.step, (st) => st * dtS), spikeI: rec.index, n: mp.nTs, nT: x.length, xCm: x, startS: windowStart, dtS });
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
    }
    model.homeostasis(k);
    if ((k + 1) % ckTrials === 0 && k + 1 < nTrials) {
      const nCk = series[0]!.ckptT.length - 1;
      if (nCk % Number(p.checkpointSaveEveryN) === 0 && nBatches === 1) {
        await saveCheckpoint(ctx, model, k, wBefore, series);
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
    ctx.log('interrupted: the last mid_checkpoint.npz can be resumed with --resume-from');
    return [];
  }
  // test
  model.freezeForTest();
  const sweeps = model.testSweeps();
  const trainS = nTrials * trialS;
  model.ts.takeRecording(0);
  for (let b = 0; b < B; b++) model.ts.takeRecording(b);
  model.mon.recording = true;
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
    const tsT = Float64Array.from(ts.step, (st) => trainS + (st - testStep0) * dtS);
    const nT = sw.tS.length;
    const pv = pvMapQuality({
      spikeT: tsT, spikeI: ts.index, n: mp.nTs, nT, xCm: sw.xCm, startS: trainS, dtS,
      ...(evalWin ? { evalXMinCm: Number(p.evalXMinCm), evalXMaxCm: Number(p.evalXMaxCm) } : {}),
    });
    const mt = model.monTs.lanes[b]!;
    const ll = model.llMon.lanes[b]!;
    const tag = `${p.saveTag}_seed_${seed}`;
    await writeNpzArtifact(ctx, tag, {
      mon_ts_w: f64(mt.w), mon_ts_i: i32(mt.pre), mon_ts_j: i32(mt.post), ll_mon_i: i32(ll.pre), ll_mon_j: i32(ll.post), ll_mon_w_mV: f64(ll.w),
    });
    await ctx.artifactJson(`${tag}_params.json`, {
      mode: readParamsFile(ctx).mode ?? null, n_ll: mp.nLl, n_mon: mp.nMon, n_ts: mp.nTs, speed_cm_s: p.speedCmS, distance_cm: p.distanceCm, direction: p.direction,
      training_noise_scale_early: p.trainingNoiseEarly, training_noise_scale_late: p.trainingNoiseLate, mon_ts_apre: p.monTsApre, mon_ts_apost: p.monTsApost, mon_ts_wmax: p.monTsWmax,
      seed, network_params: networkParams(p, seed),
    });
    await writeNpzArtifact(ctx, `test_ts_spikes_seed_${seed}`, {
      t_s: f64(tsT), i: i32(ts.index), test_t_s: f64(sw.tS), test_x_cm: f64(sw.xCm), test_start_s: scalar(trainS), dt_s: scalar(dtS),
      n_ts: { data: Int32Array.of(mp.nTs), shape: [] }, n_pos_bins: { data: Int32Array.of(Math.min(100, mp.nTs)), shape: [] },
      eval_x_min_cm: scalar(evalWin ? Number(p.evalXMinCm) : NaN), eval_x_max_cm: scalar(evalWin ? Number(p.evalXMaxCm) : NaN),
    });
    const s = series[b]!;
    const fd: SeedFigureData = {
      seed, nMon: mp.nMon, nTs: mp.nTs, mtPre: mt.pre, mtPost: mt.post, wBefore: wBefore[b]!, wAfter: mt.w,
      tsStep: Int32Array.from(ts.step, (st) => st - testStep0), tsIndex: ts.index, monStep: Int32Array.from(mon.step, (st) => st - testStep0), monIndex: mon.index,
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
      mon_ts_w_mean_final: meanStd(mt.w)[0],
      mon_ts_w_std: { before: meanStd(wBefore[b]!)[1], after: meanStd(mt.w)[1] },
      mean_rate_hz: Object.fromEntries([model.ll, model.mon, model.ts].map((g, gi) => [g.name, {
        train: trainRunS > 0 ? trainCounts[gi]![b]! / (g.n * trainRunS) : null,
        test: (g.spikeCounts[b]! - trainCounts[gi]![b]!) / (g.n * nT * dtS),
      }])),
    });
  }
  out.forEach((r) => Object.assign(r, { _timing: { wallTrain, cpuTrain: (cpu.user + cpu.system) / 1e6, trialsRun: done, wallTest, lanes: B } }));
  return out;
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

async function saveCheckpoint(ctx: RunContext, model: LateralLineModel, k: number, wBefore: Float32Array[], series: Series[]): Promise<void> {
  const arrays: Record<string, NpyEntry> = {};
  for (const [name, a] of Object.entries(model.state())) arrays[name] = { data: a, shape: [a.length] };
  arrays.trial = { data: Int32Array.of(k), shape: [1] };
  wBefore.forEach((w, b) => (arrays[`w_before_${b}`] = { data: w, shape: [w.length] }));
  const json = new TextEncoder().encode(JSON.stringify(series));
  arrays.series = { data: json, shape: [json.length] };
  await writeNpzArtifact(ctx, 'mid_checkpoint', arrays);
}

function readParamsFile(ctx: RunContext): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(join(ctx.outDir, 'params.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The original's `network_params` names (snake_case) for one seed. */
function networkParams(p: Params, seed: number): Record<string, unknown> {
  const out: Record<string, unknown> = { seed };
  for (const [k, v] of Object.entries(p)) out[k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase()] = v;
  return out;
}

/** The `lateral-line` example. */
export const lateralLineExample: ExampleSpec = {
  name: 'lateral-line',
  description: 'lateral-line map learning (LL → MON → TS, STDP, PV map quality), seeds batched in one event-driven simulation',
  options: [...LATERAL_LINE_OPTIONS, { name: 'resumeFrom', type: 'string', default: '', description: 'resume from the mid_checkpoint.npz of this earlier run folder (same parameters and seeds)' }],
  presets: LATERAL_LINE_PRESETS,
  defaultMode: 'll_thesis',
  validate(p: Params): void {
    validateLateralLine(p);
    if (p.resumeFrom !== '') {
      const ck = join(resolve(String(p.resumeFrom)), 'artifacts', 'mid_checkpoint.npz');
      if (!existsSync(ck)) throw new CinderArgumentError('--resume-from', p.resumeFrom, 'a run folder with artifacts/mid_checkpoint.npz');
    }
  },
  // always present; one seed adds seed, ts_spikes_during_test_window, pv_map_quality, …; several a `runs` list
  summaryKeys: ['ll_mon_topo', 'mon_ts_topo', 'mon_ts_sigma', 'mon_ts_gain_mV', 'seed_start', 'multi_seed', 'timing'],
  volatileKeys: ['timing'],
  // `cinder sweep --pack K`: K seeds as one batched network (--multi-seed K from --seed); each seed's
  // summary is the run's common keys plus its entry of `runs`, as a run of that seed alone writes it
  seedBatch: {
    option: 'multiSeed',
    splitSummary: (s, seeds) => {
      const { runs, across_seeds: _across, ...common } = s;
      const perSeed = Array.isArray(runs) ? (runs as Record<string, unknown>[]) : [s];
      return seeds.map((seed, i) => ({ ...common, ...perSeed[i], seed_start: seed, multi_seed: 1 }));
    },
  },
  figures: ['summary', 'test-phase', 'learning-curves', 'mon-ts-weight-profile', 'mon-ts-receptive-fields', 'ts-spikes-vs-x', 'mon-ts-drive-heatmap', 'multi-seed-summary'],
  async run(ctx: RunContext): Promise<Record<string, unknown>> {
    const p = ctx.params;
    const seeds = seedsOf(p, ctx.seed);
    const pf = readParamsFile(ctx);
    await writeJsonAtomic(join(ctx.outDir, 'params.json'), {
      ...pf, seed_start: seeds[0], multi_seed: seeds.length, run_folder: ctx.outDir, network_params: networkParams(p, seeds[0]!),
    });
    let resume: Record<string, ArrayLike<number>> | null = null;
    if (p.resumeFrom !== '') {
      const dir = resolve(String(p.resumeFrom));
      const old = JSON.parse(readFileSync(join(dir, 'params.json'), 'utf8')) as { params?: Params; seed_start?: number; multi_seed?: number };
      for (const [k, v] of Object.entries(old.params ?? {})) {
        if (k === 'resumeFrom') continue;
        if (p[k] !== v) throw new Error(`--resume-from ${dir}: parameter ${k} differs (${JSON.stringify(v)} there, ${JSON.stringify(p[k])} here)`);
      }
      if (old.seed_start !== seeds[0] || old.multi_seed !== seeds.length) throw new Error(`--resume-from ${dir}: seeds differ (${old.seed_start}×${old.multi_seed} there)`);
      resume = readNpz(join(dir, 'artifacts', 'mid_checkpoint.npz'));
    }
    const header = {
      ll_mon_topo: Number(p.llMonTopo), mon_ts_topo: Number(p.monTsTopo), mon_ts_sigma: Number(p.monTsSigma), mon_ts_gain_mV: Number(p.monTsGainMv),
      seed_start: seeds[0], multi_seed: seeds.length,
    };
    await ctx.checkpoint(header);
    ctx.log(`${seeds.length} seed(s) ${seeds[0]}…${seeds[seeds.length - 1]}: n_mon ${p.nMon}, n_ts ${p.nTs}, ${p.nTrainingTrials} trials × ${p.trialDurationS} s`);
    const lanes = Number(p.batchLanes) > 0 ? Number(p.batchLanes) : seeds.length;
    const batches: number[][] = [];
    for (let s = 0; s < seeds.length; s += lanes) batches.push(seeds.slice(s, s + lanes));
    if (resume && batches.length > 1) throw new Error('--resume-from needs all seeds in one batch (--batch-lanes 0)');
    const results: Record<string, unknown>[] = [];
    for (let bi = 0; bi < batches.length; bi++) {
      results.push(...(await runBatch(ctx, batches[bi]!, resume, bi, batches.length)));
      if (ctx.signal.aborted) return { ...header, status_note: 'interrupted' };
    }
    const timing = { wallTrain: 0, cpuTrain: 0, wallTest: 0, trialsRun: 0 };
    for (const r of results) {
      const t = r._timing as { wallTrain: number; cpuTrain: number; wallTest: number; trialsRun: number; lanes: number };
      delete r._timing;
      // every lane of a batch carries its batch's totals: add 1/lanes of them per lane
      timing.wallTrain += t.wallTrain / t.lanes;
      timing.cpuTrain += t.cpuTrain / t.lanes;
      timing.wallTest += t.wallTest / t.lanes;
      timing.trialsRun = t.trialsRun;
    }
    const trialSeeds = timing.trialsRun * seeds.length;
    const summary: Record<string, unknown> = {
      ...header,
      timing: {
        train_wall_s: timing.wallTrain, train_cpu_s: timing.cpuTrain, test_wall_s: timing.wallTest,
        ms_per_trial_per_seed_wall: trialSeeds > 0 ? (1000 * timing.wallTrain) / trialSeeds : null,
        ms_per_trial_per_seed_cpu: trialSeeds > 0 ? (1000 * timing.cpuTrain) / trialSeeds : null,
      },
    };
    if (results.length === 1) {
      Object.assign(summary, results[0]);
    } else {
      summary.runs = results;
      const sig = results.map((r) => (r.pv_map_quality as { sigma_theta_rad: number }).sigma_theta_rad);
      const val = results.map((r) => (r.pv_map_quality as { valid_fraction: number }).valid_fraction);
      summary.across_seeds = { sigma_theta_rad: msd(sig), valid_fraction: msd(val) };
    }
    await ctx.figure('multi-seed-summary', multiSeedFigure(results.map((r) => {
      const q = r.pv_map_quality as { sigma_theta_rad: number; delta_trial_rad: number; valid_fraction: number };
      return { seed: r.seed as number, sigma: q.sigma_theta_rad, deltaTrial: q.delta_trial_rad, valid: q.valid_fraction };
    })));
    const q = results.map((r) => r.pv_map_quality as { sigma_theta_rad: number; valid_fraction: number });
    ctx.log(`σθ ${q.map((x) => x.sigma_theta_rad.toFixed(3)).join(', ')} rad; valid ${q.map((x) => x.valid_fraction.toFixed(3)).join(', ')}`);
    return summary;
  },
};

function msd(x: number[]): { mean: number; sd: number; n: number } {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  const sd = x.length > 1 ? Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1)) : 0;
  return { mean: m, sd, n: x.length };
}
