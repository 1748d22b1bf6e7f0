// Invalid synapse options and inputs throw CinderArgumentError naming the parameter.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import {
  DeltaCurrent,
  DoubleExponentialConductance,
  DoubleExponentialCurrent,
  ExponentialConductance,
  SingleExponentialCurrent,
} from '../../../src/neural/synapses/index.js';

const spec = { shape: [3], dt: 1, delaySteps: 0, batchSize: 2 };

describe('synapse validation', () => {
  it.each([
    ['NaN tau', () => SingleExponentialCurrent.factory({ tau: NaN }), /tau.*NaN/],
    ['zero tau', () => new SingleExponentialCurrent(spec, { tau: 0 }), /tau.*> 0/],
    ['negative tau', () => ExponentialConductance.factory({ tau: -2 }), /tau/],
    ['zero charge', () => DeltaCurrent.factory({ charge: 0 }), /charge/],
    ['NaN charge', () => new SingleExponentialCurrent(spec, { tau: 2, charge: NaN }), /charge/],
    ['tauRise >= tauDecay', () => DoubleExponentialCurrent.factory({ tauDecay: 2, tauRise: 2 }), /tauDecay.*> tauRise/],
    ['negative tauRise', () => DoubleExponentialConductance.factory({ tauDecay: 2, tauRise: -1 }), /tauRise/],
    ['zero increment', () => ExponentialConductance.factory({ tau: 2, increment: 0 }), /increment/],
    ['negative delaySteps', () => new DeltaCurrent({ ...spec, delaySteps: -1 }), /delaySteps/],
    ['fractional delaySteps', () => new DeltaCurrent({ ...spec, delaySteps: 1.5 }), /delaySteps/],
    ['zero batch', () => new DeltaCurrent({ ...spec, batchSize: 0 }), /batchSize/],
    ['empty shape', () => new DeltaCurrent({ ...spec, shape: [] }), /shape/],
    ['zero dt', () => new DeltaCurrent({ ...spec, dt: 0 }), /dt/],
    ['missing options', () => SingleExponentialCurrent.factory(undefined as never), /options/],
  ])('%s', (_name, f, re) => {
    expect(f).toThrow(CinderArgumentError);
    expect(f).toThrow(re);
  });

  it('rejects wrong spike shapes, batch mismatches and unexpected injected currents', () => {
    const syn = new DeltaCurrent(spec);
    expect(() => tf.tidy(() => syn.forward(tf.zeros([2, 4])))).toThrow(/spikes.*shape \[2, 3\]/);
    expect(() => tf.tidy(() => syn.forward(tf.zeros([1, 3])))).toThrow(/spikes.*batch 2/);
    expect(() => tf.tidy(() => syn.forward(tf.zeros([2, 3]), tf.zeros([2, 3])))).toThrow(/injected.*DeltaPlusCurrent/);
    expect(() => { syn.batchSize = 0; }).toThrow(/batchSize/);
    syn.dispose();
  });
});
