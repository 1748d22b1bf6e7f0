/**
 * Forward scan of the e-prop recurrent population with tfjs ops, for any backend (the default on
 * the native TensorFlow backend, CUDA included). The input drive of all steps is one matrix
 * product; a step then costs one [B, n]×[n, n] product (the reset is folded into the recurrent
 * matrix as −V_th on the diagonal) and about twenty fused elementwise ops. ψ and z of every step
 * are stacked once at the end and downloaded once per batch.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { RecurrentConstants } from './recurrent.js';
import { surrogateTensorFunction } from './surrogate.js';
import type { ForwardRecord } from './record.js';

/**
 * Runs the recurrent scan on tfjs.
 *
 * @param c scan constants (see `EPropRecurrent.constants()`)
 * @param wIn input weights [n, nIn]
 * @param wRec recurrent weights [n, n] (diagonal ignored)
 * @param inputs input spikes [B, T, nIn] (float32 0/1)
 * @param traceIndex sequence whose voltages and thresholds to keep (−1: none)
 */
export function forwardTf(c: RecurrentConstants, wIn: tf.Tensor, wRec: tf.Tensor, inputs: tf.Tensor, traceIndex = -1): ForwardRecord {
  const s = scanTf(c, wIn, wRec, inputs, traceIndex);
  try {
    return toRecord(s, s.psiAll.dataSync() as Float32Array, s.zAll.dataSync() as Float32Array, s.vs?.dataSync() as Float32Array, s.ts?.dataSync() as Float32Array);
  } finally {
    tf.dispose([s.psiAll, s.zAll, ...(s.vs ? [s.vs, s.ts!] : [])]);
  }
}

/**
 * {@link forwardTf} without synchronous reads: ψ, z (and the traces) are downloaded with one
 * `await data()` each, so it runs on every backend, webgpu in Node included.
 */
export async function forwardTfAsync(c: RecurrentConstants, wIn: tf.Tensor, wRec: tf.Tensor, inputs: tf.Tensor, traceIndex = -1): Promise<ForwardRecord> {
  const s = scanTf(c, wIn, wRec, inputs, traceIndex);
  try {
    const [psi, z, v, thr] = await Promise.all([s.psiAll.data(), s.zAll.data(), s.vs?.data(), s.ts?.data()]);
    return toRecord(s, psi as Float32Array, z as Float32Array, v as Float32Array | undefined, thr as Float32Array | undefined);
  } finally {
    tf.dispose([s.psiAll, s.zAll, ...(s.vs ? [s.vs, s.ts!] : [])]);
  }
}

interface ScanTensors {
  B: number;
  T: number;
  n: number;
  traceIndex: number;
  psiAll: tf.Tensor;
  zAll: tf.Tensor;
  vs?: tf.Tensor;
  ts?: tf.Tensor;
}

function toRecord(s: ScanTensors, psi: Float32Array, zf: Float32Array, v?: Float32Array, thr?: Float32Array): ForwardRecord {
  const zb = new Uint8Array(zf.length);
  for (let i = 0; i < zf.length; i++) zb[i] = zf[i]! > 0 ? 1 : 0;
  const trace = v && thr ? { index: s.traceIndex, v, threshold: thr } : undefined;
  return { batch: s.B, steps: s.T, n: s.n, psi, z: zb, trace };
}

/** The scan itself; returns the stacked tensors (caller disposes them). */
function scanTf(c: RecurrentConstants, wIn: tf.Tensor, wRec: tf.Tensor, inputs: tf.Tensor, traceIndex: number): ScanTensors {
  const [B, T, nIn] = inputs.shape as [number, number, number];
  const n = c.n;
  const sur = surrogateTensorFunction(c.surrogate);
  const keepTrace = traceIndex >= 0 && traceIndex < B;
  const psiSteps: tf.Tensor[] = [];
  const zSteps: tf.Tensor[] = [];
  const vSteps: tf.Tensor[] = [];
  const thrSteps: tf.Tensor[] = [];
  const consts = tf.tidy(() => {
    const eye = tf.eye(n);
    // W' = ζ·W_recᵀ with the diagonal replaced by −V_th (reset by subtraction).
    const wr = tf.add(tf.mul(tf.mul(tf.transpose(wRec), tf.sub(1, eye)), c.zeta), tf.mul(eye, -c.vTh));
    // Drive of all steps at once, time-major: [T, B, n].
    const xt = tf.reshape(tf.transpose(inputs, [1, 0, 2]), [T * B, nIn]);
    const drive = tf.reshape(tf.matMul(xt, tf.mul(tf.transpose(wIn), c.zeta)), [T, B, n]);
    return {
      wr,
      drive,
      alpha: tf.scalar(c.alpha),
      rho: tf.scalar(c.rho),
      vTh: tf.scalar(c.vTh),
      beta: tf.tensor1d(Float32Array.from(c.beta)),
      one: tf.scalar(1),
      zero: tf.scalar(0),
      nRef: tf.scalar(c.nRef),
    };
  });
  const drives = tf.unstack(consts.drive, 0);
  let v = tf.zeros([B, n]);
  let a = tf.zeros([B, n]);
  let r = tf.zeros([B, n]);
  const z0 = tf.zeros([B, n]);
  let z = z0;
  for (let t = 0; t < T; t++) {
    const next = tf.tidy(() => {
      const a1 = tf.add(tf.mul(a, consts.rho), z);
      const thr = tf.add(tf.mul(a1, consts.beta), consts.vTh);
      const v1 = tf.add(tf.add(tf.mul(v, consts.alpha), drives[t]!), tf.matMul(z, consts.wr));
      const r1 = tf.relu(tf.sub(r, consts.one));
      const free = tf.relu(tf.sub(consts.one, r1)); // 1 where not refractory (r1 is an integer ≥ 0)
      const d = tf.sub(v1, thr);
      const psi = tf.mul(sur.psi(d), free);
      const z1 = tf.mul(tf.cast(tf.greaterEqual(d, consts.zero), 'float32'), free);
      const r2 = tf.add(r1, tf.mul(z1, consts.nRef));
      return { a1, thr, v1, r2, psi, z1 };
    });
    drives[t]!.dispose();
    v.dispose();
    a.dispose();
    r.dispose();
    v = next.v1;
    a = next.a1;
    r = next.r2;
    z = next.z1;
    psiSteps.push(next.psi);
    zSteps.push(z);
    if (keepTrace) {
      vSteps.push(tf.tidy(() => tf.squeeze(tf.slice(v, [traceIndex, 0], [1, n]), [0])));
      thrSteps.push(tf.tidy(() => tf.squeeze(tf.slice(next.thr, [traceIndex, 0], [1, n]), [0])));
    }
    next.thr.dispose();
  }
  const psiAll = tf.stack(psiSteps, 1);
  const zAll = tf.stack(zSteps, 1);
  let vs: tf.Tensor | undefined;
  let ts: tf.Tensor | undefined;
  if (keepTrace) {
    vs = tf.stack(vSteps);
    ts = tf.stack(thrSteps);
    tf.dispose([...vSteps, ...thrSteps]);
  }
  tf.dispose([...psiSteps, ...zSteps, v, a, r, z0]);
  tf.dispose([consts.wr, consts.drive, consts.alpha, consts.rho, consts.vTh, consts.beta, consts.one, consts.zero, consts.nRef]);
  sur.dispose();
  return { B, T, n, traceIndex, psiAll, zAll, vs, ts };
}
