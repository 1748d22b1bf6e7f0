// Concurrent async calls on one e-prop trainer act as the same calls awaited one after the other
// (each iteration sees the weights the previous one wrote); a synchronous call while one is pending
// is refused and changes nothing.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { EProp, EPropReadout, EPropRecurrent, type EPropBatch } from '../../../src/learn/eprop/index.js';
import { Adam } from '../../../src/learn/optimizers/index.js';

const nIn = 3, nOut = 2, T = 20, B = 2;

function build(kernel: 'js' | 'tf') {
  const recurrent = new EPropRecurrent({ nIn, nLif: 2, nAlif: 2, rng: new Rng(2), wIn: new Rng(7).normalArray(4 * nIn, 0, 1.5) });
  const readout = new EPropReadout({ nRec: 4, nOut, loss: 'cross_entropy', rng: new Rng(3) });
  const optimizer = new Adam({ learningRate: 0.05 });
  return { recurrent, readout, trainer: new EProp({ recurrent, readout, optimizer, cReg: 30, kernel }) };
}

function batches(): EPropBatch[] {
  const rng = new Rng(11);
  return [0, 1, 2].map((k) => ({ inputs: tf.tensor3d(Float32Array.from({ length: B * T * nIn }, () => (rng.uniform() < 0.3 ? 1 : 0)), [B, T, nIn]), labels: [k % 2, (k + 1) % 2] }));
}

const weights = (n: ReturnType<typeof build>) => [n.recurrent.wIn, n.recurrent.wRec, n.readout.wOut].map((p) => Array.from(p.value.dataSync()));

describe('e-prop: concurrent async calls', () => {
  for (const kernel of ['js', 'tf'] as const) {
    it(`${kernel} kernel: Promise.all of stepAsync, gradientsAsync, evaluateAsync = the same calls one after the other`, async () => {
      const bs = batches();
      const seq = build(kernel);
      const s0 = await seq.trainer.stepAsync(bs[0]!);
      const g1 = await seq.trainer.gradientsAsync(bs[1]!);
      const s2 = await seq.trainer.stepAsync(bs[2]!);
      const e0 = await seq.trainer.evaluateAsync(bs[0]!);

      const par = build(kernel);
      const [p0, pg1, p2, pe0] = await Promise.all([par.trainer.stepAsync(bs[0]!), par.trainer.gradientsAsync(bs[1]!), par.trainer.stepAsync(bs[2]!), par.trainer.evaluateAsync(bs[0]!)]);
      expect(weights(par)).toEqual(weights(seq));
      expect(par.trainer.iterations).toBe(2);
      expect([p0.loss, p2.loss, pe0.loss]).toEqual([s0.loss, s2.loss, e0.loss]);
      expect(Array.from(pg1.gradients.recurrent)).toEqual(Array.from(g1.gradients.recurrent));
      // the parallel calls are not a no-op comparison: training moved the weights and the loss
      expect(s2.loss).not.toBe(e0.loss);
      tf.dispose(bs.map((b) => b.inputs));
    });
  }

  it('a synchronous call while an async one is pending is refused and changes nothing; a failed async call does not block the queue', async () => {
    const bs = batches();
    const net = build('js');
    const pending = net.trainer.stepAsync(bs[0]!);
    const w0 = weights(net);
    expect(() => net.trainer.step(bs[1]!)).toThrow(CinderArgumentError);
    expect(() => net.trainer.evaluate(bs[1]!)).toThrow(/invalid call of evaluate\(\): got "while 1 async call .* is pending", expected the pending calls awaited first/);
    expect(weights(net)).toEqual(w0);
    await pending;
    expect(net.trainer.iterations).toBe(1);
    const bad = net.trainer.stepAsync({ inputs: bs[1]!.inputs, labels: [0, 5] });
    const next = net.trainer.stepAsync(bs[1]!);
    await expect(bad).rejects.toThrow(CinderArgumentError);
    await next;
    expect(net.trainer.iterations).toBe(2);
    expect(() => net.trainer.evaluate(bs[2]!)).not.toThrow(); // idle again
    tf.dispose(bs.map((b) => b.inputs));
  });
});
