// Helpers of the step-program tests (test/webgpu/step*.test.ts).
import { tf } from '../../src/core/tf.js';

/** Stacks the kept per-step tensors, downloads them with one `await data()` and disposes them. */
export async function download(kept: tf.Tensor[]): Promise<Float32Array> {
  const all = tf.stack(kept);
  try {
    return Float32Array.from(await all.data());
  } finally {
    tf.dispose([all, ...kept]);
  }
}

/**
 * Largest |got − want| over the largest finite |want| (Infinity on a length mismatch, or where a
 * non-finite want is not matched exactly: NaN by NaN, ±Infinity by itself).
 */
export function worstRel(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) return Infinity;
  let scale = 1e-6;
  for (const v of want) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    if (!Number.isFinite(w)) {
      if (!(g === w || (Number.isNaN(g) && Number.isNaN(w)))) return Infinity;
      continue;
    }
    const e = Math.abs(g - w);
    worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst / scale;
}
