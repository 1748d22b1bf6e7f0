/**
 * Benchmark `scale`: the COBA / CUBA benchmark network (`examples/coba/`, dt 0.1 ms, weights as the
 * example sets them: COBA jumps 0.6 / 6.7, CUBA 1.62 / −9 mV, whatever the size) grown from
 * thousands to 10⁵ neurons, on Cinder's event engine (`examples/coba/event-engine.ts`,
 * `EventNetwork`) and on Brian2 (`bench/peers/brian2_coba.py`, cython), in two series:
 * - fixed in-degree K (`SCALE_K`, default 80 expected inputs per neuron, p = K/N): the standard way
 *   to scale this network — each neuron's input statistics, and so the rates, stay those of N = 4000;
 *   work and memory grow as N·K;
 * - fixed probability p (`SCALE_P`, default 0.02): K = p·N grows with N, synapses as N².
 *
 * Each (engine, model, N, K) runs in a fresh child process of its own (`node` with this script for
 * Cinder, `/usr/bin/python3` with the peer for Brian2), which reports:
 * - `build_s`: wall seconds of building the network — connectivity drawn (Cinder: `randomSynapses`
 *   method 'jumps'; Brian2: `connect(p=…)`) and stored, initial state set. Brian2 freezes N, p and
 *   Ne into its generated code, so each new size compiles its code anew (≈ 20 s here): a warm-up run
 *   of the same configuration (10 steps) before the timed one fills the cython cache, and its build
 *   time, compile included when the cache lacked the code, is reported as `build_first_s`; the timed
 *   run's first one-step run (code objects loaded from the cache) is reported apart as `prepare_s`;
 * - `rss_base_mb` and `peak_rss_mb`: peak resident memory (MiB) of the process after its imports
 *   (before building) and at the end of the timed run (Node `process.resourceUsage().maxRSS`, Python
 *   `getrusage(RUSAGE_SELF).ru_maxrss`; both the kernel's high-water mark of the whole process);
 * - `ms_per_sim_second`: wall ms of the timed run (`SCALE_SECONDS` simulated, default 1; build
 *   excluded; Cinder in chunks of 1000 steps with spikes recorded, as `cinder coba` runs) per
 *   simulated second;
 * - `rate_exc_hz`, `rate_inh_hz`: mean rates of the excitatory and inhibitory neurons over the run
 *   (same model, draws differ: the two engines should give similar rates, not equal spikes).
 *
 * Engines run back to back per configuration, `SCALE_REPEAT` times each (default 1; min and every run
 * of the times, the other fields of the fastest run). Prints one JSON line per engine and
 * configuration, then the ratio Cinder / Brian2 of ms per simulated second and of peak memory.
 * Environment: `SCALE_NEURONS` (fixed-K series, default `4000,16000,40000,100000`), `SCALE_P_NEURONS`
 * (fixed-p series, default `4000,16000,40000`; empty skips; a size whose K/N is already p ran in the
 * fixed-K series and is not run again), `SCALE_MODELS` (default `coba`; `coba,cuba`
 * for both), `SCALE_K`, `SCALE_P`, `SCALE_SECONDS`, `SCALE_SEED` (default 1), `SCALE_REPEAT`,
 * `SCALE_PYTHON` (default /usr/bin/python3; Brian2 skipped with a printed reason when not importable).
 * Standalone: `npx tsx bench/scale.ts`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CobaParams } from '../examples/coba/network.js';

/** What one child process reports. */
interface Measure {
  build_s: number;
  ms_per_sim_second: number;
  rss_base_mb: number;
  peak_rss_mb: number;
  rate_exc_hz: number;
  rate_inh_hz: number;
  synapses: number;
  prepare_s?: number;
}

const self = fileURLToPath(import.meta.url);
const maxRssMb = () => process.resourceUsage().maxRSS / 1024; // KiB on Linux

/** Child: builds and runs one Cinder event network, prints one JSON line of {@link Measure}. */
async function child(spec: { model: 'coba' | 'cuba'; neurons: number; p: number; seconds: number; seed: number }): Promise<void> {
  const { buildCobaEvent } = await import('../examples/coba/event-engine.js');
  const rssBase = maxRssMb();
  const p: CobaParams = { model: spec.model, neurons: spec.neurons, p: spec.p, dt: 0.1 };
  const tb = performance.now();
  const m = buildCobaEvent(p, spec.seed);
  const build = (performance.now() - tb) / 1000;
  const N = spec.neurons;
  const ne = m.ne;
  const synapses = m.synapses.exc + m.synapses.inh;
  const steps = Math.round(spec.seconds * 10_000);
  let exc = 0;
  let inh = 0;
  const t0 = performance.now();
  for (let c = 0; c < steps; c += 1000) {
    const { index } = m.run(Math.min(1000, steps - c));
    for (let r = 0; r < index.length; r++) {
      if (index[r]! < ne) exc++;
      else inh++;
    }
  }
  const wall = performance.now() - t0;
  const out: Measure = {
    build_s: build, ms_per_sim_second: wall / spec.seconds, rss_base_mb: rssBase, peak_rss_mb: maxRssMb(),
    rate_exc_hz: exc / ne / spec.seconds, rate_inh_hz: inh / (N - ne) / spec.seconds, synapses,
  };
  console.log(JSON.stringify(out));
}

if (process.env.SCALE_CHILD) {
  await child(JSON.parse(process.env.SCALE_CHILD));
} else {
  const list = (s: string | undefined, d: string) => (s ?? d).split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  const fixedK = list(process.env.SCALE_NEURONS, '4000,16000,40000,100000').map(Number);
  const fixedP = list(process.env.SCALE_P_NEURONS, '4000,16000,40000').map(Number);
  const models = list(process.env.SCALE_MODELS, 'coba') as ('coba' | 'cuba')[];
  const K = Number(process.env.SCALE_K ?? 80);
  const P = Number(process.env.SCALE_P ?? 0.02);
  const seconds = Number(process.env.SCALE_SECONDS ?? 1);
  const seed = Number(process.env.SCALE_SEED ?? 1);
  const repeat = Math.max(1, Number(process.env.SCALE_REPEAT ?? 1));
  const python = process.env.SCALE_PYTHON ?? '/usr/bin/python3';
  const peer = fileURLToPath(new URL('./peers/brian2_coba.py', import.meta.url));
  const line = (o: Record<string, unknown>) => console.log(JSON.stringify({ bench: 'scale', ...o }));
  const probe = existsSync(python) ? spawnSync(python, ['-c', 'import brian2'], { encoding: 'utf8' }) : null;
  const brianOk = probe !== null && probe.status === 0;
  if (!brianOk) line({ engine: 'brian2', skipped: probe ? 'brian2 not importable' : `no ${python}` });

  /** One run in a child process: its JSON line, or the reason it failed (exit status, signal, last stderr line). */
  const once = (engine: 'cinder-event' | 'brian2-cython', model: string, n: number, p: number, sec: number): Measure | { error: string } => {
    const r = engine === 'cinder-event'
      ? spawnSync(process.execPath, [...process.execArgv, self], { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, SCALE_CHILD: JSON.stringify({ model, neurons: n, p, seconds: sec, seed }) } })
      : spawnSync(python, [peer, model, String(sec), String(seed), String(n), String(p)], { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, BRIAN2_COBA_CV: '0' } });
    if (r.status !== 0) return { error: `exit ${r.status} ${r.signal ?? ''}: ${(r.stderr ?? '').trim().split('\n').pop() ?? ''}` };
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measure;
  };

  const configs = [
    ...fixedK.map((n) => ({ series: 'fixed-K', n, p: K / n })),
    // (a size where p = K/N already ran in the fixed-K series is not run again)
    ...fixedP.filter((n) => !(fixedK.includes(n) && K / n === P)).map((n) => ({ series: 'fixed-p', n, p: P })),
  ];
  for (const model of models) {
    for (const { series, n, p } of configs) {
      const res: Record<string, Measure[]> = { 'cinder-event': [], 'brian2-cython': [] };
      const engines = brianOk ? (['cinder-event', 'brian2-cython'] as const) : (['cinder-event'] as const);
      // Brian2 freezes the constants (N, p, ne) into its generated code: a new size compiles anew.
      // A warm-up run of 10 steps fills the cython cache; its build time is reported as build_first_s.
      const first = brianOk ? once('brian2-cython', model, n, p, 0.001) : null;
      for (let r = 0; r < repeat; r++) {
        for (const engine of engines) {
          const m = once(engine, model, n, p, seconds);
          if ('error' in m) line({ engine, model, series, neurons: n, k: p * n, p, error: m.error });
          else res[engine]!.push(m);
        }
      }
      for (const engine of engines) {
        const runs = res[engine]!;
        if (runs.length === 0) continue;
        const best = runs.reduce((a, b) => (b.ms_per_sim_second < a.ms_per_sim_second ? b : a));
        line({
          engine, model, series, neurons: n, k: p * n, p, seconds, seed, synapses: best.synapses,
          build_s: best.build_s, ...(engine === 'brian2-cython' && first && !('error' in first) ? { build_first_s: first.build_s } : {}),
          ...(best.prepare_s !== undefined ? { prepare_s: best.prepare_s } : {}),
          rss_base_mb: best.rss_base_mb, peak_rss_mb: best.peak_rss_mb,
          ms_per_sim_second: best.ms_per_sim_second, runs: runs.map((x) => x.ms_per_sim_second),
          rate_exc_hz: best.rate_exc_hz, rate_inh_hz: best.rate_inh_hz,
        });
      }
      const c = res['cinder-event']!;
      const b = res['brian2-cython']!;
      if (c.length && b.length) {
        const min = (a: Measure[], k: 'ms_per_sim_second' | 'peak_rss_mb' | 'build_s') => Math.min(...a.map((x) => x[k]));
        line({ model, series, neurons: n, ratio_time_cinder_over_brian2: min(c, 'ms_per_sim_second') / min(b, 'ms_per_sim_second'), ratio_peak_rss_cinder_over_brian2: min(c, 'peak_rss_mb') / min(b, 'peak_rss_mb'), ratio_build_cinder_over_brian2: min(c, 'build_s') / min(b, 'build_s') });
      }
    }
  }
}
