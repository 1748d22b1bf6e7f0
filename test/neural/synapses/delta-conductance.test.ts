// DeltaConductance: g = Δg·s within the step of the spike, no memory (the conductance counterpart
// of DeltaCurrent, without its 1/Δt), against the closed form.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { DeltaConductance } from '../../../src/neural/synapses/index.js';

describe('DeltaConductance', () => {
  it('g = Δg·s in float32, nothing carried to the next step, history and kind as other synapses', () => {
    const inc = 0.3;
    const syn = new DeltaConductance({ shape: [3], dt: 0.25, delaySteps: 1, batchSize: 2 }, { increment: inc });
    expect(syn.kind).toBe('conductance');
    expect(syn.extras()).toMatchObject({ increment: inc, kind: 'conductance' });
    const s1 = [1, 0, 1, 0, 1, 1];
    const a = tf.tensor2d(s1, [2, 3]);
    const b = tf.zeros([2, 3]);
    const g1 = tf.tidy(() => Array.from(syn.forward(a).dataSync()));
    expect(g1).toEqual(s1.map((s) => s * Math.fround(inc))); // one float32 product with fround(Δg)
    const g2 = tf.tidy(() => Array.from(syn.forward(b).dataSync()));
    expect(g2).toEqual([0, 0, 0, 0, 0, 0]); // memoryless: no decay term
    expect(Array.from(syn.currentAgo(1).dataSync())).toEqual(g1);
    expect(Array.from(syn.spikeAgo(1).dataSync())).toEqual(s1);
    expect(() => new DeltaConductance({ shape: [3], dt: 1, delaySteps: 0, batchSize: 1 }, { increment: -1 })).toThrow(/invalid increment: got -1/);
    expect(() => DeltaConductance.factory({ increment: NaN })).toThrow(/invalid increment/);
    expect(() => tf.tidy(() => syn.forward(a, a))).toThrow(/invalid injected/);
    for (const t of [a, b]) t.dispose();
    syn.dispose();
  });

  it('Δg = 1: g = s bit for bit without a kernel (a new handle: disposing it leaves the spikes and the history), no tensor left behind', async () => {
    const syn = new DeltaConductance({ shape: [6], dt: 0.1, delaySteps: 1, batchSize: 1 });
    const values = [1, 0, -0, 0.5, 3e38, NaN];
    const s = tf.tensor2d(values, [1, 6]);
    syn.forward(s).dispose(); // the history's first slots
    const before = tf.memory().numTensors;
    const p = await tf.profile(() => syn.forward(s));
    const kernels = p.kernels.map((k) => k.name); // read before any other profile (shared object)
    const g = p.result as tf.Tensor;
    expect(kernels).toEqual([]);
    const got = Array.from((await g.data()) as Float32Array);
    values.forEach((x, i) => expect(Object.is(got[i], Math.fround(x) * 1)).toBe(true)); // s·1 in float32
    g.dispose();
    expect(Array.from((await s.data()) as Float32Array).map((x, i) => Object.is(x, Math.fround(values[i]!)))).toEqual(new Array(6).fill(true));
    const back = Array.from((await syn.currentAgo(0).data()) as Float32Array);
    values.forEach((x, i) => expect(Object.is(back[i], Math.fround(x))).toBe(true));
    expect(tf.memory().numTensors).toBe(before);
    s.dispose();
    syn.dispose();
  });
});
