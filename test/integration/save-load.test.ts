// Acceptance (foundation): a save/load round trip restores parameters and state exactly, and a
// reloaded network continues bit-identically — here a dense connection with per-synapse delays
// and exponential current synapses into ALIF neurons, saved mid-run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { loadModule, saveModule } from '../../src/io/serialize.js';
import { ALIF } from '../../src/neural/neurons/alif.js';
import { LinearDense } from '../../src/neural/connections/linear-dense.js';
import { SingleExponentialCurrent } from '../../src/neural/synapses/exponential.js';
import { uniformInit } from '../../src/neural/connections/initializers.js';
import { Serial } from '../../src/neural/layers/serial.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cinder-save-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function build(seed: number) {
  const rng = new Rng(seed);
  return new Serial(
    new LinearDense([20], [8], 1, {
      synapse: SingleExponentialCurrent.factory({ charge: 30, tau: 5 }),
      batchSize: 3,
      maxDelay: 4,
      weightInit: uniformInit(rng, 0, 1),
      delayInit: uniformInit(rng, 0, 4),
    }),
    new ALIF([8], 1, { restV: -65, resetV: -60, threshV: -52, refracT: 3, tauM: 20, tauAdapt: [50, 400], adaptIncrement: [0.5, 0.1], batchSize: 3 }),
  );
}

function input(rng: Rng): tf.Tensor {
  return tf.tensor2d(Array.from({ length: 60 }, () => (rng.uniform() < 0.3 ? 1 : 0)), [3, 20]);
}

describe('save/load of a network', () => {
  it('restores every parameter and state exactly and continues bit-identically', async () => {
    const a = build(1);
    const rngA = new Rng(99);
    for (let t = 0; t < 37; t++) tf.tidy(() => { a.forward(input(rngA)); });
    await saveModule(a, dir);

    const b = build(2); // different weights and delays: everything must come from the file
    await loadModule(b, dir);
    const pa = new Map([...a.namedParameters(), ...a.namedStates()].map(([n, p]) => [n, p.value]));
    for (const [n, p] of [...b.namedParameters(), ...b.namedStates()]) {
      expect(Array.from(p.value.dataSync()), n).toEqual(Array.from(pa.get(n)!.dataSync()));
    }

    const rngB = new Rng(123);
    const rngC = new Rng(123);
    let spikes = 0;
    for (let t = 0; t < 50; t++) {
      const [sa, sb, va, vb] = tf.tidy(() => {
        const xa = input(rngB);
        const xb = input(rngC);
        return [a.forward(xa), b.forward(xb), a.neuron.voltage.clone(), b.neuron.voltage.clone()];
      });
      expect(Array.from(sb!.dataSync())).toEqual(Array.from(sa!.dataSync()));
      expect(Array.from(vb!.dataSync())).toEqual(Array.from(va!.dataSync()));
      spikes += tf.sum(sa!).dataSync()[0]!;
      tf.dispose([sa!, sb!, va!, vb!]);
    }
    expect(spikes).toBeGreaterThan(0); // the continuation is not a silent network
    a.dispose();
    b.dispose();
  });
});
