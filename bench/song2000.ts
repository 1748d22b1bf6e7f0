/**
 * Benchmark `song2000`: ms per simulated second (and per step) of Song, Miller & Abbott (2000) —
 * 1000 Poisson inputs at 15 Hz → 1 LIF with additive STDP, dt 0.1 ms — built from Cinder modules
 * versus a hand-written tfjs loop of the same discretisation (`examples/song2000/hand.ts`), each
 * step including the upload of its input spikes. Brian2 2.5.1 (cython) needs 770 ms per simulated
 * second on the reference machine (anchors.md).
 *
 * Environment: `SONG_BENCH_STEPS` (timed steps per repeat, default 5000).
 * Standalone: `npx tsx bench/song2000.ts`.
 */
import { tf } from '../src/core/tf.js';
import { initBackend } from '../src/core/backend.js';
import { Rng } from '../src/core/random.js';
import { songParams } from '../examples/song2000/params.js';
import { SongNetwork, type SongDrive } from '../examples/song2000/network.js';
import { HandSong } from '../examples/song2000/hand.js';
import { emit, sig, timeSteps } from './harness.js';

/** Runs the song2000 benchmark and prints its lines. */
export async function run(): Promise<void> {
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
      brian2_cython_ms_per_simulated_second: 770,
      tensor_drift: cinder.tensorDrift + (hand?.tensorDrift ?? 0),
    });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await initBackend();
  await run();
}
