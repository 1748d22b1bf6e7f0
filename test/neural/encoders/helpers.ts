// Shared helpers for the encoder tests: spike counts and standard errors.
import type { tf } from '../../../src/core/tf.js';

/** Spike train as [S][N] rows (one download). */
export function rows(train: tf.Tensor): { S: number; N: number; data: Float32Array } {
  const S = train.shape[0]!;
  const data = train.dataSync() as Float32Array;
  return { S, N: data.length / S, data: Float32Array.from(data) };
}

/** Fraction of (step, train) cells with a spike. */
export function spikeFraction(train: tf.Tensor): number {
  const { data } = rows(train);
  let c = 0;
  for (const v of data) c += v;
  return c / data.length;
}

/** Inter-spike intervals (steps) of every train. */
export function intervals(train: tf.Tensor): number[] {
  const { S, N, data } = rows(train);
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    let last = -1;
    for (let k = 0; k < S; k++) {
      if (data[k * N + i] === 1) {
        if (last >= 0) out.push(k - last);
        last = k;
      }
    }
  }
  return out;
}

/** Standard error of a Bernoulli fraction p over n trials. */
export function bernoulliSE(p: number, n: number): number {
  return Math.sqrt((p * (1 - p)) / n);
}
