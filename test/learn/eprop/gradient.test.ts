// The efficient (adjoint) e-prop gradients equal the per-synapse forward-trace formulation of the
// NEST notes (§4), written independently in per-synapse-reference.ts, on a small random network.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { EProp, EPropReadout, EPropRecurrent, surrogateValue, type FeedbackMode, type ReadoutLoss, type SurrogateName } from '../../../src/learn/eprop/index.js';
import { GradientDescent } from '../../../src/learn/optimizers/index.js';
import { referenceGradients, type RefNet } from './per-synapse-reference.js';

const nIn = 5, nLif = 3, nAlif = 3, n = 6, nOut = 2, T = 30, B = 3, nLw = 10;

function maxRel(a: ArrayLike<number>, b: number[][]): number {
  const flat = b.flat();
  let scale = 0;
  for (const v of flat) scale = Math.max(scale, Math.abs(v));
  let d = 0;
  for (let i = 0; i < flat.length; i++) d = Math.max(d, Math.abs(a[i]! - flat[i]!));
  return d / scale;
}

function setup(cfg: { surrogate: SurrogateName; loss: ReadoutLoss; feedback: FeedbackMode; average: boolean; kernel: 'js' | 'tf' }) {
  const rng = new Rng(`grad/${cfg.surrogate}`);
  const wIn = rng.normalArray(n * nIn, 0, 1.2);
  const wRec = rng.normalArray(n * n, 0, 0.6);
  for (let j = 0; j < n; j++) wRec[j * n + j] = 0;
  const wOut = rng.normalArray(nOut * n, 0, 1);
  const fb = rng.normalArray(n * nOut, 0, 1);
  const x = new Float32Array(B * T * nIn);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < 0.3 ? 1 : 0;
  const labels = [0, 1, 1];
  const targets = rng.normalArray(B * nLw * nOut, 0, 0.5);
  const rec = new EPropRecurrent({ nIn, nLif, nAlif, tauM: 20, vTh: 0.6, tRef: 3, tauA: 25, adaptBeta: 0.4, surrogate: cfg.surrogate, surrogateHeight: 0.5, surrogateWidth: 0.6, wIn, wRec });
  const ro = new EPropReadout({ nRec: n, nOut, tauOut: 15, loss: cfg.loss, feedback: cfg.feedback, wOut, feedbackWeights: fb });
  const trainer = new EProp({ recurrent: rec, readout: ro, optimizer: new GradientDescent({ learningRate: 0 }), learningWindow: nLw, cReg: 50, fTarget: 30, averageGradient: cfg.average, kernel: cfg.kernel });
  const rows = (a: Float32Array, r: number, c: number) => Array.from({ length: r }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c)));
  const ref: RefNet = {
    nIn, n, nOut, beta: [0, 0, 0, 0.4, 0.4, 0.4], alpha: Math.exp(-1 / 20), kappa: Math.exp(-1 / 15), rho: Math.exp(-1 / 25), vTh: 0.6, nRef: 3,
    psi: (d) => surrogateValue({ name: cfg.surrogate, height: 0.5, width: 0.6 }, d),
    wIn: rows(wIn, n, nIn), wRec: rows(wRec, n, n), wOut: rows(wOut, nOut, n),
    feedback: cfg.feedback === 'symmetric' ? Array.from({ length: n }, (_, j) => Array.from({ length: nOut }, (_, k) => wOut[k * n + j]!)) : rows(fb, n, nOut),
    loss: cfg.loss, nLw, cReg: 50, f0: 0.03, average: cfg.average,
  };
  const xs = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => Array.from(x.subarray((b * T + t) * nIn, (b * T + t + 1) * nIn))));
  const tg = Array.from({ length: B }, (_, b) => Array.from({ length: nLw }, (_, t) => Array.from(targets.subarray((b * nLw + t) * nOut, (b * nLw + t + 1) * nOut))));
  const inputs = tf.tensor3d(x, [B, T, nIn]);
  const batch = cfg.loss === 'cross_entropy' ? { inputs, labels } : { inputs, targets };
  const expected = referenceGradients(ref, xs, labels, tg);
  const { result, gradients } = trainer.gradients(batch);
  inputs.dispose();
  rec.dispose();
  ro.dispose();
  return { expected, result, gradients };
}

const configs = [
  { surrogate: 'piecewise_linear', loss: 'cross_entropy', feedback: 'random', average: true },
  { surrogate: 'exponential', loss: 'cross_entropy', feedback: 'symmetric', average: false },
  { surrogate: 'fast_sigmoid', loss: 'mean_squared_error', feedback: 'random', average: true },
  { surrogate: 'arctan', loss: 'mean_squared_error', feedback: 'symmetric', average: true },
] as const;

describe('e-prop gradients: adjoint form = per-synapse traces (5 inputs, 3 LIF + 3 ALIF, T = 30, B = 3)', () => {
  for (const kernel of ['js', 'tf'] as const) {
    for (const cfg of configs) {
      it(`${kernel} kernel, ${cfg.surrogate}, ${cfg.loss}, ${cfg.feedback} feedback, average ${cfg.average}`, () => {
        const { expected, result, gradients } = setup({ ...cfg, kernel });
        // The network must be active for the check to mean anything.
        expect(result.rateHz).toBeGreaterThan(20);
        expect(Math.abs(result.loss - expected.loss) / expected.loss).toBeLessThan(1e-6);
        const eIn = maxRel(gradients.input, expected.gIn);
        const eRec = maxRel(gradients.recurrent, expected.gRec);
        const eOut = maxRel(gradients.readout, expected.gOut);
        expect(eIn).toBeLessThan(1e-5);
        expect(eRec).toBeLessThan(1e-5);
        expect(eOut).toBeLessThan(1e-5);
        for (let j = 0; j < n; j++) expect(Math.abs(gradients.recurrent[j * n + j]!)).toBe(0);
        if (process.env.EPROP_VERBOSE) console.log(kernel, cfg.surrogate, { eIn, eRec, eOut });
        // ALIF rows carry the ε term: their gradients must be non-trivial too.
        expect(Math.max(...gradients.input.slice(nLif * nIn).map(Math.abs))).toBeGreaterThan(0);
      });
    }
  }
});
