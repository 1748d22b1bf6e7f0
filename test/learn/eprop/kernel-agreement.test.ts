// The js kernel (on this thread and on worker threads, in slices of EPROP_SLICE sequences) and the tf
// kernel compute the same losses and gradients, for B = 1 and for B = 11 (two slices, the last one
// short), with a sequence length T = 37 that no slice or chunk size divides.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { EProp, EPROP_SLICE, EPropReadout, EPropRecurrent, type EPropGradientsResult } from '../../../src/learn/eprop/index.js';
import { EPropThreads } from '../../../src/learn/eprop/threads.node.js';
import { GradientDescent } from '../../../src/learn/optimizers/index.js';

const nIn = 6, nLif = 4, nAlif = 4, n = 8, T = 37, nLw = 9;

async function gradientsWith(kernel: 'js' | 'tf', B: number, threads?: EPropThreads): Promise<EPropGradientsResult> {
  const rng = new Rng('kernel-agreement');
  const recurrent = new EPropRecurrent({ nIn, nLif, nAlif, tRef: 3, tauA: 30, adaptBeta: 0.3, wIn: rng.normalArray(n * nIn, 0, 1.3), rng });
  const readout = new EPropReadout({ nRec: n, nOut: 3, rng });
  const trainer = new EProp({ recurrent, readout, optimizer: new GradientDescent({ learningRate: 0 }), learningWindow: nLw, cReg: 40, averageGradient: true, kernel, threads });
  const x = new Float32Array(B * T * nIn);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < 0.25 ? 1 : 0;
  const labels = Array.from({ length: B }, (_, b) => b % 3);
  const inputs = tf.tensor3d(x, [B, T, nIn]);
  try {
    return threads ? await trainer.gradientsAsync({ inputs, labels }) : trainer.gradients({ inputs, labels });
  } finally {
    inputs.dispose();
    trainer.dispose();
    recurrent.dispose();
    readout.dispose();
  }
}

function maxRel(a: Float64Array, b: Float64Array): number {
  let scale = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!));
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  expect(scale).toBeGreaterThan(0);
  return d / scale;
}

describe('e-prop kernels agree (js, js on threads, tf)', () => {
  let threads: EPropThreads;
  beforeAll(async () => {
    threads = await EPropThreads.create(2);
  });
  afterAll(async () => {
    await threads.close();
  });

  for (const B of [1, EPROP_SLICE + 3]) {
    it(`B = ${B}, T = ${T}: losses within 1e-5 relative, gradients within 1e-5 of the largest, threads bit for bit`, async () => {
      const js = await gradientsWith('js', B);
      const th = await gradientsWith('js', B, threads);
      const tfk = await gradientsWith('tf', B);
      expect(js.result.rateHz).toBeGreaterThan(20); // an active network, or the comparison means little
      expect(th.result.loss).toBe(js.result.loss);
      for (const kind of ['input', 'recurrent', 'readout'] as const) expect(Array.from(th.gradients[kind])).toEqual(Array.from(js.gradients[kind]));
      expect(Math.abs(tfk.result.loss - js.result.loss) / js.result.loss).toBeLessThan(1e-5);
      expect(Array.from(tfk.result.prediction)).toEqual(Array.from(js.result.prediction));
      for (const kind of ['input', 'recurrent', 'readout'] as const) expect(maxRel(js.gradients[kind], tfk.gradients[kind])).toBeLessThan(1e-5);
    });
  }
});
