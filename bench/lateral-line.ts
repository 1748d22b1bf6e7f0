/**
 * Benchmark `lateral-line`: ms per 1.2 s training trial of the published baseline (ll_thesis + the
 * baseline flags: 3,200 MON, 300 TS, STDP on both pathways, homeostasis) on the batched
 * event-driven engine, with B seeds in one batch, and the extrapolation to the published run
 * (10 seeds × 10,000 trials). Wall time on a shared machine depends on the other load, so CPU time
 * of this process is reported as well; the extrapolation for two cores assumes the seeds are split
 * into two processes (`--multi-seed 5` twice), each one batch.
 *
 * Reference (reference Part B.8): the original (Brian2, numpy code generation) needs ≈2–3 h per
 * seed for 10,000 trials (≈0.7–1.1 s per trial), and ran 20 trials + test in 63 s wall.
 *
 * Environment: `LL_BENCH_SEEDS` (lanes, default 10), `LL_BENCH_TRIALS` (timed trials, default 3).
 * Standalone: `npx tsx bench/lateral-line.ts`.
 */
import { lateralLineParams } from '../examples/lateral-line/params.js';
import { LateralLineModel, modelParams } from '../examples/lateral-line/model.js';
import { emit, sig } from './harness.js';

/** Runs the lateral-line benchmark and prints its lines. */
export async function run(): Promise<void> {
  const B = Number(process.env.LL_BENCH_SEEDS ?? 10);
  const trials = Number(process.env.LL_BENCH_TRIALS ?? 3);
  const p = lateralLineParams('baseline');
  const seeds = Array.from({ length: B }, (_, k) => 123 + k);
  const tb = performance.now();
  const model = new LateralLineModel(modelParams(p), seeds);
  const buildMs = performance.now() - tb;
  model.trainTrial(0); // warm-up (JIT)
  model.homeostasis(0);
  model.net.resetCounts();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let k = 1; k <= trials; k++) {
    model.trainTrial(k);
    model.homeostasis(k);
  }
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  const perTrialSeedWall = wallMs / trials / B;
  const perTrialSeedCpu = cpuMs / trials / B;
  const fullTrialSeeds = 10 * 10_000;
  const trialS = Number(p.trialDurationS);
  const rate = (g: { spikeCounts: Float64Array; n: number }) => g.spikeCounts.reduce((a, x) => a + x, 0) / (g.n * B * trials * trialS);
  emit({
    case: 'lateral-line',
    scale: 'baseline (ll_thesis + published flags): n_mon 3200, n_ts 300, 1.2 s trials, dt 1 ms',
    seeds_batched: B,
    trials_timed: trials,
    build_ms: sig(buildMs),
    ms_per_trial_batch_wall: sig(wallMs / trials),
    ms_per_trial_per_seed_wall: sig(perTrialSeedWall),
    ms_per_trial_per_seed_cpu: sig(perTrialSeedCpu),
    ms_per_simulated_second_per_seed_cpu: sig(perTrialSeedCpu / trialS),
    published_run_hours_one_process_cpu: sig((fullTrialSeeds * perTrialSeedCpu) / 3.6e6),
    published_run_hours_two_processes_cpu: sig((fullTrialSeeds * perTrialSeedCpu) / 2 / 3.6e6),
    published_run_hours_one_process_wall_measured_load: sig((fullTrialSeeds * perTrialSeedWall) / 3.6e6),
    original_hours_per_seed: '2-3 (Brian2 numpy, Apple M-series)',
    speedup_vs_original_per_seed_cpu: sig((2.5 * 3.6e6) / (10_000 * perTrialSeedCpu)),
    rates_hz: { LL: sig(rate(model.ll)), MON: sig(rate(model.mon)), TS: sig(rate(model.ts)) },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
