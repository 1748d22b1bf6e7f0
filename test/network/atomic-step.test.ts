// Network.step when it fails part-way: a refusal an observer of a later layer foresees is raised
// before the first layer steps (always); with `atomic: true` any throw — a trainer's step function,
// a later layer, a custom forward — puts every part back (module states and parameters, synapse
// rings, trainer traces and eligibility, monitors, generators, the step counter), so a retry gives
// bit for bit what an uninterrupted run gives. Compared through exportState (every saved tensor and
// value) against an identically built network stepped without the failure.
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { Network, disposeNetworkState, type NetworkState } from '../../src/network/index.js';
import { LinearDense } from '../../src/neural/connections/linear-dense.js';
import { uniformInit } from '../../src/neural/connections/initializers.js';
import { Serial } from '../../src/neural/layers/serial.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { DeltaCurrent, SingleExponentialCurrent } from '../../src/neural/synapses/index.js';
import { MSTDPET, STDP } from '../../src/learn/trainers/index.js';
import { Recorder } from '../../src/observe/monitors/recorder.js';
import { SpikeRecorder } from '../../src/observe/monitors/spike-recorder.js';
import type { LayerInput } from '../../src/neural/layers/layer.js';

const B = 2;
const N_IN = 10;
const N_HID = 6;
const N_OUT = 3;

function build(options: { atomic?: boolean; forward?: (x: tf.Tensor | LayerInput, net: Network) => tf.Tensor } = {}) {
  const init = new Rng(7);
  const hidden = new Serial(
    // a delayed synapse: its ring position is part of the state
    new LinearDense([N_IN], [N_HID], 1, { synapse: DeltaCurrent.factory({ charge: 4 }), batchSize: B, maxDelay: 2, weightInit: uniformInit(init, 0, 1), delayInit: uniformInit(init, 0, 2) }),
    new LIF([N_HID], 1, { restV: -65, resetV: -65, threshV: -58, refracT: 2, tauM: 10, batchSize: B }),
  );
  const out = new Serial(
    new LinearDense([N_HID], [N_OUT], 1, { synapse: SingleExponentialCurrent.factory({ charge: 60, tau: 4 }), batchSize: B, weightInit: uniformInit(init, 0, 1) }),
    new LIF([N_OUT], 1, { restV: -65, resetV: -65, threshV: -60, refracT: 2, tauM: 10, batchSize: B }),
  );
  const net = new Network(options);
  net.addLayer('hidden', hidden);
  net.addLayer('out', out);
  const stdp = new STDP({ lrPost: 0.05, lrPre: -0.04, tauPre: 20, tauPost: 20 });
  stdp.register(hidden.cell('connection', 'neuron'));
  const mstdpet = new MSTDPET({ lrPost: 0.05, lrPre: -0.05, tauPre: 15, tauPost: 15, tauEligibility: 25 });
  mstdpet.register(out.cell('connection', 'neuron'));
  net.addTrainer('stdp', stdp);
  // a reward-modulated rule needs the reward: a step without one throws in this step function,
  // after the forward pass and the STDP trainer ran
  net.addTrainer('mstdpet', mstdpet, (t, info) => t.step(info.reward as number));
  const rng = net.addRng('input', new Rng('input'));
  const rec = net.addMonitor('voltage', new Recorder(() => out.neuron.voltage, { capacity: 8 }));
  out.attach(rec);
  return { net, hidden, out, rng, rec };
}

type Built = ReturnType<typeof build>;

/** Input of step t (drawn from the network's own generator, so its position is part of the state). */
function input(b: Built): tf.Tensor {
  return tf.tensor2d(Array.from({ length: B * N_IN }, () => (b.rng.uniform() < 0.5 ? 1 : 0)), [B, N_IN]);
}

function step(b: Built, reward: number | undefined): void {
  const x = input(b);
  try {
    b.net.step(x, reward === undefined ? {} : { reward }).dispose();
  } finally {
    x.dispose();
  }
}

/**
 * Draws step t's input, checks that a step with `failing` throws `error` and leaves the whole state
 * (the generator's position after the draw included) as it was, then retries with the same input.
 */
async function failThenRetry(b: Built, reward: number, failing: { reward?: number }, error: unknown, before?: () => void, after?: () => void): Promise<void> {
  const x = input(b);
  try {
    const s0 = await stateOf(b.net);
    before?.();
    expect(() => b.net.step(x, failing)).toThrow(error as never);
    after?.();
    expect(await stateOf(b.net)).toEqual(s0);
    b.net.step(x, { reward }).dispose();
  } finally {
    x.dispose();
  }
}

/** The bits of a tensor's values (read asynchronously: the test also runs on webgpu). */
async function bitsOf(t: tf.Tensor): Promise<number[]> {
  const d = await t.data();
  return Array.from(new Uint32Array((d instanceof Float32Array ? Float32Array.from(d) : Int32Array.from(d as Int32Array)).buffer));
}

/** Every tensor (bits) and value of the network's state. */
function stateOf(net: Network): Promise<Record<string, unknown>> {
  return readState(net.exportState());
}

/** The bits and values of a state taken with exportState (freed afterwards). */
async function readState(s: NetworkState): Promise<Record<string, unknown>> {
  try {
    const out: Record<string, unknown> = { steps: s.steps, rngs: s.rngs, values: s.snapshot.values };
    for (const [n, { tensor }] of Object.entries(s.tensors)) out[`t:${n}`] = await bitsOf(tensor);
    for (const [n, t] of Object.entries(s.snapshot.tensors)) out[`s:${n}`] = await bitsOf(t);
    return out;
  } finally {
    disposeNetworkState(s);
  }
}

const rewards = [1, -1, 0.5, 1, -0.5, 1, 1, -1, 0.25, 1, -1, 0.5];

describe('Network.step all or nothing', () => {
  it('atomic: a trainer step function that throws (a missing reward) leaves everything as before; the retry continues bit-identically', async () => {
    const before = tf.memory().numTensors;
    const fresh = build();
    const ref = build({ atomic: true });
    const a = build({ atomic: true });
    let failures = 0;
    for (let t = 0; t < rewards.length; t++) {
      step(ref, rewards[t]);
      if (t % 3 === 1) {
        await failThenRetry(a, rewards[t]!, {}, CinderArgumentError);
        failures++;
      } else {
        step(a, rewards[t]);
      }
      expect(await stateOf(a.net)).toEqual(await stateOf(ref.net));
    }
    expect(failures).toBe(4);
    // something happened: the hidden layer spiked and the weights moved
    expect(await bitsOf(a.hidden.connection.weight)).not.toEqual(await bitsOf(fresh.hidden.connection.weight));
    // the rollback points and the failed steps leave no tensor behind
    for (const b of [fresh, ref, a]) b.net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('without atomic the same failure leaves the forward pass done (the documented default): the layers advanced, no update applied', async () => {
    const a = build();
    for (let t = 0; t < 4; t++) step(a, rewards[t]);
    const v0 = await bitsOf(a.hidden.neuron.voltage);
    const w0 = await bitsOf(a.hidden.connection.weight);
    const steps0 = a.net.steps;
    expect(() => step(a, undefined)).toThrow(CinderArgumentError);
    expect(await bitsOf(a.hidden.neuron.voltage)).not.toEqual(v0);
    expect(await bitsOf(a.hidden.connection.weight)).toEqual(w0);
    expect(a.net.steps).toBe(steps0);
    a.net.dispose();
  });

  it('atomic: a custom forward that throws after the first layer stepped puts the first layer (and its synapse ring) and the generator back', async () => {
    let fail = false;
    const forward = (x: tf.Tensor | LayerInput, net: Network): tf.Tensor => {
      const [h, o] = [...net.layers.values()] as unknown as { forward(v: tf.Tensor): tf.Tensor }[];
      net.rngs.get('input')!.normal(); // a draw inside the step: the generator's position goes back too
      const y = h!.forward(x as tf.Tensor);
      if (fail) throw new Error('forward failed after the first layer');
      return o!.forward(y);
    };
    const ref = build({ atomic: true, forward });
    const a = build({ atomic: true, forward });
    for (let t = 0; t < 8; t++) {
      step(ref, rewards[t]);
      if (t === 3 || t === 6) {
        await failThenRetry(a, rewards[t]!, { reward: rewards[t] }, 'forward failed after the first layer', () => (fail = true), () => (fail = false));
      } else {
        step(a, rewards[t]);
      }
    }
    expect(await stateOf(a.net)).toEqual(await stateOf(ref.net));
    for (const b of [ref, a]) b.net.dispose();
  });

  it('a SpikeRecorder of the second layer at its bound refuses the step before the first layer steps (atomic or not); after a flush the retry continues bit-identically', async () => {
    for (const atomic of [false, true]) {
      const mk = () => {
        const b = build({ atomic });
        // 4 bytes per sample and step (3 neurons: one packed word), a bound of 4 steps = one chunk
        const spikes = new SpikeRecorder(() => b.out.neuron.spike, { chunkSteps: 4, maxPendingBytes: 4 * B * 4 });
        b.out.attach(spikes);
        return { b, spikes };
      };
      const ref = mk();
      const a = mk();
      for (let t = 0; t < 4; t++) {
        step(ref.b, rewards[t]);
        step(a.b, rewards[t]);
      }
      const x = input(a.b);
      // (taken without awaiting: a read of the recorder's chunk completing meanwhile would lift the bound)
      const s0 = a.b.net.exportState();
      expect(() => a.b.net.step(x, { reward: rewards[4] })).toThrow(/SpikeRecorder|pending|flush/);
      const s1 = a.b.net.exportState();
      expect(await readState(s1)).toEqual(await readState(s0));
      await a.spikes.flush();
      a.b.net.step(x, { reward: rewards[4] }).dispose();
      x.dispose();
      await ref.spikes.flush();
      step(ref.b, rewards[4]);
      for (let t = 5; t < 8; t++) {
        step(ref.b, rewards[t]);
        step(a.b, rewards[t]);
      }
      expect(await stateOf(a.b.net)).toEqual(await stateOf(ref.b.net));
      await a.spikes.flush();
      await ref.spikes.flush();
      expect(a.spikes.events()).toEqual(ref.spikes.events());
      for (const { b, spikes } of [ref, a]) {
        spikes.dispose();
        b.net.dispose();
      }
    }
  });

  it('the rollback point copies nothing: an atomic step runs the kernels of a plain step, no more (handles on the trainers\' traces and the recorder\'s records)', async () => {
    const a = build({ atomic: true });
    const p = build();
    for (let t = 0; t < 5; t++) {
      step(a, rewards[t]);
      step(p, rewards[t]);
    }
    const kernels = async (b: Built): Promise<string[]> => {
      const x = input(b);
      const info = await tf.profile(() => tf.tidy(() => void b.net.step(x, { reward: 1 })));
      x.dispose();
      return info.kernels.map((k) => k.name);
    };
    const plain = await kernels(p);
    expect(plain.length).toBeGreaterThan(10);
    expect(await kernels(a)).toEqual(plain);
    for (const b of [a, p]) b.net.dispose();
  });

  it('atomic steps equal plain steps when nothing fails; `atomic` must be a boolean', async () => {
    const a = build({ atomic: true });
    const p = build();
    for (let t = 0; t < rewards.length; t++) {
      step(a, rewards[t]);
      step(p, rewards[t]);
    }
    expect(await stateOf(a.net)).toEqual(await stateOf(p.net));
    expect(a.net.atomic).toBe(true);
    expect(p.net.atomic).toBe(false);
    for (const b of [a, p]) b.net.dispose();
    expect(() => new Network({ atomic: 'yes' as never })).toThrow('invalid atomic: got "yes", expected a boolean');
  });
});
