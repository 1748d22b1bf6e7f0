// Invalid synapse options and inputs throw CinderArgumentError naming the parameter.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import {
  DeltaCurrent,
  DeltaPlusCurrent,
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
    // null options of the delta currents were a TypeError (reading 'charge' of null)
    ['null DeltaCurrent.factory options', () => DeltaCurrent.factory(null as never), /invalid options: got null, expected \{ charge\? \}/],
    ['null DeltaCurrent options', () => new DeltaCurrent(spec, null as never), /invalid options: got null/],
    ['null DeltaPlusCurrent.factory options', () => DeltaPlusCurrent.factory(null as never), /invalid options: got null/],
    ['string DeltaCurrent options', () => DeltaCurrent.factory('2' as never), /invalid options: got "2"/],
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

  it('a disposed or string spike tensor is refused by name before the ring moves (was a TypeError from tfjs)', () => {
    const syn = new DelayedProbe();
    tf.tidy(() => void syn.forward(tf.tensor2d([[1, 0, 1], [0, 1, 0]])));
    const head = syn.headNow();
    const gone = tf.ones([2, 3]);
    gone.dispose();
    expect(() => tf.tidy(() => syn.forward(gone))).toThrow(/^invalid spikes: got "a disposed tensor", expected a live tensor of shape \[2, 3\]$/);
    const str = tf.tensor(['a', 'b', 'c', 'd', 'e', 'f'], [2, 3]);
    expect(() => tf.tidy(() => syn.forward(str))).toThrow(/^invalid spikes dtype: got "string", expected one of "float32", "int32", "bool"$/);
    expect(syn.headNow()).toBe(head);
    expect([...syn.spikeAgo(0).dataSync()]).toEqual([1, 0, 1, 0, 1, 0]);
    str.dispose();
    syn.dispose();
  });
});

/** A delayed DeltaCurrent that shows its ring position. */
class DelayedProbe extends DeltaCurrent {
  constructor() {
    super({ ...spec, delaySteps: 2 });
  }
  headNow(): number {
    return (this as unknown as { head: number }).head;
  }
}

describe('a loaded ring position out of range is refused and the synapse keeps its state', () => {
  it.each([[3], [7], [-1]])('history_head %i with 3 slots', async (bad) => {
    const { moduleTensors, restoreModuleTensors } = await import('../../../src/io/serialize.js');
    const dspec = { shape: [2], dt: 1, delaySteps: 2, batchSize: 1 };
    const a = new DeltaCurrent(dspec);
    const b = new DeltaCurrent(dspec);
    const drive = (s: DeltaCurrent, xs: number[][]) => {
      for (const x of xs) tf.tidy(() => void s.forward(tf.tensor2d([x])));
    };
    drive(a, [[1, 0], [0, 1], [1, 1], [0, 0]]);
    drive(b, [[1, 1], [0, 1]]);
    const history = (s: DeltaCurrent) => [0, 1, 2].map((k) => [...s.currentAgo(k).dataSync()]);
    const before = history(b);
    const saved = await moduleTensors(a);
    const head = saved.history_head!;
    expect(head.data.length).toBe(1);
    (head.data as Int32Array)[0] = bad;
    expect(() => restoreModuleTensors(b, saved)).toThrow(CinderArgumentError);
    expect(() => restoreModuleTensors(b, saved)).toThrow(/history_head/);
    expect(history(b)).toEqual(before);
    // the position as saved restores a's history
    (head.data as Int32Array)[0] = (await moduleTensors(a)).history_head!.data[0]!;
    restoreModuleTensors(b, saved);
    expect(history(b)).toEqual(history(a));
    a.dispose();
    b.dispose();
  });
});
