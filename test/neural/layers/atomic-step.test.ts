// A layer step that fails in a user callback (a wire's `transform`, a `combine` function, or what
// they return) changes no state: synapse history rings and their write position, kinetic synapse
// state, neuron state, weights and a registered trainer's traces are all as before the call, and a
// retry gives exactly what an uninterrupted run gives.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { LIF } from '../../../src/neural/neurons/index.js';
import { DeltaConductance, SingleExponentialCurrent } from '../../../src/neural/synapses/index.js';
import { LinearDense, LinearDirect, postFiltered } from '../../../src/neural/connections/index.js';
import { hasCheckedStep } from '../../../src/core/checked-step.js';
import { Biclique, Serial, type Layer } from '../../../src/neural/layers/index.js';
import type { BaseSynapse } from '../../../src/neural/synapses/synapse.js';
import { STDP } from '../../../src/learn/trainers/index.js';
import { disposeSnapshot } from '../../../src/core/snapshot.js';

const P = { restV: -65, resetV: -60, threshV: -50, refracT: 2, tauM: 10 };

/** Every tensor a layer holds (states, parameters) and every synapse's history read by age, as numbers. */
function layerState(layer: Layer): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, s] of layer.namedStates()) out[`state ${k}`] = Array.from(s.value.dataSync());
  for (const [k, p] of layer.namedParameters()) out[`param ${k}`] = Array.from(p.value.dataSync());
  for (const [name, c] of layer.connections) {
    const syn = c.synapse as unknown as BaseSynapse;
    for (let k = 0; k <= syn.delaySteps; k++) {
      out[`${name} spikeAgo(${k})`] = Array.from(syn.spikeAgo(k).dataSync());
      out[`${name} currentAgo(${k})`] = Array.from(syn.currentAgo(k).dataSync());
    }
  }
  return out;
}

function trainerState(t: STDP): Record<string, number[]> {
  const s = t.snapshotState();
  const out = Object.fromEntries(Object.entries(s.tensors).map(([k, v]) => [k, Array.from(v.dataSync())]));
  disposeSnapshot(s);
  return out;
}

/** Input spikes of step i, [B, n], from a fixed seed. */
function inputs(steps: number, B: number, n: number, seed: number): number[][][] {
  const rng = new Rng(seed);
  return Array.from({ length: steps }, () => Array.from({ length: B }, () => Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 1 : 0))));
}

describe('a layer step failing in a user callback changes no state', () => {
  // Serial: LinearDense 3 → 4 with per-edge delays up to 2 steps, an exponential (kinetic) synapse,
  // a LIF group, an STDP trainer on the cell; `transform` fails in the ways listed on step 3.
  const build = (transform: (y: tf.Tensor) => tf.Tensor) => {
    const rng = new Rng(5);
    const connection = new LinearDense([3], [4], 1, {
      batchSize: 2,
      maxDelay: 2,
      delayInit: (s) => tf.tensor(Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, i) => i % 3), [...s]),
      weightInit: (s) => tf.tensor(rng.uniformArray(s.reduce((a, b) => a * b, 1), 20, 60), [...s]),
      synapse: SingleExponentialCurrent.factory({ tau: 3 }),
    });
    const layer = new Serial(connection, new LIF([4], 1, { ...P, batchSize: 2 }), { transform });
    const stdp = new STDP({ lrPost: 0.01, lrPre: 0.02, tauPost: 5, tauPre: 5 });
    stdp.register(layer.cell('connection', 'neuron'));
    return { layer, stdp };
  };
  const failures: [string, () => tf.Tensor, RegExp][] = [
    ['throws', () => {
      throw new Error('transform failed');
    }, /transform failed/],
    ['returns a tensor of the wrong shape', () => tf.zeros([2, 5]), /invalid transform of "connection": got .*\[2, 5\].*expected a tensor of shape \[2, 4\]/],
    ['returns a non-tensor', () => 3 as unknown as tf.Tensor, /invalid transform of "connection": got 3, expected a tensor of shape \[2, 4\]/],
  ];
  it.each(failures)('Serial with delays, transform %s', (_name, fail, message) => {
    const xs = inputs(8, 2, 3, 11);
    const scale = (y: tf.Tensor) => tf.mul(y, 1.5);
    let broken = false;
    const a = build((y) => (broken ? fail() : scale(y)));
    const b = build(scale); // uninterrupted twin
    const spikesA: number[][] = [];
    const spikesB: number[][] = [];
    for (let i = 0; i < xs.length; i++) {
      if (i === 3) {
        const before = layerState(a.layer);
        const traces = trainerState(a.stdp);
        const n = tf.memory().numTensors;
        broken = true;
        expect(() => tf.tidy(() => a.layer.forward(tf.tensor(xs[i]!)))).toThrow(message);
        broken = false;
        expect(tf.memory().numTensors).toBe(n);
        expect(layerState(a.layer)).toEqual(before);
        expect(trainerState(a.stdp)).toEqual(traces);
      }
      spikesA.push(Array.from(tf.tidy(() => a.layer.forward(tf.tensor(xs[i]!))).dataSync()));
      spikesB.push(Array.from(tf.tidy(() => b.layer.forward(tf.tensor(xs[i]!))).dataSync()));
      a.stdp.step();
      b.stdp.step();
    }
    expect(spikesA).toEqual(spikesB);
    expect(spikesB.flat().some((s) => s === 1)).toBe(true); // the run is not trivially silent
    expect(layerState(a.layer)).toEqual(layerState(b.layer));
    expect(trainerState(a.stdp)).toEqual(trainerState(b.stdp));
    for (const x of [a, b]) {
      x.stdp.dispose();
      x.layer.dispose();
    }
  });

  // Biclique: two delayed connections into two groups, merged by a combine function that fails on
  // its third call (the second group's combination of step 1), after the first group's was made.
  const buildBiclique = (combine: (ts: readonly tf.Tensor[]) => tf.Tensor) => {
    const rng = new Rng(9);
    const conn = (n: number) =>
      new LinearDense([n], [3], 1, { maxDelay: 1, delayInit: (s) => tf.tensor(Array.from({ length: s[0]! * s[1]! }, (_, i) => i % 2), [...s]), weightInit: (s) => tf.tensor(rng.uniformArray(s[0]! * s[1]!, 30, 90), [...s]) });
    return new Biclique({ connections: { p: conn(2), q: conn(4) }, neurons: { a: new LIF([3], 1, P), b: new LIF([3], 1, { ...P, tauM: 20 }) }, combine });
  };
  const combineFailures: [string, () => tf.Tensor, RegExp][] = [
    ['throws', () => {
      throw new Error('combine failed');
    }, /combine failed/],
    ['returns a tensor of the wrong shape', () => tf.zeros([1, 2]), /invalid combine: got .*expected a tensor of shape \[1, 3\]/],
  ];
  it.each(combineFailures)('Biclique with a combine function that %s', (_name, fail, message) => {
    const xp = inputs(6, 1, 2, 3);
    const xq = inputs(6, 1, 4, 4);
    const sum = (ts: readonly tf.Tensor[]) => tf.addN(ts as tf.Tensor[]);
    let calls = 0;
    let failAt = -1;
    const a = buildBiclique((ts) => (calls++ === failAt ? fail() : sum(ts)));
    const b = buildBiclique(sum);
    const run = (layer: Biclique, i: number) => {
      const r = tf.tidy(() => layer.forward({ p: tf.tensor(xp[i]!), q: tf.tensor(xq[i]!) }));
      const out = [...r.a!.dataSync(), ...r.b!.dataSync()];
      tf.dispose(Object.values(r));
      return out;
    };
    const outA: number[][] = [];
    const outB: number[][] = [];
    for (let i = 0; i < xp.length; i++) {
      if (i === 2) {
        const before = layerState(a);
        const n = tf.memory().numTensors;
        failAt = calls + 1; // the second group's combination
        expect(() => run(a, i)).toThrow(message);
        expect(tf.memory().numTensors).toBe(n);
        expect(layerState(a)).toEqual(before);
      }
      outA.push(run(a, i));
      outB.push(run(b, i));
    }
    expect(outA).toEqual(outB);
    expect(outB.flat().some((s) => s === 1)).toBe(true); // the run is not trivially silent
    expect(layerState(a)).toEqual(layerState(b));
    a.dispose();
    b.dispose();
  });

  it('a user neuron subclass that throws after another group stepped, in a layer without callbacks: everything is put back', () => {
    // group "a" is a plain LIF, group "b" a subclass that fails on one call, after "a" stepped and
    // both connections pushed their synapse rings
    class FlakyLIF extends LIF {
      fail = false;
      override forward(...args: Parameters<LIF['forward']>): ReturnType<LIF['forward']> {
        if (this.fail) throw new Error('user neuron failed');
        return super.forward(...args);
      }
    }
    const build = () => {
      const rng = new Rng(9);
      const conn = (n: number) =>
        new LinearDense([n], [3], 1, { maxDelay: 1, delayInit: (s) => tf.tensor(Array.from({ length: s[0]! * s[1]! }, (_, i) => i % 2), [...s]), weightInit: (s) => tf.tensor(rng.uniformArray(s[0]! * s[1]!, 30, 90), [...s]) });
      const b = new FlakyLIF([3], 1, { ...P, tauM: 20 });
      return { layer: new Biclique({ connections: { p: conn(2), q: conn(4) }, neurons: { a: new LIF([3], 1, P), b } }), b };
    };
    const xp = inputs(6, 1, 2, 3);
    const xq = inputs(6, 1, 4, 4);
    const x = build();
    const ref = build();
    const run = (layer: Biclique, i: number) => {
      const r = tf.tidy(() => layer.forward({ p: tf.tensor(xp[i]!), q: tf.tensor(xq[i]!) }));
      const out = [...r.a!.dataSync(), ...r.b!.dataSync()];
      tf.dispose(Object.values(r));
      return out;
    };
    for (let i = 0; i < xp.length; i++) {
      if (i === 3) {
        const before = layerState(x.layer);
        const n = tf.memory().numTensors;
        x.b.fail = true;
        expect(() => run(x.layer, i)).toThrow(/user neuron failed/);
        x.b.fail = false;
        expect(tf.memory().numTensors).toBe(n);
        expect(layerState(x.layer)).toEqual(before);
      }
      expect(run(x.layer, i), `step ${i}`).toEqual(run(ref.layer, i));
    }
    expect(layerState(x.layer)).toEqual(layerState(ref.layer));
    x.layer.dispose();
    ref.layer.dispose();
  });

  it("which classes step unguarded: the library's own (and postFiltered over them), not user subclasses", () => {
    class MyDense extends LinearDense {}
    const own = new LinearDense([2], [3], 1);
    const sub = new MyDense([2], [3], 1);
    const pf = new (postFiltered(LinearDense))({ tau: 5 }, [2], [3], 1, { synapse: DeltaConductance.factory() });
    const pfSub = new (postFiltered(MyDense))({ tau: 5 }, [2], [3], 1, { synapse: DeltaConductance.factory() });
    expect([own, sub, pf, pfSub].map((c) => hasCheckedStep(c))).toEqual([true, false, true, false]);
    expect([own.synapse, new LIF([3], 1, P), new (class extends LIF {})([3], 1, P)].map((m) => hasCheckedStep(m))).toEqual([true, true, false]);
    for (const c of [own, sub, pf, pfSub]) c.dispose();
  });

  it('a failed step of a layer without callbacks (bad input) still changes nothing', () => {
    const layer = new Serial(new LinearDirect([2], 1, { maxDelay: 1 }), new LIF([2], 1, P));
    tf.tidy(() => layer.forward(tf.tensor([[1, 0]])));
    const before = layerState(layer);
    expect(() => tf.tidy(() => layer.forward(tf.zeros([1, 3])))).toThrow(/spikes/);
    expect(layerState(layer)).toEqual(before);
    layer.dispose();
  });
});
