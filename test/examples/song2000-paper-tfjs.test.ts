// `cinder song2000 --model paper --engine tfjs`: the paper's model built from Cinder modules
// (examples/song2000/paper-network.ts) against the event engine on the same input spikes, its
// frozen-jump conductance against the closed form.
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { EventSong, chunkFromDense } from '../../examples/song2000/event.js';
import { FrozenConductanceDense, SongPaperNetwork } from '../../examples/song2000/paper-network.js';
import { songPaperParams } from '../../examples/song2000/params.js';
import { bernoulli } from './song-reference.js';

/** Distance from x (a positive float32) to the next float32. */
function ulp32(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0]!++;
  return f[0]! - Math.fround(x);
}

/**
 * Runs the module network and the event engine side by side on the same excitatory `[steps, N]`
 * and inhibitory `[steps, Ni]` spikes from all weights at ḡmax. Post spikes and voltages are
 * collected as tensors and read once at the end.
 */
function sideBySide(frozenJumps: boolean, steps: number, seed: number) {
  const p = { ...songPaperParams({ rate: 10 }), frozenJumps };
  const exc = bernoulli(steps, p.nInputs, p.rate, p.dt, seed);
  const inh = bernoulli(steps, p.nInhib, p.inhibRate, p.dt, seed + 1);
  const w0 = new Float32Array(p.nInputs).fill(p.gmax);
  const net = new SongPaperNetwork(p, w0);
  const ev = new EventSong(p, w0);
  const ce = chunkFromDense(exc, steps, p.nInputs);
  const ci = chunkFromDense(inh, steps, p.nInhib);
  const postsT: tf.Tensor[] = [];
  const vT: tf.Tensor[] = [];
  const geT: tf.Tensor[] = [];
  const evPost = new Uint8Array(steps);
  const evV = new Float64Array(steps);
  const evGe = new Float64Array(steps);
  const preCount = new Float64Array(p.nInputs);
  for (let t = 0; t < steps; t++) {
    const s = tf.tensor2d(exc.subarray(t * p.nInputs, (t + 1) * p.nInputs), [1, p.nInputs]);
    const r = tf.tensor2d(inh.subarray(t * p.nInhib, (t + 1) * p.nInhib), [1, p.nInhib]);
    postsT.push(tf.tidy(() => tf.reshape(net.step(s, r), [1])));
    vT.push(tf.tidy(() => tf.reshape(net.neuron.voltage, [1])));
    geT.push(tf.tidy(() => tf.reshape(net.excitatoryConductance(), [1])));
    s.dispose();
    r.dispose();
    evPost[t] = ev.step(ce.ids, ce.start[t]!, ce.start[t + 1]!, [ci.start[t + 1]! - ci.start[t]!]);
    evV[t] = ev.v[0]!;
    evGe[t] = ev.geSeen[0]!;
    for (let e = ce.start[t]!; e < ce.start[t + 1]!; e++) preCount[ce.ids[e]!]!++;
  }
  const read = (ts: tf.Tensor[]) => {
    const all = tf.concat(ts);
    const out = all.dataSync().slice();
    all.dispose();
    for (const x of ts) x.dispose();
    return out;
  };
  const tfPost = read(postsT);
  const tfV = read(vT);
  const tfGe = read(geT);
  const tfW = net.weights();
  net.dispose();
  return { p, tfPost, tfV, tfGe, tfW, evPost, evV, evGe, evW: ev.weights(), preCount };
}

describe('song2000 --model paper on the Cinder modules (SongPaperNetwork)', () => {
  it('agrees with the event engine step by step over 2 s (1000 + 200 inputs, all weights at ḡmax): post spikes identical, weights within the float32 rounding bound', () => {
    const steps = 20_000;
    const r = sideBySide(true, steps, 31);
    const { p } = r;
    const nPost = r.evPost.reduce((a, b) => a + b, 0);
    expect(nPost).toBeGreaterThan(50); // all weights at ḡmax: the neuron fires fast at first
    expect(Array.from(r.tfPost, (x) => (x !== 0 ? 1 : 0))).toEqual(Array.from(r.evPost));
    // membrane and conductance: float32 (module) against float64 (event engine); both contract
    let maxV = 0;
    let maxGe = 0;
    for (let t = 0; t < steps; t++) {
      maxV = Math.max(maxV, Math.abs(r.tfV[t]! - r.evV[t]!));
      maxGe = Math.max(maxGe, Math.abs(r.tfGe[t]! - r.evGe[t]!) / Math.max(p.gmax, r.evGe[t]!));
    }
    expect(maxV).toBeLessThan(2e-4); // mV: ≈ 50 ulp of float32 at −60 mV
    expect(maxGe).toBeLessThan(1e-5);
    // Weights: both engines store them in float32 and add the same additive increments (traces:
    // float32 here, float64 in the event engine, a relative difference ~1e-7 of an increment of
    // ≈ A+·ḡmax). Each update of a weight can round the two results to neighbouring float32
    // values, so the difference grows by at most one ulp(ḡmax) per update (clipping only shrinks
    // it): weight a is updated at its presynaptic spikes and at every post spike, so
    // |Δw_a| ≤ (pre_a + posts)·ulp(ḡmax). Measured: well inside.
    let maxW = 0;
    let maxRatio = 0;
    let moved = 0;
    const ulp = ulp32(p.gmax);
    for (let i = 0; i < p.nInputs; i++) {
      const d = Math.abs(r.tfW[i]! - r.evW[i]!);
      maxW = Math.max(maxW, d);
      maxRatio = Math.max(maxRatio, d / ((r.preCount[i]! + nPost) * ulp));
      if (r.evW[i]! < Math.fround(p.gmax)) moved++;
    }
    expect(moved).toBeGreaterThan(p.nInputs / 2); // STDP acted
    expect(maxRatio).toBeLessThanOrEqual(1);
    expect(maxW).toBeLessThan(1e-5 * p.gmax);
  }, 120_000);

  it('without frozen jumps (per-input conductances rescaled by weight changes) it agrees with the event engine run so', () => {
    const steps = 3000;
    const r = sideBySide(false, steps, 41);
    expect(r.evPost.reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
    expect(Array.from(r.tfPost, (x) => (x !== 0 ? 1 : 0))).toEqual(Array.from(r.evPost));
    let maxW = 0;
    for (let i = 0; i < r.p.nInputs; i++) maxW = Math.max(maxW, Math.abs(r.tfW[i]! - r.evW[i]!));
    expect(maxW).toBeLessThan(1e-5 * r.p.gmax);
  }, 60_000);

  it('FrozenConductanceDense: a jump keeps the weight it arrived with (closed form g_k = w·e^{−kΔt/τ}, weight set to 0 after the spike)', () => {
    const dt = 0.1;
    const tau = 5;
    const w = 0.015;
    const c = new FrozenConductanceDense([2], [1], dt, { tau, weightInit: () => tf.tensor2d([[w, 2 * w]]) });
    const spike = tf.tensor2d([[1, 0]]);
    const none = tf.tensor2d([[0, 0]]);
    let maxErr = 0;
    for (let k = 0; k < 50; k++) {
      tf.tidy(() => void c.forward(k === 0 ? spike : none));
      if (k === 0) c.weight = tf.zeros([1, 2]); // a later weight change leaves the conductance in flight alone
      const g = c.conductance.dataSync()[0]!;
      maxErr = Math.max(maxErr, Math.abs(g - Math.fround(w) * Math.exp((-k * dt) / tau)) / w);
    }
    expect(maxErr).toBeLessThan(1e-5); // float32 decay factor, 50 products
    expect(c.conductance.dataSync()[0]!).toBeGreaterThan(0.3 * w);
    c.clear();
    expect(c.conductance.dataSync()[0]).toBe(0);
    c.batchSize = 3;
    expect(c.conductance.shape).toEqual([3, 1]);
    expect(() => new FrozenConductanceDense([2], [1], dt, { tau: 0 })).toThrow(/invalid tau/);
    expect(() => new FrozenConductanceDense([2], [1], dt, { tau, maxDelay: 1 })).toThrow(/invalid maxDelay/);
    spike.dispose();
    none.dispose();
    c.dispose();
  });

  it('SongPaperNetwork refuses parameters without inhibitory inputs and initial weights of the wrong length', () => {
    const p = songPaperParams();
    expect(() => new SongPaperNetwork({ ...p, nInhib: 0 }, new Float32Array(p.nInputs))).toThrow(/invalid p.nInhib/);
    expect(() => new SongPaperNetwork(p, new Float32Array(3))).toThrow(/invalid w0/);
  });

  it('memory stays flat over a loop', () => {
    const p = songPaperParams({ rate: 10 });
    const net = new SongPaperNetwork(p, new Float32Array(p.nInputs).fill(p.gmax));
    const s = tf.tensor2d(bernoulli(1, p.nInputs, 200, p.dt, 3), [1, p.nInputs]);
    const r = tf.tensor2d(bernoulli(1, p.nInhib, 200, p.dt, 4), [1, p.nInhib]);
    for (let t = 0; t < 10; t++) tf.tidy(() => void net.step(s, r));
    const n0 = tf.memory().numTensors;
    for (let t = 0; t < 200; t++) tf.tidy(() => void net.step(s, r));
    expect(tf.memory().numTensors).toBe(n0);
    s.dispose();
    r.dispose();
    net.dispose();
  });
});
