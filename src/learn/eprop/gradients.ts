/**
 * The e-prop weight gradients from the backward factors of {@link epropAdjoint}:
 *
 *     G_in  = (1/B)·Σ_{b,u} D_{b,u} ⊗ x_{b,u}
 *     G_rec = (1/B)·Σ_{b,u} D_{b,u+1} ⊗ z_{b,u}      (diagonal 0: no autapses)
 *     G_out = (1/B)·Σ_{b,u} eOut_{b,u} ⊗ z_{b,u}
 *
 * Two implementations with identical results: {@link gradientsJs} adds rows only at spikes (float64,
 * for the JavaScript backends) and {@link gradientsTf} does one matrix product per weight over the
 * B·T rows (any tfjs backend).
 * @module
 */
import { tf } from '../../core/tf.js';
import type { AdjointResult } from './adjoint.js';
import type { DenseInput, ForwardRecord } from './record.js';

/** Gradients of the three e-prop cells, row-major [post, pre]. */
export interface EPropGradientArrays {
  /** Input→recurrent, [n, nIn]. */
  input: Float64Array;
  /** Recurrent→recurrent, [n, n], zero diagonal. */
  recurrent: Float64Array;
  /** Recurrent→readout, [nOut, n]. */
  readout: Float64Array;
}

/** Gradients as tensors (caller owns them). */
export interface EPropGradientTensors {
  /** Input→recurrent, [n, nIn]. */
  input: tf.Tensor2D;
  /** Recurrent→recurrent, [n, n], zero diagonal. */
  recurrent: tf.Tensor2D;
  /** Recurrent→readout, [nOut, n]. */
  readout: tf.Tensor2D;
}

/**
 * The unnormalised gradient sums of {@link gradientsJs}, presynaptic-major (`gInT[i·n + j]` is
 * Σ_{b,u} D_{b,u}[j]·x_{b,u}[i], likewise `gRecT` [n, n] and `gOutT` [n, nOut]): what a slice of a
 * batch contributes, added slice by slice in a fixed order (`./js-batch.ts`).
 */
export interface EPropGradientSums {
  /** Σ D ⊗ x, [nIn, n]. */
  gInT: Float64Array;
  /** Σ D_{u+1} ⊗ z_u, [n, n] (diagonal included; dropped by {@link gradientsFromSums}). */
  gRecT: Float64Array;
  /** Σ eOut ⊗ z, [n, nOut]. */
  gOutT: Float64Array;
}

/** Event-driven float64 gradient sums over the sequences of `rec` (work ∝ number of spikes × n). */
export function gradientSumsJs(input: DenseInput, rec: ForwardRecord, adj: AdjointResult, nOut: number): EPropGradientSums {
  const { batch: B, steps: T, n, z } = rec;
  const nIn = input.nIn;
  const x = input.data;
  const { d, eOut } = adj;
  const gInT = new Float64Array(nIn * n);
  const gRecT = new Float64Array(n * n);
  const gOutT = new Float64Array(n * nOut);
  for (let b = 0; b < B; b++) {
    for (let u = 0; u < T; u++) {
      const row = (b * T + u) * n;
      const xo = (b * T + u) * nIn;
      for (let i = 0; i < nIn; i++) {
        const xv = x[xo + i]!;
        if (xv === 0) continue;
        const off = i * n;
        for (let j = 0; j < n; j++) gInT[off + j] += xv * d[row + j]!;
      }
      const next = row + n; // D_{u+1}
      const eo = (b * T + u) * nOut;
      for (let i = 0; i < n; i++) {
        if (z[row + i] === 0) continue;
        if (u + 1 < T) {
          const off = i * n;
          for (let j = 0; j < n; j++) gRecT[off + j] += d[next + j]!;
        }
        for (let k = 0; k < nOut; k++) gOutT[i * nOut + k] += eOut[eo + k]!;
      }
    }
  }
  return { gInT, gRecT, gOutT };
}

/** The gradients [post, pre] from their sums over B sequences: transposed, divided by B, zero diagonal. */
export function gradientsFromSums(s: EPropGradientSums, n: number, nIn: number, nOut: number, B: number): EPropGradientArrays {
  const { gInT, gRecT, gOutT } = s;
  const input_ = new Float64Array(n * nIn);
  const recurrent = new Float64Array(n * n);
  const readout = new Float64Array(nOut * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < nIn; i++) input_[j * nIn + i] = gInT[i * n + j]! / B;
    for (let i = 0; i < n; i++) recurrent[j * n + i] = i === j ? 0 : gRecT[i * n + j]! / B;
  }
  for (let k = 0; k < nOut; k++) for (let i = 0; i < n; i++) readout[k * n + i] = gOutT[i * nOut + k]! / B;
  return { input: input_, recurrent, readout };
}

/** Event-driven float64 gradients of a whole batch: {@link gradientSumsJs}, then {@link gradientsFromSums}. */
export function gradientsJs(input: DenseInput, rec: ForwardRecord, adj: AdjointResult, nOut: number): EPropGradientArrays {
  return gradientsFromSums(gradientSumsJs(input, rec, adj, nOut), rec.n, input.nIn, nOut, rec.batch);
}

/** Matrix-product gradients on tfjs (float32): one [n, B·T]×[B·T, ·] product per weight. */
export function gradientsTf(inputs: tf.Tensor, rec: ForwardRecord, adj: AdjointResult, nOut: number): EPropGradientTensors {
  const { batch: B, steps: T, n, z } = rec;
  const rows = B * T;
  const zf = new Float32Array(rows * n);
  const zPrev = new Float32Array(rows * n); // zPrev[b,u] = z[b,u−1] pairs D_u with z_{u−1}
  for (let b = 0; b < B; b++) {
    for (let u = 0; u < T; u++) {
      const o = (b * T + u) * n;
      for (let j = 0; j < n; j++) {
        const s = z[o + j]!;
        zf[o + j] = s;
        if (u + 1 < T) zPrev[o + n + j] = s;
      }
    }
  }
  return tf.tidy(() => {
    const inv = tf.scalar(1 / B);
    const dt = tf.transpose(tf.tensor2d(Float32Array.from(adj.d), [rows, n])); // [n, rows]
    const x = tf.reshape(inputs, [rows, inputs.shape[2]!]);
    const gIn = tf.mul(tf.matMul(dt, x), inv) as tf.Tensor2D;
    const offDiag = tf.sub(1, tf.eye(n));
    const gRec = tf.mul(tf.mul(tf.matMul(dt, tf.tensor2d(zPrev, [rows, n])), inv), offDiag) as tf.Tensor2D;
    const et = tf.transpose(tf.tensor2d(Float32Array.from(adj.eOut), [rows, nOut]));
    const gOut = tf.mul(tf.matMul(et, tf.tensor2d(zf, [rows, n])), inv) as tf.Tensor2D;
    return { input: gIn, recurrent: gRec, readout: gOut };
  });
}
