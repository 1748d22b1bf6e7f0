/**
 * Benchmark `sparse-stdp`: the event-driven kernels at the lateral-line model's scale, B seeds
 * as one batch, each with its own topographic connectivity (dt 1 ms):
 * LL (100) → MON (3200), in-degree 10, multiplicative STDP; MON (3200) → TS (300), out-degree 16,
 * additive STDP with delivery into a conductance array; homeostasis on both every 10 trials.
 * Spikes are Bernoulli at the given rates (pre-drawn, not timed). Reports ms per step and per
 * 1.2 s trial for all seeds, ns per synapse event, and the ratio between two firing rates (work ∝
 * spikes: ≈ the rate ratio, 4). Fastest of 3 runs each.
 *
 * Environment: `SPARSE_BENCH_SEEDS` (default 10), `SPARSE_BENCH_STEPS` (default 1200).
 * Standalone: `npx tsx bench/sparse-stdp.ts`.
 */
import { Rng } from '../src/core/random.js';
import { EventSTDP } from '../src/kernels/js/event-stdp.js';
import { SparseHomeostasis } from '../src/kernels/js/sparse-homeostasis.js';
import { synapseListBatch, topographicSynapses } from '../src/neural/connections/sparse-topology.js';
import { emit, sig } from './harness.js';

/** Pre-drawn spike lists: step t's ids are `ids[start[t] .. start[t+1])`. */
function spikes(steps: number, width: number, rateHz: number, rng: Rng): { start: Int32Array; ids: Int32Array } {
  const p = rateHz / 1000;
  const start = new Int32Array(steps + 1);
  const ids: number[] = [];
  for (let t = 0; t < steps; t++) {
    for (let u = 0; u < width; u++) if (rng.uniform() < p) ids.push(u);
    start[t + 1] = ids.length;
  }
  return { start, ids: Int32Array.from(ids) };
}

function timeTrial(seeds: number, steps: number, rate: number): { ms: number; events: number } {
  const rng = new Rng(1);
  const llMon = synapseListBatch(seeds, rng, (r) => topographicSynapses(100, 3200, { fixed: 'in', degree: 10, topo: 0.2, sigma: 15 }, r));
  const monTs = synapseListBatch(seeds, rng, (r) => topographicSynapses(3200, 300, { fixed: 'out', degree: 16, topo: 0.2, sigma: 10 }, r));
  const a = new EventSTDP(llMon, { dt: 1, tauPre: 20, tauPost: 20, aPre: 0.01, aPost: -0.0105, wMax: 20, dependence: 'multiplicative', weight: rng.uniformArray(seeds * 3200 * 10, 10, 18) });
  const b = new EventSTDP(monTs, { dt: 1, tauPre: 20, tauPost: 20, aPre: 0.01, aPost: -0.006, wMax: 0.028, weight: rng.uniformArray(seeds * 3200 * 16, 0.02, 0.025) });
  const ha = new SparseHomeostasis(a, { eta: 0.005, target: 'initial', wMax: 20, every: 10 });
  const hb = new SparseHomeostasis(b, { eta: 0.001, target: 'current', wMax: 0.028, every: 10 });
  const ll = spikes(steps, seeds * 100, 2 * rate, rng);
  const mon = spikes(steps, seeds * 3200, rate, rng);
  const ts = spikes(steps, seeds * 300, rate, rng);
  const geMon = new Float64Array(seeds * 3200);
  const geTs = new Float64Array(seeds * 300);
  const t0 = performance.now();
  for (let t = 0; t < steps; t++) {
    // the postsynaptic lists of step t start at mon.start[t] and ts.start[t]: hand the kernels views
    a.step(ll.ids, ll.start[t + 1]! - ll.start[t]!, mon.ids.subarray(mon.start[t]!, mon.start[t + 1]!), mon.start[t + 1]! - mon.start[t]!, geMon, 1, ll.start[t]!);
    b.step(mon.ids, mon.start[t + 1]! - mon.start[t]!, ts.ids.subarray(ts.start[t]!, ts.start[t + 1]!), ts.start[t + 1]! - ts.start[t]!, geTs, 72, mon.start[t]!);
  }
  ha.trialEnded();
  hb.trialEnded();
  const ms = performance.now() - t0;
  // synapse events: every spike times its unit's synapse count (out-degree as pre, in-degree as post)
  const degree = (lists: typeof llMon, side: 'pre' | 'post', n: number) => {
    const d = new Int32Array(seeds * n);
    lists.forEach((l, b) => l[side].forEach((u) => d[b * n + u]!++));
    return d;
  };
  const count = (ids: Int32Array, d: Int32Array) => ids.reduce((s, u) => s + d[u]!, 0);
  const events = count(ll.ids, degree(llMon, 'pre', 100)) + count(mon.ids, degree(llMon, 'post', 3200)) + count(mon.ids, degree(monTs, 'pre', 3200)) + count(ts.ids, degree(monTs, 'post', 300));
  return { ms, events };
}

/** Runs the benchmark and prints its line. */
export async function run(): Promise<void> {
  const seeds = Math.max(1, Math.round(Number(process.env.SPARSE_BENCH_SEEDS ?? 10)));
  const steps = Math.max(10, Math.round(Number(process.env.SPARSE_BENCH_STEPS ?? 1200)));
  timeTrial(seeds, Math.min(steps, 200), 20); // warm-up (JIT)
  // fastest of 3 (the shared machine's load inflates single runs)
  const best = (rate: number) => [0, 1, 2].map(() => timeTrial(seeds, steps, rate)).sort((x, y) => x.ms - y.ms)[0]!;
  const r20 = best(20);
  const r5 = best(5);
  emit({
    case: 'sparse-stdp',
    seeds,
    steps,
    synapses_per_seed: 3200 * 10 + 3200 * 16,
    ms_per_step_20hz: sig(r20.ms / steps),
    ms_per_trial_1200_steps_20hz: sig((r20.ms / steps) * 1200),
    synapse_events_per_step_20hz: sig(r20.events / steps),
    ns_per_synapse_event_20hz: sig((r20.ms * 1e6) / r20.events),
    ms_per_step_5hz: sig(r5.ms / steps),
    ratio_20hz_over_5hz: sig(r20.ms / r5.ms),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
