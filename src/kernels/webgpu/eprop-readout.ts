/**
 * The readout, loss and backward factors of an e-prop batch on tfjs's webgpu backend, in one WGSL
 * dispatch that reads the fused scan's output on the device (no download of ψ and z).
 *
 * One workgroup per sequence b (W invocations), float32 throughout, in four phases separated by
 * storage barriers (the phases exchange data through the output buffer):
 *
 * 1. readout input, parallel over (t, k):  u_t[k] = Σ_{j: z_t[j]=1} W_out[k,j]; and the number of
 *    input values of the sequence that are not spikes (float32 bits other than +0, −0 and 1: NaN
 *    and ±Inf included), counted in a workgroup atomic
 * 2. readout and loss, one invocation, forward in t:
 *        y_t = κ·y_{t−1} + (1 − κ)·u_t
 *        in the learning window (t ≥ T − n_lw), cross-entropy:
 *            m = max_k y_t[k], s = Σ_k e^{y_t[k] − m}, π_k = e^{y_t[k] − m}/s,
 *            err_t[k] = π_k − [k = label],  loss += −(y_t[label] − m − ln s)
 *        or mean squared error: err_t[k] = y_t[k] − y*_t[k],  loss += ½·err_t[k]²
 *        (err = 0 before the window); prediction = argmax_k Σ_t π_k (first maximum)
 * 3. the same invocation, backward in t:  Ê_t = err_t + κ·Ê_{t+1},  eOut_t = (1 − κ)·c·Ê_t
 * 4. per neuron j, parallel:  f_j = (Σ_t z_t[j])/T,  R̃_j = c_reg·(f_j − f0)/T, then backward in t
 *        L̄ = (1 − κ)·Σ_k B[j,k]·Ê_t[k],  q = ψ_t·(L̄ + R̃_j)·c
 *        δ = q − β_j·ψ_t·h,  h ← q + (ρ − β_j·ψ_t)·h,  acc ← δ + α·acc,  D_t[j] = ζ·acc
 *    (c = 1/n_lw with averaged gradients, else 1; B = W_outᵀ for symmetric feedback).
 *
 * These are the formulas of `readoutPass` and `epropAdjoint` (src/learn/eprop, float64 on the
 * host), evaluated in float32. Every input is read through `f32(…)` (a weight or input tensor cast
 * from bool or int32 sits in an int32 buffer, declared `array<i32>`; see `./eprop.ts`). The output is one flat float32 tensor (see {@link readoutLayout}):
 * D [B, T, n], eOut [B, T, nOut], Ê [B, T, nOut] (the phases' scratch), and per sequence
 * `[loss sum, prediction, wrong, non-spike inputs, spike count of each neuron]`.
 *
 * {@link epropGradientsWebgpu} then forms the weight gradients, event-driven like the JavaScript
 * kernel (rows where the presynaptic input or spike is 0 are skipped):
 *
 *     G_in[j,i]  = (1/B)·Σ_{b,u} D[b,u,j]·x[b,u,i]
 *     G_rec[j,i] = (1/B)·Σ_{b,u<T−1} D[b,u+1,j]·z[b,u,i]   (0 on the diagonal)
 *     G_out[k,i] = (1/B)·Σ_{b,u} eOut[b,u,k]·z[b,u,i]
 *
 * in two dispatches: partial float32 sums over C chunks of the B·T rows (one invocation per
 * (chunk, entry), so that a large GPU is filled even though there are only n·(nIn + n + nOut)
 * entries), then the sum over the chunks. The second dispatch also writes the batch summary, the
 * only thing an iteration reads back ({@link summaryLayout}): total loss, number of wrong
 * predictions, number of input values that are not spikes (exact up to 2²⁴), spike count of each
 * neuron over the batch, non-finite entries of each neuron's weights (row of W_in, row of W_rec,
 * column of W_out) and of its gradients (the same rows and column; each entry summed again over
 * the chunks in the same order as the gradient itself, so the same float32 value), and the
 * prediction of each sequence — 3 + 7n + B floats, independent of T.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import { lit, programKey, runProgram, type WebGpuProgram } from './eprop.js';

/** Settings of the readout/backward dispatch (all float64; baked into the shader as float32). */
export interface EPropReadoutSettings {
  /** Learning window n_lw in steps (the last n_lw steps of each sequence). */
  nLw: number;
  /** Readout decay κ. */
  kappa: number;
  /** Loss: softmax cross-entropy on class labels, or mean squared error on target signals. */
  loss: 'cross_entropy' | 'mean_squared_error';
  /** `symmetric`: the learning signal uses W_outᵀ; `random`: the fixed feedback weights B [n, nOut]. */
  feedback: 'symmetric' | 'random';
  /** Firing-rate regularisation strength c_reg. */
  cReg: number;
  /** Target rate in spikes per step. */
  f0: number;
  /** Divide the backward factors by n_lw. */
  averageGradient: boolean;
  /** Membrane decay α. */
  alpha: number;
  /** Adaptation decay ρ. */
  rho: number;
  /** Input scale ζ. */
  zeta: number;
  /** Compute D and eOut (false: readout, loss and counts only). */
  backward: boolean;
}

/** Offsets (in float32 entries) of the regions of the readout dispatch's output. */
export interface EPropReadoutLayout {
  /** D [B, T, n] starts at 0. */
  d: 0;
  /** eOut [B, T, nOut]. */
  eOut: number;
  /** Ê [B, T, nOut] (scratch). */
  eHat: number;
  /** Per-sequence statistics [B, stride]: loss sum, prediction, wrong (0/1), non-spike inputs, spike counts [n]. */
  stats: number;
  /** Entries per sequence in `stats` (4 + n). */
  statsStride: number;
  /** Total entries. */
  size: number;
}

/** The layout of {@link epropReadoutWebgpu}'s output for B sequences of T steps, n neurons, nOut readouts. */
export function readoutLayout(B: number, T: number, n: number, nOut: number): EPropReadoutLayout {
  const eOut = B * T * n;
  const eHat = eOut + B * T * nOut;
  const stats = eHat + B * T * nOut;
  const statsStride = 4 + n;
  return { d: 0, eOut, eHat, stats, statsStride, size: stats + B * statsStride };
}

/**
 * Float32 entries per sequence of the largest buffer of a fused e-prop iteration: the scan's ψ and
 * z (2·T·n), the readout output's D, eOut, Ê and statistics (T·n + 2·T·nOut + 4 + n), or the
 * inputs (T·nIn). Every buffer grows linearly with the batch, so B sequences need B times this in
 * one buffer.
 */
export function epropFloatsPerSequence(T: number, n: number, nIn: number, nOut: number): number {
  return Math.max(2 * T * n, readoutLayout(1, T, n, nOut).size, T * nIn);
}

const WORKGROUP = 64;

/**
 * Runs the readout, loss and backward factors of a batch on the device (see the module text).
 * Returns a new flat tensor laid out as {@link readoutLayout}; the caller owns it.
 *
 * @param scan the fused scan's output [B, T, n, 2] (ψ, z interleaved)
 * @param inputs the input spikes [B, T, nIn] (only counted: values other than 0 and 1)
 * @param wOut readout weights [nOut, n]
 * @param feedback feedback weights B [n, nOut] (ignored for symmetric feedback; pass wOut)
 * @param target class labels [B] (cross-entropy, float32 integers) or target signals [B, n_lw, nOut]
 * @param beta adaptation strengths β [n]
 * @param s settings
 */
export function epropReadoutWebgpu(scan: tf.Tensor, inputs: tf.Tensor, wOut: tf.Tensor, feedback: tf.Tensor, target: tf.Tensor, beta: tf.Tensor, s: EPropReadoutSettings): tf.Tensor {
  if (scan.shape.length !== 4 || scan.shape[3] !== 2) throw new CinderArgumentError('scan', scan.shape, 'shape [B, T, n, 2] (the fused scan output)');
  const [B, T, n] = scan.shape as [number, number, number];
  if (wOut.shape.length !== 2 || wOut.shape[1] !== n) throw new CinderArgumentError('wOut', wOut.shape, `shape [nOut, ${n}]`);
  const nOut = wOut.shape[0]!;
  if (inputs.shape.length !== 3 || inputs.shape[0] !== B || inputs.shape[1] !== T) throw new CinderArgumentError('inputs', inputs.shape, `shape [${B}, ${T}, nIn]`);
  const nIn = inputs.shape[2]!;
  if (!Number.isInteger(s.nLw) || s.nLw < 1 || s.nLw > T) throw new CinderArgumentError('nLw', s.nLw, `an integer in [1, ${T}]`);
  if (s.feedback === 'random' && (feedback.shape[0] !== n || feedback.shape[1] !== nOut)) throw new CinderArgumentError('feedback', feedback.shape, `shape [${n}, ${nOut}]`);
  const want = s.loss === 'cross_entropy' ? B : B * s.nLw * nOut;
  if (target.size !== want) throw new CinderArgumentError('target', target.shape, s.loss === 'cross_entropy' ? `${B} labels` : `${want} values [B, n_lw, nOut]`);
  const L = readoutLayout(B, T, n, nOut);
  const w0 = T - s.nLw;
  const g = 1 - s.kappa;
  const scale = s.averageGradient ? 1 / s.nLw : 1;
  const kappa = lit(s.kappa);
  const fb = s.feedback === 'symmetric' ? `f32(wOut[k * ${n} + j])` : `f32(fb[j * ${nOut} + k])`;
  const ce = s.loss === 'cross_entropy';
  const key = programKey('eprop-readout', B, T, n, nIn, nOut, s.nLw, s.kappa, s.loss, s.feedback, s.cReg, s.f0, s.averageGradient, s.alpha, s.rho, s.zeta, s.backward);
  const program: WebGpuProgram = {
    outputShape: [L.size],
    shaderKey: key,
    dispatchLayout: { x: [0] },
    dispatch: [B, 1, 1],
    variableNames: ['scan', 'wOut', 'fb', 'tgt', 'beta', 'x'],
    workgroupSize: [WORKGROUP, 1, 1],
    getUserCode: () => `
      var<workgroup> nonSpike: atomic<u32>;
      fn main(index: i32) {
        // Keeps every binding in the pipeline layout tfjs binds (some are unused in some variants).
        _ = uniforms.outShape;
        _ = fb[0];
        _ = tgt[0];
        _ = beta[0];
        let b = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
        let inBatch = b < ${B}; // no early return: the barriers need uniform control flow
        let lid = i32(localId.x);
        // 1. u_t[k] = Σ_{j: z=1} W_out[k, j] into the Ê region.
        if (inBatch) {
          for (var e = lid; e < ${T * nOut}; e += ${WORKGROUP}) {
            let t = e / ${nOut};
            let k = e % ${nOut};
            let zo = (b * ${T} + t) * ${n};
            var u = 0.0;
            for (var j = 0; j < ${n}; j++) {
              if (scan[(zo + j) * 2 + 1] != 0.0) { u = u + f32(wOut[k * ${n} + j]); }
            }
            result[${L.eHat} + (b * ${T} + t) * ${nOut} + k] = u;
          }
          // inputs that are not spikes (read as float32 bits: a NaN compares unreliably in WGSL)
          var bad = 0u;
          for (var e = lid; e < ${T * nIn}; e += ${WORKGROUP}) {
            let xb = bitcast<u32>(f32(x[b * ${T * nIn} + e]));
            if (xb != 0u && xb != 0x80000000u && xb != 0x3f800000u) { bad = bad + 1u; }
          }
          atomicAdd(&nonSpike, bad);
        }
        storageBarrier();
        workgroupBarrier();
        // 2. and 3. readout, loss and errors forward in t, then Ê and eOut backward in t.
        if (inBatch && lid == 0) {
          var y: array<f32, ${nOut}>;
          var pi: array<f32, ${nOut}>;
          var mean: array<f32, ${nOut}>;
          var lossSum = 0.0;
          ${ce ? `let label = i32(tgt[b]);` : ''}
          for (var t = 0; t < ${T}; t++) {
            let eo = ${L.eHat} + (b * ${T} + t) * ${nOut};
            for (var k = 0; k < ${nOut}; k++) { y[k] = ${kappa} * y[k] + ${lit(g)} * result[eo + k]; }
            if (t < ${w0}) {
              for (var k = 0; k < ${nOut}; k++) { result[eo + k] = 0.0; }
              continue;
            }
            ${ce ? `
            var m = y[0];
            for (var k = 1; k < ${nOut}; k++) { m = max(m, y[k]); }
            var sum = 0.0;
            for (var k = 0; k < ${nOut}; k++) { pi[k] = exp(y[k] - m); sum = sum + pi[k]; }
            for (var k = 0; k < ${nOut}; k++) {
              let p = pi[k] / sum;
              mean[k] = mean[k] + p;
              result[eo + k] = select(p, p - 1.0, k == label);
            }
            lossSum = lossSum - (y[label] - m - log(sum));` : `
            let to = (b * ${s.nLw} + t - ${w0}) * ${nOut};
            for (var k = 0; k < ${nOut}; k++) {
              let e = y[k] - f32(tgt[to + k]);
              result[eo + k] = e;
              lossSum = lossSum + 0.5 * e * e;
            }`}
          }
          let so = ${L.stats} + b * ${L.statsStride};
          result[so] = lossSum;
          result[so + 3] = f32(atomicLoad(&nonSpike));
          ${ce ? `
          var best = 0;
          for (var k = 1; k < ${nOut}; k++) { if (mean[k] > mean[best]) { best = k; } }
          result[so + 1] = f32(best);
          result[so + 2] = select(0.0, 1.0, best != label);` : `
          result[so + 1] = -1.0;
          result[so + 2] = 0.0;`}
          ${s.backward ? `
          var eh: array<f32, ${nOut}>;
          for (var t = ${T - 1}; t >= 0; t--) {
            let q = (b * ${T} + t) * ${nOut};
            for (var k = 0; k < ${nOut}; k++) {
              eh[k] = ${kappa} * eh[k] + result[${L.eHat} + q + k];
              result[${L.eHat} + q + k] = eh[k];
              result[${L.eOut} + q + k] = ${lit(g * scale)} * eh[k];
            }
          }` : ''}
        }
        storageBarrier();
        // 4. spike counts, then the per-neuron backward recursions.
        if (inBatch) {
          for (var j = lid; j < ${n}; j += ${WORKGROUP}) {
            var count = 0.0;
            for (var t = 0; t < ${T}; t++) {
              if (scan[((b * ${T} + t) * ${n} + j) * 2 + 1] != 0.0) { count = count + 1.0; }
            }
            result[${L.stats} + b * ${L.statsStride} + 4 + j] = count;
            ${s.backward ? `
            let reg = ${lit(s.cReg)} * (count / ${lit(T)} - ${lit(s.f0)}) / ${lit(T)};
            let bj = f32(beta[j]);
            var h = 0.0;
            var acc = 0.0;
            for (var t = ${T - 1}; t >= 0; t--) {
              let o = (b * ${T} + t) * ${n} + j;
              let p = scan[o * 2];
              let q = (b * ${T} + t) * ${nOut};
              var lb = 0.0;
              for (var k = 0; k < ${nOut}; k++) { lb = lb + ${fb} * result[${L.eHat} + q + k]; }
              let qq = p * (${lit(g)} * lb + reg) * ${lit(scale)};
              let delta = qq - bj * p * h;
              h = qq + (${lit(s.rho)} - bj * p) * h;
              acc = delta + ${lit(s.alpha)} * acc;
              result[o] = ${lit(s.zeta)} * acc;
            }` : ''}
          }
        }
      }`,
  };
  return runProgram(program, [scan, wOut, feedback, target, beta, inputs]);
}

const GRAD_WORKGROUP = 64;
/** About this many invocations per partial-gradient dispatch (enough to fill a large GPU). */
const GRAD_INVOCATIONS = 1 << 20;

/** Weights the summary checks for non-finite entries. */
export interface EPropWeightTensors {
  /** Input weights [n, nIn]. */
  wIn: tf.Tensor;
  /** Recurrent weights [n, n]. */
  wRec: tf.Tensor;
  /** Readout weights [nOut, n]. */
  wOut: tf.Tensor;
}

/** Offsets of the summary vector of {@link epropGradientsWebgpu} ([3 + 7n + B] float32). */
export function summaryLayout(n: number, B: number) {
  return { loss: 0, wrong: 1, nonSpike: 2, counts: 3, nonFinite: 3 + n, gradNonFinite: 3 + 4 * n, prediction: 3 + 7 * n, size: 3 + 7 * n + B };
}

/** Outputs of {@link epropGradientsWebgpu} (caller owns the tensors). */
export interface EPropGradientsWebgpuResult {
  /** Gradients input [n, nIn], recurrent [n, n], readout [nOut, n] (only when requested). */
  gradients?: { input: tf.Tensor2D; recurrent: tf.Tensor2D; readout: tf.Tensor2D };
  /** The batch summary, laid out as {@link summaryLayout}. */
  summary: tf.Tensor1D;
}

/**
 * The three e-prop gradients and the batch summary (see the module text), from the fused scan and
 * the readout dispatch's output (`src/kernels/webgpu/eprop-readout.ts`), all on the device.
 *
 * @param inputs input spikes [B, T, nIn]
 * @param scan the output of {@link epropScanWebgpu} [B, T, n, 2]
 * @param backward the output of `epropReadoutWebgpu` (D, eOut, per-sequence statistics)
 * @param weights the weights, checked for non-finite entries
 * @param withGradients false: the summary only (one dispatch)
 */
export function epropGradientsWebgpu(inputs: tf.Tensor, scan: tf.Tensor, backward: tf.Tensor, weights: EPropWeightTensors, withGradients: boolean): EPropGradientsWebgpuResult {
  const [B, T, nIn] = inputs.shape as [number, number, number];
  const n = scan.shape[2]!;
  const nOut = weights.wOut.shape[0]!;
  const L = readoutLayout(B, T, n, nOut);
  if (backward.size !== L.size) throw new CinderArgumentError('backward', backward.shape, `[${L.size}] (the readout dispatch's output)`);
  const sIn = n * nIn;
  const sRec = n * n;
  const G = withGradients ? sIn + sRec + nOut * n : 0;
  const rows = B * T;
  const S = summaryLayout(n, B);
  let part: tf.Tensor | undefined;
  let C = 0;
  if (withGradients) {
    C = Math.max(1, Math.min(Math.ceil(GRAD_INVOCATIONS / G), Math.ceil(rows / 256)));
    const R = Math.ceil(rows / C);
    C = Math.ceil(rows / R);
    part = runProgram(
      {
        outputShape: [C * G],
        shaderKey: ['eprop-grad-part', B, T, n, nIn, nOut, C].join(':'),
        dispatchLayout: { x: [0] },
        dispatch: [Math.ceil((C * G) / GRAD_WORKGROUP), 1, 1],
        variableNames: ['x', 'scan', 'bwd'],
        workgroupSize: [GRAD_WORKGROUP, 1, 1],
        size: true,
        getUserCode: () => `
          fn main(index: i32) {
            if (index >= uniforms.size) { return; }
            let c = index / ${G};
            let e = index % ${G};
            let q0 = c * ${R};
            let q1 = min(q0 + ${R}, ${rows});
            var s = 0.0;
            if (e < ${sIn}) {
              let j = e / ${nIn};
              let i = e % ${nIn};
              for (var q = q0; q < q1; q++) {
                let xv = f32(x[q * ${nIn} + i]);
                if (xv != 0.0) { s = s + bwd[q * ${n} + j] * xv; }
              }
            } else if (e < ${sIn + sRec}) {
              let j = (e - ${sIn}) / ${n};
              let i = (e - ${sIn}) % ${n};
              if (i != j) {
                var u = q0 % ${T}; // step of row q, counted along (no modulo in the loop)
                for (var q = q0; q < q1; q++) {
                  if (u != ${T - 1} && scan[(q * ${n} + i) * 2 + 1] != 0.0) { s = s + bwd[(q + 1) * ${n} + j]; }
                  u = u + 1;
                  if (u == ${T}) { u = 0; }
                }
              }
            } else {
              let k = (e - ${sIn + sRec}) / ${n};
              let i = (e - ${sIn + sRec}) % ${n};
              for (var q = q0; q < q1; q++) {
                if (scan[(q * ${n} + i) * 2 + 1] != 0.0) { s = s + bwd[${L.eOut} + q * ${nOut} + k]; }
              }
            }
            result[index] = s;
          }`,
      },
      [inputs, scan, backward],
    );
  }
  const bad = (w: string) => `(bitcast<u32>(f32(${w})) & 0x7f800000u) == 0x7f800000u`;
  const size = G + S.size;
  let flat: tf.Tensor;
  try {
    flat = runProgram(
      {
        outputShape: [size],
        shaderKey: ['eprop-grad-sum', B, T, n, nIn, nOut, C].join(':'),
        dispatchLayout: { x: [0] },
        dispatch: [Math.ceil(size / GRAD_WORKGROUP), 1, 1],
        variableNames: [...(part ? ['part'] : []), 'bwd', 'wIn', 'wRec', 'wOut'],
        workgroupSize: [GRAD_WORKGROUP, 1, 1],
        size: true,
        getUserCode: () => `
          ${part ? `
          fn gradient(g: i32) -> f32 {
            var s = 0.0;
            for (var c = 0; c < ${C}; c++) { s = s + part[c * ${G} + g]; }
            return s * ${lit(1 / B)};
          }` : ''}
          fn main(index: i32) {
            if (index >= uniforms.size) { return; }
            ${part ? `
            if (index < ${G}) {
              result[index] = gradient(index);
              return;
            }` : ''}
            let e = index - ${G};
            var v = 0.0;
            if (e < ${S.nonFinite}) {
              let f = select(2 * e, e + 1, e >= ${S.nonSpike}); // loss at 0, wrong at 2, non-spike inputs at 3, count j at 4 + j
              for (var b = 0; b < ${B}; b++) { v = v + bwd[${L.stats} + b * ${L.statsStride} + f]; }
            } else if (e < ${S.gradNonFinite}) {
              let m = e - ${S.nonFinite};
              let j = m % ${n};
              if (m < ${n}) {
                for (var i = 0; i < ${nIn}; i++) { if (${bad(`wIn[j * ${nIn} + i]`)}) { v = v + 1.0; } }
              } else if (m < ${2 * n}) {
                for (var i = 0; i < ${n}; i++) { if (${bad(`wRec[j * ${n} + i]`)}) { v = v + 1.0; } }
              } else {
                for (var k = 0; k < ${nOut}; k++) { if (${bad(`wOut[k * ${n} + j]`)}) { v = v + 1.0; } }
              }
            } else if (e < ${S.prediction}) {${part ? `
              let m = e - ${S.gradNonFinite};
              let j = m % ${n};
              if (m < ${n}) {
                for (var i = 0; i < ${nIn}; i++) { if (${bad(`gradient(j * ${nIn} + i)`)}) { v = v + 1.0; } }
              } else if (m < ${2 * n}) {
                for (var i = 0; i < ${n}; i++) { if (${bad(`gradient(${sIn} + j * ${n} + i)`)}) { v = v + 1.0; } }
              } else {
                for (var k = 0; k < ${nOut}; k++) { if (${bad(`gradient(${sIn + sRec} + k * ${n} + j)`)}) { v = v + 1.0; } }
              }` : ''}
            } else {
              v = bwd[${L.stats} + (e - ${S.prediction}) * ${L.statsStride} + 1];
            }
            result[index] = v;
          }`,
      },
      [...(part ? [part] : []), backward, weights.wIn, weights.wRec, weights.wOut],
    );
  } finally {
    part?.dispose();
  }
  const out = tf.tidy(() => ({
    summary: tf.slice(flat, [G], [S.size]) as tf.Tensor1D,
    gradients: withGradients
      ? {
          input: tf.reshape(tf.slice(flat, [0], [sIn]), [n, nIn]) as tf.Tensor2D,
          recurrent: tf.reshape(tf.slice(flat, [sIn], [sRec]), [n, n]) as tf.Tensor2D,
          readout: tf.reshape(tf.slice(flat, [sIn + sRec], [nOut * n]), [nOut, n]) as tf.Tensor2D,
        }
      : undefined,
  }));
  flat.dispose();
  return out;
}
