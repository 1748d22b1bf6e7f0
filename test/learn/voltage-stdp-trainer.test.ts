import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { LinearDense } from '../../src/neural/connections/linear-dense.js';
import { SparseLinear } from '../../src/neural/connections/sparse-linear.js';
import type { Connection } from '../../src/neural/connections/connection.js';
import { VoltageSTDP, type VoltageStdpCell } from '../../src/learn/trainers/voltage-stdp.js';
import { EXCITATORY_VOLTAGE_STDP, INHIBITORY_VOLTAGE_STDP, VoltageStdpSites, type VoltageStdpParams } from '../../src/kernels/js/voltage-stdp.js';

/** A cell whose postsynaptic voltage is prescribed (the trainer only reads it). */
function cell(conn: Connection, v: { t: tf.Tensor }): VoltageStdpCell {
  return {
    connection: conn,
    neuron: { get voltage() { return v.t; }, get spike() { return v.t; }, training: true },
    layer: { attach() {}, detach() {}, training: true },
  };
}

const O = 3, I = 4, dt = 0.1, steps = 600;
/** Prescribed voltages per post neuron and presynaptic spike trains. */
const volt = (k: number, j: number, inh: boolean) => (inh ? -78 + 9 * Math.sin(k / (19 + 7 * j)) : -48 + 22 * Math.sin(k / (13 + 5 * j)) + (k % 150 < 8 ? 40 : 0));
const spike = (k: number, i: number) => ((k * (i + 3)) % 37 === 5 ? 1 : 0);

/** A sparse list: every (post j, pre i) pair except those with (i + j) % 3 === 0, ordered by post. */
const SPARSE = (() => {
  const pre: number[] = [], post: number[] = [];
  for (let j = 0; j < O; j++) for (let i = 0; i < I; i++) if ((i + j) % 3 !== 0) { pre.push(i); post.push(j); }
  return { nPre: I, nPost: O, pre: Int32Array.from(pre), post: Int32Array.from(post) };
})();

function runTrainer(p: VoltageStdpParams, batch: number, offAt = -1, onAt = -1, sparse = false): Float32Array {
  const conn: Connection = sparse
    ? new SparseLinear([I], [O], dt, { synapses: SPARSE, batchSize: batch, weightInit: (s) => tf.ones(s as number[]) })
    : new LinearDense([I], [O], dt, { batchSize: batch, weightInit: (s) => tf.ones(s as number[]) });
  const trainer = new VoltageSTDP({ ...p });
  const v = { t: tf.zeros([batch, O]) };
  const c = cell(conn, v);
  trainer.register(c);
  for (let k = 0; k < steps; k++) {
    if (k === offAt) trainer.disable();
    if (k === onAt) trainer.enable();
    const x = tf.tensor2d(Array.from({ length: batch * I }, (_, n) => (n < I ? spike(k, n) : 0)), [batch, I]);
    tf.tidy(() => { conn.forward(x); });
    x.dispose();
    v.t.dispose();
    v.t = tf.tensor2d(Array.from({ length: batch * O }, (_, n) => volt(k, n % O, p.inhibitory)), [batch, O]);
    trainer.step();
    conn.update();
  }
  const w = conn.weight.dataSync() as Float32Array;
  const out = Float32Array.from(w);
  v.t.dispose();
  trainer.dispose();
  conn.dispose();
  return out;
}

function runKernel(p: VoltageStdpParams, offAt = -1, onAt = -1, sparse = false): Float32Array {
  // dense: synapse c = j·I + i (row-major [O, I]) on site j; sparse: the list's order
  const site = sparse ? Int32Array.from(SPARSE.post) : Int32Array.from({ length: O * I }, (_, c) => Math.floor(c / I));
  const preOf = sparse ? Int32Array.from(SPARSE.pre) : Int32Array.from({ length: O * I }, (_, c) => c % I);
  const s = new VoltageStdpSites(O, site, dt, p);
  s.enable();
  const v = new Float32Array(O);
  for (let k = 0; k < steps; k++) {
    if (k === offAt) s.disable();
    if (k === onAt) s.enable();
    for (let j = 0; j < O; j++) v[j] = volt(k, j, p.inhibitory);
    s.advance(v);
    for (let c = 0; c < site.length; c++) if (spike(k, preOf[c]!)) s.pre(c);
  }
  return Float32Array.from(s.weight);
}

describe('VoltageSTDP trainer (tfjs op path) vs the JS kernel', () => {
  for (const [name, p] of [['excitatory', EXCITATORY_VOLTAGE_STDP], ['inhibitory', INHIBITORY_VOLTAGE_STDP]] as const) {
    it(`${name}: dense weights agree within float32 tolerance`, () => {
      const n0 = tf.memory().numTensors;
      const a = runTrainer(p, 1);
      const b = runKernel(p);
      let changed = 0;
      for (let c = 0; c < O * I; c++) {
        expect(Math.abs(a[c]! - b[c]!)).toBeLessThanOrEqual(2e-5 * Math.abs(b[c]!));
        if (b[c] !== 1) changed++;
      }
      expect(changed).toBeGreaterThan(O * I / 2);
      expect(tf.memory().numTensors).toBe(n0);
    });
  }

  it('off/on: enabling resets I_c, and off freezes the weights', () => {
    const a = runTrainer(EXCITATORY_VOLTAGE_STDP, 1, 200, 400);
    const b = runKernel(EXCITATORY_VOLTAGE_STDP, 200, 400);
    for (let c = 0; c < O * I; c++) expect(Math.abs(a[c]! - b[c]!)).toBeLessThanOrEqual(2e-5 * Math.abs(b[c]!));
  });

  it('batched: a second sample without presynaptic spikes adds nothing (sum over the batch)', () => {
    const a = runTrainer(EXCITATORY_VOLTAGE_STDP, 2);
    const b = runKernel(EXCITATORY_VOLTAGE_STDP);
    for (let c = 0; c < O * I; c++) expect(Math.abs(a[c]! - b[c]!)).toBeLessThanOrEqual(2e-5 * Math.abs(b[c]!));
  });

  it('sparse (SparseLinear, weight per listed synapse) agrees with the kernel on the same list', () => {
    const n0 = tf.memory().numTensors;
    const a = runTrainer(EXCITATORY_VOLTAGE_STDP, 1, 200, 400, true);
    const b = runKernel(EXCITATORY_VOLTAGE_STDP, 200, 400, true);
    expect(a.length).toBe(SPARSE.pre.length);
    for (let c = 0; c < b.length; c++) expect(Math.abs(a[c]! - b[c]!)).toBeLessThanOrEqual(2e-5 * Math.abs(b[c]!));
    expect(new Set(Array.from(b)).size).toBeGreaterThan(3);
    expect(tf.memory().numTensors).toBe(n0);
  });

  it('rejects unknown options naming the key', () => {
    expect(() => new VoltageSTDP({ thetaLTP: 1 } as never)).toThrow(/options key: got "thetaLTP"/);
    expect(() => new VoltageSTDP({ tauSignal: -1 })).toThrow(/options\.tauSignal: got -1/);
  });
});
