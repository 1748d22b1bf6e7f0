// The loss an e-prop batch reports is NEST's (test_eprop_bsshslm_2020_plasticity.py and the e-prop
// examples): cross-entropy −mean over (sequence, window step) of Σ_k π*_k log π_k; squared error
// 0.5·mean over (readout, sequence) of Σ_{t in window} (y − y*)² — summed over the window, not
// averaged. With W_out = 0 the readout y is exactly 0, so both have closed forms.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { EProp, EPropReadout, EPropRecurrent, type EPropBatch, type ReadoutLoss } from '../../../src/learn/eprop/index.js';
import { GradientDescent } from '../../../src/learn/optimizers/index.js';

const nIn = 3, n = 5, nOut = 3, T = 12, B = 2, nLw = 7;

function build(kernel: 'js' | 'tf', loss: ReadoutLoss) {
  const recurrent = new EPropRecurrent({ nIn, nLif: 3, nAlif: 2, rng: new Rng(4) });
  const readout = new EPropReadout({ nRec: n, nOut, loss, wOut: new Float32Array(nOut * n) });
  const trainer = new EProp({ recurrent, readout, optimizer: new GradientDescent({ learningRate: 0 }), learningWindow: nLw, kernel });
  const x = new Float32Array(B * T * nIn);
  const rng = new Rng(8);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < 0.4 ? 1 : 0;
  return { recurrent, readout, trainer, x };
}

describe('e-prop loss normalisation (NEST)', () => {
  for (const kernel of ['js', 'tf'] as const) {
    it(`${kernel} kernel, mean_squared_error: 0.5·(1/(B·nOut))·Σ_{b,t,k} (0 − y*)², every method`, async () => {
      const net = build(kernel, 'mean_squared_error');
      const targets = new Rng(9).normalArray(B * nLw * nOut, 0.3, 1);
      let sum = 0;
      for (const v of targets) sum += 0.5 * v * v; // float64, summed over sequences, window steps, readouts
      const expected = sum / (B * nOut);
      const batch: EPropBatch = { inputs: tf.tensor3d(net.x, [B, T, nIn]), targets };
      try {
        const losses = [
          net.trainer.evaluate(batch).loss,
          net.trainer.gradients(batch).result.loss,
          (await net.trainer.evaluateAsync(batch)).loss,
          (await net.trainer.gradientsAsync(batch)).result.loss,
          (await net.trainer.stepAsync(batch)).loss,
          net.trainer.step(batch).loss,
        ];
        for (const l of losses) expect(Math.abs(l - expected) / expected).toBeLessThan(1e-12);
      } finally {
        batch.inputs.dispose();
        net.recurrent.dispose();
        net.readout.dispose();
      }
    });

    it(`${kernel} kernel, cross_entropy: uniform π = 1/nOut gives −mean_{b,t} log π = ln nOut`, async () => {
      const net = build(kernel, 'cross_entropy');
      const batch: EPropBatch = { inputs: tf.tensor3d(net.x, [B, T, nIn]), labels: [2, 0] };
      try {
        expect(net.trainer.evaluate(batch).loss).toBeCloseTo(Math.log(nOut), 12);
        expect((await net.trainer.evaluateAsync(batch)).loss).toBeCloseTo(Math.log(nOut), 12);
      } finally {
        batch.inputs.dispose();
        net.recurrent.dispose();
        net.readout.dispose();
      }
    });
  }
});
