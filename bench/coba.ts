/**
 * Benchmark `coba`: ms per simulated second of the COBA / CUBA benchmark network (4000 neurons,
 * p = 0.02, dt 0.1 ms; `examples/coba/`) on Cinder's event engine (`event-engine.ts`, plain typed
 * arrays), on the module engine (`network.ts`, tfjs wasm backend), and the Brian2 peer
 * (`bench/peers/brian2_coba.py`, cython, compiled code cached by a first run of one step), back to
 * back per model (event engine and Brian2 alternately `COBA_BENCH_REPEAT` times, default 3: min,
 * median and every run; the machine may be shared). Prints one JSON line per engine and model, then
 * the ratios to Brian2 (min over min, median over median). Then the
 * event engine with `COBA_BENCH_LANES` seeds as lanes of one EventNetwork (seeds seed … seed+L−1;
 * lanes are advanced one after the other, so the cost per seed is expected to stay that of one
 * seed): ms per simulated second per seed. Skips Brian2 with a printed reason when it is not
 * importable. Environment: `COBA_BENCH_SECONDS` (default 1), `COBA_BENCH_SEED` (default 1),
 * `COBA_BENCH_LANES` (default 4; 0 skips), `COBA_BENCH_PYTHON` (default /usr/bin/python3).
 * Standalone: `npx tsx bench/coba.ts`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf } from '../src/core/tf.js';
import { initBackend } from '../src/core/backend.js';
import { buildCoba, cobaDraws, COBA_CONSTANTS as C, type CobaParams } from '../examples/coba/network.js';
import { buildCobaEvent, cobaRefractorySteps } from '../examples/coba/event-engine.js';
import { buildProjectionLane, EventNetwork } from '../src/kernels/js/event-network.js';

const seconds = Number(process.env.COBA_BENCH_SECONDS ?? 1);
const seed = Number(process.env.COBA_BENCH_SEED ?? 1);
const lanes = Number(process.env.COBA_BENCH_LANES ?? 4);
const repeat = Math.max(1, Number(process.env.COBA_BENCH_REPEAT ?? 3));
const python = process.env.COBA_BENCH_PYTHON ?? '/usr/bin/python3';
const script = fileURLToPath(new URL('./peers/brian2_coba.py', import.meta.url));
const steps = Math.round(seconds * 10_000);
const params = (model: 'coba' | 'cuba'): CobaParams => ({ model, neurons: 4000, p: 0.02, dt: 0.1 });

/** The module engine for `seconds`, reading the spikes once per 1000 steps: ms per simulated second and the spike count. */
async function tfjsEngine(model: 'coba' | 'cuba'): Promise<{ ms: number; spikes: number }> {
  const m = buildCoba(params(model), seed);
  let spikes = 0;
  const t0 = performance.now();
  for (let c = 0; c < steps; c += 1000) {
    const held: tf.Tensor[] = [];
    for (let k = 0; k < Math.min(1000, steps - c); k++) held.push(m.step(c + k === 0));
    const s = tf.tidy(() => tf.sum(tf.concat(held, 0)));
    spikes += (await s.data())[0]!;
    s.dispose();
    for (const t of held) t.dispose();
  }
  const ms = (performance.now() - t0) / seconds;
  m.dispose();
  return { ms, spikes };
}

/**
 * The event engine for `seconds` in chunks of 1000 steps (spikes recorded, as the CLI does): ms per
 * simulated second, the spike count, and the split of the time between the neuron pass (update +
 * threshold) and the rest (synapse pass, recording, resets), timed in a second identical run with
 * the neuron pass wrapped (the wrapper's clock reads add to its share).
 */
function eventEngine(model: 'coba' | 'cuba'): { ms: number; spikes: number; neuronShare: number } {
  const once = (split: boolean) => {
    const m = buildCobaEvent(params(model), seed);
    let inNeurons = 0;
    if (split) {
      const net = m.net as unknown as { integrateAndThreshold: (...a: unknown[]) => void };
      const orig = net.integrateAndThreshold.bind(net);
      net.integrateAndThreshold = (...a: unknown[]) => {
        const t = performance.now();
        orig(...a);
        inNeurons += performance.now() - t;
      };
    }
    let spikes = 0;
    const t0 = performance.now();
    for (let c = 0; c < steps; c += 1000) spikes += m.run(Math.min(1000, steps - c)).step.length;
    return { total: performance.now() - t0, spikes, inNeurons };
  };
  const a = once(false);
  const b = once(true);
  return { ms: a.total / seconds, spikes: a.spikes, neuronShare: b.inNeurons / b.total };
}

/** The event engine with L seeds as lanes of one network: ms per simulated second for all lanes together. */
function eventLanes(model: 'coba' | 'cuba', L: number): { ms: number; spikes: number } {
  const p = params(model);
  const cob = model === 'coba';
  const seeds = Array.from({ length: L }, (_, b) => seed + b);
  const draws = seeds.map((s) => cobaDraws(p, s));
  const N = p.neurons;
  const net = new EventNetwork(L, p.dt, seeds);
  const pop = net.addLif('pop', N, {
    el: cob ? C.coba.El : C.cuba.El, vThreshold: C.threshV, vReset: C.resetV, tauM: C.tauM, tauE: C.tauE, tauI: C.tauI, tauRef: C.refracT,
    method: 'exact', spikeAtThreshold: true, refractorySteps: cobaRefractorySteps(p),
    ...(cob ? { drive: 'conductance' as const, ee: C.coba.Ee, ei: C.coba.Ei } : {}),
  });
  const lane = (list: (typeof draws)[0]['exc'], w: number) => buildProjectionLane(list.pre, list.post, new Float32Array(list.pre.length).fill(w), N, N, false);
  net.addProjection('exc', pop, pop, 'ge', draws.map((d) => lane(d.exc, cob ? C.coba.we : C.cuba.we)));
  net.addProjection('inh', pop, pop, 'gi', draws.map((d) => lane(d.inh, cob ? C.coba.wi : -C.cuba.wi)));
  draws.forEach((d, b) => {
    pop.v.set(d.v0, b * N);
    pop.ge.set(d.ge0, b * N);
    pop.gi.set(d.gi0, b * N);
  });
  const t0 = performance.now();
  for (let c = 0; c < steps; c += 1000) net.run(Math.min(1000, steps - c));
  const ms = (performance.now() - t0) / seconds;
  return { ms, spikes: Array.from(pop.spikeCounts).reduce((a, x) => a + x, 0) };
}

await initBackend({ backend: 'wasm' });
const probe = existsSync(python) ? spawnSync(python, ['-c', 'import brian2'], { encoding: 'utf8' }) : null;
const brianOk = probe !== null && probe.status === 0;
const line = (o: Record<string, unknown>) => console.log(JSON.stringify({ bench: 'coba', ...o }));
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)]!;
for (const model of ['coba', 'cuba'] as const) {
  // event engine and Brian2 alternately, `repeat` times each (the machine is shared: min and median)
  const ev: number[] = [];
  const br: number[] = [];
  let e = eventEngine(model);
  let b: { ms_per_sim_second: number; rate_exc_hz: number; rate_inh_hz: number } | null = null;
  for (let r = 0; r < repeat; r++) {
    if (r > 0) e = eventEngine(model);
    ev.push(e.ms);
    if (brianOk) {
      const out = execFileSync(python, [script, model, String(seconds), String(seed)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      b = JSON.parse(out.trim().split('\n').pop()!) as { ms_per_sim_second: number; rate_exc_hz: number; rate_inh_hz: number };
      br.push(b.ms_per_sim_second);
    }
  }
  line({ engine: 'cinder-event', model, seconds, seed, ms_per_sim_second: Math.min(...ev), ms_median: median(ev), runs: ev, rate_hz: e.spikes / 4000 / seconds, neuron_pass_share: e.neuronShare });
  const t = await tfjsEngine(model);
  line({ engine: 'cinder-tfjs-wasm', model, seconds, seed, ms_per_sim_second: t.ms, rate_hz: t.spikes / 4000 / seconds });
  if (!b) {
    line({ engine: 'brian2', model, skipped: probe ? 'brian2 not importable' : `no ${python}` });
    continue;
  }
  line({ engine: 'brian2-cython', model, seconds, seed, ms_per_sim_second: Math.min(...br), ms_median: median(br), runs: br, rate_hz: 0.8 * b.rate_exc_hz + 0.2 * b.rate_inh_hz });
  line({ model, ratio_event_over_brian2: Math.min(...ev) / Math.min(...br), ratio_event_over_brian2_median: median(ev) / median(br), ratio_tfjs_over_brian2: t.ms / Math.min(...br) });
}
if (lanes > 0) {
  for (const model of ['coba', 'cuba'] as const) {
    const r = eventLanes(model, lanes);
    line({ engine: 'cinder-event-lanes', model, lanes, seconds, seeds: `${seed}..${seed + lanes - 1}`, ms_per_sim_second: r.ms, ms_per_sim_second_per_seed: r.ms / lanes, rate_hz: r.spikes / lanes / 4000 / seconds });
  }
}
