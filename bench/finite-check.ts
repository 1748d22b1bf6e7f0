/**
 * Bench case `finite-check`: the cost of `FiniteChecker('step')` on one step of
 * Serial(LinearDense 784→100 with DeltaCurrent, LIF), B=1 and B=20: ms/step without the checker and
 * with a per-step check (queued on-device reduction, asynchronous read; the reads are awaited at
 * the end of each timed run, as a training loop awaits at its next checkpoint).
 */
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/random.js';
import { FiniteChecker } from '../src/core/finite.js';
import { LIF } from '../src/neural/neurons/lif.js';
import { LinearDense } from '../src/neural/connections/linear-dense.js';
import { DeltaCurrent } from '../src/neural/synapses/delta.js';
import { Serial } from '../src/neural/layers/serial.js';
import { emit, sig, timeSteps } from './harness.js';

const IN = 784;
const OUT = 100;

export async function run(): Promise<void> {
  for (const batch of [1, 20]) {
    const steps = 1000;
    const rng = new Rng(42);
    const data = new Float32Array(steps * batch * IN);
    for (let i = 0; i < data.length; i++) data[i] = rng.uniform() < 0.05 ? 1 : 0;
    const spikes = tf.tidy(() => tf.unstack(tf.tensor3d(data, [steps, batch, IN])));
    const make = () =>
      new Serial(
        new LinearDense([IN], [OUT], 1, { synapse: DeltaCurrent.factory(), batchSize: batch, rng: new Rng(1) }),
        new LIF([OUT], 1, { restV: -65, resetV: -65, threshV: -52, refracT: 5, tauM: 20, batchSize: batch }),
      );
    const plain = make();
    const checked = make();
    const checker = new FiniteChecker('step').watch('layer', checked);
    // Alternate the two loops (shared machines drift) and keep the best of each.
    const best = { plain: Infinity, checked: Infinity, drift: 0 };
    for (let r = 0; r < 3; r++) {
      const base = await timeSteps((i) => plain.forward(spikes[i % steps]!), { steps, repeats: 1, sync: () => plain.neuron.voltage });
      const withCheck = await timeSteps(
        (i) => {
          const s = checked.forward(spikes[i % steps]!);
          checker.step(i);
          return s;
        },
        { steps, repeats: 1, sync: () => checked.neuron.voltage },
      );
      await checker.flush();
      best.plain = Math.min(best.plain, base.msPerStep);
      best.checked = Math.min(best.checked, withCheck.msPerStep);
    }
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      tf.tidy(() => void checked.forward(spikes[i % steps]!));
      checker.step(i);
    }
    await checker.flush();
    best.drift = tf.memory().numTensors - n0;
    emit({
      case: 'finite-check',
      batch,
      steps,
      watched_tensors: checked.namedParameters().length + checked.namedStates().length,
      plain_ms_per_step: sig(best.plain),
      checked_ms_per_step: sig(best.checked),
      ratio: sig(best.checked / best.plain),
      tensor_drift_after_flush: best.drift,
    });
    plain.dispose();
    checked.dispose();
    for (const s of spikes) s.dispose();
  }
}
