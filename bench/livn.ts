/**
 * Benchmark `livn`: EI3 (1,000 neurons, ≈ 65,000 plastic synapses) with voltage-gated STDP on,
 * ms per simulated second of the event-driven CPU engine (src/kernels/js/culture.ts), next to the
 * Brian2 script of the same model (bench/peers/brian2_livn_ei3.py, cython target, compile excluded)
 * when `/usr/bin/python3` has Brian2. Wall and CPU time are both reported (on a loaded shared
 * machine the CPU-time ratio is the steadier one). Order: Cinder, Brian2, Cinder (the Cinder figure is the
 * median of its repeats from both sides); the ratio is Cinder / Brian2 from the same invocation.
 *
 * Environment: `LIVN_BENCH_MS` (timed simulated ms per repeat, default 1000), `LIVN_BENCH_BRIAN2=0`
 * skips the peer, `LIVN_BENCH_SYSTEM` (default EI3).
 * Standalone: `npx tsx bench/livn.ts`.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { buildCultures, EI_SYSTEMS, type EiSystem } from '../examples/livn-stdp/systems.js';
import { emit, sig } from './harness.js';

function timeCinder(system: EiSystem, ms: number, seed: number): { msPerSimSecond: number; cpuMsPerSimSecond: number; rateExc: number; rateInh: number; synapses: number } {
  const c = buildCultures(system, 1, seed);
  const net = c.network;
  net.recordSpikes();
  net.run(100);
  net.enablePlasticity();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = net.run(ms);
  const wall = performance.now() - t0;
  const c1 = process.cpuUsage(c0);
  const cpu = (c1.user + c1.system) / 1000;
  let e = 0;
  for (const g of r.spikeGids) if (g < c.nExc) e++;
  return { msPerSimSecond: wall / (ms / 1000), cpuMsPerSimSecond: cpu / (ms / 1000), rateExc: e / c.nExc / (ms / 1000), rateInh: (r.spikeGids.length - e) / (c.size - c.nExc) / (ms / 1000), synapses: net.synapseCount };
}

function timeBrian2(n: number, ms: number): Record<string, number> | null {
  if (process.env.LIVN_BENCH_BRIAN2 === '0') return null;
  const script = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'brian2_livn_ei3.py');
  try {
    const out = execFileSync('/usr/bin/python3', [script, 'cython', String(ms / 1000), String(n), '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 900_000 });
    const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    return line ? (JSON.parse(line) as Record<string, number>) : null;
  } catch {
    return null;
  }
}

/** Runs the livn benchmark and prints its line. */
export async function run(): Promise<void> {
  const ms = Number(process.env.LIVN_BENCH_MS ?? 1000);
  const system = (process.env.LIVN_BENCH_SYSTEM ?? 'EI3') as EiSystem;
  const first = timeCinder(system, ms, 1);
  const brian = timeBrian2(EI_SYSTEMS[system], ms);
  const second = timeCinder(system, ms, 1);
  const cinder = [first.msPerSimSecond, second.msPerSimSecond].sort((a, b) => a - b);
  const cinderMs = (cinder[0]! + cinder[1]!) / 2;
  const cinderCpu = (first.cpuMsPerSimSecond + second.cpuMsPerSimSecond) / 2;
  emit({
    case: 'livn',
    system,
    plasticity: true,
    simulated_ms: ms,
    plastic_synapses: first.synapses,
    cinder_ms_per_simulated_second: sig(cinderMs),
    cinder_runs_ms_per_simulated_second: cinder.map(sig),
    cinder_cpu_ms_per_simulated_second: sig(cinderCpu),
    cinder_rate_exc_hz: sig(first.rateExc),
    cinder_rate_inh_hz: sig(first.rateInh),
    brian2_cython_ms_per_simulated_second: brian ? sig(brian.ms_per_simulated_second!) : null,
    brian2_cython_cpu_ms_per_simulated_second: brian ? sig(brian.cpu_ms_per_simulated_second!) : null,
    brian2_rate_exc_hz: brian ? sig(brian.rate_exc_hz!) : null,
    brian2_rate_inh_hz: brian ? sig(brian.rate_inh_hz!) : null,
    brian2_synapses: brian ? brian.synapses : null,
    ratio_cinder_over_brian2: brian ? sig(cinderMs / brian.ms_per_simulated_second!) : null,
    cpu_ratio_cinder_over_brian2: brian ? sig(cinderCpu / brian.cpu_ms_per_simulated_second!) : null,
    target_ratio: 0.5,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run();
}
