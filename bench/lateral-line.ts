/**
 * Benchmark `lateral-line`: ms per 1.2 s training trial of the published baseline (ll_thesis + the
 * baseline flags: 3,200 MON, 300 TS, STDP on both pathways, homeostasis) on the batched
 * event-driven engine, with B seeds in one batch, and the extrapolation to the published run
 * (10 seeds × 10,000 trials). Wall time on a shared machine depends on the other load, so CPU time
 * of this process is reported as well; the extrapolation for two cores assumes `--workers 2` (two
 * batches of 5 seeds in two worker threads, which share nothing but the process).
 *
 * Reference (reference Part B.8): the original (Brian2, numpy code generation) needs ≈2–3 h per
 * seed for 10,000 trials (≈0.7–1.1 s per trial), and ran 20 trials + test in 63 s wall.
 *
 * Side by side with the original (optional): with `LL_PEER_DIR` set to a checkout of
 * github.com/JulieGoulet2/LateralLine (Brian2 2.5.1 via /usr/bin/python3), the same small
 * configuration — the original's regression recipe, ll_fast + the baseline flags, n_mon 800,
 * n_ts 80, `LL_PEER_TRIALS` (default 20) trials of 0.8 s and the test — runs in both, one after
 * the other in this invocation, and the line reports both wall times and their ratio.
 *
 * Environment: `LL_BENCH_SEEDS` (lanes, default 10), `LL_BENCH_TRIALS` (timed trials, default 3).
 * Standalone: `npx tsx bench/lateral-line.ts`.
 */
import { lateralLineParams } from '../examples/lateral-line/params.js';
import { LateralLineModel, modelParams } from '../examples/lateral-line/model.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { emit, sig } from './harness.js';

/** The original's regression recipe (tests/test_regression.py) as kebab-case flags. */
const PEER_FLAGS = [
  '--mode', 'll_fast', '--use-ll-mon-stdp', '--ll-mon-topo', '0.2', '--mon-ts-topo', '0.2', '--ll-mon-in-degree', '10',
  '--ll-mon-w-init-mv', '10', '--ll-mon-w-jitter-stdp-mv', '8', '--ll-mon-apre', '0.010', '--ll-mon-apost', '-0.0105',
  '--ll-mon-wmax-mv', '20', '--ll-mon-homeo-eta', '0.005', '--mon-ts-homeo-eta', '0.001', '--mon-ts-gain-mv', '220',
  '--ts-local-inh-peak-mv', '1.5', '--bg-rate-mon-hz', '18', '--mon-global-inh-mv', '1.8',
  '--training-distance-min-cm', '0.8', '--training-distance-max-cm', '0.8', '--seed-start', '123',
];

/** Runs the regression recipe in the original (Brian2) and in Cinder, one after the other; wall seconds of each. */
function sideBySide(peerDir: string, trials: number): void {
  const flags = [...PEER_FLAGS, '--n-training-trials', String(trials)];
  const tmp = mkdtempSync(join(tmpdir(), 'll-peer-'));
  try {
    let t = performance.now();
    const peer = spawnSync('/usr/bin/python3', [join(resolve(peerDir), 'll_stdp_brian2.py'), ...flags, '--run-name', 'bench'], {
      cwd: tmp, encoding: 'utf8', env: { ...process.env, MPLBACKEND: 'Agg' }, timeout: 3_600_000,
    });
    const peerWall = (performance.now() - t) / 1000;
    const peerSigma = /sigma_theta=([0-9.]+) rad, valid_fraction=([0-9.]+)/.exec(peer.stdout ?? '');
    t = performance.now();
    const ours = spawnSync(process.execPath, ['--import', 'tsx', resolve('bin/cinder.ts'), 'lateral-line', ...flags, '--seed', '123', '-q', '--out', join(tmp, 'cinder')], { encoding: 'utf8', timeout: 3_600_000 });
    const oursWall = (performance.now() - t) / 1000;
    emit({
      case: 'lateral-line-vs-original',
      config: `ll_fast + baseline flags (n_mon 800, n_ts 80), ${trials} trials × 0.8 s + test, seed 123, one process each, whole command incl. start-up`,
      original_exit: peer.status,
      cinder_exit: ours.status,
      original_wall_s: sig(peerWall),
      cinder_wall_s: sig(oursWall),
      speedup_wall: sig(peerWall / oursWall),
      original_sigma_theta_valid: peerSigma ? [Number(peerSigma[1]), Number(peerSigma[2])] : null,
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

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
    published_run_hours_two_workers_cpu: sig((fullTrialSeeds * perTrialSeedCpu) / 2 / 3.6e6),
    published_run_hours_one_process_wall_measured_load: sig((fullTrialSeeds * perTrialSeedWall) / 3.6e6),
    original_hours_per_seed: '2-3 (Brian2 numpy, Apple M-series)',
    speedup_vs_original_per_seed_cpu: sig((2.5 * 3.6e6) / (10_000 * perTrialSeedCpu)),
    rates_hz: { LL: sig(rate(model.ll)), MON: sig(rate(model.mon)), TS: sig(rate(model.ts)) },
  });
  if (process.env.LL_PEER_DIR) sideBySide(process.env.LL_PEER_DIR, Number(process.env.LL_PEER_TRIALS ?? 20));
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
