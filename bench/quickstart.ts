/**
 * Benchmark `quickstart`: ms per step of Inferno's quickstart network (784 Poisson inputs with
 * per-input rates U(0, 0.25) per step → 10×10 ALIF + 10×10 LIF inhibition, dt 1 ms), built from
 * Cinder modules (`examples/quickstart/network.ts`) versus a hand-written tfjs loop of the same math
 * (`examples/quickstart/hand.ts`), at batch 1 and 20, (a) without learning and (b) with STDP
 * (bounding, clamping) applied every step. Inferno 0.0.5 on PyTorch needs 5.44 ms/step (B = 1) and
 * 13.86 ms/step (B = 20) with training on the reference machine (anchors.md).
 *
 * Environment: `QUICKSTART_BENCH_STEPS` (timed steps per repeat, default 1000).
 * Standalone: `npx tsx bench/quickstart.ts`.
 */
import { tf } from '../src/core/tf.js';
import { initBackend } from '../src/core/backend.js';
import { Rng } from '../src/core/random.js';
import { QuickstartNetwork } from '../examples/quickstart/network.js';
import { HandQuickstart } from '../examples/quickstart/hand.js';
import { emit, sig, timeSteps } from './harness.js';

const INFERNO_MS_PER_STEP: Record<number, number> = { 1: 5.44, 20: 13.86 };

/** Runs the quickstart benchmark and prints its lines. */
export async function run(): Promise<void> {
  const steps = Number(process.env.QUICKSTART_BENCH_STEPS ?? 1000);
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
      const cinder = await timeSteps((i) => void net.step(input(i)), { steps, warmup: 20, sync: () => net.exc.voltage });
      const hand = new HandQuickstart(B, net.input.weight.dataSync() as Float32Array);
      const h = await timeSteps((i) => void hand.step(input(i), learn), { steps, warmup: 20, sync: () => hand.wT });
      net.dispose();
      hand.dispose();
      emit({
        case: learn ? 'quickstart-stdp' : 'quickstart-inference',
        batch: B,
        steps,
        cinder_ms_per_step: sig(cinder.msPerStep),
        hand_ms_per_step: sig(h.msPerStep),
        ratio_cinder_over_hand: sig(cinder.msPerStep / h.msPerStep),
        inferno_ms_per_step: learn ? INFERNO_MS_PER_STEP[B] : null,
        tensor_drift: cinder.tensorDrift + h.tensorDrift,
      });
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await initBackend();
  await run();
}
