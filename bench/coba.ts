/**
 * Benchmark `coba`: ms per simulated second of the COBA / CUBA benchmark network (4000 neurons,
 * p = 0.02, dt 0.1 ms; `examples/coba/network.ts`) on Cinder's wasm backend, and the Brian2 peer
 * (`bench/peers/brian2_coba.py`, cython, compiled code cached by a first run of one step) back to
 * back. Prints one JSON line per engine and model, then the ratio. Skips Brian2 with a printed reason
 * when it is not importable. Environment: `COBA_BENCH_SECONDS` (default 1), `COBA_BENCH_SEED`
 * (default 1), `COBA_BENCH_PYTHON` (default /usr/bin/python3). Standalone: `npx tsx bench/coba.ts`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf } from '../src/core/tf.js';
import { initBackend } from '../src/core/backend.js';
import { buildCoba } from '../examples/coba/network.js';

const seconds = Number(process.env.COBA_BENCH_SECONDS ?? 1);
const seed = Number(process.env.COBA_BENCH_SEED ?? 1);
const python = process.env.COBA_BENCH_PYTHON ?? '/usr/bin/python3';
const script = fileURLToPath(new URL('./peers/brian2_coba.py', import.meta.url));

/** Steps the network for `seconds`, reading the spikes once per 1000 steps; returns ms per simulated second and the spike count. */
async function cinder(model: 'coba' | 'cuba'): Promise<{ ms: number; spikes: number }> {
  const m = buildCoba({ model, neurons: 4000, p: 0.02, dt: 0.1 }, seed);
  const steps = Math.round(seconds * 10_000);
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

await initBackend({ backend: 'wasm' });
const probe = existsSync(python) ? spawnSync(python, ['-c', 'import brian2'], { encoding: 'utf8' }) : null;
for (const model of ['coba', 'cuba'] as const) {
  const c = await cinder(model);
  console.log(JSON.stringify({ bench: 'coba', engine: 'cinder-wasm', model, seconds, seed, ms_per_sim_second: c.ms, rate_hz: c.spikes / 4000 / seconds }));
  if (!probe || probe.status !== 0) {
    console.log(JSON.stringify({ bench: 'coba', engine: 'brian2', model, skipped: probe ? 'brian2 not importable' : `no ${python}` }));
    continue;
  }
  const out = execFileSync(python, [script, model, String(seconds), String(seed)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const b = JSON.parse(out.trim().split('\n').pop()!) as { ms_per_sim_second: number; rate_exc_hz: number; rate_inh_hz: number };
  console.log(JSON.stringify({ bench: 'coba', engine: 'brian2-cython', model, seconds, seed, ms_per_sim_second: b.ms_per_sim_second, rate_exc_hz: b.rate_exc_hz, rate_inh_hz: b.rate_inh_hz }));
  console.log(JSON.stringify({ bench: 'coba', model, ratio_cinder_over_brian2: c.ms / b.ms_per_sim_second }));
}
