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
 * seed seed, ts_spikes_during_test_window, pv_map_quality, pv_ll_map_quality (the LL layer's),
 * tuning_fwhm_{ll,mon,ts}_cm_mean/_cm_sd/_n_valid (tuning.ts); a `runs` list when N > 1), figures/,
 * artifacts/<save-tag>_seed_<seed>.npz + _params.json, artifacts/seed_<seed>_results.json (the
 * original's per-seed file with the LL PV and FWHM means), artifacts/test_ts_spikes_seed_<seed>.npz, artifacts/test_ll_mon_spikes_seed_<seed>.npz,
 * artifacts/test_pv_decode_seed_<seed>.npz (θ̂ and θ true per test step, bias per position bin: what the figures draw),
 * artifacts/mid_checkpoint.npz (one batch) or mid_checkpoint_batch_<i>.npz (batch i of several, with
 * --workers or --batch-lanes), written every --checkpoint-save-every-n checkpoints. `cinder
 * lateral-line --resume DIR` continues an interrupted run — every batch from its own last checkpoint,
 * in worker threads or not — to the same result; `--resume-from DIR` starts a new folder from a
 * single-batch run's mid_checkpoint.npz.
 *
 * Extract mode (`--extract-from DIR`), the original's evaluation of its published rows
 * (`make_extract_checkpoint.py` + `--resume-from` with the last trial done): the network of the same
 * parameters and seeds is built afresh (connectivity, initial state, the random draws of a run without
 * training), the trained MON→TS weights of `DIR/artifacts/<its save-tag>_seed_<seed>.npz` are loaded,
 * and only the test sweep runs. `--extract-ll-mon-weights initial` (default) keeps the LL→MON weights
 * the network is built with, which is what the original's extract runs used: its
 * `latest_seed_<seed>.npz` holds `ll_mon_w_mV` as copied when the network was built, before training.
 * `trained` loads Cinder's trained LL→MON weights from the same file (as they are after that run's
 * test sweep, in which LL→MON stays plastic as in the original).
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { moduleWorker } from '../../src/core/module-worker.node.js';
import type { ExampleSpec, Params, RunContext } from '../../src/cli/example.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { kebabCase } from '../../src/cli/options.js';
import { LATERAL_LINE_OPTIONS, LATERAL_LINE_PRESETS, validateLateralLine } from './params.js';
import { readNpz } from '../../src/io/npy.js';
import { multiSeedFigure } from './figures.js';
import { checkpointName, networkParams, readParamsFile, runBatch, seedsOf, type BatchTiming, type LoadedWeights } from './batch.js';
import type { WorkerMessage, WorkerStart } from './worker.js';

/**
 * Runs one batch in a worker thread (`worker.ts`, loaded through tsx), relaying its log lines,
 * progress, checkpoints and figures to the run folder and SIGINT to the worker.
 */
function runInWorker(ctx: RunContext, start: WorkerStart, progress: { tick(n?: number, info?: string): void }): Promise<Awaited<ReturnType<typeof runBatch>>> {
  return new Promise((done, fail) => {
    const w = moduleWorker(import.meta.url, './worker', { workerData: start });
    const onAbort = () => w.postMessage({ type: 'abort' });
    ctx.signal.addEventListener('abort', onAbort);
    const pending: Promise<void>[] = [];
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'log') ctx.log(`[batch ${start.batchIndex + 1}] ${m.message}`);
      else if (m.type === 'tick') progress.tick(m.n, m.info);
      else if (m.type === 'checkpoint') pending.push(ctx.checkpoint(m.summary).then(() => w.postMessage({ type: 'ack', id: m.id })));
      else if (m.type === 'figure') pending.push(ctx.figure(m.name, m.figure));
      else if (m.type === 'done' || m.type === 'error') {
        ctx.signal.removeEventListener('abort', onAbort);
        void w.terminate();
        void Promise.all(pending).then(() => (m.type === 'done' ? done(m.value) : fail(new Error(`worker of batch ${start.batchIndex + 1}: ${m.message}`))), fail);
      }
    });
    w.on('error', (e) => {
      ctx.signal.removeEventListener('abort', onAbort);
      fail(e);
    });
  });
}

/** The `lateral-line` example. */
export const lateralLineExample: ExampleSpec = {
  name: 'lateral-line',
  description: 'lateral-line map learning (LL → MON → TS, STDP, PV map quality), seeds batched in one event-driven simulation',
  options: [
    ...LATERAL_LINE_OPTIONS,
    { name: 'workers', type: 'int', default: 1, min: 1, max: 64, description: 'worker threads: the seeds are split into this many batches simulated in parallel (one per core)' },
    { name: 'resumeFrom', type: 'string', default: '', description: 'resume from the mid_checkpoint.npz of this earlier run folder (same parameters and seeds)' },
    { name: 'extractFrom', type: 'string', default: '', description: "extract mode: test only, on a fresh network with the trained MON→TS weights of this earlier run folder's artifacts (the original's published evaluation)" },
    { name: 'extractLlMonWeights', type: 'string', default: 'initial', choices: ['initial', 'trained'], description: "extract mode's LL→MON weights: 'initial' as built (what the original's saved npz holds), 'trained' from the earlier run" },
  ],
  presets: LATERAL_LINE_PRESETS,
  defaultMode: 'll_thesis',
  validate(p: Params): void {
    validateLateralLine(p);
    if (p.resumeFrom !== '' && Number(p.workers) > 1) throw new CinderArgumentError('--resume-from', p.resumeFrom, 'a resume with --workers 1 (`--resume DIR` continues a run with workers in its own folder)');
    if (Number(p.workers) > 1 && Number(p.batchLanes) > 0) throw new CinderArgumentError('--workers', p.workers, 'either --workers or --batch-lanes, not both');
    if (Number(p.workers) > Number(p.multiSeed)) throw new CinderArgumentError('--workers', p.workers, `at most --multi-seed (${p.multiSeed}) workers`);
    if (p.resumeFrom !== '') {
      const ck = join(resolve(String(p.resumeFrom)), 'artifacts', 'mid_checkpoint.npz');
      if (!existsSync(ck)) throw new CinderArgumentError('--resume-from', p.resumeFrom, 'a run folder with artifacts/mid_checkpoint.npz');
    }
    if (p.extractFrom !== '') {
      if (p.resumeFrom !== '') throw new CinderArgumentError('--extract-from', p.extractFrom, 'either --extract-from or --resume-from, not both');
      if (Number(p.workers) > 1) throw new CinderArgumentError('--workers', p.workers, '1 with --extract-from (a test-only run)');
      const src = extractSourceParams(String(p.extractFrom));
      const tag = String(src.saveTag);
      for (const o of LATERAL_LINE_OPTIONS) {
        if (EXTRACT_MAY_DIFFER.has(o.name) || src[o.name] === undefined || src[o.name] === p[o.name]) continue;
        throw new CinderArgumentError('--extract-from', p.extractFrom, `a run of the same network parameters (--${kebabCase(o.name)} is ${JSON.stringify(src[o.name])} there, ${JSON.stringify(p[o.name])} here)`);
      }
      if (Number(p.seedStart) >= 0) {
        for (let s = 0; s < Number(p.multiSeed); s++) {
          const f = join(resolve(String(p.extractFrom)), 'artifacts', `${tag}_seed_${Number(p.seedStart) + s}.npz`);
          if (!existsSync(f)) throw new CinderArgumentError('--extract-from', p.extractFrom, `a run folder with ${join('artifacts', `${tag}_seed_${Number(p.seedStart) + s}.npz`)} (seed ${Number(p.seedStart) + s})`);
        }
      }
    }
  },
  // always present; one seed adds seed, ts_spikes_during_test_window, pv_map_quality, …; several a `runs` list
  summaryKeys: ['ll_mon_topo', 'mon_ts_topo', 'mon_ts_sigma', 'mon_ts_gain_mV', 'seed_start', 'multi_seed', 'timing'],
  volatileKeys: ['timing'],
  labelKeys: ['seed_start', 'multi_seed'],
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
    const load = p.extractFrom !== '' ? loadExtractWeights(String(p.extractFrom), seeds, p.extractLlMonWeights === 'trained') : null;
    const header: Record<string, unknown> = {
      ll_mon_topo: Number(p.llMonTopo), mon_ts_topo: Number(p.monTsTopo), mon_ts_sigma: Number(p.monTsSigma), mon_ts_gain_mV: Number(p.monTsGainMv),
      seed_start: seeds[0], multi_seed: seeds.length,
      ...(load ? { extract: { from: load.from, ll_mon_weights: String(p.extractLlMonWeights) } } : {}),
    };
    await ctx.checkpoint(header);
    ctx.log(load
      ? `${seeds.length} seed(s) ${seeds[0]}…${seeds[seeds.length - 1]}: extract mode, test only, MON→TS${load.lanes[0]?.llMonW ? ' and LL→MON' : ''} weights of ${load.from}`
      : `${seeds.length} seed(s) ${seeds[0]}…${seeds[seeds.length - 1]}: n_mon ${p.nMon}, n_ts ${p.nTs}, ${p.nTrainingTrials} trials × ${p.trialDurationS} s`);
    const nWorkers = Number(p.workers);
    const lanes = nWorkers > 1 ? Math.ceil(seeds.length / nWorkers) : Number(p.batchLanes) > 0 ? Number(p.batchLanes) : seeds.length;
    const batches: number[][] = [];
    for (let s = 0; s < seeds.length; s += lanes) batches.push(seeds.slice(s, s + lanes));
    if (resume && batches.length > 1) throw new Error('--resume-from needs all seeds in one batch (--batch-lanes 0)');
    const loadOf = (bi: number): LoadedWeights | null => (load ? { from: load.from, lanes: load.lanes.slice(bi * lanes, bi * lanes + batches[bi]!.length) } : null);
    // `--resume` of this folder: each batch continues from its own last checkpoint, if it wrote one
    const resumeFileOf = (bi: number): string | null => {
      if (!ctx.resumed) return null;
      const f = ctx.artifactPath(`${checkpointName(bi, batches.length)}.npz`);
      return existsSync(f) ? f : null;
    };
    if (ctx.resumed) {
      const found = batches.map((_, bi) => resumeFileOf(bi)).filter((f) => f !== null).length;
      ctx.log(`resume: ${found} of ${batches.length} batch checkpoint(s) found`);
    }
    const results: Record<string, unknown>[] = [];
    const timings: BatchTiming[] = [];
    if (nWorkers > 1) {
      // the batches run at once, one worker thread each
      const progress = ctx.progress((Number(p.nTrainingTrials)) * batches.length, `trials (${batches.length} workers)`);
      const outs = await Promise.all(batches.map((b, bi) => runInWorker(ctx, { params: { ...p }, outDir: ctx.outDir, seeds: b, batchIndex: bi, nBatches: batches.length, resumeFile: resumeFileOf(bi) }, progress)));
      progress.done();
      for (const o of outs) {
        results.push(...o.results);
        timings.push(o.timing);
      }
      if (ctx.signal.aborted) return { ...header }; // the run folder marks the status 'interrupted'
    } else {
      for (let bi = 0; bi < batches.length; bi++) {
        const own = resumeFileOf(bi);
        const o = await runBatch(ctx, batches[bi]!, own !== null ? readNpz(own) : resume, bi, batches.length, loadOf(bi));
        results.push(...o.results);
        timings.push(o.timing);
        if (ctx.signal.aborted) return { ...header }; // the run folder marks the status 'interrupted'
      }
    }
    // wall: batches in sequence add up, batches in parallel workers overlap (the longest counts)
    const timing = {
      wallTrain: nWorkers > 1 ? Math.max(...timings.map((t) => t.wallTrain)) : timings.reduce((a, t) => a + t.wallTrain, 0),
      // process.cpuUsage counts the whole process: in parallel workers each batch already saw all threads
      cpuTrain: nWorkers > 1 ? Math.max(...timings.map((t) => t.cpuTrain)) : timings.reduce((a, t) => a + t.cpuTrain, 0),
      wallTest: nWorkers > 1 ? Math.max(...timings.map((t) => t.wallTest)) : timings.reduce((a, t) => a + t.wallTest, 0),
      trialsRun: timings[0]?.trialsRun ?? 0,
    };
    const trialSeeds = timing.trialsRun * seeds.length;
    const summary: Record<string, unknown> = {
      ...header,
      timing: {
        train_wall_s: timing.wallTrain, train_cpu_s: timing.cpuTrain, test_wall_s: timing.wallTest,
        ms_per_trial_per_seed_wall: trialSeeds > 0 ? (1000 * timing.wallTrain) / trialSeeds : null,
        ms_per_trial_per_seed_cpu: trialSeeds > 0 ? (1000 * timing.cpuTrain) / trialSeeds : null,
      },
    };
    if (load === null) {
      // the progress fields of the checkpoints, now for the whole run (a checkpoint's come from one
      // batch and stop before the last trial; they would outlive it in the merged summary)
      summary.trials_done = Number(p.nTrainingTrials);
      summary.last_pv_sigma_theta_rad = results.map((r) => (r.pv_vs_training_time as { sigma_theta_rad: number[] }).sigma_theta_rad.at(-1) ?? null);
    }
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

/**
 * What an extract-mode run may set differently from the run whose weights it tests: seeds, run
 * control, the training stimulus (no training runs) and the test stimulus (the original's extract
 * runs re-test trained weights at other distances, speeds, sizes and directions). Everything else
 * builds the network and must match.
 */
const EXTRACT_MAY_DIFFER = new Set([
  'multiSeed', 'seedStart', 'saveTag', 'nTrainingTrials', 'checkpointTrials', 'pvEvalEveryCheckpoints', 'checkpointSaveEveryN', 'batchLanes',
  'trainingPositionHoldS', 'trainingNoiseEarly', 'trainingNoiseLate', 'trainingNoiseSwitch', 'trainingOrderedSweeps', 'trainingFixedDistance',
  'trainingBidirectional', 'trainingDistanceMinCm', 'trainingDistanceMaxCm', 'trialDurationS',
  'speedCmS', 'distanceCm', 'direction', 'sphereRadiusCm', 'testLlNoiseHz', 'testPathCm', 'evalXMinCm', 'evalXMaxCm', 'keepMonTsStdpDuringTest',
  'llRateMode', 'llBaselineSubtractHz', 'llRateGain',
]);

/** The resolved parameters of an earlier run folder (its params.json), whose artifacts extract mode reads. */
function extractSourceParams(dir: string): Params {
  const f = join(resolve(dir), 'params.json');
  if (!existsSync(f)) throw new CinderArgumentError('--extract-from', dir, 'a lateral-line run folder (with params.json)');
  let params: unknown;
  try {
    params = (JSON.parse(readFileSync(f, 'utf8')) as { params?: Params }).params;
  } catch {
    throw new CinderArgumentError('--extract-from', dir, 'a run folder whose params.json is valid JSON');
  }
  if (params === null || typeof params !== 'object' || typeof (params as Params).saveTag !== 'string') {
    throw new CinderArgumentError('--extract-from', dir, 'a lateral-line run folder (params.json with params.saveTag)');
  }
  return params as Params;
}


/** Reads the trained weights of every seed for extract mode (checked against the rebuilt network by runBatch). */
function loadExtractWeights(dir: string, seeds: readonly number[], trainedLlMon: boolean): LoadedWeights {
  const from = resolve(dir);
  const tag = String(extractSourceParams(from).saveTag);
  return {
    from,
    lanes: seeds.map((seed) => {
      const f = join(from, 'artifacts', `${tag}_seed_${seed}.npz`);
      if (!existsSync(f)) throw new CinderArgumentError('--extract-from', dir, `a run folder with artifacts/${tag}_seed_${seed}.npz (seed ${seed})`);
      const a = readNpz(f);
      for (const k of ['mon_ts_w', 'mon_ts_i', 'mon_ts_j', 'll_mon_w_mV', 'll_mon_i', 'll_mon_j']) {
        if (!(k in a)) throw new CinderArgumentError('--extract-from', dir, `artifacts with ${k} (missing in ${tag}_seed_${seed}.npz)`);
      }
      return { monTsW: a.mon_ts_w!, monTsI: a.mon_ts_i!, monTsJ: a.mon_ts_j!, llMonW: trainedLlMon ? a.ll_mon_w_mV! : null, llMonI: a.ll_mon_i!, llMonJ: a.ll_mon_j! };
    }),
  };
}

function msd(x: number[]): { mean: number; sd: number; n: number } {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  const sd = x.length > 1 ? Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1)) : 0;
  return { mean: m, sd, n: x.length };
}
