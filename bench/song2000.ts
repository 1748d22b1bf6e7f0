/**
 * Benchmark `song2000`: ms per simulated second of Song, Miller & Abbott (2000) — 1000 Poisson
 * inputs at 15 Hz → 1 LIF with additive STDP, dt 0.1 ms:
 *
 * - `song2000-event`: the event-driven engine (`examples/song2000/event.ts`, input generation
 *   included) side by side with Brian2 (cython) running the same model
 *   (`bench/peers/brian2_song2000.py`, `/usr/bin/python3`; one short run first so its compiled
 *   code is cached, then a timed run of the same simulated time). Target: ratio ≤ 0.5. Skipped
 *   with a printed reason when Brian2 is not installed.
 * - `song2000`: the tfjs path built from Cinder modules versus a hand-written tfjs loop of the same
 *   discretisation (`examples/song2000/hand.ts`), each step including the upload of its spikes.
 *
 * Environment: `SONG_BENCH_SECONDS` (simulated seconds of the event/Brian2 comparison, default 10),
 * `SONG_BENCH_STEPS` (timed tfjs steps per repeat, default 5000), `SONG_BENCH_PYTHON`
 * (default /usr/bin/python3). Standalone: `npx tsx bench/song2000.ts`.
 */
import { tf } from '../src/core/tf.js';
import { initBackend } from '../src/core/backend.js';
import { Rng } from '../src/core/random.js';
import { songParams } from '../examples/song2000/params.js';
import { SongNetwork, type SongDrive } from '../examples/song2000/network.js';
import { HandSong } from '../examples/song2000/hand.js';
import { EventSong, bernoulliChunk, type SongScheme } from '../examples/song2000/event.js';
import { emit, sig, timeSteps } from './harness.js';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Output of `bench/peers/brian2_song2000.py`. */
export interface Brian2SongResult {
  wall_s: number;
  post_spikes: number;
  bimodal_fraction: number;
  low_fraction: number;
  high_fraction: number;
  histogram: number[];
}

/** Runs the Brian2 peer script, or returns a reason why it cannot run. */
export function runBrian2Song(seconds: number, seed: number, bins = 20): Brian2SongResult | string {
  const python = process.env.SONG_BENCH_PYTHON ?? '/usr/bin/python3';
  const script = fileURLToPath(new URL('./peers/brian2_song2000.py', import.meta.url));
  if (!existsSync(python)) return `no ${python}`;
  if (!existsSync(script)) return `no ${script}`;
  try {
    const out = execFileSync(python, [script, '--target', 'cython', '--seconds', String(seconds), '--seed', String(seed), '--bins', String(bins)], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 3_600_000,
    });
    const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    if (!line) return 'the Brian2 script printed no result';
    return JSON.parse(line) as Brian2SongResult;
  } catch (err) {
    const msg = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n').pop();
    return `Brian2 did not run (${msg})`;
  }
}

/** Wall ms of the event engine for `seconds` simulated (B instances, inputs drawn per 1 s chunk). */
export function timeEventSong(seconds: number, seed: number, batch = 1, scheme: SongScheme = 'cinder'): { ms: number; engine: EventSong } {
  const p = songParams();
  const rngs = Array.from({ length: batch }, (_, b) => new Rng(`${seed}/${b}`));
  const ev = new EventSong(p, new Rng(seed).uniformArray(batch * p.nInputs, 0, p.gmax), 'conductance', true, batch, scheme);
  const stepsPerSecond = Math.round(1000 / p.dt);
  const t0 = performance.now();
  for (let s = 0; s < seconds; s++) ev.run(bernoulliChunk(stepsPerSecond, batch * p.nInputs, (p.rate * p.dt) / 1000, rngs, p.nInputs));
  return { ms: performance.now() - t0, engine: ev };
}

/** Runs the song2000 benchmark and prints its lines. */
export async function run(): Promise<void> {
  const seconds = Math.max(1, Math.round(Number(process.env.SONG_BENCH_SECONDS ?? 10)));
  // event engine and Brian2, back to back
  const median = (scheme: SongScheme) => [0, 1, 2].map((r) => timeEventSong(seconds, 10 + r, 1, scheme).ms).sort((a, b) => a - b)[1]! / seconds;
  const evMs = median('cinder');
  const evBrianMs = median('brian2');
  const warm = runBrian2Song(0.1, 1); // compiles on the first use; cached afterwards
  const brian = typeof warm === 'string' ? warm : runBrian2Song(seconds, 1);
  if (typeof brian === 'string') console.error(`# song2000-event: Brian2 comparison skipped: ${brian}`);
  const brianMs = typeof brian === 'string' ? null : (brian.wall_s * 1000) / seconds;
  emit({
    case: 'song2000-event',
    simulated_seconds: seconds,
    event_ms_per_simulated_second: sig(evMs),
    event_brian2_scheme_ms_per_simulated_second: sig(evBrianMs),
    brian2_cython_ms_per_simulated_second: brianMs === null ? null : sig(brianMs),
    ratio_event_over_brian2: brianMs === null ? null : sig(evMs / brianMs),
    target_ratio: 0.5,
    meets_target: brianMs === null ? null : evMs / brianMs <= 0.5,
  });
  const steps = Number(process.env.SONG_BENCH_STEPS ?? 5000);
  const p = songParams();
  const rng = new Rng(1);
  const pool = 2000;
  const spikes = new Float32Array(pool * p.nInputs);
  const prob = (p.rate * p.dt) / 1000;
  for (let i = 0; i < spikes.length; i++) spikes[i] = rng.uniform() < prob ? 1 : 0;
  const input = (i: number) => tf.tensor2d(spikes.subarray((i % pool) * p.nInputs, ((i % pool) + 1) * p.nInputs), [1, p.nInputs]);
  const msPerSimSecond = (ms: number) => ms * (1000 / p.dt);
  for (const drive of ['conductance', 'current'] as SongDrive[]) {
    const net = new SongNetwork(p, new Rng(2), true, drive);
    const cinder = await timeSteps((i) => void net.step(input(i)), { steps, warmup: 200, sync: () => net.connection.weight });
    net.dispose();
    let hand: Awaited<ReturnType<typeof timeSteps>> | null = null;
    if (drive === 'conductance') {
      const h = new HandSong(p, new Rng(2).uniformArray(p.nInputs, 0, p.gmax));
      hand = await timeSteps((i) => void h.step(input(i)), { steps, warmup: 200, sync: () => h.w });
      h.dispose();
    }
    emit({
      case: 'song2000',
      drive,
      steps,
      cinder_ms_per_step: sig(cinder.msPerStep),
      cinder_ms_per_simulated_second: sig(msPerSimSecond(cinder.msPerStep)),
      hand_ms_per_step: hand ? sig(hand.msPerStep) : null,
      hand_ms_per_simulated_second: hand ? sig(msPerSimSecond(hand.msPerStep)) : null,
      ratio_cinder_over_hand: hand ? sig(cinder.msPerStep / hand.msPerStep) : null,
      tensor_drift: cinder.tensorDrift + (hand?.tensorDrift ?? 0),
    });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await initBackend();
  await run();
}
