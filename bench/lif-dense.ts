/**
 * Bench case `lif-dense`: one step of Serial(LinearDense 784→100 with DeltaCurrent, LIF), B=1 and
 * B=20, through Cinder vs a hand-written tfjs loop doing the same math (delta synapse, matmul,
 * exact LIF integration, absolute refractory period, reset). Both consume the same pre-generated
 * Poisson spikes. Prints ms/step for each and the ratio framework/hand.
 */
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/random.js';
import { LIF } from '../src/neural/neurons/lif.js';
import { LinearDense } from '../src/neural/connections/linear-dense.js';
import { DeltaCurrent } from '../src/neural/synapses/delta.js';
import { Serial } from '../src/neural/layers/serial.js';
import { emit, sig, timeSteps } from './harness.js';

const P = { restV: -65, resetV: -65, threshV: -52, refracT: 5, tauM: 20, resistance: 1 };
const DT = 1;
const CHARGE = 1;
const IN = 784;
const OUT = 100;

function inputSpikes(rng: Rng, steps: number, batch: number): tf.Tensor[] {
  const n = steps * batch * IN;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.uniform() < 0.05 ? 1 : 0;
  return tf.tidy(() => tf.unstack(tf.tensor3d(data, [steps, batch, IN])));
}

/** The hand-written loop: same equations as LIF + DeltaCurrent + LinearDense, plain tfjs. */
function handLoop(weight: tf.Tensor, batch: number) {
  const d = Math.exp(-DT / P.tauM);
  const k = {
    q: tf.scalar(CHARGE / DT),
    d: tf.scalar(d),
    rest: tf.scalar(P.restV * (1 - d)),
    gain: tf.scalar(P.resistance * (1 - d)),
    thr: tf.scalar(P.threshV),
    dt: tf.scalar(DT),
    reset: tf.fill([batch, OUT], P.resetV),
    refr: tf.fill([batch, OUT], P.refracT),
  };
  const wt = tf.transpose(weight);
  let v = tf.fill([batch, OUT], P.restV);
  let r = tf.zeros([batch, OUT]);
  const step = (x: tf.Tensor): tf.Tensor => {
    const [v2, r2, s] = tf.tidy(() => {
      const i = tf.matMul(tf.mul(x, k.q), wt);
      const free = tf.lessEqual(r, k.dt);
      let vn = tf.add(tf.add(tf.mul(v, k.d), k.rest), tf.mul(i, k.gain));
      vn = tf.where(free, vn, v);
      const fired = tf.logicalAnd(free, tf.greaterEqual(vn, k.thr));
      return [tf.where(fired, k.reset, vn), tf.where(fired, k.refr, tf.relu(tf.sub(r, k.dt))), tf.cast(fired, 'float32')];
    });
    v.dispose();
    r.dispose();
    v = tf.keep(v2!);
    r = tf.keep(r2!);
    return s!;
  };
  const dispose = () => {
    for (const t of Object.values(k)) t.dispose();
    wt.dispose();
    v.dispose();
    r.dispose();
  };
  return { step, dispose, voltage: () => v };
}

export async function run(): Promise<void> {
  for (const batch of [1, 20]) {
    const steps = batch === 1 ? 2000 : 1000;
    const rng = new Rng(42);
    const spikes = inputSpikes(rng, steps, batch);
    const layer = new Serial(
      new LinearDense([IN], [OUT], DT, {
        synapse: DeltaCurrent.factory({ charge: CHARGE }),
        batchSize: batch,
        rng: new Rng(1),
      }),
      new LIF([OUT], DT, { ...P, batchSize: batch }),
    );
    const hand = handLoop(layer.connection.weight, batch);
    const fw = await timeSteps((i) => layer.forward(spikes[i % steps]!), { steps, sync: () => layer.neuron.voltage });
    const hw = await timeSteps((i) => hand.step(spikes[i % steps]!), { steps, sync: () => hand.voltage() });
    // Same math ⇒ same voltages after the same inputs (both ran warm-up + 3 × steps).
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(layer.neuron.voltage, hand.voltage()))).dataSync()[0]!);
    emit({
      case: 'lif-dense',
      batch,
      in: IN,
      out: OUT,
      steps,
      framework_ms_per_step: sig(fw.msPerStep),
      hand_ms_per_step: sig(hw.msPerStep),
      ratio: sig(fw.msPerStep / hw.msPerStep),
      max_voltage_diff: diff,
      tensor_drift: fw.tensorDrift,
    });
    hand.dispose();
    layer.dispose();
    for (const s of spikes) s.dispose();
  }
}
