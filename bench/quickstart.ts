/**
 * Benchmark `quickstart`: ms per step of Inferno's quickstart network (784 Poisson inputs with
 * per-input rates U(0, 0.25) per step → 10×10 ALIF + 10×10 LIF inhibition, dt 1 ms), built from
 * Cinder modules (`examples/quickstart/network.ts`) versus a hand-written tfjs loop of the same math
 * (`examples/quickstart/hand.ts`; repeats alternate between the two), at batch 1 and 20, (a) without learning and (b) with STDP
 * (bounding, clamping) applied every step. Each line also gives the kernels one step launches (from
 * `tf.profile`).
 *
 * With STDP, Inferno's quickstart network on PyTorch CPU is timed in the same invocation when
 * `CINDER_PEERS_INFERNO` is set (see bench/peers.ts), once per torch thread count; the line gives
 * each time, the fastest, and Cinder's ratio to it against the targets (≤ 0.25 at B = 1, ≤ 0.15 at
 * B = 20; ≤ 1.1× the hand loop). Without the peer the reason is printed and the Inferno fields are null.
 * `cinder_wasm_simd` tells whether the fused kernels ran their WebAssembly SIMD loops (wasm backend;
 * `CINDER_SIMD=0` turns them off for a comparison). CPU times (process user + system) are printed too, and the CPU ratio to single-threaded Inferno:
 * on a loaded shared machine they are steadier than wall times (both sides are single-threaded).
 *
 * Warm-up: every side first runs `QUICKSTART_WARMUP` untimed steps (default 3,000; Cinder, the hand
 * loop and Inferno alike), so the times are the steady state a long simulation runs at. V8 compiles
 * JavaScript and WebAssembly in tiers: in the first ≈ 2,500 steps of this network Cinder's step
 * falls from ≈ 0.5 to ≈ 0.16 ms (CPU, B = 20) as the engine and kernels reach their optimised code;
 * Inferno (Python, PyTorch) has no such phase but is timed after the same number of steps.
 *
 * Environment: `QUICKSTART_BENCH_STEPS` (timed steps per repeat, default 1000),
 * `QUICKSTART_PEER_STEPS` (Inferno's timed steps, default 500), `QUICKSTART_WARMUP`.
 * Standalone: `npx tsx bench/quickstart.ts`.
 */
import { tf } from '../src/core/tf.js';
import { initBackend } from '../src/core/backend.js';
import { Rng } from '../src/core/random.js';
import { QuickstartNetwork } from '../examples/quickstart/network.js';
import { HandQuickstart } from '../examples/quickstart/hand.js';
import { emit, kernelsPerStep, sig, timeStepsPair } from './harness.js';
import { infernoUnavailable, peerThreads, runInfernoQuickstart } from './peers.js';
import { simdLoops } from '../src/kernels/js/fused-simd.js';

/** Targets: Cinder's ms/step over Inferno's (fastest thread count), per batch size. */
const INFERNO_TARGET: Record<number, number> = { 1: 0.25, 20: 0.15 };

/** Runs the quickstart benchmark and prints its lines. */
export async function run(): Promise<void> {
  const steps = Number(process.env.QUICKSTART_BENCH_STEPS ?? 1000);
  const peerSteps = Number(process.env.QUICKSTART_PEER_STEPS ?? 500);
  const warmup = Number(process.env.QUICKSTART_WARMUP ?? 3000);
  const noPeer = infernoUnavailable();
  if (noPeer) console.error(`# quickstart: Inferno peer skipped: ${noPeer}`);
  for (const B of [1, 20]) {
    const rng = new Rng(1);
    const pool = 64;
    const rates = rng.uniformArray(B * 784, 0, 0.25);
    const spikes = new Float32Array(pool * B * 784);
    for (let t = 0; t < pool; t++) for (let k = 0; k < B * 784; k++) spikes[t * B * 784 + k] = rng.uniform() < rates[k]! ? 1 : 0;
    const input = (i: number) => tf.tensor2d(spikes.subarray((i % pool) * B * 784, ((i % pool) + 1) * B * 784), [B, 784]);
    for (const learn of [false, true]) {
      const net = new QuickstartNetwork(B, new Rng(2));
      net.train(learn);
      const hand = new HandQuickstart(B, (await net.input.weight.data()) as Float32Array);
      // repeats alternate between Cinder and the hand loop (same load on both)
      const [cinder, h] = await timeStepsPair(
        { step: (i) => void net.step(input(i)), sync: () => net.exc.voltage },
        { step: (i) => void hand.step(input(i), learn), sync: () => hand.wT },
        { steps, warmup },
      );
      const cinderKernels = await kernelsPerStep(() => void net.step(input(0)));
      const handKernels = await kernelsPerStep(() => void hand.step(input(0), learn));
      net.dispose();
      hand.dispose();
      const inferno: Record<string, number> = {};
      let best: number | null = null;
      let bestCpu: number | null = null;
      let peerError: string | null = null;
      if (learn && !noPeer) {
        for (const threads of peerThreads()) {
          try {
            const r = await runInfernoQuickstart(B, peerSteps, threads, warmup);
            inferno[`threads_${threads}`] = sig(r.msPerStep);
            inferno[`threads_${threads}_cpu`] = sig(r.cpuMsPerStep);
            if (best === null || r.msPerStep < best) best = r.msPerStep;
            // CPU time of the single-threaded run: the work per step, not counting waits for a core
            if (threads === 1) bestCpu = r.cpuMsPerStep;
          } catch (err) {
            peerError = (err as Error).message;
          }
        }
      }
      emit({
        case: learn ? 'quickstart-stdp' : 'quickstart-inference',
        batch: B,
        steps,
        warmup_steps: warmup,
        cinder_ms_per_step: sig(cinder.msPerStep),
        hand_ms_per_step: sig(h.msPerStep),
        ratio_cinder_over_hand: sig(cinder.msPerStep / h.msPerStep),
        cinder_cpu_ms_per_step: sig(cinder.cpuMsPerStep),
        hand_cpu_ms_per_step: sig(h.cpuMsPerStep),
        cpu_ratio_cinder_over_hand: sig(cinder.cpuMsPerStep / h.cpuMsPerStep),
        cinder_kernels_per_step: cinderKernels,
        // the wasm SIMD loops of the fused kernels (src/kernels/js/fused-simd.ts) were in use
        cinder_wasm_simd: simdLoops() !== null,
        hand_kernels_per_step: handKernels,
        ...(learn
          ? {
              inferno_ms_per_step: best === null ? null : sig(best),
              inferno_ms_per_step_by_threads: inferno,
              ratio_cinder_over_inferno: best === null ? null : sig(cinder.msPerStep / best),
              cpu_ratio_cinder_over_inferno_1_thread: bestCpu === null ? null : sig(cinder.cpuMsPerStep / bestCpu),
              target_ratio_over_inferno: INFERNO_TARGET[B] ?? null,
              ...(peerError ? { inferno_error: peerError } : {}),
              ...(noPeer ? { inferno_skipped: noPeer } : {}),
            }
          : {}),
        tensor_drift: cinder.tensorDrift + h.tensorDrift,
      });
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await initBackend();
  await run();
}
