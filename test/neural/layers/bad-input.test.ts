// Invalid layer wiring and inputs throw CinderArgumentError naming the problem.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { ExactNeuron, LIF } from '../../../src/neural/neurons/index.js';
import { DeltaPlusCurrent, ExponentialConductance, SingleExponentialCurrent } from '../../../src/neural/synapses/index.js';
import { LinearDense, LinearDirect, LinearLateral } from '../../../src/neural/connections/index.js';
import { Biclique, RecurrentLayer, Serial } from '../../../src/neural/layers/index.js';

const P = { restV: -65, resetV: -60, threshV: -52, refracT: 2, tauM: 10 };
const lif = (n: number, o: object = {}) => new LIF([n], 1, { ...P, ...o });

describe('layer validation', () => {
  it.each([
    ['unknown combine mode', () => new Biclique({ connections: { c: new LinearDirect([2], 1) }, neurons: { n: lif(2) }, combine: 'median' as never }), /combine.*"sum"/],
    ['connection outShape ≠ neuron shape', () => new Serial(new LinearDense([2], [3], 1), lif(2)), /outShape.*\[2\]/],
    ['batch mismatch connection/neuron', () => new Serial(new LinearDirect([2], 1, { batchSize: 2 }), lif(2)), /batchSize/],
    ['dt mismatch', () => new Serial(new LinearDirect([2], 0.5), lif(2)), /dt/],
    ['conductance synapse without receptor', () => new Serial(new LinearDirect([2], 1, { synapse: ExponentialConductance.factory({ tau: 2 }) }), lif(2, { receptors: [{ name: 'ampa', reversal: 0 }] })), /receptor.*conductance/],
    ['unknown receptor', () => new Serial(new LinearDirect([2], 1, { synapse: ExponentialConductance.factory({ tau: 2 }) }), lif(2, { receptors: [{ name: 'ampa', reversal: 0 }] }), { receptor: 'nmda' }), /receptor.*ampa/],
    ['receptor on a current synapse', () => new Serial(new LinearDirect([2], 1), lif(2), { receptor: 'ampa' }), /receptor.*current/],
    ['Biclique without neurons', () => new Biclique({ connections: { c: new LinearDirect([2], 1) }, neurons: {} }), /neurons/],
    ['Biclique without connections', () => new Biclique({ connections: {}, neurons: { n: lif(2) } }), /connections/],
    ['name clash connection/neuron', () => new Biclique({ connections: { n: new LinearDirect([2], 1) }, neurons: { n: lif(2) } }), /name/],
    ['recurrent connection of the wrong shape', () => new RecurrentLayer(new LinearDense([3], [2], 1), new LinearDense([3], [2], 1), lif(2)), /recurrent inShape/],
    ['neuron groups with different batch sizes', () => new Biclique({ connections: { c: new LinearDirect([2], 1) }, neurons: { a: lif(2), b: lif(2, { batchSize: 2 }) } }), /batchSize/],
  ])('%s', (_name, f, re) => {
    expect(f).toThrow(CinderArgumentError);
    expect(f).toThrow(re);
  });

  it('rejects missing, unknown and mis-shaped step inputs, foreign cells and non-observers', () => {
    const layer = new Biclique({ connections: { a: new LinearDirect([2], 1), b: new LinearDirect([2], 1) }, neurons: { n: lif(2) } });
    expect(() => tf.tidy(() => layer.forward({ a: tf.zeros([1, 2]) }))).toThrow(/inputs.*missing "b"/);
    expect(() => tf.tidy(() => layer.forward({ a: tf.zeros([1, 2]), b: tf.zeros([1, 2]), c: tf.zeros([1, 2]) }))).toThrow(/inputs.*"c"/);
    expect(() => tf.tidy(() => layer.forward({ a: tf.zeros([1, 3]), b: tf.zeros([1, 2]) }))).toThrow(/spikes.*shape \[1, 2\]/);
    expect(() => tf.tidy(() => layer.forward({ a: tf.zeros([2, 2]), b: tf.zeros([2, 2]) }))).toThrow(/spikes.*batch 1/);
    expect(() => tf.tidy(() => layer.forward({ a: 3 as never, b: tf.zeros([1, 2]) }))).toThrow(/input "a"/);
    expect(() => layer.cell(new LinearDirect([2], 1), 'n')).toThrow(/connection.*a, b/);
    expect(() => layer.cell('a', 'm')).toThrow(/neuron/);
    expect(() => layer.attach({} as never)).toThrow(/observer/);
    const lateral = new LinearLateral([2], 1);
    expect(() => new Serial(lateral, lif(2), { transform: 5 as never })).toThrow(/transform.*function/);
    lateral.dispose();
    layer.dispose();
  });

  it('neuron options a group would reject fail before the connection steps (no half-applied step)', () => {
    const exact = new Serial(new LinearDirect([3], 1), new ExactNeuron([3], 1, { restV: -60, threshV: -50 }));
    const leaky = new Serial(new LinearDirect([3], 1), lif(3));
    const before = tf.memory().numTensors;
    // an override with 2 elements for 1 × 3 neurons; an override to a LIF group (which takes none)
    expect(() => tf.tidy(() => exact.forward(tf.ones([1, 3]), undefined, { override: tf.ones([1, 2]) }))).toThrow(/invalid override: got .*\[1, 2\].*expected a tensor with 3 elements/);
    expect(() => tf.tidy(() => leaky.forward(tf.fill([1, 3], 30), undefined, { override: tf.ones([1, 3]) }))).toThrow(/invalid options key: got "override", expected one of "refracLock", "adapt"/);
    expect(tf.memory().numTensors).toBe(before);
    // nothing advanced: the synapses hold no spikes, the LIF group did not integrate
    expect(Array.from(exact.connection.synapse.spike.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(leaky.connection.synapse.spike.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(leaky.neuron.voltage.dataSync())).toEqual([-65, -65, -65]);
    exact.dispose();
    leaky.dispose();
  });

  it('a batch size one module refuses changes none of them (the connection keeps its batch and its synapse history)', () => {
    // LIF [2^20]: a batch of 512 gives a voltage of 2^29 > 2^28 elements (refused); the connection's
    // synapse [512, 1] would fit. The old setter changed the connection first, then threw on the group.
    const N = 2 ** 20;
    const layer = new Serial(new LinearDense([1], [N], 1, { weightInit: (s) => tf.fill([...s], 0.5) }), lif(N));
    tf.tidy(() => layer.forward(tf.ones([1, 1])));
    const before = tf.memory().numTensors;
    expect(() => (layer.batchSize = 512)).toThrow(/invalid batchSize: got "536870912 elements for state \\"voltage\\" with batch 512", expected at most 268435456/);
    expect(() => (layer.batchSize = 1.5)).toThrow(/invalid batchSize/);
    expect([layer.batchSize, layer.connection.batchSize, layer.neuron.batchSize, layer.connection.synapse.batchSize]).toEqual([1, 1, 1, 1]);
    expect(Array.from(layer.connection.synapse.spike.dataSync())).toEqual([1]); // last step's spike still held
    expect(tf.memory().numTensors).toBe(before);
    // the layer still steps with batch 1, then changes for a size every module accepts
    tf.tidy(() => layer.forward(tf.zeros([1, 1])));
    layer.batchSize = 2;
    expect([layer.connection.batchSize, layer.neuron.batchSize]).toEqual([2, 2]);
    expect(Array.from(layer.connection.synapse.spike.dataSync())).toEqual([0, 0]);
    layer.dispose();
  });
});

describe('a batch size set on a group or connection directly', () => {
  // the layer's batchSize setter changes both; set on one module alone, the group would refuse the
  // combined input only after the connection had recorded the step's spikes in its synapse
  it.each([
    ['the neuron group', (l: Serial) => void (l.neuron.batchSize = 2)],
    ['the connection', (l: Serial) => void (l.connection.batchSize = 2)],
  ])('on %s is refused by the next step before anything advances', (_name, resize) => {
    const layer = new Serial(new LinearDirect([3], 1, { weightInit: (s) => tf.fill([...s], 20) }), lif(3));
    tf.tidy(() => layer.forward(tf.tensor2d([[1, 0, 1]])));
    resize(layer);
    const B = layer.connection.batchSize;
    const before = layer.namedStates().map(([k, s]) => [k, Array.from(s.value.dataSync())]);
    const spikeBefore = Array.from(layer.connection.synapse.spike.dataSync());
    let err: unknown;
    try {
      tf.tidy(() => layer.forward(tf.ones([B, 3])));
    } catch (e) {
      err = e;
    }
    // nothing advanced (the old code had recorded [1, 1, 1] in the synapse)
    expect(layer.namedStates().map(([k, s]) => [k, Array.from(s.value.dataSync())])).toEqual(before);
    expect(Array.from(layer.connection.synapse.spike.dataSync())).toEqual(spikeBefore);
    expect(err).toBeInstanceOf(CinderArgumentError);
    expect(String(err)).toMatch(/invalid neuron "neuron" batchSize: got \d, expected the batch size of connection "connection" \(\d\)/);
    // setting the layer's batch size makes both agree again
    layer.batchSize = 2;
    const y = tf.tidy(() => layer.forward(tf.ones([2, 3])));
    expect(y.shape).toEqual([2, 3]);
    y.dispose();
    layer.dispose();
  });
});

describe('null options and null maps in layer constructors', () => {
  it('Serial and RecurrentLayer take null options as none (as the neuron models do)', () => {
    const serial = new Serial(new LinearDirect([2], 1, { weightInit: (s) => tf.fill([...s], 20) }), lif(2), null as never);
    const rec = new RecurrentLayer(new LinearDirect([2], 1), new LinearLateral([2], 1), lif(2), null as never);
    // one exact LIF step from rest with I = 20·s: V = V_rest + 20·s·(1 − e^{−1/10})
    tf.tidy(() => serial.forward(tf.tensor2d([[1, 0]])));
    const v = Array.from(serial.neuron.voltage.dataSync());
    expect(v[0]).toBeCloseTo(-65 + 20 * (1 - Math.exp(-0.1)), 4);
    expect(v[1]).toBe(-65);
    expect(rec.inputNames).toEqual(['input', 'feedback']);
    serial.dispose();
    rec.dispose();
  });

  it.each([
    ['connections', () => new Biclique({ connections: null as never, neurons: { n: lif(2) } }), /invalid connections: got null, expected at least one connection/],
    ['neurons', () => new Biclique({ connections: { c: new LinearDirect([2], 1) }, neurons: null as never }), /invalid neurons: got null, expected at least one neuron group/],
  ])('Biclique with %s null is refused with an argument error', (_name, f, re) => {
    expect(f).toThrow(CinderArgumentError);
    expect(f).toThrow(re);
  });
});

describe('a disposed or non-numeric step input', () => {
  // Biclique: connection "a" (exponential synapse) runs before "b"; a bad input of "b" was refused
  // only inside b's synapse, after a had advanced (its current and history changed by the failed step)
  const disposed = () => {
    const t = tf.ones([1, 3]);
    t.dispose();
    return t;
  };
  it.each([
    ['spikes disposed', () => disposed(), /invalid spikes of input "b": got "a disposed tensor", expected a live tensor of shape \[1, 3\]/],
    ['spikes of dtype string', () => tf.tensor([['a', 'b', 'c']]), /invalid spikes of input "b" dtype: got "string", expected one of "float32", "int32", "bool"/],
    ['injected disposed', () => ({ spikes: tf.ones([1, 3]), injected: disposed() }), /invalid injected of input "b": got "a disposed tensor"/],
  ])('%s is refused before any connection advances', (_name, bad, re) => {
    const layer = new Biclique({
      connections: {
        a: new LinearDirect([3], 1, { weightInit: (s) => tf.fill([...s], 5), synapse: SingleExponentialCurrent.factory({ tau: 3 }) }),
        b: new LinearDense([3], [3], 1, { synapse: DeltaPlusCurrent.factory({}) }),
      },
      neurons: { n: lif(3) },
    });
    tf.tidy(() => layer.forward({ a: tf.ones([1, 3]), b: tf.ones([1, 3]) }));
    const snapshot = () => layer.namedStates().map(([k, s]) => [k, Array.from(s.value.dataSync())]);
    const before = snapshot();
    let err: unknown;
    try {
      tf.tidy(() => layer.forward({ a: tf.ones([1, 3]), b: bad() as never }));
    } catch (e) {
      err = e;
    }
    expect(snapshot()).toEqual(before);
    expect(err).toBeInstanceOf(CinderArgumentError);
    expect(String(err)).toMatch(re);
    layer.dispose();
  });
});

describe('a wire input key that is not a string', () => {
  // step inputs are looked up by string key (Biclique.forward takes an object), so a layer wired to
  // the key 5 or {} was built but refused every step ('missing "5"', 'missing "[object Object]"')
  it.each([
    ['a number', 5, /invalid input of "c": got 5, expected a string \(the key of the step input this connection reads\)/],
    ['an object', {}, /invalid input of "c": got .*, expected a string/],
  ])('%s is refused at construction', (_name, input, re) => {
    const f = () => new Biclique({ connections: { c: { connection: new LinearDirect([3], 1), input: input as never } }, neurons: { n: lif(3) } });
    expect(f).toThrow(CinderArgumentError);
    expect(f).toThrow(re);
  });

  it('a string key (also one shared by two connections) still works', () => {
    const layer = new Biclique({
      connections: { a: { connection: new LinearDirect([3], 1, { weightInit: (s) => tf.fill([...s], 10) }), input: 'x' }, b: { connection: new LinearDirect([3], 1, { weightInit: (s) => tf.fill([...s], 5) }), input: 'x' } },
      neurons: { n: lif(3) },
    });
    expect(layer.inputNames).toEqual(['x']);
    tf.tidy(() => layer.forward({ x: tf.tensor2d([[1, 0, 1]]) }));
    // summed current 15·s, one exact LIF step from rest
    const v = Array.from(layer.neurons.get('n')!.voltage.dataSync());
    expect(v[0]).toBeCloseTo(-65 + 15 * (1 - Math.exp(-0.1)), 4);
    expect(v[1]).toBe(-65);
    layer.dispose();
  });
});
