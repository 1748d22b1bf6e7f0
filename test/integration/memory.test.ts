// Acceptance (foundation): tf.memory().numTensors is the same after a 100-step warm-up and after
// 10,000 further steps of Serial(LinearDense 784→100, ALIF) with two monitors attached.
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { ALIF } from '../../src/neural/neurons/alif.js';
import { LinearDense } from '../../src/neural/connections/linear-dense.js';
import { DeltaCurrent } from '../../src/neural/synapses/delta.js';
import { uniformInit } from '../../src/neural/connections/initializers.js';
import { Serial } from '../../src/neural/layers/serial.js';
import { StateMonitor } from '../../src/observe/monitors/state-monitor.js';
import { Recorder } from '../../src/observe/monitors/recorder.js';
import { CumulativeTraceReducer } from '../../src/observe/reducers/trace.js';
import { PoissonApproxEncoder } from '../../src/neural/encoders/poisson-approx.js';

describe('memory stays flat over long runs', () => {
  it('Serial(LinearDense 784→100, ALIF) + trace monitor + recorder: same tensor count after 100 and 10,100 steps', () => {
    const B = 2;
    const rng = new Rng(5);
    const layer = new Serial(
      new LinearDense([784], [100], 1, { synapse: DeltaCurrent.factory({ charge: 100 }), batchSize: B, weightInit: uniformInit(rng, 0, 0.3) }),
      new ALIF([100], 1, { restV: -65, resetV: -60, threshV: -52, refracT: 5, tauM: 100, tauAdapt: 1e7, adaptIncrement: 0.05, batchSize: B }),
    );
    const trace = new StateMonitor(() => layer.neuron.spike, new CumulativeTraceReducer({ dt: 1, tau: 20, amplitude: 1 }));
    const recorder = new Recorder(() => layer.neuron.voltage, { capacity: 500, every: 10 });
    layer.attach(trace);
    layer.attach(recorder);
    const encoder = new PoissonApproxEncoder({ steps: 500, dt: 1, frequency: 60, rng: new Rng(9) });
    const pixels = tf.tensor2d(Array.from({ length: B * 784 }, (_, i) => (i % 784) / 783), [B, 784]);
    const train = encoder.encode(pixels);
    const steps = tf.unstack(train);
    let spikes = 0;
    const run = (n: number, offset: number) => {
      for (let t = 0; t < n; t++) {
        tf.tidy(() => {
          layer.forward(steps[(offset + t) % steps.length]!);
        });
      }
    };
    run(100, 0);
    const warm = tf.memory().numTensors;
    const warmBytes = tf.memory().numBytes;
    run(10_000, 100);
    expect(tf.memory().numTensors).toBe(warm);
    expect(tf.memory().numBytes).toBe(warmBytes);
    // The network was active (the check above is not vacuous): the trace and the recorder hold data.
    spikes = tf.tidy(() => tf.sum(trace.reducer.latest).dataSync()[0]!);
    expect(spikes).toBeGreaterThan(0);
    expect(recorder.toArray().shape[0]).toBe(500);
    for (const s of steps) s.dispose();
    train.dispose();
    pixels.dispose();
    layer.dispose();
  });
});
