// Second-pass checks of the e-prop gradients against independent float64 computations written here:
// ζ = 1 − α (NEST regular_spike_arrival false) and dt ≠ 1 ms against the per-synapse traces; the
// readout gradient against central finite differences of a float64 loss (the spikes do not depend
// on W_out, so there e-prop is the exact gradient); a batch of B identical sequences against one.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { EProp, EPropReadout, EPropRecurrent, surrogateValue } from '../../../src/learn/eprop/index.js';
import { GradientDescent } from '../../../src/learn/optimizers/index.js';
import { EPropThreads } from '../../../src/node.js';
import { referenceGradients, type RefNet } from './per-synapse-reference.js';

const nIn = 4, nLif = 3, nAlif = 3, n = 6, nOut = 3, T = 37, nLw = 9;

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let d = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  return d / scale;
}

function network(o: { seed: string; dt?: number; regular?: boolean; kernel: 'js' | 'tf'; loss?: 'cross_entropy' | 'mean_squared_error'; threads?: EPropThreads; average?: boolean }) {
  const rng = new Rng(o.seed);
  const wIn = rng.normalArray(n * nIn, 0, o.regular === false ? 12 : 1.3);
  const wRec = rng.normalArray(n * n, 0, o.regular === false ? 6 : 0.6);
  for (let j = 0; j < n; j++) wRec[j * n + j] = 0;
  const wOut = rng.normalArray(nOut * n, 0, 1);
  const fb = rng.normalArray(n * nOut, 0, 1);
  const dt = o.dt ?? 1;
  const recurrent = new EPropRecurrent({ nIn, nLif, nAlif, dt, tauM: 20, vTh: 0.6, tRef: 3 * dt, tauA: 25, adaptBeta: 0.4, surrogateHeight: 0.5, surrogateWidth: 0.6, regularSpikeArrival: o.regular ?? true, wIn, wRec });
  const readout = new EPropReadout({ nRec: n, nOut, dt, tauOut: 15, loss: o.loss ?? 'cross_entropy', wOut, feedbackWeights: fb });
  const trainer = new EProp({ recurrent, readout, optimizer: new GradientDescent({ learningRate: 0 }), learningWindow: nLw, cReg: 50, fTarget: 30, averageGradient: o.average ?? true, kernel: o.kernel, threads: o.threads });
  const rows = (a: Float32Array, r: number, c: number) => Array.from({ length: r }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c)));
  const alpha = Math.exp(-dt / 20);
  const ref: RefNet = {
    nIn, n, nOut, beta: [0, 0, 0, 0.4, 0.4, 0.4], alpha, kappa: Math.exp(-dt / 15), rho: Math.exp(-dt / 25), vTh: 0.6, nRef: 3,
    psi: (d) => surrogateValue({ name: 'piecewise_linear', height: 0.5, width: 0.6 }, d),
    wIn: rows(wIn, n, nIn), wRec: rows(wRec, n, n), wOut: rows(wOut, nOut, n), feedback: rows(fb, n, nOut),
    loss: o.loss ?? 'cross_entropy', nLw, cReg: 50, f0: (30 * dt) / 1000, average: o.average ?? true, zeta: o.regular === false ? 1 - alpha : 1,
  };
  const dispose = () => {
    trainer.dispose();
    recurrent.dispose();
    readout.dispose();
  };
  return { recurrent, readout, trainer, ref, wOut, dispose };
}

function spikes(seed: string, B: number, p: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(B * T * nIn);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < p ? 1 : 0;
  return x;
}

const nested = (x: Float32Array, B: number) => Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => Array.from(x.subarray((b * T + t) * nIn, (b * T + t + 1) * nIn))));

describe('e-prop gradients vs independent float64 references (second pass)', () => {
  for (const kernel of ['js', 'tf'] as const) {
    for (const c of [{ name: 'ζ = 1 − α (regularSpikeArrival false)', regular: false, dt: 1 }, { name: 'dt = 0.5 ms (α, κ, ρ, n_ref, f0 from dt)', regular: true, dt: 0.5 }]) {
      it(`${kernel} kernel, ${c.name}: loss and the three gradients equal the per-synapse traces`, () => {
        const B = 3;
        const net = network({ seed: `eq/${c.name}`, dt: c.dt, regular: c.regular, kernel });
        const x = spikes(`x/${c.name}`, B, 0.3);
        const labels = [0, 2, 1];
        const inputs = tf.tensor3d(x, [B, T, nIn]);
        const { result, gradients } = net.trainer.gradients({ inputs, labels });
        inputs.dispose();
        const exp = referenceGradients(net.ref, nested(x, B), labels);
        net.dispose();
        expect(result.rateHz).toBeGreaterThan(20 / c.dt); // an active network
        expect(Math.abs(result.loss - exp.loss) / exp.loss).toBeLessThan(1e-6);
        expect(maxRel(gradients.input, exp.gIn.flat())).toBeLessThan(1e-5);
        expect(maxRel(gradients.recurrent, exp.gRec.flat())).toBeLessThan(1e-5);
        expect(maxRel(gradients.readout, exp.gOut.flat())).toBeLessThan(1e-5);
      });
    }
  }

  for (const loss of ['cross_entropy', 'mean_squared_error'] as const) {
    for (const average of [true, false]) {
      it(`readout gradient, ${loss}, average ${average}: central differences of a float64 loss (×n_lw without averaging)`, () => {
        const B = 2;
        const net = network({ seed: `fd/${loss}`, kernel: 'js', loss, average });
        const x = spikes(`xfd/${loss}`, B, 0.3);
        const labels = [1, 2];
        const targets = new Rng('targets').normalArray(B * nLw * nOut, 0, 0.5);
        const inputs = tf.tensor3d(x, [B, T, nIn]);
        const batch = loss === 'cross_entropy' ? { inputs, labels } : { inputs, targets };
        const rec = net.trainer.recordSequence(batch, 0);
        const z = [rec.spikes, net.trainer.recordSequence(batch, 1).spikes];
        const { gradients } = net.trainer.gradients(batch);
        inputs.dispose();
        net.dispose();
        // the loss of the batch as a float64 function of W_out, from the recorded spikes
        const lossOf = (w: Float64Array): number => {
          let sum = 0;
          for (let b = 0; b < B; b++) {
            const y = new Float64Array(nOut);
            for (let t = 0; t < T; t++) {
              for (let k = 0; k < nOut; k++) {
                let s = 0;
                for (let j = 0; j < n; j++) s += w[k * n + j]! * z[b]![t * n + j]!;
                y[k] = Math.exp(-1 / 15) * y[k]! + (1 - Math.exp(-1 / 15)) * s;
              }
              if (t < T - nLw) continue;
              if (loss === 'cross_entropy') {
                const lse = Math.log(y.reduce((p, q) => p + Math.exp(q), 0));
                sum += lse - y[labels[b]!]!;
              } else {
                for (let k = 0; k < nOut; k++) sum += 0.5 * (y[k]! - targets[(b * nLw + t - (T - nLw)) * nOut + k]!) ** 2;
              }
            }
          }
          return sum / (B * nLw);
        };
        const w0 = Float64Array.from(net.wOut);
        const fd = new Float64Array(nOut * n);
        const h = 1e-4;
        for (let i = 0; i < fd.length; i++) {
          const wp = w0.slice();
          const wm = w0.slice();
          wp[i] += h;
          wm[i] -= h;
          fd[i] = ((lossOf(wp) - lossOf(wm)) / (2 * h)) * (average ? 1 : nLw);
        }
        expect(Math.max(...fd.map(Math.abs))).toBeGreaterThan(1e-3);
        expect(maxRel(gradients.readout, fd)).toBeLessThan(1e-7);
      });
    }
  }

  it('a batch of B identical sequences gives the gradient, loss and rates of one (js, tf, 2 threads; B = 11 spans two slices)', async () => {
    const B = 11;
    const x1 = spikes('same', 1, 0.3);
    const xB = new Float32Array(B * T * nIn);
    for (let b = 0; b < B; b++) xB.set(x1, b * T * nIn);
    const threads = await EPropThreads.create(2);
    try {
      for (const c of [{ kernel: 'js' as const, tol: 1e-13 }, { kernel: 'tf' as const, tol: 1e-6 }, { kernel: 'js' as const, tol: 1e-13, threads }]) {
        const one = network({ seed: 'same', kernel: c.kernel, threads: c.threads });
        const many = network({ seed: 'same', kernel: c.kernel, threads: c.threads });
        const i1 = tf.tensor3d(x1, [1, T, nIn]);
        const iB = tf.tensor3d(xB, [B, T, nIn]);
        const a = await one.trainer.gradientsAsync({ inputs: i1, labels: [2] });
        const g = await many.trainer.gradientsAsync({ inputs: iB, labels: new Array<number>(B).fill(2) });
        tf.dispose([i1, iB]);
        one.dispose();
        many.dispose();
        expect(a.result.rateHz).toBeGreaterThan(20);
        expect(Math.abs(g.result.loss - a.result.loss) / a.result.loss).toBeLessThan(1e-13);
        expect(maxRel(g.result.ratesHz, a.result.ratesHz)).toBeLessThan(1e-15); // B·c/(B·T) vs c/T: one rounding
        expect(Array.from(g.result.prediction)).toEqual(new Array<number>(B).fill(a.result.prediction[0]!));
        for (const kind of ['input', 'recurrent', 'readout'] as const) expect(maxRel(g.gradients[kind], a.gradients[kind])).toBeLessThan(c.tol);
      }
    } finally {
      await threads.close();
    }
  });
});
