// ReceptiveContraction's presynaptic form: on a SparseLinear with delays and inShape [S] a
// presynaptic [B, S] (one value per unit) and a per-synapse [B, S] share a shape; a contraction
// built with form 'presynaptic' reads each synapse's unit pre_s, one with 'synaptic' (or none)
// takes the tensor per synapse. Checked against float64 loops written here.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { SparseLinear, synapseList } from '../../../src/neural/connections/index.js';
import { ReceptiveContraction } from '../../../src/learn/toolkit/contraction.js';

const S = 4;
const O = 3;
const B = 2;
const pre = [2, 0, 3, 1]; // synapse s reads unit pre[s]
const post = [1, 0, 2, 1];
const delay = [1, 0, 2, 1]; // steps

function connection(): SparseLinear {
  const pairs = pre.map((p, s) => [p, post[s]!] as [number, number]);
  return new SparseLinear([S], [O], 1, { synapses: synapseList(S, O, pairs, undefined, delay), batchSize: B });
}

// x [B][S] values, y [B][O]
const x = [
  [0.5, -1.25, 2, 0.75],
  [1.5, 0.25, -0.5, 3],
];
const y = [
  [2, -1, 0.5],
  [-0.25, 1.5, 4],
];

/** per-sample [B][S] of y[b][post_s]·x[b][unit(s)] in float64. */
function perSampleRef(unit: (s: number) => number): number[][] {
  return x.map((xb, b) => pre.map((_, s) => y[b]![post[s]!]! * xb[unit(s)]!));
}

describe('ReceptiveContraction form', () => {
  it("'presynaptic' gathers each synapse's unit (perSample, batchSum, weighted batchSum, reduce)", () => {
    const conn = connection();
    expect(conn.hasDelays).toBe(true);
    const c = new ReceptiveContraction(conn, 'presynaptic');
    const ref = perSampleRef((s) => pre[s]!);
    const wts = [0.5, -2];
    const got = tf.tidy(() => {
      const xt = tf.tensor2d(x);
      const yt = tf.tensor2d(y);
      return [c.perSample(yt, xt), c.batchSum(yt, xt), c.batchSum(yt, xt, tf.tensor1d(wts)), c.reduce(yt, xt, 'mean')].map((t) => [...t.dataSync()]);
    });
    const flat = ref.flat();
    got[0]!.forEach((v, i) => expect(v).toBeCloseTo(flat[i]!, 6));
    pre.forEach((_, s) => {
      expect(got[1]![s]).toBeCloseTo(ref[0]![s]! + ref[1]![s]!, 6);
      expect(got[2]![s]).toBeCloseTo(wts[0]! * ref[0]![s]! + wts[1]! * ref[1]![s]!, 6);
      expect(got[3]![s]).toBeCloseTo((ref[0]![s]! + ref[1]![s]!) / 2, 6);
    });
    c.dispose();
    conn.dispose();
  });

  it("'synaptic' and the default take [B, S] per synapse", () => {
    const conn = connection();
    const ref = perSampleRef((s) => s).flat();
    for (const c of [new ReceptiveContraction(conn, 'synaptic'), new ReceptiveContraction(conn)]) {
      const got = tf.tidy(() => [...c.perSample(tf.tensor2d(y), tf.tensor2d(x)).dataSync()]);
      got.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 6));
      c.dispose();
    }
    conn.dispose();
  });

  it('refuses an unknown form', () => {
    const conn = connection();
    expect(() => new ReceptiveContraction(conn, 'per-unit' as never)).toThrow(CinderArgumentError);
    conn.dispose();
  });
});
