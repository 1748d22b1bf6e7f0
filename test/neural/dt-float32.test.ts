// dt must be a normal finite float32 (what is uploaded is Math.fround(dt)): every neuron, synapse and
// connection constructor refuses a dt whose float32 value is 0 / subnormal (1e-46, 1e-40) or +∞
// (1e39), with a message naming dt, and still accepts ordinary steps (0.1) and the float32 extremes.
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { AdEx, ALIF, EIF, ExactNeuron, GLIF2, Izhikevich, LIF, QIF } from '../../src/neural/neurons/index.js';
import { DeltaCurrent, DeltaPlusCurrent, DoubleExponentialCurrent, ExponentialConductance, SingleExponentialCurrent } from '../../src/neural/synapses/index.js';
import { checkSynapseSpec } from '../../src/neural/synapses/synapse.js';
import { Conv2D, LinearDense, LinearDirect, LinearLateral, MaskedLinear } from '../../src/neural/connections/index.js';

const lif = { restV: -65, resetV: -70, threshV: -50, refracT: 0, tauM: 20 };
const qif = { restV: -60, critV: -40, affinity: 0.1, resetV: -65, threshV: -20, refracT: 0, tauM: 10 };
const eif = { restV: -70, rheobaseV: -50, sharpness: 2, resetV: -60, threshV: -30, refracT: 0, tauM: 10 };
const adapt = { tauAdapt: 100, voltageCoupling: 0.1, adaptIncrement: 2 };
const spec = (dt: number) => ({ shape: [2], dt, delaySteps: 0, batchSize: 1 });

const entries: [string, (dt: number) => { dispose(): void } | unknown][] = [
  ['LIF', (dt) => new LIF(2, dt, lif)],
  ['ALIF', (dt) => new ALIF(2, dt, { ...lif, tauAdapt: [20], adaptIncrement: [1] })],
  ['GLIF2', (dt) => new GLIF2(2, dt, { restV: -70, resetVMul: 0.5, resetVAdd: 2, threshV: -50, refracT: 0, tauM: 10, rateAdapt: 0.1, adaptIncrement: 1 })],
  ['QIF', (dt) => new QIF(2, dt, qif)],
  ['EIF', (dt) => new EIF(2, dt, eif)],
  ['Izhikevich', (dt) => new Izhikevich(2, dt, { ...qif, ...adapt })],
  ['AdEx', (dt) => new AdEx(2, dt, { ...eif, ...adapt })],
  ['ExactNeuron', (dt) => new ExactNeuron(2, dt, { restV: -60, threshV: -50 })],
  ['checkSynapseSpec', (dt) => checkSynapseSpec(spec(dt))],
  ['DeltaCurrent', (dt) => new DeltaCurrent(spec(dt))],
  ['DeltaPlusCurrent', (dt) => new DeltaPlusCurrent(spec(dt))],
  ['SingleExponentialCurrent', (dt) => new SingleExponentialCurrent(spec(dt), { tau: 5 })],
  ['ExponentialConductance', (dt) => new ExponentialConductance(spec(dt), { tau: 5 })],
  ['DoubleExponentialCurrent', (dt) => new DoubleExponentialCurrent(spec(dt), { tauDecay: 5, tauRise: 1 })],
  ['LinearDense', (dt) => new LinearDense([2], [3], dt)],
  ['LinearDirect', (dt) => new LinearDirect([2], dt)],
  ['MaskedLinear', (dt) => new MaskedLinear([2], [2], dt, { mask: [[1, 0], [0, 1]] })],
  ['LinearLateral', (dt) => new LinearLateral([2], dt)],
  ['Conv2D', (dt) => new Conv2D([4, 4, 1], 1, 2, dt)],
];

function dispose(x: unknown): void {
  (x as { dispose?: () => void } | undefined)?.dispose?.();
}

describe('dt is a normal finite float32', () => {
  it.each(entries)('%s refuses dt whose float32 value is 0, subnormal or ∞', (_name, make) => {
    const before = tf.memory().numTensors;
    // 1e-46 → fround 0; 1e-40 → a subnormal float32; 1e39 → +∞
    for (const dt of [1e-46, 1e-40, 1e39]) {
      expect(Math.fround(dt) === 0 || Math.fround(dt) < 2 ** -126 || Math.fround(dt) === Infinity).toBe(true);
      let err: unknown;
      try {
        dispose(make(dt));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CinderArgumentError);
      expect((err as Error).message).toMatch(new RegExp(`^invalid dt: got ${String(dt).replace('+', '\\+')}, expected a number > 0 that float32 holds as a normal number`));
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(entries)('%s accepts 0.1 and the float32 extremes of dt', (_name, make) => {
    // 2^-126 (the smallest normal float32) and 3.4028234663852886e38 (the largest) are held exactly
    for (const dt of [0.1, 2 ** -126, 3.4028234663852886e38]) {
      let err: unknown;
      try {
        dispose(make(dt));
      } catch (e) {
        err = e;
      }
      // an extreme dt may make a derived constant overflow (a different parameter is then named); dt itself is never refused
      if (dt === 0.1) expect(err).toBeUndefined();
      else if (err !== undefined) expect((err as Error).message).not.toMatch(/^invalid dt:/);
    }
  });
});
