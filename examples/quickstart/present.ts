/**
 * Presenting a batch of digits to the quickstart network.
 * @module
 */
import { tf } from '../../src/core/tf.js';
import type { QuickstartNetwork } from './network.js';

/** What {@link present} returns. */
export interface Presentation {
  /** Excitatory spike counts `[B · 100]`. */
  counts: Float32Array;
  /** With `record`: excitatory spikes of sample 0, `[steps · 100]`. */
  exc?: Float32Array;
  /** With `record`: inhibitory spikes of sample 0, `[steps · 100]`. */
  inh?: Float32Array;
  /** True when `pause` asked to stop: the presentation was abandoned part-way (counts incomplete). */
  stopped?: boolean;
}

/**
 * Runs `steps` steps of `net` on the spike train `train` (`[steps, B, 784]` row-major, 0/1) —
 * one small upload per step, one download at the end — then clears the network state (and, in
 * training mode, normalizes the input weights). `pause` (awaited every 64 steps) may return true
 * to abandon the presentation: the state is cleared and the result says `stopped`.
 */
export async function present(
  net: QuickstartNetwork,
  train: Float32Array,
  steps: number,
  record = false,
  pause?: () => Promise<boolean>,
): Promise<Presentation> {
  const B = net.batchSize;
  const per = B * 784;
  const n = net.exc.count;
  const count = tf.tidy(() => tf.variable(tf.zeros([B, n]), false));
  const keptExc: tf.Tensor[] = [];
  const keptInh: tf.Tensor[] = [];
  try {
    for (let t = 0; t < steps; t++) {
      // every 64 steps: let signal handlers run; stop part-way when asked (the caller resumes from its checkpoint)
      if (pause && t % 64 === 63 && (await pause())) {
        net.clear();
        tf.dispose([...keptExc, ...keptInh]);
        return { counts: new Float32Array(0), stopped: true };
      }
      tf.tidy(() => {
        const x = tf.tensor2d(train.subarray(t * per, (t + 1) * per), [B, 784]);
        const out = net.step(x);
        const e = tf.reshape(out.exc, [B, n]);
        count.assign(tf.add(count, e));
        if (record) {
          keptExc.push(tf.keep(tf.slice(e, [0, 0], [1, n])));
          keptInh.push(tf.keep(tf.slice(tf.reshape(out.inh, [B, n]), [0, 0], [1, n])));
        }
      });
    }
    const counts = (await count.data()) as Float32Array;
    const result: Presentation = { counts };
    if (record) {
      const download = async (ts: tf.Tensor[]) => {
        const all = tf.concat(ts, 0);
        const data = (await all.data()) as Float32Array;
        all.dispose();
        return data;
      };
      result.exc = await download(keptExc);
      result.inh = await download(keptInh);
    }
    const training = net.training;
    net.clear();
    if (training) net.normalize();
    return result;
  } finally {
    count.dispose();
    for (const t of [...keptExc, ...keptInh]) t.dispose();
  }
}
