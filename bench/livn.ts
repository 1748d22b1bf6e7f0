/**
 * Benchmark `livn`: EI3 (1,000 neurons, ≈ 65,000 plastic synapses) with voltage-gated STDP on,
 * ms per simulated second of the event-driven CPU engine (src/kernels/js/culture.ts), next to the
 * Brian2 script of the same model (bench/peers/brian2_livn_ei3.py, cython target, compilation
 * excluded) when `/usr/bin/python3` has Brian2, in the same invocation: Cinder, Brian2, Cinder.
 *
 * Each side repeats its timed run (`LIVN_BENCH_REPEATS`, default 3, each `LIVN_BENCH_MS` simulated
 * ms, default 1000, plasticity on) and reports its fastest repeat — the one least disturbed by
 * other load on a shared machine — in wall and CPU time (process CPU time: on a loaded machine the
 * CPU-time ratio is the steadier one); all repeats are listed.
 *
 * Environment: `LIVN_BENCH_MS`, `LIVN_BENCH_REPEATS`, `LIVN_BENCH_BRIAN2=0` (skip the peer),
 * `LIVN_BENCH_SYSTEM` (default EI3). Standalone: `npx tsx bench/livn.ts`.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { buildCultures, EI_SYSTEMS, type EiSystem } from '../examples/livn-stdp/systems.js';
import { emit, sig } from './harness.js';

interface Side { wall: number[]; cpu: number[]; rateExc: number; rateInh: number; synapses: number }

function timeCinder(system: EiSystem, ms: number, repeats: number, seed: number): Side {
  const c = buildCultures(system, 1, seed);
  const net = c.network;
  net.recordSpikes();
  net.run(100);
  net.enablePlasticity();
  const wall: number[] = [], cpu: number[] = [];
  let exc = 0, inh = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const chunk = net.run(ms);
    const c1 = process.cpuUsage(c0);
    wall.push((performance.now() - t0) / (ms / 1000));
    cpu.push((c1.user + c1.system) / 1000 / (ms / 1000));
    for (const g of chunk.spikeGids) (g < c.nExc ? exc++ : inh++);
  }
  const sec = (repeats * ms) / 1000;
  return { wall, cpu, rateExc: exc / c.nExc / sec, rateInh: inh / (c.size - c.nExc) / sec, synapses: net.synapseCount };
}

function timeBrian2(n: number, ms: number, repeats: number): (Side & { raw: Record<string, unknown> }) | null {
  if (process.env.LIVN_BENCH_BRIAN2 === '0') return null;
  const script = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'brian2_livn_ei3.py');
  try {
    const out = execFileSync('/usr/bin/python3', [script, 'cython', String(ms / 1000), String(n), '1', String(repeats)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 1_200_000 });
    const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    if (!line) return null;
    const r = JSON.parse(line) as Record<string, unknown>;
    return {
      wall: r.wall_ms_per_simulated_second_runs as number[], cpu: r.cpu_ms_per_simulated_second_runs as number[],
      rateExc: r.rate_exc_hz as number, rateInh: r.rate_inh_hz as number, synapses: r.synapses as number, raw: r,
    };
  } catch {
    return null;
  }
}

/** Runs the livn benchmark and prints its line. */
export async function run(): Promise<void> {
  const ms = Number(process.env.LIVN_BENCH_MS ?? 1000);
  const repeats = Number(process.env.LIVN_BENCH_REPEATS ?? 3);
  const system = (process.env.LIVN_BENCH_SYSTEM ?? 'EI3') as EiSystem;
  const first = timeCinder(system, ms, repeats, 1);
  const brian = timeBrian2(EI_SYSTEMS[system], ms, repeats);
  const second = timeCinder(system, ms, repeats, 1);
  const wall = [...first.wall, ...second.wall];
  const cpu = [...first.cpu, ...second.cpu];
  const best = (x: number[]) => Math.min(...x);
  emit({
    case: 'livn',
    system,
    plasticity: true,
    simulated_ms_per_repeat: ms,
    repeats,
    plastic_synapses: first.synapses,
    cinder_ms_per_simulated_second: sig(best(wall)),
    cinder_cpu_ms_per_simulated_second: sig(best(cpu)),
    cinder_runs_ms_per_simulated_second: wall.map(sig),
    cinder_runs_cpu_ms_per_simulated_second: cpu.map(sig),
    cinder_rate_exc_hz: sig(first.rateExc),
    cinder_rate_inh_hz: sig(first.rateInh),
    brian2_cython_ms_per_simulated_second: brian ? sig(best(brian.wall)) : null,
    brian2_cython_cpu_ms_per_simulated_second: brian ? sig(best(brian.cpu)) : null,
    brian2_runs_ms_per_simulated_second: brian ? brian.wall.map(sig) : null,
    brian2_runs_cpu_ms_per_simulated_second: brian ? brian.cpu.map(sig) : null,
    brian2_rate_exc_hz: brian ? sig(brian.rateExc) : null,
    brian2_rate_inh_hz: brian ? sig(brian.rateInh) : null,
    brian2_synapses: brian ? brian.synapses : null,
    ratio_cinder_over_brian2: brian ? sig(best(wall) / best(brian.wall)) : null,
    cpu_ratio_cinder_over_brian2: brian ? sig(best(cpu) / best(brian.cpu)) : null,
    target_ratio: 0.5,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run();
}
